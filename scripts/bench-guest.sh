#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark, inside the VM (scripts/bench.sh boots it):
#
#   scripts/bench-guest.sh OUTDIR
#
# Every configuration runs side by side in this one boot, so that ratios
# pspat/stock compare like with like (TCG: absolute numbers mean little).
# Writes to OUTDIR: runs.jsonl (one JSON object per measurement), lat/*.txt
# (ping RTT samples, us, one a line) and guest.json (kernel, vCPUs, load).
#
# Environment: PSPAT_BENCH_QUICK=1 (short windows, fewer configurations),
# PSPAT_BENCH_SECS (measurement window, default 3; quick 1.5),
# PSPAT_BENCH_PARTS (default "ab cost throughput tuning latency idle"),
# PSPAT_BENCH_REPS (throughput repetitions, default 1; the report takes
# the median), PSPAT_BENCH_LAT_PPS (per-flow load of the latency runs, default 2000).
# Inside a window nothing is forked: counters are read with shell builtins.
# The guest prints raw counters; scripts/bench-report.sh derives the rest.
#
# Parts:
#   ab          stock against pspat in randomised, interleaved pairs (see
#               ab_run): throughput and host CPU per packet, paired ratios.
#   throughput  pktgen (queue_xmit, kthread per CPU) into a 2-queue dummy
#               device, 1 and 2 senders; pspat-blast (pinned threads) over a
#               2-queue veth to an address the peer silently drops, 1, 2, 4
#               senders. Configurations: noqueue, pfifo_fast, pfifo, hfsc,
#               drr, fq (root, under the root lock), mq + fq per txq, and
#               pspat with the pfifo/hfsc/drr/fq child in arbiter and
#               dispatcher mode.
#   latency     ping RTT (200 Hz) and pspat-sink one-way latency while two
#               paced pspat-blast flows load the veth.
#   cost        one pktgen sender pinned to CPU 0, the arbiter (and the
#               dispatcher) pinned to CPU 1: ns per packet of each thread.
#   tuning      1 sender, HFSC and pfifo: stock against pspat with larger
#               mailboxes, longer idle polling, a pinned arbiter.
#   idle        arbiter/dispatcher CPU over 5 s without traffic after load.
set -u
. "$(dirname "$0")/../selftests/lib.sh"
trap _run_cleanup EXIT

