#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: the Debian packages of debian/, then lintian on them.
#   sch-pspat-dkms_<ver>_all.deb     the module source under /usr/src, for DKMS
#   sch-pspat-tools_<ver>_<arch>.deb tc plugin, tc-pspat(8), bpftrace scripts,
#                                    pspat-tc-apply + systemd unit, modprobe.d
# They land in build/deb/ (with the .changes and .buildinfo). The package
# build runs in a copy of the files the packages are made of, in
# build/deb/sch-pspat-<ver>/, so nothing else of the tree (build/, the CMake
# tests) is seen by debhelper. The tc plugin is built against the source of
# the installed iproute2 (build/iproute2/src: `make plugin-deps` or
# `make deps` fetch it); Build-Depends must be installed (`make deps` does,
# or: apt-get install debhelper dh-dkms g++ iproute2 lintian).
#
# Lintian fails the run on any E: or W: tag (overrides only with a reason,
# in debian/*.lintian-overrides). PSPAT_DEB_LINTIAN=0 skips it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb

die() { echo "deb: $*" >&2; exit 1; }

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
# One version: dkms.conf's (the module's MODULE_VERSION) is the package's.
cver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "$cver" = "$ver" ] ||
	die "debian/changelog is at $cver, dkms.conf at $ver: add a changelog entry (dch -v $ver)"

src=$top/build/iproute2/src
have=$(dpkg-query -W -f='${Version}' iproute2 2>/dev/null) || die "no iproute2 installed"
[ -f "$src/tc/tc_util.h" ] && [ "$(cat "$top/build/iproute2/version" 2>/dev/null)" = "$have" ] ||
	die "no source of the installed iproute2 $have in $src: make plugin-deps"

stage=$out/sch-pspat-$ver
rm -rf "$out"
mkdir -p "$stage"
(cd "$top" && cp -a --parents Kbuild dkms.conf LICENSE README.md debian kmod include \
	tc-plugin scripts/bpftrace boot man "$stage/")
# Only sources: whatever a build left next to them stays out.
find "$stage/kmod" "$stage/include" -type f ! -name '*.[ch]' ! -name Kbuild -delete

echo "deb: building sch-pspat $ver in $stage"
(cd "$stage" && IPROUTE2_SRC=$src dpkg-buildpackage -b -us -uc --no-sign) \
	>"$out/build.log" 2>&1 || { tail -n 40 "$out/build.log" >&2; die "dpkg-buildpackage failed ($out/build.log)"; }
changes=$(ls "$out"/sch-pspat_"${ver}"_*.changes)
ls "$out"/*.deb

if [ "${PSPAT_DEB_LINTIAN:-1}" != 0 ]; then
	command -v lintian >/dev/null || die "no lintian: apt-get install lintian (make deps does)"
	echo "deb: lintian $changes"
	# --fail-on: the exit status; every tag is printed (I: too, for review).
	lintian --info --display-info --fail-on error,warning "$changes" ||
		die "lintian found errors or warnings"
	echo "deb: lintian clean (no E: or W:)"
fi
