/* policy_image.c - the content of a policy slot as the kernel will hold
 * it: per inner map, a table of (key, value) records sorted by key bytes
 * with unique keys (probe hints included), the per-endpoint hints of
 * segd_lhints, and the delta between two tables. Pure: no syscalls. The
 * datapath writes these (daemon/datapath/datapath_apply.c, "applying
 * compiled state"); see policy_image.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "policy_image.h"

/* the sizes the maps are declared with (bpf/lib/maps.h) */
const size_t seg_img_key_size[SEG_IMG_INNER_COUNT] = {
	sizeof(struct segd_policy_key), sizeof(struct segd_addr),
	sizeof(struct segd_lpm_key),
};
const size_t seg_img_value_size[SEG_IMG_INNER_COUNT] = {
	sizeof(struct segd_policy_value), sizeof(struct segd_ipcache_value),
	sizeof(struct segd_ipcache_value),
};

/* compiled entries are (key, value) records without padding: the content
 * of a table is copied as a whole */
_Static_assert(sizeof(struct seg_policy_entry) ==
	       sizeof(struct segd_policy_key) + sizeof(struct segd_policy_value),
	       "policy entry is key + value");
_Static_assert(offsetof(struct seg_policy_entry, value) ==
	       sizeof(struct segd_policy_key), "policy entry layout");
_Static_assert(sizeof(struct seg_ipc_exact_entry) ==
	       sizeof(struct segd_addr) + sizeof(struct segd_ipcache_value),
	       "exact entry is key + value");
_Static_assert(offsetof(struct seg_ipc_exact_entry, value) ==
	       sizeof(struct segd_addr), "exact entry layout");
_Static_assert(sizeof(struct seg_ipc_prefix_entry) ==
	       sizeof(struct segd_lpm_key) + sizeof(struct segd_ipcache_value),
	       "prefix entry is key + value");
_Static_assert(offsetof(struct seg_ipc_prefix_entry, value) ==
	       sizeof(struct segd_lpm_key), "prefix entry layout");

/* memcmp order of two keys, 8 bytes at a time (keys are 16 or 20 bytes) */
static inline __attribute__((always_inline))
int key_cmp(const uint8_t *a, const uint8_t *b, size_t ks)
{
	size_t i = 0;

	for (; i + 8 <= ks; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
			return x < y ? -1 : 1;
		}
	}
	return ks > i ? memcmp(a + i, b + i, ks - i) : 0;
}

void seg_img_table_free(struct seg_img_table *t)
{
	free(t->rec);
	t->rec = NULL;
	t->n = t->cap = 0;
}

/* room for bytes in t, from spare when it is big enough */
static int tbl_alloc(struct seg_img_table *t, size_t bytes, struct seg_img_table *spare)
{
	t->n = 0;
	if (spare && spare->rec && spare->cap >= bytes) {
		*t = *spare;
		memset(spare, 0, sizeof(*spare));
		t->n = 0;
		return 0;
	}
	t->rec = malloc(bytes ? bytes : 1);
	if (!t->rec)
		return -ENOMEM;
	t->cap = bytes;
	return 0;
}

struct sort_ctx {
	const uint8_t *base;
	size_t ks, rs;
};

static int cmp_rec_idx(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *s = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = memcmp(s->base + x * s->rs, s->base + y * s->rs, s->ks);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Called on each stretch of a table right after it was copied (still in
 * cache), in key order. */
typedef int (*tbl_visit_fn)(void *ctx, const uint8_t *rec, size_t n);

/* Copy n records into t: sorted by key bytes, one record per key (the last
 * one wins, as it would filling a map in order). The compiler already
 * emits sorted unique keys; then this is one pass, a chunk at a time so
 * the order check, the copy and visit() share the cache (the 457k-entry
 * table is 11 MB: memory bandwidth is what an apply costs here). */
static int tbl_from(struct seg_img_table *t, const void *src, size_t n, size_t ks,
		    size_t vs, tbl_visit_fn visit, void *ctx, struct seg_img_table *spare)
{
	const size_t rs = ks + vs, chunk = 2048;
	const uint8_t *s = src;
	size_t m = 0, done = 0;
	uint32_t *idx;
	int err;

	err = tbl_alloc(t, n * rs, spare);
	if (err)
		return err;
	while (done < n) {
		size_t end = n - done > chunk ? done + chunk : n;

		for (size_t i = done ? done : 1; i < end; i++)
			if (key_cmp(s + (i - 1) * rs, s + i * rs, ks) >= 0)
				goto unsorted;
		memcpy(t->rec + done * rs, s + done * rs, (end - done) * rs);
		if (visit) {
			err = visit(ctx, t->rec + done * rs, end - done);
			if (err)
				goto fail;
		}
		done = end;
	}
	t->n = n;
	return 0;

unsorted:
	/* hand-built states (tests): sort, keep the last of equal keys */
	if (n > UINT32_MAX) {
		err = -E2BIG;
		goto fail;
	}
	idx = malloc(n * sizeof(*idx));
	if (!idx) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), cmp_rec_idx,
		&(struct sort_ctx){ .base = s, .ks = ks, .rs = rs });
	for (size_t i = 0; i < n; i++) {
		/* equal keys are adjacent, in input order: keep the last */
		if (i + 1 < n && !memcmp(s + idx[i] * rs, s + idx[i + 1] * rs,
					 ks))
			continue;
		memcpy(t->rec + m * rs, s + idx[i] * rs, rs);
		m++;
	}
	free(idx);
	t->n = m;
	err = visit ? visit(ctx, t->rec, m) : 0;
	if (!err)
		return 0;
