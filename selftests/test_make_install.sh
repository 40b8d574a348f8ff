#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make install` for the booted kernel: the module lands in extra/ and
# modprobe loads it, tc finds the plugin in its own directory (no
# TC_LIB_DIR) and prints pspat's options, the bpftrace scripts and the man
# page tc-pspat(8) are under PREFIX (`man -w` finds the page); `make
# uninstall` removes all of it. The directories written are tmpfs here (the
# guest's root is the host's, read-only). The build half of
# `make install` runs on the host (scripts/check.sh): kbuild alone takes
# minutes in the emulated guest; here runs its install half,
# scripts/install.sh, as `make install` calls it.
# timeout: 1200 (depmod runs twice in the emulated guest: minutes each)
. "$(dirname "$0")/lib.sh"
need_vm
need_unloaded
krel=$(uname -r)
unset TC_LIB_DIR
tcdir=$(grep -aoE '/usr/lib[[:alnum:]_/.-]*/tc/' "$(command -v tc)" | head -n1)
tcdir=${tcdir%/}
[ -n "$tcdir" ] || skip_all "cannot tell where tc looks for plugins"
for d in "$tcdir" /usr/local; do
	mkdir -p "$d" 2>/dev/null
	mount -t tmpfs tmpfs "$d" && defer umount "$d" ||
		skip_all "cannot mount a tmpfs on $d"
done
make_tmp
ktap_plan 12

# KVER: the series of the booted kernel (6.1, 6.12 or 7.3), as PSPAT_KO's path
# says: install.sh takes build/kmod-install/$series/sch_pspat.ko.
series=$(basename "$(dirname "$PSPAT_KO")")
mk() { KVER=$series "$PSPAT_TOP/scripts/install.sh" "$@" \
	>"$tmp/make.log" 2>&1 || { tail -n 30 "$tmp/make.log"; return 1; }; }
defer mk uninstall
check "install (scripts/install.sh, after the host built it)" mk install
check "the module is in extra/" test -f "/lib/modules/$krel/extra/sch_pspat.ko"
check "modprobe sch_pspat loads it" modprobe sch_pspat
ns_create d
dummy_dev "$d" pspat0
check_eq "tc finds the plugin in $tcdir: options printed" \
	"$(tc -n "$d" qdisc add dev pspat0 root handle 1: pspat batch 16 &&
	   tc -n "$d" -j qdisc show dev pspat0 root | jq -r '.[0].options.batch')" 16
tc -n "$d" qdisc del dev pspat0 root
check "module unloads" wait_for 30 rmmod sch_pspat
check_eq "bpftrace scripts installed" \
	"$(ls /usr/local/share/sch_pspat/bpftrace/*.bt | wc -l)" \
	"$(ls "$PSPAT_TOP"/scripts/bpftrace/*.bt | wc -l)"
# man-db searches /usr/local/share/man (MANDATORY_MANPATH on Debian); where
# man is missing, the file itself.
manpage=/usr/local/share/man/man8/tc-pspat.8
man_finds() {
	local found
	if command -v man >/dev/null; then
		found=$(man -w tc-pspat 2>&1)
		echo "man -w tc-pspat: $found"
		[ "$found" = "$manpage" ]
	else
		test -f "$manpage"
	fi
}
check "man page installed: man -w tc-pspat finds $manpage" man_finds
check "boot: pspat-tc-apply runs, the unit names it and passes systemd-analyze verify" \
	eval '/usr/local/sbin/pspat-tc-apply 2>/dev/null; [ $? = 2 ] &&
	grep -q "^ExecStart=/usr/local/sbin/pspat-tc-apply %I$" /usr/local/lib/systemd/system/pspat-tc@.service &&
	out=$(systemd-analyze verify --man=no /usr/local/lib/systemd/system/pspat-tc@.service 2>&1) && echo "$out" && [ -z "$out" ] &&
	test -x /usr/local/share/sch_pspat/boot/ifupdown-pspat'
check "uninstall" mk uninstall
check_fails "man page removed: man -w tc-pspat finds nothing" \
	eval 'test -e "$manpage" || man_finds'
check_eq "nothing left" "$(find "/lib/modules/$krel" -name 'sch_pspat.ko*';
	ls "$tcdir" /usr/local/share /usr/local/sbin /usr/local/lib/systemd/system 2>/dev/null | grep -i pspat)" ""
check_fails "modprobe no longer finds sch_pspat" modprobe -n sch_pspat
ktap_finish
