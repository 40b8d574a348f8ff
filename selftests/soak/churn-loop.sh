#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helper of test_churn_soak.sh: runs a sender (pspat-churn) again and again,
# back to back, until STOPFILE exists; each run's JSON summary is appended
# to OUT, one line per run.
#
#   churn-loop.sh STOPFILE OUT CMD [ARGS...]
stop=$1 out=$2
shift 2
while [ ! -e "$stop" ]; do
	"$@" >>"$out" 2>/dev/null
done
