// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_params.c - module parameters, readable and writable at run time in
 * /sys/module/sch_pspat/parameters. Global: they apply to the one arbiter
 * and dispatcher serving every pspat qdisc. A bad value is refused with
 * -EINVAL and the reason in the kernel log; the old value stays.
 *
 *  xmit_mode          arbiter | dispatcher        next arbiter round
 *  arb_batch          1..4096   packets per mailbox and per child, a round
 *  dispatch_batch     1..4096   packets per dispatcher batch
 *  mailbox_entries    power of 2, 8..65536         new mailboxes
 *  mailbox_line_size  power of 2, 64..4096 bytes   new mailboxes
 *  arbiter_cpu        -1 (unpinned) or an online CPU   at once, and again
 *  dispatcher_cpu     -1 (unpinned) or an online CPU   after CPU hotplug
 *  idle_poll_us       0..1000000: how long an idle arbiter polls before
 *                     sleeping
 *  max_mailboxes      0..1048576 thread mailboxes; beyond, threads share
 *                     their CPU's mailbox                    new mailboxes
 *  mailbox_idle_ms    0..3600000: a live thread's mailbox idle this long
 *                     is reclaimed; 0: only when the thread exits   at once
 */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/stringify.h>

#include "pspat.h"

/*
 * The defaults, named once: the variables start at them and modinfo's
 * descriptions quote them (__stringify), so the two cannot disagree.
 */
#define PSPAT_DEF_BATCH		64
#define PSPAT_DEF_MB_ENTRIES	512
#define PSPAT_DEF_MB_LINE	128
#define PSPAT_DEF_CPU		-1
#define PSPAT_DEF_IDLE_POLL_US	50
#define PSPAT_DEF_MAILBOXES	1024
#define PSPAT_DEF_MB_IDLE_MS	1000

int pspat_xmit_mode = PSPAT_XMIT_ARBITER;	/* "arbiter" below */
unsigned int pspat_arb_batch = PSPAT_DEF_BATCH;
unsigned int pspat_dispatch_batch = PSPAT_DEF_BATCH;
unsigned int pspat_mailbox_entries = PSPAT_DEF_MB_ENTRIES;
unsigned int pspat_mailbox_line_size = PSPAT_DEF_MB_LINE;
int pspat_arbiter_cpu = PSPAT_DEF_CPU;
int pspat_dispatcher_cpu = PSPAT_DEF_CPU;
unsigned int pspat_idle_poll_us = PSPAT_DEF_IDLE_POLL_US;
unsigned int pspat_max_mailboxes = PSPAT_DEF_MAILBOXES;
unsigned int pspat_mailbox_idle_ms = PSPAT_DEF_MB_IDLE_MS;

#define PSPAT_MAX_BATCH		4096
#define PSPAT_MIN_MB_ENTRIES	8
#define PSPAT_MAX_MB_ENTRIES	65536
#define PSPAT_MAX_IDLE_POLL_US	1000000
#define PSPAT_MAX_MAILBOXES	1048576
#define PSPAT_MAX_MB_IDLE_MS	3600000

static const char * const pspat_mode_names[] = {
	[PSPAT_XMIT_ARBITER]	= "arbiter",
	[PSPAT_XMIT_DISPATCHER]	= "dispatcher",
};

static int pspat_set_mode(const char *val, const struct kernel_param *kp)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pspat_mode_names); i++) {
		if (sysfs_streq(val, pspat_mode_names[i])) {
			WRITE_ONCE(pspat_xmit_mode, i);
			pspat_arb_params_changed();
			return 0;
		}
	}
	pr_warn("sch_pspat: xmit_mode must be 'arbiter' or 'dispatcher'\n");
	return -EINVAL;
}

static int pspat_get_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", pspat_mode_names[READ_ONCE(pspat_xmit_mode)]);
}

static const struct kernel_param_ops pspat_mode_ops = {
	.set = pspat_set_mode,
	.get = pspat_get_mode,
};

