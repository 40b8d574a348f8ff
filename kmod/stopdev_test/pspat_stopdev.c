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
 */
#include <linux/etherdevice.h>
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

struct stopdev_queue {
	struct sk_buff_head	held;
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
	for (i = 0; i < dev->real_num_tx_queues; i++) {
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

static void stopdev_setup(struct net_device *dev)
{
	struct stopdev_priv *p = netdev_priv(dev);
	unsigned int i;

	ether_setup(dev);
	dev->netdev_ops = &stopdev_ops;
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
