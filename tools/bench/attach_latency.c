/* attach_latency.c - how long after a veth appears segd's tc programs are
 * on it. Run in segd's netns with endpoints PREFIX0..PREFIX<N-1> already
 * registered (tools/bench/attach.sh does this):
 *
 *   bench_attach_latency PREFIX N [GAP_MS]
 *
 * Each round creates veth PREFIXi through netlink (as a CNI does), then
 * polls bpf_tc_query on both hooks until segd's filters are there, then
 * deletes the veth. Side by side: the kernel's own time to create the veth
 * (request to ack) and request to enforcement (segd hears of the link
 * before the ack, so this is from the request), with their ratio. GAP_MS
 * (default 0) waits between rounds: 0 is churn, where segd is still busy
 * with the previous deletion when the next veth appears. Then a burst, as
 * when a node starts many pods: all N veths created back to back, and the
 * time until the last one has segd's programs, against N single rounds.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include "bench_util.h"

#define SEG_TC_ID 0x5e9du       /* handle and priority datapath_attach.c uses */
#define GIVE_UP_MS 2000.0

static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl),
			  NULL, NULL) < 0 ? -errno : 0;
}

static int veth_add(struct mnl_socket *nl, const char *name, const char *peer)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *info, *data, *pa;
	struct ifinfomsg *ifi, *pifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pa = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, pa);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return talk(nl, nlh);
}

static int link_del(struct mnl_socket *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_DELLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return talk(nl, nlh);
}

static bool filter_on(int ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_ID, .priority = SEG_TC_ID);

	return !bpf_tc_query(&hook, &o) && o.prog_id;
}

static int wait_attached(int idx, double since)
{
	struct timespec pause = { .tv_nsec = 20000 };

	while (!filter_on(idx, BPF_TC_INGRESS) || !filter_on(idx, BPF_TC_EGRESS)) {
		if (now_ms() - since > GIVE_UP_MS * 5)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* All n veths back to back, then until every one has the programs. */
static int burst(struct mnl_socket *nl, const char *prefix, int n, double single_ms)
{
	char name[IFNAMSIZ], peer[IFNAMSIZ];
	double t0 = now_ms(), t_created, t_all;
	int ret = 0;

	for (int i = 0; i < n && !ret; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		snprintf(peer, sizeof(peer), "%s%dp", prefix, i);
		ret = veth_add(nl, name, peer);
	}
	t_created = now_ms();
	for (int i = 0; i < n && !ret; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		ret = wait_attached((int)if_nametoindex(name), t0);
	}
	t_all = now_ms();
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		link_del(nl, name);
	}
	if (ret) {
		fprintf(stderr, "burst: %s\n", strerror(-ret));
		return 1;
	}
	printf("burst of %d veths: created in %.1f ms, all with segd's programs after "
	       "%.1f ms\n  = %.2f ms per veth, %.2f x the median of one round above\n", n,
	       t_created - t0, t_all - t0, (t_all - t0) / n, (t_all - t0) / n / single_ms);
	return 0;
}

static void row(const char *what, double *v, int n)
{
	double med = median(v, n);

	printf("%-44s %9.3f %9.3f %9.3f\n", what, v[0], med, v[n - 1]);
}

int main(int argc, char **argv)
{
	struct timespec pause = { .tv_nsec = 20000 };
	struct mnl_socket *nl;
	double *create, *enforce;
	int n, gap_ms, done = 0, ret = 1;

	if (argc < 3 || argc > 4 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: %s PREFIX N [GAP_MS]\n", argv[0]);
		return 2;
	}
	gap_ms = argc == 4 ? atoi(argv[3]) : 0;
	libbpf_set_print(NULL);
	create = calloc((size_t)n, sizeof(*create));
	enforce = calloc((size_t)n, sizeof(*enforce));
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!create || !enforce || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char name[IFNAMSIZ], peer[IFNAMSIZ];
		double t0, t1, t2;
		int idx, err;

		snprintf(name, sizeof(name), "%s%d", argv[1], i);
		snprintf(peer, sizeof(peer), "%s%dp", argv[1], i);
		t0 = now_ms();
		err = veth_add(nl, name, peer);
		t1 = now_ms();
		idx = (int)if_nametoindex(name);
		if (err || !idx) {
			fprintf(stderr, "creating %s: %s\n", name, strerror(-err));
			goto out;
		}
		do {
			t2 = now_ms();
			if (filter_on(idx, BPF_TC_INGRESS) && filter_on(idx, BPF_TC_EGRESS))
				break;
			nanosleep(&pause, NULL);
		} while (t2 - t1 < GIVE_UP_MS);
		link_del(nl, name);
		if (t2 - t1 >= GIVE_UP_MS) {
			fprintf(stderr, "%s: no segd programs after %.0f ms\n", name, GIVE_UP_MS);
			goto out;
		}
		create[done] = t1 - t0;
		enforce[done++] = t2 - t0;  /* segd may attach before the ack */
		if (gap_ms)
			usleep((useconds_t)gap_ms * 1000);
	}
	printf("%d veths through netlink, %3d ms apart     %9s %9s %9s\n", done, gap_ms,
	       "min ms", "median", "max");
	row("kernel creates the veth (request -> ack)", create, done);
	row("request -> segd's programs on both hooks", enforce, done);
	printf("ratio of medians (enforce / create): %.2f\n",
	       median(enforce, done) / median(create, done));
	ret = burst(nl, argv[1], n, median(enforce, done));
out:
	mnl_socket_close(nl);
	free(create);
	free(enforce);
	return ret;
}