out=${1:?usage: bench-guest.sh OUTDIR}
mkdir -p "$out/lat"
runs=$out/runs.jsonl
: >"$runs"
quick=${PSPAT_BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	secs=${PSPAT_BENCH_SECS:-1.5}
else
	secs=${PSPAT_BENCH_SECS:-3}
fi
ncpu=$(nproc)
make_tmp
tools_to_tmp
log() { echo "bench: $*" >&2; }

# --- guest facts ----------------------------------------------------------
read -r load1 _ </proc/loadavg
printf '{"kernel":"%s","vcpus":%d,"guest_loadavg_start":%s,"quick":%s,"window_s":%s}\n' \
	"$(uname -r)" "$ncpu" "$load1" "$([ "$quick" = 1 ] && echo true || echo false)" \
	"$secs" >"$out/guest.json"

# --- counters, read with shell builtins -------------------------------------

# cpu_busy: busy jiffies of all CPUs (everything but idle and iowait).
cpu_busy() {
	local _c u n s i w irq sirq st
	read -r _c u n s i w irq sirq st _ </proc/stat
	R=$((u + n + s + irq + sirq + st))
}
clk_tck=$(getconf CLK_TCK)

# rt PID: the task's run time in ns (schedstat), 0 if there is no such task.
rt() {
	R=0
	[ -n "$1" ] && [ -r "/proc/$1/schedstat" ] && read -r R _ <"/proc/$1/schedstat"
	R=${R:-0}
}

# devpkts NSPID DEV tx|rx: packets counter of DEV in the netns of NSPID
# (/proc/PID/net/dev; "self" for this namespace).
devpkts() {
	local line name rest f
	R=0
	while IFS= read -r line; do
		name=${line%%:*}
		name=${name// /}
		[ "$name" = "$2" ] || continue
		rest=${line#*:}
		read -r -a f <<<"$rest"
		if [ "$3" = rx ]; then R=${f[1]}; else R=${f[9]}; fi
		return
	done <"/proc/$1/net/dev"
}

now() { R=${EPOCHREALTIME/./}; } # microseconds

# kpid NAME: pid of the kernel thread NAME (empty if none).
kpid() {
	local f c
	R=""
	for f in /proc/[0-9]*/comm; do
		read -r c <"$f" 2>/dev/null || continue
		if [ "$c" = "$1" ]; then
			R=${f#/proc/}
			R=${R%/comm}
			return
		fi
	done
}

# arbstat: sets ARB_PACKETS, ARB_SLEEPS, DISP_PACKETS from debugfs.
arbstat() {
	local w i
	ARB_PACKETS=0 ARB_SLEEPS=0 DISP_PACKETS=0 ARB_BUSY=0 DISP_BUSY=0 ARB_BUSY_PKTS=0
	[ -r /sys/kernel/debug/sch_pspat/stats ] || return 0
	while read -r -a w; do
		case "${w[0]:-}" in
		arbiter:)
			for ((i = 1; i < ${#w[@]} - 1; i++)); do
				case "${w[i]}" in
				packets) ARB_PACKETS=${w[i + 1]} ;;
				sleeps) ARB_SLEEPS=${w[i + 1]} ;;
				busy_ns) ARB_BUSY=${w[i + 1]} ;;
				busy_packets) ARB_BUSY_PKTS=${w[i + 1]} ;;
				esac
			done ;;
		dispatcher:)
			for ((i = 1; i < ${#w[@]} - 1; i++)); do
				case "${w[i]}" in
				packets) DISP_PACKETS=${w[i + 1]} ;;
				busy_ns) DISP_BUSY=${w[i + 1]} ;;
				esac
			done ;;
		esac
	done </sys/kernel/debug/sch_pspat/stats
}

# --- topology ---------------------------------------------------------------
modprobe pktgen || { echo "bench: no pktgen" >&2; exit 1; }
for m in sch_hfsc sch_drr sch_fq cls_u32 cls_matchall; do modprobe "$m"; done
defer pspat_unload

# Packets for pktgen: a 2-queue dummy device in this namespace, XPS maps
# CPU i to txq i (as a multiqueue NIC driver would).
ip link add pd0 numtxqueues 2 numrxqueues 2 type dummy || exit 1
defer ip link del pd0
ip link set pd0 txqueuelen 1000
ip addr add 198.18.200.1/24 dev pd0
ip link set pd0 up
echo 1 >/sys/class/net/pd0/queues/tx-0/xps_cpus
echo 2 >/sys/class/net/pd0/queues/tx-1/xps_cpus
pd_mac=$(cat /sys/class/net/pd0/address)

# Packets for pspat-blast: 2-queue veth from netns a to b; 198.18.0.3
# resolves to vb but is not b's address, so b drops it without replying.
ns_create a
ns_create b
ip link add va numtxqueues 2 numrxqueues 2 netns "$a" type veth \
	peer name vb numtxqueues 2 numrxqueues 2 netns "$b" || exit 1
ip -n "$a" addr add 198.18.0.1/24 dev va
ip -n "$b" addr add 198.18.0.2/24 dev vb
ip -n "$a" link set va txqueuelen 1000 up
ip -n "$b" link set vb up
maca=$(ip -n "$a" -j link show va | jq -r '.[0].address')
macb=$(ip -n "$b" -j link show vb | jq -r '.[0].address')
ip -n "$a" neigh replace 198.18.0.2 lladdr "$macb" dev va nud permanent
ip -n "$a" neigh replace 198.18.0.3 lladdr "$macb" dev va nud permanent
ip -n "$b" neigh replace 198.18.0.1 lladdr "$maca" dev vb nud permanent
ip netns exec "$a" sh -c 'echo 1 >/sys/class/net/va/queues/tx-0/xps_cpus;
	echo 2 >/sys/class/net/va/queues/tx-1/xps_cpus'
# A process living in each netns: its /proc/PID/net/dev shows that netns.
ip netns exec "$a" sleep 100000 &
pa=$!
defer kill $pa
ip netns exec "$b" sleep 100000 &
pb=$!
defer kill $pb

# --- qdisc configurations ------------------------------------------------
# Written as one tc batch file per configuration (one exec per setup).

# classes T P: HFSC or DRR classes and filters under handle P:, four
# leaves P:10..P:13 by UDP destination port 9000..9003, P:13 also takes
# everything else.
classes() {
	local t=$1 p=$2 i
	if [ "$t" = hfsc ]; then
		echo "class add dev $DEV parent $p: classid $p:1 hfsc ls m2 30gbit ul m2 30gbit"
		for i in 0 1 2 3; do
			echo "class add dev $DEV parent $p:1 classid $p:1$i hfsc ls m2 7gbit"
		done
	else
		for i in 0 1 2 3; do
			echo "class add dev $DEV parent $p: classid $p:1$i drr quantum 1514"
		done
	fi
	for i in 0 1 2 3; do
		echo "filter add dev $DEV parent $p: protocol ip prio 1 u32 match ip dport $((9000 + i)) 0xffff flowid $p:1$i"
	done
	echo "filter add dev $DEV parent $p: protocol all prio 2 matchall classid $p:13"
}

# child T P [PARENT]: qdisc T with handle P: (root, or at PARENT).
child() {
	local t=$1 p=$2 where=root
	[ $# -gt 2 ] && where="parent $3"
	case "$t" in
	pfifo) echo "qdisc replace dev $DEV $where handle $p: pfifo limit 1000" ;;
	pfifo_fast) echo "qdisc replace dev $DEV $where handle $p: pfifo_fast" ;;
	fq) echo "qdisc replace dev $DEV $where handle $p: fq limit 10000 flow_limit 1000" ;;
	hfsc) echo "qdisc replace dev $DEV $where handle $p: hfsc default 13"
		classes hfsc "$p" ;;
	drr) echo "qdisc replace dev $DEV $where handle $p: drr"
		classes drr "$p" ;;
	esac
}

