/* bench_blocklist_dp - what blocklists cost the datapath (run as root).
 * Usage: bench_blocklist_dp [rounds]
 *
 * Two datapaths side by side (own, unpinned maps), same policy world, one
 * with 10 blocklist entries and one with 1,000,000 (the realistic mix of
 * feeds: 99% single IPv4 addresses -> the exact hash, 1% prefixes /16../24,
 * lengths uniform, spread at random over the public IPv4 space -> the LPM
 * trie, and by /24 the net24 hash). Both states also hold three fixed
 * prefixes: a /24 and a /16 (answered by the net24 hash) and a /28 (which
 * opens the prefix gate of its /16: the trie answers there); the 10-entry
 * state is 7 + 3.
 *
 * Per packet: a NEW-flow decision on the XDP uplink (parse, ipcache, CT
 * miss, blocklist, policy; no CT is created there), BPF_PROG_TEST_RUN with
 * repeat = 1,000,000, kernel-reported mean ns per run. Cases: remote not
 * listed (allowed by policy, passes) - in a /16 no prefix touches, in a
 * /16 that holds a listed /16../24 prefix (the net24 hash misses), in the
 * /16 of the /28 (the gate is open: the trie is asked and misses, the
 * worst case), and a mix of MIXN random unlisted public addresses (each
 * run separately, the round's value is their mean: what a real remote
 * costs on average); remote listed as a single address; remote inside the
 * listed /24, /16 (net24 hash hits) and /28 (trie hit) (all dropped,
 * BLOCKLISTED). The addresses are picked from the generated lists, so each
 * case is what it says.
 * Rounds alternate A/B (A B, then B A, ...); medians, minimum in
 * parentheses.
 *
 * Load: seg_dp_blocklists_write of the 1M lists into empty maps (what a
 * start or the first load costs on top of parsing), a reload with 1% of
 * the entries replaced (prev known: merge diff) and the same reload
 * without prev (after a restart: the maps are read back).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "blocklist.h"
#include "compiler.h"
#include "datapath.h"
#include "bench_util.h"

#define REPEAT     1000000u
#define ROUNDS     7
#define MAXROUNDS  64
#define EP_IF      1u
#define BIG        1000000u
#define ID_A       256u

#define LOCAL      "10.200.0.10"
#define MIXN       8
#define LISTED     "203.0.113.100"   /* listed as a single address */
#define IN_PREFIX  "198.51.100.77"   /* inside a listed /24 */
#define PFX16      "91.198.0.0"      /* a listed /16 */
#define IN_PFX16   "91.198.77.5"
#define PFX28      "185.199.108.16"  /* a listed /28: its /16 is gated */
#define IN_PFX28   "185.199.108.20"
#define NEAR_PFX28 "185.199.110.1"   /* same /16, not listed */
#define NFIXED     3                 /* fixed prefixes in both states */

/* ---- the policy world: one enforced endpoint, ingress tcp/22 from any -- */

static void addr4(struct segd_addr *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = host_order >> 24;
	a->b[13] = host_order >> 16;
	a->b[14] = host_order >> 8;
	a->b[15] = host_order;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return ntohl(a.s_addr);
}

