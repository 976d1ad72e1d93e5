/* learn.c - the learned-edges store and `recommend` at scale (pure user
 * space): N distinct edges (default 100,000) of 200 workloads in 20
 * namespaces, half of them between workloads, half to outside addresses.
 *
 *   bench_learn [N]
 *
 * Prints the memory the store holds (its own count and the heap's), the
 * cost of a flow record for a known and for a new edge, the size and time
 * of the state-dir text both ways, and the time of one recommendation over
 * all of them.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "edges.h"
#include "recommend.h"

#define WORKLOADS 200

static struct seg_labels labels_of[WORKLOADS];
static char ns_of[WORKLOADS][16];

static void v4(struct in6_addr *a, unsigned int host_order)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = a->s6_addr[11] = 0xff;
	a->s6_addr[12] = (unsigned char)(host_order >> 24);
	a->s6_addr[13] = (unsigned char)(host_order >> 16);
	a->s6_addr[14] = (unsigned char)(host_order >> 8);
	a->s6_addr[15] = (unsigned char)host_order;
}

/* The record of edge i: workload i % 200 opens a flow to another workload
 * (ports 8000, 8001) or to an outside address of its own. */
static void record_of(size_t i, struct seg_flow_record *r)
{
	size_t w = i % WORKLOADS, t = i / WORKLOADS;

	memset(r, 0, sizeof(*r));
	r->proto = 6;
	r->tcp_flags = 0x12;    /* SYN, ACK: seen from its start */
	r->direction = 1;       /* egress */
	r->packets = r->total_packets = 10;
	r->bytes = 1500;
	r->start_ns = 1765000000ull * 1000000000ull + i;
	r->end_ns = r->start_ns + 1000000000ull;
	v4(&r->src, 0x0ac80000u + (unsigned int)w);
	r->source = (struct seg_flow_peer){ ns_of[w], "pod", &labels_of[w], "pod" };
	if (t < 250) {
		size_t peer = t % WORKLOADS;

		r->dport = (uint16_t)(8000 + t / WORKLOADS);
		v4(&r->dst, 0x0ac80000u + (unsigned int)peer);
		r->destination = (struct seg_flow_peer){ ns_of[peer], "pod",
							 &labels_of[peer], "pod" };
	} else {
		r->dport = 443;
		v4(&r->dst, 0xc6120000u + (unsigned int)((t - 250) + 250 * w));
		r->destination = (struct seg_flow_peer){ NULL, NULL, NULL, "world" };
	}
}

/* the heap's bytes in use, big blocks (mmap'd) included */
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, heap0, heap1;
	struct seg_edges *e, *back;
	struct seg_flow_record r;
	struct seg_rec_opts o = { 0 };
	struct seg_rec_summary sum;
	struct seg_error err = { 0 };
	double t0, t_new, t_known, t_save, t_load, t_rec;
	char *text, *rec;
	size_t len, rec_len;

	if (n > WORKLOADS * 250 * 2 + WORKLOADS * 250) {
		fprintf(stderr, "bench_learn: N at most %d\n", WORKLOADS * 750);
		return 2;
	}
	for (size_t w = 0; w < WORKLOADS; w++) {
		char text_labels[64];

		snprintf(ns_of[w], sizeof(ns_of[w]), "ns-%zu", w / 10);
		snprintf(text_labels, sizeof(text_labels), "app=svc-%zu,tier=t%zu", w % 10, w / 10);
		if (seg_labels_parse(text_labels, &labels_of[w], NULL))
			return 1;
	}
	heap0 = heap_in_use();
	if (seg_edges_new(n, &e))
		return 1;
	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		record_of(i, &r);
		if (seg_edges_observe(e, &r))
			return 1;
	}
	t_new = now_ms() - t0;
	heap1 = heap_in_use();
	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		record_of(i, &r);
		r.total_packets = 20;   /* a later record: no new flow */
		seg_edges_observe(e, &r);
	}
	t_known = now_ms() - t0;
	record_of(0, &r);
	r.dport = 1;
	r.destination = (struct seg_flow_peer){ NULL, NULL, NULL, "world" };
	printf("edges %zu, a new one past the limit refused: %s\n", seg_edges_count(e),
	       seg_edges_observe(e, &r) == -ENOSPC ? "yes" : "NO");
	printf("memory: store %.1f MB (%.0f bytes/edge), heap in use %.1f MB\n",
	       seg_edges_memory(e) / 1048576.0, (double)seg_edges_memory(e) / (double)n,
	       (double)(heap1 - heap0) / 1048576.0);
	printf("flow record: new edge %.0f ns, known edge %.0f ns\n", t_new * 1e6 / (double)n,
	       t_known * 1e6 / (double)n);
	t0 = now_ms();
	if (seg_edges_save(e, &text, &len))
		return 1;
	t_save = now_ms() - t0;
	if (seg_edges_new(n, &back))
		return 1;
	t0 = now_ms();
	if (seg_edges_load(back, text, len, &err)) {
		fprintf(stderr, "load: line %d: %s\n", err.line, err.msg);
		return 1;
	}
	t_load = now_ms() - t0;
	printf("state dir text: %.1f MB, save %.0f ms, load %.0f ms (%zu edges back)\n",
	       (double)len / 1048576.0, t_save, t_load, seg_edges_count(back));
	t0 = now_ms();
	if (seg_recommend(e, NULL, &o, &rec, &rec_len, &sum, &err)) {
		fprintf(stderr, "recommend: %s\n", err.msg);
		return 1;
	}
	t_rec = now_ms() - t0;
	printf("recommend over %zu edges: %.0f ms, %zu policies, %zu rules, %.1f MB of YAML\n",
	       sum.edges, t_rec, sum.workloads, sum.rules, (double)rec_len / 1048576.0);
	free(rec);
	free(text);
	seg_edges_free(back);
	seg_edges_free(e);
	for (size_t w = 0; w < WORKLOADS; w++)
		seg_labels_free(&labels_of[w]);
	return 0;
}
