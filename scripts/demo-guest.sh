#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo, inside the VM (scripts/demo.sh boots it and plots the result):
# three tenants share a 30 Mbit/s link scheduled by HFSC under pspat, each
# with several sending threads that together want twice the link. Every
# second: what each tenant gets, against what it was promised. Then the
# average, and the counters that show that no packet was lost.
#
# Writes $PSPAT_DEMO_OUT (default build/demo): rates.tsv (one line per
# second and tenant, the seconds in which all senders were sending),
# summary.tsv, sink.json, blast-*.json.
# Exit status: 0, or 1 with "demo failed: ..." when a step did not work.
set -u
. "$(dirname "$0")/../selftests/lib.sh"
trap _run_cleanup EXIT

secs=${PSPAT_DEMO_SECONDS:-12}
out=${PSPAT_DEMO_OUT:-$PSPAT_TOP/build/demo}
link=30                      # Mbit/s
names=(gold silver bronze)
shares=(15 9 6)              # Mbit/s each, adding up to $link
threads=3                    # sender threads per tenant
pps=850                      # per thread: 850 x 1042 B x 8 = 7.1 Mbit/s
size=1000                    # UDP payload; 1042 B per frame with headers
hdr=42                       # Ethernet 14 + IPv4 20 + UDP 8
# Each sender's socket buffer holds about 450 of its packets (the kernel
# doubles the 512 KiB asked and charges ~2.3 KB a packet): tenants stay
# backlogged through the guest's stalls on a busy host, a mailbox (512
# entries) never overflows, and txqueuelen sizes the tenants' queues.
sndbuf=524288
sndpkts=450

bold='' off=''
[ "${PSPAT_DEMO_COLOR:-0}" = 1 ] && bold=$'\033[1m' off=$'\033[0m'
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
why() {
	local l
	for l; do
		if [ -n "$l" ]; then printf '   %s\n' "$l"; else echo; fi
	done
}
die() {
	printf '\n%sdemo failed: %s%s\n' "$bold" "$*" "$off" >&2
	exit 1
}
# run CMD...: show the command as a shell line, run it, stop the demo if it fails.
run() {
	echo "   # $*"
	"$@" || die "command failed: $*"
}

PSPAT_KO=${PSPAT_DEMO_KO:-${PSPAT_KO:-}}
[ -f "$PSPAT_KO" ] || die "no sch_pspat.ko for this kernel (PSPAT_KO='${PSPAT_KO:-}')"
need_tools
make_tmp || die "mktemp"
tools_to_tmp || die "cannot copy the traffic tools"
mkdir -p "$out" && rm -f "$out"/rates.tsv "$out"/summary.tsv "$out"/sink.json \
	"$out"/blast-*.json || die "cannot write to $out"
# With the tc plugin built, tc also prints pspat's own options and counters.
if [ -f "$PSPAT_TOP/build/tc-plugin/q_pspat.so" ]; then
	export TC_LIB_DIR=$PSPAT_TOP/build/tc-plugin
fi

printf '%sThe pspat demo%s on Linux %s, %s CPUs (QEMU guest).\n' \
	"$bold" "$off" "$(uname -r)" "$(nproc)"
why "Three tenants share one ${link} Mbit/s link. HFSC, a standard Linux scheduler," \
	"divides the link among them; pspat runs HFSC on one kernel thread so that" \
	"senders on many CPUs never fight over the scheduler's lock."

a=senders b=receiver
for ns in $a $b; do
	ip netns add $ns || die "ip netns add $ns"
	defer ip netns del $ns
	ip -n $ns link set lo up
	# IPv6 off: no router solicitations or DAD packets besides the demo's.
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
done
if [ -z "${PSPAT_DEMO_NIC:-}" ]; then
	say "1. A private network: two namespaces (like two hosts) joined by a virtual cable"
	why "Nothing leaves the VM: the 'senders' reach the 'receiver' over a veth pair."
	veth_pair $a $b || die "cannot create the veth pair"
	why "senders: va 198.18.0.1  ---- veth ---->  receiver: vb 198.18.0.2"
