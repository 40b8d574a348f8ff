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
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/lib.sh"
trap - EXIT

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

pass=0 fail=0 skip=0 n=0
echo "KTAP version 1"
echo "# kernel $(uname -r), $(nproc) CPUs"
echo "1..${#tests[@]}"
for t in "${tests[@]}"; do
	n=$((n + 1))
	name=$(basename "$t" .sh)
	name=${name#test_}
	dmesg -C
	# Kernel log time, to match a guest crash on the console to its test.
	echo "# $name: starts at uptime $(cut -d' ' -f1 /proc/uptime) s"
	start=$SECONDS
	limit=${PSPAT_TEST_TIMEOUT:-600}
	own=$(sed -n 's/^# timeout: \([0-9][0-9]*\).*$/\1/p' "$t" | head -n1)
	[ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own
	timeout -k 10 "$limit" bash "$t" 2>&1 | sed -u 's/^/    /'
	rc=${PIPESTATUS[0]}
	took=$((SECONDS - start))
	sleep 0.2	# let late kernel messages land
	if bad=$(dmesg | dmesg_scan); then
		:
	else
		echo "# $name: kernel log is unhealthy:"
		printf '%s\n' "$bad" | head -n 40 | sed 's/^/# dmesg: /'
		rc=$KSFT_FAIL
	fi
	[ "$rc" = 124 ] && echo "# $name: timed out"
	case "$rc" in
	0) pass=$((pass + 1)); echo "ok $n $name" ;;
	"$KSFT_SKIP") skip=$((skip + 1)); echo "ok $n $name # SKIP" ;;
	*) fail=$((fail + 1)); echo "# $name: exit status $rc"; echo "not ok $n $name" ;;
	esac
	echo "# $name: ${took}s"
done
echo "# Totals: pass:$pass fail:$fail skip:$skip"
[ $fail = 0 ]
