/* compiler_rules.c - port keys and one policy's entries. */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ports ----------------------------------------------------------------- */

static int pk_push(uint64_t **v, size_t *n, size_t *cap, uint8_t proto,
		   uint8_t kind, uint16_t port)
{
	if (segc_grow(v, cap, *n + 1, sizeof(**v)))
		return -ENOMEM;
	(*v)[(*n)++] = segc_code_port(proto, kind, port);
	return 0;
}

/* A range becomes EXACT keys at its ragged ends and one BLOCK key per whole
 * aligned 256-port block: 1-65535 = 255 EXACT + 255 BLOCK, 80 = 1 EXACT. */
int segc_port_keys(const struct seg_rule *r, uint64_t **v, size_t *n,
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

		if (p->name[0])
			continue;       /* per endpoint: named_port_codes() */
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

/* ---- one policy's entries -------------------------------------------------- */

static int rem_add(struct ctx *x, size_t *n, const uint32_t *ids, size_t k)
{
	if (!k)
		return 0;
	if (segc_grow(&x->rem, &x->cap_rem, *n + k, sizeof(*x->rem)))
		return -ENOMEM;
	memcpy(x->rem + *n, ids, k * sizeof(*ids));
	*n += k;
	return 0;
}

/* Remote identity ranks of a rule, sorted and unique, in x->rem. */
static int rule_remotes(struct ctx *x, const struct seg_policy *p,
			const struct seg_rule *r, size_t *n_rem)
{
	size_t n = 0, sources = 0;
	int rc = 0;

	for (size_t k = 0; k < r->n_peers || (r->all_peers && !k); k++) {
		const struct seg_peer *pe = r->all_peers ? NULL : &r->peers[k];
		size_t set = SIZE_MAX;
		uint32_t one;

		if (!pe || pe->kind == SEG_PEER_ALL) {
			one = 0;        /* the rank of SEGD_ID_ANY */
			rc = rem_add(x, &n, &one, 1);
		} else if (pe->kind == SEG_PEER_HOST) {
			one = x->rank_host;
			rc = rem_add(x, &n, &one, 1);
		} else if (pe->kind == SEG_PEER_WORLD) {
			/* everything no endpoint/host claims */
			rc = rem_add(x, &n, x->world_rem, x->n_world_rem);
		} else if (pe->kind == SEG_PEER_ENDPOINTS) {
			rc = segc_select_idents(x, pe->has_namespaces,
						&pe->namespaces, pol_ns(p),
						&pe->pods, &set);
		} else if (pe->kind == SEG_PEER_CIDR) {
			rc = segc_select_cidr(x, pe, &set);
		} else if (pe->kind == SEG_PEER_NODES ||
			   pe->kind == SEG_PEER_DOMAIN) {
			rc = segc_select_addrs(x, pe, &set);
		} else {
			continue;
		}
		if (!rc && set != SIZE_MAX)
			rc = rem_add(x, &n, x->rpool + x->sets[set].roff,
				     x->sets[set].rn);
		if (rc)
			return rc;
		sources++;
	}
	if (sources > 1) {
		segc_sort_u32(x->rem, n);
		n = segc_uniq_u32(x->rem, n);
	}
	*n_rem = n;
	return 0;
}

static bool has_named_port(const struct seg_rule *r)
{
	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].name[0])
			return true;
	return false;
}

/* The codes of r's named ports against one endpoint identity: the port
 * of that name and protocol the identity's endpoints serve (members of an
 * identity serve the same, identity_key). None when it serves none. */
static int named_port_push(struct ctx *x, struct bucket *bk, struct bucket *b,
			   const struct seg_rule *r, size_t ident, uint64_t c)
{
	const struct seg_endpoint *e = x->ids[ident].first_ep;
	int rc = 0;

	for (size_t i = 0; i < r->n_ports && !rc; i++) {
		const struct seg_named_port *np;

		if (!r->ports[i].name[0])
			continue;
		np = seg_endpoint_port(e, r->ports[i].name, r->ports[i].proto);
		if (np)
			rc = segc_bk_push(x, bk, b, c |
					  segc_code_port(np->proto,
							 SEGD_PORT_EXACT,
							 np->port));
	}
	return rc;
}

/* Named ports resolve per destination (Kubernetes): at ingress against
 * the subject, at egress against each remote endpoint identity (the ANY
 * remote: every endpoint identity). CIDR, world and host remotes have no
 * port names: a named port never matches them. */
static int named_port_codes(struct ctx *x, struct bucket *bk,
			    const struct seg_rule *r, const uint32_t *subj_ids,
			    size_t n_subj, size_t n_rem, uint64_t tail)
{
	int rc = 0;

	for (size_t s = 0; s < n_subj && !rc; s++) {
		struct bucket *b = &bk[subj_ids[s]];

		for (size_t j = 0; j < n_rem && !rc; j++) {
			uint32_t rank = x->rem[j], id;

			if (r->dir == SEGD_DIR_INGRESS) {
				rc = named_port_push(x, bk, b, r, subj_ids[s],
						     (uint64_t)rank << SEGC_RANK_SHIFT | tail);
				continue;
			}
			if (rank != 0) {
				id = x->rank_ident[rank];
				if (id != UINT32_MAX)
					rc = named_port_push(x, bk, b, r, id,
							     (uint64_t)rank << SEGC_RANK_SHIFT | tail);
				continue;
			}
			for (size_t i = 0; i < x->n_ids && !rc; i++)
				rc = named_port_push(x, bk, b, r, i,
						     (uint64_t)x->ids[i].rank << SEGC_RANK_SHIFT | tail);
		}
	}
	return rc;
}

