// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_stopdev.c - a test-only Ethernet device whose transmit queues can
 * be made to fill up and stop, like a NIC whose ring is full, so that the
 * selftests can check pspat's backpressure deterministically.
 *
 * On load it creates "pspatstop0" with @txqs queues. The txq of a packet
 * is skb->priority % txqs (set it with SO_PRIORITY). A queue whose bit is
 * set in @hold_mask keeps the packets it accepts in a ring of @ring slots
 * and stops itself when the ring is full; other queues free packets at
 * once. Writing anything to @drain frees every ring and wakes every
 * stopped queue. tx_packets counts the packets the driver accepted.
 *
 * With @xps set, the txq is the core's choice instead (netdev_pick_tx():
 * XPS by sending CPU, or the socket's cached queue). The driver also
 * checks the order of pspat-blast's UDP flows as it accepts them (its
 * packet header: tools/pspat_pkt.hpp): @checked counts such packets,
 * @reordered those whose sequence number is below one already seen in
 * the same run and flow.
 */
#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

static unsigned int txqs = 2;
module_param(txqs, uint, 0444);
MODULE_PARM_DESC(txqs, "number of transmit queues (1-16)");

static unsigned int ring = 16;
module_param(ring, uint, 0644);
MODULE_PARM_DESC(ring, "packets a holding queue accepts before it stops");

static unsigned int hold_mask;
module_param(hold_mask, uint, 0644);
MODULE_PARM_DESC(hold_mask, "bit i set: queue i keeps packets and stops when full");

static bool xps;
module_param(xps, bool, 0644);
MODULE_PARM_DESC(xps, "pick the txq as the core does (XPS) instead of by priority");

static unsigned int watchdog_ms;
module_param(watchdog_ms, uint, 0444);
MODULE_PARM_DESC(watchdog_ms, "0: no TX watchdog; else the core's watchdog fires on a queue stopped that long");

static unsigned long checked;
module_param(checked, ulong, 0444);
MODULE_PARM_DESC(checked, "pspat-blast packets whose order was checked");

static unsigned long reordered;
module_param(reordered, ulong, 0444);
MODULE_PARM_DESC(reordered, "pspat-blast packets that came after a later one of their flow");

#define STOPDEV_FLOWS	64
#define PSPAT_PKT_MAGIC	0x50535054

static struct {
	u32	run_id;
	u64	next;		/* lowest sequence number not seen yet */
} stopdev_flows[STOPDEV_FLOWS];
static DEFINE_SPINLOCK(stopdev_order_lock);

/* The pspat-blast header in a UDP/IPv4 packet: run, flow and sequence. */
static void stopdev_check_order(struct sk_buff *skb)
{
	struct {
		__be32	magic;
		__be16	version, hdr_len;
		__be32	flow_id, run_id;
		__be64	seq;
	} _h, *h;
	struct iphdr _ip, *ip;
	u32 flow, run;
	u64 seq;

	if (skb->protocol != htons(ETH_P_IP))
		return;
	ip = skb_header_pointer(skb, ETH_HLEN, sizeof(_ip), &_ip);
	if (!ip || ip->protocol != IPPROTO_UDP)
		return;
	h = skb_header_pointer(skb, ETH_HLEN + ip->ihl * 4 + sizeof(struct udphdr),
			       sizeof(_h), &_h);
	if (!h || be32_to_cpu(h->magic) != PSPAT_PKT_MAGIC)
		return;
	flow = be32_to_cpu(h->flow_id);
	run = be32_to_cpu(h->run_id);
	seq = be64_to_cpu(h->seq);
	if (flow >= STOPDEV_FLOWS)
		return;
	spin_lock(&stopdev_order_lock);
	checked++;
	if (stopdev_flows[flow].run_id != run) {
		stopdev_flows[flow].run_id = run;
		stopdev_flows[flow].next = 0;
	}
	if (seq < stopdev_flows[flow].next)
		reordered++;
	else
		stopdev_flows[flow].next = seq + 1;
	spin_unlock(&stopdev_order_lock);
}

struct stopdev_queue {
	struct sk_buff_head	held;
	unsigned long		packets;	/* accepted; under the txq lock */
};

struct stopdev_priv {
	struct stopdev_queue	q[16];
	atomic64_t		tx_packets;
	atomic64_t		tx_bytes;
};

static struct net_device *stopdev;

static netdev_tx_t stopdev_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct stopdev_priv *p = netdev_priv(dev);
	u16 i = skb_get_queue_mapping(skb);
	struct netdev_queue *txq = netdev_get_tx_queue(dev, i);

	atomic64_inc(&p->tx_packets);
	atomic64_add(skb->len, &p->tx_bytes);
	stopdev_check_order(skb);
	p->q[i].packets++;
	if (!(READ_ONCE(hold_mask) & BIT(i))) {
		consume_skb(skb);
		return NETDEV_TX_OK;
	}
	__skb_queue_tail(&p->q[i].held, skb);	/* under the txq lock */
	if (skb_queue_len(&p->q[i].held) >= READ_ONCE(ring))
		netif_tx_stop_queue(txq);
	return NETDEV_TX_OK;
}

static u16 stopdev_select_queue(struct net_device *dev, struct sk_buff *skb,
				struct net_device *sb_dev)
{
	if (READ_ONCE(xps))
		return netdev_pick_tx(dev, skb, sb_dev);
	return skb->priority % dev->real_num_tx_queues;
}

