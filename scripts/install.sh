#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` / `make uninstall` (root): sch_pspat for one kernel, the tc
# plugin, the bpftrace scripts and the man page. `make install` builds first
# (the module without the test modules, in build/kmod-install/<KVER>, and the
# plugin); this script only installs what is built, so it can run where
# building is slow (the selftest runs it in the emulated guest).
#
#   module      /lib/modules/<release>/extra/sch_pspat.ko, then depmod: what
#               kbuild's modules_install (INSTALL_MOD_DIR=extra) does for an
#               unsigned module, without a kbuild run
#   tc plugin   $TC_LIB_DIR/q_pspat.so; default: the directory the installed
#               tc searches (read from the tc binary, e.g.
#               /usr/lib/x86_64-linux-gnu/tc on Debian 12)
#   bpftrace    $PREFIX/share/sch_pspat/bpftrace/*.bt (PREFIX=/usr/local)
#   man page    $PREFIX/share/man/man8/tc-pspat.8 (man/tc-pspat.8; man-db
#               searches /usr/local/share/man, so `man tc-pspat` finds it)
#   boot        $PREFIX/sbin/pspat-tc-apply; the systemd unit
#               $PREFIX/lib/systemd/system/pspat-tc@.service (not enabled);
#               the ifupdown hook, modprobe.d and tc batch examples in
#               $PREFIX/share/sch_pspat/boot/ (README: Boot-time configuration)
#
# KVER picks the kernel as for `make` (host: the running one, the default
# here; 6.1 / 6.12: the guest kernels of `make deps`). Uninstall removes
# exactly these files and runs depmod again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-install}
kver=${KVER:-host}
prefix=${PREFIX:-/usr/local}
share=$prefix/share/sch_pspat
man8=$prefix/share/man/man8
unitdir=$prefix/lib/systemd/system

die() { echo "install: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"

# The directory tc loads q_<kind>.so from, compiled into the tc binary.
tc_lib_dir() {
	local tc d
	tc=$(command -v tc) || die "no tc: install iproute2"
	d=$(grep -aoE '/usr/lib[[:alnum:]_/.-]*/tc/' "$tc" | head -n1)
	echo "${d%/}"
}
tcdir=${TC_LIB_DIR:-$(tc_lib_dir)}
[ -n "$tcdir" ] || die "cannot tell where tc looks for plugins: set TC_LIB_DIR"

# The kernel release KVER stands for.
if [ "$kver" = host ]; then
	krel=$(uname -r)
else
	krel=$(cat "$top/build/kernels/$kver/release" 2>/dev/null) ||
		die "no kernel $kver under build/kernels: make deps"
fi
out=$top/build/kmod-install/$kver

case "$action" in
install)
	ko=$out/sch_pspat.ko plugin=$top/build/tc-plugin/q_pspat.so
	[ -f "$ko" ] && [ -f "$plugin" ] || die "build first: make install does"
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$krel" ] ||
		die "$ko is not built for $krel"
	install -D -m 0644 "$ko" "/lib/modules/$krel/extra/sch_pspat.ko"
	depmod -a "$krel"
	echo "module: $(modinfo -k "$krel" -n sch_pspat)"
	install -D -m 0644 "$plugin" "$tcdir/q_pspat.so"
	echo "tc plugin: $tcdir/q_pspat.so"
	install -d "$share/bpftrace"
	install -m 0644 "$top"/scripts/bpftrace/*.bt "$share/bpftrace/"
	echo "bpftrace scripts: $share/bpftrace/"
	install -D -m 0644 "$top/man/tc-pspat.8" "$man8/tc-pspat.8"
	echo "man page: $man8/tc-pspat.8"
	install -D -m 0755 "$top/boot/pspat-tc-apply" "$prefix/sbin/pspat-tc-apply"
	install -d "$unitdir" "$share/boot"
	sed "s|@SBINDIR@|$prefix/sbin|" "$top/boot/pspat-tc@.service" >"$unitdir/pspat-tc@.service"
	sed "s|@SBINDIR@|$prefix/sbin|" "$top/boot/ifupdown-pspat" >"$share/boot/ifupdown-pspat"
	chmod 0755 "$share/boot/ifupdown-pspat"
	install -m 0644 "$top/boot/sch_pspat.conf" "$top/boot/eth0.tc.example" "$share/boot/"
	echo "boot: $prefix/sbin/pspat-tc-apply, $unitdir/pspat-tc@.service, $share/boot/"
	;;
uninstall)
	# depmod only when a module was there: it reads every module (slow).
	if ls "/lib/modules/$krel/extra"/sch_pspat.ko* >/dev/null 2>&1; then
		rm -f "/lib/modules/$krel/extra"/sch_pspat.ko*
		rmdir "/lib/modules/$krel/extra" 2>/dev/null || true
		depmod -a "$krel"
	fi
	rm -f "$tcdir/q_pspat.so"
	rm -rf "$share"
	# The file only: man8/ may hold other pages.
	rm -f "$man8/tc-pspat.8" "$prefix/sbin/pspat-tc-apply" "$unitdir/pspat-tc@.service"
	echo "removed sch_pspat for $krel, $tcdir/q_pspat.so, $share, $man8/tc-pspat.8, pspat-tc-apply and its unit"
	;;
*) die "usage: $0 install|uninstall" ;;
esac
