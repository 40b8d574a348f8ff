#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The host CPU channel of `scripts/vm --hostcpu`, which make check's guests
# have (the benchmark reads it around its windows): an answer per request,
# one figure per vCPU and one for all of QEMU's threads, each a run time
# that never goes back, and a busy loop on CPU 0 shows on vCPU 0's thread.
. "$(dirname "$0")/lib.sh"
need_vm
[ -n "${PSPAT_HOSTCPU_TTY:-}" ] || skip_all "no host CPU channel (run the guest with scripts/vm --hostcpu)"
ktap_plan 5
host_cpu_open || ktap_bail "cannot open $PSPAT_HOSTCPU_TTY"

host_cpu_read
a=("${HOST_CPU[@]}")
check_eq "an answer with one figure per vCPU and one for QEMU" "${#a[@]}" $(($(nproc) + 1))
# About 0.3 s of work on CPU 0 (a loop of shell builtins).
taskset -c 0 bash -c 'end=$((${EPOCHREALTIME/./} + 300000));
	while [ ${EPOCHREALTIME/./} -lt $end ]; do :; done'
host_cpu_read
b=("${HOST_CPU[@]}")
ktap_info "before: ${a[*]}; after: ${b[*]}"
back=0
for i in "${!a[@]}"; do [ "${b[i]:-0}" -ge "${a[i]}" ] || back=1; done
check_eq "no figure went back" "$back" 0
# The vCPU's thread ran for the loop: at least a tenth of it (the host may
# deschedule the thread, and the guest's clock runs on meanwhile).
check_range "vCPU 0's thread ran the loop (ms)" $(((b[0] - a[0]) / 1000000)) 30 1000000
sum=0
for ((i = 0; i < ${#b[@]} - 1; i++)); do sum=$((sum + b[i])); done
check_range "QEMU's threads together ran at least its vCPUs" $((b[-1] - sum)) 0 $((1 << 62))
check_range "QEMU's threads ran at least vCPU 0's delta (ms)" \
	$(((b[-1] - a[-1] - (b[0] - a[0])) / 1000000)) 0 1000000
ktap_finish
