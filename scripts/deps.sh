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
#     its modules (decompressed, depmod'ed: plain_modules) and the matching
#     headers, unpacked, not installed.
#     Versions come from apt (linux-image-amd64 in bookworm and in
#     bookworm-backports); override with PSPAT_KREL_6_1 / PSPAT_KREL_6_12, e.g.
#     PSPAT_KREL_6_12=6.12.95+deb12-amd64.
#  4. The source of the installed iproute2 (deb-src, same URI), unpacked under
#     build/iproute2/: the tc plugin is built against its headers.
#  5. The newest 7.3 kernel of trixie-backports (Debian 13), and the build
#     root its headers need (they ask for gcc-14, which Debian 12 lacks): a
#     minimal Debian 13 tree made with debootstrap under build/buildroot/trixie
#     (gcc-14, make, pahole, sparse...), made once and reused. The index of
#     trixie-backports is read with an apt state of its own under
#     build/apt/trixie-backports (same URI as bookworm; the host's apt stays
#     on bookworm). The image (linux-binary, linux-modules and linux-base:
#     merged /usr) is unpacked under build/kernels/7.3/root with the /boot
#     and /lib links scripts/vm expects; the headers and kbuild go inside the
#     build root (their Makefile names /usr/src/linux-headers-*-common by
#     absolute path), and build/kernels/7.3/buildroot points at it: the
#     Makefile then builds there (scripts/in-buildroot). The newest
#     7.3.x+deb13 ABI of the index is taken, checked on every run (one
#     apt-get update of that index); override with PSPAT_KREL_7_3. For
#     `make lint`, the build root gets kbuild's scripts/checker-valid.sh
#     (Debian's linux-kbuild lacks it) and, as trixie's sparse cannot parse
#     7.x's headers, sid's sparse binary in /usr/local/bin (ensure_broot_sparse).
#     PSPAT_DEPS_7X=0 leaves step 5 out.
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
	# the selftests' BPF programs (selftests/bpf: clang -target bpf)
	clang libbpf-dev
	# tc plugin (iproute2 source), netlink fuzzer, DKMS, demo plot
	dpkg-dev libmnl-dev dkms gnuplot-nox
	# make deb: the packages, and lintian on them
	debhelper dh-dkms lintian fakeroot
	# the Debian 13 build root of the 7.x kernels
	debootstrap
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

# plain_modules SERIES: the guest's module tree uncompressed, then depmod.
# Debian compresses 6.12's and 7.x's modules with xz. Every depmod in the
# guest (make install, DKMS, their removal) decompresses all ~4200 of them,
# which costs TCG one to three minutes each: 8 CPU-seconds on the host
# become minutes emulated. Same modules, same kernel; the kernel loads
# either form, and DKMS still compresses what it builds (it follows the
# kernel's CONFIG_MODULE_COMPRESS_*). Idempotent: nothing to do once plain.
plain_modules() {
	local dir=$kroot/$1 rel n
	rel=$(cat "$dir/release")
	n=$(find "$dir/root/lib/modules/$rel/" \( -name '*.ko.xz' -o -name '*.ko.zst' \) | wc -l)
	[ "$n" = 0 ] && return
	log "kernel $1: decompressing $n modules for the guest"
	find "$dir/root/lib/modules/$rel/" -name '*.ko.xz' -print0 | xargs -0 -r -n 64 -P "$(nproc)" xz -d
	find "$dir/root/lib/modules/$rel/" -name '*.ko.zst' -print0 | xargs -0 -r -n 64 -P "$(nproc)" zstd -q -d --rm
	depmod -b "$dir/root" "$rel"
}

