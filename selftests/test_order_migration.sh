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
ktap_plan 6

backlogs() {	# packets each CPU's backlog took (veth receives there)
	local p rest
	while read -r p rest; do printf '%d ' $((16#$p)); done </proc/net/softnet_stat
}
# cpu TID: the CPU the thread last ran on (field 39 of its stat).
cpu() { awk '{ sub(/.*\) /, ""); print $37 }' "/proc/$blast/task/$1/stat"; }
ktap_info "softnet processed per CPU before: $(backlogs)"
sink_and_blast 3 2000
p0=$(qstat "$a" va 1: packets)
failed=0
: >"$tmp/ran"
for ((moves = 0; moves < 6; moves++)); do
	for t in /proc/$blast/task/*; do
		taskset -p -c $((moves % 2)) "${t##*/}" >/dev/null || failed=$((failed + 1))
	done
	sleep 0.1
	for t in /proc/$blast/task/*; do echo "${t##*/} $(cpu "${t##*/}")"; done >>"$tmp/ran"
done
p1=$(qstat "$a" va 1: packets)
kill -INT $blast
wait $blast
wait "$sink"
sent=$(jq .total.sent "$tmp/blast.json")
ktap_info "$moves migrations, $sent packets, $((p1 - p0)) of them during the moves; softnet after: $(backlogs)"
check_eq "every taskset succeeded" "$failed" 0
# The three sender threads run often (2000 pps each), so each must have
# run on both CPUs; blast's main thread sleeps and may not.
check_range "sender threads seen on both CPUs" "$(sort -u "$tmp/ran" |
	awk '{ n[$1]++ } END { for (t in n) if (n[t] == 2) k++; print k + 0 }')" 3 99
check_range "pspat passed traffic during the moves" $((p1 - p0)) 100 1e18
check_eq "received + socket drops == sent" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" "$sent"
check_eq "no flow reordered or duplicated" \
	"$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
check_eq "3 flows" "$(jq '.flows | length' "$tmp/sink.json")" 3
ktap_finish
