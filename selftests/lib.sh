# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared library of the sch_pspat selftests (sourced, never run).
#
# A test is one scenario in one file, selftests/test_*.sh. It sources this
# file, calls ktap_plan N, runs N checks that each print one KTAP line, and
# ends with ktap_finish, whose exit status follows kselftest: 0 all passed,
# 1 something failed, 4 skipped. Everything it creates (netns, links,
# processes, the module) is undone by the EXIT trap installed here.
#
# Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range) only.

set -u

SELFTESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PSPAT_TOP=${PSPAT_TOP:-$(cd "$SELFTESTS_DIR/.." && pwd)}
PSPAT_USER_BIN=${PSPAT_USER_BIN:-$PSPAT_TOP/build/user}
# tc finds pspat's plugin (q_pspat.so: options, xstats, JSON) here.
export TC_LIB_DIR=${TC_LIB_DIR:-$PSPAT_TOP/build/tc-plugin}
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# The patterns that make a kernel log unhealthy. One extended regex.
DMESG_BAD_RE='WARNING:|BUG:|kernel BUG|Oops|general protection fault|refcount|scheduling while atomic|lockdep|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|kmemleak|Kernel panic|soft lockup|hard LOCKUP|detected stall|hung_task|blocked for more than|segfault at|oom-kill|Out of memory|page allocation failure|unregister_netdevice: waiting for|NETDEV WATCHDOG|Detected (Tx|Hardware) Unit Hang'

_ktap_n=0
_ktap_planned=0
_ktap_fail=0
_ktap_pass=0
_ktap_skip=0

ktap_plan() {
	_ktap_planned=$1
	echo "KTAP version 1"
	echo "1..$1"
}

ktap_info() { echo "# $*"; }

ktap_pass() {
	_ktap_n=$((_ktap_n + 1)); _ktap_pass=$((_ktap_pass + 1))
	echo "ok $_ktap_n $*"
}

ktap_fail() {
	_ktap_n=$((_ktap_n + 1)); _ktap_fail=$((_ktap_fail + 1))
	echo "not ok $_ktap_n $*"
}

# ktap_skip DESC REASON: a check that could not run; never counted as a pass.
ktap_skip() {
	_ktap_n=$((_ktap_n + 1)); _ktap_skip=$((_ktap_skip + 1))
	echo "ok $_ktap_n $1 # SKIP $2"
}

# check DESC CMD [ARGS...]: one KTAP line, pass when CMD exits 0. CMD's
# output is shown as diagnostics when it fails.
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc = 0 ]; then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		echo "# command: $* (exit $rc)"
	fi
	return 0
}

# check_fails DESC CMD...: pass when CMD exits non-zero.
check_fails() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc != 0 ]; then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "# command succeeded but should fail: $*"
	fi
	return 0
}

# check_eq DESC ACTUAL EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then
		ktap_pass "$1"
	else
		ktap_fail "$1"
		echo "# got '$2', expected '$3'"
	fi
}

# check_range DESC VALUE LOW HIGH (inclusive, numbers may be decimals)
check_range() {
	if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
		ktap_pass "$1"
	else
		ktap_fail "$1"
		echo "# got $2, expected within [$3, $4]"
	fi
}

ktap_finish() {
	if [ "$_ktap_n" != "$_ktap_planned" ]; then
		echo "# planned $_ktap_planned checks, ran $_ktap_n"
		_ktap_fail=$((_ktap_fail + 1))
	fi
	echo "# totals: pass:$_ktap_pass fail:$_ktap_fail skip:$_ktap_skip"
	[ $_ktap_fail = 0 ] || exit $KSFT_FAIL
	[ $_ktap_pass -gt 0 ] || exit $KSFT_SKIP
	exit $KSFT_PASS
}

# skip_all REASON: the whole scenario cannot run here (counted as skipped).
# Under `run.sh --strict` (make check) a skip fails unless the test file
# names its reason in a "# skip-ok: REASON" line; ktap_skip likewise.
skip_all() {
	echo "KTAP version 1"
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

# ktap_bail REASON: the scenario cannot go on, and that is a failure.
ktap_bail() {
	echo "Bail out! $*"
	exit $KSFT_FAIL
}

# --- dmesg ---------------------------------------------------------------

# dmesg_scan [FILE]: print the lines of a kernel log (FILE or stdin) that
# match DMESG_BAD_RE; exit 1 when there is any, 0 when the log is clean.
# A log that cannot be read is not clean: exit 1 and say so.
dmesg_scan() {
	local bad rc=0
	bad=$(grep -aE "$DMESG_BAD_RE" ${1:+"$1"} 2>&1) || rc=$?
	case $rc in
	0) printf '%s\n' "$bad"; return 1 ;;
	1) return 0 ;;
	*) echo "dmesg_scan: cannot read the log ${1:-(stdin)}: $bad"; return 1 ;;
	esac
}

