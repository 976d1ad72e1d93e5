/* compiler_tiers.c - ClusterNetworkPolicy tiers compiled into the
 * datapath's first-hit chain, so the decision stays at most eight hash
 * probes whatever the number of policies, tiers and priorities.
 *
 * For a local identity L that a ClusterNetworkPolicy selects, the codes of
 * every tier are looked at together, per direction:
 *
 *  1. The keys. S = every key a code of any tier has (Admin, the
 *     NetworkPolicy tier, Baseline; enforced and audit mode), plus the
 *     catch-all (remote ANY, protocol 0, port ANY). S is closed under meet:
 *     remotes form a tree (ANY above each identity) and so do port parts
 *     (protocol 0 above a protocol's ANY above its 256-port BLOCKs above
 *     their EXACT ports), so the meet of two keys is new only for a
 *     specific remote R and the port part p of an ANY-remote key, when R
 *     has a key whose port part contains p; then (R, p) is added.
 *  2. The verdicts. For a packet x the first hit is the most specific key
 *     of the closed set that contains x (compiler_entries.c proves the
 *     chain order extends "more specific first"; the set holds the meet of
 *     every key containing x). A key K contains x exactly when it contains
 *     that first hit, so the rules matching x are the rules with a key
 *     among the hit's (at most eight) chain ancestors, and every key's
 *     verdict is the tiers' decision for its packets:
 *        Admin: the first matching rule (lowest rule id) decides; Accept
 *          and Deny are final, Pass skips to
 *        the NetworkPolicy tier: when a policy of it selects L in this
 *          direction, a deny beats an allow beats the default deny;
 *          otherwise
 *        Baseline: the first matching rule; Accept and Deny are final;
 *        nothing decided (or Baseline passed): allow.
 *     Audit mode as in compiler_entries.c (combine_audit): E = the
 *     decision of the enforced policies, F = of all; E denies -> DENY, F
 *     denies -> AUDIT, else ALLOW.
 *  3. The table. Keys are visited from the least specific; a key whose
 *     verdict equals what the chain would find without it (its first
 *     ancestor kept, or the no-hit default deny) is dropped.
 */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BITS   (~(uint64_t)(SEGC_RULE_MASK | SEGC_VERDICT_MASK))
#define NO_HIT     SEGC_V_DENY    /* verdict and rule 0: the default deny */

struct keys {
	uint64_t *v;
	size_t n, cap;
};

static int keys_push(struct keys *k, uint64_t key)
{
	if (segc_grow(&k->v, &k->cap, k->n + 1, sizeof(*k->v)))
		return -ENOMEM;
	k->v[k->n++] = key;
	return 0;
}

/* the index of the code with key in v[0..n) (sorted, keys unique), or
 * SIZE_MAX */
static size_t key_index(const uint64_t *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		uint64_t k = v[m] & KEY_BITS;

		if (k == key)
			return m;
		if (k < key)
			lo = m + 1;
		else
			hi = m;
	}
	return SIZE_MAX;
}

/* the code of key in sorted bucket b, or NULL */
static const uint64_t *bk_find(const struct bucket *b, uint64_t key)
{
	size_t i = key_index(b->v, b->n, key);

	return i == SIZE_MAX ? NULL : &b->v[i];
}

/* The keys the datapath probes for a packet whose first hit would be k,
 * in its order, k first (bpf/lib/policy.h, seg_compiled_chain). */
static size_t chain_of(const struct dkey *k, uint64_t out[8])
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		struct dkey a = *k;

		if (pass) {
			if (!k->rank)
				break;
			a.rank = 0;
		}
		if (k->kind == SEGD_PORT_EXACT)
			out[n++] = segc_encode(&a);
		if (k->kind != SEGD_PORT_ANY) {
			a.kind = SEGD_PORT_BLOCK;
			a.port = k->port & SEGD_PORT_BLOCK_MASK;
			out[n++] = segc_encode(&a);
		}
		a.kind = SEGD_PORT_ANY;
		a.port = 0;
		if (k->proto != SEGD_PROTO_ANY)
			out[n++] = segc_encode(&a);
		a.proto = SEGD_PROTO_ANY;
		out[n++] = segc_encode(&a);
	}
	return n;
}

