#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn the raw output of scripts/bench-guest.sh into results:
#
#   scripts/bench-report.sh RAWDIR HOSTJSON OUTDIR
#
# RAWDIR: runs.jsonl, guest.json, lat/*.txt from the guest. HOSTJSON: what
# scripts/bench.sh recorded on the host (CPU model, git revision, load).
# Writes OUTDIR/bench.json (everything, derived), OUTDIR/results.md (tables
# with pspat/stock ratios and the goals) and the PNG plots.
set -euo pipefail
raw=${1:?usage: bench-report.sh RAWDIR HOSTJSON OUTDIR}
host=${2:?}
out=${3:?}
mkdir -p "$out"
idle_poll_us=${PSPAT_BENCH_IDLE_POLL_US:-50}

# Latency samples: ping RTT in ms -> percentiles and 100-point CDF (us).
lat=$(for f in "$raw"/lat/*.txt; do
	[ -s "$f" ] || continue
	sort -g "$f" | awk -v c="$(basename "$f" .txt)" '
		{ v[NR] = $1 * 1000 }
		function q(p) { i = int((NR - 1) * p) + 1; return v[i] }
		END {
			printf "{\"config\":\"%s\",\"ping_samples\":%d,\"ping_rtt_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"cdf_us\":[", \
				c, NR, q(0.5), q(0.9), q(0.99), v[NR]
			for (k = 0; k <= 100; k++) printf "%s%.1f", (k ? "," : ""), q(k / 100)
			print "]}"
		}'
done | jq -s .)

# A/B pairs (kind "ab"): per pair, the ratios pspat/stock of packets/s,
# of the host CPU time of the vCPU threads per packet, and of the guest's
# busy CPU per packet; summarised with a bootstrap 95 % interval.
abstat=$(cd "$(dirname "$0")/.." && pwd)/build/user/tools/pspat-abstat
ab=$(jq -r -s '
	def d(i): .w1[i] - .w0[i];
	def pos: if . != null and . > 0 then . else null end;
	[.[] | select(.kind == "ab") |
	 . + {pps: (if d(0) > 0 then d(2) * 1e6 / d(0) else null end | pos),
	      hcpu: (if (.w1 | length) > 12 and d(2) > 0 then d(12) / d(2) else null end | pos),
	      gcpu: (if d(2) > 0 then d(1) * 1e9 / .clk_tck / d(2) else null end | pos)}] |
	group_by([.mode, .threads, .sched, .pair])[] | select(length == 2) |
	(map(select(.config | startswith("pspat_")))[0]) as $p |
	(map(select(.config | startswith("pspat_") | not))[0]) as $s |
	select($p != null and $s != null) |
	"\($p.mode).\($p.threads).\($p.sched)" as $k |
	(if $p.pps and $s.pps then "\($k).pps \($p.pps / $s.pps)" else empty end),
	(if $p.hcpu and $s.hcpu then "\($k).host_cpu \($p.hcpu / $s.hcpu)" else empty end),
	(if $p.gcpu and $s.gcpu then "\($k).guest_cpu \($p.gcpu / $s.gcpu)" else empty end)
	' "$raw/runs.jsonl" | "$abstat")

# The model's inputs measured on the host and under the counter: the lock
# hand-off (tools/pspat-handoff, scripts/bench.sh) and the instructions
# per packet of `make bench-insn` (insn.json next to the results), if any.
handoff=null
[ -s "$raw/handoff.json" ] && handoff=$(cat "$raw/handoff.json")
insn=null
[ -s "$out/insn.json" ] && insn=$(cat "$out/insn.json")

jq -s --slurpfile host "$host" --slurpfile guest "$raw/guest.json" \
	--argjson lat "$lat" --argjson poll "$idle_poll_us" \
	--argjson ab "$ab" --argjson handoff "$handoff" --argjson insn "$insn" '
def r3: if . == null then null else . * 1000 | round / 1000 end;
def d(i): .w1[i] - .w0[i];
def per(a; b): if b > 0 then a / b | r3 else null end;
def derive:
	(d(0)) as $us | (d(2)) as $pk |
	{kind, config, threads, driver,
	 oversubscribed: (.threads > $guest[0].vcpus),
	 window_s: ($us / 1e6 | r3), packets: $pk,
	 pps: (if $us > 0 then $pk * 1e6 / $us | round else null end),
	 cpu_ns_per_pkt: per(d(1) * 1e9 / .clk_tck; $pk),
	 cpu_busy_share: (if $us > 0 then d(1) * 1e9 / .clk_tck / 1000 / $us / $guest[0].vcpus | r3 else null end),
	 sender_ns_per_pkt: per(d(5); $pk),
	 attempts: d(6),
	 sender_ns_per_attempt: per(d(5); d(6)),
	 refused_share: (if d(6) > 0 then 1 - $pk / d(6) | if . < 0 then 0 else . end | r3 else null end),
	 arb_share: (if $us > 0 and .arb_found != false then d(3) / 1000 / $us | r3 else null end),
	 disp_share: (if $us > 0 and .disp_found != false then d(4) / 1000 / $us | r3 else null end),
	 arb_packets: d(7), arb_sleeps: d(8),
	 arb_ns_per_pkt: per(d(3); d(7)),
	 arb_ns_per_pkt_no_poll: per(d(3) - d(8) * $poll * 1000; d(7)),
	 # busy_ns times one BH-off section in 8 (busy_packets: theirs).
	 arb_busy_ns_per_pkt: (if (.w1 | length) > 14 then per(d(10); d(14)) else null end),
	 disp_ns_per_pkt: per(d(4); d(9)),
	 disp_busy_ns_per_pkt: (if (.w1 | length) > 11 then per(d(11); d(9)) else null end),
	 host_vcpu_ns_per_pkt: (if (.w1 | length) > 12 and d(12) > 0 then per(d(12); $pk) else null end),
	 sent, enobufs};
def median_run: sort_by(.pps // 0) | .[(length - 1) / 2 | floor] +
	{reps: length, pps_all: map(.pps)};
(map(select(.kind != "latency" and .kind != "meta" and .kind != "ab") | derive) |
 group_by([.kind, .driver, .config, .threads]) | map(median_run)) as $runs |
(map(select(.kind == "latency"))) as $latraw |
# A/B: one row per case (mode, senders, scheduler): the paired
# ratio pspat/stock with its interval, and the medians of both sides.
(map(select(.kind == "ab")) | map(derive + {mode, sched, pair, first, rate_pps})) as $abruns |
def amed(f): map(f) | map(select(. != null)) | sort |
	if length == 0 then null else .[(length - 1) / 2 | floor] end;
([$ab[] | (.key | split(".")) as $k |
  {mode: $k[0], threads: ($k[1] | tonumber), sched: $k[2], metric: $k[3], s: del(.key)}] |
 group_by([.mode, .threads, .sched]) |
 map(.[0] as $f | {mode: $f.mode, threads: $f.threads, sched: $f.sched} +
     (map({key: .metric, value: .s}) | from_entries)) |
 sort_by(.sched as $s | [.mode != "sat", .threads, (["hfsc", "drr", "pfifo", "fq"] | index($s))]) |
 map(. as $r | [$abruns[] | select(.mode == $r.mode and .threads == $r.threads and .sched == $r.sched)] as $x |
     ($x | map(select(.config | startswith("pspat_")))) as $p |
     ($x | map(select(.config | startswith("pspat_") | not))) as $st |
     . + {pairs: ($x | map(.pair) | unique | length), rate_pps_per_flow: ($x[0].rate_pps // 0),
	  stock_pps: ($st | amed(.pps)), pspat_pps: ($p | amed(.pps)),
	  stock_host_ns_per_pkt: ($st | amed(.host_vcpu_ns_per_pkt) | if . then round else null end),
	  pspat_host_ns_per_pkt: ($p | amed(.host_vcpu_ns_per_pkt) | if . then round else null end),
	  pspat_arb_share: ($p | amed(.arb_share))})) as $abrows |
(map(select(.kind == "meta"))[0].guest_seconds // null) as $gsecs |
def pps(drv; c; n): [$runs[] | select(.kind == "throughput" and .driver == drv and .config == c and .threads == n) | .pps][0];
def ratio(a; b): if a != null and b != null and b > 0 then a / b | r3 else null end;
def cost(c): [$runs[] | select(.kind == "cost" and .config == c)][0];
([$runs[] | select(.kind == "throughput") | {driver, threads}] | unique) as $cases |
[ $cases[] as $k | ("pfifo", "hfsc", "drr", "fq") as $s |
  pps($k.driver; $s; $k.threads) as $st |
  select($st != null) |
  {driver: $k.driver, threads: $k.threads,
   oversubscribed: ($k.threads > $guest[0].vcpus), scheduler: $s,
   stock_pps: $st,
   pspat_arbiter_pps: pps($k.driver; "pspat_\($s)_arbiter"; $k.threads),
   pspat_dispatcher_pps: pps($k.driver; "pspat_\($s)_dispatcher"; $k.threads),
   pfifo_fast_pps: pps($k.driver; "pfifo_fast"; $k.threads),
   mq_fq_pps: pps($k.driver; "mq_fq"; $k.threads),
   noqueue_pps: pps($k.driver; "noqueue"; $k.threads)} |
  .ratio_arbiter = ratio(.pspat_arbiter_pps; .stock_pps) |
  .ratio_dispatcher = ratio(.pspat_dispatcher_pps; .stock_pps) ] as $ratios |
{ nq: cost("noqueue"), pf: cost("pfifo"), hf: cost("hfsc"),
  pa: cost("pspat_pfifo_arbiter"), pd: cost("pspat_pfifo_dispatcher"),
  ha: cost("pspat_hfsc_arbiter"), hd: cost("pspat_hfsc_dispatcher") } as $c |
def sub(a; b): if a != null and b != null then a - b | r3 else null end;
# Cost per packet of a kthread: its time in rounds (batches) that moved
# packets (debugfs busy_ns), else its run time less an idle-poll bound.
def busy(x): x.arb_busy_ns_per_pkt // x.arb_ns_per_pkt_no_poll;
def dbusy(x): x.disp_busy_ns_per_pkt // x.disp_ns_per_pkt;
{
  sender_ns_noqueue: $c.nq.sender_ns_per_attempt,
  sender_ns_pfifo: $c.pf.sender_ns_per_attempt,
  sender_ns_hfsc: $c.hf.sender_ns_per_attempt,
  stock_qdisc_ns_pfifo: sub($c.pf.sender_ns_per_attempt; $c.nq.sender_ns_per_attempt),
  stock_qdisc_ns_hfsc: sub($c.hf.sender_ns_per_attempt; $c.nq.sender_ns_per_attempt),
  pspat_sender_ns: $c.pa.sender_ns_per_attempt,
  pspat_refused_share: $c.pa.refused_share,
  arbiter_run_ns_pfifo: $c.pa.arb_ns_per_pkt,
  arbiter_share_pfifo: $c.pa.arb_share,
  arbiter_ns_pfifo: busy($c.pa),
  arbiter_capacity_pps_pfifo: (if busy($c.pa) then 1e9 / busy($c.pa) | round else null end),
  arbiter_ns_pfifo_schedule_only: busy($c.pd),
  dispatcher_ns_pfifo: dbusy($c.pd),
  arbiter_ns_hfsc: busy($c.ha),
  arbiter_ns_hfsc_schedule_only: busy($c.hd),
  xmit_ns_estimate: sub(busy($c.pa); busy($c.pd))
} as $cost |
($cost | .client_enqueue_ns_estimate =
  (if .pspat_sender_ns != null and .sender_ns_noqueue != null and .xmit_ns_estimate != null
   then .pspat_sender_ns - .sender_ns_noqueue + (1 - .pspat_refused_share) * .xmit_ns_estimate | r3
   else null end)) as $cost |
# Scaling model (docs/performance.md): per-packet costs in instructions and
# LOCK ops (make bench-insn, medians), priced with the cycle of this host and
# uncontended atomic (one instruction per cycle assumed), and the lock
# hand-off between the two cores of this host (pspat-handoff).
def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
(if $insn == null or $handoff == null then null else
 ($insn.runs | group_by(.config) | map({key: .[0].config, value: {
	x: ([.[] | .xmit_insns / .n] | med), xl: ([.[] | .xmit_lock_ops / .n] | med),
	xm: ([.[] | .xmit_module_insns / .n] | med),
	a: ([.[] | select(.packets > 0) | .arb_insns / .packets] | med),
	al: ([.[] | select(.packets > 0) | .arb_lock_ops / .packets] | med)}}) | from_entries) as $m |
 $handoff.cycle_ns as $cy | $handoff.atomic_ns as $lk | $handoff.handoff_ns as $h |
 def ns(i; l): i * $cy + l * $lk;
 [ ("pfifo_fast:pfifo", "hfsc:hfsc", "drr:drr", "fq:fq") | split(":") as [$st, $ch] |
   $m["stock-" + $st] as $s | $m["pspat-" + $ch] as $p | select($s != null and $p != null) |
   # The pspat sender outside any module: the core path both roots share.
   ($p.x - $p.xm) as $common |
   {scheduler: $st,
    insns: {stock_sender: ($s.x | round), stock_serial: ($s.x - $common | round),
	    pspat_sender: ($p.x | round), arbiter: ($p.a | round)},
    ns: {stock_sender: (ns($s.x; $s.xl) | r3), stock_serial: (ns($s.x - $common; $s.xl) | r3),
	 pspat_sender: (ns($p.x; $p.xl) | r3), arbiter: (ns($p.a; $p.al) | r3)}} |
   .ns as $n |
   .predicted_mpps = [ (1, 2, 4, 16, 64) as $k |
	{senders: $k,
	 stock: ([$k * 1000 / $n.stock_sender, 1000 / ($n.stock_serial + (if $k > 1 then $h else 0 end))] | min | r3),
	 pspat: ([$k * 1000 / $n.pspat_sender, 1000 / $n.arbiter] | min | r3)} ] ] as $rows |
 {cycle_ns: $cy, atomic_ns: $lk, handoff_ns: $h, contended_ns: $handoff.contended_ns,
  handoff_lines: $handoff.lines, insn_rev: $insn.git_rev, schedulers: $rows}
 end) as $model |
([$runs[] | select(.kind == "idle")]) as $idle |
# 1 sender, each pspat variant against the stock run of the same part.
[ $runs[] | select(.kind == "tuning" and (.config | startswith("pspat_"))) |
  (.config | split("_")) as $p |
  . as $r |
  ([$runs[] | select(.kind == "tuning" and .driver == $r.driver and .config == $p[1]) | .pps][0]) as $st |
  {driver, scheduler: $p[1], mode: $p[2],
   variant: (if ($p | length) > 3 then $p[3:] | join("+") else "defaults" end),
   stock_pps: $st, pps, ratio: ratio(.pps; $st), arb_share,
   refused_share: (if .driver == "pktgen" then .refused_share else null end),
   enobufs, arb_sleeps_per_s: (if .window_s > 0 then .arb_sleeps / .window_s | round else null end)} ] as $tuning |
def best1(drv): [$ratios[] | select(.driver == drv and .threads == 1) | {scheduler, ratio_arbiter, ratio_dispatcher}];
{
  meta: ($host[0] + $guest[0] + {guest_seconds: $gsecs}),
  ab: $abrows,
  ratios: $ratios,
  tuning: $tuning,
  cost: $cost,
  model: $model,
  idle: $idle,
  latency: [ $lat[] as $l | ([$latraw[] | select(.config == $l.config)][0]) as $x |
	     $l + {rate_pps_per_flow: $x.rate_pps, blast: $x.blast, sink: $x.sink} ],
  goals: {
    # the medians of make bench-insn (insn.json), if the run has them.
    insn: (if $insn == null then [] else
	($insn.runs | group_by(.config) | map({key: .[0].config, value: {
		x: ([.[] | .xmit_insns / .n] | med),
		ml: ([.[] | .xmit_module_lock_ops / .n] | med),
		own: ([.[] | select(.packets > 0) | (.arb_insns - .arb_inner_insns) / .packets] | med)}})
	 | from_entries) as $m |
	[ {goal: "sender dev_queue_xmit() <= 0.5x stock pfifo_fast (instructions)", case: "pspat-pfifo",
	   value: ($m["pspat-pfifo"].x / $m["stock-pfifo_fast"].x | r3),
	   met: ($m["pspat-pfifo"].x / $m["stock-pfifo_fast"].x <= 0.5)} ] +
	[ ("pfifo", "hfsc", "drr", "fq") as $c | $m["pspat-" + $c] | select(. != null) |
	  {goal: "0 LOCK ops of sch_pspat per client packet", case: "pspat-\($c)", value: (.ml | r3), met: (.ml < 0.01)},
	  {goal: "arbiter <= 150 instructions per packet beyond child and driver", case: "pspat-\($c)",
	   value: (.own | r3), met: (.own <= 150)} ] end),
    one_sender_ge_0_9: [ $ratios[] | select(.threads == 1) |
	{driver, scheduler, ratio_arbiter, ratio_dispatcher,
	 met: ((.ratio_arbiter // 0) >= 0.9 or (.ratio_dispatcher // 0) >= 0.9)} ],
    two_blast_senders_hfsc_drr_lo_ge_1: [ $abrows[] |
	select(.mode == "sat" and .threads == 2 and (.sched == "hfsc" or .sched == "drr")) |
	{sched, pairs, geomean: .pps.geomean, lo: .pps.lo, hi: .pps.hi, met: ((.pps.lo // 0) >= 1)} ],
    multi_sender_hfsc_drr_ge_1: [ $ratios[] | select(.threads >= 2 and (.scheduler == "hfsc" or .scheduler == "drr")) |
	{driver, threads, scheduler, ratio_arbiter, ratio_dispatcher,
	 met: ((.ratio_arbiter // 0) >= 1 or (.ratio_dispatcher // 0) >= 1)} ],
    idle_lt_1pct: [ $idle[] | {config, arb_share, disp_share,
	met: (.arb_share != null and (.disp_share != null or (.config | test("dispatcher") | not)) and
	      ((.arb_share + (.disp_share // 0)) < 0.01))} ]
  },
  runs: $runs
}' "$raw/runs.jsonl" >"$out/bench.json"

# --- markdown -------------------------------------------------------------------
jq -r '
def f(x): if x == null then "-" else (x | tostring) end;
def k(x): if x == null then "-" else (x / 1000 | . * 10 | round / 10 | tostring) + "k" end;
def pc(x): if x == null then "-" else (x * 1000 | round / 10 | tostring) + "%" end;
def ok(m): if m then "met" else "**missed**" end;
def ci(x): if x == null then "-" else "**\(x.geomean * 100 | round / 100)** [\(x.lo * 100 | round / 100), \(x.hi * 100 | round / 100)]" end;
.meta as $m |
"<!-- SPDX-License-Identifier: GPL-2.0 -->",
"# Benchmark results (generated by `make bench`)",
"",
"QEMU TCG guest: compare the ratios, not the absolute rates.",
"",
"| | |", "| --- | --- |",
"| date | \($m.date) |",
"| git revision | `\($m.git_rev)` |",
"| guest kernel | \($m.kernel), \($m.vcpus) vCPUs (TCG) |",
"| host CPU | \($m.host_cpu) (\($m.host_cpus) CPUs) |",
"| host load average at start | \($m.host_loadavg_start) |",
"| measurement window | \($m.window_s) s per run\(if $m.quick then " (quick mode)" else "" end) |",
"| guest run time | \(f($m.guest_seconds)) s |",
"",
"## A/B pairs: pspat/stock, geometric mean of paired ratios [bootstrap 95 % interval]",
"",
"pspat-blast over the veth; each pair runs the stock root and pspat (arbiter mode) with the same child next to",
"each other, in random order, the cases of a round shuffled. sat: unpaced (closed loop); paced: \(([.ab[] | select(.mode == "paced") | .rate_pps_per_flow][0]) // "-") packets/s per flow.",
"Host CPU: run time of the vCPU threads of the guest on the host per packet delivered (lower is better).",
"",
"| case | senders | scheduler | pairs | packets/s stock | pspat | ratio [95 %] | host ns/pkt stock | pspat | ratio [95 %] | guest CPU ratio [95 %] | arbiter CPU |",
"| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
(.ab[] | "| \(.mode) | \(.threads) | \(.sched) | \(.pairs) | \(k(.stock_pps)) | \(k(.pspat_pps)) | \(ci(.pps)) | \(f(.stock_host_ns_per_pkt)) | \(f(.pspat_host_ns_per_pkt)) | \(ci(.host_cpu)) | \(ci(.guest_cpu)) | \(pc(.pspat_arb_share)) |"),
"",
"## Throughput, packets/s, pspat/stock with the same scheduler",
"",
"pktgen: kernel threads (`queue_xmit`) into a 2-queue dummy device; blast:",
"pspat-blast threads over a 2-queue veth. Threads above the vCPU count are",
"oversubscribed (marked *).",
"",
"| driver | senders | scheduler | stock | pspat arbiter | ratio | pspat dispatcher | ratio | pfifo_fast | mq+fq | noqueue |",
"| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
(.ratios[] | "| \(.driver) | \(.threads)\(if .oversubscribed then "*" else "" end) | \(.scheduler) | \(k(.stock_pps)) | \(k(.pspat_arbiter_pps)) | **\(f(.ratio_arbiter))** | \(k(.pspat_dispatcher_pps)) | **\(f(.ratio_dispatcher))** | \(k(.pfifo_fast_pps)) | \(k(.mq_fq_pps)) | \(k(.noqueue_pps)) |"),
"",
"## CPU per packet and kthread shares",
"",
"| driver | senders | config | pps | CPU ns/pkt (all CPUs) | arbiter CPU | dispatcher CPU | refused at enqueue |",
"| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
(.runs[] | select(.kind == "throughput") | "| \(.driver) | \(.threads) | \(.config) | \(k(.pps)) | \(f(.cpu_ns_per_pkt | if . then round else null end)) | \(pc(.arb_share)) | \(pc(.disp_share)) | \(if .driver == "pktgen" then pc(.refused_share) else f(.enobufs) end) |"),
"",
"## One sender: module parameters against the gap (each next to its stock run)",
"",
"mb8k: mailbox_entries=8192 (default 512); poll1000: idle_poll_us=1000 (default 50);",
"pin1: arbiter on CPU 1, the sender on CPU 0.",
"",
"| driver | scheduler | variant | stock | pspat | ratio | arbiter CPU | refused at enqueue | arbiter sleeps/s |",
"| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
(.tuning[] | "| \(.driver) | \(.scheduler) | \(.variant) | \(k(.stock_pps)) | \(k(.pps)) | **\(f(.ratio))** | \(pc(.arb_share)) | \(if .driver == "pktgen" then pc(.refused_share) else f(.enobufs) end) | \(f(.arb_sleeps_per_s)) |"),
"",
"## Per-packet costs (one pktgen sender on CPU 0, arbiter and dispatcher pinned to CPU 1)",
"",
"| quantity | ns/packet |", "| --- | ---: |",
(.cost | to_entries[] | "| \(.key) | \(f(.value)) |"),
"",
"## Scaling model: a model on constants, not a measurement (see docs/performance.md)",
"",
(if .model == null then "Not computed: no insn.json (make bench-insn) or no host hand-off measurement." else
 "Instructions per packet from make bench-insn (\(.model.insn_rev)), priced at \(.model.cycle_ns) ns per instruction (the cycle of this host,",
 "one instruction per cycle assumed) plus \(.model.atomic_ns) ns per LOCK op; lock hand-off between the two cores of this host",
 "h = \(.model.handoff_ns) ns (\(.model.handoff_lines) hot lines; both cores hammering: \(.model.contended_ns) ns per section).",
 "",
 "| scheduler | stock sender insns | of them serial | pspat sender insns | arbiter insns | " + ([.model.schedulers[0].predicted_mpps[].senders | "\(.) cores stock / pspat Mpps"] | join(" | ")) + " |",
 "| --- | ---: | ---: | ---: | ---: | " + ([.model.schedulers[0].predicted_mpps[] | "---:"] | join(" | ")) + " |",
 (.model.schedulers[] | "| \(.scheduler) | \(.insns.stock_sender) | \(.insns.stock_serial) | \(.insns.pspat_sender) | \(.insns.arbiter) | " + ([.predicted_mpps[] | "\(.stock) / \(.pspat)"] | join(" | ")) + " |") end),
"",
"## Latency under load (2 paced flows; ping RTT over the veth, us)",
"",
"| config | p50 | p90 | p99 | max | one-way p50 (blast) | one-way p99 (blast) |",
"| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
(.latency[] | "| \(.config) | \(.ping_rtt_us.p50) | \(.ping_rtt_us.p90) | \(.ping_rtt_us.p99) | \(.ping_rtt_us.max) | \(f(.sink.p50)) | \(f(.sink.p99)) |"),
"",
"## Idle cost (5 s without traffic after load)",
"",
"| config | arbiter CPU | dispatcher CPU | goal < 1% |", "| --- | ---: | ---: | --- |",
(.goals.idle_lt_1pct[] | "| \(.config) | \(pc(.arb_share)) | \(pc(.disp_share)) | \(ok(.met)) |"),
"",
"## Goals",
"",
"| goal | case | value (arbiter mode) | dispatcher mode | |", "| --- | --- | ---: | ---: | --- |",
(.goals.insn[] | "| \(.goal) | \(.case) | \(f(.value)) | - | \(ok(.met)) |"),
(.goals.one_sender_ge_0_9[] | "| 1 sender >= 0.9x | \(.driver) \(.scheduler) | \(f(.ratio_arbiter)) | \(f(.ratio_dispatcher)) | \(ok(.met)) |"),
(.goals.two_blast_senders_hfsc_drr_lo_ge_1[] | "| 2 blast senders, A/B lower bound >= 1.0 | \(.sched) (\(.pairs) pairs) | \(f(.lo)) (\(f(.geomean))) | - | \(ok(.met)) |"),
(.goals.multi_sender_hfsc_drr_ge_1[] | "| >= 2 senders >= 1.0x | \(.driver) \(.threads) \(.scheduler) | \(f(.ratio_arbiter)) | \(f(.ratio_dispatcher)) | \(ok(.met)) |"),
"",
"Plots: [throughput vs senders](throughput.png), [latency CDF](latency-cdf.png)."
' "$out/bench.json" >"$out/results.md"

# --- plots ----------------------------------------------------------------------
plot=$(mktemp -d)
trap 'rm -rf "$plot"' EXIT
for drv in pktgen blast; do
	jq -r --arg d "$drv" '[.runs[] | select(.kind == "throughput" and .driver == $d)] |
		group_by(.config)[] | "\(.[0].config) " + ([.[] | "\(.threads):\(.pps)"] | join(" "))' \
		"$out/bench.json" | while read -r cfg rest; do
		for p in $rest; do echo "${p%%:*} ${p#*:}"; done | sort -n >"$plot/$drv-$cfg.dat"
	done
done
jq -r '.latency[] | .config as $c | .cdf_us | to_entries[] | "\($c) \(.value) \(.key / 100)"' \
	"$out/bench.json" | while read -r c v p; do echo "$v $p" >>"$plot/lat-$c.dat"; done

series() { # DRV: gnuplot plot clauses, stock dashed, pspat solid
	local f c sep=""
	for c in pfifo_fast mq_fq pfifo hfsc drr fq pspat_pfifo_arbiter \
		pspat_hfsc_arbiter pspat_hfsc_dispatcher pspat_hfsc_arbiter_mb8k \
		pspat_drr_arbiter pspat_fq_arbiter; do
		f=$plot/$1-$c.dat
		[ -e "$f" ] || continue
		case "$c" in
		pspat_*) printf '%s"%s" using 1:($2/1000) with linespoints lw 2 title "%s"' "$sep" "$f" "$c" ;;
		*) printf '%s"%s" using 1:($2/1000) with linespoints dt 2 title "%s"' "$sep" "$f" "$c" ;;
		esac
		sep=", "
	done
}
[ -n "$(series pktgen)" ] && [ -n "$(series blast)" ] && gnuplot <<EOF
set terminal pngcairo noenhanced size 1400,560 font ",10"
set output "$out/throughput.png"
set multiplot layout 1,2 title "Throughput vs sender threads (QEMU TCG, 2 vCPUs; dashed: stock root qdisc, solid: pspat)"
set xlabel "sender threads"
set ylabel "kpackets/s delivered"
set key outside right top font ",8"
set grid
set xtics 1
set title "pktgen queue_xmit -> dummy"
plot [0.8:2.2] $(series pktgen)
set title "pspat-blast -> veth (4 = oversubscribed)"
plot [0.8:4.2] $(series blast)
unset multiplot
EOF
lats=""
for c in noqueue pfifo hfsc drr fq mq_fq pspat_pfifo_arbiter pspat_hfsc_arbiter \
	pspat_hfsc_dispatcher pspat_drr_arbiter pspat_fq_arbiter; do
	f=$plot/lat-$c.dat
	[ -e "$f" ] || continue
	case "$c" in pspat_*) st="lw 2" ;; *) st="dt 2" ;; esac
	lats+="${lats:+, }\"$f\" using 1:2 with lines $st title \"$c\""
done
[ -n "$lats" ] && gnuplot <<EOF
set terminal pngcairo noenhanced size 900,560 font ",10"
set output "$out/latency-cdf.png"
set title "ping RTT under 2 paced flows (QEMU TCG; dashed: stock, solid: pspat)"
set xlabel "RTT (us, log scale)"
set ylabel "fraction of samples"
set logscale x
set key bottom right font ",8"
set grid
plot [:] [0:1] $lats
EOF
echo "bench: results in $out (bench.json, results.md, throughput.png, latency-cdf.png)"