fail:
	seg_img_table_free(t);
	return err;
}

/* ---- probe hints ------------------------------------------------------------
 * For each local identity: which probe kinds of the lookup chain have keys
 * (per direction and remote kind), and which protocol classes its
 * remote=ANY keys use. OR'd into the exact ipcache values so the datapath
 * skips probes that cannot hit (SEGD_EPF_PROBE, SEGD_EPF_ANYREM_PROTO).
 * Finer, per remote bucket (SEGD_LH_PROBE): which remote-specific probe
 * kinds have keys, written per local endpoint id to segd_lhints.
 */
struct id_bits {
	uint32_t id, bits;
	uint64_t lbits;         /* SEGD_LH_PROBE */
};

static int cmp_id_bits(const void *a, const void *b)
{
	const struct id_bits *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int probe_kind(const struct segd_policy_key *k)
{
	switch (k->port_kind) {
	case SEGD_PORT_EXACT:
		return SEGD_PROBE_EXACT;
	case SEGD_PORT_BLOCK:
		return SEGD_PROBE_BLOCK;
	default:
		return k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
	}
}

/* the SEGD_LH_PROBE bit of a remote-specific key */
static uint64_t lh_bit(const struct segd_policy_key *k)
{
	if (k->dir > SEGD_DIR_EGRESS || k->remote_id == SEGD_ID_ANY)
		return 0;
	return SEGD_LH_PROBE(k->dir, probe_kind(k),
			     segd_lh_bucket(k->remote_id));
}

static uint32_t probe_bit(const struct segd_policy_key *k)
{
	uint32_t bits;
	int kind;

	if (k->dir > SEGD_DIR_EGRESS)
		return 0;
	kind = probe_kind(k);
	bits = SEGD_EPF_PROBE(k->dir, k->remote_id == SEGD_ID_ANY, kind);
	if (k->remote_id == SEGD_ID_ANY && kind != SEGD_PROBE_ALLPROTO) {
		if (k->proto == IPPROTO_TCP)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP);
		else if (k->proto == IPPROTO_UDP)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP);
		else if (k->proto)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
		else    /* a port key without a protocol: never skip */
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP) |
				SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP) |
				SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
	}
	return bits;
}

/* Hints per local identity, accumulated while the policy table is copied
 * (sorted by key bytes, so the keys of one local identity - the first key
 * field - are adjacent), then sorted by id for bsearch. */
struct hint_acc {
	struct id_bits *t;
	size_t n, cap;
	uint64_t last;          /* signature of the last record seen */
	uint32_t rule_slots;    /* segd_rules' size */
};

/* also validates rule ids, while the record is in cache */
static int hints_visit(void *ctx, const uint8_t *rec, size_t n)
{
	const size_t rs = seg_img_key_size[SEG_IMG_POLICY] + seg_img_value_size[SEG_IMG_POLICY];
	struct hint_acc *h = ctx;

	for (size_t i = 0; i < n; i++) {
		const struct segd_policy_key *k = (const void *)(rec + i * rs);
		/* what probe_bit() and lh_bit() look at; neighbours mostly
		 * differ in the port or the remote only */
		uint64_t rb = k->remote_id == SEGD_ID_ANY ? SEGD_LHINT_BUCKETS :
			      segd_lh_bucket(k->remote_id);
		uint64_t sig = (uint64_t)k->local_id << 32 | rb << 24 |
			       (uint64_t)k->proto << 16 | (uint64_t)k->dir << 8 |
			       k->port_kind;

		const struct segd_policy_value *v = (const void *)(k + 1);

		if (v->rule_id >= h->rule_slots)
			return -EINVAL;   /* outside segd_rules */
		if (h->n && sig == h->last)
			continue;
		h->last = sig;
		if (h->n && h->t[h->n - 1].id == k->local_id) {
			h->t[h->n - 1].bits |= probe_bit(k);
			h->t[h->n - 1].lbits |= lh_bit(k);
			continue;
		}
		if (h->n == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 256;
			struct id_bits *t = realloc(h->t, cap * sizeof(*t));

			if (!t)
				return -ENOMEM;
			h->t = t;
			h->cap = cap;
		}
		h->t[h->n].id = k->local_id;
		h->t[h->n].bits = probe_bit(k);
		h->t[h->n].lbits = lh_bit(k);
		h->n++;
	}
	return 0;
}

