// SPDX-License-Identifier: GPL-2.0
/*
 * EDT pacing from a clsact egress program, as Cilium's bandwidth manager
 * does: each packet's skb->tstamp is its earliest departure time
 * (CLOCK_MONOTONIC), spaced so that the device's packets leave at
 * EDT_RATE bytes per second, and fq, the qdisc under the hook, holds each
 * one until then. The selftest child_fq_edt attaches it in front of pspat
 * with fq as pspat's child, and with fq as root for comparison.
 *
 * One aggregate for the whole device, as one pod is for Cilium: the time
 * the next packet may leave, in an array map. A packet whose slot is
 * further than EDT_HORIZON ahead is dropped here (TC_ACT_SHOT: the sender
 * sees ENOBUFS with IP_RECVERR) and takes no slot, as Cilium's horizon
 * drop: fq then holds at most EDT_HORIZON of packets (60 at this rate,
 * under its flow_limit of 100), and every slot is a packet sent. Two CPUs
 * racing on the map may give two packets one slot; the test sends from
 * one CPU.
 * Built by `make user` (clang -target bpf, with libbpf's headers) into
 * build/user/selftests/bpf/edt_pace.bpf.o; tc loads it (libbpf).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define NSEC_PER_SEC	1000000000ULL
#define EDT_RATE	1250000ULL	/* bytes per second: 10 Mbit/s */
#define EDT_HORIZON	50000000ULL	/* ns: 50 ms */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} edt_next SEC(".maps");

SEC("tc")
int edt_pace(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_ns(), t;
	__u32 key = 0;
	__u64 *next;

	next = bpf_map_lookup_elem(&edt_next, &key);
	if (!next)
		return TC_ACT_OK;
	t = *next > now ? *next : now;
	if (t - now > EDT_HORIZON)
		return TC_ACT_SHOT;
	skb->tstamp = t;
	*next = t + skb->len * NSEC_PER_SEC / EDT_RATE;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
