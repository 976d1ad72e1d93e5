/* bench_ipfix - what exporting flow records as IPFIX costs segd.
 *
 * 100,000 records (one flow-table pass of 100,000 active flows) go through
 * seg_ipfix_add + seg_ipfix_flush, side by side:
 *   encode only   the pure encoder into a sink that drops the bytes
 *   encode+send   the real exporter: connected UDP socket to a collector
 *                 on 127.0.0.1 (a child process that drains it), in a
 *                 private network namespace
 * for IPv4 and IPv6 records. Prints the best of 5 runs as ns per record
 * (CPU time of the exporting thread, so the collector's work is not
 * counted), the ratio send/encode, and what one pass every 10 s costs as a
 * share of one core. Needs root (unshare). Not pass/fail: exits 1 only
 * when something cannot be set up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipfix.h"
#include "ipfix_encode.h"

#define N_RECORDS 100000
#define RUNS 5
#define PASS_INTERVAL_S 10.0

static struct seg_flow_record *records;

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void make_records(bool v6)
{
	records = calloc(N_RECORDS, sizeof(*records));
	if (!records) {
		perror("calloc");
		exit(1);
	}
	for (uint32_t i = 0; i < N_RECORDS; i++) {
		struct seg_flow_record *r = &records[i];

		if (v6) {
			inet_pton(AF_INET6, "fd00:200::", &r->src);
			inet_pton(AF_INET6, "2001:db8::", &r->dst);
			memcpy(&r->src.s6_addr[12], &i, 4);
		} else {
			uint32_t a = htonl(0x0ac80000u + i), b = htonl(0xcb007109u);

			r->src.s6_addr[10] = r->src.s6_addr[11] = 0xff;
			r->dst.s6_addr[10] = r->dst.s6_addr[11] = 0xff;
			memcpy(&r->src.s6_addr[12], &a, 4);
			memcpy(&r->dst.s6_addr[12], &b, 4);
		}
		r->proto = i % 3 ? 6 : 17;
		r->sport = (uint16_t)(30000 + i % 30000);
		r->dport = 443;
		r->packets = i;
		r->bytes = (uint64_t)i * 100;
		r->reply_packets = i / 2;
		r->reply_bytes = (uint64_t)i * 1000;
		r->verdict = i % 10 == 0 ? SEG_FLOW_DROPPED : SEG_FLOW_FORWARDED;
		r->start_ns = 1790000000ull * 1000000000ull;
		r->end_ns = r->start_ns + i;
		r->ifindex = 7;
		r->source.identity = r->destination.identity = "world";
	}
}

static void drop_sink(void *ctx, const uint8_t *msg, size_t len)
{
	*(size_t *)ctx += len + msg[0];
}

static double run_encode(void)
{
	struct seg_ipfix_encoder e;
	size_t bytes = 0;
	double t0 = thread_cpu_ns();

	seg_ipfix_encoder_init(&e, 1, drop_sink, &bytes);
	for (int i = 0; i < N_RECORDS; i++)
		seg_ipfix_encoder_add(&e, &records[i], records[i].start_ns);
	seg_ipfix_encoder_flush(&e, records[0].start_ns);
	return (thread_cpu_ns() - t0) / N_RECORDS;
}

static double run_send(const char *collector, uint64_t *errors, uint64_t *messages)
{
	char *list[] = { (char *)collector };
	struct seg_ipfix *x;
	struct seg_error err;
	struct seg_ipfix_stats st;
	double t0;

	if (seg_ipfix_open(list, 1, 1, &x, &err)) {
		fprintf(stderr, "bench_ipfix: %s\n", err.msg);
		exit(1);
	}
	t0 = thread_cpu_ns();
	for (int i = 0; i < N_RECORDS; i++)
		seg_ipfix_add(x, &records[i], records[i].start_ns);
	seg_ipfix_flush(x, records[0].start_ns);
	t0 = (thread_cpu_ns() - t0) / N_RECORDS;
	seg_ipfix_stats(x, &st);
	*errors = st.send_errors;
	*messages = st.messages;
	seg_ipfix_close(x);
	return t0;
}

static void private_netns(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	if (unshare(CLONE_NEWNET)) {
		perror("bench_ipfix: unshare(CLONE_NEWNET) (run as root)");
		exit(1);
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr)) {
		perror("bench_ipfix: lo up");
		exit(1);
	}
	close(fd);
}

/* a child that reads 127.0.0.1:port until killed; the port in text */
static pid_t start_collector(char *text, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
	pid_t pid;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
		perror("bench_ipfix: collector socket");
		exit(1);
	}
	snprintf(text, len, "127.0.0.1:%u", ntohs(sin.sin_port));
	pid = fork();
	if (pid == 0) {
		char buf[2048];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			recv(fd, buf, sizeof(buf), 0);
	}
	close(fd);
	return pid;
}

static double best(double *v)
{
	double m = v[0];

	for (int i = 1; i < RUNS; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

int main(void)
{
	char collector[64];
	pid_t pid;

	private_netns();
	pid = start_collector(collector, sizeof(collector));
	printf("%d records per pass, best of %d runs, CPU time of the exporter\n",
	       N_RECORDS, RUNS);
	printf("%-6s %14s %14s %8s %10s %12s %22s\n", "family", "encode ns/rec",
	       "+send ns/rec", "ratio", "messages", "send errors",
	       "core share @ 1 pass/10s");
	for (int v6 = 0; v6 < 2; v6++) {
		double enc[RUNS], snd[RUNS];
		uint64_t errors = 0, messages = 0, all_errors = 0;

		make_records(v6);
		for (int i = 0; i < RUNS; i++) {
			enc[i] = run_encode();
			snd[i] = run_send(collector, &errors, &messages);
			all_errors += errors;
		}
		double e = best(enc), s = best(snd);
		printf("%-6s %14.1f %14.1f %7.1fx %10lu %12lu %21.3f%%\n",
		       v6 ? "IPv6" : "IPv4", e, s, s / e, messages, all_errors,
		       100.0 * s * N_RECORDS / (PASS_INTERVAL_S * 1e9));
		free(records);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
