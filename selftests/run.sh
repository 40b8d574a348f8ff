#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests (inside scripts/vm) and print one KTAP report:
#
#   selftests/run.sh [TEST_NAME_OR_FILE...]     default: every test_*.sh
#
# Each test's own KTAP output is nested (indented four spaces). After each
# test the kernel log is scanned (lib.sh dmesg_scan); any WARN, BUG, Oops,
# refcount, lockdep, KASAN... line fails that test. Ends with
# "# Totals: pass:P fail:F skip:S" and exits non-zero when F > 0.
# PSPAT_TEST_TIMEOUT (seconds, default 600) bounds each test; a test that
# needs longer says so in a line "# timeout: SECONDS" (the larger one wins).
#
# Each test starts from a clean guest and must leave one: before it, no
# project module (sch_pspat, pspat_*) is loaded and no netns exists, or it
# fails without running. After it, a module or netns it left fails it (and
# is removed), and so does a netns dismantle that does not finish: the
# kernel frees a deleted netns asynchronously, and a device whose
# reference leaked never goes, only "unregister_netdevice: waiting for"
# says so (after netdev_unregister_timeout_secs, set to 1 here). A netns
# deleted after the test's is dismantled after it (one ordered
# workqueue), so its veth's peer vanishing from this netns is the barrier.
#
# --strict (make check, which installs everything): a skipped test, or a
# skipped check in a passing one, fails unless the test names the reason
# in a line "# skip-ok: REASON" (a substring of the reason it prints);
# the skips it allows are listed at the end.
# PSPAT_KLOG=FILE: append the kernel log of every test's window to FILE
# (the console shows only errors, loglevel=4), for a scan of the whole run.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"
trap - EXIT

strict=
if [ "${1:-}" = --strict ]; then
	strict=1
	shift
fi

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		case "$t" in
		*/*) tests+=("$t") ;;
		test_*) tests+=("$dir/${t%.sh}.sh") ;;
		*) tests+=("$dir/test_${t%.sh}.sh") ;;
		esac
	done
else
	for t in "$dir"/test_*.sh; do tests+=("$t"); done
fi

# project_modules, netns_names: what is loaded and what exists now.
project_modules() { awk '$1 == "sch_pspat" || $1 ~ /^pspat_/ { print $1 }' /proc/modules; }
netns_names() { ip netns list | awk '{ print $1 }'; }

# leftovers: the project's modules and the netns, one per line.
leftovers() {
	project_modules | sed 's/^/module /'
	netns_names | sed 's/^/netns /'
}

# tidy: remove what leftovers found (netns first: they hold the modules).
tidy() {
	local ns m
	for ns in $(netns_names); do ip netns del "$ns"; done
	for m in $(project_modules); do wait_for 30 rmmod "$m" 2>/dev/null; done
}

# netns_settled: a netns deleted now is dismantled within 60 s (the debug
# kernel takes seconds for one).
netns_settled() {
	local ns=pspat-barrier-$$
	ip netns add "$ns" &&
		ip link add pspat-bar0 type veth peer name pspat-bar1 netns "$ns" || return 1
	ip netns del "$ns"
	wait_for 60 sh -c '! ip link show pspat-bar0 >/dev/null 2>&1'
}

# skips_allowed TEST OUTPUT: every SKIP reason in OUTPUT is allowed by a
# "# skip-ok:" line of TEST; print the allowed ones, or the first that is not.
skips_allowed() {
	local reason ok r found
	mapfile -t ok < <(sed -n 's/^# skip-ok: *//p' "$1")
	while read -r reason; do
		found=
		for r in "${ok[@]}"; do
			[ -n "$r" ] && [[ "$reason" == *"$r"* ]] && { found=1; break; }
		done
		[ -n "$found" ] || { echo "$reason"; return 1; }
		echo "$reason"
	done < <(sed -nE 's/^ *(ok [0-9]+ .*|1\.\.0) # SKIP *(.*)$/\2/p' "$2")
}

sysctl -qw net.core.netdev_unregister_timeout_secs=1 2>/dev/null ||
	echo "# no net.core.netdev_unregister_timeout_secs: leaked devices show after 10 s"
out=$(mktemp)
pass=0 fail=0 skip=0 n=0 allowed=()
echo "KTAP version 1"
echo "# kernel $(uname -r), $(nproc) CPUs${strict:+, strict skips}"
echo "1..${#tests[@]}"
for t in "${tests[@]}"; do
	n=$((n + 1))
	name=$(basename "$t" .sh)
	name=${name#test_}
	[ -n "${PSPAT_KLOG:-}" ] && { echo "=== before $name"; dmesg; } >>"$PSPAT_KLOG"
	dmesg -C
	# Kernel log time, to match a guest crash on the console to its test.
	echo "# $name: starts at uptime $(cut -d' ' -f1 /proc/uptime) s"
	start=$SECONDS
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "# $name: not run, the guest is not clean:"
		printf '%s\n' "$left" | sed 's/^/#   /'
		tidy
		fail=$((fail + 1)); echo "not ok $n $name"
		continue
	fi
	limit=${PSPAT_TEST_TIMEOUT:-600}
	own=$(sed -n 's/^# timeout: \([0-9][0-9]*\).*$/\1/p' "$t" | head -n1)
	[ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own
	timeout -k 10 "$limit" bash "$t" 2>&1 | tee "$out" | sed -u 's/^/    /'
	rc=${PIPESTATUS[0]}
	took=$((SECONDS - start))
	[ "$rc" = 124 ] && echo "# $name: timed out"
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "# $name: left behind (removed now):"
		printf '%s\n' "$left" | sed 's/^/#   /'
		tidy
		rc=$KSFT_FAIL
	fi
	if ! netns_settled; then
		echo "# $name: a deleted netns is not dismantled after 60 s (a leaked device reference?)"
		rc=$KSFT_FAIL
	fi
	sleep 0.2	# let late kernel messages land
	if bad=$(dmesg | dmesg_scan); then
		:
	else
		echo "# $name: kernel log is unhealthy:"
		printf '%s\n' "$bad" | head -n 40 | sed 's/^/# dmesg: /'
		rc=$KSFT_FAIL
	fi
	if [ -n "$strict" ] && { [ "$rc" = 0 ] || [ "$rc" = "$KSFT_SKIP" ]; }; then
		if why=$(skips_allowed "$t" "$out") && { [ "$rc" = 0 ] || [ -n "$why" ]; }; then
			while read -r r; do [ -n "$r" ] && allowed+=("$name: $r"); done <<<"$why"
		else
			echo "# $name: skipped (${why##*$'\n'}), and --strict fails a skip the test does not name in '# skip-ok:'"
			rc=$KSFT_FAIL
		fi
	fi
	case "$rc" in
	0) pass=$((pass + 1)); echo "ok $n $name" ;;
	"$KSFT_SKIP") skip=$((skip + 1)); echo "ok $n $name # SKIP" ;;
	*) fail=$((fail + 1)); echo "# $name: exit status $rc"; echo "not ok $n $name" ;;
	esac
	echo "# $name: ${took}s"
done
[ -n "${PSPAT_KLOG:-}" ] && { echo "=== end"; dmesg; } >>"$PSPAT_KLOG"
rm -f "$out"
for r in "${allowed[@]}"; do echo "# skipped as the test allows: $r"; done
echo "# Totals: pass:$pass fail:$fail skip:$skip"
[ $fail = 0 ]
