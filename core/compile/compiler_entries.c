/* compiler_entries.c - the deny/allow intersections that make first-hit
 * lookups equal deny-beats-allow, audit mode, hints, and the output array,
 * over buckets of entry codes (compiler_codes.c, compiler_int.h). */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- deny/allow intersections ----------------------------------------------- */

/* Meet of two keys of the same (local, dir): the key matching exactly the
 * packets both match, or false when they are disjoint. Rank 0 = ANY. */
static bool key_meet(const struct dkey *a, const struct dkey *b,
		     struct dkey *k)
{
	*k = *a;
	if (a->rank != b->rank) {
		if (a->rank == 0)
			k->rank = b->rank;
		else if (b->rank != 0)
			return false;
	}
	if (a->proto != b->proto) {
		if (a->proto == SEGD_PROTO_ANY)
			k->proto = b->proto;
		else if (b->proto != SEGD_PROTO_ANY)
			return false;
	}
	if (a->kind == SEGD_PORT_ANY) {
		k->kind = b->kind;
		k->port = b->port;
	} else if (b->kind == SEGD_PORT_ANY) {
		/* keep a's port */
	} else if (a->kind == b->kind) {
		if (a->port != b->port)
			return false;
	} else {
		const struct dkey *e = a->kind == SEGD_PORT_EXACT ? a : b;
		const struct dkey *bl = e == a ? b : a;

		if ((e->port & SEGD_PORT_BLOCK_MASK) != bl->port)
			return false;
		k->kind = SEGD_PORT_EXACT;
		k->port = e->port;
	}
	return true;
}

static int kv_push(struct ctx *x, uint64_t c)
{
	if (segc_grow(&x->kv, &x->cap_kv, x->n_kv + 1, sizeof(*x->kv)))
		return -ENOMEM;
	x->kv[x->n_kv++] = c;
	if (x->n_kv >= SEGC_RAW_MAX) {   /* bound memory on huge inputs */
		int rc = segc_sort_codes(x, x->kv, &x->n_kv);

		if (rc)
			return rc;
		if (x->n_kv > SEGD_MAX_POLICY_ENTRIES)
			return -E2BIG;
	}
	return 0;
}

/* dc meet every code of a[0..n) that is not a DENY and has dc's
 * direction, as codes of verdict v with dc's rule id, into x->kv */
static int meet_range(struct ctx *x, uint64_t dc, const uint64_t *a, size_t n,
		      uint64_t v)
{
	struct dkey d = segc_decode(dc);
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		struct dkey ak, k;

		if (segc_is_deny(a[i]) ||
		    ((a[i] >> SEGC_DIR_SHIFT) & 1) != d.dir)
			continue;
		ak = segc_decode(a[i]);
		if (key_meet(&d, &ak, &k))
			rc = kv_push(x, segc_encode(&k) | v |
					(dc & SEGC_RULE_MASK));
	}
	return rc;
}

/* x->kv into bucket b, merged */
static int add_kv(struct ctx *x, struct bucket *b)
{
	if (!x->n_kv)
		return 0;
	if (segc_grow(&b->v, &b->cap, b->n + x->n_kv, sizeof(*b->v)))
		return -ENOMEM;
	memcpy(b->v + b->n, x->kv, x->n_kv * sizeof(*x->kv));
	b->n += x->n_kv;
	return segc_bk_sort(x, b);
}

/*
 * Deny beats allow under the datapath's first-hit lookup.
 *
 * For a packet (R, proto, port) the datapath probes, in order,
 *   level 0..3: (R, proto, EXACT, port) (R, proto, BLOCK, port & 0xff00)
 *               (R, proto, ANY, 0) (R, 0, ANY, 0)
 *   level 4..7: the same four with remote = ANY.
 * Each level names exactly one key, so two distinct keys that both match a
 * packet sit at distinct levels. Order keys by specificity: remote R is
 * more specific than ANY; port EXACT than BLOCK than ANY; proto p than 0
 * (proto 0 only ever comes with port ANY). If K is at least as specific as
 * A in every component, then K's remote half is no later than A's (K's
 * remote is ANY only if A's is) and, within a half, K's level is no later
 * than A's (EXACT/BLOCK/ANY are levels 0/1/2 for a fixed proto and proto 0
 * is the last level). So the chain's order is a linear extension of "more
 * specific first", and a key K below A is probed before A, or K == A.
 *
 * For every DENY D and ALLOW A of one (local, dir) that overlap, we store
 * K = D meet A as DENY (D's rule id). K is below both. Suppose the first
 * hit for a packet x were an ALLOW A while some DENY matches x; every DENY
 * in the final table is an original D or lies below one, so an original D
 * matches x, K = D meet A matches x, and K is probed before A (or K == A,
 * overwritten to DENY) - contradiction. Every K only matches packets D
 * matches, so nothing that no deny rule covers becomes denied.
 *
 * The same holds with AUDIT entries in the table (combine_audit): every
 * entry that is not a DENY is met with every DENY, so a DENY is found
 * before any AUDIT or ALLOW entry that matches a denied packet.
 *
 * A bucket is one local identity, sorted by code, so each remote is a
 * contiguous range (remote ANY, rank 0, first). A deny with a specific
 * remote meets the allows of remote ANY and of its own remote; a deny with
 * remote ANY meets every allow of its (local, dir).
 */
