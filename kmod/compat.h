/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the differences between the kernels sch_pspat supports
 * (Debian's 6.1 LTS and 6.12), in one place.
 */
#ifndef _PSPAT_COMPAT_H
#define _PSPAT_COMPAT_H

#include <linux/version.h>
#include <net/pkt_sched.h>

/*
 * 6.9 made qdisc auto-loading request "net-sch-<kind>"; older kernels ask
 * for "sch_<kind>", which is the module's own name.
 */
#ifndef MODULE_ALIAS_NET_SCH
#define MODULE_ALIAS_NET_SCH(id) MODULE_ALIAS("sch_" id)
#endif

#endif /* _PSPAT_COMPAT_H */
