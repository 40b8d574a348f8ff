#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: build, boot one QEMU guest that runs every configuration side
# by side (scripts/bench-guest.sh), then write bench/results/ (bench.json,
# results.md, throughput.png, latency-cdf.png; scripts/bench-report.sh).
#
# Environment:
#   PSPAT_BENCH_QUICK=1    short windows and fewer configurations (development)
#   PSPAT_BENCH_SECS=S     measurement window per run (default 3)
#   PSPAT_BENCH_PARTS, PSPAT_BENCH_PAIRS, PSPAT_BENCH_AB_*: see
#                          scripts/bench-guest.sh
#   PSPAT_BENCH_KERNEL     guest kernel, 6.1 (default) or 6.12
#   PSPAT_BENCH_OUT=DIR    results directory (default bench/results; quick
#                          runs default to build/bench/quick)
#   PSPAT_KMOD_DIR=DIR     module build directory (as for scripts/vm)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${PSPAT_BENCH_KERNEL:-6.1}
quick=${PSPAT_BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	dest=${PSPAT_BENCH_OUT:-$top/build/bench/quick}
else
	dest=${PSPAT_BENCH_OUT:-$top/bench/results}
fi

kmod=()
[ -n "${PSPAT_KMOD_DIR:-}" ] && kmod=(KMOD_DIR="$PSPAT_KMOD_DIR")
make -C "$top" --no-print-directory KVER="$kernel" "${kmod[@]}" module >/dev/null \
	2> >(grep -v "Skipping BTF" >&2)
make -C "$top" --no-print-directory user >/dev/null

raw=$top/build/bench/raw
rm -rf "$raw"
mkdir -p "$raw"
read -r load1 load5 load15 _ </proc/loadavg
jq -n --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
	--argjson n "$(nproc)" --arg rev "$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg l1 "$load1" --arg l5 "$load5" \
	--arg l15 "$load15" --arg q "$(qemu-system-x86_64 --version | head -n1)" '
	{date: $date, git_rev: $rev, host_cpu: $cpu, host_cpus: $n,
	 host_loadavg_start: "\($l1) \($l5) \($l15)", qemu: $q}' >"$raw/host.json"
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
	echo "bench: host load average $load1 on $(nproc) CPUs: results will be noisy" >&2
fi

# The lock hand-off between this host's two cores, for the scaling model
# (tools/pspat-handoff.cpp), measured before the guest boots: the guest's
# vCPU threads would share the cores with it.
"$top/build/user/tools/pspat-handoff" >"$raw/handoff.json"

start=$SECONDS
timeout=3600
[ "$quick" = 1 ] && timeout=1200
# --hostcpu: the guest reads the host CPU time of its vCPU threads around
# each window (scripts/vm-hostcpu).
"$top/scripts/vm" --kernel "$kernel" --timeout "$timeout" --hostcpu -- \
	"$top/scripts/bench-guest.sh" "$raw"
read -r l1 l5 l15 _ </proc/loadavg
jq --arg l "$l1 $l5 $l15" --argjson s $((SECONDS - start)) \
	'. + {host_loadavg_end: $l, vm_seconds: $s}' "$raw/host.json" >"$raw/host.json.tmp"
mv "$raw/host.json.tmp" "$raw/host.json"
"$top/scripts/bench-report.sh" "$raw" "$raw/host.json" "$dest"
# The figures on the terminal too: the A/B pairs, the model, the goals.
sed -n '/^## A\/B pairs/,/^## Throughput/{/^## Throughput/!p}; /^## Scaling model/,/^## Latency/{/^## Latency/!p}; /^## Goals/,$p' \
	"$dest/results.md"
