#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Switching xmit_mode, arb_batch and dispatch_batch under traffic, several
# times a second, loses, reorders, duplicates and leaks nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_switch_load.sh"
need_vm
need_tools
# One transmitting CPU, see test_xmit_modes.sh (CPU changes: test_cpu_switch_load).
pspat_load arbiter_cpu=1 dispatcher_cpu=1

modes=(arbiter dispatcher)
batches=(1 7 64 512)
change() {
	pspat_param xmit_mode ${modes[$1 % 2]}
	pspat_param arb_batch ${batches[$1 % 4]}
	pspat_param dispatch_batch ${batches[($1 + 1) % 4]}
}
switch_load change strict
