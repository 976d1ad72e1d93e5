/* bl_harness.c - the blocklist suites' shared world, rows, hand-built
 * lists and map checks (bl_harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "bl_harness.h"

void bl_world(struct seg_compiled *c)
{
	uint32_t fa = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS;

	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, B4, ID_B, EP_IF, SEGD_EPF_LOCAL |
			      SEGD_EPF_STRATUM_AUDIT, 2), 0);
	cr_assert_eq(st_exact(c, C4, ID_C, EP_IF, SEGD_EPF_LOCAL |
			      SEGD_EPF_STRATUM_OFF, 3), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	cr_assert_eq(st_prefix(c, "2001:db8::/32", ID_R6), 0);
	cr_assert_eq(st_prefix(c, "198.51.100.0/24", ID_S), 0);
	st_rule(c, ID_A, ID_R, EG, TCP, SEGD_PORT_ANY, 0, ALLOW, 1);
	st_rule(c, ID_A, ID_R, IN, TCP, SEGD_PORT_EXACT, 22, ALLOW, 2);
	st_rule(c, ID_A, ID_S, EG, SEGD_PROTO_ANY, SEGD_PORT_ANY, 0, ALLOW, 3);
	st_rule(c, ID_A, ID_R6, EG, TCP, SEGD_PORT_ANY, 0, ALLOW, 4);
}

void bl_apply_world(void)
{
	struct seg_compiled c;

	bl_world(&c);
	dp_apply(&c);
}

/* ---- compiled blocklists by hand (sorted as seg_blocklists_compile) ---- */

static int cmp16(const void *a, const void *b) { return memcmp(a, b, 16); }
static int cmp20(const void *a, const void *b) { return memcmp(a, b, 20); }

void bl_exact(struct seg_bl_compiled *c, const char *addr,
		     uint16_t list, uint8_t action)
{
	struct seg_bl_exact_entry *e;

	c->exact = realloc(c->exact, (c->n_exact + 1) * sizeof(*e));
	cr_assert(c->exact);
	e = &c->exact[c->n_exact++];
	memset(e, 0, sizeof(*e));
	cr_assert_eq(st_addr(addr, &e->addr), 0);
	e->value.list_id = list;
	e->value.action = action;
	e->value.category = SEGD_BL_MINER;
	qsort(c->exact, c->n_exact, sizeof(*e), cmp16);
}

static void bl_lpm_key(struct segd_lpm_key *k, const char *addr, int plen)
{
	struct segd_addr a;

	cr_assert_eq(st_addr(addr, &a), 0);
	memset(k, 0, sizeof(*k));
	k->prefixlen = (uint32_t)(strchr(addr, ':') ? plen : 96 + plen);
	memcpy(k->addr, a.b, 16);
}

void bl_prefix(struct seg_bl_compiled *c, const char *addr, int plen,
		      uint16_t list, uint8_t action)
{
	struct seg_bl_prefix_entry *e;

	c->prefixes = realloc(c->prefixes, (c->n_prefixes + 1) * sizeof(*e));
	cr_assert(c->prefixes);
	e = &c->prefixes[c->n_prefixes++];
	memset(e, 0, sizeof(*e));
	bl_lpm_key(&e->key, addr, plen);
	e->value.list_id = list;
	e->value.action = action;
	e->value.category = SEGD_BL_C2;
	qsort(c->prefixes, c->n_prefixes, sizeof(*e), cmp20);
}

void bl_except(struct seg_bl_compiled *c, const char *addr, int plen)
{
	c->except = realloc(c->except, (c->n_except + 1) * sizeof(*c->except));
	cr_assert(c->except);
	bl_lpm_key(&c->except[c->n_except++], addr, plen);
	qsort(c->except, c->n_except, sizeof(*c->except), cmp20);
}

void bl_free(struct seg_bl_compiled *c)
{
	free(c->exact);
	free(c->prefixes);
	free(c->except);
	memset(c, 0, sizeof(*c));
}

