#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages as an operator installs them (`make deb` built them on
# the host, in build/deb/): `dpkg -i` of sch-pspat-dkms and sch-pspat-tools
# has DKMS build the module for the booted kernel; a plain
# `tc qdisc add ... pspat` loads it and tc prints its options with the
# packaged plugin; traffic passes; pspat-tc-apply, the man pages, the
# bpftrace scripts and the inert modprobe.d example are in place; and
# `dpkg --purge` leaves no file behind. /usr, /etc and /var are overlays
# with a tmpfs upper here (the guest's root is the host's, read-only): a
# file the packages leave anywhere shows in an upper directory.
# On a kernel whose headers want a compiler this Debian 12 root lacks (7.3
# wants gcc-14), the DKMS package goes where a user of that kernel has it:
# into Debian 13, the build root the host builds 7.3 in (with dkms; an
# overlay here), the booted kernel's module tree bound into it, so DKMS
# builds and installs for the running kernel; the tools stay in this root.
# timeout: 2400 (kbuild and depmod run in the emulated guest: minutes each)
. "$(dirname "$0")/lib.sh"
need_vm
command -v dkms >/dev/null || skip_all "no dkms (make deps installs it)"
need_unloaded
krel=$(uname -r)
# The compiler the booted kernel's headers name (.kernelvariables): DKMS
# builds with it.
kcc=$(sed -n 's/^CC = .*)\(gcc-[0-9][0-9]*\)$/\1/p' "/lib/modules/$krel/build/.kernelvariables" 2>/dev/null)
broot=
if [ -n "$kcc" ] && ! command -v "x86_64-linux-gnu-$kcc" >/dev/null && ! command -v "$kcc" >/dev/null; then
	broot=$(readlink -f "$PSPAT_TOP/build/kernels/$(basename "$(dirname "$PSPAT_KO")")/buildroot")
	[ -x "$broot/usr/sbin/dkms" ] && [ -x "$broot/usr/bin/$kcc" ] ||
		ktap_bail "the headers of $krel want $kcc, which this root lacks, and no build root with $kcc and dkms ($broot; make deps)"
fi
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$PSPAT_TOP/dkms.conf")
debs=("$PSPAT_TOP/build/deb/sch-pspat-dkms_${ver}_all.deb"
      "$PSPAT_TOP/build/deb/sch-pspat-tools_${ver}_$(dpkg --print-architecture).deb")
for d in "${debs[@]}"; do
	[ -f "$d" ] || skip_all "no $d: make deb (make check builds the packages)"
done
tcdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/tc
make_tmp

# Writable /usr, /etc and /var: overlays on the read-only root. /lib is
# /usr/lib (merged /usr): the booted kernel's module tree, already an
# overlay on /usr/lib/modules, is bound back on top of the new /usr.
mkdir "$tmp/mods" "$tmp/ovl"
mount --bind /usr/lib/modules "$tmp/mods" || skip_all "cannot bind /usr/lib/modules"
defer umount -l "$tmp/mods"
for d in usr etc var; do
	mkdir -p "$tmp/ovl/$d/upper" "$tmp/ovl/$d/work"
	mount -t overlay -o "lowerdir=/$d,upperdir=$tmp/ovl/$d/upper,workdir=$tmp/ovl/$d/work" \
		overlay "/$d" || skip_all "cannot mount an overlay on /$d"
	defer umount -l "/$d"
done
mount --bind "$tmp/mods" /usr/lib/modules || skip_all "cannot bind the module tree back"
defer umount -l /usr/lib/modules
# dk CMD...: a command of the DKMS package's root (this one, or Debian 13).
dk=()
if [ -n "$broot" ]; then
	mkdir -p "$tmp/ovl/r13/upper" "$tmp/ovl/r13/work" "$tmp/r13"
	mount -t overlay -o "lowerdir=$broot,upperdir=$tmp/ovl/r13/upper,workdir=$tmp/ovl/r13/work" \
		overlay "$tmp/r13" || skip_all "cannot mount an overlay on the build root $broot"
	defer umount -l "$tmp/r13"
	dk=("$PSPAT_TOP/scripts/in-buildroot" "$tmp/r13" -b /usr/lib/modules --)
	# DKMS runs make -C /lib/modules/$krel/build. Reached by any path but
	# its own (/usr/src/linux-headers-$krel), 7.x's kbuild rewrites the
	# header tree's Makefile for that path and builds nothing: the link
	# (the host's path of the build root's headers) names /usr/src for the
	# test, which in Debian 13 is the header tree and here (/usr overlay)
	# a link to the host's path.
	blink=/usr/lib/modules/$krel/build
	old=$(readlink "$blink")
	ln -sfn "$old" "/usr/src/linux-headers-$krel" &&
		ln -sfn "/usr/src/linux-headers-$krel" "$blink" ||
		skip_all "cannot point $blink at /usr/src"
	defer ln -sfn "$old" "$blink"
	echo "# DKMS in Debian 13 ($broot, $("${dk[@]}" dkms --version)), the booted kernel's modules bound in"
