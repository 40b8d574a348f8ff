#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check-debug`: the selftests on the debug kernel (KASAN, lockdep,
# kmemleak, fault injection; scripts/debug-kernel.sh), then a kmemleak scan.
#   1. scripts/debug-kernel.sh (cached; the first build takes long, see
#      docs/debug-kernel.md)
#   2. sch_pspat.ko and the test modules for it (make KVER=debug module),
#      the userspace tools
#   3. in one `scripts/vm --kernel debug` guest: every selftests/test_*.sh
#      plus selftests/debug/test_*.sh (selftests/run.sh --strict, the usual
#      dmesg scan after each test), then kmemleak: scan, pause, scan, and fail if a
#      suspected leak mentions sch_pspat / pspat_ or has a frame in an
#      unloaded module (symbols of an unloaded module cannot be resolved;
#      the modules loaded and unloaded by the tests are the project's).
# Logs go to build/check-debug/. KTAP; the last line is
# "N passed, N failed, N skipped" like scripts/check.sh; the exit status is
# non-zero when anything failed.
#
# PSPAT_CHECK_DEBUG_TESTS="name ..." narrows the selftests (run.sh names or
# paths). PSPAT_CHECK_DEBUG_SKIP="name ..." lists tests not run, counted as
# skipped; by default the tests that assert shaping rates (child_*,
# tcp_hfsc: 20-40 Mbit/s and shares): the debug kernel under TCG cannot
# carry that much, so they would always fail there; and the packaging
# tests dkms and make_install, which run kbuild and depmod in the guest
# (tens of minutes on this kernel) to load the same module the other
# tests load. PSPAT_CHECK_DEBUG_SKIP=
# runs them too.
# PSPAT_CHECK_DEBUG_VM_TIMEOUT (default 1800, multiplied by
# scripts/vm's debug slowdown factor 4) bounds the guest.
#
# Usage: scripts/check-debug.sh          (host)
#        scripts/check-debug.sh --guest  (inside scripts/vm, step 3)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

