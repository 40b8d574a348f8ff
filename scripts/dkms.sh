#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-install` / `make dkms-remove` (root): sch_pspat under DKMS, so
# it is rebuilt for every kernel the machine installs later.
#
#   install  copy the module sources (dkms.conf, Kbuild, kmod/*.[ch],
#            include/pspat/*.h: no test modules, no build output) to
#            build/dkms/sch_pspat-<version>, then dkms add (which copies
#            them to /usr/src/sch_pspat-<version>), build and install for
#            KERNELRELEASE (default: the running kernel)
#   remove   dkms remove --all, and the /usr/src copy: nothing is left
#
# The version is PACKAGE_VERSION in dkms.conf.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
action=${1:-install}
krel=${KERNELRELEASE:-$(uname -r)}
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
name=sch_pspat

die() { echo "dkms: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
command -v dkms >/dev/null || die "no dkms: apt-get install dkms (make deps does)"
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"

case "$action" in
install)
	src=$top/build/dkms/$name-$ver
	rm -rf "$src"
	mkdir -p "$src/kmod" "$src/include/pspat"
	cp -p "$top/dkms.conf" "$top/Kbuild" "$top/LICENSE" "$src/"
	cp -p "$top"/kmod/*.[ch] "$src/kmod/"
	cp -p "$top"/include/pspat/*.h "$src/include/pspat/"
	# A previous install of this version is replaced.
	if dkms status -m "$name" -v "$ver" | grep -q .; then
		dkms remove -m "$name" -v "$ver" --all >/dev/null
	fi
	rm -rf "/usr/src/$name-$ver"
	dkms add "$src"
	dkms build -m "$name" -v "$ver" -k "$krel"
	dkms install -m "$name" -v "$ver" -k "$krel"
	dkms status -m "$name"
	;;
remove)
	if dkms status -m "$name" -v "$ver" | grep -q .; then
		dkms remove -m "$name" -v "$ver" --all
	fi
	rm -rf "/usr/src/$name-$ver"
	echo "dkms: $name $ver removed"
	;;
*) die "usage: $0 install|remove" ;;
esac
