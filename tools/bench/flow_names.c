/* flow_names.c - one flow-table pass (pure user space): N conntrack
 * entries (default 60,000), every one of them moving, so each gets a
 * record named by flow_names.h: the observing endpoint, both peers, the
 * remote CIDR identity. With 10 and 10,000 local endpoints and 10 and
 * 10,000 CIDR prefixes.
 *
 *   bench_flow_names [N]
 *
 * "scan" is the table without a name index (seg_view.index NULL: every
 * lookup walks all endpoints and all prefixes, as every pass did before
 * name_index.c); "indexed" is the table as segd runs it, the index rebuilt
 * at every pass included. Prints the median ms per pass of each side by
 * side, and checks both name every record alike (exits 1 if not).
 * User-space pass times, not packet rates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_util.h"
#include "flow_names.h"
#include "flowtab.h"
#include "name_index.h"

#define SEC 1000000000ull
#define PREFIX_ID0 0x01000000u   /* CIDR identities of the bench */

struct world {
	struct seg_world w;
	struct seg_compiled c;
	struct segd_ct_key *keys;
	struct segd_ct_value *vals;
	size_t n_flows;
};

static void v4(void *a, unsigned int host_order)
{
	unsigned char *b = a;

	memset(b, 0, 16);
	b[10] = b[11] = 0xff;
	b[12] = (unsigned char)(host_order >> 24);
	b[13] = (unsigned char)(host_order >> 16);
	b[14] = (unsigned char)(host_order >> 8);
	b[15] = (unsigned char)host_order;
}

/* n_eps endpoints 10.1.0.0 + i (ids 1.., ifindex 100 + i) in the exact
 * ipcache, n_pfx prefixes 172.16.0.0/24 + j, n_flows flows from endpoint
 * i % n_eps to 203.0.x.y, whose identity is prefix i % n_pfx's. */
static int build(struct world *x, size_t n_eps, size_t n_pfx, size_t n_flows)
{
	char buf[32];

	memset(x, 0, sizeof(*x));
	x->w.endpoints = calloc(n_eps, sizeof(*x->w.endpoints));
	x->c.exact = calloc(n_eps, sizeof(*x->c.exact));
	x->c.prefixes = calloc(n_pfx, sizeof(*x->c.prefixes));
	x->keys = calloc(n_flows, sizeof(*x->keys));
	x->vals = calloc(n_flows, sizeof(*x->vals));
	if (!x->w.endpoints || !x->c.exact || !x->c.prefixes || !x->keys || !x->vals)
		return -1;
	for (size_t i = 0; i < n_eps; i++) {
		struct seg_endpoint *e = &x->w.endpoints[i];

		snprintf(buf, sizeof(buf), "ep%zu", i);
		e->name = strdup(buf);
		snprintf(buf, sizeof(buf), "ns%zu", i % 10);
		e->ns = strdup(buf);
		if (!e->name || !e->ns)
			return -1;
		e->endpoint_id = (uint32_t)i + 1;
		e->ifindex = (uint32_t)(100 + i);
		v4(&e->ips[0], 0x0a010000u + (unsigned int)i);
		e->n_ips = 1;
		/* ascending addresses: sorted like the compiler's */
		v4(&x->c.exact[i].addr, 0x0a010000u + (unsigned int)i);
		x->c.exact[i].value.endpoint_id = e->endpoint_id;
		x->c.exact[i].value.flags = SEGD_EPF_LOCAL;
	}
	x->w.n_endpoints = x->c.n_exact = n_eps;
	for (size_t j = 0; j < n_pfx; j++) {
		v4(x->c.prefixes[j].key.addr, 0xac100000u + (unsigned int)(j << 8));
		x->c.prefixes[j].key.prefixlen = 96 + 24;
		x->c.prefixes[j].value.identity = PREFIX_ID0 + (uint32_t)j;
	}
	x->c.n_prefixes = n_pfx;
	for (size_t i = 0; i < n_flows; i++) {
		struct segd_ct_key *k = &x->keys[i];
		struct segd_ct_value *v = &x->vals[i];

		v4(&k->local, 0x0a010000u + (unsigned int)(i % n_eps));
		v4(&k->remote, 0xcb000000u + (unsigned int)i);
		k->lport = (uint16_t)(1024 + i % 50000);
		k->rport = 443;
		k->proto = IPPROTO_TCP;
		v->origin_dir = SEGD_DIR_EGRESS;
		v->remote_id = PREFIX_ID0 + (uint32_t)(i % n_pfx);
		v->tcp_flags[0] = v->tcp_flags[1] = 0x12;   /* established */
		v->created_ns = 1 * SEC;
	}
	x->n_flows = n_flows;
	return 0;
}