fi
dk() { "${dk[@]}" "$@"; }
ktap_plan 16

dpkg_do() { "$@" >"$tmp/dpkg.log" 2>&1 || { tail -n 40 "$tmp/dpkg.log"; return 1; }; }
defer dpkg --purge sch-pspat-tools
defer dk dpkg --purge sch-pspat-dkms
# On failure, the end of DKMS's build log too.
dkms_log() { dk sh -c 'tail -n 30 /var/lib/dkms/sch_pspat/*/build/make.log' 2>&1; return 1; }
check "dpkg -i both packages (DKMS builds in the guest)" \
	eval '{ dpkg_do dk dpkg -i "${debs[0]}" || dkms_log; } && dpkg_do dpkg -i "${debs[1]}"'
check_eq "both installed" \
	"$(dk dpkg-query -W -f='${db:Status-Status} ' sch-pspat-dkms; dpkg-query -W -f='${db:Status-Status} ' sch-pspat-tools)" \
	"installed installed "
check_eq "dkms status: installed for $krel" \
	"$(dk dkms status -m sch_pspat -v "$ver" -k "$krel" | grep -c ': installed')" 1
check_eq "modprobe finds DKMS's module, version $ver" \
	"$(modinfo -n sch_pspat 2>&1 | sed 's/\.ko\.[a-z]*$/.ko/') $(modinfo -F version sch_pspat 2>&1)" \
	"/lib/modules/$krel/updates/dkms/sch_pspat.ko $ver"

ns_create a
ns_create b
veth_pair "$a" "$b"
unset TC_LIB_DIR
check "tc qdisc add ... pspat batch 16, module not loaded: tc loads it" \
	eval "tc -n '$a' qdisc add dev va root handle 1: pspat batch 16 && pspat_loaded"
check_eq "the packaged plugin ($tcdir) parses and prints pspat's options" \
	"$(tc -n "$a" -j qdisc show dev va root | jq -r '.[0].options.batch')" 16
out=$(ip netns exec "$a" ping -n -q -c 10 -i 0.05 -W 2 198.18.0.2)
check_eq "10 pings answered through pspat, pspat sent them" \
	"$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out") $(qstat "$a" va 1: packets)" "10 10"

mkdir -p /etc/pspat
printf '%s\n' "qdisc add dev va root handle 1: pspat" \
	"qdisc add dev va parent 1:1 handle 10: hfsc default 1" \
	"class add dev va parent 10: classid 10:1 hfsc sc rate 50mbit ul rate 50mbit" >/etc/pspat/va.tc
ip netns exec "$a" pspat-tc-apply va >"$tmp/apply.log" 2>&1
check_eq "pspat-tc-apply va (PATH, /etc/pspat/va.tc): pspat root, hfsc child" \
	"$(qkind "$a" va root) $(qkind "$a" va 1:1)" "pspat hfsc"
rm -r /etc/pspat
check_eq "the unit runs the packaged pspat-tc-apply" \
	"$(sed -n 's/^ExecStart=//p' /lib/systemd/system/pspat-tc@.service)" "/usr/sbin/pspat-tc-apply %I"
check_eq "man -w finds tc-pspat(8) and pspat-tc-apply(8)" \
	"$(man -w tc-pspat pspat-tc-apply 2>&1 | tr '\n' ' ')" \
	"/usr/share/man/man8/tc-pspat.8.gz /usr/share/man/man8/pspat-tc-apply.8.gz "
check_eq "bpftrace scripts executable in /usr/share/sch-pspat/bpftrace" \
	"$(find /usr/share/sch-pspat/bpftrace -name '*.bt' -perm -0755 | wc -l)" \
	"$(ls "$PSPAT_TOP"/scripts/bpftrace/*.bt | wc -l)"
check_eq "/etc/modprobe.d/sch_pspat.conf: examples only, modprobe sees no option" \
	"$(grep -c '^#options sch_pspat' /etc/modprobe.d/sch_pspat.conf) $(modprobe -c | grep -c '^options sch_pspat')" \
	"$(grep -c '^#options sch_pspat' "$PSPAT_TOP/boot/sch_pspat.conf") 0"
tc -n "$a" qdisc del dev va root
check "module unloads" wait_for 30 rmmod sch_pspat

check "dpkg --purge both" \
	eval 'dpkg_do dpkg --purge sch-pspat-tools && dpkg_do dk dpkg --purge sch-pspat-dkms'
left=$(cd "$tmp/ovl" && find . -path '*/work' -prune -o -iname '*pspat*' -print)
check_eq "nothing left: no *pspat* file in /usr, /etc, /var${broot:+ and the Debian 13 root}; dkms status empty" \
	"$left$(dk dkms status -m sch_pspat)" ""
check_fails "modprobe no longer finds sch_pspat" modprobe -n sch_pspat
ktap_finish
