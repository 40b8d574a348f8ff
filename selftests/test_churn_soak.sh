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
# (cgroup v2 freezer), the counters settle, and one netlink dump of the
# live root must show
#     pushed + mailbox_full == sent + dropped + qlen
# i.e. enqueued == sent + dropped + backlog. A dump is not atomic (xstats,
# qlen, packets and drops are summed over the CPUs one after the other), so
# with senders running the two sides differ by what moved during the dump;
# frozen and settled they must be equal, exactly. Every other veth delete
# is done frozen, after the same check on the qdisc about to go (its final
# state). One violation fails the test, with its numbers.
# At the end: nothing left in pspat, every mailbox reclaimed (debugfs and
# xstats back to the baseline), kmalloc-4k/8k back within a margin, rmmod
# works; the runner's dmesg scan finds no warning.
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
# mkveth: create the veth pair (veth_pair in lib.sh, with fixed MACs) and
# attach pspat to va. rmveth: delete it (and the qdisc).
rmveth() { ip -n "$a" link del va; }
mkveth() {
	ip link add va netns "$a" address $maca type veth \
		peer name vb netns "$b" address $macb &&
	ip -n "$a" -batch - <<-EOF &&
	addr add 198.18.0.1/24 dev va
	link set va up
	EOF
	ip -n "$b" -batch - <<-EOF &&
	addr add 198.18.0.2/24 dev vb
	link set vb up
	neigh replace 198.18.0.1 lladdr $maca dev vb nud permanent
	EOF
	neighbours && tc -n "$a" qdisc add dev va root handle 1: pspat
}
mkveth || skip_all "cannot set up the veth pair with pspat"
ktap_plan 10

live0=$(pspat_stat mailboxes live)
created0=$(pspat_stat mailboxes created)
reclaimed0=$(pspat_stat mailboxes reclaimed)
slab0=$(slab_objs)
slabs0=$(awk '/^kmalloc-(4k|8k) / { printf "%s %s ", $1, $2 }' /proc/slabinfo)

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
# stale_drops xmit_drops" of va's root qdisc from one dump; nothing when it
# is not pspat. (No jq: exec is slow.)
snap() {
	local j k out=
	j=$(tc -n "$a" -s -j qdisc show dev va root 2>/dev/null) || return
	[[ $j == *'"kind":"pspat"'* ]] || return
	for k in pushed mailbox_full packets drops qlen backlog \
		child_drops stale_drops xmit_drops; do
		[[ $j =~ \"$k\":([0-9]+) ]] || return
		out+=" ${BASH_REMATCH[1]}"
	done
	echo "${out# }"
}

# settle_check LABEL: with the senders frozen, wait until two dumps in a
# row are equal, then check pushed + mailbox_full == sent + dropped + qlen
# (and no bytes in the backlog without packets). The result goes to
# $tmp/checks or $tmp/violations (the loops run in subshells).
settle_check() {
	local s1= s2 pushed full sent dropped qlen backlog
	local deadline=$((SECONDS + 20))
	s2=$(snap)
	while [ $SECONDS -lt $deadline ]; do
		nap 0.05
		s1=$s2 s2=$(snap)
		[ -n "$s2" ] && [ "$s1" = "$s2" ] && break
	done
	if [ -z "$s2" ] || [ "$s1" != "$s2" ]; then
		echo "$1: no pspat root, or its counters did not settle with the senders frozen: '$s1' then '$s2'" >>"$tmp/violations"
		return
	fi
	read -r pushed full sent dropped qlen backlog _ <<<"$s2"
	if [ $((pushed + full)) != $((sent + dropped + qlen)) ] ||
	   { [ "$qlen" = 0 ] && [ "$backlog" != 0 ]; }; then
		echo "$1: pushed $pushed + mailbox_full $full = $((pushed + full)) != sent $sent + dropped $dropped + qlen $qlen = $((sent + dropped + qlen)) (backlog ${backlog}b)" >>"$tmp/violations"
	else
		echo "$1 $s2" >>"$tmp/checks"
	fi
}

# --- the churn -------------------------------------------------------------

# Each loop runs until $tmp/stop exists and it went once through its
# whole cycle: every action happens however slow the machine is.

# child_loop: replace the child at 1:1 every 0.5 s.
child_loop() {
	local kinds=(pfifo hfsc fq pfifo fq hfsc) k i=0 n_pfifo=0 n_hfsc=0 n_fq=0 fail=0 t="tc -n $a"
	while [ ! -e "$tmp/stop" ] || [ $i -lt 7 ]; do
		k=${kinds[i++ % 6]}
		case $k in
		pfifo) $t qdisc replace dev va parent 1:1 handle 10: pfifo limit 200 &&
			n_pfifo=$((n_pfifo + 1)) ;;
		hfsc) $t qdisc replace dev va parent 1:1 handle 20: hfsc default 1 &&
			$t class add dev va parent 20: classid 20:1 hfsc sc rate 20mbit ul rate 20mbit &&
			n_hfsc=$((n_hfsc + 1)) ;;
		fq) $t qdisc replace dev va parent 1:1 handle 30: fq flow_limit 50 &&
			n_fq=$((n_fq + 1)) ;;
		esac 2>/dev/null || fail=$((fail + 1))
		nap 0.5
	done
	echo "pfifo $n_pfifo hfsc $n_hfsc fq $n_fq failed $fail" >"$tmp/child.count"
}

