#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot-time configuration (boot/): pspat-tc-apply DEV applies DEV.tc, a tc
# batch file, as the systemd unit pspat-tc@DEV.service and the ifupdown
# hook do when DEV appears: the tree is the file's, traffic passes through
# it, applying twice gives the same tree, a failing file leaves DEV with
# its default qdisc and says which file failed, --remove deletes the root,
# and a device without a file is left alone. The unit passes
# systemd-analyze verify.
. "$(dirname "$0")/lib.sh"
need_vm
pspat_load
ns_create a
ns_create b
veth_pair "$a" "$b"
make_tmp
boot=$PSPAT_TOP/boot
export PSPAT_TC_CONF_DIR=$tmp/conf
mkdir "$PSPAT_TC_CONF_DIR"
ktap_plan 15

# apply [ARGS...]: pspat-tc-apply in $a; stdout+stderr in $tmp/out.
apply() { ip netns exec "$a" "$boot/pspat-tc-apply" "$@" >"$tmp/out" 2>&1; }
# tree: va's qdiscs and classes, one "qdisc|class KIND ID" per line.
tree() {
	{
		tc -n "$a" qdisc show dev va
		tc -n "$a" class show dev va
	} | awk '{ print $1, $2, $3 }' | sort
}
cat >"$PSPAT_TC_CONF_DIR/va.tc" <<-EOT
	# pspat with an HFSC child and one class (comments are allowed)
	qdisc add dev va root handle 1: pspat held_limit 128
	qdisc add dev va parent 1:1 handle 10: hfsc default 1
	class add dev va parent 10: classid 10:1 hfsc sc rate 50mbit ul rate 50mbit
EOT

check "apply va.tc: exit 0" apply va
check_eq "the tree is the file's: pspat root, hfsc at 1:1, class 10:1" \
	"$(tree | tr '\n' ,)" "class hfsc 10:,class hfsc 10:1,class pspat 1:1,qdisc hfsc 10:,qdisc pspat 1:,"
out=$(ip netns exec "$a" ping -n -q -c 10 -i 0.05 -W 2 198.18.0.2)
check_eq "10 pings answered through the applied tree" \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out")" 10
check_eq "pspat and its hfsc child counted them" \
	"$(qstat "$a" va 1: packets) $(qstat "$a" va 10: packets)" "10 10"
first=$(tree)
check "apply again: exit 0" apply va
check_eq "applying twice gives the same tree" "$(tree)" "$first"

# A file that fails halfway: DEV falls back to its default (noqueue on veth).
mkdir "$tmp/badconf"
cat >"$tmp/badconf/va.tc" <<-EOT
	qdisc add dev va root handle 1: pspat
	qdisc change dev va root handle 1: pspat held_limit 0
EOT
PSPAT_TC_CONF_DIR=$tmp/badconf apply va; rc=$?
check_eq "a file that fails halfway: exit status 1" "$rc" 1
check "... the message names the file and has tc's reason" \
	grep -q "$tmp/badconf/va.tc failed" "$tmp/out"
check "... tc's reason" grep -q "held_limit" "$tmp/out"
check_eq "... and va is back to its default qdisc" "$(qkind "$a" va root)" noqueue
apply; rc=$?
check_eq "no device named: usage, exit status 2" "$rc" 2

check "no file for a device: exit 0" apply lo
apply va && apply --remove va
check_eq "--remove deletes the root" "$(qkind "$a" va root)" noqueue

# The ifupdown hook and the unit, with @SBINDIR@ pointing at boot/.
sed "s|@SBINDIR@|$boot|" "$boot/ifupdown-pspat" >"$tmp/hook" && chmod +x "$tmp/hook"
sed "s|@SBINDIR@|$boot|" "$boot/pspat-tc@.service" >"$tmp/pspat-tc@va.service"
ip netns exec "$a" env IFACE=va MODE=start PHASE=pre-up "$tmp/hook" >/dev/null 2>&1
check_eq "the ifupdown hook applies va.tc" "$(tree)" "$first"
check "systemd-analyze verify: the unit is clean" \
	eval "out=\$(cd '$tmp' && systemd-analyze verify --man=no ./pspat-tc@va.service 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
ktap_finish