/* flags to OR into the exact ipcache value of identity id; *lbits gets
 * its SEGD_LH_PROBE bits */
static uint32_t hints_of(const struct id_bits *t, size_t n, uint32_t id,
			 uint64_t *lbits)
{
	const uint32_t valid = SEGD_EPF_PROBES_VALID |
			       SEGD_EPF_ANYREM_PROTO_VALID;
	struct id_bits key = { .id = id }, *hit;

	*lbits = 0;
	if (!n)
		return valid;
	hit = bsearch(&key, t, n, sizeof(*t), cmp_id_bits);
	if (!hit)
		return valid;
	*lbits = hit->lbits;
	return valid | hit->bits;
}

void seg_img_lhints_free(struct seg_img_lhints *l)
{
	free(l->epid);
	free(l->probes);
	memset(l, 0, sizeof(*l));
}

/* One entry per local endpoint id in [1, SEGD_LHINT_EPS) named by an exact
 * ipcache value: the OR of the bits of every identity it is named with
 * (one, unless the state is odd), so the hint stays a necessary
 * condition. */
static int lhints_build(const struct seg_img_table *exact, const struct id_bits *t,
			size_t n, struct seg_img_lhints *out)
{
	const size_t ers = seg_img_key_size[SEG_IMG_EXACT] + seg_img_value_size[SEG_IMG_EXACT];
	struct id_bits *e;
	size_t m = 0;

	memset(out, 0, sizeof(*out));
	if (!exact->n)
		return 0;
	e = malloc(exact->n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < exact->n; i++) {
		const struct segd_ipcache_value *iv =
			(const void *)(exact->rec + i * ers +
				       seg_img_key_size[SEG_IMG_EXACT]);

		if (!iv->endpoint_id || iv->endpoint_id >= SEGD_LHINT_EPS)
			continue;
		e[m].id = iv->endpoint_id;
		hints_of(t, n, iv->identity, &e[m].lbits);
		m++;
	}
	if (m)
		qsort(e, m, sizeof(*e), cmp_id_bits);
	out->epid = malloc((m ? m : 1) * sizeof(*out->epid));
	out->probes = malloc((m ? m : 1) * sizeof(*out->probes));
	if (!out->epid || !out->probes) {
		free(e);
		seg_img_lhints_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m; i++) {
		if (out->n && out->epid[out->n - 1] == e[i].id) {
			out->probes[out->n - 1] |= e[i].lbits;
			continue;
		}
		out->epid[out->n] = e[i].id;
		out->probes[out->n++] = e[i].lbits;
	}
	free(e);
	return 0;
}

/* The three tables exactly as the inner maps must hold them, and the
 * per-endpoint hints of segd_lhints. */
int seg_img_policy_build(const struct seg_compiled *c,
			 const struct seg_img_limits *lim,
			 struct seg_img_table spare[SEG_IMG_INNER_COUNT],
			 struct seg_img_table out[SEG_IMG_INNER_COUNT],
			 struct seg_img_lhints *lh)
{
	const size_t ers = seg_img_key_size[SEG_IMG_EXACT] + seg_img_value_size[SEG_IMG_EXACT];
	const uint32_t *max_entries = lim->max_entries;
	struct hint_acc h = { .rule_slots = lim->rule_slots };
	int err;

