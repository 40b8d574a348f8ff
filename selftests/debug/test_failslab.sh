#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Allocation-failure injection (debug kernel only: CONFIG_FAILSLAB,
# CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS, kmemleak).
#
# (a) Mailbox creation fails for new sending threads: failslab and
#     fail_page_alloc at probability 100 with task-filter, only for the
#     sender (make-it-fail, inherited by its threads), only for atomic
#     allocations (ignore-gfp-wait: the sockets and skbs are GFP_KERNEL;
#     the mailbox is GFP_ATOMIC). Every packet must fall back to the CPU
#     mailbox (alloc_fail counted, no mailbox created) or be counted as a
#     drop: sent + dropped + backlog of pspat == what the sender sent, and
#     everything pspat sent arrives. Without injection, mailboxes are
#     created again.
# (b) `tc qdisc add ... pspat` with its Nth allocation failed, for every N
#     (/proc/thread-self/fail-nth, tools/pspat-failnth.cpp) until one
#     succeeds without reaching N: each failed add returns an error and
#     leaves no qdisc (the next add would get EEXIST), the module is then
#     idle (no qdisc, no arbiter), traffic still passes through a new pspat
#     qdisc, kmemleak finds nothing of sch_pspat, and the module unloads.
# The kernel log is scanned for WARN/KASAN/lockdep... by run.sh as usual.
. "$(dirname "$0")/../lib.sh"
need_vm
fi_dir=/sys/kernel/debug
[ -d $fi_dir/failslab ] && [ -d $fi_dir/fail_page_alloc ] &&
	[ -e /proc/self/fail-nth ] ||
	skip_all "needs a kernel with FAILSLAB, FAIL_PAGE_ALLOC and FAULT_INJECTION_DEBUG_FS (--kernel debug)"
need_tools
[ -x "$PSPAT_FAILNTH" ] ||
	skip_all "pspat-failnth not built (make user; needs libmnl-dev)"
make_tmp
tools_to_tmp
cp "$PSPAT_FAILNTH" "$tmp/" && PSPAT_FAILNTH=$tmp/pspat-failnth
pspat_load
ktap_plan 15

# fi_set ATTR VALUE: the same setting for failslab and fail_page_alloc.
fi_set() {
	echo "$2" >"$fi_dir/failslab/$1"
	echo "$2" >"$fi_dir/fail_page_alloc/$1"
}
fi_off() {
	fi_set probability 0
	fi_set task-filter N
	fi_set ignore-gfp-wait Y
	fi_set times 1
}
defer fi_off
fi_set verbose 1
fi_set space 0
fi_set interval 1
echo 0 >"$fi_dir/fail_page_alloc/min-order"
kmemleak=$fi_dir/kmemleak
[ -w "$kmemleak" ] && echo clear >"$kmemleak"

# --- (a) mailbox allocation fails for the sender's threads ---------------
veth_ns
tc -n "$a" qdisc add dev va root handle 1: pspat
silent_dst
# Fill the per-CPU route caches (GFP_ATOMIC dst allocations) outside the
# injection, so that only pspat's allocation is in the sender's way.
for c in $(seq 0 $(($(nproc) - 1))); do
	ip netns exec "$a" taskset -c "$c" ping -q -c 1 -W 0.2 198.18.0.3 >/dev/null 2>&1
done
threads=4 per=500
fail0=$(pspat_stat mailboxes alloc_fail)
created0=$(pspat_stat mailboxes created)
pk0=$(qstat "$a" va 1: packets) dr0=$(qstat "$a" va 1: drops)
rx0=$(link_stat "$b" vb rx packets)
fi_set ignore-gfp-wait Y
fi_set task-filter Y
fi_set times -1
fi_set probability 100
out=$( (echo 1 >/proc/self/make-it-fail &&
	exec ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 \
		-t $threads -n $per --cpus 0,1) ) || true
fi_set probability 0
ktap_info "under injection: $(jq -c .total <<<"$out" 2>/dev/null || echo "$out")"
sent=$(jq .total.sent <<<"$out") enobufs=$(jq .total.enobufs <<<"$out")
check_eq "sender: no error but ENOBUFS" "$(jq .total.errors <<<"$out")" 0
fails=$(($(pspat_stat mailboxes alloc_fail) - fail0))
ktap_info "alloc_fail +$fails, created +$(($(pspat_stat mailboxes created) - created0))"
check "mailbox allocation failed for the new threads" test "$fails" -ge $threads
check_eq "no mailbox created for them" \
	$(($(pspat_stat mailboxes created) - created0)) 0
