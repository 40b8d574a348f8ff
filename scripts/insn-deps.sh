#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# What building the instruction counter (tools/qemu-insn, `make insn-plugin`)
# needs, on Debian 12 (root for the packages). Idempotent: a second run
# installs and downloads nothing. `make deps` runs it.
#
#  1. Packages: the compiler, static libc/libstdc++ (insn-window runs in the
#     guest), and glib's headers (qemu-plugin.h includes glib.h).
#  2. qemu-plugin.h of the installed QEMU, from Debian's qemu source package
#     in bookworm-backports (where `make deps` takes QEMU from), into
#     build/qemu-plugin/. Only that header is extracted from the orig
#     tarball; no other QEMU file is kept. The deb-src entry is temporary: a
#     private apt configuration under build/qemu-plugin/apt (URI and
#     signing key taken from the existing entries under /etc/apt), removed
#     afterwards; the system's apt sources and lists are not touched.
#
# Usage: scripts/insn-deps.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/build/qemu-plugin
suite=bookworm-backports
packages=(g++ make libc6-dev libglib2.0-dev pkg-config xz-utils)

log() { printf 'insn-deps: %s\n' "$*" >&2; }
die() { printf 'insn-deps: error: %s\n' "$*" >&2; exit 1; }

installed() {
	dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null | grep -qx installed
}

install_packages() {
	local p missing=()
	for p in "${packages[@]}"; do
		installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && { log "packages: all present"; return; }
	[ "$(id -u)" = 0 ] || die "run as root to install: ${missing[*]}"
	log "installing: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# archive_of SUITE: "URI SIGNED-BY" of the first deb entry for SUITE under
# /etc/apt (deb822 .sources first, then one-line .list files).
archive_of() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk -v want="$1" '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uri != "")
				{ print uri, (key == "" ? "-" : key); found = 1; exit }
			types = suites = uri = key = ""
		}
		/^[ \t]*$/     { flush(); next }
		/^Types:/      { $1 = ""; types = $0 }
		/^Suites:/     { $1 = ""; suites = $0 }
		/^URIs:/       { uri = $2 }
		/^Signed-By:/  { key = $2 }
		END { if (!found) flush() }' "$f"
	done
	{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
		awk -v want="$1" '$1 == "deb" {
			u = $2; s = $3
			if ($2 ~ /^\[/) { for (i = 2; i <= NF && $i !~ /\]$/; i++); u = $(i + 1); s = $(i + 2) }
			if (s == want) { print u, "-"; exit } }'
}

fetch_header() {
	local src ver upstream archive uri key apt_dir o uris line url file hash tarball
	installed qemu-system-x86 || die "qemu-system-x86 is not installed: run 'make deps'"
	read -r src ver < <(dpkg-query -W -f='${source:Package} ${source:Version}\n' qemu-system-x86)
	if [ -f "$dir/version" ] && [ "$(cat "$dir/version")" = "$ver" ] &&
	   [ -f "$dir/qemu-plugin.h" ]; then
		log "qemu-plugin.h of $src $ver present"
		return
	fi
	# The backports entry `make deps` added, or else the plain bookworm one:
	# the same archive carries every suite.
	archive=$(archive_of "$suite" | head -n1)
	[ -n "$archive" ] || archive=$(archive_of bookworm | head -n1)
	[ -n "$archive" ] || die "no bookworm entry under /etc/apt to derive a deb-src entry from"
	read -r uri key <<<"$archive"
	[ "$key" != - ] || key=/usr/share/keyrings/debian-archive-keyring.gpg

	log "qemu-plugin.h of $src $ver: fetching ($suite source index, orig tarball)"
	apt_dir=$dir/apt
	rm -rf "$apt_dir"
	mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/dl"
	trap 'rm -rf "$apt_dir"' EXIT
	cat >"$apt_dir/sources/src.sources" <<-EOF
	Types: deb-src
	URIs: $uri
	Suites: $suite
	Components: main
	Signed-By: $key
	EOF
	o=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources"
		-o "Dir::State::Lists=$apt_dir/lists" -o Dir::Cache::pkgcache=
		-o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
	apt-get -qq "${o[@]}" update
	# Resolve the files of the source package, then fetch only the orig
	# tarball with apt's own downloader (checked against the index's hash).
	uris=$(apt-get -qq "${o[@]}" source --print-uris "$src=$ver" 2>/dev/null) || {
		log "warning: $src $ver is not in $suite; taking its newest $src there"
		uris=$(apt-get -qq "${o[@]}" source --print-uris "$src") ||
			die "no $src source package in $suite"
	}
	line=$(grep -E "^'[^']*\.orig\.tar\.[a-z0-9]+' " <<<"$uris" | head -n1)
	[ -n "$line" ] || die "no orig tarball among the files of $src: $uris"
	read -r url file _ hash <<<"$line"
	url=${url//\'/}
	tarball=$apt_dir/dl/$file
	/usr/lib/apt/apt-helper -qq -o APT::Sandbox::User=root download-file "$url" "$tarball" "$hash" >/dev/null
	tar -xf "$tarball" -C "$apt_dir/dl" --no-same-owner --wildcards --no-anchored \
		--strip-components=3 '*/include/qemu/qemu-plugin.h'
	[ -f "$apt_dir/dl/qemu-plugin.h" ] || die "$file has no include/qemu/qemu-plugin.h"
	mv "$apt_dir/dl/qemu-plugin.h" "$dir/qemu-plugin.h"
	upstream=${file#"${src}_"}
	echo "$ver" >"$dir/version"
	echo "${upstream%%.orig.*}" >"$dir/upstream"
	rm -rf "$apt_dir"
	trap - EXIT
	log "qemu-plugin.h ready in $dir (from $file)"
}

[ $# = 0 ] || die "usage: $0"
mkdir -p "$dir"
install_packages
fetch_header
log "done"
