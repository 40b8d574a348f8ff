#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A sending thread keeps its own mailbox when it migrates between CPUs, so
# each flow stays in order while its thread is moved every 50 ms.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
# One transmitting CPU: see test_xmit_modes.sh.
pspat_load arbiter_cpu=1 dispatcher_cpu=1
pspat_veth
make_tmp
ktap_plan 4

backlogs() {	# packets each CPU's backlog took (veth receives there)
	local p rest
	while read -r p rest; do printf '%d ' $((16#$p)); done </proc/net/softnet_stat
}
ktap_info "softnet processed per CPU before: $(backlogs)"
sink_and_blast 3 2000
for ((moves = 0; moves < 6; moves++)); do
	for t in /proc/$blast/task/*; do
		taskset -p -c $((moves % 2)) "${t##*/}" >/dev/null 2>&1
	done
	sleep 0.1
done
kill -INT $blast
wait $blast
wait "$sink"
sent=$(jq .total.sent "$tmp/blast.json")
ktap_info "$moves migrations, $sent packets; softnet after: $(backlogs)"
check "blast kept sending through the moves" test "$sent" -gt 1000
check_eq "received + socket drops == sent" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" "$sent"
check_eq "no flow reordered or duplicated" \
	"$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
check_eq "3 flows" "$(jq '.flows | length' "$tmp/sink.json")" 3
ktap_finish
