#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Churn soak: for PSPAT_SOAK_SECONDS (default 120), everything at once on a
# veth pair with pspat at the root of va:
#  - senders: pspat-churn runs back to back (threads that start, send 16
#    datagrams and exit, all the time: one mailbox each) and a long-running
#    paced pspat-blast (2 flows) whose catch-up bursts fill its mailboxes;
#  - child replacement at 1:1, pfifo -> hfsc -> fq -> pfifo -> fq -> hfsc
#    -> ... (every transition between the three);
#  - the xmit_mode, arb_batch and dispatch_batch module parameters, and
#    `tc qdisc change ... pspat [xmit_mode M batch N held_limit L]`;
#  - link down/up of va (admin: the qdisc is reset) and of vb (va loses its
#    carrier: deactivated), and veth delete + re-create with pspat attached
#    again, every other time under traffic.
# Every second (or as often as a slow guest manages) the senders are frozen
# (cgroup v2 freezer), the counters settle, and the live root must show
# pspat's own balance
#     pushed + mailbox_full == sent + dropped + qlen
# (enqueued == sent + dropped + backlog), and against counters pspat does
# not keep:
#  - qlen == 0 and backlog == 0: with the senders frozen nothing may stay
#    in pspat (an skb lost while still counted in qlen stays there);
#  - sent == vb's rx_packets + va's tx_dropped: the receiving veth counted
#    every packet pspat says it handed to va's driver (veth counts its peer
#    being down as tx_dropped; pspat counts the call as sent);
#  - the packets that reached va's qdisc layer, counted by a clsact egress
#    filter in front of the root, == pushed + mailbox_full, for a veth that
#    has not had a link flap yet (a flap deactivates the device and the core
#    drops what arrives meanwhile in noop_qdisc, before pspat: from then on
#    the filter may only count more, never fewer). Each veth is created
#    with vb up first and both qdiscs attached before va comes up, so no
#    packet reaches it before pspat does.
# A dump is not atomic (xstats, qlen, packets and drops are summed over the
# CPUs one after the other), so with senders running the two sides differ
# by what moved during the dump; frozen and settled they must be equal,
# exactly. Every other veth delete is done frozen, after the same checks on
# the qdisc about to go (its final state, before any flap: exact on every
# side). One violation fails the test, with its numbers.
# The control plane may fail only while va is being deleted and created
# again (a tc command finding no va or no pspat root): any other failure of
# a tc or ip command of the churn fails the test, with its message.
# At the end: nothing left in pspat, every mailbox reclaimed (debugfs and
# xstats back to the baseline), not one mailbox's memory missing (kmalloc-8k,
# see below), rmmod works; the runner's dmesg scan finds no warning.
# Longer: PSPAT_SOAK_SECONDS=N (and PSPAT_TEST_TIMEOUT above N + 120).
# PSPAT_SOAK_VERBOSE=1 prints every check's counters.
. "$(dirname "$0")/lib.sh"
need_vm
need_tools
secs=${PSPAT_SOAK_SECONDS:-120}
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || skip_all "PSPAT_SOAK_SECONDS='$secs' is not a number of seconds"
cg=/sys/fs/cgroup/pspat-soak-$$
[ -e /sys/fs/cgroup/cgroup.subtree_control ] || skip_all "no cgroup2 at /sys/fs/cgroup"
pspat_load
ns_create a
ns_create b
make_tmp
cp "$PSPAT_USER_BIN/tools/pspat-churn" "$tmp/" || skip_all "pspat-churn not built (make user)"
tools_to_tmp
# tc dlopen()s q_pspat.so on every pspat command: from tmpfs, not 9p.
mkdir "$tmp/tc" && cp "$TC_LIB_DIR/q_pspat.so" "$tmp/tc/" && export TC_LIB_DIR=$tmp/tc
mkdir "$cg" || skip_all "cannot create a cgroup"
[ -e "$cg/cgroup.freeze" ] || skip_all "no cgroup v2 freezer"
defer rmcg
maca=02:00:c6:12:00:01 macb=02:00:c6:12:00:02