# qsetup CONFIG: install CONFIG on $DEV (TC: the tc command for its netns).
qsetup() {
	local c=$1
	case "$c" in
	noqueue) echo "qdisc replace dev $DEV root noqueue" ;;
	mq_fq) echo "qdisc replace dev $DEV root handle 1: mq"
		child fq 11 1:1
		child fq 12 1:2 ;;
	pspat_*)
		local f
		IFS=_ read -r -a f <<<"$c"
		pspat_fresh "${f[2]}" "${f[@]:3}" || return 1
		echo "qdisc add dev $DEV root handle 1: pspat"
		child "${f[1]}" 10 1:1 ;;
	*) child "$c" 1 ;;
	esac >"$tmp/tc.batch"
	"${TC[@]}" -batch "$tmp/tc.batch" || { log "setup of $c failed"; qclear; return 1; }
}

# pspat_fresh MODE [VARIANT...]: reload the module (mailboxes are per task
# and outlive a qdisc: a fresh module gives every run new ones of the size
# asked) with xmit_mode MODE, pinning from PIN_ARGS, and per VARIANT:
#   mbNk     mailbox_entries=N*1024 (default 512)
#   pollN    idle_poll_us=N (default 50)
#   pin1     arbiter_cpu=1 dispatcher_cpu=1 (the senders start on CPU 0)
pspat_fresh() {
	local mode=$1 v args=()
	shift
	for v in "$@"; do
		case "$v" in
		mb*k) v=${v#mb}; args+=(mailbox_entries=$((${v%k} * 1024))) ;;
		poll*) args+=(idle_poll_us=${v#poll}) ;;
		pin1) args+=(arbiter_cpu=1 dispatcher_cpu=1) ;;
		*) log "unknown variant '$v'"; return 1 ;;
		esac
	done
	wait_for 30 pspat_unload_now || return 1
	insmod "$PSPAT_KO" xmit_mode="$mode" "${args[@]}" ${PIN_ARGS:-}
}
pspat_unload_now() { ! pspat_loaded || rmmod sch_pspat 2>/dev/null; }

qclear() { "${TC[@]}" qdisc del dev "$DEV" root 2>/dev/null || true; }

