/* udp_flood.c - tools/bench/peers.sh's sender: UDP datagrams to one
 * address and port from PORTS source ports in turn (each source port its
 * own flow, never answered), as fast as one CPU can send them, for
 * SECONDS. A raw socket and sendmmsg in batches: a sender written per
 * packet (python, nping) is slower than the path it measures.
 *
 *   bench_udp_flood SRC DST DPORT SECONDS [PORTS]   (root; PORTS 60000)
 *
 * Prints the datagrams sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define BATCH 256
#define PAYLOAD 18   /* 64-byte frames on the wire */

struct datagram {
	struct iphdr ip;
	struct udphdr udp;
	char payload[PAYLOAD];
} __attribute__((packed));

static struct datagram pkts[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

static int flood(const char *src, const char *dst, int dport, double secs,
		 int ports)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	unsigned long long sent = 0;
	int fd, ret = 0, next_port = 0;
	double end;

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
		ret = -EINVAL;
		goto out;
	}
	for (int i = 0; i < BATCH; i++) {
		struct datagram *d = &pkts[i];

		d->ip.version = 4;
		d->ip.ihl = 5;
		d->ip.ttl = 64;
		d->ip.protocol = IPPROTO_UDP;
		d->ip.tot_len = htons(sizeof(*d));
		d->ip.daddr = to.sin_addr.s_addr;
		if (inet_pton(AF_INET, src, &d->ip.saddr) != 1) {
			ret = -EINVAL;
			goto out;
		}
		d->udp.dest = htons((unsigned short)dport);
		d->udp.len = htons(sizeof(d->udp) + PAYLOAD);
		/* check 0: no UDP checksum (IPv4); the kernel fills the IP one */
		iovs[i] = (struct iovec){ .iov_base = d, .iov_len = sizeof(*d) };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &to,
			.msg_namelen = sizeof(to), .msg_iov = &iovs[i],
			.msg_iovlen = 1 };
	}
	end = now_ms() + secs * 1e3;
	while (now_ms() < end) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			pkts[i].udp.source = htons((unsigned short)(1024 + next_port));
			next_port = (next_port + 1) % ports;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) {
			/* a full queue on the way is the path's limit, not ours */
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			ret = -errno;
			goto out;
		}
		sent += (unsigned long long)n;
	}
	printf("%llu\n", sent);
out:
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int ports = argc > 5 ? atoi(argv[5]) : 60000, ret;

	if (argc < 5 || ports < 1 || ports > 64000) {
		fprintf(stderr, "usage: %s SRC DST DPORT SECONDS [PORTS<=64000]\n",
			argv[0]);
		return 2;
	}
	ret = flood(argv[1], argv[2], atoi(argv[3]), atof(argv[4]), ports);
	if (ret) {
		fprintf(stderr, "udp_flood: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
