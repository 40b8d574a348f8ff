#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Moving the arbiter and the dispatcher between CPUs under traffic (and
# unpinning them) loses, duplicates and leaks nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_switch_load.sh"
need_vm
need_tools
pspat_load

modes=(arbiter dispatcher)
cpus=(0 1 -1)
change() {
	pspat_param xmit_mode ${modes[$1 / 3 % 2]}
	pspat_param arbiter_cpu ${cpus[$1 % 3]}
	pspat_param dispatcher_cpu ${cpus[($1 + 1) % 3]}
}
switch_load change count
