#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end check of pspat-blast and pspat-sink between two network
# namespaces joined by a veth pair (198.18.0.1/30 <-> 198.18.0.2/30).
# Asserts the exact accounting invariants of docs/tools.md.
#
# Usage: netns_smoke.sh PSPAT_BLAST PSPAT_SINK
# Exit: 0 pass, 1 fail, 77 skipped (not root, no ip/tc/jq, no netns).
set -u

BLAST=$(realpath "${1:?usage: $0 PSPAT_BLAST PSPAT_SINK}")
SINK=$(realpath "${2:?usage: $0 PSPAT_BLAST PSPAT_SINK}")

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for t in ip tc jq; do
	command -v $t >/dev/null || skip "needs $t"
done

NA=pspat-tools-a-$$
NB=pspat-tools-b-$$
VA=ptA$$
VB=ptB$$
TMP=$(mktemp -d /tmp/pspat-tools-smoke.XXXXXX)
SINK_PID=

cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NA" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NB" || exit 1
ip link add "$VA" netns "$NA" type veth peer name "$VB" netns "$NB" || skip "no veth"
ip -n "$NA" addr add 198.18.0.1/30 dev "$VA"
ip -n "$NB" addr add 198.18.0.2/30 dev "$VB"
ip -n "$NA" link set "$VA" up
ip -n "$NB" link set "$VB" up
ip -n "$NA" link set lo up
ip -n "$NB" link set lo up
# Static neighbours: otherwise the first packets of a run wait in the ARP
# queue, which reorders them against packets sent after the resolution
# (from other CPUs) and may drop some (unres_qlen_bytes) silently.
MAC_A=$(ip -n "$NA" -j link show dev "$VA" | jq -r '.[0].address')
MAC_B=$(ip -n "$NB" -j link show dev "$VB" | jq -r '.[0].address')
ip -n "$NA" neigh replace 198.18.0.2 lladdr "$MAC_B" dev "$VA" nud permanent
ip -n "$NB" neigh replace 198.18.0.1 lladdr "$MAC_A" dev "$VB" nud permanent

FAILS=0
check() { # check NAME JQ-EXPR FILE...
	local name=$1 expr=$2
	shift 2
	if jq -e -s "$expr" "$@" >/dev/null; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		FAILS=$((FAILS + 1))
		for f in "$@"; do echo "  $f:"; jq -c . "$f" | head -c 3000; echo; done
	fi
}

# start_sink ARGS...: sink in NB, JSON to $TMP/sink.json, waits for ready
start_sink() {
	rm -f "$TMP/ready"
	ip netns exec "$NB" "$SINK" --ready-file "$TMP/ready" -d 60 "$@" >"$TMP/sink.json" &
	SINK_PID=$!
}
wait_sink() {
	wait "$SINK_PID"
	local rc=$?
	SINK_PID=
	return $rc
}
blast() {
	ip netns exec "$NA" "$BLAST" --dst 198.18.0.2 --wait-ready "$TMP/ready" "$@" >"$TMP/blast.json"
}

# JSON sums used by several checks ([0] = blast, [1] = sink)
BAL='.[0].total.sent == (.[1].flows | map(.unique) | add) + .[1].socket_drops'
SEQ='all(.[0].flows[]; .attempts == .sent + .enobufs + .errors and .last_seq + 1 == .attempts)'
SINKINV='all(.[1].flows[]; .received == .unique + .duplicated and .lost == .max_seq + 1 - .unique)'

echo "# 1: 4 flows, 20000 packets each, unpaced, pinned"
# pinned: an unpinned sender that migrates between CPUs can see its
# packets reordered by veth's per-CPU backlog queues
start_sink --port 9000 --idle 1
blast -t 4 --pin --dport 9000 -n 20000 || FAILS=$((FAILS + 1))
wait_sink || FAILS=$((FAILS + 1))
check "attempts == sent + enobufs + errors == last_seq + 1" "$SEQ" "$TMP/blast.json" "$TMP/sink.json"
check "no send failures without a qdisc" '.[0].total.sent == 80000' "$TMP/blast.json" "$TMP/sink.json"
check "sent == unique + socket_drops" "$BAL" "$TMP/blast.json" "$TMP/sink.json"
check "sink per-flow invariants" "$SINKINV" "$TMP/blast.json" "$TMP/sink.json"
check "4 flows, no dup/reorder/bad" '.[1] | (.flows | length) == 4 and .duplicated == 0 and .reordered == 0 and .bad == 0' \
	"$TMP/blast.json" "$TMP/sink.json"

