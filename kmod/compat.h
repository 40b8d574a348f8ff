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

/*
 * 6.8 gave each packet a qdisc drops its own reason (tc_skb_cb's
 * drop_reason: the core presets QDISC_DROP before the enqueue and frees
 * to_free with the reason the qdisc set); before, the core freed them all
 * as QDISC_DROP. pspat does what the core of each kernel does for the
 * child.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define pspat_preset_drop_reason(skb) \
	tcf_set_drop_reason(skb, SKB_DROP_REASON_QDISC_DROP)
#define pspat_drop_reason(skb) tcf_get_drop_reason(skb)
#else
#define pspat_preset_drop_reason(skb) do { } while (0)
#define pspat_drop_reason(skb) SKB_DROP_REASON_QDISC_DROP
#endif

#endif /* _PSPAT_COMPAT_H */
