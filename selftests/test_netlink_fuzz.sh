#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Netlink fuzzing of the pspat qdisc (tools/pspat-nlfuzz.cpp): at least
# 10,000 random and mutated RTM_NEWQDISC messages (add, replace, change)
# plus deletes, class requests and dumps on a dummy device. The kernel must
# answer each as the fuzzer's oracle predicts (valid requests acked with the
# options dumped as asked, invalid ones refused; any refused message,
# random bytes included, must leave the qdisc unchanged),
# leak nothing (kmemleak, when the kernel has it), and the module must
# still pass traffic and unload afterwards. The dmesg scan of run.sh
# catches warnings. PSPAT_NLFUZZ_SEED and PSPAT_NLFUZZ_COUNT override the
# seed (1) and the message count (10000).
# The stock kernels have no kmemleak (make check-debug runs that check):
# skip-ok: this kernel has no kmemleak
. "$(dirname "$0")/lib.sh"
need_vm
fuzz=$PSPAT_USER_BIN/tools/pspat-nlfuzz
[ -x "$fuzz" ] || skip_all "pspat-nlfuzz not built (make user; needs libmnl-dev)"
pspat_load
make_tmp
cp "$fuzz" "$tmp/" && fuzz=$tmp/pspat-nlfuzz
seed=${PSPAT_NLFUZZ_SEED:-1}
count=${PSPAT_NLFUZZ_COUNT:-10000}
kmemleak=/sys/kernel/debug/kmemleak
ktap_plan 14

ns_create n
dummy_dev "$n" dz
[ -w $kmemleak ] && echo clear >$kmemleak

rc=0
ip netns exec "$n" "$fuzz" --dev dz -n "$count" --seed "$seed" \
	>"$tmp/fuzz.json" 2>"$tmp/fuzz.err" || rc=$?
ktap_info "seed $seed: $(jq -c '{newqdisc, sent, results, expected, raw_refused_checked, extack_messages, seconds}' "$tmp/fuzz.json" 2>/dev/null)"
if [ $rc = 0 ]; then
	ktap_pass "the kernel answered every message as predicted (seed $seed)"
else
	ktap_fail "the kernel answered every message as predicted (seed $seed)"
	echo "# pspat-nlfuzz exit $rc"
	sed 's/^/# /' "$tmp/fuzz.err"
	jq -r '.violation_samples[]? | "# violation: " + .' "$tmp/fuzz.json"
fi
check_range "sent at least $count RTM_NEWQDISC" "$(jq '.newqdisc // 0' "$tmp/fuzz.json")" "$count" 1e18
check_eq "the kernel takes pspat options (TCA_PSPAT_* dumped)" \
	"$(jq '.kernel_takes_options' "$tmp/fuzz.json")" true
# The oracle must have judged many messages both ways, or it tests nothing.
check_range "valid requests acked (> 1000)" "$(jq '.as_expected.valid // 0' "$tmp/fuzz.json")" 1001 1e18
check_range "invalid requests refused (> 1000)" "$(jq '.as_expected.invalid // 0' "$tmp/fuzz.json")" 1001 1e18
# A refused message of random bytes must leave the qdisc unchanged too.
check_range "refused random-bytes messages checked (> 0)" \
	"$(jq '.raw_refused_checked // 0' "$tmp/fuzz.json")" 1 1e18
check_range "out-of-range options refused with pspat's extack message" \
	"$(jq '[.extack_samples[] | select(.msg | startswith("pspat: ")) | .count] | add // 0' "$tmp/fuzz.json")" 1 1e18
check_eq "the fuzzer left no qdisc behind" "$(qkind "$n" dz root)" noqueue
ip -n "$n" link del dz

# kmemleak reports objects unreferenced for 5 s or more, after a scan.
if [ -w $kmemleak ]; then
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	cat $kmemleak >"$tmp/leaks"
	leaks=$(grep -c '^unreferenced object' "$tmp/leaks")
	ours=$(awk '/^unreferenced object/ { if (hit) n++; hit = 0 }
		/pspat|qdisc|sch_|tc_|tcf_|nla_|netlink/ { hit = 1 }
		END { if (hit) n++; print n + 0 }' "$tmp/leaks")
	[ "$leaks" -gt 0 ] && ktap_info "kmemleak: $leaks unreferenced objects in all"
	check_eq "kmemleak: no leak from the qdisc or netlink code" "$ours" 0
	[ "$ours" = 0 ] || head -n 60 "$tmp/leaks" | sed 's/^/# /'
else
	ktap_skip "kmemleak: no leak from the qdisc or netlink code" \
		"this kernel has no kmemleak (use --kernel debug)"
fi

# The module still works: ping and a counted UDP flow through a new root.
ns_create a
ns_create b
veth_pair "$a" "$b"
check "add a pspat root on a veth after the fuzzing" \
	tc -n "$a" qdisc add dev va root handle 1: pspat
out=$(ip netns exec "$a" ping -n -q -c 10 -i 0.05 -W 2 198.18.0.2)
check_eq "10 pings answered through pspat" \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")" 10
check_eq "pspat counted the 10 echo requests" "$(qstat "$a" va 1: packets)" 10
check "delete the pspat root" tc -n "$a" qdisc del dev va root
ip netns del "$a"
ip netns del "$b"
check "rmmod sch_pspat" wait_for 30 rmmod sch_pspat
ktap_finish
