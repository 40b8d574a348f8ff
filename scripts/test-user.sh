#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and run the userspace tests three ways: plain (build/user),
# ThreadSanitizer (build/user-tsan) and AddressSanitizer + UBSan
# (build/user-asan). Prints KTAP, one line per ctest test and flavour, and
# exits non-zero on any failure.
#
# PSPAT_USER_FLAVOURS restricts the flavours (default "plain tsan asan").
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
flavours=(${PSPAT_USER_FLAVOURS:-plain tsan asan})

declare -A dir=([plain]=user [tsan]=user-tsan [asan]=user-asan)
declare -A san=([plain]="" [tsan]=thread [asan]="address,undefined")

n=0 pass=0 fail=0 skip=0
results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "KTAP version 1"
for f in "${flavours[@]}"; do
	[ -n "${dir[$f]:-}" ] || { echo "test-user: unknown flavour '$f'" >&2; exit 2; }
	b=$top/build/${dir[$f]}
	echo "# userspace [$f]: building in $b"
	if ! cmake -S "$top" -B "$b" -DPSPAT_SANITIZER="${san[$f]}" >"$b.log" 2>&1 ||
	   ! cmake --build "$b" -j "$jobs" >>"$b.log" 2>&1; then
		sed 's/^/# /' "$b.log" | tail -n 40
		echo "not ok $((++n)) userspace [$f] build"
		fail=$((fail + 1))
		continue
	fi
	# TSan needs the real address-space layout of its runtime.
	export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
	(cd "$b" && ctest --output-on-failure --timeout 900) >"$b.ctest.log" 2>&1
	crc=$?
	lines=$n
	# "  3/14 Test  #3: Iffq.Wrap ...............   Passed    0.01 sec"
	while read -r name status; do
		n=$((n + 1))
		case "$status" in
		Passed) pass=$((pass + 1)); echo "ok $n [$f] $name" ;;
		Skipped|\*\*\*Skipped) skip=$((skip + 1)); echo "ok $n [$f] $name # SKIP" ;;
		*) fail=$((fail + 1)); echo "not ok $n [$f] $name # $status" ;;
		esac
	done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) \.*\**( |\*)*([A-Za-z*]+[A-Za-z *]*[a-zA-Z]).*sec$/\1 \3/p' "$b.ctest.log" |
		sed -E 's/ +\*+/ /; s/(Skipped|Passed|Failed|Timeout|Exception|SEGFAULT|Subprocess aborted|Not Run).*/\1/')
	if grep -q "tests failed\|Errors while running" "$b.ctest.log"; then
		grep -E "FAILED|Failure|ERROR|WARNING: ThreadSanitizer|AddressSanitizer|runtime error" "$b.ctest.log" |
			head -n 30 | sed 's/^/# /'
	fi
	# ctest's own verdict stands beside the lines read above: its exit
	# status, and its summary "N% tests passed, F tests failed out of T"
	# whose T must be the number of result lines ("Not Run", an
	# executable that is missing, is a failure: ctest counts it as one).
	summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$b.ctest.log" | tail -n1)
	echo "# userspace [$f]: ${summary:-no ctest summary}"
	total=$(sed -nE 's/.* out of ([0-9]+).*/\1/p' <<<"$summary")
	if [ -z "$summary" ] || [ "$crc" != 0 ] || [ "$total" != $((n - lines)) ]; then
		fail=$((fail + 1))
		echo "not ok $((++n)) userspace [$f] ctest (exit $crc, ${total:-no} tests in its summary, $((n - 1 - lines)) result lines)"
	fi
done
echo "1..$n"
echo "# Totals: pass:$pass fail:$fail skip:$skip"
[ $fail = 0 ]
