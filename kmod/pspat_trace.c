// SPDX-License-Identifier: GPL-2.0
/* pspat_trace.c - instantiates the tracepoints declared in pspat_trace.h. */
#define CREATE_TRACE_POINTS
#include "pspat_trace.h"
