#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the whole test suite, from a fresh Debian 12 machine.
#   1. scripts/deps.sh (idempotent; fast when everything is there)
#   2. sch_pspat.ko and the test modules for each kernel
#   3. the Debian packages (make deb, lintian), for the package selftest
#   4. userspace tests: plain, TSan, ASan+UBSan (scripts/test-user.sh)
#   5. every selftest in QEMU, once per kernel (selftests/run.sh --strict:
#      a skip fails unless the test allows its reason), and a scan of the
#      run's whole kernel log (build/check/kernel-K.log); the guest has an
#      e1000e, an igb and a virtio-net NIC on one QEMU hub (scripts/vm
#      --nic; PSPAT_CHECK_NIC changes the list) for the nic_* selftests,
#      and the host CPU channel (scripts/vm --hostcpu) for vm_hostcpu
#   6. the selftests that need the instruction counter (test_insn_*), in
#      one more 6.1 guest under scripts/insn-count (tools/qemu-insn,
#      built with the userspace tools; no kernel's list includes them)
# Logs go to build/check/. The last line is "N passed, N failed, N skipped"
# (totals); the exit status is non-zero when anything failed.
#
# PSPAT_CHECK_KERNELS (default "6.1 6.12 7.3", every kernel of `make deps`)
# runs any list of them, e.g. PSPAT_CHECK_KERNELS=7.3 make check; it and
# PSPAT_CHECK_SKIP_USER=1 narrow the run while developing; CI runs the
# default.
# PSPAT_CHECK_TESTS_<series> (PSPAT_CHECK_TESTS_6_1, _6_12, _7_3): the
# selftests to run on that kernel: names, "all" for every one, or "all
# -NAME..." for every one but those. The whole suite on three kernels
# takes 70 minutes here, over CI's 60-minute budget (two guests at once
# gain nothing: each runs at half speed on two cores), so by default:
#  - 6.1: all, the churn soak for 60 s (120 on the others; an exported
#    PSPAT_SOAK_SECONDS sets it for every kernel);
#  - 6.12: all but the runner's own tests (lib_runner, lib_dmesg_scan:
#    they test selftests/run.sh and lib.sh, not the kernel) and package
#    (DKMS in Debian 12 as on 6.1; the host builds for 6.12 with W=1, and
#    DKMS's compressed install runs on 7.3);
#  - 7.3: what differs there (packaging with DKMS in Debian 13, make
#    install, the thread-exit probe that compat.h picks per kernel,
#    auto-loading, drop reasons) and the data path's basics.
# Every one on every kernel: PSPAT_CHECK_TESTS_6_12=all
# PSPAT_CHECK_TESTS_7_3=all (README, Timing of make check).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
logs=$top/build/check
kernels=(${PSPAT_CHECK_KERNELS:-6.1 6.12 7.3})
# The guest's emulated NICs, on one QEMU hub, for the nic_* selftests.
nics=${PSPAT_CHECK_NIC:-e1000e,igb,virtio}
mkdir -p "$logs"
start=$SECONDS

# The defaults: see PSPAT_CHECK_TESTS_<series> above.
tests_6_12="all -lib_runner -lib_dmesg_scan -package"
tests_7_3="package make_install module_load default_qdisc drop_reason params_invalid
	qdisc_add_replace_del ping_veth udp_flow_veth xmit_modes forwarding
	backpressure wakeup order_tcp teardown_load exit_backoff thread_churn
	mailbox_handover mailbox_limit mailbox_full"

declare -A P F S
order=()
crashed=()

# totals NAME LOGFILE: take the last "# Totals: pass:P fail:F skip:S".
totals() {
	local line
	order+=("$1")
	line=$(grep -aE '^# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+' "$2" | tail -n1)
	if [ -z "$line" ]; then
		P[$1]=0 F[$1]=1 S[$1]=0
		return
	fi
	P[$1]=$(sed -E 's/.*pass:([0-9]+).*/\1/' <<<"$line")
	F[$1]=$(sed -E 's/.*fail:([0-9]+).*/\1/' <<<"$line")
	S[$1]=$(sed -E 's/.*skip:([0-9]+).*/\1/' <<<"$line")
}

# failed_step NAME: a step that could not produce results counts as a failure.
failed_step() { order+=("$1"); P[$1]=0 F[$1]=1 S[$1]=0; }

