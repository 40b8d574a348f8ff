#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A task that hangs on its way out (past the exit probe, not yet dead: its
# last close sleeps 5 s in do_exit(), as an NFS close can) keeps its
# mailbox waiting for the garbage collector. The idle arbiter backs off
# while it waits (10 ms, doubling up to 1 s) instead of waking every
# 10 ms, and reclaims the mailbox soon after the task is dead.
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load
insmod "$(test_ko slowclose)" close_ms=5000 || skip_all "no slowclose module"
defer rmmod pspat_slowclose
pspat_veth
ktap_plan 4

s0=$(pspat_stat arbiter sleeps)
w0=$(pspat_stat arbiter wakeups)
c0=$(pspat_stat mailboxes created)
r0=$(pspat_stat mailboxes reclaimed)
start=$SECONDS
# One datagram from a new bash (its own mailbox), which then exits holding
# the file (opened here: ip netns exec mounts a /sys without debugfs).
ip netns exec "$a" bash -c 'echo x >/dev/udp/198.18.0.2/9000' \
	3</sys/kernel/debug/pspat_slowclose
took=$((SECONDS - start))
timed=$((($(pspat_stat arbiter sleeps) - s0) - ($(pspat_stat arbiter wakeups) - w0)))
ktap_info "exit took $took s; the arbiter woke by timeout $timed times meanwhile"
check "the sender got a mailbox of its own" \
	test "$(pspat_stat mailboxes created)" -gt "$c0"
check "its exit hung for the close (the scenario happened)" test $took -ge 4
# 10 + 20 + 40 ... ms: 10 timeouts cover 5 s; every 10 ms would be ~400.
check "the arbiter backed off: at most 20 timed wake-ups" test $timed -le 20
reclaimed() { [ "$(pspat_stat mailboxes reclaimed)" -gt "$r0" ]; }
check "its mailbox reclaimed within 3 s of its death" wait_for 3 reclaimed
ktap_finish
