/* compiler_cache.c - seg_compile_cached(): incremental compilation.
 *
 * Same pipeline as seg_compile() (compiler.c), two shortcuts:
 *
 *  - step 5 per policy: a policy's entries depend only on the policy and
 *    the identity universe (identities and their ids, namespace labels,
 *    CIDR identities). They are kept per policy, keyed by a byte-exact
 *    fingerprint of what the compiler reads from it, as per-subject-
 *    identity runs of entry codes with policy-local rule ids (1..n); the
 *    merge adds the policy's rule id base.
 *  - steps 5-6 per local identity: the final codes of one local identity
 *    (its "bucket": merged entries plus deny intersections) depend only on
 *    the policies whose subject selects it. Buckets no added, removed or
 *    changed policy selects are taken from the last compilation, with
 *    their rule ids renumbered when policies before them gained or lost
 *    rules (renumbering is monotone, so no merge outcome changes).
 *
 * Both are sound only while the universe is the one they were computed
 * in; it is fingerprinted byte for byte and any change empties the cache.
 */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pol_entry {
	uint64_t hash;
	char *fp;                     /* fingerprint bytes */
	size_t n_fp;
	size_t n_rules;
	uint32_t *subj;               /* ident indices, ascending */
	size_t n_subj;
	size_t *run;                  /* n_subj + 1 offsets into codes */
	uint64_t *codes;              /* rule ids local: 1..n_rules */
	int prev_uses, now_uses;      /* policies using it: last call, this one */
	uint32_t old_base, new_base;
};

struct seg_compile_cache {
	char *uni;                    /* universe fingerprint */
	size_t n_uni;
	struct pol_entry **tab;       /* open addressing by hash */
	size_t cap, n;
	struct bucket *bk;            /* final buckets of the last compile */
	size_t n_bk;
	bool bk_valid;
	size_t prev_rules;            /* rules of the last compile */
	struct seg_compile_cache_stats st;
};

/* ---- fingerprints ----------------------------------------------------------- */

static void fp_u64(struct seg_strbuf *sb, uint64_t v)
{
	seg_strbuf_add(sb, (const char *)&v, sizeof(v));
}

static void fp_str(struct seg_strbuf *sb, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;

	seg_strbuf_add(sb, (const char *)&n, sizeof(n));
	if (s)
		seg_strbuf_add(sb, s, n);
}

static void fp_sel(struct seg_strbuf *sb, const struct seg_selector *s)
{
	fp_u64(sb, s->n_reqs);
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct seg_sel_req *r = &s->reqs[i];

		fp_str(sb, r->key);
		fp_u64(sb, (uint64_t)r->op << 32 | r->n_values);
		for (size_t j = 0; j < r->n_values; j++)
			fp_str(sb, r->values[j]);
	}
}

static void fp_cidr(struct seg_strbuf *sb, const struct seg_cidr *c)
{
	seg_strbuf_add(sb, (const char *)&c->addr, 16);
	seg_strbuf_add(sb, (const char *)&c->plen, 1);
}

/* everything segc_gen_policy() reads from p, and its mode (which buckets
 * its codes go to) */
