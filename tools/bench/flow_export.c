/* flow_export.c - keep N live flows in a running segd's conntrack map,
 * every one of them moving, so each flow pass of segd reports N records
 * (JSON log, IPFIX). Driven by tools/bench/flow_export.sh, which measures
 * segd's CPU time meanwhile.
 *
 *   bench_flow_export BPFFS N SECONDS
 *
 * Entries are TCP flows 10.200.1.10:P -> 203.0.113.X:443 stamped with the
 * datapath's clock (CLOCK_MONOTONIC_COARSE); once a second every entry
 * gets one more packet each way, in batches, like live traffic would.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"
#include "segd_abi.h"

#define BATCH 8192

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void v4(struct segd_addr *a, __u32 host_order)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = host_order >> 24;
	a->b[13] = host_order >> 16;
	a->b[14] = host_order >> 8;
	a->b[15] = host_order;
}

int main(int argc, char **argv)
{
	struct segd_ct_key *keys;
	struct segd_ct_value *vals;
	char path[512];
	int fd, n, seconds;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_flow_export BPFFS N SECONDS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], SEGD_MAP_CT);
	fd = bpf_obj_get(path);
	n = atoi(argv[2]);
	seconds = atoi(argv[3]);
	keys = calloc((size_t)n, sizeof(*keys));
	vals = calloc((size_t)n, sizeof(*vals));
	if (fd < 0 || !keys || !vals || n <= 0) {
		fprintf(stderr, "bench_flow_export: cannot open %s or allocate\n", path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		v4(&keys[i].local, 0x0ac8010a);                       /* 10.200.1.10 */
		v4(&keys[i].remote, 0xcb007100 | (__u32)(i >> 16));    /* 203.0.113.x */
		keys[i].lport = (__u16)(i & 0xffff);
		keys[i].rport = 443;
		keys[i].proto = 6;
		vals[i].created_ns = coarse_ns();
		vals[i].origin_dir = SEGD_DIR_EGRESS;
		vals[i].tcp_flags[0] = vals[i].tcp_flags[1] = 0x18;   /* ACK|PSH */
	}
	for (int s = 0; s < seconds; s++) {
		double t0 = now_ms();
		__u64 now = coarse_ns();

		for (int i = 0; i < n; i++) {
			vals[i].last_seen_ns = now;
			vals[i].packets[0]++, vals[i].packets[1]++;
			vals[i].bytes[0] += 100, vals[i].bytes[1] += 1500;
		}
		for (int i = 0; i < n; i += BATCH) {
			LIBBPF_OPTS(bpf_map_batch_opts, o);
			__u32 count = (__u32)(n - i < BATCH ? n - i : BATCH);

			if (bpf_map_update_batch(fd, &keys[i], &vals[i], &count, &o)) {
				fprintf(stderr, "bench_flow_export: update: %s\n", strerror(errno));
				return 1;
			}
		}
		double left = 1000 - (now_ms() - t0);

		if (left > 0)
			usleep((useconds_t)(left * 1000));
	}
	free(keys);
	free(vals);
	return 0;
}
