#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module parameters: every out-of-range or malformed value is refused
# (-EINVAL, a reason in the kernel log, old value kept); valid values are
# taken, at load time and at run time.
. "$(dirname "$0")/lib.sh"
need_vm
need_unloaded
ktap_plan 20
check_fails "insmod with arb_batch=0 fails" insmod "$PSPAT_KO" arb_batch=0
check_fails "insmod with xmit_mode=bogus fails" insmod "$PSPAT_KO" xmit_mode=bogus
# The mailbox geometry is a pair: any order on the command line works.
check "insmod mailbox_line_size=4096 mailbox_entries=1024 (line first)" \
	eval 'insmod "$PSPAT_KO" mailbox_line_size=4096 mailbox_entries=1024 &&
	[ "$(pspat_param mailbox_line_size) $(pspat_param mailbox_entries)" = "4096 1024" ] &&
	rmmod sch_pspat'
check "insmod mailbox_entries=1024 mailbox_line_size=4096 (entries first)" \
	eval 'insmod "$PSPAT_KO" mailbox_entries=1024 mailbox_line_size=4096 &&
	rmmod sch_pspat'
check_fails "insmod mailbox_line_size=4096 alone fails (512 x 8 B is one line)" \
	insmod "$PSPAT_KO" mailbox_line_size=4096
check "the log says why" \
	grep -q "mailbox_entries (512) x 8 bytes must span two mailbox_line_size (4096) lines" <(dmesg)
check "insmod with valid values" insmod "$PSPAT_KO" arb_batch=32 \
	xmit_mode=dispatcher mailbox_entries=256 idle_poll_us=10
defer rmmod sch_pspat
check_eq "load-time values taken" \
	"$(pspat_param arb_batch) $(pspat_param xmit_mode) $(pspat_param mailbox_entries)" \
	"32 dispatcher 256"

# refused NAME VALUE...: each write fails and leaves the value as it was.
refused() {
	local name=$1 v before
	shift
	before=$(pspat_param "$name")
	for v in "$@"; do
		if pspat_param "$name" "$v" 2>/dev/null; then
			echo "$name=$v was accepted"
			return 1
		fi
		[ "$(pspat_param "$name")" = "$before" ] || { echo "$name changed"; return 1; }
	done
}
check "xmit_mode: bogus, empty, 2" refused xmit_mode bogus "" 2
check "arb_batch: 0, 4097, -1, abc" refused arb_batch 0 4097 -1 abc
check "dispatch_batch: 0, 100000" refused dispatch_batch 0 100000
check "mailbox_entries: 100 (not 2^n), 4, 131072" refused mailbox_entries 100 4 131072
check "mailbox_line_size: 32, 100, 8192, 4096 (2 lines > 256 x 8 B)" \
	refused mailbox_line_size 32 100 8192 4096
check "arbiter_cpu: -2, 4096, x" refused arbiter_cpu -2 4096 x
check "dispatcher_cpu: -2, 4096" refused dispatcher_cpu -2 4096
check "idle_poll_us: 1000001, -5" refused idle_poll_us 1000001 -5
check "max_mailboxes: 1048577, -1, x" refused max_mailboxes 1048577 -1 x
check "mailbox_idle_ms: 3600001, -1, 1s" refused mailbox_idle_ms 3600001 -1 1s
check "mailbox_idle_ms: 0 and 3600000 taken" \
	eval 'pspat_param mailbox_idle_ms 0 && pspat_param mailbox_idle_ms 3600000 &&
	[ "$(pspat_param mailbox_idle_ms)" = 3600000 ]'
check "the log says why (e.g. arb_batch's range)" \
	grep -q "arb_batch must be an integer in \[1, 4096\]" <(dmesg)
ktap_finish