	memset(out, 0, SEG_IMG_INNER_COUNT * sizeof(*out));
	memset(lh, 0, sizeof(*lh));
	if (c->n_entries > max_entries[SEG_IMG_POLICY] ||
	    c->n_exact > max_entries[SEG_IMG_EXACT] ||
	    c->n_prefixes > max_entries[SEG_IMG_LPM])
		return -E2BIG;
	for (size_t i = 0; i < c->n_prefixes; i++)
		if (c->prefixes[i].key.prefixlen > 128)
			return -EINVAL;
	err = tbl_from(&out[SEG_IMG_POLICY], c->entries, c->n_entries,
		       seg_img_key_size[SEG_IMG_POLICY], seg_img_value_size[SEG_IMG_POLICY], hints_visit,
		       &h, spare ? &spare[SEG_IMG_POLICY] : NULL);
	err = err ? err : tbl_from(&out[SEG_IMG_EXACT], c->exact, c->n_exact,
				   seg_img_key_size[SEG_IMG_EXACT], seg_img_value_size[SEG_IMG_EXACT],
				   NULL, NULL, spare ? &spare[SEG_IMG_EXACT] : NULL);
	err = err ? err : tbl_from(&out[SEG_IMG_LPM], c->prefixes, c->n_prefixes,
				   seg_img_key_size[SEG_IMG_LPM], seg_img_value_size[SEG_IMG_LPM],
				   NULL, NULL, spare ? &spare[SEG_IMG_LPM] : NULL);
	if (err)
		goto fail;
	if (h.n)
		qsort(h.t, h.n, sizeof(*h.t), cmp_id_bits);
	for (size_t i = 0; i < out[SEG_IMG_EXACT].n; i++) {
		struct segd_ipcache_value *iv = (void *)(out[SEG_IMG_EXACT].rec +
			i * ers + seg_img_key_size[SEG_IMG_EXACT]);
		uint64_t lbits;

		iv->flags |= hints_of(h.t, h.n, iv->identity, &lbits);
	}
	err = lhints_build(&out[SEG_IMG_EXACT], h.t, h.n, lh);
	if (err)
		goto fail;
	free(h.t);
	return 0;
fail:
	free(h.t);
	for (int i = 0; i < SEG_IMG_INNER_COUNT; i++)
		seg_img_table_free(&out[i]);
	return err;
}

void seg_img_lhints_records(const struct seg_img_lhints *lh, uint32_t slot,
			    uint32_t gen, uint32_t *keys,
			    struct segd_lhint *vals)
{
	for (size_t i = 0; i < lh->n; i++) {
		keys[i] = slot * SEGD_LHINT_EPS + lh->epid[i];
		vals[i] = (struct segd_lhint){
			.gen = gen,
			.flags = gen ? SEGD_LHF_VALID : 0,
			.probes = gen ? lh->probes[i] : 0,
		};
	}
}

/* ---- delta ------------------------------------------------------------------- */

void seg_img_delta_free(struct seg_img_delta *d)
{
	free(d->del);
	free(d->up_k);
	free(d->up_v);
	memset(d, 0, sizeof(*d));
}

/* Merge two normalized tables. Long equal runs (the common case: a small
 * change in a big table) are skipped a chunk at a time with memcmp. */
int seg_img_table_diff(const struct seg_img_table *o, const struct seg_img_table *n, size_t ks,
		size_t vs, struct seg_img_delta *d)
{
	const size_t rs = ks + vs, chunk = 256;
	size_t i = 0, j = 0;

	memset(d, 0, sizeof(*d));
	if (o->n == n->n && (!n->n || !memcmp(o->rec, n->rec, n->n * rs)))
		return 0;
	d->del = malloc(o->n ? o->n * ks : 1);
	d->up_k = malloc(n->n ? n->n * ks : 1);
	d->up_v = malloc(n->n ? n->n * vs : 1);
	if (!d->del || !d->up_k || !d->up_v) {
		seg_img_delta_free(d);
		return -ENOMEM;
	}
	while (i < o->n || j < n->n) {
		size_t run = o->n - i < n->n - j ? o->n - i : n->n - j;

		if (run > chunk)
			run = chunk;
		if (run && !memcmp(o->rec + i * rs, n->rec + j * rs,
				   run * rs)) {
			i += run;
			j += run;
			continue;
		}
		/* step record by record through (at least) one chunk */
		for (size_t s = 0; s < chunk && (i < o->n || j < n->n); s++) {
			const uint8_t *a = i < o->n ? o->rec + i * rs : NULL;
			const uint8_t *b = j < n->n ? n->rec + j * rs : NULL;
			int c = !a ? 1 : !b ? -1 : key_cmp(a, b, ks);

			if (c < 0) {            /* only in the old table */
				memcpy(d->del + d->n_del++ * ks, a, ks);
				i++;
			} else if (c > 0) {     /* only in the new table */
				memcpy(d->up_k + d->n_up * ks, b, ks);
				memcpy(d->up_v + d->n_up++ * vs, b + ks, vs);
				j++;
			} else {
				if (memcmp(a + ks, b + ks, vs)) {
					memcpy(d->up_k + d->n_up * ks, b, ks);
					memcpy(d->up_v + d->n_up++ * vs,
					       b + ks, vs);
				}
				i++;
				j++;
			}
		}
	}
	return 0;
}
