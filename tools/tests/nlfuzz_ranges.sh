#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ranges and defaults the netlink fuzzer's oracle uses (pspat-nlfuzz
# --print-ranges) must be those of README.md's table of tc options
# ("| tc option | default | range |"). The fuzzer states them itself rather
# than reading include/pspat/pspat_uapi.h, which the module checks against;
# this test keeps the documentation and the fuzzer from drifting apart.
#
# A range is "LO-HI ..." or a list of `names` (the values 0, 1, ... in that
# order); a default is a number, "`name` (N)", or one of the range's names.
#
# Usage: nlfuzz_ranges.sh PSPAT_NLFUZZ README.md
# Exit: 0 they agree, 1 they differ or the table cannot be read.
set -u

FUZZ=${1:?usage: $0 PSPAT_NLFUZZ README.md}
README=${2:?usage: $0 PSPAT_NLFUZZ README.md}

fuzz=$("$FUZZ" --print-ranges) || { echo "FAIL: $FUZZ --print-ranges failed"; exit 1; }

# One line per table row: option min max default (or "? why").
doc=$(awk -F'|' '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	/^\| *tc option *\| *default *\| *range *\|/ { intab = 1; next }
	intab && !/^\|/ { exit }
	intab && /^\| *---/ { next }
	intab {
		opt = trim($2); gsub(/`/, "", opt)
		def = trim($3); rng = trim($4)
		n = 0; delete name
		if (match(rng, /^[0-9]+-[0-9]+/)) {
			split(substr(rng, 1, RLENGTH), lh, "-")
			lo = lh[1]; hi = lh[2]
		} else {
			s = rng
			while (match(s, /`[^`]*`/)) {
				name[substr(s, RSTART + 1, RLENGTH - 2)] = n++
				s = substr(s, RSTART + RLENGTH)
			}
			if (!n) { print opt, "? range \"" rng "\" not understood"; next }
			lo = 0; hi = n - 1
		}
		if (match(def, /\([0-9]+\)/))
			d = substr(def, RSTART + 1, RLENGTH - 2)
		else if (def ~ /^[0-9]+$/)
			d = def
		else if (def ~ /^`[^`]*`$/ && (substr(def, 2, length(def) - 2) in name))
			d = name[substr(def, 2, length(def) - 2)]
		else { print opt, "? default \"" def "\" not understood"; next }
		print opt, lo, hi, d
	}' "$README")

[ -n "$doc" ] || { echo "FAIL: no \"| tc option | default | range |\" table in $README"; exit 1; }

fail=0
while read -r opt rest; do
	want=$(awk -v o="$opt" '$1 == o { $1 = ""; print substr($0, 2) }' <<<"$doc")
	if [ -z "$want" ]; then
		echo "FAIL: $opt: the fuzzer has it, README.md's table does not"
		fail=1
	elif [ "$want" != "$rest" ]; then
		echo "FAIL: $opt (min max default): README.md says '$want', the fuzzer '$rest'"
		fail=1
	else
		echo "ok: $opt $rest"
	fi
done <<<"$fuzz"
while read -r opt _; do
	grep -q "^$opt " <<<"$fuzz" ||
		{ echo "FAIL: $opt: README.md's table has it, the fuzzer does not"; fail=1; }
done <<<"$doc"
exit $fail
