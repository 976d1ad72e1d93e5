/* events.c - offer a flood of denied packets to a running segd's pinned
 * from_endpoint program (BPF_PROG_TEST_RUN, so no NIC limits the rate)
 * and account for every event it asked for: sent to the ring, suppressed
 * by the per-endpoint rate limit, or lost to a full ring. Driven by
 * tools/bench/events.sh, which runs segd and times `segctl status` while
 * this runs.
 *
 *   bench_events BPFFS IFINDEX SRC_IP DST_IP DST_PORT SECONDS
 *
 * The packet is UDP from SRC_IP (the endpoint on IFINDEX) to DST_IP:PORT,
 * which the policy must deny. Prints offered packets and rate, and the
 * delta of each event outcome; exits 1 when they do not add up.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "segd_abi.h"

#define REPEAT 100000

static int sum_stats(int fd, int ncpus, unsigned long long out[SEGD_EVS_MAX])
{
	unsigned long long *v = calloc((size_t)ncpus, sizeof(*v));

	if (!v)
		return -1;
	for (__u32 i = 0; i < SEGD_EVS_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v)) {
			free(v);
			return -1;
		}
		for (int c = 0; c < ncpus; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

static size_t build_packet(unsigned char *buf, const char *src, const char *dst,
			   int dport)
{
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	size_t payload = 18, len = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + payload;

	memset(buf, 0, len);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eth)));
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	udp->source = htons(40000);
	udp->dest = htons((uint16_t)dport);
	udp->len = htons((uint16_t)(sizeof(*udp) + payload));
	return len;
}

int main(int argc, char **argv)
{
	char path[512];
	unsigned char pkt[128];
	unsigned long long before[SEGD_EVS_MAX], after[SEGD_EVS_MAX], offered = 0;
	struct __sk_buff skb = { 0 };
	int prog, stats, ncpus = libbpf_num_possible_cpus();
	double t0, seconds, elapsed;
	size_t len;

	if (argc != 7) {
		fprintf(stderr, "usage: bench_events BPFFS IFINDEX SRC_IP DST_IP DST_PORT SECONDS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s/from_endpoint", argv[1], SEGD_PIN_PROGS_DIR);
	prog = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/%s", argv[1], SEGD_MAP_EV_STATS);
	stats = bpf_obj_get(path);
	if (prog < 0 || stats < 0) {
		fprintf(stderr, "bench_events: no pinned program or %s under %s\n",
			SEGD_MAP_EV_STATS, argv[1]);
		return 1;
	}
	len = build_packet(pkt, argv[3], argv[4], atoi(argv[5]));
	skb.ifindex = (__u32)atoi(argv[2]);
	seconds = atof(argv[6]);
	if (sum_stats(stats, ncpus, before))
		return 1;
	t0 = now_ms();
	do {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
			    .ctx_in = &skb, .ctx_size_in = sizeof(skb), .repeat = REPEAT);

		if (bpf_prog_test_run_opts(prog, &o) || o.retval != TC_ACT_SHOT) {
			fprintf(stderr, "bench_events: the packet is not dropped (retval %u); "
				"is DST denied for SRC?\n", o.retval);
			return 1;
		}
		offered += REPEAT;
	} while ((elapsed = now_ms() - t0) < seconds * 1e3);
	if (sum_stats(stats, ncpus, after))
		return 1;
	{
		unsigned long long sent = after[SEGD_EVS_SENT] - before[SEGD_EVS_SENT];
		unsigned long long limited = after[SEGD_EVS_RATE_LIMITED] -
					     before[SEGD_EVS_RATE_LIMITED];
		unsigned long long full = after[SEGD_EVS_RING_FULL] - before[SEGD_EVS_RING_FULL];

		printf("offered %llu denied packets in %.2f s: %.2f M/s\n", offered,
		       elapsed / 1e3, offered / elapsed / 1e3);
		printf("events sent %llu, rate-limited %llu, ring full %llu, sum %llu (%s)\n",
		       sent, limited, full, sent + limited + full,
		       sent + limited + full == offered ? "every one accounted for" :
		       "MISMATCH");
		return sent + limited + full == offered ? 0 : 1;
	}
}
