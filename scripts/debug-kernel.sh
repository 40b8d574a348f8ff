#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make debug-kernel`: build the debug guest kernel (KASAN, lockdep, kmemleak,
# fault injection...) from Debian's linux-source-6.1 and install it where
# scripts/vm and `make KVER=debug module` look for kernels:
#
#   build/debug-kernel/src/linux-source-6.1   the unpacked source (read-only use)
#   build/debug-kernel/obj                    the O= build tree (module builds
#                                             use it: lib/modules/*/build)
#   build/kernels/debug/root                  boot/vmlinuz-REL, lib/modules/REL
#   build/kernels/debug/release               REL (like the Debian kernels)
#
# Config: x86_64_defconfig + kernel/configs/kvm_guest.config +
# scripts/debug-kernel.config; every option of the fragment is checked in the
# final .config and the build fails if one was dropped.
# Cached: nothing is done when build/kernels/debug/stamp matches the source
# package version, the base configs and the fragment (bump stamp_rev when
# this script changes how the kernel is built). The build runs under
# `nice -n 19` with PSPAT_DEBUG_JOBS jobs (default: nproc).
# Run as root on a fresh machine, it installs what it needs with apt-get
# (linux-source-6.1 bc bison flex libelf-dev libssl-dev dwarves); `make check`
# does not need any of them.
#
# Usage: scripts/debug-kernel.sh [--force] [--config-only]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=$top/build/debug-kernel
obj=$b/obj
kdir=$top/build/kernels/debug
frag=$top/scripts/debug-kernel.config
jobs=${PSPAT_DEBUG_JOBS:-$(nproc)}
tarball=/usr/src/linux-source-6.1.tar.xz
build_pkgs=(linux-source-6.1 bc bison flex libelf-dev libssl-dev dwarves
	build-essential kmod cpio xz-utils rsync)

log() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { printf 'debug-kernel: error: %s\n' "$*" >&2; exit 1; }

force=0 config_only=0
for a in "$@"; do
	case "$a" in
	--force) force=1 ;;
	--config-only) config_only=1 ;;
	*) die "usage: $0 [--force] [--config-only]" ;;
	esac
done

# 1. Build dependencies (only here, so that plain `make check` skips them).
missing=()
for p in "${build_pkgs[@]}"; do
	dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages (run as root to install): ${missing[*]}"
	log "installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
[ -f "$tarball" ] || die "$tarball missing (package linux-source-6.1)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# 2. Cache check.
stamp_rev=1
stamp_want=$( { echo "rev $stamp_rev linux-source-6.1 $srcver x86_64_defconfig kvm_guest.config"
	cat "$frag"; } | sha256sum | cut -d' ' -f1)
if [ $force = 0 ] && [ $config_only = 0 ] && [ -f "$kdir/stamp" ] &&
   [ "$(cat "$kdir/stamp")" = "$stamp_want" ] && [ -f "$kdir/release" ] &&
   [ -f "$kdir/root/boot/vmlinuz-$(cat "$kdir/release")" ]; then
	log "up to date: $(cat "$kdir/release") (source $srcver)"
	# Trees installed before the source link existed (bpftrace needs it).
	ln -sfn "$b/src/linux-source-6.1" "$kdir/root/lib/modules/$(cat "$kdir/release")/source"
	exit 0
fi
start=$SECONDS

# 3. Source, unpacked once per package version.
src=$b/src/linux-source-6.1
if [ ! -f "$b/src/version" ] || [ "$(cat "$b/src/version")" != "$srcver" ] ||
   [ ! -f "$src/Makefile" ]; then
	log "unpacking $tarball ($srcver)"
	rm -rf "$b/src" "$obj"
	mkdir -p "$b/src"
	tar -xJf "$tarball" -C "$b/src"
	echo "$srcver" >"$b/src/version"
fi

# 4. Config: defconfig + kvm_guest.config + the fragment, then verify.
mkdir -p "$obj"
kmake() { nice -n 19 make -C "$src" O="$obj" -j"$jobs" "$@"; }
kmake -s x86_64_defconfig >/dev/null
(cd "$src" && KCONFIG_CONFIG="$obj/.config" ./scripts/kconfig/merge_config.sh -m -O "$obj" \
	"$obj/.config" kernel/configs/kvm_guest.config "$frag") >"$b/merge_config.log" 2>&1 ||
	{ cat "$b/merge_config.log" >&2; die "merge_config.sh failed"; }
kmake -s olddefconfig >/dev/null
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) want=$line; name=${line%%=*} ;;
	"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}; want="" ;;
	*) continue ;;
	esac
	have=$(grep -E "^($name=|# $name is not set)" "$obj/.config" || true)
	if [ -n "$want" ]; then
		[ "$have" = "$want" ] || { log "MISSING: wanted $want, got '${have:-unset}'"; bad=1; }
	else
		case "$have" in ""|"# $name is not set") ;; *) log "MISSING: wanted $name off, got '$have'"; bad=1 ;; esac
	fi
done <"$frag"
[ $bad = 0 ] || die "the final .config lacks options of $frag (see $b/merge_config.log)"
log "config verified: every option of $(basename "$frag") is in $obj/.config"
[ $config_only = 1 ] && exit 0

# 5. Build (long: see docs/debug-kernel.md), install, depmod.
log "building with -j$jobs under nice -n 19 (log: $b/build.log)"
if ! kmake bzImage modules >"$b/build.log" 2>&1; then
	tail -n 40 "$b/build.log" >&2
	die "kernel build failed"
fi
rel=$(kmake -s kernelrelease)
rm -rf "$kdir"
mkdir -p "$kdir/root/boot"
kmake -s INSTALL_MOD_PATH="$kdir/root" modules_install >>"$b/build.log" 2>&1 ||
	die "modules_install failed"
cp "$obj/arch/x86/boot/bzImage" "$kdir/root/boot/vmlinuz-$rel"
cp "$obj/.config" "$kdir/root/boot/config-$rel"
cp "$obj/System.map" "$kdir/root/boot/System.map-$rel"
rm -f "$kdir/root/lib/modules/$rel/build" "$kdir/root/lib/modules/$rel/source"
ln -sfn "$obj" "$kdir/root/lib/modules/$rel/build"
# bpftrace (no BTF here) parses the kernel headers from source + build.
ln -sfn "$src" "$kdir/root/lib/modules/$rel/source"
depmod -b "$kdir/root" "$rel"
echo "$rel" >"$kdir/release"
echo "$stamp_want" >"$kdir/stamp"
took=$((SECONDS - start))
echo "$took" >"$kdir/build-seconds"
log "built $rel in ${took}s ($((took / 60)) min); installed in $kdir"