static int materialise_denies(struct ctx *x, struct bucket *b)
{
	const uint64_t *u = b->v;
	size_t n = b->n, any_end = 0, r_lo = 0, r_hi = 0;
	int rc = 0;

	x->n_kv = 0;
	while (any_end < n && !(u[any_end] >> SEGC_RANK_SHIFT))
		any_end++;
	for (size_t d = 0; d < n && !rc; d++) {
		uint64_t r = u[d] >> SEGC_RANK_SHIFT;

		if (!segc_is_deny(u[d]))
			continue;
		if (!r) {
			rc = meet_range(x, u[d], u, n, SEGC_V_DENY);
			continue;
		}
		rc = meet_range(x, u[d], u, any_end, SEGC_V_DENY);
		if (r_lo == r_hi || u[r_lo] >> SEGC_RANK_SHIFT != r) {
			for (r_lo = d; r_lo > any_end &&
			     u[r_lo - 1] >> SEGC_RANK_SHIFT == r; r_lo--)
				;
			for (r_hi = d + 1; r_hi < n &&
			     u[r_hi] >> SEGC_RANK_SHIFT == r; r_hi++)
				;
		}
		if (!rc)
			rc = meet_range(x, u[d], u + r_lo, r_hi - r_lo,
					SEGC_V_DENY);
	}
	return rc ? rc : add_kv(x, b);
}

/* ---- audit mode --------------------------------------------------------------- */

/* [*lo, *hi): the codes of remote rank r in sorted codes u[0..n) */
static void rank_range(const uint64_t *u, size_t n, uint64_t r, size_t *lo,
		       size_t *hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (u[m] >> SEGC_RANK_SHIFT < r)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	for (b = n; a < b;) {
		size_t m = a + (b - a) / 2;

		if (u[m] >> SEGC_RANK_SHIFT <= r)
			a = m + 1;
		else
			b = m;
	}
	*hi = a;
}

/* Audit deny code dc met with the allows of sorted u: AUDIT codes in x->kv
 * (only remote ANY and dc's own remote can overlap a specific remote) */
static int audit_meet(struct ctx *x, uint64_t dc, const uint64_t *u, size_t n)
{
	uint64_t r = dc >> SEGC_RANK_SHIFT;
	size_t any_end, lo, hi;
	int rc;

	if (!r)
		return meet_range(x, dc, u, n, SEGC_V_AUDIT);
	rank_range(u, n, 0, &lo, &any_end);
	rc = meet_range(x, dc, u, any_end, SEGC_V_AUDIT);
	rank_range(u, n, r, &lo, &hi);
	return rc ? rc : meet_range(x, dc, u + lo, hi - lo, SEGC_V_AUDIT);
}

/*
 * Audit mode (docs/policy.md): per direction, E = the decision of the
 * enforced policies, F = the decision of enforced and audit-mode policies
 * together. E denies -> DENY; else F denies -> AUDIT; else ALLOW. Audit
 * codes wait in x->abk until here and are combined per direction:
 *
 *  - enforced policies enforce it: an F-only deny needs an enforced allow
 *    (else E denies) and an audit deny; so each audit deny D is met with
 *    the enforced allows A and D meet A becomes AUDIT. The audit allows and
 *    the denies themselves are dropped: where no enforced allow matches,
 *    the enforced default decides. That the first hit is right follows as
 *    for denies (materialise_denies): AUDIT sits below both D and A, and
 *    the enforced DENYs are then met with the AUDIT entries too.
 *  - only audit-mode policies enforce it: E allows everything. The audit
 *    policies' entries stay, with AUDIT for their denies and for each deny
 *    met with each of their allows, and the catch-all key (remote ANY,
 *    protocol 0, port ANY), the last of the chain, holds the default AUDIT
 *    (rule 0) unless a rule claims that key.
 */