/* An unsigned value in [min, max], optionally a power of two. */
static int pspat_set_uint(const char *val, const struct kernel_param *kp,
			  unsigned int min, unsigned int max, bool pow2,
			  unsigned int *out)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < min || v > max ||
	    (pow2 && !is_power_of_2(v))) {
		pr_warn("sch_pspat: %s must be %san integer in [%u, %u]\n",
			kp->name, pow2 ? "a power of two, " : "", min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int pspat_set_batch(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err = pspat_set_uint(val, kp, 1, PSPAT_MAX_BATCH, false, &v);

	if (!err)
		WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return err;
}

static int pspat_set_max_mailboxes(const char *val,
				   const struct kernel_param *kp)
{
	unsigned int v;
	int err = pspat_set_uint(val, kp, 0, PSPAT_MAX_MAILBOXES, false, &v);

	if (!err)
		WRITE_ONCE(pspat_max_mailboxes, v);
	return err;
}

static const struct kernel_param_ops pspat_max_mailboxes_ops = {
	.set = pspat_set_max_mailboxes,
	.get = param_get_uint,
};

/*
 * Arbiter timing: mailbox_idle_ms and idle_poll_us, each bounded by its
 * own maximum; a change wakes the arbiter to take it.
 */
static int pspat_set_arb_timing(const char *val,
				const struct kernel_param *kp)
{
	unsigned int max = kp->arg == &pspat_mailbox_idle_ms ?
			   PSPAT_MAX_MB_IDLE_MS : PSPAT_MAX_IDLE_POLL_US;
	unsigned int v;
	int err = pspat_set_uint(val, kp, 0, max, false, &v);

	if (!err) {
		WRITE_ONCE(*(unsigned int *)kp->arg, v);
		pspat_arb_params_changed();
	}
	return err;
}

static const struct kernel_param_ops pspat_arb_timing_ops = {
	.set = pspat_set_arb_timing,
	.get = param_get_uint,
};

/*
 * Entries and line size must form a valid IFFQ together (two lines at
 * least). At load time the values come in the order the command line
 * gives them, so each is only range-checked then, and the pair once all
 * are parsed (pspat_params_check(), from module init); afterwards, every
 * write is checked against the other value. Writes through sysfs are
 * serialised by the module's kernel_param_lock(), so two of them cannot
 * each pass against the other's old value.
 */
static bool pspat_params_loaded;

static int pspat_check_geometry(unsigned int entries, unsigned int line)
{
	if (!iffq_check_geometry(entries, line))
		return 0;
	pr_warn("sch_pspat: mailbox_entries (%u) x 8 bytes must span two mailbox_line_size (%u) lines\n",
		entries, line);
	return -EINVAL;
}

static int pspat_set_geometry(const char *val, const struct kernel_param *kp)
{
	bool entries = kp->arg == &pspat_mailbox_entries;
	unsigned int v;
	int err;

	if (entries)
		err = pspat_set_uint(val, kp, PSPAT_MIN_MB_ENTRIES,
				     PSPAT_MAX_MB_ENTRIES, true, &v);
	else
		err = pspat_set_uint(val, kp, IFFQ_MIN_LINE, IFFQ_MAX_LINE,
				     true, &v);
	if (err)
		return err;
	if (pspat_params_loaded &&
	    pspat_check_geometry(entries ? v : pspat_mailbox_entries,
				 entries ? pspat_mailbox_line_size : v))
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

/* Module init, once every load-time parameter is parsed. */
int pspat_params_check(void)
{
	int err = pspat_check_geometry(pspat_mailbox_entries,
				       pspat_mailbox_line_size);

	if (!err)
		pspat_params_loaded = true;
	return err;
}

static int pspat_set_cpu(const char *val, const struct kernel_param *kp)
{
	int v;

	if (kstrtoint(val, 0, &v) || v < -1 || v >= (int)nr_cpu_ids ||
	    (v >= 0 && !cpu_online(v))) {
		pr_warn("sch_pspat: %s must be -1 (unpinned) or an online CPU\n",
			kp->name);
		return -EINVAL;
	}
	WRITE_ONCE(*(int *)kp->arg, v);
	pspat_arb_params_changed();
	return 0;
}

static const struct kernel_param_ops pspat_batch_ops = {
	.set = pspat_set_batch,
	.get = param_get_uint,
};

static const struct kernel_param_ops pspat_geometry_ops = {
	.set = pspat_set_geometry,
	.get = param_get_uint,
};

static const struct kernel_param_ops pspat_cpu_ops = {
	.set = pspat_set_cpu,
	.get = param_get_int,
};

/* Each description ends with the default, for `modinfo -p`. */
module_param_cb(xmit_mode, &pspat_mode_ops, &pspat_xmit_mode, 0644);
MODULE_PARM_DESC(xmit_mode,
		 "who calls the driver: arbiter or dispatcher (default arbiter)");
module_param_cb(arb_batch, &pspat_batch_ops, &pspat_arb_batch, 0644);
MODULE_PARM_DESC(arb_batch,
		 "packets the arbiter takes per mailbox and per child in a round (1-4096, default "
		 __stringify(PSPAT_DEF_BATCH) ")");
module_param_cb(dispatch_batch, &pspat_batch_ops, &pspat_dispatch_batch, 0644);
MODULE_PARM_DESC(dispatch_batch,
		 "packets the dispatcher transmits per batch (1-4096, default "
		 __stringify(PSPAT_DEF_BATCH) ")");
module_param_cb(mailbox_entries, &pspat_geometry_ops, &pspat_mailbox_entries, 0644);
MODULE_PARM_DESC(mailbox_entries,
		 "slots of new mailboxes (power of 2, 8-65536, default "
		 __stringify(PSPAT_DEF_MB_ENTRIES) ")");
module_param_cb(mailbox_line_size, &pspat_geometry_ops, &pspat_mailbox_line_size, 0644);
MODULE_PARM_DESC(mailbox_line_size,
		 "IFFQ line of new mailboxes in bytes (power of 2, 64-4096, default "
		 __stringify(PSPAT_DEF_MB_LINE) ")");
module_param_cb(arbiter_cpu, &pspat_cpu_ops, &pspat_arbiter_cpu, 0644);
MODULE_PARM_DESC(arbiter_cpu,
		 "CPU of the arbiter kthread, -1 unpinned (default "
		 __stringify(PSPAT_DEF_CPU) ")");
module_param_cb(dispatcher_cpu, &pspat_cpu_ops, &pspat_dispatcher_cpu, 0644);
MODULE_PARM_DESC(dispatcher_cpu,
		 "CPU of the dispatcher kthread, -1 unpinned (default "
		 __stringify(PSPAT_DEF_CPU) ")");
module_param_cb(idle_poll_us, &pspat_arb_timing_ops, &pspat_idle_poll_us, 0644);
MODULE_PARM_DESC(idle_poll_us,
		 "microseconds an idle arbiter polls before sleeping (0-1000000, default "
		 __stringify(PSPAT_DEF_IDLE_POLL_US) ")");
module_param_cb(max_mailboxes, &pspat_max_mailboxes_ops, &pspat_max_mailboxes, 0644);
MODULE_PARM_DESC(max_mailboxes,
		 "thread mailboxes at most; beyond, threads share their CPU's mailbox (0-1048576, default "
		 __stringify(PSPAT_DEF_MAILBOXES) ")");
module_param_cb(mailbox_idle_ms, &pspat_arb_timing_ops, &pspat_mailbox_idle_ms, 0644);
MODULE_PARM_DESC(mailbox_idle_ms,
		 "a live thread's mailbox idle this long is reclaimed, 0 only at its exit (0-3600000, default "
		 __stringify(PSPAT_DEF_MB_IDLE_MS) ")");