# --- cleanup -------------------------------------------------------------

_cleanup_cmds=()

# defer CMD...: run CMD at exit, last deferred first.
defer() {
	local q
	q=$(printf '%q ' "$@")
	_cleanup_cmds=("$q" "${_cleanup_cmds[@]}")
}

# A deferred command's failure is ignored (what it undoes may be gone
# already), but for pspat_unload: a module that does not unload fails the
# test, as run.sh also checks.
_cleanup_failed=
_run_cleanup() {
	local rc=$? c
	for c in "${_cleanup_cmds[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
	_cleanup_cmds=()
	if [ -n "$_cleanup_failed" ]; then
		echo "# cleanup: $_cleanup_failed"
		exit $KSFT_FAIL
	fi
	exit $rc
}
trap _run_cleanup EXIT

# --- module --------------------------------------------------------------

pspat_loaded() { [ -d /sys/module/sch_pspat ]; }

# need_unloaded: bail out unless sch_pspat is unloaded (a clean start).
need_unloaded() {
	! pspat_loaded || ktap_bail "sch_pspat is loaded already: not a clean start"
}

# pspat_load [PARAM=VALUE...]: insmod the module built for this kernel
# with PARAMs and unload it at exit. The test fails (bails out) when the
# module is loaded already (it would run with someone else's parameters)
# or does not load.
pspat_load() {
	[ -f "${PSPAT_KO:-}" ] || ktap_bail "PSPAT_KO='${PSPAT_KO:-}' does not exist"
	need_unloaded
	insmod "$PSPAT_KO" "$@" || ktap_bail "insmod sch_pspat $* failed"
	defer pspat_unload
}

# Netns teardown is asynchronous: a pspat qdisc on a device of a deleted
# netns can live a little longer, and holds the module until it goes.
pspat_unload() {
	pspat_loaded || return 0
	wait_for 30 rmmod sch_pspat 2>/dev/null && return 0
	_cleanup_failed="rmmod sch_pspat failed: $(rmmod sch_pspat 2>&1)"
	return 1
}

