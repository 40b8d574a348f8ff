#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing sch_pspat needs on Debian 12 (run as root).
# Idempotent: a second run installs and downloads nothing.
#
#  1. bookworm-backports as an apt source, its URI taken from the existing
#     bookworm entry under /etc/apt (no host name is written anywhere).
#  2. Debian packages (compiler, iproute2, test and benchmark libraries), and
#     QEMU from bookworm-backports: bookworm's QEMU 7.2 has a multi-threaded
#     TCG bug (fixed in 8.1, "accel/tcg: Always lock pages before
#     translation") that lets a vCPU run stale code while the other one
#     patches the kernel text (static keys, tracepoints, kprobes): the guest
#     oopses at random, now and then. scripts/vm warns on a QEMU older
#     than 8.1.
#  3. Two guest kernels under build/kernels/<series>/root: the unsigned image,
#     its modules (depmod'ed) and the matching headers, unpacked, not installed.
#     Versions come from apt (linux-image-amd64 in bookworm and in
#     bookworm-backports); override with PSPAT_KREL_6_1 / PSPAT_KREL_6_12, e.g.
#     PSPAT_KREL_6_12=6.12.95+deb12-amd64.
#  4. The source of the installed iproute2 (deb-src, same URI), unpacked under
#     build/iproute2/: the tc plugin is built against its headers.
#
# --plugin-only (`make plugin-deps`) does step 4 alone, for building the tc
# plugin and the packages (`make deb`) on a machine that runs pspat (Debian
# 12 or 13): g++, make, dpkg-dev, debhelper, dh-dkms and lintian, a deb-src
# entry for the running suite (its codename from
# /etc/os-release, its URI from the suite's existing entry) when there is
# none, and the iproute2 source; no backports, QEMU or kernels.
#
# Usage: scripts/deps.sh [--packages-only|--kernels-only|--plugin-only]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kroot=$top/build/kernels
bpo_file=/etc/apt/sources.list.d/pspat-bookworm-backports.sources
src_file=/etc/apt/sources.list.d/pspat-bookworm-src.sources
plugin_packages=(g++ make dpkg-dev iproute2 debhelper dh-dkms lintian)

packages=(
	# kernel module build and the VM runner
	build-essential gcc-12 make kmod cpio xz-utils busybox-static
	libelf1 libssl3 dwarves rsync
	# programs the guest borrows from the host through the 9p root
	iproute2 iputils-ping iperf3 bpftrace jq procps ethtool util-linux
	# userspace C++20: unit tests, benchmarks, tools
	g++ cmake libgtest-dev libgmock-dev libbenchmark-dev libboost-dev
	libreaderwriterqueue-dev clang-format
	# tc plugin (iproute2 source), netlink fuzzer, DKMS, demo plot
	dpkg-dev libmnl-dev dkms gnuplot-nox
	# make deb: the packages, and lintian on them
	debhelper dh-dkms lintian fakeroot
)

log() { printf 'deps: %s\n' "$*" >&2; }
die() { printf 'deps: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and dpkg are needed)"

# suite_uri SUITE: the URI of that plain suite, from deb822 or one-line
# sources.
suite_uri() {
	local f suite=$1
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk -v suite="$suite" '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uri != "")
				{ print uri; found = 1; exit }
			types = suites = uri = ""
		}
		/^[ \t]*$/ { flush(); next }
		/^Types:/  { $1 = ""; types = $0 }
		/^Suites:/ { $1 = ""; suites = $0 }
		/^URIs:/   { uri = $2 }
		END { if (!found) flush() }' "$f"
	done | head -n1
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v suite="$suite" '$1 == "deb" { u = $2; if ($2 ~ /^\[/) { for (i = 2; i <= NF && $i !~ /\]$/; i++); u = $(i + 1); s = $(i + 2) } else s = $3
		     if (s == suite) { print u; exit } }'
}
bookworm_uri() { suite_uri bookworm; }

has_backports() {
	grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}

# add_source FILE TYPES SUITE WHAT [BASE]: a deb822 entry on the URI of
# suite BASE (default bookworm).
add_source() {
	local uri base=${5:-bookworm}
	uri=$(suite_uri "$base" | head -n1)
	[ -n "$uri" ] || die "no $base entry under /etc/apt to derive $4 from"
	log "adding $4 from the existing $base URI"
	cat >"$1" <<-EOF
	# Added by sch_pspat scripts/deps.sh: same archive as the $base entry.
	Types: $2
	URIs: $uri
	Suites: $3
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
}

# Each returns 0 when it added a source (apt needs an update then).
ensure_backports() {
	has_backports && return 1
	add_source "$bpo_file" deb bookworm-backports bookworm-backports
}

has_deb_src() {
	grep -rqsE '^[[:space:]]*(deb-src|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/
}

# ensure_deb_src [SUITE]: a deb-src entry (default bookworm) unless any.
ensure_deb_src() {
	local suite=${1:-bookworm} file=$src_file
	has_deb_src && return 1
	[ "$suite" = bookworm ] || file=/etc/apt/sources.list.d/pspat-$suite-src.sources
	add_source "$file" deb-src "$suite" "deb-src for $suite" "$suite"
}