# mode_loop: module parameters and tc options, every 0.5 s.
mode_loop() {
	local modes=(arbiter dispatcher) tcmodes=(default arbiter dispatcher)
	local batches=(1 7 64 512) tcbatches=(default 1 32 256) held=(1 16 128 256)
	local i=0 params=0 pfail=0 changes=0 cfail=0
	while [ ! -e "$tmp/stop" ] || [ $i -lt 5 ]; do
		i=$((i + 1))
		if pspat_param xmit_mode ${modes[i % 2]} &&
		   pspat_param arb_batch ${batches[i % 4]} &&
		   pspat_param dispatch_batch ${batches[(i + 1) % 4]}; then
			params=$((params + 1))
		else
			pfail=$((pfail + 1))
		fi
		if [ $((i % 5)) = 0 ]; then
			tc -n "$a" qdisc change dev va root handle 1: pspat
		else
			tc -n "$a" qdisc change dev va root handle 1: pspat \
				xmit_mode ${tcmodes[i % 3]} batch ${tcbatches[i % 4]} \
				held_limit ${held[(i / 4) % 4]}
		fi 2>/dev/null && changes=$((changes + 1)) || cfail=$((cfail + 1))
		nap 0.5
	done
	echo "params $params params_failed $pfail tc_change $changes tc_change_failed $cfail" >"$tmp/mode.count"
}

# flap_loop: every second, in turn: va down/up, veth re-created under
# traffic, vb down/up, veth deleted frozen right after checking the
# qdisc's final counters, then re-created.
flap_loop() {
	local step=0 va=0 vb=0 live=0 frozen=0 fail=0 r
	while [ ! -e "$tmp/stop" ] || [ $step -lt 4 ]; do
		nap 1
		case $((step++ % 4)) in
		0) ip -n "$a" link set va down && nap 0.2 &&
			ip -n "$a" link set va up && neighbours && va=$((va + 1)) ;;
		1) # Under the lock only so that no check runs while va has
		   # no pspat root yet; the senders keep sending throughout.
		   lock
		   rmveth && mkveth && live=$((live + 1)); r=$?
		   unlock
		   [ $r = 0 ] ;;
		2) ip -n "$b" link set vb down && nap 0.2 &&
			ip -n "$b" link set vb up && vb=$((vb + 1)) ;;
		3) lock
		   if freeze "veth $((live + frozen))"; then
			settle_check "final state of qdisc $((live + frozen)) before its veth is deleted"
			rmveth
		   fi
		   thaw
		   mkveth && frozen=$((frozen + 1)); r=$?
		   unlock
		   [ $r = 0 ] ;;
		esac 2>/dev/null || fail=$((fail + 1))
	done
	echo "va_flaps $va vb_flaps $vb recreated_live $live recreated_frozen $frozen failed $fail" >"$tmp/flap.count"
}

: >"$tmp/checks"
: >"$tmp/violations"
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
ktap_info "checks: $(grep -c '^live' "$tmp/checks") live, $(grep -c '^final' "$tmp/checks") final states; sums over the final states and the end: $(grep -E '^(final|end)' "$tmp/checks" |
	awk '{ for (i = 0; i < 9; i++) s[i] += $(NF - 8 + i) }
	     END { printf "pushed %d mailbox_full %d sent %d dropped %d (child %d stale %d xmit %d)",
		   s[0], s[1], s[2], s[3], s[6], s[7], s[8] }')"

nlive=$(grep -c '^live' "$tmp/checks")
nfinal=$(grep -c '^final' "$tmp/checks")
check "senders ran: churn threads and blast sent packets" \
	test "$churn_sent" -gt 0 -a "$blast_sent" -gt 0
check "every kind of churn happened, module parameters always accepted" \
	awk '{ for (i = 2; i <= NF; i += 2) if ($(i - 1) !~ /fail/ && $i == 0) exit 1 }
	     / params_failed [1-9]/ { exit 1 }' "$tmp/child.count" "$tmp/mode.count" "$tmp/flap.count"
# no_violation REGEX: print the violations matching REGEX; fail if any.
no_violation() { ! grep -E "$1" "$tmp/violations"; }
check "every second: pushed + mailbox_full == sent + dropped + qlen ($nlive checks)" \
	eval "no_violation '^(live|t=)' && [ $nlive -gt 0 ]"
check "final state of each qdisc deleted frozen: the same ($nfinal qdiscs)" \
	eval "no_violation '^(final|veth)' && [ $nfinal -gt 0 ]"
check "end: the same, and nothing left in pspat" \
	eval "no_violation '^end' && grep '^end' '$tmp/checks' |
		awk '{ print } \$(NF - 4) != 0 || \$(NF - 3) != 0 { exit 1 } END { exit NR != 1 }'"

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
sleep 1	# RCU callbacks free the mailboxes
slab1=$(slab_objs)
ktap_info "kmalloc-4k/8k active objects: $slab0 before, $slab1 after ($slabs0-> $(awk '/^kmalloc-(4k|8k) / { printf "%s %s ", $1, $2 }' /proc/slabinfo))"
check_range "mailbox memory returned" $((slab1 - slab0)) -1000000 64
tc -n "$a" qdisc del dev va root
unload() { wait_for 30 rmmod sch_pspat 2>/dev/null || rmmod sch_pspat; }
check "rmmod once the qdisc is gone" unload
ktap_finish
