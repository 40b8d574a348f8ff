// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_xmitbench.c - the sender of the instruction-count benchmark: it
 * hands UDP datagrams to dev_queue_xmit() from the writer's context and
 * brackets each call with the span marker of the counting plugin
 * (tools/qemu-insn, docs/insn-count.md), so that the plugin counts what
 * the sending CPU executes in dev_queue_xmit(), entry to return: the core,
 * the root qdisc's enqueue and qdisc_run() after it. Building the skb is
 * outside the span. Without the plugin the marker is a no-op.
 *
 *   echo "DEV N" > /sys/module/pspat_xmitbench/parameters/run
 *
 * DEV is a device of the writer's netns; N datagrams from 198.18.0.1:9 to
 * 198.18.0.2:9, 64 bytes of payload, Ethernet broadcast. Pin the writer
 * to one CPU (a span is per vCPU). The write fails with the first error;
 * parameters sent and refused say what dev_queue_xmit() returned; gap_us
 * spaces the datagrams (a busy wait, outside the span). A test helper,
 * never loaded elsewhere.
 */
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#define XB_PAYLOAD	64
#define XB_SRC		0xc6120001	/* 198.18.0.1 */
#define XB_DST		0xc6120002	/* 198.18.0.2 */

static unsigned long sent;
module_param(sent, ulong, 0444);
MODULE_PARM_DESC(sent, "datagrams dev_queue_xmit() accepted (NET_XMIT_SUCCESS), all runs");
static unsigned long refused;
module_param(refused, ulong, 0444);
MODULE_PARM_DESC(refused, "datagrams it did not, all runs");
static unsigned int gap_us;
module_param(gap_us, uint, 0644);
MODULE_PARM_DESC(gap_us, "busy wait after each datagram, microseconds (0-1000)");

/* The plugin's span marker: xchg %rcx,%rcx, matched by its bytes. */
static __always_inline void xb_mark(void)
{
	asm volatile(".byte 0x48, 0x87, 0xc9" ::: "rcx", "memory");
}

static struct sk_buff *xb_build(struct net_device *dev)
{
	unsigned int len = sizeof(struct iphdr) + sizeof(struct udphdr) + XB_PAYLOAD;
	struct sk_buff *skb;
	struct udphdr *uh;
	struct iphdr *iph;

	skb = alloc_skb(LL_RESERVED_SPACE(dev) + len, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, LL_RESERVED_SPACE(dev));
	skb_reset_network_header(skb);
	iph = skb_put(skb, sizeof(*iph));
	skb_set_transport_header(skb, sizeof(*iph));
	uh = skb_put(skb, sizeof(*uh));
	skb_put_zero(skb, XB_PAYLOAD);

	uh->source = htons(9);
	uh->dest = htons(9);
	uh->len = htons(sizeof(*uh) + XB_PAYLOAD);
	uh->check = 0;
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->tot_len = htons(len);
	iph->saddr = htonl(XB_SRC);
	iph->daddr = htonl(XB_DST);
	ip_send_check(iph);

	skb->dev = dev;
	skb->protocol = htons(ETH_P_IP);
	if (dev_hard_header(skb, dev, ETH_P_IP, dev->broadcast, dev->dev_addr,
			    skb->len) < 0) {
		kfree_skb(skb);
		return NULL;
	}
	return skb;
}

static int xb_run(const char *val, const struct kernel_param *kp)
{
	char name[IFNAMSIZ];
	struct net_device *dev;
	unsigned long n, i;
	int err = 0;

	if (sscanf(val, "%15s %lu", name, &n) != 2 || !n)
		return -EINVAL;
	dev = dev_get_by_name(current->nsproxy->net_ns, name);
	if (!dev)
		return -ENODEV;
	for (i = 0; i < n; i++) {
		struct sk_buff *skb = xb_build(dev);
		int ret;

		if (!skb) {
			err = -ENOMEM;
			break;
		}
		xb_mark();
		ret = dev_queue_xmit(skb);
		xb_mark();
		if (ret == NET_XMIT_SUCCESS)
			sent++;
		else
			refused++;
		if (gap_us)	/* a light load: the arbiter meets each alone */
			udelay(min(gap_us, 1000U));
		cond_resched();
	}
	dev_put(dev);
	return err;
}

static const struct kernel_param_ops xb_run_ops = {
	.set = xb_run,
};
module_param_cb(run, &xb_run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "\"DEV N\": send N datagrams through DEV");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sch_pspat benchmark helper: dev_queue_xmit() in counted spans");