# Each stock scheduler is followed by its pspat runs, so that compared runs
# are close in time (the host's load drifts).
# pspat_CHILD_MODE[_VARIANT...]: see pspat_fresh.
configs=(noqueue pfifo_fast mq_fq
	pfifo pspat_pfifo_arbiter pspat_pfifo_dispatcher pspat_pfifo_arbiter_mb8k
	hfsc pspat_hfsc_arbiter pspat_hfsc_dispatcher pspat_hfsc_arbiter_mb8k
	drr pspat_drr_arbiter pspat_drr_dispatcher pspat_drr_arbiter_mb8k
	fq pspat_fq_arbiter pspat_fq_dispatcher)
latency=(noqueue pfifo hfsc drr fq mq_fq pspat_pfifo_arbiter pspat_hfsc_arbiter
	pspat_hfsc_dispatcher pspat_drr_arbiter pspat_fq_arbiter pspat_hfsc_arbiter_mb8k)
costs=(noqueue pfifo hfsc pspat_pfifo_arbiter pspat_pfifo_dispatcher
	pspat_hfsc_arbiter pspat_hfsc_dispatcher pspat_pfifo_arbiter_mb8k)
# One sender: which module parameter closes the gap to stock (the goal of
# >= 0.9x), each variant next to its stock run.
tuning=(hfsc pspat_hfsc_arbiter pspat_hfsc_arbiter_mb8k pspat_hfsc_arbiter_poll1000
	pspat_hfsc_arbiter_pin1 pspat_hfsc_arbiter_mb8k_poll1000
	pspat_hfsc_arbiter_mb8k_poll1000_pin1
	pfifo pspat_pfifo_arbiter pspat_pfifo_arbiter_mb8k pspat_pfifo_arbiter_poll1000
	pspat_pfifo_arbiter_mb8k_poll1000_pin1)
if [ "$quick" = 1 ]; then
	configs=(noqueue pfifo pspat_pfifo_arbiter hfsc pspat_hfsc_arbiter
		pspat_hfsc_dispatcher pspat_hfsc_arbiter_mb8k)
	latency=(noqueue hfsc pspat_hfsc_arbiter)
	costs=(noqueue pfifo pspat_pfifo_arbiter pspat_pfifo_dispatcher)
	tuning=(hfsc pspat_hfsc_arbiter pspat_hfsc_arbiter_mb8k_poll1000)
fi
reps=${PSPAT_BENCH_REPS:-1}

# --- one measured window ---------------------------------------------------