static int depth_of(const struct dkey *k)
{
	int d = k->rank ? 1 : 0;

	if (k->proto == SEGD_PROTO_ANY)
		return d;
	return d + (k->kind == SEGD_PORT_ANY ? 1 :
		    k->kind == SEGD_PORT_BLOCK ? 2 : 3);
}

/* Step 1: the keys of identity i in directions dirs, closed under meet,
 * sorted and unique, into *s */
static int closed_keys(struct ctx *x, size_t i, uint8_t dirs, struct keys *s)
{
	const struct bucket *src[6] = { &x->bk[i], &x->abk[i], &x->cbk[0][i],
					 &x->cbk[1][i], &x->cbk[2][i],
					 &x->cbk[3][i] };
	size_t any_end = 0, n0;
	int rc = 0;

	for (size_t b = 0; b < 6 && !rc; b++)
		for (size_t k = 0; k < src[b]->n && !rc; k++)
			if (dirs & (1u << ((src[b]->v[k] >> SEGC_DIR_SHIFT) & 1)))
				rc = keys_push(s, src[b]->v[k] & KEY_BITS);
	for (uint8_t dir = 0; dir < 2 && !rc; dir++)
		if (dirs & (1u << dir))
			rc = keys_push(s, (uint64_t)dir << SEGC_DIR_SHIFT |
					  segc_code_port(SEGD_PROTO_ANY,
							 SEGD_PORT_ANY, 0));
	if (!rc)
		rc = segc_sort_codes(x, s->v, &s->n);
	if (rc)
		return rc;
	while (any_end < s->n && !(s->v[any_end] >> SEGC_RANK_SHIFT))
		any_end++;
	n0 = s->n;
	for (size_t q = any_end; q < n0 && !rc; q++) {
		struct dkey dq = segc_decode(s->v[q]);

		for (size_t a = 0; a < any_end && !rc; a++) {
			struct dkey da = segc_decode(s->v[a]);

			if (!segc_port_contains(&dq, &da))
				continue;
			da.rank = dq.rank;
			rc = keys_push(s, segc_encode(&da));
		}
	}
	if (!rc && s->n != n0)
		rc = segc_sort_codes(x, s->v, &s->n);
	return rc;
}

/* What matches one key, per tier; rule ids, 0 = nothing */
struct picks {
	uint32_t admin, baseline;     /* the first rule (lowest id) */
	uint32_t np_deny, np_allow;   /* the first in chain order */
};

static void pick_cnp(uint32_t *best, const struct bucket *b, uint64_t key)
{
	const uint64_t *c = bk_find(b, key);
	uint32_t id = c ? (uint32_t)(*c & SEGC_RULE_MASK) : 0;

	if (id && (!*best || id < *best))
		*best = id;
}

static void pick_np(struct picks *p, const struct bucket *b, uint64_t key)
{
	const uint64_t *c = bk_find(b, key);

	if (!c)
		return;
	if (segc_is_deny(*c)) {
		if (!p->np_deny)
			p->np_deny = (uint32_t)(*c & SEGC_RULE_MASK);
	} else if (!p->np_allow) {
		p->np_allow = (uint32_t)(*c & SEGC_RULE_MASK);
	}
}

/* The decision of the tiers over p: true = deny; *rule the deciding rule
 * (a Pass that led to the default allow; 0 for a default) */
static bool decide(const struct ctx *x, const struct picks *p, bool isolated,
		   uint32_t *rule)
{
	uint32_t pass = 0;

	if (p->admin) {
		*rule = p->admin;
		if (x->rule_act[p->admin] != SEG_ACTION_PASS)
			return x->rule_act[p->admin] == SEG_ACTION_DENY;
		pass = p->admin;
	}
	if (isolated) {
		*rule = p->np_deny ? p->np_deny : p->np_allow;
		return p->np_deny || !p->np_allow;
	}
	if (p->baseline) {
		*rule = p->baseline;
		if (x->rule_act[p->baseline] != SEG_ACTION_PASS)
			return x->rule_act[p->baseline] == SEG_ACTION_DENY;
		return false;
	}
	*rule = pass;
	return false;
}

