#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make lint`: sparse (C=2) and checkpatch.pl --strict on the kernel code,
# groff -ww (and mandoc -T lint, if installed) on the man pages,
# clang-format on the C++ code. checkpatch comes from Debian's
# linux-source-6.1 (installed here when missing). Sparse runs on every
# kernel of `make deps` (6.1, 6.12, and 7.3 in its build root with the build
# root's sparse), or on KVER alone; its builds go to build/lint/kmod, not
# over the modules the selftests load.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${KVER:-}" ]; then
	kvers=("$KVER")
else
	kvers=()
	for k in 6.1 6.12 7.3; do
		[ -f "$top/build/kernels/$k/release" ] && kvers+=("$k")
	done
	[ ${#kvers[@]} -gt 0 ] || kvers=(6.1)
fi
lintdir=$top/build/lint
fail=0
mkdir -p "$lintdir"

need_pkg() {
	dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed && return
	[ "$(id -u)" = 0 ] || { echo "lint: install $1" >&2; exit 1; }
	apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

# checkpatch.pl and the data files it reads, from the 6.1 source tarball.
checkpatch=$lintdir/linux/scripts/checkpatch.pl
if [ ! -x "$checkpatch" ]; then
	need_pkg linux-source-6.1
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$lintdir" --strip-components=1 \
		--one-top-level=linux --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
need_pkg sparse

# Kernel C: kmod/ and the headers the kernel includes (not the userspace shim).
kfiles=$(cd "$top" && find kmod include -name '*.[ch]' ! -name '*_user.h' | sort)
# CAMELCASE: the kernel's own Qdisc types. USE_LOCKDEP: pspat_order.c asks
# whether anyone holds a socket's lock (spin_is_locked()) to decide what to
# track; it asserts nothing. Test modules (*_test/) may use KUnit-style
# CHECK() macros that return.
cp_args=(--no-tree --strict --quiet --show-types
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,CAMELCASE,USE_LOCKDEP)
echo "== checkpatch --strict"
(cd "$top" && "$checkpatch" "${cp_args[@]}" -f $(grep -vE '_test/|_trace\.h$|/compat\.h$' <<<"$kfiles")) || fail=1
# compat.h: the one place that compares kernel versions (an out-of-tree
# module has no "version it is merged into"), where no feature can tell.
(cd "$top" && "$checkpatch" "${cp_args[@]}" \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/compat.h) || fail=1
# Tracepoint headers: TRACE_EVENT's layout, as in include/trace/events/.
(cd "$top" && "$checkpatch" "${cp_args[@]}" \
	--ignore OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT -f $(grep '_trace\.h$' <<<"$kfiles")) || fail=1
(cd "$top" && "$checkpatch" "${cp_args[@]}" \
	--ignore MACRO_WITH_FLOW_CONTROL,MACRO_ARG_REUSE -f $(grep _test/ <<<"$kfiles")) || fail=1

for kver in "${kvers[@]}"; do
	echo "== sparse (C=2) on kernel $kver"
	out=$(make -C "$top" --no-print-directory KVER="$kver" KMOD_DIR="$lintdir/kmod" \
		module C=2 CHECK=sparse 2>&1)
	rc=$?
	warn=$(grep -E '(warning|error):' <<<"$out" | grep -v 'Skipping BTF')
	if [ -n "$warn" ] || [ $rc != 0 ]; then
		echo "${warn:-$(tail -n 20 <<<"$out")}"
		fail=1
	fi
done

echo "== man pages (groff -ww)"
# Any warning groff prints fails, as in the kernel build. mandoc's lint is
# stricter (dates, macro use) and runs where mandoc is installed.
need_pkg groff-base
for f in $(cd "$top" && git ls-files 'man/*.[1-8]'); do
	out=$(groff -man -ww -z "$top/$f" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	fi
	if command -v mandoc >/dev/null; then
		mandoc -T lint -W warning "$top/$f" || fail=1
	fi
done

echo "== clang-format"
# Userspace C++ and its headers (not the kernel C: kmod/, iffq.h, the uapi).
cxx=$(cd "$top" && git ls-files '*.cpp' '*.hpp' '*.cc' '*.h' |
	grep -vE '^(kmod/|include/pspat/(iffq|pspat_uapi)\.h$|tc-plugin/.*\.c$)' || true)
for f in $cxx; do
	if ! clang-format --dry-run --Werror --style=file "$top/$f" >/dev/null 2>&1; then
		echo "clang-format: $f differs (clang-format -i --style=file $f)"
		fail=1
	fi
done

[ $fail = 0 ] && echo "lint: clean" || echo "lint: problems found"
exit $fail