else
	say "1. A private network: two namespaces (like two hosts), each with a real NIC driver"
	why "QEMU emulates an Intel 82574L (driver e1000e) for the senders and an 82576" \
		"(igb) for the receiver, joined by a virtual hub; nothing leaves the VM."
	modprobe e1000e && modprobe igb || die "modprobe e1000e igb"
	for m in e1000e:$a:va igb:$b:vb; do
		IFS=: read -r drv ns name <<<"$m"
		wait_for 10 nic_find "$drv" >/dev/null || die "no $drv NIC (scripts/vm --nic e1000e,igb)"
		run ip link set "$(nic_find "$drv")" netns "$ns" name "$name"
		run ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$name.disable_ipv6=1"
	done
	run ip -n $a addr add 198.18.0.1/24 dev va
	run ip -n $b addr add 198.18.0.2/24 dev vb
	run ip -n $a link set va up
	run ip -n $b link set vb up
	run ip -n $a neigh replace 198.18.0.2 dev va nud permanent \
		lladdr "$(ip -n $b -j link show vb | jq -r '.[0].address')"
	run ip -n $b neigh replace 198.18.0.1 dev vb nud permanent \
		lladdr "$(ip -n $a -j link show va | jq -r '.[0].address')"
	nic_carrier $a va && nic_carrier $b vb || die "no carrier on va or vb"
	why "senders: va (e1000e) 198.18.0.1  ---- hub ---->  receiver: vb (igb) 198.18.0.2"
fi
why "The receiving side gets room for all packets the senders can have in flight:"
# A packet crossing the veth waits in the CPU's input queue
# (netdev_max_backlog, 1000 by default) for the receiver's softirq. After
# the guest stalls, HFSC catches up in one burst of up to all queued
# packets (about 9 x $sndpkts), which must not overflow it.
run sysctl -qw net.core.netdev_max_backlog=$((3 * threads * sndpkts * 2))

say "2. Load pspat and make it the root qdisc of va"
why "A qdisc is the packet scheduler of a network device; every packet sent on" \
	"va now goes into pspat, which queues it in the sending thread's mailbox."
run insmod "$PSPAT_KO"
defer pspat_unload
run tc -n $a qdisc add dev va root handle 1: pspat
# Deleted before the module is unloaded (a NIC outlives its namespace).
defer tc -n $a qdisc del dev va root

say "3. Put HFSC under pspat, one class per tenant"
why "pspat's class 1:1 holds the real scheduler. HFSC 10: gets a ${link} Mbit/s link" \
	"class; 'ls' is each tenant's share when the link is busy, 'ul' the cap;" \
	"a u32 filter puts each UDP destination port into its tenant's class." \
	"txqueuelen: each tenant's queue can hold all its senders' packets."
run ip -n $a link set va txqueuelen $((3 * threads * sndpkts))
run tc -n $a qdisc replace dev va parent 1:1 handle 10: hfsc default 30
run tc -n $a class add dev va parent 10: classid 10:1 hfsc ls m2 ${link}mbit ul m2 ${link}mbit
for i in 0 1 2; do
	run tc -n $a class add dev va parent 10:1 classid 10:$((i + 1))0 \
		hfsc ls m2 ${shares[i]}mbit ul m2 ${link}mbit
	run tc -n $a filter add dev va parent 10: protocol ip prio 1 u32 \
		match ip dport $((5001 + i)) 0xffff flowid 10:$((i + 1))0
done
echo
echo "   va root qdisc: pspat 1:"
echo "    +- class 1:1: hfsc 10:"
echo "       +- class 10:1  the link  ${link} Mbit/s"
for i in 0 1 2; do
	printf '          +- class 10:%d0  %-6s  %2d Mbit/s = %2d%%  (UDP port %d)\n' \
		$((i + 1)) "${names[i]}" "${shares[i]}" $((100 * shares[i] / link)) $((5001 + i))
done

demand=$(awk -v t=$threads -v p=$pps -v s=$((size + hdr)) 'BEGIN { printf "%.0f", t * p * s * 8 / 1e6 }')
say "4. Traffic for ${secs} s: ${threads} sender threads per tenant, each tenant asking for ${demand} Mbit/s"
why "$((3 * demand)) Mbit/s of demand for a ${link} Mbit/s link, so HFSC has to choose." \
	"The receiver counts what arrives from each tenant every second; Mbit/s" \
	"count whole frames ($size B of data + $hdr B of headers), as HFSC does."
# The senders set up, then all start when $tmp/go appears (below).
blasts=()
for i in 0 1 2; do
	ip netns exec $a "$PSPAT_BLAST" --dst 198.18.0.2 --dport $((5001 + i)) \
		--sport $((40000 + 100 * i)) --run-id 7 -t $threads -s $size \
		-r $pps -d "$secs" --sndbuf $sndbuf --wait-ready "$tmp/go" --wait-timeout 20 \
		>"$out/blast-${names[i]}.json" &
	blasts+=($!)
done
echo
echo "   Mbit/s received in each second, and (in brackets) the tenant's share of it:"
printf '   %8s' ""
printf '  %11s' "${names[@]}"
printf '  %5s\n' all
printf '   %8s' promised
for i in 0 1 2; do
	printf '  %5.1f (%2d%%)' "${shares[i]}" $((100 * shares[i] / link))
