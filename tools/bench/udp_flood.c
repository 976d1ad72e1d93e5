/* udp_flood.c - tools/bench/peers.sh's sender: UDP datagrams to one
 * address and port, never answered, for SECONDS.
 *
 *   bench_udp_flood [-i IFNAME -m DSTMAC] [-n] [-r PPS] [-s FIRST] SRC DST DPORT SECONDS [PORTS]
 *
 *   (default)  traffic (a): from SRC and PORTS source ports in turn, so
 *              each source port is one flow that keeps sending;
 *   -n         traffic (b): a new 5-tuple every packet (source addresses
 *              .16-.254 of SRC's /24 times source ports 1024-65535,
 *              15.4 million tuples, no repeat within a run);
 *   -i, -m     frames written on IFNAME for the next hop DSTMAC through
 *              AF_PACKET with the qdisc bypassed (default: a raw IP
 *              socket): a sender costs a fraction of the path it feeds,
 *              so the path, not the sender, is what is measured;
 *   -r PPS     offered rate, paced per batch (default: as fast as
 *              possible), for per-packet cost at a fixed load;
 *   -s FIRST   start at tuple number FIRST (default 0): successive -n
 *              runs that must not meet the last run's flows in a
 *              conntrack table pass where the previous one stopped.
 *
 * Prints the datagrams the kernel accepted, then those it refused (a full
 * queue on the way: the path's limit). Written in batches with
 * sendmmsg: a sender written per packet (python, nping) is slower than
 * the path it measures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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
#define NEW_HOST_MIN 16
#define NEW_HOST_MAX 254
#define PORT_MIN 1024

struct frame {
	struct ether_header eth;   /* unused (not sent) with a raw socket */
	struct iphdr ip;
	struct udphdr udp;
	char payload[PAYLOAD];
} __attribute__((packed));

struct flood {
	const char *ifname;
	unsigned char dmac[ETH_ALEN];
	int new_tuples;
	double pps;
	unsigned long long first;
	struct in_addr src, dst;
	int dport, ports;
	double secs;
};

static struct frame frames[BATCH];
static struct iovec iovs[BATCH];
static struct mmsghdr msgs[BATCH];

static uint16_t ip_csum(const void *ip)
{
	const unsigned char *b = ip;
	uint32_t sum = 0;

	for (size_t i = 0; i < sizeof(struct iphdr); i += 2) {
		uint16_t w;

		memcpy(&w, b + i, 2);
		sum += w;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* the socket and, with AF_PACKET, the frames' Ethernet header */
static int open_sender(const struct flood *f, struct sockaddr_in *to)
{
	int fd, one = 1;
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };

	if (!f->ifname)
		return socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	fd = socket(AF_PACKET, SOCK_RAW, 0);  /* protocol 0: sends only */
	if (fd < 0)
		return -1;
	ll.sll_ifindex = (int)if_nametoindex(f->ifname);
	if (!ll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		int err = errno ? errno : ENODEV;

		close(fd);
		errno = err;
		return -1;
	}
	(void)to;
	return fd;
}

static void fill_frames(const struct flood *f, struct sockaddr_in *to)
{
	size_t skip = f->ifname ? 0 : sizeof(struct ether_header);

	for (int i = 0; i < BATCH; i++) {
		struct frame *d = &frames[i];

		memcpy(d->eth.ether_dhost, f->dmac, ETH_ALEN);
		d->eth.ether_shost[0] = 0x02;     /* locally administered */
		d->eth.ether_type = htons(ETHERTYPE_IP);
		d->ip.version = 4;
		d->ip.ihl = 5;
		d->ip.ttl = 64;
		d->ip.protocol = IPPROTO_UDP;
		d->ip.tot_len = htons(sizeof(*d) - sizeof(d->eth));
		d->ip.saddr = f->src.s_addr;
		d->ip.daddr = f->dst.s_addr;
		d->udp.dest = htons((unsigned short)f->dport);
		d->udp.len = htons(sizeof(d->udp) + PAYLOAD);
		/* check 0: no UDP checksum (IPv4) */
		iovs[i] = (struct iovec){ .iov_base = (char *)d + skip,
					  .iov_len = sizeof(*d) - skip };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iovs[i],
						   .msg_iovlen = 1 };
		if (!f->ifname) {
			msgs[i].msg_hdr.msg_name = to;
			msgs[i].msg_hdr.msg_namelen = sizeof(*to);
		}
	}
}

