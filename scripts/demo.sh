#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: install what is missing, build, run the demo in a VM
# (scripts/demo-guest.sh: HFSC under pspat sharing a link among three
# tenants), then plot measured against configured shares
# (scripts/demo-plot.gp) into build/demo/shares.png.
#
# PSPAT_DEMO_KERNEL=6.1|6.12 (default 6.1), PSPAT_DEMO_SECONDS (traffic,
# default 12). PSPAT_DEMO_NIC=e1000e runs the same tenants on a real
# driver: the senders' e1000e and the receiver's igb, emulated NICs on one
# QEMU hub (scripts/vm --nic), instead of a veth pair. PSPAT_KMOD_DIR and PSPAT_USER_BIN select other build
# directories for the module and the traffic tools.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${PSPAT_DEMO_KERNEL:-6.1}
nic=()
case "${PSPAT_DEMO_NIC:-}" in
'') ;;
e1000e) nic=(--nic e1000e,igb) ;;
*) echo "demo: PSPAT_DEMO_NIC takes e1000e (or nothing, for veth)" >&2; exit 2 ;;
esac
out=$top/build/demo
kmod=${PSPAT_KMOD_DIR:-$top/build/kmod}
ubin=${PSPAT_USER_BIN:-$top/build/user}
start=$SECONDS

bold='' off=''
if [ -t 1 ]; then
	bold=$'\033[1m' off=$'\033[0m'
	export PSPAT_DEMO_COLOR=1
fi
step() { printf '%s## %s%s\n' "$bold" "$*" "$off"; }
fail() {
	printf '%s## demo failed: %s%s\n' "$bold" "$*" "$off" >&2
	exit 1
}
mkdir -p "$out"

if [ "$(id -u)" = 0 ]; then
	step "Installing what is missing: Debian packages and the guest kernels (make deps)"
	"$top/scripts/deps.sh" >"$out/deps.log" 2>&1 ||
		{ tail -n 20 "$out/deps.log" >&2; fail "make deps (log: $out/deps.log)"; }
fi

step "Building sch_pspat.ko for Linux $kernel and the traffic tools (pspat-blast, pspat-sink)"
make -C "$top" --no-print-directory KVER="$kernel" KMOD_DIR="$kmod" module \
	>"$out/build.log" 2>&1 ||
	{ tail -n 20 "$out/build.log" >&2; fail "module build (log: $out/build.log)"; }
{
	cmake -S "$top" -B "$ubin" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$ubin" -j "$(nproc)" --target pspat-blast pspat-sink
} >>"$out/build.log" 2>&1 ||
	{ tail -n 20 "$out/build.log" >&2; fail "tools build (log: $out/build.log)"; }

step "Booting Linux $kernel in a QEMU VM (no KVM needed) to run the demo"
PSPAT_DEMO_KO=$kmod/$kernel/sch_pspat.ko PSPAT_USER_BIN=$ubin PSPAT_DEMO_OUT=$out \
	"$top/scripts/vm" --kernel "$kernel" --timeout 240 "${nic[@]}" -- \
	"$top/scripts/demo-guest.sh" || fail "the demo in the VM (exit $?)"

step "Plotting measured against configured shares (gnuplot)"
rm -f "$out/shares.png"
gnuplot -c "$top/scripts/demo-plot.gp" "$out/rates.tsv" "$out/shares.png" \
	>"$out/plot.log" 2>&1 && [ -s "$out/shares.png" ] ||
	{ cat "$out/plot.log" >&2; fail "gnuplot"; }
echo "Plot: $out/shares.png"
echo "Data: $out/rates.tsv (per second), $out/summary.tsv (averages)"
step "Done in $((SECONDS - start)) s"