# pspat_param NAME [VALUE]: read or write a module parameter.
pspat_param() {
	local f=/sys/module/sch_pspat/parameters/$1
	if [ $# -gt 1 ]; then
		echo "$2" >"$f"
	else
		cat "$f"
	fi
}

# slab_objs [CACHE...]: active objects of the kmalloc caches mailboxes come
# from (default kmalloc-4k and kmalloc-8k; kmalloc-8k with the default
# geometry), to see their memory come back. SLUB counts the free objects
# of per-CPU slabs as active; shrinking the caches first returns those, so
# the count is what is allocated.
slab_objs() {
	local c caches=("$@")
	[ $# -gt 0 ] || caches=(kmalloc-4k kmalloc-8k)
	for c in "${caches[@]}"; do
		echo 1 >/sys/kernel/slab/$c/shrink 2>/dev/null
	done
	awk -v list=" ${caches[*]} " 'index(list, " " $1 " ") { n += $2 } END { print n + 0 }' /proc/slabinfo
}

# pspat_dump NS DEV: pspat's state as KTAP comments, for a failed count:
# the qdiscs' counters (backlog, drops) and the module's debugfs stats.
pspat_dump() {
	{
		ip netns exec "$1" tc -s qdisc show dev "$2" invisible
		cat /sys/kernel/debug/sch_pspat/stats
	} 2>&1 | sed 's/^/# /'
}

# pspat_stat SECTION KEY: a counter from /sys/kernel/debug/sch_pspat/stats
# (SECTION: arbiter, dispatcher, mailboxes, or "qdisc dev DEV").
pspat_stat() {
	awk -v s="$1" -v k="$2" 'index($0, s) == 1 {
		for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' \
		/sys/kernel/debug/sch_pspat/stats
}

# test_ko NAME: path of a test module built next to sch_pspat.ko.
test_ko() {
	echo "$(dirname "$PSPAT_KO")/kmod/$1_test/pspat_$1.ko"
}

# --- topology ------------------------------------------------------------

_ns_seq=0

# ns_create VAR: create a uniquely named netns with lo up, name in $VAR.
ns_create() {
	local name
	_ns_seq=$((_ns_seq + 1))
	name=pspat-$$-$_ns_seq
	ip netns add "$name" || return 1
	defer ip netns del "$name"
	ip -n "$name" link set lo up
	# No IPv6: router solicitations, MLD and DAD would add packets that
	# the exact counts in the tests do not expect.
	ip netns exec "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	printf -v "$1" '%s' "$name"
}

# veth_pair NS_A NS_B [SUBNET_INDEX [QUEUES]]: veth "va" in NS_A with 198.18.I.1/24
# and "vb" in NS_B with 198.18.I.2/24, both up, neighbours resolved
# statically so that the first packets are not ARP-delayed or reordered.
# QUEUES: tx and rx queues on each end (default: one).
veth_pair() {
	local a=$1 b=$2 i=${3:-0} maca macb q=()
	[ -n "${4:-}" ] && q=(numtxqueues "$4" numrxqueues "$4")
	ip link add va netns "$a" "${q[@]}" type veth peer name vb netns "$b" "${q[@]}" ||
		return 1
	ip -n "$a" addr add "198.18.$i.1/24" dev va
	ip -n "$b" addr add "198.18.$i.2/24" dev vb
	ip -n "$a" link set va up
	ip -n "$b" link set vb up
	maca=$(ip -n "$a" -j link show va | jq -r '.[0].address')
	macb=$(ip -n "$b" -j link show vb | jq -r '.[0].address')
	ip -n "$a" neigh replace "198.18.$i.2" lladdr "$macb" dev va nud permanent
	ip -n "$b" neigh replace "198.18.$i.1" lladdr "$maca" dev vb nud permanent
}

# veth_ns: netns $a and $b joined by veth_pair (va 198.18.0.1 in $a,
# vb 198.18.0.2 in $b).
veth_ns() {
	ns_create a && ns_create b && veth_pair "$a" "$b"
}

# pspat_veth: veth_ns, with pspat as root qdisc of va (handle 1:).
pspat_veth() {
	veth_ns && tc -n "$a" qdisc add dev va root handle 1: pspat
}

# silent_dst: make 198.18.0.3 resolve to vb although it is not b's address,
# so b drops what is sent there without answering with ICMP errors; count
# the arrivals with `link_stat $b vb rx packets`.
silent_dst() {
	ip -n "$a" neigh replace 198.18.0.3 dev va nud permanent \
		lladdr "$(ip -n "$b" -j link show vb | jq -r '.[0].address')"
}

# make_tmp: a scratch directory in $tmp (guest tmpfs), removed at exit.
make_tmp() {
	tmp=$(mktemp -d) || return 1
	defer rm -rf "$tmp"
}

# stopdev_ns [PARAM=VALUE...]: load kmod/stopdev_test with PARAMs (unloaded
# at exit) and move its pspatstop0 into a new netns $a, up, with
# 198.18.60.1/24 and a permanent neighbour 198.18.60.2. $P: the module's
# parameter directory (hold_mask, drain, txq_packets, ...).
stopdev_ns() {
	insmod "$(test_ko stopdev)" "$@" || return 1
	defer rmmod pspat_stopdev
	P=/sys/module/pspat_stopdev/parameters
	ns_create a || return 1
	ip link set pspatstop0 netns "$a"
	ip -n "$a" addr add 198.18.60.1/24 dev pspatstop0
	ip -n "$a" link set pspatstop0 up
	ip -n "$a" neigh add 198.18.60.2 lladdr 02:00:00:00:00:02 dev pspatstop0 nud permanent
}

# dummy_dev NS NAME: a dummy device, up, with 198.18.200.1/24.
dummy_dev() {
	ip -n "$1" link add "$2" type dummy || return 1
	ip -n "$1" addr add 198.18.200.1/24 dev "$2"
	ip -n "$1" link set "$2" up
}

# --- real NIC drivers (scripts/vm --nic) ----------------------------------

# nic_driver MODEL: the kernel driver of a scripts/vm --nic MODEL.
nic_driver() {
	case "$1" in
	virtio) echo virtio_net ;;
	e1000e|igb) echo "$1" ;;
	*) return 1 ;;
	esac
}

