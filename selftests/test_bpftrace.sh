#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bpftrace scripts of scripts/bpftrace/ against the module's tracepoints:
# with UDP traffic through pspat on a veth pair (dispatcher mode, so that
# every tracepoint fires), each script runs for a few seconds (its DURATION
# argument) and must exit cleanly and print non-empty histograms (a bucket
# line "[a, b)  N |@@@" with N > 0) or a non-zero CPU share.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
command -v bpftrace >/dev/null || skip_all "bpftrace is not installed (make deps)"
pspat_load xmit_mode=dispatcher
bpftrace -l 'tracepoint:sch_pspat:*' 2>/dev/null | grep -q 'sch_pspat:pspat_enqueue$' ||
	skip_all "bpftrace does not see the sch_pspat tracepoints (tracefs?)"
# bpftrace parses the tracepoints' formats with the kernel headers it finds
# through /lib/modules/REL/{build,source}. Debian splits them into -amd64
# and -common; in the guest, "source" can point to the host's /usr/src,
# which may lack this kernel's -common part: use the copy next to "build".
rel=$(uname -r)
if [ ! -e "/lib/modules/$rel/source/include/linux/kconfig.h" ]; then
	common=$(readlink -f "/lib/modules/$rel/build")
	common=${common%-*}-common
	if [ -e "$common/include/linux/kconfig.h" ]; then
		export BPFTRACE_KERNEL_SOURCE=$common
		export BPFTRACE_KERNEL_BUILD=/lib/modules/$rel/build
	fi
fi
make_tmp
tools_to_tmp
pspat_veth
silent_dst
bt=$PSPAT_TOP/scripts/bpftrace
secs=${PSPAT_BT_SECONDS:-4}
ktap_plan 15
[ -n "${BPFTRACE_KERNEL_SOURCE:-}" ] && ktap_info "BPFTRACE_KERNEL_SOURCE=$BPFTRACE_KERNEL_SOURCE"

# Two paced flows to an address that b drops silently, until the end.
bg blast ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9000 \
	-t 2 -r 1000 -d 0 >"$tmp/blast.json"

# run SCRIPT: run it for $secs seconds, output in $tmp/SCRIPT.out; one
# check line for its exit status.
run() {
	local rc=0
	timeout -s INT -k 10 300 bpftrace "$bt/$1.bt" "$secs" >"$tmp/$1.out" 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		ktap_pass "$1.bt ran for $secs s and exited cleanly"
	else
		ktap_fail "$1.bt ran for $secs s and exited cleanly"
		echo "# bpftrace exit $rc"
	fi
	if [ $rc != 0 ] || [ -n "${PSPAT_BT_SHOW:-}" ]; then
		sed 's/^/# /' "$tmp/$1.out" | head -n 80
	fi
}

# buckets FILE MAP: how many histogram buckets of @MAP hold a count > 0.
buckets() {
	awk -v m="@$2:" '
		$1 == m { on = 1; next }
		on && /^\[/ {
			for (i = 2; i <= NF; i++)
				if ($i ~ /^\|/) { if ($(i - 1) + 0 > 0) n++; break }
			next
		}
		on { on = 0 }
		END { print n + 0 }' "$1"
}

# value FILE MAP: the number after "@MAP: " (count() maps), 0 if absent.
value() {
	awk -v m="@$2:" '$1 == m { v = $2 } END { print v + 0 }' "$1"
}

run mailbox-occupancy
o=$tmp/mailbox-occupancy.out
check_range "@occupancy histogram is not empty" "$(buckets "$o" occupancy)" 1 64
check_range "@drain_n histogram is not empty" "$(buckets "$o" drain_n)" 1 64
check_range "@enqueued counted packets" "$(value "$o" enqueued)" 1 1e18

run arbiter-batch
o=$tmp/arbiter-batch.out
check_range "@taken histogram is not empty" "$(buckets "$o" taken)" 1 64
check_range "@moved histogram is not empty" "$(buckets "$o" moved)" 1 64
check_range "a per-second line with rounds/s > 0" \
	"$(awk '/^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] / && $2 > 0 { n++ } END { print n + 0 }' "$o")" 1 1000

run latency
o=$tmp/latency.out
check_range "@latency_us histogram is not empty" "$(buckets "$o" latency_us)" 1 64
check_range "@transmitted matched packets" "$(value "$o" transmitted)" 1 1e18

run arbiter-cpu
o=$tmp/arbiter-cpu.out
share() { sed -n "s/^$1 ([a-z-]*): *\([0-9.]*\)%.*/\1/p" "$o"; }
check_range "arbiter CPU share > 0%" "$(share arbiter)" 0.1 1000
check_range "dispatcher CPU share > 0%" "$(share dispatcher)" 0.1 1000

check_range "pspat passed the traffic" "$(qstat "$a" va 1: packets)" 1 1e18
ktap_finish
