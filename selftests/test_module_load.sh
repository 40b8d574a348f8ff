#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# insmod/rmmod: the module registers qdisc "pspat", unloads cleanly, and
# cannot be unloaded while a pspat qdisc exists. modinfo gives every
# parameter's default.
. "$(dirname "$0")/lib.sh"
need_vm
need_unloaded
ktap_plan 8

# every_param_has_default: `modinfo -p` lists parameters, each line names
# its default; prints the lines that do not.
every_param_has_default() {
	local out
	out=$(modinfo -p "$PSPAT_KO") || return 1
	[ -n "$out" ] || { echo "modinfo -p lists no parameters"; return 1; }
	! grep -v default <<<"$out"
}
check "modinfo -p: every parameter gives its default" every_param_has_default

check "insmod sch_pspat" insmod "$PSPAT_KO"
check "module is live" grep -qx live /sys/module/sch_pspat/initstate
ns_create ns
dummy_dev "$ns" d0
check "qdisc kind pspat is known" tc -n "$ns" qdisc add dev d0 root handle 1: pspat
check_fails "rmmod refused while a pspat qdisc exists" rmmod sch_pspat
tc -n "$ns" qdisc del dev d0 root
check "rmmod after the qdisc is deleted" rmmod sch_pspat
check_fails "kind pspat gone after rmmod" \
	tc -n "$ns" qdisc add dev d0 root handle 1: pspat
ok=0
for _ in 1 2 3; do
	insmod "$PSPAT_KO" && rmmod sch_pspat && ok=$((ok + 1))
done
check_eq "three more load/unload cycles" "$ok" 3
ktap_finish