echo "# 2: 4 flows x 1000 pps x 2 s"
start_sink --port 9000 --idle 1
blast -t 4 --dport 9000 -r 1000 -d 2 || FAILS=$((FAILS + 1))
wait_sink || FAILS=$((FAILS + 1))
check "each flow attempts exactly 2000" 'all(.[0].flows[]; .attempts == 2000)' "$TMP/blast.json" "$TMP/sink.json"
check "sent == unique + socket_drops" "$BAL" "$TMP/blast.json" "$TMP/sink.json"
check "sink rate within 5 % of 1000 pps" \
	'.[1].socket_drops > 0 or all(.[1].flows[]; .pps > 950 and .pps < 1050)' "$TMP/blast.json" "$TMP/sink.json"

echo "# 3: per-thread destination ports, --ports range, sendmmsg"
start_sink --ports 9100-9102 --idle 1
blast -t 3 --dport 9100 --dport-per-thread --batch 8 -n 5000 -s 200 || FAILS=$((FAILS + 1))
wait_sink || FAILS=$((FAILS + 1))
check "flow i lands on port 9100+i" 'all(.[1].flows[]; .dport == 9100 + .id) and (.[1].flows | length) == 3' \
	"$TMP/blast.json" "$TMP/sink.json"
check "sent == unique + socket_drops" "$BAL" "$TMP/blast.json" "$TMP/sink.json"
check "bytes == 200 * received" 'all(.[1].flows[]; .bytes == 200 * .received)' "$TMP/blast.json" "$TMP/sink.json"

echo "# 4: qdisc drops surface as ENOBUFS (tbf)"
ip netns exec "$NA" tc qdisc add dev "$VA" root tbf rate 1mbit burst 2k limit 3000
start_sink --port 9000 --idle 1
blast -t 2 --dport 9000 -n 5000 || FAILS=$((FAILS + 1))
wait_sink || FAILS=$((FAILS + 1))
ip netns exec "$NA" tc -s -j qdisc show dev "$VA" >"$TMP/tc.json"
check "enobufs > 0" '.[0].total.enobufs > 0' "$TMP/blast.json"
check "attempts == sent + enobufs + errors == last_seq + 1" "$SEQ" "$TMP/blast.json" "$TMP/sink.json"
check "enobufs == tbf drops" '.[0].total.enobufs == .[1][0].drops' "$TMP/blast.json" "$TMP/tc.json"
check "sent == unique + socket_drops" "$BAL" "$TMP/blast.json" "$TMP/sink.json"
ip netns exec "$NA" tc qdisc del dev "$VA" root

echo "# 5: foreign packets count as bad"
start_sink --port 9000 --idle 1 --run-id 7
for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
ip netns exec "$NA" bash -c 'echo x >/dev/udp/198.18.0.2/9000; head -c 64 /dev/zero >/dev/udp/198.18.0.2/9000'
blast --dport 9000 -n 10 --run-id 8 || FAILS=$((FAILS + 1))
blast --dport 9000 -n 5 --run-id 7 || FAILS=$((FAILS + 1))
wait_sink || FAILS=$((FAILS + 1))
check "bad = 1 short + 1 magic + 10 run" \
	'.[0] | .bad == 12 and .bad_detail.short == 1 and .bad_detail.magic == 1 and .bad_detail.run == 10 and .received == 5 and .run_id == 7' \
	"$TMP/sink.json"

if [ $FAILS -ne 0 ]; then
	echo "FAILED: $FAILS check(s)"
	exit 1
fi
echo "PASS"