static void fp_policy(struct seg_strbuf *sb, const struct seg_policy *p, bool audit)
{
	sb->n = 0;
	fp_u64(sb, audit);
	fp_str(sb, pol_ns(p));
	fp_sel(sb, &p->subject);
	fp_u64(sb, (uint64_t)p->has_subject_ns << 16 | (uint64_t)p->enforce[0] << 8 |
		   p->enforce[1]);
	fp_sel(sb, &p->subject_namespaces);
	fp_u64(sb, p->n_rules);
	for (size_t ri = 0; ri < p->n_rules; ri++) {
		const struct seg_rule *r = &p->rules[ri];

		fp_u64(sb, (uint64_t)r->action << 40 | (uint64_t)(uint32_t)r->dir << 8 |
			   (uint64_t)r->all_peers << 4 | r->all_ports);
		fp_u64(sb, r->n_peers);
		for (size_t k = 0; k < r->n_peers; k++) {
			const struct seg_peer *pe = &r->peers[k];

			fp_u64(sb, (uint64_t)pe->kind << 8 | pe->has_namespaces);
			fp_sel(sb, &pe->pods);
			fp_sel(sb, &pe->namespaces);
			fp_cidr(sb, &pe->cidr);
			fp_u64(sb, pe->n_except);
			for (size_t e = 0; e < pe->n_except; e++)
				fp_cidr(sb, &pe->except[e]);
			fp_sel(sb, &pe->nodes);
			fp_str(sb, pe->domain);
		}
		fp_u64(sb, r->n_ports);
		for (size_t k = 0; k < r->n_ports; k++) {
			fp_u64(sb, (uint64_t)r->ports[k].proto << 32 |
				   (uint64_t)r->ports[k].port_lo << 16 |
				   r->ports[k].port_hi);
			fp_str(sb, r->ports[k].name);
		}
	}
}

static void fp_addrs(struct seg_strbuf *sb, const struct in6_addr *a, size_t n)
{
	fp_u64(sb, n);
	if (n)
		seg_strbuf_add(sb, (const char *)a, n * sizeof(*a));
}

/* identities (key, id, namespace labels), CIDR identities (key, id), and
 * what `nodes` and `domainNames` peers select from: this node's
 * addresses, the nodes (labels, addresses), the resolved names */
static void fp_universe(struct seg_strbuf *sb, const struct ctx *x)
{
	sb->n = 0;
	fp_u64(sb, x->w->cidr_match);
	fp_u64(sb, x->n_ids);
	for (size_t i = 0; i < x->n_ids; i++) {
		const struct seg_labels *l = &x->ns[x->ids[i].ns].labels;

		fp_str(sb, x->ids[i].key);
		fp_u64(sb, (uint64_t)x->ids[i].id << 32 | l->n);
		for (size_t j = 0; j < l->n; j++) {
			fp_str(sb, l->v[j].key);
			fp_str(sb, l->v[j].value);
		}
	}
	fp_u64(sb, x->n_cidrs);
	for (size_t i = 0; i < x->n_cidrs; i++) {
		fp_str(sb, x->cidrs[i].key);
		fp_u64(sb, x->cidrs[i].id);
	}
	fp_addrs(sb, x->w->host_ips, x->w->n_host_ips);
	fp_u64(sb, x->w->n_nodes);
	for (size_t i = 0; i < x->w->n_nodes; i++) {
		const struct seg_node *n = &x->w->nodes[i];

		fp_u64(sb, n->labels.n);
		for (size_t j = 0; j < n->labels.n; j++) {
			fp_str(sb, n->labels.v[j].key);
			fp_str(sb, n->labels.v[j].value);
		}
		fp_addrs(sb, n->ips, n->n_ips);
	}
	fp_u64(sb, x->w->n_names);
	for (size_t i = 0; i < x->w->n_names; i++) {
		fp_str(sb, x->w->names[i].name);
		fp_addrs(sb, x->w->names[i].ips, x->w->names[i].n_ips);
	}
}

static uint64_t fp_hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	for (size_t i = n & ~(size_t)7; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	return segc_mix64(h);
}

/* ---- the entry table ---------------------------------------------------------- */

static void entry_free(struct pol_entry *e)
{
	if (!e)
		return;
	free(e->fp);
	free(e->subj);
	free(e->run);
	free(e->codes);
	free(e);
}

static struct pol_entry *tab_find(const struct seg_compile_cache *c,
				  uint64_t h, const char *fp, size_t n)
{
	for (size_t i = c->cap ? h & (c->cap - 1) : 0; c->cap && c->tab[i];
	     i = (i + 1) & (c->cap - 1)) {
		const struct pol_entry *e = c->tab[i];

		if (e->hash == h && e->n_fp == n && !memcmp(e->fp, fp, n))
			return c->tab[i];
	}
	return NULL;
}