pk=$(($(qstat "$a" va 1: packets) - pk0)) dr=$(($(qstat "$a" va 1: drops) - dr0))
bl=$(qstat "$a" va 1: qlen)
ktap_info "pspat: sent $pk dropped $dr backlog $bl; sender: sent $sent enobufs $enobufs"
check_eq "sent + dropped + backlog == sender's packets" $((pk + dr + bl)) \
	$((threads * per))
check_eq "dropped == sender's ENOBUFS" "$dr" "$enobufs"
wait_for 20 sh -c "[ \$(tc -n $a -s -j qdisc show dev va | jq '.[0].qlen') = 0 ]"
check_eq "everything pspat accepted arrived (CPU mailbox fallback)" \
	$(($(link_stat "$b" vb rx packets) - rx0)) "$sent"

created0=$(pspat_stat mailboxes created)
pk0=$(qstat "$a" va 1: packets) dr0=$(qstat "$a" va 1: drops)
out=$(ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.3 --dport 9 \
	-t $threads -n $per --cpus 0,1)
check_eq "without injection: one mailbox per new thread" \
	$(($(pspat_stat mailboxes created) - created0)) $threads
pk=$(($(qstat "$a" va 1: packets) - pk0)) dr=$(($(qstat "$a" va 1: drops) - dr0))
bl=$(qstat "$a" va 1: qlen)
check_eq "without injection: sent + dropped + backlog == sender's packets" \
	$((pk + dr + bl)) $((threads * per))
tc -n "$a" qdisc del dev va root

# --- (b) qdisc init with its Nth allocation failed, N = 1.. --------------
fi_set probability 0
fi_set task-filter N
fi_set ignore-gfp-wait N
echo N >"$fi_dir/fail_page_alloc/ignore-gfp-highmem"
fi_set times -1
maxn=${PSPAT_FAILNTH_MAX:-2000}
rc=0
ip netns exec "$a" "$PSPAT_FAILNTH" va 1 "$maxn" >"$tmp/sweep" || rc=$?
fi_off
echo Y >"$fi_dir/fail_page_alloc/ignore-gfp-highmem"
total=$(wc -l <"$tmp/sweep")
failed=$(awk '$4 != 0' "$tmp/sweep" | wc -l)
ktap_info "fail-nth sweep: $total attempts, $failed failed, exit $rc; errors and messages:"
awk '$4 != 0 { $1 = $2 = ""; $3 = "err"; print }' "$tmp/sweep" | sort | uniq -c |
	sed 's/^/#   /'
grep '^#' "$tmp/sweep" | sed 's/^/# /'
check_eq "sweep reached an add with no failure left (exit 0)" "$rc" 0
check_eq "every failed add was an injected failure" \
	"$(awk '$4 != 0 && $6 != 1' "$tmp/sweep" | wc -l)" 0
check_eq "no qdisc left: pspat idle" "$(pspat_stat arbiter qdiscs)" 0
check_eq "no live mailbox left" "$(pspat_stat mailboxes live)" 0
ktap_info "root qdisc of va now: $(qkind "$a" va root)"
check "pspat works after the sweep" sh -c "
	tc -n $a qdisc add dev va root handle 1: pspat &&
	ip netns exec $a ping -q -c 3 -i 0.2 -W 2 198.18.0.2 >/dev/null &&
	tc -n $a qdisc del dev va root"

# kmemleak: scan twice (objects must be older than 5 s and seen
# unreferenced), report what mentions the module (its symbols are only
# resolvable while it is loaded, so scan before the rmmod).
if [ -w "$kmemleak" ]; then
	sleep 6
	echo scan >"$kmemleak"; sleep 2; echo scan >"$kmemleak"
	cat "$kmemleak" >"$tmp/leaks"
	n=$(grep -c '^unreferenced object' "$tmp/leaks")
	ktap_info "kmemleak: $n suspected leaks in all"
	grep -B12 -A12 -E 'sch_pspat|pspat_' "$tmp/leaks" | head -n 80 | sed 's/^/# /'
	check_eq "kmemleak: nothing from sch_pspat" \
		"$(grep -cE 'sch_pspat|pspat_' "$tmp/leaks")" 0
else
	ktap_skip "kmemleak: nothing from sch_pspat" "no $kmemleak"
fi
check "the module unloads" wait_for 30 rmmod sch_pspat
ktap_finish