# guest_modules SERIES: the module tree the guest boots with
# (build/kernels/SERIES/guest/lib/modules/REL, hardlinks into root/; the
# full tree stays there): what a network test can load, and every module
# that needs (modules.dep). Every depmod in the guest (make install, DKMS
# and their removal: four or five a kernel in make check) reads every
# module, 22 to 36 s emulated for Debian's ~4000; for the ~930 kept about
# a quarter of that. Kept: net/, fs/, lib/, crypto/, arch/, kernel/, mm/,
# virtio, and the network drivers but wireless, USB, CAN, WAN, WWAN,
# 802.15.4, ham radio and the wired Ethernet drivers outside Intel's (the
# guest's NICs are e1000e, igb and virtio-net). scripts/vm-stage1 uses
# this tree when it exists. Remade when the rule or the release changes.
guest_modules() {
	local dir=$kroot/$1 rel g rule d
	local dirs="net fs lib crypto arch kernel mm drivers/virtio drivers/net"
	rel=$(cat "$dir/release")
	g=$dir/guest/lib/modules/$rel
	rule="$rel v1 $dirs"
	[ "$(cat "$dir/guest/.rule" 2>/dev/null)" = "$rule" ] && return
	rm -rf "$dir/guest"
	mkdir -p "$g"
	(
		cd "$dir/root/lib/modules/$rel" &&
		for d in $dirs; do
			[ ! -d "kernel/$d" ] || find "kernel/$d" -name '*.ko*'
		done |
		grep -vE '^kernel/drivers/net/(wireless|usb|can|wan|wwan|ieee802154|hamradio)/|^kernel/drivers/net/ethernet/[^/]+/' |
		cat - <(find kernel/drivers/net/ethernet/intel -name '*.ko*') |
		awk -F': *' 'FNR == NR { dep[$1] = $2; next }
			{ q[++n] = $0 }
			END {
				for (i = 1; i <= n; i++) {
					if (q[i] in keep)
						continue
					keep[q[i]] = 1
					c = split(dep[q[i]], d, " ")
					for (j = 1; j <= c; j++)
						q[++n] = d[j]
				}
				for (m in keep)
					print m
			}' modules.dep - |
		cpio -pdl --quiet "$g" &&
		find . -maxdepth 1 ! -name . ! -name kernel ! -name 'modules.*' -exec cp -al {} "$g/" \; &&
		cp -al modules.order modules.builtin* "$g/"
	) || die "kernel $1: cannot make the guest's module tree"
	depmod -b "$dir/guest" "$rel"
	log "kernel $1: guest module tree: $(find "$g" -name '*.ko*' | wc -l) of $(find "$dir/root/lib/modules/$rel" -name '*.ko*' | wc -l) modules"
	echo "$rule" >"$dir/guest/.rule"
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

# ---- 7.x: trixie-backports, built in a Debian 13 build root ----

broot=$top/build/buildroot/trixie
# What the build root has: the kernel's toolchain (gcc-14, pahole 1.30),
# kbuild's tools and what `make lint` runs there (sparse).
broot_packages=gcc-14,make,libc6-dev,libelf-dev,bc,flex,bison,dwarves,kmod,sparse,xz-utils,dkms

# An apt of its own for another suite's index (trixie-backports for the
# kernel, sid for sparse): sources, lists, cache and an empty dpkg status
# under build/apt/SUITE, so the host's apt is not touched. suite_apt SUITE
# sets sapt to apt's options for it (updated once a run).
declare -A sapt_updated=()
sapt=()
suite_apt() {
	local uri suite=$1 d=$top/build/apt/$1
	uri=$(suite_uri bookworm | head -n1) || true
	[ -n "$uri" ] || die "no bookworm entry under /etc/apt to derive $suite from"
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts"
	[ -f "$d/status" ] || : >"$d/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
		>"$d/sources.list"
	sapt=(-o "Dir::Etc::SourceList=$d/sources.list"
		-o "Dir::Etc::SourceParts=$d/parts"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$d/parts"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::State::status=$d/status"
		-o "Dir::Cache=$d/cache"
		-o "APT::Architectures::=amd64")
	[ -n "${sapt_updated[$suite]:-}" ] && return
	log "apt-get update ($suite, state in build/apt/$suite)"
	apt-get "${sapt[@]}" update -qq
	sapt_updated[$suite]=1
}

# The Debian 13 build root: made once (debootstrap, ~1 min, ~500 MB).
ensure_buildroot() {
	local uri
	if [ -f "$broot/.pspat-buildroot" ] &&
	   [ "$(cat "$broot/.pspat-buildroot")" = "$broot_packages" ]; then
		log "build root $broot present"
		return
	fi
	command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/deps.sh --packages-only)"
	uri=$(suite_uri bookworm | head -n1) || true
	[ -n "$uri" ] || die "no bookworm entry under /etc/apt to derive trixie from"
	log "build root: debootstrap trixie into $broot (once)"
	rm -rf "$broot" "$broot.tmp"
	mkdir -p "$(dirname "$broot")"
	debootstrap --variant=minbase --include="$broot_packages" \
		trixie "$broot.tmp" "$uri" >"$broot.log" 2>&1 ||
		{ tail -n 20 "$broot.log" >&2; die "debootstrap failed (log: $broot.log)"; }
	rm -f "$broot.tmp/var/cache/apt/archives/"*.deb
	mv "$broot.tmp" "$broot"
	echo "$broot_packages" >"$broot/.pspat-buildroot"
}

