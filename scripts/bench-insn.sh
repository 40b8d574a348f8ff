#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-insn` (and the first part of `make bench`): instructions and
# LOCK ops per packet, counted by the QEMU plugin (tools/qemu-insn), not
# timed: stock pfifo_fast, HFSC, DRR and fq as root against pspat with the
# same child (pfifo, its default, for pfifo_fast), side by side in one 6.1
# guest, interleaved (scripts/bench-insn-guest.sh). Writes OUT/insn.json
# (every run) and OUT/insn.md (medians, the spread of the repetitions),
# and prints the table.
#
# Environment: PSPAT_BENCH_OUT (default bench/results),
# PSPAT_BENCH_INSN_N (packets per run, default 10000),
# PSPAT_BENCH_INSN_REPS (interleaved rounds, default 3), PSPAT_KMOD_DIR
# (modules built there, used as they are; scripts/vm).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${PSPAT_BENCH_OUT:-$top/bench/results}
# A build of its own, with the counter's markers in the arbiter
# (kmod/pspat.h); PSPAT_KMOD_DIR: the modules there, as they are (an A/B
# of two builds).
if [ -z "${PSPAT_KMOD_DIR:-}" ]; then
	export PSPAT_KMOD_DIR=$top/build/bench/insn-kmod
	make -C "$top" --no-print-directory KVER=6.1 KMOD_DIR="$PSPAT_KMOD_DIR" \
		PSPAT_INSN_MARKS=y module >/dev/null 2> >(grep -v "Skipping BTF" >&2)
fi
make -C "$top" --no-print-directory insn-plugin >/dev/null

raw=$top/build/bench/insn
rm -rf "$raw"
mkdir -p "$raw" "$dest"
"$top/scripts/insn-count" --kernel 6.1 --timeout 3600 --out "$raw/plugin.json" --no-wrap -- \
	"$top/scripts/bench-insn-guest.sh" "$raw" >/dev/null 2>"$raw/console.log" ||
	{ tail -n 30 "$raw/console.log" >&2; exit 1; }

jq -s --arg rev "$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)" \
	'{git_rev: $rev, runs: .}' "$raw/runs.jsonl" >"$dest/insn.json"
jq -r '
	def med: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def spread: if (med) == 0 then 0 else ((max - min) / med * 100) end;
	def r(x): x * 10 | round / 10;
	def r2(x): x * 100 | round / 100;
	def per(f): [.[] | f / .n];
	def perp(f): [.[] | if .packets > 0 then f / .packets else 0 end];
	def dash(x): if (.config | startswith("stock")) then "-" else x end;
	.runs | group_by(.config) | map({config: .[0].config,
		xmit: per(.xmit_insns), lock: per(.xmit_lock_ops),
		mlock: per(.xmit_module_lock_ops),
		arb: perp(.arb_insns), arb_lock: perp(.arb_lock_ops),
		arb_own: perp(.arb_insns - .arb_inner_insns),
		arb_own_lock: perp(.arb_lock_ops - .arb_inner_lock_ops),
		ppr: [.[] | if .arb_rounds > 0 then .packets / .arb_rounds else 0 end],
		empty: [.[] | if .packets > 0 then .arb_empty_rounds / .packets else 0 end],
		refused: (map(.refused) | add)}) as $c
	| ["| configuration | sender: dev_queue_xmit() insns/pkt | spread | LOCK ops/pkt | of them sch_pspat | arbiter insns/pkt (busy rounds) | spread | LOCK ops/pkt | without child and driver: insns/pkt | LOCK ops/pkt | packets/busy round | empty rounds/pkt | refused |",
	   "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"] +
	  [$c[] | "| \(.config) | \(r(.xmit | med)) | \(r(.xmit | spread)) % | \(r2(.lock | med)) | \(r2(.mlock | med)) | \(dash(r(.arb | med))) | \(dash("\(r(.arb | spread)) %")) | \(dash(r2(.arb_lock | med))) | \(dash(r(.arb_own | med))) | \(dash(r2(.arb_own_lock | med))) | \(dash(r(.ppr | med))) | \(dash(r2(.empty | med))) | \(.refused) |"]
	| .[]' "$dest/insn.json" >"$raw/table.md"
jq -r '
	def med: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	.runs | group_by(.config) | map({key: .[0].config, value: ([.[] | .xmit_insns / .n] | med)}) | from_entries as $m
	| ["pfifo_fast:pfifo", "hfsc:hfsc", "drr:drr", "fq:fq"][] | split(":") as [$s, $p]
	| "| \($s) | \(($m["pspat-" + $p] / $m["stock-" + $s] * 100 | round) / 100) |"' \
	"$dest/insn.json" >"$raw/ratio.md"
{
	echo "<!-- SPDX-License-Identifier: GPL-2.0 -->"
	echo "# Instructions per packet (make bench-insn, $(jq -r .git_rev "$dest/insn.json"))"
	echo
	echo "One 6.1 guest, 2 vCPUs, under tools/qemu-insn; $(jq '.runs[0].n' "$dest/insn.json") packets per run after 1000 of warm-up,"
	echo "$(jq '[.runs[].rep] | max' "$dest/insn.json") interleaved repetitions; medians; spread = (max - min) / median."
	echo "The sender (pspat_xmitbench, CPU 0) counts dev_queue_xmit() from entry to return."
	echo "The arbiter (CPU 1, idle_poll_us=1000000) counts its busy rounds, those that moved packets, from a build with"
	echo "PSPAT_INSN_MARKS=y; the child's enqueue/dequeue, the core's validate_xmit_skb_list() and the driver's"
	echo "transmit (what a stock root's sender runs too) are its inner part: \"without child and driver\" is the rest."
	echo
	cat "$raw/table.md"
	echo
	echo "| stock root | sender's dev_queue_xmit() through pspat / through the stock root |"
	echo "| --- | --- |"
	cat "$raw/ratio.md"
} >"$dest/insn.md"
cat "$dest/insn.md"