static int world(struct seg_compiled *c)
{
	memset(c, 0, sizeof(*c));
	c->exact = calloc(1, sizeof(*c->exact));
	c->prefixes = calloc(2, sizeof(*c->prefixes));
	c->entries = calloc(1, sizeof(*c->entries));
	if (!c->exact || !c->prefixes || !c->entries)
		return -ENOMEM;
	addr4(&c->exact[0].addr, ip4(LOCAL));
	c->exact[0].value.identity = ID_A;
	c->exact[0].value.ifindex = EP_IF;
	c->exact[0].value.flags = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
				  SEGD_EPF_ENFORCE_EGRESS;
	c->exact[0].value.endpoint_id = 1;
	c->n_exact = 1;
	c->prefixes[0].key.prefixlen = 96;
	c->prefixes[0].key.addr[10] = c->prefixes[0].key.addr[11] = 0xff;
	c->prefixes[0].value.identity = SEGD_ID_WORLD;
	c->prefixes[1].key.prefixlen = 0;
	c->prefixes[1].value.identity = SEGD_ID_WORLD_V6;
	c->n_prefixes = 2;
	c->entries[0].key.local_id = ID_A;
	c->entries[0].key.remote_id = SEGD_ID_WORLD;
	c->entries[0].key.dir = SEGD_DIR_INGRESS;
	c->entries[0].key.proto = IPPROTO_TCP;
	c->entries[0].key.port_kind = SEGD_PORT_EXACT;
	c->entries[0].key.port = 22;
	c->entries[0].value.verdict = SEGD_VERDICT_ALLOW;
	c->entries[0].value.rule_id = 1;
	c->n_entries = 1;
	return 0;
}

static void world_free(struct seg_compiled *c)
{
	free(c->exact);
	free(c->prefixes);
	free(c->entries);
}

/* ---- lists ----------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int cmp_exact(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct segd_addr));
}

static int cmp_pfx(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct segd_lpm_key));
}

/* a public-looking address outside 203.0.113/24 and 198.51.100/24 */
static uint32_t rnd_public(void)
{
	for (;;) {
		uint32_t a = rnd();
		uint8_t o = a >> 24;

		if (o == 0 || o == 10 || o == 127 || o >= 224 ||
		    (a >> 8) == (ip4("203.0.113.0") >> 8) ||
		    (a >> 8) == (ip4("198.51.100.0") >> 8) ||
		    (a >> 16) == (ip4(PFX16) >> 16) ||
		    (a >> 16) == (ip4(PFX28) >> 16))
			continue;
		return a;
	}
}

/* n entries: n/100 prefixes plus the NFIXED fixed ones, the rest single
 * addresses; replace_pct % of the addresses differ (a reload of the same
 * feed) */
static int gen_lists(struct seg_bl_compiled *c, size_t n, int replace_pct)
{
	size_t np = n / 100 + NFIXED, ne = n - np, k = 0;

	rng = 0x9e3779b97f4a7c15ull;   /* same base for a list and its reload */
	memset(c, 0, sizeof(*c));
	c->exact = calloc(ne, sizeof(*c->exact));
	c->prefixes = calloc(np, sizeof(*c->prefixes));
	if (!c->exact || !c->prefixes)
		return -ENOMEM;
	for (size_t i = 0; i < ne; i++) {
		struct seg_bl_exact_entry *e = &c->exact[i];

		addr4(&e->addr, i == 0 ? ip4(LISTED) : rnd_public());
		e->value.list_id = (uint16_t)(1 + i % 8);
		e->value.action = SEGD_BL_DROP;
		e->value.category = SEGD_BL_C2;
	}
	for (size_t i = 0; i < np; i++) {
		struct seg_bl_prefix_entry *p = &c->prefixes[i];
		static const struct { const char *a; uint32_t plen; } fixed[] = {
			{ IN_PREFIX, 24 }, { PFX16, 16 }, { PFX28, 28 },
		};
		uint32_t plen = i < NFIXED ? fixed[i].plen : 16 + rnd() % 9;
		uint32_t a = i < NFIXED ? ip4(fixed[i].a) : rnd_public();
		struct segd_addr sa;

		a &= ~0u << (32 - plen);
		addr4(&sa, a);
		p->key.prefixlen = 96 + plen;
		memcpy(p->key.addr, sa.b, 16);
		p->value.list_id = 9;
		p->value.action = SEGD_BL_DROP;
		p->value.category = SEGD_BL_MINER;
	}
	/* a reload: replace_pct % of the single addresses are new ones */
	if (replace_pct) {
		rng = 0x5555aaaa12345678ull;
		for (size_t i = 1; i < ne; i += 100 / replace_pct)
			addr4(&c->exact[i].addr, rnd_public());
	}
	qsort(c->exact, ne, sizeof(*c->exact), cmp_exact);
	for (size_t i = 0; i < ne; i++)   /* unique */
		if (!k || memcmp(&c->exact[k - 1].addr, &c->exact[i].addr, 16))
			c->exact[k++] = c->exact[i];
	c->n_exact = k;
	qsort(c->prefixes, np, sizeof(*c->prefixes), cmp_pfx);
	k = 0;
	for (size_t i = 0; i < np; i++)
		if (!k || memcmp(&c->prefixes[k - 1].key, &c->prefixes[i].key,
				 sizeof(struct segd_lpm_key)))
			c->prefixes[k++] = c->prefixes[i];
	c->n_prefixes = k;
	return 0;
}

