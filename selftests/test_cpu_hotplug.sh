#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# CPU hotplug under traffic: the arbiter and the dispatcher pinned to CPU
# 1, CPU 1 taken offline and brought back. Traffic goes on while it is
# away (the scheduler moves both kthreads), both are pinned to it again
# once it is back, unpinned means the housekeeping CPUs, and the counts
# are exact.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
online=/sys/devices/system/cpu/cpu1/online
[ -w $online ] || skip_all "CPU 1 cannot be taken offline"
pspat_load xmit_mode=dispatcher arbiter_cpu=1 dispatcher_cpu=1
defer sh -c "echo 1 >$online"
pspat_veth
make_tmp
ktap_plan 8

# pinned: the Cpus_allowed_list of pspat-arb and of pspat-snd.
pinned() {
	local t
	for t in pspat-arb pspat-snd; do
		awk '/^Cpus_allowed_list/ { printf "%s ", $2 }' \
			"/proc/$(pgrep -x $t)/status"
	done
}
# pinned_to LIST: both kthreads allow LIST, within 10 s.
pinned_is() { [ "$(pinned)" = "$1 $1 " ]; }
pinned_to() { wait_for 10 pinned_is "$1" || { pinned; return 1; }; }

sink_and_blast 2 2000
check "both pinned to CPU 1 at first" pinned_to 1
echo 0 >$online
p0=$(qstat "$a" va 1: packets)
sleep 1
check "traffic went on while CPU 1 was offline" \
	test $(($(qstat "$a" va 1: packets) - p0)) -gt 100
echo 1 >$online
check "both pinned to CPU 1 again once it is back" pinned_to 1
pspat_param arbiter_cpu -1
pspat_param dispatcher_cpu -1
check "unpinned: the housekeeping CPUs" pinned_to "$(cat /sys/devices/system/cpu/online)"
kill -INT $blast
wait $blast
wait "$sink"
sent=$(jq .total.sent "$tmp/blast.json")
ktap_info "sent $sent"
check_eq "sent == received + socket drops" \
	"$(jq '.unique + .socket_drops' "$tmp/sink.json")" "$sent"
check_eq "pspat dropped nothing" "$(qstat "$a" va 1: drops)" 0
check_eq "pspat sent every packet" "$(qstat "$a" va 1: packets)" "$sent"
check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
ktap_finish
