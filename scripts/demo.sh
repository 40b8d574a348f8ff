#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: install what is missing, build, and run the demo in a VM
# (scripts/demo-guest.sh): HFSC under pspat sharing a link among tenants.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=${PSPAT_DEMO_KERNEL:-6.1}
if [ "$(id -u)" = 0 ]; then
	"$top/scripts/deps.sh"
fi
make -C "$top" --no-print-directory KVER="$kernel" module >/dev/null
make -C "$top" --no-print-directory user >/dev/null
exec "$top/scripts/vm" --kernel "$kernel" --timeout 300 -- "$top/scripts/demo-guest.sh"