/* ---- running rows ------------------------------------------------------ */

static int run_row(const char *scenario, const void *row)
{
	const struct row *r = row;
	struct segd_counter rb[SEGD_REASON_MAX], ra[SEGD_REASON_MAX];
	struct segd_counter bb[SEGD_MAX_BLOCKLISTS], ba[SEGD_MAX_BLOCKLISTS];
	uint8_t pkt[2048];
	char why[256] = "";
	uint32_t retval = 0;
	int len, ok = 1;

	len = pkt_build(&r->pkt, pkt, sizeof(pkt));
	cr_assert_gt(len, 0, "[%s] %s: cannot build packet", scenario, r->name);
	cr_assert_eq(seg_dp_reason_counters(dp, rb), 0);
	cr_assert_eq(seg_dp_blocklist_counters(dp, bb), 0);
	cr_assert_eq(dp_run_prog(r->prog, pkt, len, EP_IF, &retval), 0);
	cr_assert_eq(seg_dp_reason_counters(dp, ra), 0);
	cr_assert_eq(seg_dp_blocklist_counters(dp, ba), 0);

	if ((int)retval != r->verdict) {
		snprintf(why, sizeof(why), "verdict %u, want %d", retval,
			 r->verdict);
		ok = 0;
	}
	for (int k = 0; k < SEGD_REASON_MAX && ok; k++) {
		uint64_t d = ra[k].packets - rb[k].packets;
		uint64_t want = k == r->reason || (r->reason2 && k == r->reason2);

		if (d != want) {
			snprintf(why, sizeof(why), "reason %d moved by %llu, "
				 "want %llu", k, (unsigned long long)d,
				 (unsigned long long)want);
			ok = 0;
		}
	}
	for (int k = 0; k < SEGD_MAX_BLOCKLISTS && ok; k++) {
		uint64_t d = ba[k].packets - bb[k].packets;
		uint64_t want = r->bl_list && k == r->bl_list;

		if (d != want || (want && ba[k].bytes - bb[k].bytes !=
				  (uint64_t)pkt_ip_len(&r->pkt))) {
			snprintf(why, sizeof(why), "list %d moved by %llu, "
				 "want %llu", k, (unsigned long long)d,
				 (unsigned long long)want);
			ok = 0;
		}
	}
	if (!ok)
		cr_log_error("[%s] row \"%s\": %s", scenario, r->name, why);
	return ok;
}

void bl_run_rows(const char *scenario, const struct row *rows, size_t n)
{
	int failed = dp_run_table(scenario, rows, n, sizeof(*rows), run_row);

	cr_expect_eq(failed, 0, "[%s] %d of %zu rows failed (see above)",
		     scenario, failed, n);
}

/* ---- what the maps hold --------------------------------------------------- */

/* the prefix gate: exactly the /16s of c's IPv4 prefixes longer than /24
 * (segd_bl_net24 and _net16 answer for the others), and the bit of each
 * IPv6 prefix (the tests use /32 and longer) */
static void expect_gate(const struct seg_bl_compiled *c, const char *step)
{
	static uint64_t want[SEGD_BL_GATE_WORDS];
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_GATE);
	size_t bad = 0;

	memset(want, 0, sizeof(want));
	for (size_t i = 0; i < c->n_prefixes; i++) {
		const struct segd_lpm_key *k = &c->prefixes[i].key;
		uint32_t w, a = (uint32_t)k->addr[12] << 8 | k->addr[13];

		if (k->prefixlen >= 96 && k->addr[10] == 0xff) {
			uint32_t l4 = k->prefixlen - 96;
			uint32_t n = l4 >= 16 ? 1 : 1u << (16 - l4);

			if (l4 <= 24)
				continue;
			for (uint32_t b = a & ~(n - 1); b < (a & ~(n - 1)) + n;
			     b++)
				want[b / 64] |= 1ull << (b % 64);
			continue;
		}
		cr_assert_geq(k->prefixlen, 32);
		memcpy(&w, k->addr, 4);
		w = segd_bl_gate6(w);
		want[w / 64] |= 1ull << (w % 64);
	}
	for (uint32_t i = 0; i < SEGD_BL_GATE_WORDS; i++) {
		uint64_t v = 0;

		cr_assert_eq(bpf_map_lookup_elem(fd, &i, &v), 0);
		/* IPv4 words exactly; IPv6 words: at least the wanted bits */
		if (i < SEGD_BL_GATE_V6 / 64 ? v != want[i] :
					       (v & want[i]) != want[i])
			bad++;
	}
	cr_expect_eq(bad, 0, "[%s] %zu prefix gate words wrong", step, bad);
}