static int tab_rebuild(struct seg_compile_cache *c, size_t cap)
{
	struct pol_entry **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t j = 0; j < c->cap; j++) {
		size_t i;

		if (!c->tab[j])
			continue;
		for (i = c->tab[j]->hash & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
			;
		t[i] = c->tab[j];
	}
	free(c->tab);
	c->tab = t;
	c->cap = cap;
	return 0;
}

static int tab_add(struct seg_compile_cache *c, struct pol_entry *e)
{
	size_t i;

	if ((c->n + 1) * 2 > c->cap) {
		int rc = tab_rebuild(c, c->cap ? c->cap * 2 : 256);

		if (rc)
			return rc;
	}
	for (i = e->hash & (c->cap - 1); c->tab[i]; i = (i + 1) & (c->cap - 1))
		;
	c->tab[i] = e;
	c->n++;
	return 0;
}

static void cache_reset(struct seg_compile_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		entry_free(c->tab[i]);
	free(c->tab);
	c->tab = NULL;
	c->cap = c->n = 0;
	segc_buckets_free(c->bk, c->n_bk);
	c->bk = NULL;
	c->n_bk = 0;
	c->bk_valid = false;
	free(c->uni);
	c->uni = NULL;
	c->n_uni = 0;
	c->prev_rules = 0;
}