/* the next batch's source tuples; *seq counts tuples from the start */
static void next_tuples(const struct flood *f, unsigned long long *seq)
{
	const unsigned ports = f->new_tuples ? 65536 - PORT_MIN : (unsigned)f->ports;
	uint32_t net = ntohl(f->src.s_addr) & 0xffffff00u;

	for (int i = 0; i < BATCH; i++, (*seq)++) {
		struct frame *d = &frames[i];

		d->udp.source = htons((unsigned short)(PORT_MIN + *seq % ports));
		if (f->new_tuples) {
			unsigned host = NEW_HOST_MIN + (unsigned)(*seq / ports) %
				(NEW_HOST_MAX - NEW_HOST_MIN + 1);

			d->ip.saddr = htonl(net | host);
		}
		/* a raw socket fills the IP checksum; AF_PACKET does not */
		if (f->ifname) {
			d->ip.check = 0;
			d->ip.check = ip_csum((char *)d + sizeof(d->eth));
		}
	}
}

static int run_flood(const struct flood *f)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = f->dst };
	unsigned long long sent = 0, refused = 0, seq = f->first;
	double start, end;
	int fd, ret = 0;

	fd = open_sender(f, &to);
	if (fd < 0)
		return -errno;
	fill_frames(f, &to);
	start = now_ms();
	end = start + f->secs * 1e3;
	for (double t = start; t < end; t = now_ms()) {
		int n;

		/* paced: no batch leaves before its time at the asked rate */
		if (f->pps > 0 && sent >= (t - start) * f->pps / 1e3) {
			double due = start + (double)sent / f->pps * 1e3;

			if (due > t + 0.05)
				usleep((useconds_t)((due - t) * 1e3));
			continue;
		}
		next_tuples(f, &seq);
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0) {
			/* a full queue on the way is the path's limit, not ours */
			if (errno == ENOBUFS || errno == EAGAIN) {
				refused++;
				continue;
			}
			ret = -errno;
			goto out;
		}
		sent += (unsigned long long)n;
	}
	printf("%llu %llu\n", sent, refused);
out:
	close(fd);
	return ret;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned v[ETH_ALEN];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5]) != ETH_ALEN)
		return -EINVAL;
	for (int i = 0; i < ETH_ALEN; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (unsigned char)v[i];
	}
	return 0;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-i IFNAME -m DSTMAC] [-n] [-r PPS] "
		"[-s FIRST] SRC DST DPORT SECONDS [PORTS<=64000]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct flood f = { .ports = 60000 };
	int opt, ret, have_mac = 0;

	while ((opt = getopt(argc, argv, "i:m:nr:s:")) != -1) {
		switch (opt) {
		case 'i': f.ifname = optarg; break;
		case 'm':
			if (parse_mac(optarg, f.dmac))
				return usage(argv[0]);
			have_mac = 1;
			break;
		case 'n': f.new_tuples = 1; break;
		case 'r': f.pps = atof(optarg); break;
		case 's': f.first = strtoull(optarg, NULL, 10); break;
		default: return usage(argv[0]);
		}
	}
	if (argc - optind < 4 || !f.ifname != !have_mac)
		return usage(argv[0]);
	if (argc - optind > 4)
		f.ports = atoi(argv[optind + 4]);
	if (inet_pton(AF_INET, argv[optind], &f.src) != 1 ||
	    inet_pton(AF_INET, argv[optind + 1], &f.dst) != 1 ||
	    f.ports < 1 || f.ports > 64000)
		return usage(argv[0]);
	f.dport = atoi(argv[optind + 2]);
	f.secs = atof(argv[optind + 3]);
	ret = run_flood(&f);
	if (ret) {
		fprintf(stderr, "udp_flood: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