# scan_klog NAME KLOG: the whole kernel log of a run (run.sh saved each
# test's window): a message that came after its test's scan is still seen.
scan_klog() {
	local bad
	if ! bad=$(bash -c '. "$1/selftests/lib.sh"; trap - EXIT; dmesg_scan "$2"' _ "$top" "$2"); then
		echo "# the kernel log of the run ($1, $2) is unhealthy:"
		printf '%s\n' "$bad" | head -n 40 | sed 's/^/#   /'
		F[$1]=$((${F[$1]} + 1))
	elif ! grep -q '^=== end' "$2"; then
		echo "# the run ($1) saved no complete kernel log in $2"
		F[$1]=$((${F[$1]} + 1))
	fi
}

step() { printf '\n# ===== %s (%ds) =====\n' "$*" $((SECONDS - start)); }

step "dependencies"
if [ "$(id -u)" = 0 ]; then
	"$top/scripts/deps.sh" || { echo "# make deps failed"; failed_step deps; }
else
	echo "# not root: assuming 'make deps' was run"
fi

step "kernel modules"
built=()
for k in "${kernels[@]}"; do
	# Also the build `make install` makes (no test modules), for the
	# make_install selftest: kbuild is too slow to run in the guest.
	if make -C "$top" --no-print-directory -j"$(nproc)" KVER="$k" module >"$logs/build-$k.log" 2>&1 &&
	   make -C "$top" --no-print-directory -j"$(nproc)" KVER="$k" KMOD_DIR="$top/build/kmod-install" \
		PSPAT_TEST_MODULES=n module >>"$logs/build-$k.log" 2>&1; then
		echo "# built sch_pspat.ko for $k (W=1)"
		built+=("$k")
		# A warning fails the build step, the tests still run.
		if grep -E 'warning:' "$logs/build-$k.log" | sed 's/^/# /' | grep .; then
			echo "# build for $k has warnings"
			failed_step "warnings $k"
		fi
	else
		tail -n 30 "$logs/build-$k.log" | sed 's/^/# /'
		echo "# build for $k FAILED"
		failed_step "build $k"
	fi
done

step "userspace build (tools used by the selftests)"
make -C "$top" --no-print-directory user >"$logs/build-user.log" 2>&1 ||
	{ tail -n 30 "$logs/build-user.log" | sed 's/^/# /'; failed_step "build user"; }
make -C "$top" --no-print-directory tc-plugin >"$logs/build-tc-plugin.log" 2>&1 ||
	{ tail -n 30 "$logs/build-tc-plugin.log" | sed 's/^/# /'; failed_step "build tc-plugin"; }
make -C "$top" --no-print-directory insn-plugin >"$logs/build-insn-plugin.log" 2>&1 ||
	{ tail -n 30 "$logs/build-insn-plugin.log" | sed 's/^/# /'; failed_step "build insn-plugin"; }

# The Debian packages (lintian clean) for the package selftest, which
# installs them in the guest.
step "Debian packages (make deb)"
if make -C "$top" --no-print-directory deb >"$logs/build-deb.log" 2>&1; then
	grep -E '^deb: lintian clean|\.deb$' "$logs/build-deb.log" | sed 's/^/# /'
else
	tail -n 30 "$logs/build-deb.log" | sed 's/^/# /'
	failed_step "make deb"
fi

if [ "${PSPAT_CHECK_SKIP_USER:-0}" != 1 ]; then
	step "userspace tests"
	"$top/scripts/test-user.sh" 2>&1 | tee "$logs/user.log"
	totals userspace "$logs/user.log"
fi