int seg_compile_cache_new(struct seg_compile_cache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void seg_compile_cache_free(struct seg_compile_cache *c)
{
	if (!c)
		return;
	cache_reset(c);
	free(c);
}

void seg_compile_cache_stats(const struct seg_compile_cache *c,
			     struct seg_compile_cache_stats *st)
{
	*st = c->st;
}

/* ---- compiling ----------------------------------------------------------------- */

/* p's entries, rule ids 1..n, as a new entry (via the scratch buckets tbk,
 * left empty) */
static int compile_policy(struct ctx *x, struct bucket *tbk,
			  const struct seg_policy *p, const struct seg_strbuf *fp,
			  uint64_t h, struct pol_entry **out)
{
	struct pol_entry *e = calloc(1, sizeof(*e));
	size_t subj, total = 0;
	int rc;

	if (!e)
		return -ENOMEM;
	rc = segc_gen_policy(x, p, 0, tbk, &subj);
	if (rc)
		goto out;
	e->n_subj = x->sets[subj].n;
	e->subj = malloc((e->n_subj + 1) * sizeof(*e->subj));
	e->run = malloc((e->n_subj + 1) * sizeof(*e->run));
	e->fp = malloc(fp->n + 1);
	if (!e->subj || !e->run || !e->fp) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(e->fp, fp->p, fp->n);
	e->n_fp = fp->n;
	e->hash = h;
	e->n_rules = p->n_rules;
	if (e->n_subj)
		memcpy(e->subj, x->pool + x->sets[subj].off,
		       e->n_subj * sizeof(*e->subj));
	segc_sort_u32(e->subj, e->n_subj);
	for (size_t k = 0; k < e->n_subj && !rc; k++) {
		rc = segc_bk_sort(x, &tbk[e->subj[k]]);
		total += tbk[e->subj[k]].n;
	}
	if (!rc && !(e->codes = malloc((total + 1) * sizeof(*e->codes))))
		rc = -ENOMEM;
	for (size_t k = 0, n = 0; !rc && k <= e->n_subj; k++) {
		struct bucket *b;

		e->run[k] = n;
		if (k == e->n_subj)
			break;
		b = &tbk[e->subj[k]];
		if (b->n)
			memcpy(e->codes + n, b->v, b->n * sizeof(*b->v));
		n += b->n;
		b->n = b->n_sorted = 0;
	}
	x->raw = 0;
out:
	if (rc)
		entry_free(e);
	else
		*out = e;
	return rc;
}

struct run_state {
	struct pol_entry **ord;       /* per policy in rule id order */
	uint32_t *base;
	uint8_t *touched;             /* per ident: rebuild its bucket */
	uint32_t *remap;              /* old rule id -> new, or NULL */
	struct bucket *tbk;
};

/* Which buckets of the last compile stay valid; renumbering table. */
static int plan_reuse(struct seg_compile_cache *c, struct ctx *x,
		      struct run_state *s)
{
	uint32_t last = 0;
	bool shifted = false;

	for (size_t oi = 0; oi < x->w->n_policies; oi++) {
		const struct pol_entry *e = s->ord[oi];

		if (e->prev_uses != 1 || e->now_uses != 1)
			continue;
		if (e->old_base < last)
			return 1;       /* policies reordered: rebuild all */
		last = e->old_base + (uint32_t)e->n_rules;
		shifted |= e->old_base != e->new_base;
	}
	for (size_t j = 0; j < c->cap; j++) {
		const struct pol_entry *e = c->tab[j];

		if (!e || (e->prev_uses == 1 && e->now_uses == 1))
			continue;
		for (size_t k = 0; k < e->n_subj; k++)
			s->touched[e->subj[k]] = 1;
	}
	if (!shifted)
		return 0;
	s->remap = calloc(c->prev_rules + 1, sizeof(*s->remap));
	if (!s->remap)
		return -ENOMEM;
	for (size_t j = 0; j < c->cap; j++) {
		const struct pol_entry *e = c->tab[j];

		if (!e || e->prev_uses != 1 || e->now_uses != 1)
			continue;
		for (uint32_t r = 1; r <= e->n_rules; r++)
			s->remap[e->old_base + r] = e->new_base + r;
	}
	return 0;
}

/* x->bk: reused buckets moved from the cache, the others merged from the
 * policies' runs */
static int assemble(struct seg_compile_cache *c, struct ctx *x,
		    struct run_state *s, uint8_t *final)
{
	for (size_t i = 0; i < x->n_ids; i++) {
		struct bucket *b = &x->bk[i];

		final[i] = !s->touched[i];
		if (!final[i])
			continue;
		*b = c->bk[i];
		memset(&c->bk[i], 0, sizeof(c->bk[i]));
		for (size_t k = 0; s->remap && k < b->n; k++)
			b->v[k] = (b->v[k] & ~SEGC_RULE_MASK) |
				  s->remap[b->v[k] & SEGC_RULE_MASK];
		c->st.idents_reused++;
	}
	c->st.idents_rebuilt = x->n_ids - c->st.idents_reused;
	for (size_t oi = 0; oi < x->w->n_policies; oi++) {
		const struct pol_entry *e = s->ord[oi];
		struct bucket *bk = segc_bk_of(x, x->pol_order[oi]);

		for (size_t k = 0; k < e->n_subj; k++) {
			struct bucket *b = &bk[e->subj[k]];
			size_t n = e->run[k + 1] - e->run[k];

			if (final[e->subj[k]] || !n)
				continue;
			if (segc_grow(&b->v, &b->cap, b->n + n, sizeof(*b->v)))
				return -ENOMEM;
			for (size_t q = 0; q < n; q++)
				b->v[b->n++] = e->codes[e->run[k] + q] + s->base[oi];
		}
	}
	return 0;
}

/* after a success: keep the buckets, roll uses and bases, evict entries
 * this compile did not use */
static int keep(struct seg_compile_cache *c, struct ctx *x, size_t rules)
{
	segc_buckets_free(c->bk, c->n_bk);
	c->bk = x->bk;
	c->n_bk = x->n_ids;
	x->bk = NULL;
	c->bk_valid = true;
	c->prev_rules = rules;
	for (size_t j = 0; j < c->cap; j++) {
		struct pol_entry *e = c->tab[j];

		if (!e)
			continue;
		if (!e->now_uses) {
			entry_free(e);
			c->tab[j] = NULL;
			c->n--;
			continue;
		}
		e->prev_uses = e->now_uses;
		e->now_uses = 0;
		e->old_base = e->new_base;
	}
	return tab_rebuild(c, c->cap ? c->cap : 256);
}

int seg_compile_cached(const struct seg_world *world,
		       struct seg_compile_cache *c, struct seg_compiled *out,
		       struct seg_error *err)
{
	struct run_state s = { 0 };
	struct seg_strbuf fp = { 0 };         /* policy fingerprints */
	uint8_t *final = NULL;
	struct ctx x;
	uint32_t base = 0;
	int rc;

	if (!c || !out || !world)
		return seg_compile(world, out, err);
	memset(&c->st, 0, sizeof(c->st));
	rc = segc_prepare(&x, world, err);
	if (!rc && x.rule_act) {
		/* ClusterNetworkPolicy tiers evaluate every selected
		 * identity's keys together (compiler_tiers.c): compiled whole */
		c->st.full = true;
		goto fail;
	}
	if (!rc) {
		fp_universe(&x.sb, &x);
		rc = x.sb.err;
	}
	if (rc)
		goto fail;
	if (c->n_uni != x.sb.n || memcmp(c->uni, x.sb.p, x.sb.n)) {
		cache_reset(c);
		if (!(c->uni = malloc(x.sb.n + 1)))
			{ rc = -ENOMEM; goto fail; }
		memcpy(c->uni, x.sb.p, x.sb.n);
		c->n_uni = x.sb.n;
	}
	s.ord = calloc(world->n_policies + 1, sizeof(*s.ord));
	s.base = calloc(world->n_policies + 1, sizeof(*s.base));
	s.touched = calloc(x.n_ids + 1, 1);
	s.tbk = calloc(x.n_ids + 1, sizeof(*s.tbk));
	final = calloc(x.n_ids + 1, 1);
	if (!s.ord || !s.base || !s.touched || !s.tbk || !final)
		{ rc = -ENOMEM; goto fail; }
	for (size_t oi = 0; oi < world->n_policies; oi++) {
		size_t pi = x.pol_order[oi];
		const struct seg_policy *p = &world->policies[pi];
		struct pol_entry *e;
		uint64_t h;

		fp_policy(&fp, p, x.pol_audit[pi]);
		if ((rc = fp.err))
			goto fail;
		h = fp_hash(fp.p, fp.n);
		e = tab_find(c, h, fp.p, fp.n);
		if (e) {
			c->st.policies_reused++;
		} else {
			rc = compile_policy(&x, s.tbk, p, &fp, h, &e);
			if (!rc && (rc = tab_add(c, e)))
				entry_free(e);
			if (rc)
				goto fail;
			c->st.policies_compiled++;
		}
		if (!e->now_uses++)
			e->new_base = base;
		s.ord[oi] = e;
		s.base[oi] = base;
		segc_add_enforce(&x, pi, e->subj, e->n_subj);
		base += (uint32_t)p->n_rules;
	}
	rc = 1;
	if (c->bk_valid && c->n_bk == x.n_ids)
		rc = plan_reuse(c, &x, &s);
	if (rc < 0)
		goto fail;
	c->st.full = rc == 1;
	if (c->st.full)
		memset(s.touched, 1, x.n_ids);
	rc = assemble(c, &x, &s, final);
	x.bk_final = final;
	if (!rc)
		rc = segc_finish(&x, out);
	if (rc)
		goto fail;
	if (keep(c, &x, base))
		cache_reset(c);         /* *out is fine; start over next time */
	goto out;
fail:
	/* the exact error (or, after a transient failure or with tiers, the
	 * exact result) of a plain compile; the next call starts from
	 * nothing */
	cache_reset(c);
	rc = seg_compile(world, out, err);
out:
	segc_buckets_free(s.tbk, x.n_ids);
	segc_ctx_free(&x);
	free(s.ord);
	free(s.base);
	free(s.touched);
	free(s.remap);
	free(final);
	free(fp.p);
	return rc;
}