# nic_find DRIVER: the first network device of the init netns bound to
# DRIVER (the guest names them ethN in probe order, no udev).
nic_find() {
	local d
	for d in /sys/class/net/*; do
		[ "$(basename "$(readlink -f "$d/device/driver" 2>/dev/null)")" = "$1" ] &&
			{ basename "$d"; return 0; }
	done
	return 1
}

# nic_ns MODEL_A MODEL_B: the NICs of scripts/vm --nic (one QEMU hub joins
# them) as "na" in a new netns $a with 198.18.70.1/24 and "nb" in $b with
# 198.18.70.2/24: drivers loaded, IPv6 off, neighbours permanent, carrier
# up. Skips the scenario when the guest has no such NIC. At exit the
# devices go back to the init netns (as na and nb) before their netns are
# deleted: a netns outlives its name while a socket holds it (a TCP
# socket orphaned by a killed server retries its FIN for minutes), and a
# device in it would be lost to the tests after this one.
nic_ns() {
	local m drv dev i=0 mac
	for m in "$1" "$2"; do
		drv=$(nic_driver "$m") || ktap_bail "nic_ns: no NIC model '$m'"
		modprobe "$drv" 2>/dev/null
		# A device renamed by an earlier test (na, nb) is found by driver too.
		wait_for 10 nic_find "$drv" >/dev/null ||
			skip_all "no $m NIC in the guest (scripts/vm --nic $1,$2)"
		dev=$(nic_find "$drv")
		if [ $i = 0 ]; then
			ns_create a && ip link set "$dev" netns "$a" name na || return 1
			defer ip -n "$a" link set na netns 1
		else
			ns_create b && ip link set "$dev" netns "$b" name nb || return 1
			defer ip -n "$b" link set nb netns 1
		fi
		i=$((i + 1))
	done
	ip netns exec "$a" sysctl -qw net.ipv6.conf.na.disable_ipv6=1
	ip netns exec "$b" sysctl -qw net.ipv6.conf.nb.disable_ipv6=1
	ip -n "$a" addr add 198.18.70.1/24 dev na
	ip -n "$b" addr add 198.18.70.2/24 dev nb
	ip -n "$a" link set na up
	ip -n "$b" link set nb up
	mac=$(ip -n "$b" -j link show nb | jq -r '.[0].address')
	ip -n "$a" neigh replace 198.18.70.2 lladdr "$mac" dev na nud permanent
	mac=$(ip -n "$a" -j link show na | jq -r '.[0].address')
	ip -n "$b" neigh replace 198.18.70.1 lladdr "$mac" dev nb nud permanent
	nic_carrier "$a" na && nic_carrier "$b" nb ||
		ktap_bail "nic_ns: no carrier on na ($1) or nb ($2)"
}

# nic_carrier NS DEV: wait until DEV in NS is up with a carrier (operstate
# UP); emulated autonegotiation takes a few seconds after up or a reset.
nic_carrier() {
	wait_for 20 sh -c "ip -n $1 -j link show $2 | jq -e '.[0].operstate == \"UP\"'" >/dev/null
}

# --- tc counters ---------------------------------------------------------

# tc_json NS ARGS...: `tc -n NS -j ARGS`, made valid JSON: iproute2 6.1's
# hfsc prints its options as plain text ("options":{default 1 }).
tc_json() {
	local ns=$1
	shift
	tc -n "$ns" -j "$@" | sed -E 's/\{default ([0-9a-fx]+) \}/{"default":"\1"}/g'
}

# qstat NS DEV HANDLE FIELD: one counter of a qdisc from `tc -s -j`
# (FIELD: packets, bytes, drops, overlimits, requeues, backlog, qlen).
qstat() {
	tc_json "$1" -s qdisc show dev "$2" invisible |
		jq -r --arg h "$3" --arg f "$4" \
			'.[] | select(.handle == $h) | .[$f] // empty'
}

# qs NAME HANDLE JQ: JQ applied to that qdisc's counters after run NAME,
# whose `tc -s -j qdisc show` the test saved in $tmp/NAME.tc.
qs() { jq -r --arg h "$2" ".[] | select(.handle == \$h) | $3" "$tmp/$1.tc"; }

# pspat_empty NS DEV: the pspat root 1: of DEV in NS holds no packet.
pspat_empty() { [ "$(qstat "$1" "$2" 1: qlen)" = 0 ]; }

# pspat_passed N: pspat (root 1: of va in $a) has sent more than N packets.
pspat_passed() { [ "$(qstat "$a" va 1: packets)" -gt "$1" ]; }

# sink_and_blast THREADS PPS: pspat-sink on port 9000 in $b ($tmp/sink.json,
# pid in $sink) and THREADS pspat-blast senders of PPS each from $a until
# killed ($tmp/blast.json, pid in $blast); returns once pspat on va has
# passed 1000 packets.
sink_and_blast() {
	bg sink ip netns exec "$b" "$PSPAT_SINK" --port 9000 --idle 3 \
		--ready-file "$tmp/ready" >"$tmp/sink.json"
	wait_for 10 test -e "$tmp/ready"
	ip netns exec "$a" "$PSPAT_BLAST" --dst 198.18.0.2 --dport 9000 -t "$1" \
		-r "$2" -d 0 >"$tmp/blast.json" &
	blast=$!
	wait_for 30 pspat_passed 1000
}

# child_counts NAME: after run NAME of a child_* test, set sent, enobufs
# and errors (summed over the pspat-blast reports $tmp/NAME.blast*), uniq
# and sdrops (pspat-sink's $tmp/NAME.sink), drops and wire (bytes a
# packet) of the pspat root 1: ($tmp/NAME.tc).
child_counts() {
	read -r sent enobufs errors < <(jq -rs 'map(.total) |
		"\(map(.sent) | add) \(map(.enobufs) | add) \(map(.errors) | add)"' "$tmp/$1".blast*)
	read -r uniq sdrops < <(jq -r '"\([.flows[].unique] | add) \(.socket_drops)"' "$tmp/$1.sink")
	drops=$(qs "$1" 1: .drops)
	wire=$(qs "$1" 1: '.bytes / .packets')
}

# iv_mbit NAME FLOWS KEY: from pspat-sink's 500 ms intervals in
# $tmp/NAME.iv, the wire Mbit/s ($wire bytes a packet) of each group of
# flows with the same jq KEY (.dport, .src, .dport >= 9002), in KEY's
# order, then of all together, then the seconds measured: the intervals
# in which all FLOWS flows received, less the first and last (partial).
iv_mbit() {
	jq -rs --argjson w "$wire" --argjson n "$2" "
		map(select(.flows | length == \$n and all(.packets > 0)))[1:-1] |
		(map(.dt) | add) as \$t | [.[].flows[]] | group_by($3) |
		map(map(.packets) | add * \$w * 8 / \$t / 1e6) | . + [add, \$t] |
		map(. * 100 | round / 100) | join(\" \")" "$tmp/$1.iv"
}

# child_accounting NAME CHILD: the exact counts of a child_* run, after
# child_counts NAME (6 KTAP results): no send errors, 1042-byte packets on
# the wire, pspat's backlog empty, every packet blast sent was received,
# dropped by the receiving socket or dropped after pspat's enqueue, those
# drops are the child's (handle CHILD; ENOBUFS are pspat's mailbox-full
# drops), and pspat sent what reached the sink.
child_accounting() {
	check_eq "no send errors" "$errors" 0
	check_eq "wire length is 1000 + 8 + 20 + 14 bytes" "$wire" 1042
	check_eq "pspat backlog is empty at the end" "$(qs "$1" 1: '"\(.qlen)/\(.backlog)"')" 0/0
	check_eq "blast sent == sink unique + socket drops + pspat drops after enqueue" \
		"$sent" $((uniq + sdrops + drops - enobufs))
	check_eq "child's drops == pspat drops - ENOBUFS (mailbox full)" \
		"$(qs "$1" "$2" .drops)" $((drops - enobufs))
	check_eq "pspat sent == sink unique + socket drops" "$(qs "$1" 1: .packets)" $((uniq + sdrops))
}

# qkind NS DEV PARENT: the kind of the qdisc attached at PARENT ("root" or
# a class id such as "1:1"). Plain text: iproute2 6.1 prints invalid JSON
# for some qdiscs (tbf, fq).
qkind() {
	tc -n "$1" qdisc show dev "$2" invisible |
		awk -v p="$3" '(p == "root" && $4 == "root") ||
			($4 == "parent" && $5 == p) { print $2 }'
}

# link_stat NS DEV tx|rx packets|bytes|dropped
link_stat() {
	ip -n "$1" -s -j link show dev "$2" | jq -r --arg d "$3" --arg f "$4" '.[0].stats64[$d][$f]'
}

# --- processes -----------------------------------------------------------

# bg VAR CMD...: start CMD in the background, its pid in $VAR, killed at exit.
bg() {
	local var=$1
	shift
	"$@" &
	printf -v "$var" '%s' "$!"
	defer kill "$!"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

# need_tools: pspat-blast and pspat-sink from the userspace build.
PSPAT_BLAST=$PSPAT_USER_BIN/tools/pspat-blast
PSPAT_SINK=$PSPAT_USER_BIN/tools/pspat-sink
need_tools() {
	[ -x "$PSPAT_BLAST" ] && [ -x "$PSPAT_SINK" ] ||
		skip_all "pspat-blast/pspat-sink not built (make user)"
}

# PSPAT_FAILNTH: pspat-failnth (built only with libmnl-dev; not part of
# need_tools: the test that uses it checks for it and copies it to $tmp).
PSPAT_FAILNTH=$PSPAT_USER_BIN/tools/pspat-failnth

# tools_to_tmp: run the tools from $tmp (make_tmp first): the tree is
# uncached 9p in the guest, where every exec from it costs up to a second.
tools_to_tmp() {
	cp "$PSPAT_BLAST" "$PSPAT_SINK" "$tmp/" || return 1
	PSPAT_BLAST=$tmp/pspat-blast PSPAT_SINK=$tmp/pspat-sink
}

# tracefs_need PATH: T is the tracefs mount (mounted if it is not), and
# the scenario needs PATH under it (an event directory, kprobe_events).
T=/sys/kernel/tracing
tracefs_need() {
	[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
	[ -e "$T/$1" ] || skip_all "no $1 in tracefs"
}

# need_vm: the scenario changes the kernel; only run it inside scripts/vm.
need_vm() {
	[ "${PSPAT_IN_VM:-0}" = 1 ] || skip_all "runs only inside scripts/vm"
	# veth (6.1) has no backpressure: it hands each packet to the
	# receiving CPU's backlog, which drops beyond netdev_max_backlog
	# (1000) and counts it as the veth's TX drop. A transmitter that
	# sends in batches (the arbiter: a round with BH disabled) can
	# outrun the receive softirq under TCG. Those drops are downstream
	# of pspat (it counts them as sent, rightly) and not what the tests
	# check, so the throwaway guest gets a deep backlog.
	sysctl -qw net.core.netdev_max_backlog=100000
}

# --- the instruction counter (tools/qemu-insn, docs/insn-count.md) ----------

# need_insn: the guest runs under the counting plugin (scripts/insn-count),
# else skip, or fail where it is required (make check's insn step).
need_insn() {
	[ -n "${PSPAT_INSN_WINDOW:-}" ] && [ -n "${PSPAT_INSN_OUT:-}" ] && return 0
	[ "${PSPAT_INSN_REQUIRED:-0}" = 1 ] &&
		ktap_bail "not under the counting plugin, where make check runs this test"
	skip_all "needs the instruction counter (run it with scripts/insn-count)"
}

# insn_spans VCPU: that vCPU's span totals so far, one JSON object ({} if
# none). Opening and closing the window makes the plugin write its file.
insn_spans() {
	"$PSPAT_INSN_WINDOW" --mark && "$PSPAT_INSN_WINDOW" --mark &&
		jq -c --argjson v "$1" '.spans[$v] // {}' "$PSPAT_INSN_OUT"
}

# insn_delta BEFORE AFTER FIELD: AFTER's FIELD minus BEFORE's (spans of
# insn_spans).
insn_delta() {
	jq -n --argjson a "$1" --argjson b "$2" -r --arg f "$3" \
		'($b[$f] // 0) - ($a[$f] // 0)'
}

# --- the host's CPU time (scripts/vm --hostcpu) -----------------------------

# host_cpu_open: open the serial line of `scripts/vm --hostcpu`
# (PSPAT_HOSTCPU_TTY), raw, on fd HOST_CPU_FD; false without it.
HOST_CPU_FD=""
host_cpu_open() {
	[ -n "$HOST_CPU_FD" ] && return 0
	[ -n "${PSPAT_HOSTCPU_TTY:-}" ] || return 1
	stty -F "$PSPAT_HOSTCPU_TTY" raw -echo 115200 || return 1
	exec {HOST_CPU_FD}<>"$PSPAT_HOSTCPU_TTY"
}

# host_cpu_read: HOST_CPU=(V0 V1 ... ALL), the host CPU time in ns of each
# vCPU thread and of all of QEMU's threads (scripts/vm-hostcpu answers);
# false when there is no line or no answer within 5 s. Shell builtins only
# once the line is open (a benchmark calls it around its windows).
host_cpu_read() {
	local w
	HOST_CPU=()
	[ -n "$HOST_CPU_FD" ] || return 1
	echo s >&"$HOST_CPU_FD"
	read -r -t 5 -a w <&"$HOST_CPU_FD" && [ "${w[0]:-}" = hostcpu ] || return 1
	HOST_CPU=("${w[@]:1}")
}

# --- TCP order -------------------------------------------------------------

# tcp_controlled: remove what makes stock Linux reorder a TCP flow over the
# veth pair of veth_ns (see README, "Order"): RPS steers the receive
# processing of both ends to CPU 1 (the neighbours are already permanent).
# And the sender sends no tail loss probes (tcp_early_retrans=0): a probe
# is a retransmit that a timer sends when ACKs are late, which under TCG
# depends on how the host schedules the guest, not on the qdisc; with
# them off, a retransmit means a segment was lost or arrived out of order.
tcp_controlled() {
	ip netns exec "$a" sh -c 'echo 2 >/sys/class/net/va/queues/rx-0/rps_cpus' &&
		ip netns exec "$b" sh -c 'echo 2 >/sys/class/net/vb/queues/rx-0/rps_cpus' &&
		ip netns exec "$a" sysctl -qw net.ipv4.tcp_early_retrans=0
}

# nstat_get NS COUNTER: COUNTER's increase in NS since `nstat -n` there.
# Each netns keeps its own history file (nstat's default is per user).
nstat_get() {
	NSTAT_HISTORY=$tmp/nstat.$1 ip netns exec "$1" nstat -sz "$2" |
		awk -v c="$2" '$1 == c { print $2 }'
}

# nstat_reset NS: start counting in NS (nstat_get and nstat_show).
nstat_reset() { NSTAT_HISTORY=$tmp/nstat.$1 ip netns exec "$1" nstat -n; }

# nstat_show NS COUNTER...: "name value" pairs on one line.
nstat_show() {
	local ns=$1
	shift
	NSTAT_HISTORY=$tmp/nstat.$ns ip netns exec "$ns" nstat -sz "$@" |
		awk 'NR > 1 && NF >= 2 { printf "%s %s ", $1, $2 }'
}

# iperf_server ADDR [PORT]: a one-shot iperf3 server in $b on ADDR:PORT
# (default 5201), pid in $srv; returns once it listens.
iperf_server() {
	local port=${2:-5201}
	ip netns exec "$b" iperf3 -s -1 -B "$1" -p "$port" >/dev/null 2>&1 &
	srv=$!
	wait_for 10 sh -c "ip netns exec $b ss -Hltn | grep -q '$1:$port '"
}

# tcp_run NAME CPU [IPERF3 ARGS...]: iperf3 from $a (pinned to CPU) to an
# iperf3 server in $b for PSPAT_TCP_SECONDS (default 5) seconds, 4 flows
# unless ARGS say otherwise; sets ofo (receiver's TcpExtTCPOFOQueue),
# retrans (sender's TcpRetransSegs) and segs (sender's TcpOutSegs) of the
# run; $tmp/NAME.iperf holds iperf3's JSON report.
tcp_run() {
	local name=$1 cpu=$2 srv
	shift 2
	iperf_server 198.18.0.2
	nstat_reset "$a"
	nstat_reset "$b"
	timeout 60 ip netns exec "$a" taskset -c "$cpu" iperf3 -c 198.18.0.2 \
		-t "${PSPAT_TCP_SECONDS:-5}" -P 4 -J "$@" >"$tmp/$name.iperf"
	wait "$srv"
	ofo=$(nstat_get "$b" TcpExtTCPOFOQueue)
	retrans=$(nstat_get "$a" TcpRetransSegs)
	segs=$(nstat_get "$a" TcpOutSegs)
	ktap_info "$name: OFO $ofo, retransmitted $retrans of $segs segments," \
		"$(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$tmp/$name.iperf") Mbit/s;" \
		"$(nstat_show "$a" TcpExtTCPTimeouts TcpExtTCPFastRetrans TcpExtTCPLossProbes)"
}
