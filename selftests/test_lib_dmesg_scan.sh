#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel-log scanner of lib.sh: it reports every recorded splat, passes a
# real clean boot log, and reports a real WARN and a real page allocation
# failure printed by a planted module. The recordings in data/ come from
# the guest kernels; the later ones (segfault ... unregister-netdevice) from
# 6.12: a NULL read in python3, a python3 over memory.max of a cgroup,
# pspat_splat_test kind=allocfail, pspat_stopdev watchdog_ms=500 with a
# held queue, and a module planted to leak a device reference;
# tx-unit-hang is written from the e1000e and igb format strings (6.1), as
# the emulated NICs do not hang on demand.
. "$(dirname "$0")/lib.sh"

data=$SELFTESTS_DIR/data
splats=(warn refcount refcount-only sched-atomic lockdep kasan oops rcu
	segfault oom-kill page-alloc-failure netdev-watchdog unregister-netdevice tx-unit-hang)
ktap_plan $((${#splats[@]} + 7))

for s in "${splats[@]}"; do
	check_fails "scanner reports recorded splat '$s'" dmesg_scan "$data/$s.log"
done
check "scanner passes a clean boot log" dmesg_scan "$data/clean-boot.log"
check_fails "scanner fails a log it cannot read" dmesg_scan "$data/no-such.log"
check_eq "scanner prints the offending line" \
	"$(dmesg_scan "$data/sched-atomic.log")" \
	"[  101.552120] BUG: scheduling while atomic: pspat-arb/388/0x00000002"

# A real WARN from the running kernel.
need_vm
splat_ko=$(dirname "$PSPAT_KO")/kmod/splat_test/pspat_splat_test.ko
dmesg -C
check "planted WARN module loads" insmod "$splat_ko"
rmmod pspat_splat_test 2>/dev/null
check_fails "scanner reports the planted WARN from dmesg" dmesg_scan <(dmesg)
dmesg -C
check "planted allocation failure module loads" insmod "$splat_ko" kind=allocfail
rmmod pspat_splat_test 2>/dev/null
check_fails "scanner reports the planted page allocation failure" dmesg_scan <(dmesg)
# This test's own planted warning was verified above: clear it so that the
# runner's per-test scan judges only unplanned messages.
dmesg -C
ktap_finish