/* Step 2: the verdict and rule id of key for identity i */
static uint64_t key_value(const struct ctx *x, size_t i, uint64_t key)
{
	const struct ep_ident *id = &x->ids[i];
	struct picks e = { 0 }, f = { 0 };
	struct dkey k = segc_decode(key);
	uint8_t bit = (uint8_t)(1u << k.dir);
	uint64_t chain[8];
	size_t n = chain_of(&k, chain);
	uint32_t re, rf;
	bool de, df;

	for (size_t j = 0; j < n; j++) {
		pick_cnp(&e.admin, &x->cbk[SEGC_CBK(SEG_TIER_ADMIN, 0)][i], chain[j]);
		pick_cnp(&e.baseline, &x->cbk[SEGC_CBK(SEG_TIER_BASELINE, 0)][i],
			 chain[j]);
		pick_np(&e, &x->bk[i], chain[j]);
	}
	f = e;
	for (size_t j = 0; j < n; j++) {
		pick_cnp(&f.admin, &x->cbk[SEGC_CBK(SEG_TIER_ADMIN, 1)][i], chain[j]);
		pick_cnp(&f.baseline, &x->cbk[SEGC_CBK(SEG_TIER_BASELINE, 1)][i],
			 chain[j]);
		pick_np(&f, &x->abk[i], chain[j]);
	}
	de = decide(x, &e, id->enf_dirs & bit, &re);
	if (de)
		return SEGC_V_DENY | re;
	df = decide(x, &f, (id->enf_dirs | id->audit_dirs) & bit, &rf);
	return df ? SEGC_V_AUDIT | rf : SEGC_V_ALLOW | re;
}

/* Step 3: evaluate s, drop what the chain finds anyway, into x->bk[i] */
static int keep_needed(struct ctx *x, size_t i, const struct keys *s)
{
	uint64_t *val = calloc(s->n + 1, sizeof(*val));
	uint8_t *kept = calloc(s->n + 1, 1), *depth = calloc(s->n + 1, 1);
	struct bucket *b = &x->bk[i];
	size_t n = 0;
	int rc = 0;

	if (!val || !kept || !depth) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < s->n; j++) {
		struct dkey k = segc_decode(s->v[j]);

		depth[j] = (uint8_t)depth_of(&k);
		val[j] = key_value(x, i, s->v[j]);
	}
	for (uint8_t d = 0; d <= 4; d++) {
		for (size_t j = 0; j < s->n; j++) {
			struct dkey k = segc_decode(s->v[j]);
			uint64_t chain[8], prev = NO_HIT;
			size_t nc;

			if (depth[j] != d)
				continue;
			nc = chain_of(&k, chain);
			for (size_t a = 1; a < nc; a++) {
				size_t at = key_index(s->v, s->n, chain[a]);

				if (at != SIZE_MAX && kept[at]) {
					prev = val[at];
					break;
				}
			}
			kept[j] = val[j] != prev;
		}
	}
	for (size_t j = 0; j < s->n; j++)
		n += kept[j];
	if (segc_grow(&b->v, &b->cap, n + 1, sizeof(*b->v))) {
		rc = -ENOMEM;
		goto out;
	}
	b->n = 0;
	for (size_t j = 0; j < s->n; j++)
		if (kept[j])
			b->v[b->n++] = s->v[j] | val[j];
	b->n_sorted = b->n;
out:
	free(val);
	free(kept);
	free(depth);
	return rc;
}

int segc_tier_entries(struct ctx *x, size_t i)
{
	const struct ep_ident *id = &x->ids[i];
	uint8_t dirs = id->cnp_dirs | id->enf_dirs | id->audit_dirs;
	struct keys s = { 0 };
	int rc = segc_bk_sort(x, &x->abk[i]);

	if (!rc)
		rc = closed_keys(x, i, dirs, &s);
	if (!rc)
		rc = keep_needed(x, i, &s);
	free(s.v);
	x->abk[i].n = x->abk[i].n_sorted = 0;
	for (size_t t = 0; t < 4; t++)
		x->cbk[t][i].n = x->cbk[t][i].n_sorted = 0;
	return rc;
}