done
printf '  %5.1f\n' "$link"
# The receiver writes one JSON line per second (fd 3) with each flow's
# frames and bytes. The first line starts the senders (so that they start
# with a receiver's second); each later one, summed per tenant (port), is
# a table row, kept in $tmp/rows (time, length, each tenant's Mbit/s).
# Seconds without a packet and a last interval shorter than half a second
# are left out. One jq and one awk per line: mawk would buffer a
# pipe's input and delay the table.
row='{
	t = $1; dt = $2
	if (dt < 0.5) exit
	tot = 0
	for (i = 1; i <= 3; i++) {
		m[i] = ($(2 * i + 2) + hdr * $(2 * i + 1)) * 8 / dt / 1e6
		tot += m[i]
	}
	if (tot == 0) exit
	line = sprintf("   %8s", sprintf("%.0fs", t))
	for (i = 1; i <= 3; i++)
		line = line sprintf("  %5.1f (%2.0f%%)", m[i], tot ? 100 * m[i] / tot : 0)
	print line sprintf("  %5.1f", tot)
	printf "%.3f\t%.3f\t%.4f\t%.4f\t%.4f\n", t, dt, m[1], m[2], m[3] >>rows
}'
(
	ip netns exec $b "$PSPAT_SINK" --ports 5001-5003 -d $((secs + 10)) --idle 1 \
		--run-id 7 --interval 1000 --interval-file /dev/fd/3 \
		3>&1 >"$tmp/sink.json" | {
		read -r line && touch "$tmp/go"
		t0=$(jq .t <<<"$line")
		echo "$t0" >"$tmp/t0"
		while read -r line; do
			jq -r --argjson t0 "$t0" '. as $l | [.t - $t0, .dt] +
				([5001, 5002, 5003] | map(. as $p |
				[$l.flows[] | select(.dport == $p)] |
				[(map(.packets) | add // 0), (map(.bytes) | add // 0)])) |
				flatten | @tsv' <<<"$line" |
			awk -F'\t' -v hdr=$hdr -v rows="$tmp/rows" "$row"
		done
	}
	exit "${PIPESTATUS[0]}"
) &
sink=$!
for pid in "${blasts[@]}"; do
	wait "$pid" || die "a sender (pspat-blast) failed"
done
wait "$sink" || die "the receiver (pspat-sink) failed"
cp "$tmp/sink.json" "$out/sink.json"

# The seconds that count: those in which every sender thread was sending,
# from the last flow's first packet until the first flow to start had
# sent for $secs s, so that every tenant had packets waiting in HFSC.
read -r nflows from to < <(jq -r --argjson t0 "$(cat "$tmp/t0" 2>/dev/null || echo 0)" \
	--argjson secs "$secs" '[(.flows | length), ([.flows[].first_rx_s] | max // 0) - $t0,
	  ([.flows[].first_rx_s] | min // 0) - $t0 + $secs] | @tsv' "$out/sink.json")
[ "${nflows:-0}" -gt 0 ] || die "no traffic measured: the receiver got nothing"
[ "$nflows" = $((3 * threads)) ] ||
	die "only $nflows of the $((3 * threads)) sender threads reached the receiver"
{
	printf '# HFSC under pspat, %d Mbit/s link, %d sender threads per tenant, Linux %s: the seconds when all were sending\n' \
		$link $threads "$(uname -r)"
	printf '# time_s\ttenant\tmbit_s\tshare_pct\tconfigured_pct\n'
	awk -F'\t' -v from="$from" -v to="$to" -v names="${names[*]}" \
		-v shares="${shares[*]}" -v link=$link '
		BEGIN { split(names, n, " "); split(shares, c, " ") }
		$1 - $2 >= from - 0.001 && $1 <= to + 0.001 {
			tot = $3 + $4 + $5
			if (tot == 0) next
			for (i = 1; i <= 3; i++)
				printf "%.3f\t%s\t%.3f\t%.2f\t%.2f\n", $1, n[i], $(i + 2),
					100 * $(i + 2) / tot, 100 * c[i] / link
		}' "$tmp/rows"
} >"$out/rates.tsv"
counted=$(($(grep -vc '^#' "$out/rates.tsv") / 3))
[ "$counted" -ge 2 ] ||
	die "fewer than 2 seconds in which all senders were sending (is the machine very busy?)"
read -r first last < <(awk '!/^#/ { if (f == "") f = $1; l = $1 }
	END { printf "%.0f %.0f\n", f, l }' "$out/rates.tsv")

say "5. On average: configured against measured"
why "Over the $counted seconds from ${first}s to ${last}s, when all $((3 * threads)) sender threads were" \
	"sending (not the start, nor the end when the last packets drain);" \
	"error = measured share - configured share."
echo
awk -F'\t' -v names="${names[*]}" -v shares="${shares[*]}" -v link=$link \
	-v sum="$out/summary.tsv" '
	!/^#/ { bits[$2] += $3; total += $3; secs[$2]++ }
	END {
		split(names, n, " "); split(shares, c, " ")
		printf "   %-8s %-7s %-22s %-22s %s\n", "tenant", "class",
			"configured", "measured", "error"
		print "# tenant\tconfigured_mbit_s\tconfigured_pct\tmeasured_mbit_s\tmeasured_pct" >sum
		for (i = 1; i <= 3; i++) {
			avg = secs[n[i]] ? bits[n[i]] / secs[n[i]] : 0
			sh = total ? 100 * bits[n[i]] / total : 0
			printf "   %-8s 10:%d0   %4.1f Mbit/s  %4.1f%%    %4.1f Mbit/s  %4.1f%%    %+4.1f points\n",
				n[i], i, c[i], 100 * c[i] / link, avg, sh, sh - 100 * c[i] / link
			printf "%s\t%.1f\t%.2f\t%.3f\t%.2f\n", n[i], c[i], 100 * c[i] / link,
				avg, sh >sum
			if (!avg) starved = starved " " n[i]
		}
		if (starved != "") {
			print "   no traffic from:" starved
			exit 1
		}
	}' "$out/rates.tsv" || die "a tenant received nothing"

say "6. Nothing was lost"
why "Every packet the senders handed to the kernel went through pspat's mailboxes" \
	"and HFSC, was sent on va and arrived; the counters agree."
echo
echo "   # tc -n $a -s qdisc show dev va"
qdiscs=$(tc -n $a -s qdisc show dev va) || die "tc -s qdisc show"
printf '%s\n' "$qdiscs"
# pspat's counters: packets sent, dropped, still queued.
read -r q_sent q_drop q_back < <(awk '$1 == "qdisc" { f = ($2 == "pspat") }
	f && $1 == "Sent" { s = $4; d = $7; sub(",", "", d) }
	f && $1 == "backlog" { q = $3; sub("p$", "", q); print s, d, q; exit }' <<<"$qdiscs")
[ -n "${q_back:-}" ] || die "no counters for pspat in the output of tc"
echo
echo "   # tc -n $a -s class show dev va    (the tenants' classes, in short)"
classes=$(tc -n $a -s class show dev va) || die "tc -s class show"
printf '   %-7s %-8s %12s %8s %8s\n' class tenant "sent pkts" dropped queued
c_rows=$(awk -v names="${names[*]}" '
	BEGIN { split(names, n, " ") }
	$1 == "class" { c = $3; i = (c ~ /^10:[123]0$/) ? substr(c, 4, 1) : 0 }
	i && $1 == "Sent" { s[i] = $4; d[i] = $7; sub(",", "", d[i]) }
	i && $1 == "backlog" { q[i] = $3; sub("p$", "", q[i]) }
	END {
		for (i = 1; i <= 3; i++) {
			printf "   10:%d0   %-8s %12d %8d %8d\n", i, n[i], s[i], d[i], q[i]
			t += s[i]
		}
		print t
	}' <<<"$classes")
printf '%s\n' "${c_rows%$'\n'*}"
c_sent=${c_rows##*$'\n'}
read -r b_tried b_sent b_enobufs < <(jq -rs \
	'[(map(.total.attempts), map(.total.sent), map(.total.enobufs)) | add] | @tsv' \
	"$out"/blast-*.json)
read -r s_rx s_lost < <(jq -r '[.received, .lost] | @tsv' "$out/sink.json")
echo
printf '   %-44s %8s packets\n' "senders: handed to the kernel" "$b_sent" \
	"pspat 1: sent (dropped $q_drop, left queued $q_back)" "$q_sent" \
	"HFSC classes 10:10 + 10:20 + 10:30: sent" "$c_sent" \
	"receiver: got (lost $s_lost)" "$s_rx"
why "" "Where did the other half of the demand go? It was never sent: a sender" \
	"whose packets wait in the scheduler fills its socket buffer and send()" \
	"waits (back-pressure), so each sender slowed to its tenant's pace." \
	"Packets refused with ENOBUFS: $b_enobufs of $b_tried send attempts."
if [ -z "${TC_LIB_DIR:-}" ]; then
	echo
	echo "   # grep -E '^(arbiter|mailboxes)' /sys/kernel/debug/sch_pspat/stats"
	grep -E '^(arbiter|mailboxes)' /sys/kernel/debug/sch_pspat/stats | sed 's/^/   /'
fi
why "" "pspat's arbiter thread (pspat-arb) alone ran HFSC for all these packets;" \
	"each sender thread had its own mailbox, reclaimed when the thread exited."

[ "$q_drop" = "$b_enobufs" ] && [ "$q_back" = 0 ] && [ "$s_lost" = 0 ] &&
	[ "$b_sent" = "$q_sent" ] && [ "$q_sent" = "$c_sent" ] &&
	[ "$c_sent" = "$s_rx" ] || die "the counters above do not add up"