int segc_gen_policy(struct ctx *x, const struct seg_policy *p, uint32_t base,
		    struct bucket *bk, size_t *subj_out)
{
	size_t subj, n_pk = 0, n_rem = 0;
	int rc;

	rc = segc_select_idents(x, p->has_subject_ns, &p->subject_namespaces,
				pol_ns(p), &p->subject, &subj);
	if (rc)
		return rc;
	*subj_out = subj;
	for (size_t ri = 0; ri < p->n_rules; ri++) {
		const struct seg_rule *r = &p->rules[ri];
		/* a ClusterNetworkPolicy's codes carry no verdict: the
		 * lowest rule id of a key goes first (x->rule_act) */
		uint64_t tail = (uint64_t)r->dir << SEGC_DIR_SHIFT |
				(r->action == SEG_ACTION_DENY ||
				 p->kind == SEG_KIND_CNP ? 0 : SEGC_ALLOW_BIT) |
				(base + ri + 1);
		const uint32_t *subj_ids;
		size_t n_subj;

		/* a rule in a direction its policy does not enforce
		 * cannot come from the parser; it has no effect */
		if (r->dir < 0 || r->dir > 1 || !p->enforce[r->dir])
			continue;
		rc = segc_port_keys(r, &x->pk, &n_pk, &x->cap_pk);
		if (rc == -ERANGE)
			return seg_errorf(x->err, p->source_file, r->line,
					  r->col, EINVAL, "policy %s/%s rule "
					  "%zu: port range end is below its "
					  "start", pol_ns(p), p->name, ri + 1);
		if (!rc)
			rc = rule_remotes(x, p, r, &n_rem);
		if (rc)
			return rc;
		subj_ids = x->pool + x->sets[subj].off;
		n_subj = x->sets[subj].n;
		for (size_t s = 0; s < n_subj; s++) {
			struct bucket *b = &bk[subj_ids[s]];

			for (size_t j = 0; j < n_rem; j++) {
				uint64_t c = (uint64_t)x->rem[j] << SEGC_RANK_SHIFT |
					     tail;

				for (size_t q = 0; q < n_pk; q++)
					if ((rc = segc_bk_push(x, bk, b, c | x->pk[q])))
						return rc;
			}
		}
		if (has_named_port(r) &&
		    (rc = named_port_codes(x, bk, r, subj_ids, n_subj, n_rem,
					   tail)))
			return rc;
	}
	return 0;
}

/* ---- one packet against one rule (explain) ------------------------------------ */

/* r's named ports resolved against endpoint identity ident: one is
 * (proto, port)? */
static bool named_port_hit(const struct ctx *x, const struct seg_rule *r,
			   size_t ident, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct seg_named_port *np;

		if (!r->ports[i].name[0])
			continue;
		np = seg_endpoint_port(x->ids[ident].first_ep, r->ports[i].name,
				       r->ports[i].proto);
		if (np && np->proto == proto && np->port == port)
			return true;
	}
	return false;
}

int segc_rule_matches(struct ctx *x, const struct seg_policy *p,
		      const struct seg_rule *r, size_t ident, uint32_t rank,
		      uint8_t proto, uint16_t port, bool *hit)
{
	struct dkey pkt = { .proto = proto, .kind = SEGD_PORT_EXACT,
			    .port = port, .dir = (uint8_t)r->dir };
	size_t n_rem = 0, n_pk = 0, named_at;
	bool remote = false;
	int rc;

	*hit = false;
	/* segc_gen_policy skips these too */
	if (r->dir < 0 || r->dir > 1 || !p->enforce[r->dir])
		return 0;
	if ((rc = rule_remotes(x, p, r, &n_rem)))
		return rc;
	for (size_t j = 0; j < n_rem && !remote; j++)
		remote = x->rem[j] == 0 || x->rem[j] == rank;   /* rank 0: any */
	if (!remote)
		return 0;
	rc = segc_port_keys(r, &x->pk, &n_pk, &x->cap_pk);
	if (rc)
		return rc == -ERANGE ? 0 : rc;   /* such a rule never compiles */
	for (size_t q = 0; q < n_pk && !*hit; q++) {
		struct dkey k = segc_decode(x->pk[q]);

		k.dir = pkt.dir;
		*hit = segc_port_contains(&k, &pkt);
	}
	if (*hit || !has_named_port(r))
		return 0;
	/* named ports resolve at the destination (named_port_codes): the
	 * subject at ingress, the remote endpoint at egress */
	named_at = r->dir == SEGD_DIR_INGRESS ? ident :
		   rank < x->n_ranks ? x->rank_ident[rank] : UINT32_MAX;
	*hit = named_at != UINT32_MAX && named_port_hit(x, r, named_at, proto, port);
	return 0;
}