# The source of the iproute2 that is installed, for tc's plugin headers.
fetch_iproute2() {
	local ver dir=$top/build/iproute2
	ver=$(dpkg-query -W -f='${Version}' iproute2)
	if [ -f "$dir/version" ] && [ "$(cat "$dir/version")" = "$ver" ] &&
	   [ -f "$dir/src/tc/tc_util.h" ]; then
		log "iproute2 source $ver present"
		return
	fi
	if ensure_deb_src "$src_suite"; then
		apt_updated=0
	fi
	apt_update
	log "iproute2 source $ver: fetching"
	rm -rf "$dir"
	mkdir -p "$dir/dl"
	(cd "$dir/dl" && apt-get source -qq -o APT::Sandbox::User=root --download-only "iproute2=$ver" >/dev/null &&
		dpkg-source -x --no-check -- *.dsc "$dir/src" >/dev/null)
	rm -rf "$dir/dl"
	[ -f "$dir/src/tc/tc_util.h" ] || die "iproute2 source has no tc/tc_util.h"
	echo "$ver" >"$dir/version"
}

# installed PKG: dpkg has PKG installed (not just its config files).
installed() {
	dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

# missing_packages [PKG...]: those not installed (default: all of packages).
missing_packages() {
	local p list=("$@")
	[ $# -gt 0 ] || list=("${packages[@]}")
	for p in "${list[@]}"; do
		installed "$p" || echo "$p"
	done
}

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return
	log "apt-get update"
	apt-get update -qq
	apt_updated=1
}

install_packages() {
	local missing
	missing=$(missing_packages "$@")
	[ -z "$missing" ] && { log "packages: all present"; return; }
	apt_update
	log "installing:" $missing
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
}

# QEMU >= 8.1 (see the top): bookworm-backports has it.
qemu_min=1:8.1
install_qemu() {
	local have
	have=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
	if installed qemu-system-x86 && dpkg --compare-versions "$have" ge "$qemu_min"; then
		log "qemu-system-x86 $have present"
		return
	fi
	apt_update
	log "installing qemu-system-x86 from bookworm-backports${have:+ (replaces $have)}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports qemu-system-x86 >/dev/null
	have=$(dpkg-query -W -f='${Version}' qemu-system-x86)
	dpkg --compare-versions "$have" ge "$qemu_min" ||
		die "bookworm-backports gave qemu-system-x86 $have, older than $qemu_min"
}

# kernel_release SERIES -> e.g. 6.1.0-56-amd64 or 6.12.95+deb12-amd64
kernel_release() {
	local series=$1 var rel args=()
	var=PSPAT_KREL_${series//./_}
	if [ -n "${!var:-}" ]; then
		echo "${!var}"
		return
	fi
	[ "$series" = 6.12 ] && args=(-t bookworm-backports)
	rel=$(apt-cache depends "${args[@]}" linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n1)
	case "$rel" in
	"$series".*) echo "$rel" ;;
	*) die "apt resolves linux-image-amd64 ${args[*]} to '$rel', not $series.x (set $var)" ;;
	esac
}

fetch_kernel() {
	local series=$1 dir=$kroot/$1 rel pkgs p kbuild common tmp var
	var=PSPAT_KREL_${series//./_}
	if [ -f "$dir/release" ] && [ -d "$dir/root/lib/modules/$(cat "$dir/release")" ] &&
	   { [ -z "${!var:-}" ] || [ "${!var}" = "$(cat "$dir/release")" ]; }; then
		log "kernel $series: $(cat "$dir/release") present"
		return
	fi
	apt_update
	rel=$(kernel_release "$series")
	log "kernel $series: fetching $rel"
	common=$(apt-cache depends "linux-headers-$rel" |
		sed -n 's/^ *Depends: \(linux-headers-.*-common\)$/\1/p' | head -n1)
	kbuild=$(apt-cache depends "linux-headers-$rel" |
		sed -n 's/^ *Depends: \(linux-kbuild-.*\)$/\1/p' | head -n1)
	[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve headers of $rel"
	pkgs=("linux-image-$rel-unsigned" "linux-headers-$rel" "$common" "$kbuild")

	rm -rf "$dir"
	mkdir -p "$dir/debs"
	tmp=$dir/debs
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" >/dev/null)
	for p in "$tmp"/*.deb; do
		dpkg -x "$p" "$dir/root"
	done
	rm -rf "$tmp"
	# The headers' Makefile includes the -common tree by absolute path.
	sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
		"$dir/root/usr/src/linux-headers-$rel/Makefile"
	ln -sfn "$dir/root/usr/src/linux-headers-$rel" "$dir/root/lib/modules/$rel/build"
	depmod -b "$dir/root" "$rel"
	[ -f "$dir/root/boot/vmlinuz-$rel" ] || die "no vmlinuz in linux-image-$rel-unsigned"
	echo "$rel" >"$dir/release"
	log "kernel $series: $rel ready in $dir"
}

what=${1:-all}
src_suite=bookworm
case "$what" in
all|--packages-only|--kernels-only) ;;
--plugin-only)
	# shellcheck disable=SC1091
	src_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$src_suite" ] || die "no VERSION_CODENAME in /etc/os-release"
	install_packages "${plugin_packages[@]}"
	fetch_iproute2
	log "done: make tc-plugin builds the plugin, make deb the packages"
	exit 0 ;;
*) die "usage: $0 [--packages-only|--kernels-only|--plugin-only]" ;;
esac

if ensure_backports; then
	apt_updated=0
fi
if [ "$what" != --kernels-only ]; then
	install_packages
	install_qemu
fi
if [ "$what" != --packages-only ]; then
	fetch_kernel 6.1
	fetch_kernel 6.12
	fetch_iproute2
	# The guest mounts its module tree over the host's /lib/modules (read
	# only through 9p), so the mount point must exist. A container image
	# may come without it.
	if [ ! -d /lib/modules ]; then
		log "creating /lib/modules (the guest's mount point for its modules)"
		mkdir -p /lib/modules
	fi
fi
log "done"
