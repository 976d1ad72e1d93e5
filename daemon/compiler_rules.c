/* compiler_rules.c - port keys and the deny/allow intersections that make
 * first-hit lookups equal deny-beats-allow. */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ports ----------------------------------------------------------------- */

static int pk_push(struct pkey **v, size_t *n, size_t *cap, uint8_t proto,
		   uint8_t kind, uint16_t port)
{
	if (segc_grow(v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = (struct pkey){ proto, kind, port };
	return 0;
}

/* A range becomes EXACT keys at its ragged ends and one BLOCK key per whole
 * aligned 256-port block: 1-65535 = 255 EXACT + 255 BLOCK, 80 = 1 EXACT. */
int segc_port_keys(const struct seg_rule *r, struct pkey **v, size_t *n,
		     size_t *cap)
{
	static const uint8_t any_protos[] = { IPPROTO_TCP, IPPROTO_UDP,
					      IPPROTO_SCTP };
	int rc = 0;

	*n = 0;
	if (r->all_ports)
		return pk_push(v, n, cap, SEGD_PROTO_ANY, SEGD_PORT_ANY, 0);
	for (size_t i = 0; i < r->n_ports && !rc; i++) {
		const struct seg_port *p = &r->ports[i];
		uint32_t lo = p->port_lo, hi = p->port_hi ? p->port_hi : lo;

		if (!lo) {
			rc = pk_push(v, n, cap, p->proto, SEGD_PORT_ANY, 0);
			continue;
		}
		if (hi < lo)
			return -ERANGE;
		for (size_t k = 0; k < 3 && !rc; k++) {
			uint8_t proto = p->proto ? p->proto : any_protos[k];

			for (uint32_t q = lo; q <= hi && !rc;) {
				if (!(q & 0xff) && q + 255 <= hi) {
					rc = pk_push(v, n, cap, proto,
						     SEGD_PORT_BLOCK, (uint16_t)q);
					q += 256;
				} else {
					rc = pk_push(v, n, cap, proto,
						     SEGD_PORT_EXACT, (uint16_t)q);
					q++;
				}
			}
			if (p->proto)
				break;
		}
	}
	return rc;
}

/* ---- deny/allow intersections ----------------------------------------------- */

/* Meet of two keys of the same (local, dir): the key matching exactly the
 * packets both match, or false when they are disjoint. */
static bool key_meet(const struct segd_policy_key *a,
		     const struct segd_policy_key *b, struct segd_policy_key *k)
{
	*k = *a;
	if (a->remote_id != b->remote_id) {
		if (a->remote_id == SEGD_ID_ANY)
			k->remote_id = b->remote_id;
		else if (b->remote_id != SEGD_ID_ANY)
			return false;
	}
	if (a->proto != b->proto) {
		if (a->proto == SEGD_PROTO_ANY)
			k->proto = b->proto;
		else if (b->proto != SEGD_PROTO_ANY)
			return false;
	}
	if (a->port_kind == SEGD_PORT_ANY) {
		k->port_kind = b->port_kind;
		k->port = b->port;
	} else if (b->port_kind == SEGD_PORT_ANY) {
		/* keep a's port */
	} else if (a->port_kind == b->port_kind) {
		if (a->port != b->port)
			return false;
	} else {
		const struct segd_policy_key *e =
			a->port_kind == SEGD_PORT_EXACT ? a : b;
		const struct segd_policy_key *bl = e == a ? b : a;

		if ((e->port & SEGD_PORT_BLOCK_MASK) != bl->port)
			return false;
		k->port_kind = SEGD_PORT_EXACT;
		k->port = e->port;
	}
	return true;
}

/* group order: local, dir, verdict (DENY first), remote, proto, kind, port */
static int cmp_group(const void *pa, const void *pb)
{
	const struct seg_policy_entry *a = pa, *b = pb;

#define CMP(f) if (a->f != b->f) return a->f < b->f ? -1 : 1
	CMP(key.local_id);
	CMP(key.dir);
	if (a->value.verdict != b->value.verdict)
		return a->value.verdict > b->value.verdict ? -1 : 1;
	CMP(key.remote_id);
	CMP(key.proto);
	CMP(key.port_kind);
	CMP(key.port);
#undef CMP
	return 0;
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
 */
int segc_materialise_denies(struct ctx *x)
{
	struct seg_policy_entry *snap = NULL;
	size_t n = x->em.n;
	int rc = 0;

	if (!n)
		return 0;
	snap = malloc(n * sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	memcpy(snap, x->em.v, n * sizeof(*snap));
	segc_sort(snap, n, sizeof(*snap), cmp_group);
	for (size_t g = 0; g < n && !rc;) {
		size_t end = g, d_end, a_any_end;

		while (end < n && snap[end].key.local_id == snap[g].key.local_id &&
		       snap[end].key.dir == snap[g].key.dir)
			end++;
		d_end = g;
		while (d_end < end && snap[d_end].value.verdict == SEGD_VERDICT_DENY)
			d_end++;
		a_any_end = d_end;
		while (a_any_end < end && snap[a_any_end].key.remote_id == SEGD_ID_ANY)
			a_any_end++;
		for (size_t d = g; d < d_end && !rc; d++) {
			const struct segd_policy_key *dk = &snap[d].key;
			size_t lo = d_end, hi = end;

			if (dk->remote_id != SEGD_ID_ANY) {
				/* allows with remote ANY, then remote == dk's */
				size_t l = a_any_end, h = end;

				while (l < h) {
					size_t m = l + (h - l) / 2;

					if (snap[m].key.remote_id < dk->remote_id)
						l = m + 1;
					else
						h = m;
				}
				hi = l;
				while (hi < end && snap[hi].key.remote_id == dk->remote_id)
					hi++;
				lo = l;
				for (size_t a = d_end; a < a_any_end && !rc; a++) {
					struct segd_policy_key k;

					if (key_meet(dk, &snap[a].key, &k))
						rc = segc_emap_merge(&x->em, &k,
								SEGD_VERDICT_DENY,
								snap[d].value.rule_id);
				}
			}
			for (size_t a = lo; a < hi && !rc; a++) {
				struct segd_policy_key k;

				if (key_meet(dk, &snap[a].key, &k))
					rc = segc_emap_merge(&x->em, &k, SEGD_VERDICT_DENY,
							snap[d].value.rule_id);
			}
		}
		g = end;
	}
	free(snap);
	return rc;
}