# host_cpu: the host CPU time of this guest's vCPU threads (HC_V, ns,
# summed) and of all of QEMU's threads (HC_ALL), asked over the serial
# line of `scripts/vm --hostcpu` (lib.sh host_cpu_read); 0 without it.
HC_ON=0
host_cpu_open && HC_ON=1
host_cpu() {
	local i
	HC_V=0 HC_ALL=0
	[ "$HC_ON" = 1 ] || return 0
	if ! host_cpu_read; then
		log "no answer from the host on $PSPAT_HOSTCPU_TTY: host CPU not measured"
		HC_ON=0
		return 0
	fi
	for ((i = 0; i < ${#HOST_CPU[@]} - 1; i++)); do HC_V=$((HC_V + HOST_CPU[i])); done
	HC_ALL=${HOST_CPU[${#HOST_CPU[@]} - 1]}
}

# sample: one set of counters into the array named $1:
#   t_us busy_jiffies delivered arb_ns disp_ns senders_ns attempts
#   arb_packets arb_sleeps disp_packets arb_busy_ns disp_busy_ns
#   host_vcpus_ns host_qemu_ns arb_busy_packets (the sections busy_ns timed)
# COUNT_PID/COUNT_DEV/COUNT_DIR: the delivered-packets counter; SENDERS:
# pids whose run time is the senders'; ARB/SND: kthread pids.
sample() {
	local -n S=$1
	local pid x=0 t b p a d
	host_cpu
	now; t=$R
	cpu_busy; b=$R
	devpkts "$COUNT_PID" "$COUNT_DEV" "$COUNT_DIR"; p=$R
	rt "$ARB"; a=$R
	rt "$SND"; d=$R
	for pid in $SENDERS; do rt "$pid"; x=$((x + R)); done
	attempts; arbstat
	S=("$t" "$b" "$p" "$a" "$d" "$x" "$R" "$ARB_PACKETS" "$ARB_SLEEPS" "$DISP_PACKETS" \
		"$ARB_BUSY" "$DISP_BUSY" "$HC_V" "$HC_ALL" "$ARB_BUSY_PKTS")
}

# window: sample, sleep $secs, sample: W0 and W1.
window() {
	kpid pspat-arb; ARB=$R
	kpid pspat-snd; SND=$R
	sample W0
	sleep "$secs"
	sample W1
}

# emit KIND CONFIG THREADS DRIVER [EXTRA]: one line of runs.jsonl with the
# two samples (EXTRA: more "key":value pairs).
emit() {
	local IFS=,
	# arb_found/disp_found: whether the kthread existed (its run time is
	# 0 when it does not, which must not read as an idle CPU).
	printf '{"kind":"%s","config":"%s","threads":%d,"driver":"%s","clk_tck":%d,"arb_found":%s,"disp_found":%s,"w0":[%s],"w1":[%s]%s}\n' \
		"$1" "$2" "$3" "$4" "$clk_tck" "$([ -n "$ARB" ] && echo true || echo false)" \
		"$([ -n "$SND" ] && echo true || echo false)" "${W0[*]}" "${W1[*]}" "${5:+,$5}" >>"$runs"
	local d=$((W1[2] - W0[2])) us=$((W1[0] - W0[0]))
	[ "$us" -gt 0 ] || { log "$1 $4 $2 t=$3: no window"; return; }
	log "$1 $4 $2 t=$3: $((d * 1000000 / us)) pps, arbiter $(((W1[3] - W0[3]) / us / 10))%, dispatcher $(((W1[4] - W0[4]) / us / 10))%"
}

# --- pktgen -------------------------------------------------------------------
PG=/proc/net/pktgen
pgset() { echo "$2" >"$PG/$1" || log "pktgen: '$2' -> $1 failed"; }

# pktgen_setup THREADS FIRST_CPU: one pkt_dev per sending kthread.
pktgen_setup() {
	local n=$1 cpu=$2 i d
	for ((i = 0; i < ncpu; i++)); do pgset "kpktgend_$i" rem_device_all; done
	PGDEVS=""
	SENDERS=""
	for ((i = 0; i < n; i++)); do
		d=pd0@$((cpu + i))
		PGDEVS+=" $d"
		pgset "kpktgend_$((cpu + i))" "add_device $d"
		pgset "$d" "count 0"
		pgset "$d" "clone_skb 0"
		pgset "$d" "pkt_size 60"
		pgset "$d" "delay 0"
		pgset "$d" "xmit_mode queue_xmit"
		pgset "$d" "dst 198.18.200.2"
		pgset "$d" "dst_mac 02:00:00:00:00:02"
		pgset "$d" "udp_dst_min 9000"
		pgset "$d" "udp_dst_max 9003"
		pgset "$d" "flag UDPDST_RND"
		kpid "kpktgend_$((cpu + i))"
		SENDERS+=" $R"
	done
}

# attempts: pktgen packets sent + refused so far, over $PGDEVS (R).
attempts() {
	local d w
	R=0
	for d in $PGDEVS; do
		[ -r "$PG/$d" ] || continue
		while read -r -a w; do
			[ "${w[0]:-}" = pkts-sofar: ] && R=$((R + w[1] + w[3]))
		done <"$PG/$d"
	done
}

# pktgen_run KIND CONFIG THREADS FIRST_CPU
pktgen_run() {
	local kind=$1 cfg=$2 n=$3 cpu=$4 pg
	DEV=pd0 TC=(tc)
	qsetup "$cfg" || return
	pktgen_setup "$n" "$cpu"
	COUNT_PID=self COUNT_DEV=pd0 COUNT_DIR=tx
	echo start >"$PG/pgctrl" &
	pg=$!
	sleep 0.5
	window
	echo stop >"$PG/pgctrl"
	wait "$pg"
	PGDEVS=""
	emit "$kind" "$cfg" "$n" pktgen
	qclear
}

# --- pspat-blast ---------------------------------------------------------------

# started PID: wait (up to 15 s) until the delivered counter moves.
started() {
	local p0 i
	devpkts "$COUNT_PID" "$COUNT_DEV" "$COUNT_DIR"; p0=$R
	for ((i = 0; i < 150; i++)); do
		sleep 0.1
		devpkts "$COUNT_PID" "$COUNT_DEV" "$COUNT_DIR"
		[ "$R" -gt $((p0 + 100)) ] && return 0
	done
	return 1
}

# blast_run CONFIG THREADS [KIND [EXTRA]]: senders measured once they run;
# unpaced, or BLAST_RATE packets/s per flow. EXTRA: more "key":value pairs
# for runs.jsonl.
blast_run() {
	local cfg=$1 n=$2 kind=${3:-throughput} extra=${4:-} bp rate=()
	DEV=va TC=(tc -n "$a")
	qsetup "$cfg" || return
	COUNT_PID=$pb COUNT_DEV=vb COUNT_DIR=rx
	[ -n "${BLAST_RATE:-}" ] && rate=(-r "$BLAST_RATE")
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9000 \
		--dport-per-thread -t "$n" --pin -d 60 "${rate[@]}" >"$tmp/blast.json" &
	bp=$!
	SENDERS="" PGDEVS=""
	W0=(0 0 0 0 0 0 0 0 0 0 0 0 0 0 0) W1=(0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
	if started; then
		local t
		for t in /proc/"$bp"/task/*; do SENDERS+=" ${t##*/}"; done
		sleep 0.3
		window
	fi
	kill -TERM "$bp"
	wait "$bp"
	emit "$kind" "$cfg" "$n" blast "$(jq -c '{sent: .total.sent, enobufs: .total.enobufs}' \
		"$tmp/blast.json" | sed 's/^{//; s/}$//')${extra:+,$extra}"
	qclear
}

# --- ab: randomised, interleaved pairs ---------------------------------------------
# PSPAT_BENCH_PAIRS pairs (default 10) of each case: the stock scheduler
# as root against pspat (arbiter mode) with it as child, pspat-blast over
# the veth. Cases, for pfifo, HFSC, DRR and fq: saturating senders (closed
# loop: a full socket buffer blocks the sender) with 1 and 2 threads, and
# 2 threads paced at PSPAT_BENCH_AB_PPS packets/s each (equal offered load:
# compare CPU per packet, the host's included). Each round runs every case
# once, in a random order, and in each pair a coin says which of the two
# runs first. RANDOM is seeded with PSPAT_BENCH_SEED (default 1), recorded.
ab_pairs=${PSPAT_BENCH_PAIRS:-10}
ab_pps=${PSPAT_BENCH_AB_PPS:-5000}
ab_secs=${PSPAT_BENCH_AB_SECS:-2}
ab_seed=${PSPAT_BENCH_SEED:-1}
ab_run() {
	local round c i j t sched mode n cfg cases=() order
	for sched in pfifo hfsc drr fq; do
		cases+=("$sched sat 1" "$sched sat 2" "$sched paced 2")
	done
	RANDOM=$ab_seed
	for ((round = 1; round <= ab_pairs; round++)); do
		for ((i = ${#cases[@]} - 1; i > 0; i--)); do
			j=$((RANDOM % (i + 1)))
			t=${cases[i]} cases[i]=${cases[j]} cases[j]=$t
		done
		for c in "${cases[@]}"; do
			read -r sched mode n <<<"$c"
			order=("$sched" "pspat_${sched}_arbiter")
			((RANDOM % 2)) && order=("${order[1]}" "${order[0]}")
			BLAST_RATE=""
			[ "$mode" = paced ] && BLAST_RATE=$ab_pps
			for cfg in "${order[@]}"; do
				secs=$ab_secs blast_run "$cfg" "$n" ab \
					"\"mode\":\"$mode\",\"pair\":$round,\"sched\":\"$sched\",\"first\":\"${order[0]}\",\"seed\":$ab_seed,\"rate_pps\":${BLAST_RATE:-0}"
			done
		done
	done
	BLAST_RATE=""
}

# --- latency ----------------------------------------------------------------------
lat_rate=${PSPAT_BENCH_LAT_PPS:-2000} # per flow, 2 flows
lat_run() {
	local cfg=$1 bp sp pings
	DEV=va TC=(tc -n "$a")
	qsetup "$cfg" || return
	pings=$(awk -v s="$secs" 'BEGIN { print int(s * 200) }')
	rm -f "$tmp/ready"
	ip netns exec "$b" "$PSPAT_SINK" --ports 9000-9001 --idle 0 -d 120 \
		--ready-file "$tmp/ready" >"$tmp/sink.json" &
	sp=$!
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 \
		--dport-per-thread -t 2 --pin -r "$lat_rate" -d 60 \
		--wait-ready "$tmp/ready" >"$tmp/blast.json" &
	bp=$!
	COUNT_PID=$pb COUNT_DEV=vb COUNT_DIR=rx
	started
	ip netns exec "$a" ping -n -i 0.005 -c "$pings" -W 1 198.18.0.2 |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' >"$out/lat/$cfg.txt"
	kill -TERM "$bp"
	wait "$bp"
	sleep 1
	kill -TERM "$sp"
	wait "$sp"
	printf '{"kind":"latency","config":"%s","pings":%d,"rate_pps":%d,"blast":%s,"sink":%s}\n' \
		"$cfg" "$pings" "$lat_rate" \
		"$(jq -c '{sent: .total.sent, pps: .total.pps}' "$tmp/blast.json")" \
		"$(jq -c '{received, lost, p50: ([.flows[].lat_us.p50] | max),
			p99: ([.flows[].lat_us.p99] | max)}' "$tmp/sink.json")" >>"$runs"
	log "latency $cfg: $(wc -l <"$out/lat/$cfg.txt") pings"
	qclear
}

# --- cost: sender CPU 0, arbiter (and dispatcher) on CPU 1 -----------------------------
cost_run() {
	PIN_ARGS="arbiter_cpu=1 dispatcher_cpu=1"
	pktgen_run cost "$1" 1 0
	PIN_ARGS=""
}

# --- idle ---------------------------------------------------------------------------
idle_run() {
	local mode=$1
	DEV=va TC=(tc -n "$a")
	qsetup "pspat_hfsc_$mode" || return
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9000 \
		--dport-per-thread -t 2 --pin -d 2 >/dev/null
	sleep 0.5
	COUNT_PID=$pb COUNT_DEV=vb COUNT_DIR=rx SENDERS="" PGDEVS=""
	local secs=5
	window
	emit idle "pspat_hfsc_$mode" 0 none
	qclear
}

# --- the run ----------------------------------------------------------------------------
start=$SECONDS
log "kernel $(uname -r), $ncpu vCPUs, window ${secs}s, quick=$quick"

parts=" ${PSPAT_BENCH_PARTS:-ab cost throughput tuning latency idle} "
[[ $parts == *" ab "* ]] && ab_run
if [[ $parts == *" cost "* ]]; then
	for cfg in "${costs[@]}"; do cost_run "$cfg"; done
fi
if [[ $parts == *" throughput "* ]]; then
	for ((rep = 1; rep <= reps; rep++)); do
		for n in 1 2; do
			for cfg in "${configs[@]}"; do pktgen_run throughput "$cfg" "$n" 0; done
		done
		for n in 1 2 4; do
			for cfg in "${configs[@]}"; do blast_run "$cfg" "$n"; done
		done
	done
fi
if [[ $parts == *" tuning "* ]]; then
	for ((rep = 1; rep <= reps; rep++)); do
		for cfg in "${tuning[@]}"; do pktgen_run tuning "$cfg" 1 0; done
		for cfg in "${tuning[@]}"; do blast_run "$cfg" 1 tuning; done
	done
fi
if [[ $parts == *" latency "* ]]; then
	for cfg in "${latency[@]}"; do lat_run "$cfg"; done
fi
if [[ $parts == *" idle "* ]]; then
	idle_run arbiter
	idle_run dispatcher
fi

log "done in $((SECONDS - start)) s"
printf '{"kind":"meta","guest_seconds":%d}\n' $((SECONDS - start)) >>"$runs"
dmesg | dmesg_scan >"$out/dmesg-bad.txt" || log "kernel log has warnings: see dmesg-bad.txt"
exit 0