# bpo_release SERIES -> the newest SERIES.N+deb13-amd64 in trixie-backports
# (suite_apt trixie-backports first).
bpo_release() {
	local series=$1 var rel meta
	var=PSPAT_KREL_${series//./_}
	if [ -n "${!var:-}" ]; then
		echo "${!var}"
		return
	fi
	rel=$(apt-cache "${sapt[@]}" pkgnames "linux-image-$series." |
		grep -xE "linux-image-$series\.[0-9]+\+deb13-amd64" | sed 's/^linux-image-//' |
		sort -V | tail -n1)
	[ -n "$rel" ] || die "trixie-backports has no linux-image-$series.*+deb13-amd64 (set $var)"
	meta=$(apt-cache "${sapt[@]}" depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1)
	case "$meta" in
	"$series".*|"") ;;
	*) log "note: trixie-backports' linux-image-amd64 is $meta now, newer than $series (README: Kernels)" ;;
	esac
	echo "$rel"
}

# fetch_bpo_kernel SERIES: image under kernels/SERIES/root, headers in the
# build root, kernels/SERIES/buildroot -> the build root.
fetch_bpo_kernel() {
	local series=$1 dir=$kroot/$1 rel var old p mod
	var=PSPAT_KREL_${series//./_}
	if [ -f "$dir/release" ] && [ -d "$dir/root/lib/modules/$(cat "$dir/release")" ] &&
	   [ -e "$broot/usr/src/linux-headers-$(cat "$dir/release")/Makefile" ] &&
	   [ -L "$dir/buildroot" ] &&
	   { [ -z "${!var:-}" ] || [ "${!var}" = "$(cat "$dir/release")" ]; }; then
		# Follow the point releases: a newer ABI in the index replaces it.
		if [ -n "${!var:-}" ] || [ "${PSPAT_DEPS_OFFLINE:-0}" = 1 ]; then
			log "kernel $series: $(cat "$dir/release") present"
			return
		fi
		suite_apt trixie-backports
		rel=$(bpo_release "$series")
		if [ "$rel" = "$(cat "$dir/release")" ]; then
			log "kernel $series: $rel present (newest in trixie-backports)"
			return
		fi
	fi
	suite_apt trixie-backports
	rel=$(bpo_release "$series")
	log "kernel $series: fetching $rel from trixie-backports"
	old=$(cat "$dir/release" 2>/dev/null || true)
	rm -rf "$dir"
	mkdir -p "$dir/debs"
	(cd "$dir/debs" && apt-get "${sapt[@]}" download -q -o APT::Sandbox::User=root \
		"linux-binary-$rel" "linux-modules-$rel" "linux-base-$rel" \
		"linux-headers-$rel" "linux-headers-${rel%-amd64}-common" \
		"linux-kbuild-${rel%-amd64}" >/dev/null)
	# The image: merged /usr, no /boot.
	for p in linux-binary linux-modules linux-base; do
		dpkg -x "$dir/debs/${p}-${rel}_"*.deb "$dir/root"
	done
	mod=$dir/root/usr/lib/modules/$rel
	[ -f "$mod/vmlinuz" ] || die "no usr/lib/modules/$rel/vmlinuz in linux-binary-$rel"
	[ -e "$dir/root/lib" ] || ln -s usr/lib "$dir/root/lib"
	mkdir -p "$dir/root/boot"
	ln -sfn "../usr/lib/modules/$rel/vmlinuz" "$dir/root/boot/vmlinuz-$rel"
	# The headers and kbuild, inside the build root (gcc-14 is there).
	if [ -n "$old" ] && [ "$old" != "$rel" ]; then
		rm -rf "$broot/usr/src/linux-headers-$old" "$broot/usr/src/linux-headers-${old%-amd64}-common" \
			"$broot/usr/lib/linux-kbuild-${old%-amd64}" "$broot/usr/lib/modules/$old"
	fi
	for p in "$dir/debs/linux-headers-"*.deb "$dir/debs/linux-kbuild-"*.deb; do
		dpkg -x "$p" "$broot"
	done
	[ -f "$broot/usr/src/linux-headers-$rel/Makefile" ] || die "no headers for $rel in the build root"
	rm -rf "$dir/debs"
	# For the guest (bpftrace finds the headers there): the host's path.
	ln -sfn "$broot/usr/src/linux-headers-$rel" "$mod/build"
	depmod -b "$dir/root" "$rel"
	ln -sfn "../../buildroot/trixie" "$dir/buildroot"
	echo "$rel" >"$dir/release"
	log "kernel $series: $rel ready in $dir (builds in $broot)"
}

# checker_ok REL: kbuild's check of the checker, in the build root, says the
# build root's sparse can check REL's headers.
checker_ok() {
	[ "$(chroot "$broot" /usr/bin/env PATH=/usr/local/bin:/usr/bin:/bin \
		sh "/usr/lib/linux-kbuild-${1%-amd64}/scripts/checker-valid.sh" sparse 2>/dev/null)" = 1 ]
}

# ensure_broot_sparse REL: sparse (make lint, C=2) for REL in the build root.
# 7.x headers use __typeof_unqual__ under __CHECKER__, which trixie's sparse
# 0.6.4 cannot parse, and kbuild then turns C=2 off in silence, by
# scripts/checker-valid.sh: Debian's linux-kbuild lacks that script, so C=2
# is off either way. The script is added (upstream's check), and sid's
# sparse (0.6.5~rc1, which parses it; the binary needs only libc) goes to
# the build root's /usr/local/bin, ahead of trixie's in scripts/in-buildroot.
ensure_broot_sparse() {
	local rel=$1 kb d
	kb=$broot/usr/lib/linux-kbuild-${rel%-amd64}/scripts
	if [ ! -s "$kb/checker-valid.sh" ]; then
		cat >"$kb/checker-valid.sh" <<-'EOS'
		#!/bin/sh -eu
		# SPDX-License-Identifier: GPL-2.0
		# Added by sch_pspat's scripts/deps.sh (Debian's linux-kbuild lacks
		# it): prints 1 when the checker "$@" parses __typeof_unqual__.
		[ ! -x "$(command -v "$1")" ] && exit 1
		tmp_file=$(mktemp)
		trap 'rm -f "$tmp_file"' EXIT
		printf '%s\n' 'static inline int u(const int *q)' '{' \
			'	__typeof_unqual__(*q) v = *q;' '	return v;' '}' >"$tmp_file"
		"$@" "$tmp_file" 2>&1 | awk -v c=1 '/error/{c=0}END{print c}'
		EOS
		chmod 0755 "$kb/checker-valid.sh"
	fi
	if checker_ok "$rel"; then
		log "build root: sparse checks $rel"
		return
	fi
	suite_apt sid
	d=$top/build/apt/sid/debs
	rm -rf "$d"
	mkdir -p "$d"
	log "build root: sparse from sid (trixie's cannot parse $rel's headers)"
	(cd "$d" && apt-get "${sapt[@]}" download -q -o APT::Sandbox::User=root sparse >/dev/null)
	dpkg -x "$d"/sparse_*.deb "$d/x"
	install -D -m 0755 "$d/x/usr/bin/sparse" "$broot/usr/local/bin/sparse"
	rm -rf "$d"
	checker_ok "$rel" || die "sid's sparse in $broot still fails kbuild's checker-valid.sh for $rel"
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
	# The instruction counter's header and packages (make check's
	# insn_* selftests, make bench-insn): after QEMU, whose version it
	# matches.
	"$top/scripts/insn-deps.sh"
fi
if [ "$what" != --packages-only ]; then
	fetch_kernel 6.1
	fetch_kernel 6.12
	plain_modules 6.1
	plain_modules 6.12
	guest_modules 6.1
	guest_modules 6.12
	if [ "${PSPAT_DEPS_7X:-1}" != 0 ]; then
		ensure_buildroot
		fetch_bpo_kernel 7.3
		plain_modules 7.3
		guest_modules 7.3
		ensure_broot_sparse "$(cat "$kroot/7.3/release")"
	fi
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