static void lists_free(struct seg_bl_compiled *c)
{
	free(c->exact);
	free(c->prefixes);
	free(c->except);
	memset(c, 0, sizeof(*c));
}

/* ---- picking the remotes of each case from the generated lists ------- */

/* the prefix k (IPv4-mapped) as base and length */
static uint32_t pfx_len(const struct seg_bl_prefix_entry *p)
{
	return p->key.prefixlen - 96;
}

static uint32_t pfx_base(const struct seg_bl_prefix_entry *p)
{
	const uint8_t *a = p->key.addr + 12;

	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	       (uint32_t)a[2] << 8 | a[3];
}

static int covered(const struct seg_bl_compiled *c, uint32_t a)
{
	for (size_t i = 0; i < c->n_prefixes; i++) {
		uint32_t l = pfx_len(&c->prefixes[i]);

		if (((a ^ pfx_base(&c->prefixes[i])) & (~0u << (32 - l))) == 0)
			return 1;
	}
	return 0;
}

static int listed(const struct seg_bl_compiled *c, uint32_t a)
{
	struct segd_addr k;

	addr4(&k, a);
	return bsearch(&k, c->exact, c->n_exact, sizeof(*c->exact),
		       cmp_exact) || covered(c, a);
}

/* does a prefix overlap the /16 of a (what the gate holds)? */
static int gated(const struct seg_bl_compiled *c, uint32_t a)
{
	for (size_t i = 0; i < c->n_prefixes; i++) {
		uint32_t l = pfx_len(&c->prefixes[i]);
		uint32_t m = l < 16 ? ~0u << (32 - l) : 0xffff0000u;

		if (((a ^ pfx_base(&c->prefixes[i])) & m) == 0)
			return 1;
	}
	return 0;
}

static int unlisted(const struct seg_bl_compiled *s,
		    const struct seg_bl_compiled *b, uint32_t a)
{
	return !listed(s, a) && !listed(b, a);
}

/* remotes: [0] /16 without a prefix, [1] /16 with one, [2] /16 of the
 * /28, [3..] the mix */
static int pick(const struct seg_bl_compiled *s, const struct seg_bl_compiled *b,
		uint32_t *out)
{
	uint32_t a;

	rng = 0x0123456789abcdefull;
	do
		a = rnd_public();
	while (gated(b, a) || gated(s, a) || !unlisted(s, b, a));
	out[0] = a;
	out[1] = 0;
	for (size_t i = 0; i < b->n_prefixes && !out[1]; i++) {
		const struct seg_bl_prefix_entry *p = &b->prefixes[i];

		/* the /24 after a listed /24, in the same /16 */
		a = pfx_base(p) + 256 + 7;
		if (pfx_len(p) == 24 && (a >> 16) == (pfx_base(p) >> 16) &&
		    unlisted(s, b, a) && gated(b, a))
			out[1] = a;
	}
	out[2] = ip4(NEAR_PFX28);
	for (int i = 0; i < MIXN; i++) {
		do
			a = rnd_public();
		while (!unlisted(s, b, a));
		out[3 + i] = a;
	}
	return out[1] && unlisted(s, b, out[2]) ? 0 : -1;
}

/* ---- packets ------------------------------------------------------------ */