# neighbours: static, and 198.18.0.3 silently dropped by b (silent_dst in
# lib.sh): va going down flushes them. One ip per netns: exec is slow.
neighbours() {
	ip -n "$a" -batch - <<-EOF
	neigh replace 198.18.0.2 lladdr $macb dev va nud permanent
	neigh replace 198.18.0.3 lladdr $macb dev va nud permanent
	EOF
}
# $tmp/inst: "N STATE" of the current veth pair, the N-th created: clean
# (no link flap yet), flapped, or gone (being deleted and created again).
# The checks and the control-plane loops read it (builtin read: no exec).
# mark STATE: set the current veth's state.
mark() { local n; read -r n _ <"$tmp/inst"; echo "$n $1" >"$tmp/inst"; }
# mkveth: create the veth pair (fixed MACs, addresses, static neighbours)
# with clsact (an egress counter in front of the root) and pspat attached
# before va comes up, and vb up before va: va is activated with its carrier
# in the same `ip link set up` and no packet passes before pspat counts it.
# rmveth: delete it (and the qdiscs).
rmveth() { mark gone; ip -n "$a" link del va; }
mkveth() {
	local n
	mark gone
	ip link add va netns "$a" address $maca type veth \
		peer name vb netns "$b" address $macb &&
	ip -n "$a" addr add 198.18.0.1/24 dev va &&
	tc -n "$a" -batch - <<-EOF &&
	qdisc add dev va root handle 1: pspat
	qdisc add dev va clsact
	filter add dev va egress matchall action gact pass
	EOF
	ip -n "$b" -batch - <<-EOF &&
	addr add 198.18.0.2/24 dev vb
	link set vb up
	neigh replace 198.18.0.1 lladdr $maca dev vb nud permanent
	EOF
	ip -n "$a" link set va up &&
	neighbours || return
	read -r n _ <"$tmp/inst"
	echo "$((n + 1)) clean" >"$tmp/inst"
}
echo "0 gone" >"$tmp/inst"
mkveth || skip_all "cannot set up the veth pair with pspat"
ktap_plan 12

live0=$(pspat_stat mailboxes live)
created0=$(pspat_stat mailboxes created)
reclaimed0=$(pspat_stat mailboxes reclaimed)
slab8_0=$(slab_objs kmalloc-8k) slab4_0=$(slab_objs kmalloc-4k)

# nap SECONDS: sleep without exec (a read timing out on a FIFO nobody
# writes): under TCG every exec costs a good part of a second of CPU.
mkfifo "$tmp/nap" && exec {napfd}<>"$tmp/nap"
nap() { read -r -t "$1" -u "$napfd" _ || :; }

# --- the sender cgroup ---------------------------------------------------

# in_cg CMD...: exec CMD inside the senders' cgroup (in a subshell: bg),
# niced: the guest's CPUs are slow (TCG) and the churn of the control
# plane and the checks must not starve behind the senders.
in_cg() { echo "$BASHPID" >"$cg/cgroup.procs" && exec nice -n 10 "$@"; }
freeze() {
	local i
	echo 1 >"$cg/cgroup.freeze"
	for ((i = 0; i < 500; i++)); do
		frozen && return 0
		nap 0.02
	done
	echo "$1: the senders did not freeze in 10 s" >>"$tmp/violations"
	return 1
}
frozen() {
	local k v
	while read -r k v; do
		[ "$k" = frozen ] && [ "$v" = 1 ] && return 0
	done <"$cg/cgroup.events"
	return 1
}
thaw() { echo 0 >"$cg/cgroup.freeze"; }
rmcg() {
	thaw
	echo 1 >"$cg/cgroup.kill"
	wait_for 10 sh -c "[ -z \"\$(cat $cg/cgroup.procs)\" ]"
	rmdir "$cg"
}

