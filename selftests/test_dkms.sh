#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The DKMS cycle, as a user runs it: `make dkms-install` adds, builds (in
# the guest, for the booted kernel) and installs sch_pspat; a plain
# `tc qdisc add ... pspat` loads it (no insmod); traffic passes; and
# `make dkms-remove` leaves no file behind. /usr/src and /var/lib/dkms are
# tmpfs here (the guest's root is the host's, read-only).
# timeout: 2400 (kbuild and depmod run in the emulated guest: minutes each)
. "$(dirname "$0")/lib.sh"
need_vm
command -v dkms >/dev/null || skip_all "no dkms (make deps installs it)"
need_unloaded
krel=$(uname -r)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$PSPAT_TOP/dkms.conf")
for d in /usr/src /var/lib/dkms; do
	mkdir -p "$d" && mount -t tmpfs tmpfs "$d" && defer umount "$d" ||
		skip_all "cannot mount a tmpfs on $d"
done
make_tmp
ktap_plan 12

mk() { make -C "$PSPAT_TOP" --no-print-directory "$@" >"$tmp/make.log" 2>&1 ||
	{ tail -n 30 "$tmp/make.log"; return 1; }; }
defer mk dkms-remove
check "make dkms-install (add, build in the guest, install)" mk dkms-install
check_eq "dkms status: installed for $krel" \
	"$(dkms status -m sch_pspat -v "$ver" -k "$krel" | grep -c ': installed')" 1
path=$(modinfo -n sch_pspat 2>/dev/null)
ktap_info "modprobe finds $path"
check "modprobe finds DKMS's module (updates/dkms)" \
	grep -q "/lib/modules/$krel/updates/dkms/sch_pspat.ko" <<<"$path"
check_eq "its version is dkms.conf's" "$(modinfo -F version sch_pspat)" "$ver"

ns_create a
ns_create b
veth_pair "$a" "$b"
check "tc qdisc add ... pspat with the module not loaded" \
	tc -n "$a" qdisc add dev va root handle 1: pspat
check "tc loaded the module (auto-load by alias)" pspat_loaded
out=$(ip netns exec "$a" ping -n -q -c 10 -i 0.05 -W 2 198.18.0.2)
check_eq "10 pings answered through pspat" \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")" 10
check_eq "pspat sent them" "$(qstat "$a" va 1: packets)" 10
tc -n "$a" qdisc del dev va root
check "module unloads" wait_for 30 rmmod sch_pspat

check "make dkms-remove" mk dkms-remove
check_eq "nothing left: dkms status, /usr/src, /var/lib/dkms, module files" \
	"$(dkms status -m sch_pspat; ls /usr/src /var/lib/dkms | grep -i pspat;
	   find "/lib/modules/$krel" -name 'sch_pspat.ko*')" ""
check_fails "modprobe no longer finds sch_pspat" modprobe -n sch_pspat
ktap_finish