static int tcp4(uint8_t *p, const char *src, const char *dst, uint16_t dport)
{
	memset(p, 0, 54);
	p[0] = 2; p[6] = 2; p[11] = 1;
	p[12] = 0x08;
	p[14] = 0x45;
	p[17] = 40;
	p[22] = 64;
	p[23] = IPPROTO_TCP;
	if (inet_pton(AF_INET, src, p + 26) != 1 ||
	    inet_pton(AF_INET, dst, p + 30) != 1)
		return -1;
	p[34] = 0xc3; p[35] = 0x50;
	p[36] = dport >> 8; p[37] = dport & 0xff;
	p[46] = 0x50;
	p[47] = 0x02;
	return 54;
}

static int run_ns(struct seg_datapath *dp, uint32_t src, double *ns,
		  uint32_t *retval)
{
	struct in_addr ia = { .s_addr = htonl(src) };
	char text[INET_ADDRSTRLEN];
	uint8_t pkt[64];
	int len = tcp4(pkt, inet_ntop(AF_INET, &ia, text, sizeof(text)),
		       LOCAL, 22);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = REPEAT);

	if (bpf_prog_test_run_opts(seg_dp_prog_fd(dp, SEG_PROG_XDP_UPLINK), &o))
		return -errno;
	*ns = o.duration;
	*retval = o.retval;
	return 0;
}

