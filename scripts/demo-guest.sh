#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the VM (scripts/demo.sh boots it): three tenants share a
# 30 Mbit/s link scheduled by HFSC under pspat, each with several sending
# threads that all want more than their share. Every second: what each
# tenant gets, against what it was promised.
set -u
. "$(dirname "$0")/../selftests/lib.sh"
trap _run_cleanup EXIT
tmp=$(mktemp -d)
defer rm -rf "$tmp"
secs=${PSPAT_DEMO_SECONDS:-12}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Two network namespaces joined by a veth pair (no real network)"
ns_create a
ns_create b
veth_pair "$a" "$b"
echo "senders in '$a' (198.18.0.1)  --veth-->  receiver in '$b' (198.18.0.2)"

say "2. Load sch_pspat and make it the root qdisc of the sending side"
insmod "$PSPAT_KO" && defer rmmod sch_pspat
run() { echo "# $*"; "$@"; }
run tc -n "$a" qdisc add dev va root handle 1: pspat

say "3. Graft an HFSC scheduler under pspat: a 30 Mbit/s link, three tenants"
run tc -n "$a" qdisc replace dev va parent 1:1 handle 10: hfsc default 30
run tc -n "$a" class add dev va parent 10: classid 10:1 hfsc ls m2 30mbit ul m2 30mbit
names=(gold silver bronze)
shares=(15 9 6)
for i in 0 1 2; do
	run tc -n "$a" class add dev va parent 10:1 classid 10:$((i + 1))0 \
		hfsc ls m2 ${shares[i]}mbit ul m2 30mbit
	run tc -n "$a" filter add dev va parent 10: protocol ip prio 1 u32 \
		match ip dport $((5001 + i)) 0xffff flowid 10:$((i + 1))0
done
echo "gold is promised 15 (50%), silver 9 (30%), bronze 6 (20%) of 30 Mbit/s."

say "4. Each tenant runs 3 sender threads asking for ~20 Mbit/s in all ($secs s)"
ip netns exec "$b" "$PSPAT_SINK" --ports 5001-5003 -d $((secs + 2)) \
	--interval 1000 --interval-file "$tmp/live" >"$tmp/sink.json" &
sink=$!
sleep 1
for i in 0 1 2; do
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport $((5001 + i)) \
		--sport $((40000 + 100 * i)) --run-id 7 -t 3 -s 1000 -r 850 -d "$secs" \
		>"$tmp/blast$i.json" &
done
printf '\n%6s %10s %10s %10s   %s\n' time gold silver bronze "(Mbit/s received; share of the total)"
touch "$tmp/live"
tail -n +1 -f "$tmp/live" | while read -r line; do
	jq -r '[.t, ([.flows[] | select(.dport == 5001) | .bps] | add // 0),
		([.flows[] | select(.dport == 5002) | .bps] | add // 0),
		([.flows[] | select(.dport == 5003) | .bps] | add // 0)] | @tsv' <<<"$line" |
	awk -F'\t' '{ t = $2 + $3 + $4; if (t == 0) t = 1
		printf "%5.0fs %5.1f (%2.0f%%) %5.1f (%2.0f%%) %5.1f (%2.0f%%)\n", $1,
			$2 / 1e6, 100 * $2 / t, $3 / 1e6, 100 * $3 / t, $4 / 1e6, 100 * $4 / t }'
done &
table=$!
wait "$sink"
kill $table 2>/dev/null
wait

say "5. Result over the whole run"
printf '%-7s %11s %11s %9s %9s\n' tenant "configured" "measured" "share" "promised"
total=$(jq '[.flows[].bps] | add' "$tmp/sink.json")
for i in 0 1 2; do
	bps=$(jq "[.flows[] | select(.dport == $((5001 + i))) | .bps] | add // 0" "$tmp/sink.json")
	awk -v n="${names[i]}" -v c="${shares[i]}" -v b="$bps" -v t="$total" 'BEGIN {
		printf "%-7s %6d Mbit %6.1f Mbit %8.1f%% %8.1f%%\n", n, c, b / 1e6, 100 * b / t, 100 * c / 30 }'
done

say "6. What pspat did"
grep -E '^(arbiter|dispatcher|mailboxes)' /sys/kernel/debug/sch_pspat/stats
tc -n "$a" -s qdisc show dev va | head -3
echo
echo "Clients pushed packets into per-thread mailboxes; the pspat-arb kthread"
echo "alone ran HFSC (under the root lock) and transmitted."