static void drop_world(struct world *x)
{
	for (size_t i = 0; i < x->w.n_endpoints; i++) {
		free(x->w.endpoints[i].name);
		free(x->w.endpoints[i].ns);
	}
	free(x->w.endpoints);
	free(x->c.exact);
	free(x->c.prefixes);
	free(x->keys);
	free(x->vals);
}

/* Records seen and a checksum of their names. */
struct tally {
	size_t n;
	uint64_t sum;
};

static uint64_t text_hash(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void count(void *ctx, const struct seg_flow_record *r)
{
	struct tally *t = ctx;

	t->n++;
	t->sum += text_hash(text_hash(text_hash(0xcbf29ce484222325ull, r->observer),
				      r->source.identity), r->destination.identity);
}

static struct seg_flowtab *table(struct world *x, struct seg_name_index *index,
				 struct tally *tally)
{
	const struct seg_view view = { &x->w, &x->c, index };
	struct seg_flowtab *t;

	if (seg_flowtab_new(&view, &t) || seg_flowtab_add_sink(t, count, tally)) {
		fprintf(stderr, "bench_flow_names: out of memory\n");
		exit(1);
	}
	return t;
}

/* One pass of t over every flow, in ms. */
static double one_pass(struct world *x, struct seg_flowtab *t, uint64_t now,
		       struct tally *tally)
{
	double t0;

	tally->n = 0;
	tally->sum = 0;
	t0 = now_ms();
	seg_flowtab_pass_begin(t, now, now);
	for (size_t i = 0; i < x->n_flows; i++)
		seg_flowtab_ct(t, &x->keys[i], &x->vals[i]);
	seg_flowtab_pass_end(t);
	return now_ms() - t0;
}

/* Median ms per pass of the scanning and the indexed table, passes
 * alternating (the machine is noisy), each flow one packet more each way
 * every round, after a first round that fills the tables. */
static void time_passes(struct world *x, int rounds, double *scan, double *indexed,
			struct tally *scan_t, struct tally *idx_t)
{
	struct seg_name_index index;
	struct seg_flowtab *ts, *ti;
	double ms_s[16], ms_i[16];
	uint64_t now = 2 * SEC;

	seg_name_index_init(&index);
	ts = table(x, NULL, scan_t);
	ti = table(x, &index, idx_t);
	for (int r = -1; r < rounds; r++) {
		double a, b;

		now += SEC;
		for (size_t i = 0; i < x->n_flows; i++) {
			x->vals[i].packets[0]++;
			x->vals[i].packets[1]++;
			x->vals[i].last_seen_ns = now;
		}
		a = one_pass(x, ts, now, scan_t);
		b = one_pass(x, ti, now, idx_t);
		if (r >= 0) {
			ms_s[r] = a;
			ms_i[r] = b;
		}
	}
	seg_flowtab_free(ts);
	seg_flowtab_free(ti);
	seg_name_index_free(&index);
	*scan = median(ms_s, rounds);
	*indexed = median(ms_i, rounds);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 10, 10000 };
	size_t n_flows = argc > 1 ? strtoul(argv[1], NULL, 10) : 60000;
	int bad = 0;

	if (!n_flows || n_flows > 1000000) {
		fprintf(stderr, "usage: bench_flow_names [N flows, 1..1000000]\n");
		return 2;
	}
	printf("%zu conntrack flows, every one moving: ms per flow-table pass (median)\n",
	       n_flows);
	printf("%10s %10s %12s %12s %8s\n", "endpoints", "prefixes", "scan", "indexed",
	       "ratio");
	for (size_t a = 0; a < 2; a++)
		for (size_t b = 0; b < 2; b++) {
			struct world x;
			struct tally scan_t, idx_t;
			double scan, idx;

			if (build(&x, sizes[a], sizes[b], n_flows)) {
				fprintf(stderr, "bench_flow_names: out of memory\n");
				return 1;
			}
			/* the scans take seconds at 10,000 x 10,000: fewer rounds */
			time_passes(&x, sizes[a] * sizes[b] > 100000 ? 3 : 5, &scan, &idx,
				    &scan_t, &idx_t);
			printf("%10zu %10zu %12.1f %12.1f %7.1fx\n", sizes[a], sizes[b],
			       scan, idx, scan / idx);
			if (scan_t.n != n_flows || idx_t.n != n_flows || scan_t.sum != idx_t.sum) {
				fprintf(stderr, "bench_flow_names: the index names %zu records "
					"otherwise than the scans (%zu); a bug in name_index.c\n",
					idx_t.n, scan_t.n);
				bad = 1;
			}
			drop_world(&x);
		}
	return bad;
}