static int open_state(struct seg_datapath **dp, const struct seg_bl_compiled *l)
{
	struct seg_compiled c;
	int err = seg_dp_open(NULL, dp);

	if (err)
		return err;
	err = world(&c);
	err = err ? err : seg_dp_blocklists_write(*dp, NULL, l);
	err = err ? err : seg_dp_apply(*dp, &c);
	world_free(&c);
	return err;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int first, n; uint32_t want; }
	cases[] = {
		{ "not listed, /16 without a prefix", 0, 1, XDP_PASS },
		{ "not listed, /16 holding a /16-/24", 1, 1, XDP_PASS },
		{ "not listed, /16 of the /28 (trie)", 2, 1, XDP_PASS },
		{ "not listed, mix of random remotes", 3, MIXN, XDP_PASS },
		{ "listed (address)", 3 + MIXN, 1, XDP_DROP },
		{ "listed (inside a /24)", 4 + MIXN, 1, XDP_DROP },
		{ "listed (inside a /16)", 5 + MIXN, 1, XDP_DROP },
		{ "listed (inside the /28: trie)", 6 + MIXN, 1, XDP_DROP },
	};
	uint32_t remote[7 + MIXN];
	int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS;
	struct seg_bl_compiled small, big, reload;
	struct seg_datapath *a = NULL, *b = NULL;
	double t0, t_load, t_merge, t_scan;
	int err;

	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = ROUNDS;
	if (gen_lists(&small, 10, 0) || gen_lists(&big, BIG, 0) ||
	    gen_lists(&reload, BIG, 1)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	err = open_state(&a, &small);
	if (!err)
		err = seg_dp_open(NULL, &b);
	if (err) {
		fprintf(stderr, "datapath: %s\n", strerror(-err));
		return 1;
	}

	/* load into empty maps, then reloads */
	t0 = now_ms();
	err = seg_dp_blocklists_write(b, NULL, &big);
	t_load = now_ms() - t0;
	t0 = now_ms();
	err = err ? err : seg_dp_blocklists_write(b, &big, &reload);
	t_merge = now_ms() - t0;
	t0 = now_ms();
	err = err ? err : seg_dp_blocklists_write(b, NULL, &big);
	t_scan = now_ms() - t0;
	if (!err) {
		struct seg_compiled c;

		err = world(&c);
		err = err ? err : seg_dp_apply(b, &c);
		world_free(&c);
	}
	if (err) {
		fprintf(stderr, "1M state: %s\n", strerror(-err));
		return 1;
	}

	printf("segd blocklists in the datapath: ns per new-flow decision "
	       "(XDP uplink, BPF_PROG_TEST_RUN, repeat %u),\nmedian of %d "
	       "alternating rounds (min); lists: %zu+%zu vs %zu+%zu "
	       "(exact+prefix)\n\n", REPEAT, rounds, small.n_exact,
	       small.n_prefixes, big.n_exact, big.n_prefixes);
	printf("  %-36s %14s %16s %7s\n", "case", "10 entries", "1M entries",
	       "ratio");
	if (pick(&small, &big, remote)) {
		fprintf(stderr, "no unlisted address next to a /24\n");
		return 1;
	}
	remote[3 + MIXN] = ip4(LISTED);
	remote[4 + MIXN] = ip4(IN_PREFIX);
	remote[5 + MIXN] = ip4(IN_PFX16);
	remote[6 + MIXN] = ip4(IN_PFX28);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double va[MAXROUNDS], vb[MAXROUNDS], ma, mb;

		for (int r = 0; r < rounds; r++) {
			struct seg_datapath *first = r % 2 ? b : a;
			struct seg_datapath *second = r % 2 ? a : b;
			double x = 0, y = 0;

			for (int i = 0; i < cases[c].n; i++) {
				uint32_t src = remote[cases[c].first + i];
				double x1, y1;
				uint32_t rx, ry;

				if (run_ns(first, src, &x1, &rx) ||
				    run_ns(second, src, &y1, &ry)) {
					fprintf(stderr, "test_run: %s\n",
						strerror(errno));
					return 1;
				}
				if (rx != cases[c].want || ry != cases[c].want) {
					fprintf(stderr, "%s: verdict %u/%u, "
						"want %u\n", cases[c].name, rx,
						ry, cases[c].want);
					return 1;
				}
				x += x1 / cases[c].n;
				y += y1 / cases[c].n;
			}
			va[r] = r % 2 ? y : x;
			vb[r] = r % 2 ? x : y;
		}
		ma = median(va, rounds);
		mb = median(vb, rounds);
		printf("  %-36s %6.1f (%5.1f) %8.1f (%5.1f) %6.2fx\n",
		       cases[c].name, ma, minimum(va, rounds), mb,
		       minimum(vb, rounds), mb / ma);
	}
	{
		size_t g = 0;
		int gm = 0;

		for (uint32_t x = 0; x < 65536; x++)
			g += gated(&big, x << 16);
		for (int i = 0; i < MIXN; i++)
			gm += gated(&big, remote[3 + i]);
		size_t n24 = 0, open16 = 0;
		int fd = seg_dp_map_fd(b, SEGD_MAP_BL_GATE);

		for (uint32_t w = 0; w < SEGD_BL_GATE_V6 / 64; w++) {
			uint64_t v = 0;

			if (!bpf_map_lookup_elem(fd, &w, &v))
				open16 += (size_t)__builtin_popcountll(v);
		}
		static struct seg_bl_net24_plan plan;

		if (!seg_bl_net24_plan(big.prefixes, big.n_prefixes,
				       SEGD_MAX_BL_NET24, &plan))
			n24 = plan.n_keys;
		printf("\n  /16s holding a prefix (1M state): %zu of 65536; "
		       "mix: %d of its %d remotes are in one\n", g, gm, MIXN);
		printf("  /24 keys in %s: %zu; /16s with the prefix gate "
		       "open (trie asked): %zu\n", SEGD_MAP_BL_NET24, n24,
		       open16);
	}
	printf("\n  seg_dp_blocklists_write, %zu entries into empty maps: "
	       "%.0f ms\n", big.n_exact + big.n_prefixes, t_load);
	printf("  reload, 1%% of the addresses replaced, prev known (merge): "
	       "%.0f ms\n", t_merge);
	printf("  reload back, prev unknown (maps read back): %.0f ms\n",
	       t_scan);
	seg_dp_close(a);
	seg_dp_close(b);
	lists_free(&small);
	lists_free(&big);
	lists_free(&reload);
	return 0;
}
