#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The IFFQ header in the kernel: kmod/iffq_test runs edge, wrap-around,
# batch and model tests and a two-kthread stress with sequence numbers on
# load, and refuses to load if any fails.
. "$(dirname "$0")/lib.sh"
need_vm
ko=$(dirname "$PSPAT_KO")/kmod/iffq_test/pspat_iffq_test.ko
[ -f "$ko" ] || skip_all "pspat_iffq_test.ko not built"
ktap_plan 4

items=${PSPAT_IFFQ_KMOD_ITEMS:-1000000}
dmesg -C
check "test module loads (all in-kernel tests pass)" insmod "$ko" items="$items"
rmmod pspat_iffq_test 2>/dev/null
log=$(dmesg | sed -n 's/.*pspat_iffq_test: //p')
printf '%s\n' "$log" | sed 's/^/# kernel: /'
check_eq "no 'not ok' line" "$(grep -c '^not ok' <<<"$log")" 0
check_eq "7 'ok' lines" "$(grep -cE '^ok [0-9]+ - ' <<<"$log")" 7
check "stress moved all $items items" grep -qE "stress .*: $items of $items items" <<<"$log"
ktap_finish
