# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Changing module parameters under traffic, for the *_switch_load
# selftests (sourced after lib.sh, with sch_pspat loaded): four
# pspat-blast threads at 2500 pps each through pspat on a veth, 16 changes
# 200 ms apart, traffic through pspat between every two, then exact
# counts (6 KTAP results).

# switch_load CHANGE ORDER: runs `CHANGE N` for N = 0..15 under traffic.
# ORDER "strict" fails on reordering; "count" only reports it (a change of
# the transmitting CPU reorders at veth, whose receive backlog is per CPU).
switch_load() {
	local change=$1 order=$2 switches sent prev now stalls=0
	pspat_veth
	make_tmp
	ktap_plan 6

	sink_and_blast 4 2500
	prev=$(qstat "$a" va 1: packets)
	for ((switches = 0; switches < 16; switches++)); do
		sleep 0.2
		# Packets pspat passed since the previous change.
		now=$(qstat "$a" va 1: packets)
		[ "$now" -gt "$prev" ] || stalls=$((stalls + 1))
		prev=$now
		"$change" $switches
	done
	kill -INT $blast
	wait $blast
	wait "$sink"
	sent=$(jq .total.sent "$tmp/blast.json")
	ktap_info "$switches changes; sent $sent; dispatcher packets $(pspat_stat dispatcher packets)"
	check_eq "traffic passed between every two changes (intervals without)" "$stalls" 0
	check "both modes carried traffic" test "$(pspat_stat dispatcher packets)" -gt 0
	check_eq "sent == received + socket drops + pspat drops" \
		"$(jq '.unique + .socket_drops' "$tmp/sink.json")" \
		$((sent - $(qstat "$a" va 1: drops)))
	check_eq "pspat dropped nothing" "$(qstat "$a" va 1: drops)" 0
	if [ "$order" = strict ]; then
		check_eq "no reordering, no duplicates" \
			"$(jq '.reordered + .duplicated' "$tmp/sink.json")" 0
	else
		ktap_info "reordered at the receiver: $(jq .reordered "$tmp/sink.json")"
		check_eq "no duplicates" "$(jq '.duplicated' "$tmp/sink.json")" 0
	fi
	check_eq "nothing left in pspat" "$(qstat "$a" va 1: qlen)" 0
	ktap_finish
}