static int combine_audit(struct ctx *x, size_t i)
{
	struct bucket *b = &x->bk[i], *a = &x->abk[i];
	const struct ep_ident *id = &x->ids[i];
	int rc = segc_bk_sort(x, a);

	x->n_kv = 0;
	for (size_t k = 0; k < a->n && !rc; k++) {
		uint64_t c = a->v[k];
		int dir = (int)((c >> SEGC_DIR_SHIFT) & 1);

		if (id->enf_dirs & (1u << dir)) {
			if (segc_is_deny(c))
				rc = audit_meet(x, c, b->v, b->n);
			continue;
		}
		rc = kv_push(x, segc_is_deny(c) ? c | SEGC_V_AUDIT : c);
		if (!rc && segc_is_deny(c))
			rc = audit_meet(x, c, a->v, a->n);
	}
	for (int dir = 0; dir < 2 && !rc; dir++)
		if ((id->audit_dirs & ~id->enf_dirs) & (1u << dir))
			rc = kv_push(x, (uint64_t)dir << SEGC_DIR_SHIFT |
					segc_code_port(SEGD_PROTO_ANY,
						       SEGD_PORT_ANY, 0) |
					SEGC_V_AUDIT_DFL);
	a->n = a->n_sorted = 0;
	return rc ? rc : add_kv(x, b);
}

/* HINT_* flags of a bucket's identity */
static uint32_t bucket_hints(const struct bucket *b)
{
	uint32_t f = 0;

	for (size_t i = 0; i < b->n; i++) {
		uint64_t c = b->v[i];
		int dir = (int)((c >> SEGC_DIR_SHIFT) & 1);

		if (((c >> SEGC_KIND_SHIFT) & 3) == SEGD_PORT_BLOCK)
			f |= SEGD_EPF_HINT_BLOCK(dir);
		if (!(c >> SEGC_RANK_SHIFT))
			f |= SEGD_EPF_HINT_ANYREM(dir);
	}
	return f;
}

int segc_finish_entries(struct ctx *x)
{
	size_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < x->n_ids && !rc; i++) {
		struct bucket *b = &x->bk[i];

		if (!x->bk_final || !x->bk_final[i]) {
			rc = segc_bk_sort(x, b);
			if (!rc && x->ids[i].cnp_dirs)
				rc = segc_tier_entries(x, i);
			else if (!rc && x->ids[i].audit_dirs)
				rc = combine_audit(x, i);
			if (!rc && !x->ids[i].cnp_dirs)
				rc = materialise_denies(x, b);
		}
		total += b->n;
		if (!rc && total > SEGD_MAX_POLICY_ENTRIES)
			rc = -E2BIG;
		if (!rc)
			x->ids[i].flags |= bucket_hints(b);
	}
	x->n_entries = total;
	return rc;
}

static int cmp_ident_bytes(const void *a, const void *b, void *arg)
{
	const struct ep_ident *ids = arg;

	return memcmp(&ids[*(const uint32_t *)a].id, &ids[*(const uint32_t *)b].id,
		      sizeof(uint32_t));
}

int segc_emit_entries(struct ctx *x, struct seg_policy_entry **out)
{
	struct seg_policy_entry *e = calloc(x->n_entries + 1, sizeof(*e));
	uint32_t *order = calloc(x->n_ids + 1, sizeof(*order));
	size_t n = 0;

	if (!e || !order) {
		free(e);
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < x->n_ids; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, x->n_ids, sizeof(*order), cmp_ident_bytes, x->ids);
	for (size_t o = 0; o < x->n_ids; o++) {
		const struct bucket *b = &x->bk[order[o]];
		uint32_t lid = x->ids[order[o]].id;

		for (size_t i = 0; i < b->n; i++, n++) {
			uint64_t c = b->v[i];
			struct dkey k = segc_decode(c);

			e[n].key.local_id = lid;
			e[n].key.remote_id = x->rank_id[k.rank];
			e[n].key.port = k.port;
			e[n].key.proto = k.proto;
			e[n].key.dir = k.dir;
			e[n].key.port_kind = k.kind;
			e[n].value.verdict = segc_is_deny(c) ?
					     SEGD_VERDICT_DENY : SEGD_VERDICT_ALLOW;
			e[n].value.flags = c & SEGC_AUDIT_BIT ? SEGD_POLF_AUDIT : 0;
			e[n].value.rule_id = (uint32_t)(c & SEGC_RULE_MASK);
		}
	}
	free(order);
	*out = e;
	return 0;
}