for k in "${built[@]}"; do
	step "selftests on kernel $k"
	var=PSPAT_CHECK_TESTS_${k//./_} def=tests_${k//./_}
	sel=(${!var:-${!def:-all}})
	all=("$top"/selftests/test_*.sh)
	if [ "${sel[0]:-}" = all ]; then
		# "all -NAME...": every test but those.
		skip=" ${sel[*]:1} "
		for t in "${sel[@]:1}"; do
			[ -f "$top/selftests/test_${t#-}.sh" ] && [ "${t:0:1}" = - ] ||
				{ echo "# $var: '$t' is not -NAME of a selftest"; failed_step "tests $k"; }
		done
		sel=()
		for t in "${all[@]}"; do
			t=${t##*/test_} t=${t%.sh}
			# Under the counting plugin only: the "instruction counter" step.
			[[ "$t" == insn_* ]] && continue
			[[ "$skip" == *" -$t "* ]] || sel+=("$t")
		done
	fi
	echo "# kernel $k: ${#sel[@]} of ${#all[@]} selftests ($var=all runs every one but insn_*)"
	klog=$logs/kernel-$k.log
	: >"$klog"
	soak=120
	[ "$k" = 6.1 ] && soak=60
	# --hostcpu: the channel the benchmark uses (selftest vm_hostcpu).
	PSPAT_SOAK_SECONDS=${PSPAT_SOAK_SECONDS:-$soak} PSPAT_KLOG=$klog "$top/scripts/vm" --kernel "$k" --timeout "${PSPAT_CHECK_VM_TIMEOUT:-4200}" \
		--nic "$nics" --hostcpu -- "$top/selftests/run.sh" --strict "${sel[@]}" 2>&1 | tee "$logs/selftests-$k.log"
	rc=${PIPESTATUS[0]}
	totals "kernel $k" "$logs/selftests-$k.log"
	if [ "$rc" != 0 ] && [ "${F[kernel $k]}" = 0 ]; then
		echo "# the VM run on $k ended with status $rc"
		F[kernel $k]=1
	fi
	scan_klog "kernel $k" "$klog"
	[ "$rc" = 125 ] && crashed+=("$k")
done

# The selftests that need the instruction counter (test_insn_*): one more
# 6.1 guest, under the plugin (scripts/insn-count), where they may not
# skip (PSPAT_INSN_REQUIRED).
if [[ " ${built[*]} " == *" 6.1 "* ]] && [ -f "$top/build/qemu-insn/libqemu-insn.so" ]; then
	step "selftests under the instruction counter (kernel 6.1)"
	sel=()
	for t in "$top"/selftests/test_insn_*.sh; do
		t=${t##*/test_} sel+=("${t%.sh}")
	done
	klog=$logs/kernel-insn.log
	: >"$klog"
	PSPAT_INSN_REQUIRED=1 PSPAT_KLOG=$klog "$top/scripts/insn-count" --kernel 6.1 \
		--timeout 1200 --out "$logs/insn.json" --no-wrap -- \
		"$top/selftests/run.sh" --strict "${sel[@]}" 2>&1 >/dev/null | tee "$logs/selftests-insn.log"
	rc=${PIPESTATUS[0]}
	totals "insn counter" "$logs/selftests-insn.log"
	if [ "$rc" != 0 ] && [ "${F[insn counter]}" = 0 ]; then
		echo "# the VM run under the counter ended with status $rc"
		F[insn counter]=1
	fi
	scan_klog "insn counter" "$klog"
	[ "$rc" = 125 ] && crashed+=("insn")
else
	echo "# no 6.1 build or no build/qemu-insn/libqemu-insn.so: the insn_* selftests cannot run"
	failed_step "insn counter"
fi

# crash_excerpt LOG: the test that was running and the head of the oops,
# so that the end of the output (all a CI page may show) says what died.
crash_excerpt() {
	grep -a -E '^# [a-z0-9_]+: starts at uptime' "$1" | tail -n1
	grep -a -n -E '(BUG:|Oops|general protection|invalid opcode|int3|RIP:|Call Trace|Kernel panic|^\[ *[0-9.]+\] +(\? )?[a-z_0-9.]+\+0x)' "$1" |
		head -n 40 | cut -c1-160
}

step "summary"
for k in "${crashed[@]}"; do
	echo "# the guest on $k crashed; from $logs/selftests-$k.log:"
	crash_excerpt "$logs/selftests-$k.log" | sed 's/^/#   /'
done
tp=0 tf=0 ts=0
for name in "${order[@]}"; do
	printf '# %-14s pass:%s fail:%s skip:%s\n' "$name" "${P[$name]}" "${F[$name]}" "${S[$name]}"
	tp=$((tp + P[$name])) tf=$((tf + F[$name])) ts=$((ts + S[$name]))
done
echo "# took $((SECONDS - start))s; logs in $logs"
echo "$tp passed, $tf failed, $ts skipped"
[ $tf = 0 ]
