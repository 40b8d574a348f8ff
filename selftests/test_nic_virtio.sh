#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pspat on virtio-net (1 tx queue; no offloads through a QEMU hub), sending
# to igb (scripts/vm --nic virtio,igb): UDP and TCP in both xmit modes;
# exact counts against both drivers' counters (lib_nic.sh nic_accounting).
# virtio-net has BQL from Linux 6.9 on: 6.12 checks it, 6.1 cannot.
# skip-ok: driver without BQL
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$SELFTESTS_DIR/lib_nic.sh"
need_vm
need_tools
pspat_load
make_tmp
tools_to_tmp
nic_ns virtio igb
nic_bql=0
[ "$(printf '%s\n' 6.9 "$PSPAT_KREL" | sort -V | head -n1)" = 6.9 ] && nic_bql=1
ktap_plan 12
for mode in arbiter dispatcher; do
	nic_accounting $mode -
done
ktap_finish