# Freezing is shared by the main loop and flap_loop: one at a time; the
# lock also keeps the checks away from a veth being re-created (no root:
# a slow guest takes seconds to set one up). The rest of the churn goes on
# during the checks: a change of the qdisc under a check only makes it
# wait until two dumps in a row agree.
lock() { exec {lockfd}>"$tmp/lock" && flock "$lockfd"; }
unlock() { exec {lockfd}>&-; }

# --- the invariant ---------------------------------------------------------

# snap: "pushed mailbox_full sent dropped qlen backlog child_drops
# stale_drops xmit_drops egress" of va's root qdisc and its clsact egress
# counter from one dump; nothing when the root is not pspat or there is no
# counter. (No jq: exec is slow.)
snap() {
	local j p c k out=
	j=$(tc -n "$a" -s -j qdisc show dev va 2>/dev/null) || return
	[[ $j == '[{"kind":"pspat"'* ]] || return	# the root comes first
	p=${j%%'"kind":"clsact"'*} c=${j#*'"kind":"clsact"'}
	[ "$c" != "$j" ] || return
	for k in pushed mailbox_full packets drops qlen backlog \
		child_drops stale_drops xmit_drops; do
		[[ $p =~ \"$k\":([0-9]+) ]] || return
		out+=" ${BASH_REMATCH[1]}"
	done
	[[ $c =~ \"packets\":([0-9]+) ]] || return
	echo "${out# } ${BASH_REMATCH[1]}"
}

# devstats: "vb_rx_packets va_tx_packets va_tx_dropped" of the veth pair.
devstats() {
	local ja jb
	ja=$(ip -n "$a" -s -j link show dev va 2>/dev/null) &&
	jb=$(ip -n "$b" -s -j link show dev vb 2>/dev/null) || return
	ja=${ja#*'"tx":'} jb=${jb#*'"rx":'}
	[[ $jb =~ \"packets\":([0-9]+) ]] || return
	local rx=${BASH_REMATCH[1]}
	[[ $ja =~ \"packets\":([0-9]+) ]] || return
	local tx=${BASH_REMATCH[1]}
	[[ $ja =~ \"dropped\":([0-9]+) ]] || return
	echo "$rx $tx ${BASH_REMATCH[1]}"
}

# settle_check LABEL: with the senders frozen, wait until two dumps in a
# row are equal and pspat is empty, read the veth's counters and dump once
# more (nothing may have moved meanwhile), then check the balances of the
# header. The result goes to $tmp/checks ("LABEL | snap | devstats | egress
# minus enqueued, exact or flapped") or $tmp/violations (the loops run in
# subshells).
settle_check() {
	local s1='' s2 s3='' st1='' st2='' dev='' pushed full sent dropped qlen backlog egress
	local rx tx txdrop d why='' deadline=$((SECONDS + 20))
	s2=$(snap)
	while [ $SECONDS -lt $deadline ]; do
		nap 0.05
		s1=$s2 s2=$(snap)
		[ -n "$s2" ] && [ "$s1" = "$s2" ] || continue
		read -r _ _ _ _ qlen backlog _ <<<"$s2"
		[ "$qlen" = 0 ] && [ "$backlog" = 0 ] || continue
		read -r st1 <"$tmp/inst"
		dev=$(devstats) || continue
		s3=$(snap)
		read -r st2 <"$tmp/inst"
		[ "$s3" = "$s2" ] && break
		s2=$s3 s3=
	done
	if [ -z "$s2" ] || [ "$s1" != "$s2" ]; then
		echo "$1: no pspat root, or its counters did not settle with the senders frozen: '$s1' then '$s2'" >>"$tmp/violations"
		return
	fi
	read -r pushed full sent dropped qlen backlog _ _ _ egress <<<"$s2"
	if [ "$qlen" != 0 ] || [ "$backlog" != 0 ]; then
		echo "$1: qlen $qlen backlog ${backlog}b stayed in pspat for 20 s with the senders frozen ($s2)" >>"$tmp/violations"
		return
	fi
	if [ "$s3" != "$s2" ]; then
		echo "$1: no settled dump around the veth's counters ('$s2' then '$s3', devstats '$dev')" >>"$tmp/violations"
		return
	fi
	read -r rx tx txdrop <<<"$dev"
	d=$((egress - pushed - full))
	[ $((pushed + full)) = $((sent + dropped + qlen)) ] ||
		why+="; pushed $pushed + mailbox_full $full = $((pushed + full)) != sent $sent + dropped $dropped + qlen $qlen = $((sent + dropped + qlen))"
	if [ "$st1" = "$st2" ] && [[ $st1 == *' clean' ]]; then
		[ $d = 0 ] || why+="; egress counter $egress != enqueued $((pushed + full)) on veth '$st1' before any flap"
		st1=exact
	else
		[ $d -ge 0 ] || why+="; egress counter $egress < enqueued $((pushed + full)) (veth '$st1' then '$st2')"
		st1=flapped
	fi
	# The core's drops in noop_qdisc count in va's tx_dropped since
	# Linux 6.? (6.12 does, 6.1 does not): va may count up to $d more.
	[ $((rx + txdrop - sent)) -ge 0 ] && [ $((rx + txdrop - sent)) -le $((d < 0 ? 0 : d)) ] ||
		why+="; pspat sent $sent, vb rx_packets $rx + va tx_dropped $txdrop = $((rx + txdrop)) (va tx_packets $tx): the veth must count sent + 0..$d (the core's drops before pspat)"
	if [ -n "$why" ]; then
		echo "$1${why}" >>"$tmp/violations"
	else
		echo "$1 | $s2 | $dev | $d $st1" >>"$tmp/checks"
	fi
}

# --- the churn -------------------------------------------------------------

# Each loop runs until $tmp/stop exists and it went once through its
# whole cycle: every action happens however slow the machine is.

# A command of the churn may fail only while va is being deleted and
# created again: cp_try NAME CMD... runs CMD and, when it fails with the
# current veth's state the same before and after and not "gone", appends
# its message to $tmp/cp_unexplained. The caller counts the failures.
cp_try() {
	local name=$1 st0 st1 err
	shift
	read -r st0 <"$tmp/inst"
	err=$("$@" 2>&1 >/dev/null) && return 0
	read -r st1 <"$tmp/inst"
	[ "$st0" = "$st1" ] && [[ $st0 != *' gone' ]] &&
		echo "$name (veth '$st0'): ${err//$'\n'/ }" >>"$tmp/cp_unexplained"
	return 1
}

# child_loop: replace the child at 1:1 every 0.5 s.
child_loop() {
	local kinds=(pfifo hfsc fq pfifo fq hfsc) k i=0 n_pfifo=0 n_hfsc=0 n_fq=0 fail=0 t="tc -n $a"
	while [ ! -e "$tmp/stop" ] || [ $i -lt 7 ]; do
		k=${kinds[i++ % 6]}
		case $k in
		pfifo) cp_try "replace by pfifo" $t qdisc replace dev va parent 1:1 handle 10: pfifo limit 200 &&
			n_pfifo=$((n_pfifo + 1)) ;;
		hfsc) cp_try "replace by hfsc" $t qdisc replace dev va parent 1:1 handle 20: hfsc default 1 &&
			cp_try "hfsc class" $t class add dev va parent 20: classid 20:1 hfsc sc rate 20mbit ul rate 20mbit &&
			n_hfsc=$((n_hfsc + 1)) ;;
		fq) cp_try "replace by fq" $t qdisc replace dev va parent 1:1 handle 30: fq flow_limit 50 &&
			n_fq=$((n_fq + 1)) ;;
		esac || fail=$((fail + 1))
		nap 0.5
	done
	echo "pfifo $n_pfifo hfsc $n_hfsc fq $n_fq failed $fail" >"$tmp/child.count"
}

# mode_loop: module parameters and tc options, every 0.5 s.
mode_loop() {
	local modes=(arbiter dispatcher) tcmodes=(default arbiter dispatcher)
	local batches=(1 7 64 512) tcbatches=(default 1 32 256) held=(1 16 128 256)
	local i=0 params=0 pfail=0 changes=0 cfail=0 opts
	while [ ! -e "$tmp/stop" ] || [ $i -lt 5 ]; do
		i=$((i + 1))
		if pspat_param xmit_mode ${modes[i % 2]} &&
		   pspat_param arb_batch ${batches[i % 4]} &&
		   pspat_param dispatch_batch ${batches[(i + 1) % 4]}; then
			params=$((params + 1))
		else
			pfail=$((pfail + 1))
		fi
		opts=()
		[ $((i % 5)) = 0 ] || opts=(xmit_mode ${tcmodes[i % 3]}
			batch ${tcbatches[i % 4]} held_limit ${held[(i / 4) % 4]})
		cp_try "tc qdisc change ${opts[*]}" \
			tc -n "$a" qdisc change dev va root handle 1: pspat "${opts[@]}" &&
			changes=$((changes + 1)) || cfail=$((cfail + 1))
		nap 0.5
	done
	echo "params $params params_failed $pfail tc_change $changes tc_change_failed $cfail" >"$tmp/mode.count"
}

# flap_loop: every second, in turn: va down/up, vb down/up, veth
# re-created under traffic, veth deleted frozen right after checking the
# qdisc's final counters, then re-created. So the veth created under
# traffic is deleted frozen before any flap (its final state is checked
# exactly on every side), and the one created frozen gets both flaps.
flap_loop() {
	local step=0 va=0 vb=0 live=0 frozen=0 fail=0 r
	while [ ! -e "$tmp/stop" ] || [ $step -lt 4 ]; do
		nap 1
		case $((step++ % 4)) in
		0) mark flapped
		   ip -n "$a" link set va down && nap 0.2 &&
			ip -n "$a" link set va up && neighbours && va=$((va + 1)) ;;
		1) mark flapped
		   ip -n "$b" link set vb down && nap 0.2 &&
			ip -n "$b" link set vb up && vb=$((vb + 1)) ;;
		2) # Under the lock only so that no check runs while va has
		   # no pspat root yet; the senders keep sending throughout.
		   lock
		   rmveth && mkveth && live=$((live + 1)); r=$?
		   unlock
		   [ $r = 0 ] ;;
		3) lock
		   if freeze "veth $((live + frozen))"; then
			settle_check "final state of qdisc $((live + frozen)) before its veth is deleted"
			rmveth
		   fi
		   thaw
		   mkveth && frozen=$((frozen + 1)); r=$?
		   unlock
		   [ $r = 0 ] ;;
		esac 2>>"$tmp/flap.err" || fail=$((fail + 1))
	done
	echo "va_flaps $va vb_flaps $vb recreated_live $live recreated_frozen $frozen failed $fail" >"$tmp/flap.count"
}

: >"$tmp/checks"
: >"$tmp/violations"
: >"$tmp/cp_unexplained"
: >"$tmp/flap.err"
bg churn in_cg ip netns exec "$a" bash "$SELFTESTS_DIR/soak/churn-loop.sh" \
	"$tmp/stop" "$tmp/churn.json" "$tmp/pspat-churn" --dst 198.18.0.3 \
	--dport 9 -T 32 -c 4 -n 16
bg blast in_cg ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 \
	-t 2 -r 1000 -d 0 --batch 32 --sndbuf 4194304 >"$tmp/blast.json"
# The churn starts once blast's flows are connected (a link going down
# would fail its connect()) and packets go through pspat.
flowing() { local s; s=$(snap) && [ "${s%% *}" -gt 1000 ]; }
wait_for 60 flowing || ktap_info "no traffic through pspat after 60 s: $(snap)"
bg child child_loop
bg mode mode_loop
bg flap flap_loop

start=$SECONDS
while [ $((SECONDS - start)) -lt "$secs" ]; do
	nap 1
	lock
	freeze "t=$((SECONDS - start))s" && settle_check "live qdisc at t=$((SECONDS - start))s"
	thaw
	unlock
	if [ $(((SECONDS - start) / 30)) != "${shown:-0}" ]; then
		shown=$(((SECONDS - start) / 30))
		mapfile -t checks <"$tmp/checks"
		mapfile -t violations <"$tmp/violations"
		ktap_info "t=$((SECONDS - start))s: ${#checks[@]} checks, ${#violations[@]} violations; last: ${checks[-1]:-}"
	fi
done

# Stop the churn, then the senders, and look at what is left.
touch "$tmp/stop"
wait "$child" "$mode" "$flap"
thaw
kill -TERM "$blast"
wait "$blast" "$churn"
[ "${PSPAT_SOAK_VERBOSE:-0}" = 1 ] && sed 's/^/check: /' "$tmp/checks" | while read -r l; do ktap_info "$l"; done
# Each step of flap_loop leaves a working pspat veth; unless one failed.
[ -n "$(snap)" ] || { rmveth; mkveth; } 2>/dev/null
settle_check "end"
ktap_info "child: $(<"$tmp/child.count")"
ktap_info "modes: $(<"$tmp/mode.count")"
ktap_info "links: $(<"$tmp/flap.count")"
churn_sum=$(jq -s -c '{runs: length, threads: (map(.threads) | add),
	sent: (map(.sent) | add), enobufs: (map(.enobufs) | add),
	errors: (map(.errors) | add), setup_errors: (map(.setup_errors) | add)}' "$tmp/churn.json")
blast_sum=$(jq -c .total "$tmp/blast.json")
ktap_info "churn: $churn_sum"
ktap_info "blast: $blast_sum"
[[ $churn_sum =~ \"sent\":([0-9]+) ]] && churn_sent=${BASH_REMATCH[1]} || churn_sent=0
[[ $blast_sum =~ \"sent\":([0-9]+) ]] && blast_sent=${BASH_REMATCH[1]} || blast_sent=0
# $tmp/checks: "LABEL | snap | devstats | egress-enqueued exact|flapped".
count_checks() { awk -F' [|] ' -v re="$1" -v m="$2" '$1 ~ re && $4 ~ m { n++ } END { print n + 0 }' "$tmp/checks"; }
nlive=$(count_checks '^live' .) nlive_exact=$(count_checks '^live' exact)
nfinal=$(count_checks '^final' .) nfinal_exact=$(count_checks '^final' exact)
ktap_info "checks: $nlive live ($nlive_exact before any flap of their veth), $nfinal final states ($nfinal_exact before any flap); sums over the final states and the end: $(
	awk -F' [|] ' '$1 ~ /^(final|end)/ { split($2, v, " "); for (i = 1; i <= 10; i++) s[i] += v[i]
		split($3, d, " "); rx += d[1]; drop += d[3] }
	     END { printf "pushed %d mailbox_full %d sent %d dropped %d (child %d stale %d xmit %d), egress %d; vb rx %d, va tx_dropped %d",
		   s[1], s[2], s[3], s[4], s[7], s[8], s[9], s[10], rx, drop }' "$tmp/checks");" \
	"most dropped in noop_qdisc by a flap: $(awk -F' [|] ' '{ split($4, x, " "); if (x[1] > m) m = x[1] } END { print m + 0 }' "$tmp/checks")"

check "senders ran: churn threads and blast sent packets" \
	test "$churn_sent" -gt 0 -a "$blast_sent" -gt 0
check "every kind of churn happened, module parameters always accepted, every link step worked" \
	eval "cat '$tmp/flap.err' >&2; awk '{ for (i = 2; i <= NF; i += 2) if (\$(i - 1) !~ /fail/ && \$i == 0) exit 1 }
	     / params_failed [1-9]/ || / failed [1-9]/ && /^va_flaps/ { exit 1 }' '$tmp/child.count' '$tmp/mode.count' '$tmp/flap.count'"
read -r _ _ _ _ _ _ _ child_fail <"$tmp/child.count"
read -r _ _ _ _ _ _ _ tc_fail <"$tmp/mode.count"
check "tc failed only while va was being created again ($child_fail child replacements, $tc_fail tc changes failed)" \
	eval "! grep . '$tmp/cp_unexplained'"
# no_violation REGEX: print the violations matching REGEX; fail if any.
no_violation() { ! grep -E "$1" "$tmp/violations"; }
check "every second: pspat's balance, pspat empty, every packet sent counted by the veth, egress == enqueued ($nlive checks, $nlive_exact exact on egress)" \
	eval "no_violation '^(live|t=)' && [ $nlive -gt 0 ] && [ $nlive_exact -gt 0 ]"
check "final state of each qdisc deleted frozen: the same, egress exact ($nfinal qdiscs)" \
	eval "no_violation '^(final|veth)' && [ $nfinal -gt 0 ] && [ $nfinal_exact = $nfinal ]"
check "end: the same, and nothing left in pspat" \
	eval "no_violation '^end' && [ \$(count_checks '^end' .) = 1 ]"

wait_for 20 sh -c "[ \$(awk '/^mailboxes:/ { print \$3 }' /sys/kernel/debug/sch_pspat/stats) -le $live0 ]"
created=$(($(pspat_stat mailboxes created) - created0))
reclaimed=$(($(pspat_stat mailboxes reclaimed) - reclaimed0))
ktap_info "mailboxes: $created created, $reclaimed reclaimed, $(pspat_stat mailboxes live) live ($live0 before), peak $(pspat_stat mailboxes peak)"
check_eq "no live mailbox left (debugfs)" "$(pspat_stat mailboxes live)" "$live0"
check_eq "every mailbox created during the soak reclaimed" "$reclaimed" "$created"
check_eq "xstats: mb_live and mb_created - mb_reclaimed back to the baseline" \
	"$(tc -n "$a" -s -j qdisc show dev va root | jq -r '.[0] | "\(.mb_live) \(.mb_created - .mb_reclaimed)"')" \
	"$live0 $((created0 - reclaimed0))"
# Same topology as at the baseline: a fresh pspat with its default child.
tc -n "$a" qdisc del dev va root
tc -n "$a" qdisc add dev va root handle 1: pspat
# A mailbox is one kmalloc object: with the default geometry (512 entries
# x 8 B, the FIFO's control lines and the header: about 4.5 KiB) one of
# kmalloc-8k, so a leaked mailbox is one kmalloc-8k object more. The
# baseline had the same veth, qdiscs and sockets, and fq's 8 KiB flow
# table went with the last fq child, so the count comes back to the
# baseline once RCU has freed the last mailboxes (polled for up to 20 s):
# exactly in 3 runs of 4 on 6.12; once 4 more, with no mailbox live or
# unreclaimed in debugfs, from an allocation elsewhere we could not name.
# Hence a margin of 4: 5 leaked mailboxes fail, of the 2,000-10,000 the
# soak creates. kmalloc-4k is only reported: netdevs and other things the
# churn re-creates live there, a few more or fewer at the end.
mb_slab_back() { [ "$(slab_objs kmalloc-8k)" -le "$slab8_0" ]; }
geom="$(pspat_param mailbox_entries) $(pspat_param mailbox_line_size)"
[ "$geom" = "512 128" ] && wait_for 20 mb_slab_back
slab8_1=$(slab_objs kmalloc-8k)
ktap_info "kmalloc-8k active objects: $slab8_0 before, $slab8_1 after (kmalloc-4k: $slab4_0 before, $(slab_objs kmalloc-4k) after)"
check_eq "the default mailbox geometry (entries line_size), whose mailboxes are kmalloc-8k objects" "$geom" "512 128"
check_range "mailbox memory returned: kmalloc-8k back to the baseline (+4 at most)" $((slab8_1 - slab8_0)) -1000000 4
tc -n "$a" qdisc del dev va root
unload() { wait_for 30 rmmod sch_pspat 2>/dev/null || rmmod sch_pspat; }
check "rmmod once the qdisc is gone" unload
ktap_finish
