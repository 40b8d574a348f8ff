#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad pspat options through the tc plugin (tc-plugin/q_pspat.so): every
# out-of-range or malformed option makes tc fail with a message that names
# the option, and leaves the qdisc's options as they were. Then values the
# plugin would refuse are sent anyway (its test hook PSPAT_TC_UNCHECKED=1):
# the kernel must refuse them with an extack message naming the option, and
# a refused change must change nothing, not even its valid options.
. "$(dirname "$0")/lib.sh"
need_vm
PLUGIN=$PSPAT_TOP/build/tc-plugin/q_pspat.so
[ -f "$PLUGIN" ] || skip_all "$PLUGIN not built (make tc-plugin)"
pspat_load
make_tmp
mkdir "$tmp/tc" && cp "$PLUGIN" "$tmp/tc/" || skip_all "cannot copy the plugin"
export TC_LIB_DIR=$tmp/tc
ns_create ns
dummy_dev "$ns" d0
ip -n "$ns" link add d1 type dummy
ip -n "$ns" link set d1 up
ktap_plan 42

t() { tc -n "$ns" "$@"; }
# opts DEV: the options of the root as compact JSON.
opts() {
	tc_json "$ns" qdisc show dev "$1" | jq -c '.[] | select(.root) | .options'
}

check "add with xmit_mode dispatcher batch 16 held_limit 300" \
	t qdisc add dev d0 root handle 1: pspat xmit_mode dispatcher batch 16 held_limit 300
before=$(opts d0)
check_eq "options as set" "$before" '{"xmit_mode":"dispatcher","batch":16,"held_limit":300}'

# refused VERB MESSAGE_RE ARGS...: `tc qdisc VERB ... pspat ARGS` fails, its
# first line of output matches MESSAGE_RE, and d0's options are unchanged.
refused() {
	local verb=$1 re=$2 out rc=0
	shift 2
	out=$(t qdisc "$verb" dev d0 root handle 1: pspat "$@" 2>&1) || rc=$?
	if [ $rc = 0 ]; then
		echo "tc succeeded: $out"
		return 1
	fi
	if ! head -n1 <<<"$out" | grep -qE -- "$re"; then
		echo "tc (exit $rc) said:"
		printf '%s\n' "$out"
		echo "expected a first line matching: $re"
		return 1
	fi
	[ "$(opts d0)" = "$before" ] || { echo "options changed: $(opts d0)"; return 1; }
}

B='batch .*0\.\.4096'
H='held_limit .*1\.\.65536'
X='xmit_mode .*default, arbiter or dispatcher'
# The plugin's own checks: nothing reaches the kernel.
check "batch 4097: refused, names batch and its range" refused change "$B" batch 4097
check "batch -1" refused change "$B" batch -1
check "batch 0x1001 (4097 in hex): still out of range" refused change "$B" batch 0x1001
check "held_limit 0x10001 (65537 in hex)" refused change "$H" held_limit 0x10001
check "batch 0x (a prefix, no digits)" refused change "$B" batch 0x
check "batch 08 (not an octal digit)" refused change "$B" batch 08
check "batch 0x-1 (no sign after the prefix)" refused change "$B" batch 0x-1
check "batch 12abc" refused change "$B" batch 12abc
check "batch +5" refused change "$B" batch +5
check "batch 2^64 (overflow)" refused change "$B" batch 18446744073709551616
check "batch with no value" refused change "$B" batch
check "held_limit 0" refused change "$H" held_limit 0
check "held_limit 65537" refused change "$H" held_limit 65537
check "held_limit -4294967295 (strtoul would take it for 1)" \
	refused change "$H" held_limit -4294967295
check "held_limit with no value" refused change "$H" held_limit
check "xmit_mode fast" refused change "$X" xmit_mode fast
check "xmit_mode 1 (words only)" refused change "$X" xmit_mode 1
check "xmit_mode with no value" refused change "$X" xmit_mode
check "unknown option" refused change 'unknown option "bogus"' bogus 1
check "option given twice" refused change 'batch given twice' batch 8 batch 9
check "valid batch then bad held_limit: nothing applied" \
	refused change "$H" batch 8 held_limit 0
check "replace with a bad batch" refused replace "$B" batch 5000
check "help: usage, non-zero" refused change '^Usage: \.\.\. pspat ' help
check_fails "add with a bad option fails" t qdisc add dev d1 root handle 1: pspat batch 5000
check_eq "and adds nothing" "$(qkind "$ns" d1 root)" noqueue

# Past the plugin: the kernel's checks and extack messages.
export PSPAT_TC_UNCHECKED=1
check "kernel: batch 4097 refused with an extack message" \
	refused change '^Error: .*batch.*4096' batch 4097
check "kernel: held_limit 0" refused change '^Error: .*held_limit.*65536' held_limit 0
check "kernel: held_limit 65537" refused change '^Error: .*held_limit.*65536' held_limit 65537
check "kernel: xmit_mode 3" refused change '^Error: .*xmit_mode' xmit_mode 3
check "kernel: xmit_mode 255" refused change '^Error: .*xmit_mode' xmit_mode 255
check "kernel: valid batch then bad held_limit: nothing applied" \
	refused change '^Error: .*held_limit' batch 8 held_limit 0
check "kernel: replace with batch 4294967295" \
	refused replace '^Error: .*batch' batch 4294967295
check_fails "kernel: add with held_limit 0 fails" \
	t qdisc add dev d1 root handle 1: pspat held_limit 0
check_eq "and adds nothing" "$(qkind "$ns" d1 root)" noqueue
check "the hook sends valid values too: batch 4096" \
	t qdisc change dev d0 root handle 1: pspat batch 4096
unset PSPAT_TC_UNCHECKED
check_eq "batch 4096, the others kept" "$(opts d0)" \
	'{"xmit_mode":"dispatcher","batch":4096,"held_limit":300}'

# Numbers as get_u32(&v, arg, 0) reads them for the other qdiscs: hex with
# 0x, octal with a leading 0.
check "batch 0x40 held_limit 0x100 (hex)" \
	t qdisc change dev d0 root handle 1: pspat batch 0x40 held_limit 0x100
check_eq "batch 64, held_limit 256" "$(opts d0)" \
	'{"xmit_mode":"dispatcher","batch":64,"held_limit":256}'
check "batch 010 held_limit 0X200 (octal, upper-case hex)" \
	t qdisc change dev d0 root handle 1: pspat batch 010 held_limit 0X200
check_eq "batch 8, held_limit 512" "$(opts d0)" \
	'{"xmit_mode":"dispatcher","batch":8,"held_limit":512}'
ktap_finish