/* the /24 view of c, worked out the slow way: every /24 of every IPv4
 * /17../24 prefix, the longest prefix per /24 kept */

static int n24_cmp(const void *a, const void *b)
{
	const struct n24 *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->plen > y->plen ? -1 : x->plen < y->plen;
}

size_t bl_want_net24(const struct seg_bl_compiled *c, struct n24 **out)
{
	struct n24 *v = NULL;
	size_t n = 0, o = 0;

	for (size_t i = 0; i < c->n_prefixes; i++) {
		const struct segd_lpm_key *k = &c->prefixes[i].key;
		uint32_t l4 = k->prefixlen - 96, base;

		if (k->prefixlen < 96 + 17 || k->prefixlen > 96 + 24 ||
		    k->addr[10] != 0xff || k->addr[11] != 0xff)
			continue;
		base = (uint32_t)k->addr[12] << 16 | k->addr[13] << 8 |
		       k->addr[14];
		v = realloc(v, (n + (1u << (24 - l4))) * sizeof(*v));
		cr_assert(v);
		for (uint32_t j = 0; j < 1u << (24 - l4); j++)
			v[n++] = (struct n24){ base + j, l4, c->prefixes[i].value };
	}
	if (n)
		qsort(v, n, sizeof(*v), n24_cmp);
	for (size_t i = 0; i < n; i++)
		if (!o || v[o - 1].key != v[i].key)
			v[o++] = v[i];
	*out = v;
	return o;
}

/* segd_bl_net16 holds c's IPv4 /0../16 prefixes: for each /16 the
 * longest one covering it, worked out per slot */
static size_t expect_net16(const struct seg_bl_compiled *c, const char *step)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_NET16);
	size_t bad = 0, used = 0;

	for (uint32_t i = 0; i < SEGD_BL_NET16_SLOTS; i++) {
		struct segd_bl_value want = { 0 }, got;
		uint32_t best = 0;

		for (size_t j = 0; j < c->n_prefixes; j++) {
			const struct segd_lpm_key *k = &c->prefixes[j].key;
			uint32_t l4 = k->prefixlen - 96;
			uint32_t a = (uint32_t)k->addr[12] << 8 | k->addr[13];

			if (k->prefixlen < 96 || l4 > 16 || k->addr[10] != 0xff ||
			    k->addr[11] != 0xff || (l4 && (a ^ i) >> (16 - l4)) ||
			    (best && l4 <= best - 1))
				continue;
			want = c->prefixes[j].value;
			best = l4 + 1;
		}
		cr_assert_eq(bpf_map_lookup_elem(fd, &i, &got), 0);
		bad += memcmp(&got, &want, sizeof(got)) != 0;
		used += want.list_id != 0;
	}
	cr_expect_eq(bad, 0, "[%s] %zu /16 slots wrong", step, bad);
	return used;
}

