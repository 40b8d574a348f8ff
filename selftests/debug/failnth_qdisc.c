// SPDX-License-Identifier: GPL-2.0
/*
 * failnth_qdisc - make the Nth kernel allocation of `tc qdisc add dev DEV
 * root handle 1: pspat` fail, for N = FROM..TO, and report how each
 * attempt ended. Used by selftests/debug/test_failslab.sh on the debug
 * kernel (CONFIG_FAULT_INJECTION, /proc/thread-self/fail-nth).
 *
 *   failnth_qdisc DEV FROM TO
 *
 * One line per N on stdout:
 *   nth N err ERRNO injected 0|1 msg "EXTACK MESSAGE"
 * err 0 = the qdisc was created (then it is deleted again). injected 1 =
 * the Nth allocation point was reached (and failed) during the request.
 * The sweep ends at the first N whose request completes without reaching
 * the Nth allocation: every allocation of the path has been failed once.
 * Exit status: 0 sweep complete, 2 a failed attempt left a qdisc behind
 * (EEXIST on the next one) or another protocol error, 3 TO reached.
 *
 * The netlink message is sent right after writing N into fail-nth, from
 * the same thread, so only the kernel work of this one request counts.
 * rtnetlink runs the request synchronously in sendmsg().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

static int nl_fd;
static unsigned int seq = 1;

struct req {
	struct nlmsghdr n;
	struct tcmsg t;
	char buf[64];
};

static void add_attr(struct nlmsghdr *n, int type, const void *data, int len)
{
	struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void build(struct req *r, int type, int flags, int ifindex)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	r->n.nlmsg_type = type;
	r->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->n.nlmsg_seq = ++seq;
	r->t.tcm_family = AF_UNSPEC;
	r->t.tcm_ifindex = ifindex;
	r->t.tcm_parent = TC_H_ROOT;
	if (type == RTM_NEWQDISC) {
		r->t.tcm_handle = 0x10000;
		add_attr(&r->n, TCA_KIND, "pspat", 6);
	}
}

/*
 * The ack of request @s: 0 or a positive errno, the extack text in @msg;
 * a negative errno when the socket lost it (the ack itself could not be
 * allocated: ENOBUFS).
 */
static int recv_ack(unsigned int s, char *msg, size_t msglen)
{
	static char buf[65536];

	msg[0] = 0;
	for (;;) {
		ssize_t len = recv(nl_fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e;
			struct rtattr *a;
			int alen;

			if (h->nlmsg_seq != s || h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
				a = (struct rtattr *)((char *)e + sizeof(*e));
				alen = (char *)h + h->nlmsg_len - (char *)a;
				for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type == NLMSGERR_ATTR_MSG)
						snprintf(msg, msglen, "%s", (char *)RTA_DATA(a));
			}
			return -e->error;
		}
	}
}

static int talk(struct req *r, char *msg, size_t msglen)
{
	if (send(nl_fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	return recv_ack(r->n.nlmsg_seq, msg, msglen);
}

int main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, ifindex, fail_fd, err, injected;
	unsigned long from, to, n;
	char msg[512], num[32];
	struct req r;
	ssize_t got;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEV FROM TO\n", argv[0]);
		return 1;
	}
	ifindex = if_nametoindex(argv[1]);
	from = strtoul(argv[2], NULL, 0);
	to = strtoul(argv[3], NULL, 0);
	if (!ifindex || !from || to < from) {
		fprintf(stderr, "failnth_qdisc: bad device or range\n");
		return 1;
	}
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0 || bind(nl_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("netlink");
		return 1;
	}
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	fail_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fail_fd < 0) {
		perror("/proc/thread-self/fail-nth");
		return 1;
	}

	for (n = from; n <= to; n++) {
		int len = snprintf(num, sizeof(num), "%lu", n);

		build(&r, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex);
		if (pwrite(fail_fd, num, len, 0) != len) {
			perror("fail-nth");
			return 1;
		}
		if (send(nl_fd, &r, r.n.nlmsg_len, 0) < 0) {
			err = errno;
			msg[0] = 0;
			got = pread(fail_fd, num, sizeof(num) - 1, 0);
			pwrite(fail_fd, "0", 1, 0);
		} else {
			got = pread(fail_fd, num, sizeof(num) - 1, 0);
			pwrite(fail_fd, "0", 1, 0);
			err = recv_ack(r.n.nlmsg_seq, msg, sizeof(msg));
		}
		num[got > 0 ? got : 0] = 0;
		injected = got > 0 && strtoul(num, NULL, 0) == 0;
		if (err < 0) {
			/* Ack lost: did the add succeed? Delete to find out. */
			build(&r, RTM_DELQDISC, 0, ifindex);
			if (talk(&r, msg, sizeof(msg)) == 0) {
				printf("nth %lu err 0 injected %d msg \"(ack lost; the qdisc existed: deleted)\"\n",
				       n, injected);
				fflush(stdout);
				continue;
			}
			snprintf(msg, sizeof(msg), "(ack lost: %s)", strerror(-err));
			err = -err;
		}
		printf("nth %lu err %d injected %d msg \"%s\"\n", n, err, injected, msg);
		fflush(stdout);
		if (err == EEXIST) {
			printf("# a qdisc was left behind by an earlier failed add\n");
			return 2;
		}
		if (err == 0) {
			build(&r, RTM_DELQDISC, 0, ifindex);
			err = talk(&r, msg, sizeof(msg));
			if (err) {
				printf("# delete after add failed: %d %s\n", err, msg);
				return 2;
			}
			if (!injected)
				return 0;
		}
	}
	return 3;
}
