#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pspat on e1000e (BQL, TSO and checksum offload), sending to igb over a
# QEMU hub (scripts/vm --nic e1000e,igb): UDP and TCP in both xmit modes,
# TSO on and off; exact counts against both drivers' counters
# (lib_nic.sh nic_accounting).
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$SELFTESTS_DIR/lib_nic.sh"
need_vm
need_tools
pspat_load
make_tmp
tools_to_tmp
nic_ns e1000e igb
nic_bql=1
nic_tso_once=1
ktap_plan 24
for mode in arbiter dispatcher; do
	for tso in on off; do
		nic_accounting $mode $tso
	done
done
ktap_finish
