/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the differences between the kernels sch_pspat supports
 * (Debian's 6.1 LTS, 6.12 and trixie-backports' 7.3; README: Kernels), in
 * one place.
 */
#ifndef _PSPAT_COMPAT_H
#define _PSPAT_COMPAT_H

#include <linux/version.h>
#include <net/pkt_sched.h>

/*
 * The range built and tested. Older kernels lack APIs pspat needs (5.10:
 * README: Kernels); newer ones are unknown: say so rather than fail in the
 * compiler or, worse, build something untested. dkms.conf's
 * BUILD_EXCLUSIVE_KERNEL says the same to DKMS.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
	LINUX_VERSION_CODE >= KERNEL_VERSION(7, 4, 0)
#error "sch_pspat supports Linux 6.1 to 7.3 (README: Kernels); this kernel is outside that range"
#endif

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

/*
 * The sched_process_exit tracepoint passes group_dead in newer kernels (7.3;
 * not 6.12): (struct task_struct *p, bool group_dead); before, just the task.
 * Told apart by the probe type the kernel's header declares (its
 * register_trace_sched_process_exit()), not by version: the probe is
 * registered by tracepoint, untyped, so a mismatch would compile and trap
 * under kCFI. For a file that includes <trace/events/sched.h>:
 * pspat_exit_probe_pick(old, new) is the probe of this kernel's prototype
 * (the other one is not called), pspat_exit_probe_ok(probe) checks it.
 */
typedef void (*pspat_exit_probe1_t)(void *data, struct task_struct *p);
typedef void (*pspat_exit_probe2_t)(void *data, struct task_struct *p,
				    bool group_dead);
#define pspat_exit_tp_is(probe_t) \
	__same_type(&register_trace_sched_process_exit, int (*)(probe_t, void *))
#define pspat_exit_probe_pick(old, new) \
	__builtin_choose_expr(pspat_exit_tp_is(pspat_exit_probe2_t), new, old)
#define pspat_exit_probe_ok(probe) \
	__same_type(&register_trace_sched_process_exit, \
		    int (*)(typeof(probe) *, void *))

#endif /* _PSPAT_COMPAT_H */