# ---- inside the guest ----------------------------------------------------
if [ "${1:-}" = --guest ]; then
	[ "${PSPAT_IN_VM:-0}" = 1 ] || { echo "check-debug: --guest runs only inside scripts/vm" >&2; exit 2; }
	out=$(mktemp)
	if [ -n "${PSPAT_CHECK_DEBUG_TESTS:-}" ]; then
		read -ra tests <<<"$PSPAT_CHECK_DEBUG_TESTS"
	else
		tests=("$top"/selftests/test_*.sh "$top"/selftests/debug/test_*.sh)
	fi
	skip_list=" ${PSPAT_CHECK_DEBUG_SKIP-child_drr_quantum child_fq_fairness child_hfsc_shares child_tbf_rate tcp_hfsc dkms make_install} "
	run=() skipped=()
	for t in "${tests[@]}"; do
		n=$(basename "$t" .sh)
		n=${n#test_}
		case "$skip_list" in
		*" $n "*) skipped+=("$n") ;;
		*) run+=("$t") ;;
		esac
	done
	echo "KTAP version 1"
	echo "# check-debug on $(uname -r)"
	echo "1..2"
	PSPAT_TEST_TIMEOUT=${PSPAT_TEST_TIMEOUT:-2400} \
		"$top/selftests/run.sh" --strict "${run[@]}" 2>&1 | tee "$out" | sed -u 's/^/    /'
	line=$(grep -aE '^# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+' "$out" | tail -n1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/.*pass:([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*fail:([0-9]+).*/\1/' <<<"$line")
		s=$(sed -E 's/.*skip:([0-9]+).*/\1/' <<<"$line")
	else
		echo "# selftests/run.sh printed no totals"
		p=0 f=1 s=0
	fi
	if [ ${#skipped[@]} -gt 0 ]; then
		echo "# not run on the debug kernel (PSPAT_CHECK_DEBUG_SKIP), counted as skipped: ${skipped[*]}"
		s=$((s + ${#skipped[@]}))
	fi
	if [ "$f" = 0 ]; then echo "ok 1 selftests"; else echo "not ok 1 selftests"; fi

	km=/sys/kernel/debug/kmemleak
	if [ ! -e "$km" ]; then
		echo "# no $km: not the debug kernel?"
		echo "not ok 2 kmemleak_pspat"
		f=$((f + 1))
	else
		# A leaked object must be older than 5 s and found unreferenced.
		sleep 6
		echo scan >"$km"
		sleep 5
		echo scan >"$km"
		cat "$km" >"$out"
		awk '
		function flush() {
			if (blk == "") return
			n++
			if (blk ~ /sch_pspat|pspat_/) { pspat++; bad = bad blk }
			else if (blk ~ /\[<ffffffff[0-9a-f]+>\] 0x[0-9a-f]+/) { unres++; bad = bad blk }
			blk = ""
		}
		/^unreferenced object/ { flush() }
		{ if ($0 ~ /^unreferenced object/ || blk != "") blk = blk $0 "\n" }
		END {
			flush()
			printf "# kmemleak: %d suspected leaks, %d from sch_pspat, %d from an unloaded module\n", n, pspat, unres
			printf "%s", bad > "/dev/stderr"
			exit (pspat + unres > 0)
		}' "$out" 2>"$out.bad"
		krc=$?
		sed 's/^/# kmemleak: /' "$out.bad" | head -n 200
		if [ $krc = 0 ]; then
			echo "ok 2 kmemleak_pspat"
			p=$((p + 1))
		else
			echo "not ok 2 kmemleak_pspat"
			f=$((f + 1))
		fi
		rm -f "$out.bad"
	fi
	rm -f "$out"
	echo "# Totals: pass:$p fail:$f skip:$s"
	[ "$f" = 0 ]
	exit
fi

# ---- on the host ----------------------------------------------------------
logs=$top/build/check-debug
mkdir -p "$logs"
start=$SECONDS
step() { printf '\n# ===== %s (%ds) =====\n' "$*" $((SECONDS - start)); }
fail_early() {
	tail -n 40 "$1" | sed 's/^/# /'
	echo "# $2 FAILED"
	echo "# took $((SECONDS - start))s; logs in $logs"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

step "debug kernel"
"$top/scripts/debug-kernel.sh" >"$logs/debug-kernel.log" 2>&1 ||
	fail_early "$logs/debug-kernel.log" "make debug-kernel"
tail -n 1 "$logs/debug-kernel.log" | sed 's/^/# /'

step "kernel module for the debug kernel"
make -C "$top" --no-print-directory KVER=debug \
	${PSPAT_KMOD_DIR:+KMOD_DIR="$PSPAT_KMOD_DIR"} module >"$logs/build-module.log" 2>&1 ||
	fail_early "$logs/build-module.log" "module build"
echo "# built sch_pspat.ko for $(cat "$top/build/kernels/debug/release")"

step "userspace build (tools used by the selftests)"
make -C "$top" --no-print-directory user >"$logs/build-user.log" 2>&1 ||
	fail_early "$logs/build-user.log" "userspace build"

step "selftests and kmemleak on the debug kernel"
"$top/scripts/vm" --kernel debug --timeout "${PSPAT_CHECK_DEBUG_VM_TIMEOUT:-1800}" \
	-- "$top/scripts/check-debug.sh" --guest 2>&1 | tee "$logs/selftests-debug.log"
rc=${PIPESTATUS[0]}

step "summary"
line=$(grep -aE '^# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+' "$logs/selftests-debug.log" | tail -n1)
if [ -n "$line" ]; then
	p=$(sed -E 's/.*pass:([0-9]+).*/\1/' <<<"$line")
	f=$(sed -E 's/.*fail:([0-9]+).*/\1/' <<<"$line")
	s=$(sed -E 's/.*skip:([0-9]+).*/\1/' <<<"$line")
else
	p=0 f=1 s=0
fi
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
	echo "# the VM run ended with status $rc"
	f=1
fi
echo "# took $((SECONDS - start))s; logs in $logs"
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