static void stopdev_get_stats64(struct net_device *dev,
				struct rtnl_link_stats64 *s)
{
	struct stopdev_priv *p = netdev_priv(dev);

	s->tx_packets = atomic64_read(&p->tx_packets);
	s->tx_bytes = atomic64_read(&p->tx_bytes);
}

static void stopdev_drain(struct net_device *dev)
{
	struct stopdev_priv *p = netdev_priv(dev);
	unsigned int i;

	local_bh_disable();
	for (i = 0; i < dev->num_tx_queues; i++) {	/* also cut ones */
		struct netdev_queue *txq = netdev_get_tx_queue(dev, i);

		__netif_tx_lock(txq, smp_processor_id());
		__skb_queue_purge(&p->q[i].held);
		__netif_tx_unlock(txq);
		netif_tx_wake_queue(txq);
	}
	local_bh_enable();
}

static int stopdev_set_drain(const char *val, const struct kernel_param *kp)
{
	rtnl_lock();
	if (stopdev)
		stopdev_drain(stopdev);
	rtnl_unlock();
	return 0;
}

static const struct kernel_param_ops stopdev_drain_ops = {
	.set = stopdev_set_drain,
};
module_param_cb(drain, &stopdev_drain_ops, NULL, 0200);
MODULE_PARM_DESC(drain, "write anything: free the held packets, wake the queues");

/* The driver cutting or restoring its tx queues, as ethtool -L does. */
static int stopdev_set_real_txqs(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	rtnl_lock();
	err = stopdev && v ? netif_set_real_num_tx_queues(stopdev, v) : -EINVAL;
	rtnl_unlock();
	return err;
}

static int stopdev_get_real_txqs(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", stopdev ? stopdev->real_num_tx_queues : 0);
}

static const struct kernel_param_ops stopdev_real_txqs_ops = {
	.set = stopdev_set_real_txqs,
	.get = stopdev_get_real_txqs,
};
module_param_cb(real_txqs, &stopdev_real_txqs_ops, NULL, 0644);
MODULE_PARM_DESC(real_txqs, "tx queues in use (1-txqs), changed like ethtool -L");

static int stopdev_get_txq_packets(char *buf, const struct kernel_param *kp)
{
	struct stopdev_priv *p;
	int i, n = 0;

	rtnl_lock();
	if (stopdev) {
		p = netdev_priv(stopdev);
		for (i = 0; i < stopdev->real_num_tx_queues; i++)
			n += scnprintf(buf + n, PAGE_SIZE - n, "%s%lu", i ? " " : "",
				       READ_ONCE(p->q[i].packets));
	}
	rtnl_unlock();
	return n + scnprintf(buf + n, PAGE_SIZE - n, "\n");
}

static const struct kernel_param_ops stopdev_txq_packets_ops = {
	.get = stopdev_get_txq_packets,
};
module_param_cb(txq_packets, &stopdev_txq_packets_ops, NULL, 0444);
MODULE_PARM_DESC(txq_packets, "packets each txq accepted, space-separated");

static int stopdev_stop(struct net_device *dev)
{
	stopdev_drain(dev);
	return 0;
}

static const struct net_device_ops stopdev_ops = {
	.ndo_start_xmit		= stopdev_xmit,
	.ndo_select_queue	= stopdev_select_queue,
	.ndo_get_stats64	= stopdev_get_stats64,
	.ndo_stop		= stopdev_stop,
	.ndo_set_mac_address	= eth_mac_addr,
};

/*
 * The core prints "NETDEV WATCHDOG" before it calls this; nothing to do.
 * A second ops table, not one with this hook always set: the core arms
 * its watchdog (5 s by default) for any device that has ndo_tx_timeout,
 * and the tests that hold a queue longer must not see it fire.
 */
static void stopdev_tx_timeout(struct net_device *dev, unsigned int txqueue)
{
}

static const struct net_device_ops stopdev_watchdog_ops = {
	.ndo_start_xmit		= stopdev_xmit,
	.ndo_select_queue	= stopdev_select_queue,
	.ndo_get_stats64	= stopdev_get_stats64,
	.ndo_stop		= stopdev_stop,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_tx_timeout		= stopdev_tx_timeout,
};

static void stopdev_setup(struct net_device *dev)
{
	struct stopdev_priv *p = netdev_priv(dev);
	unsigned int i;

	ether_setup(dev);
	dev->netdev_ops = watchdog_ms ? &stopdev_watchdog_ops : &stopdev_ops;
	dev->watchdog_timeo = msecs_to_jiffies(watchdog_ms);
	dev->needs_free_netdev = true;
	for (i = 0; i < ARRAY_SIZE(p->q); i++)
		skb_queue_head_init(&p->q[i].held);
	eth_hw_addr_random(dev);
}

static int __init stopdev_init(void)
{
	int err;

	if (!txqs || txqs > 16)
		return -EINVAL;
	stopdev = alloc_netdev_mqs(sizeof(struct stopdev_priv), "pspatstop%d",
				   NET_NAME_ENUM, stopdev_setup, txqs, 1);
	if (!stopdev)
		return -ENOMEM;
	err = register_netdev(stopdev);
	if (err) {
		free_netdev(stopdev);
		stopdev = NULL;
	}
	return err;
}

static void __exit stopdev_exit(void)
{
	struct net_device *dev = stopdev;

	rtnl_lock();
	stopdev = NULL;
	rtnl_unlock();
	unregister_netdev(dev);
}

module_init(stopdev_init);
module_exit(stopdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sch_pspat selftest helper: a device whose queues stop on demand");