/* segd_bl_net24 holds exactly the /24 view of c */
static size_t expect_net24(const struct seg_bl_compiled *c, const char *step)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_NET24);
	struct n24 *w = NULL;
	size_t nw = bl_want_net24(c, &w), n = 0, bad = 0;
	struct segd_bl_value bv;
	uint32_t k, nk;

	for (size_t i = 0; i < nw; i++)
		bad += bpf_map_lookup_elem(fd, &w[i].key, &bv) ||
		       memcmp(&bv, &w[i].v, sizeof(bv));
	for (int r = bpf_map_get_next_key(fd, NULL, &k); !r;
	     r = bpf_map_get_next_key(fd, &k, &nk), k = nk)
		n++;
	cr_expect_eq(bad, 0, "[%s] %zu /24 keys missing or wrong", step, bad);
	cr_expect_eq(n, nw, "[%s] net24 holds %zu, want %zu", step, n, nw);
	free(w);
	return nw;
}

/* the maps hold exactly c */
void bl_expect_maps(const struct seg_bl_compiled *c, const char *step)
{
	int fe = seg_dp_map_fd(dp, SEGD_MAP_BL_EXACT);
	int fl = seg_dp_map_fd(dp, SEGD_MAP_BL_LPM);
	int fx = seg_dp_map_fd(dp, SEGD_MAP_BL_EXCEPT);
	struct segd_bl_value bv;
	struct segd_lpm_key k, nk;
	struct segd_addr a, na;
	uint32_t one, want = 0;
	size_t n;

	for (size_t i = 0; i < c->n_exact; i++) {
		cr_expect_eq(bpf_map_lookup_elem(fe, &c->exact[i].addr, &bv), 0,
			     "[%s] exact %zu missing", step, i);
		cr_expect_eq(memcmp(&bv, &c->exact[i].value, sizeof(bv)), 0,
			     "[%s] exact %zu value", step, i);
	}
	n = 0;
	for (int r = bpf_map_get_next_key(fe, NULL, &a); !r;
	     r = bpf_map_get_next_key(fe, &a, &na), a = na)
		n++;
	cr_expect_eq(n, c->n_exact, "[%s] exact holds %zu, want %zu", step, n,
		     c->n_exact);
	for (size_t i = 0; i < c->n_prefixes; i++) {
		cr_expect_eq(bpf_map_lookup_elem(fl, &c->prefixes[i].key, &bv),
			     0, "[%s] prefix %zu missing", step, i);
		cr_expect_eq(memcmp(&bv, &c->prefixes[i].value, sizeof(bv)), 0,
			     "[%s] prefix %zu value", step, i);
	}
	n = 0;
	for (int r = bpf_map_get_next_key(fl, NULL, &k); !r;
	     r = bpf_map_get_next_key(fl, &k, &nk), k = nk)
		n++;
	cr_expect_eq(n, c->n_prefixes, "[%s] lpm holds %zu, want %zu", step,
		     n, c->n_prefixes);
	n = 0;
	for (int r = bpf_map_get_next_key(fx, NULL, &k); !r;
	     r = bpf_map_get_next_key(fx, &k, &nk), k = nk) {
		cr_expect_eq(bpf_map_lookup_elem(fx, &k, &one), 0);
		cr_expect_eq(one, 1);
		n++;
	}
	cr_expect_eq(n, c->n_except, "[%s] except holds %zu, want %zu", step,
		     n, c->n_except);
	expect_gate(c, step);
	want |= expect_net24(c, step) ? SEGD_CFG_BL_NET24 : 0;
	want |= expect_net16(c, step) ? SEGD_CFG_BL_NET24 : 0;
	want |= SEGD_CFG_BL_PFXGATE;
	want |= c->n_exact ? SEGD_CFG_BL_EXACT : 0;
	want |= c->n_prefixes ? SEGD_CFG_BL_PREFIXES : 0;
	want |= c->n_except ? SEGD_CFG_BL_EXCEPT : 0;
	cr_expect_eq(dp_cfg_flags(), want, "[%s] flags %#x, want %#x", step,
		     dp_cfg_flags(), want);
}
