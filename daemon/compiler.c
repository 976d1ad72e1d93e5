/* compiler.c - pure policy compiler: desired state -> BPF map contents.
 *
 * No syscalls, no globals, deterministic: every intermediate that is built
 * with hashing is either order-independent (entry merging is commutative)
 * or sorted before it shapes the output (identity ids are assigned in
 * sorted key order, outputs are sorted by key bytes).
 *
 * Pipeline of seg_compile():
 *   1. namespaces that hold endpoints, with their labels
 *   2. endpoint identities: one per distinct (namespace, labels)
 *   3. rule ids over policies sorted by (ns, name), then rule index
 *   4. CIDR identities: one per distinct cidr/except prefix used by a rule
 *   5. policy entries: subject x remote x port keys, merged per key
 *      (DENY beats ALLOW; same verdict: lowest rule id)
 *   6. deny/allow intersections materialised as DENY (see below)
 *   7. hints, ipcache exact and prefix maps, sorting, capacity checks
 *
 * Selector results are computed once per distinct (scope, selector) and
 * memoised, so 10,000 rules over a few hundred label sets cost a few
 * thousand selector evaluations, not rules x endpoints.
 */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- entries ----------------------------------------------------------------- */

static int cmp_policy_order(const void *a, const void *b, void *arg)
{
	const struct seg_policy *p = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(pol_ns(&p[i]), pol_ns(&p[j]));

	if (!c)
		c = strcmp(p[i].name ? p[i].name : "", p[j].name ? p[j].name : "");
	return c ? c : (i < j ? -1 : i > j);
}

static int gen_entries(struct ctx *x, struct seg_compiled *out)
{
	const struct seg_world *w = x->w;
	struct pkey *pk = NULL;
	size_t n_pk = 0, cap_pk = 0, n_rem, cap_rem = 0;
	uint32_t *rem = NULL, rule_id = 0;
	int rc = 0;

	for (size_t oi = 0; oi < w->n_policies; oi++) {
		const struct seg_policy *p = &w->policies[x->pol_order[oi]];
		size_t subj;

		rc = segc_select_idents(x, p->has_subject_ns, &p->subject_namespaces,
				   pol_ns(p), &p->subject, &subj);
		if (rc)
			goto out;
		for (size_t k = 0; k < x->sets[subj].n; k++)
			for (int dir = 0; dir < 2; dir++)
				if (p->enforce[dir])
					x->ids[x->pool[x->sets[subj].off + k]].flags |=
						SEGD_EPF_ENFORCE(dir);
		for (size_t ri = 0; ri < p->n_rules; ri++) {
			const struct seg_rule *r = &p->rules[ri];
			struct seg_rule_ref *ref = &out->rules[out->n_rules];

			ref->rule_id = ++rule_id;
			ref->policy_ns = strdup(pol_ns(p));
			ref->policy_name = strdup(p->name ? p->name : "");
			ref->rule_index = (uint32_t)ri;
			ref->action = r->action;
			ref->dir = r->dir;
			out->n_rules++;
			if (!ref->policy_ns || !ref->policy_name) {
				rc = -ENOMEM;
				goto out;
			}
			/* a rule in a direction its policy does not enforce
			 * cannot come from the parser; it has no effect */
			if (r->dir < 0 || r->dir > 1 || !p->enforce[r->dir])
				continue;
			rc = segc_port_keys(r, &pk, &n_pk, &cap_pk);
			if (rc == -ERANGE) {
				rc = seg_errorf(x->err, p->source_file, r->line,
						r->col, EINVAL, "policy %s/%s rule "
						"%zu: port range end is below "
						"its start", pol_ns(p), p->name,
						ri + 1);
				goto out;
			}
			if (rc)
				goto out;
			n_rem = 0;
			for (size_t k = 0; k < r->n_peers || (r->all_peers && !k); k++) {
				const struct seg_peer *pe = r->all_peers ? NULL : &r->peers[k];
				size_t set = SIZE_MAX;
				uint32_t one[1], n_one = 0;

				if (!pe || pe->kind == SEG_PEER_ALL)
					one[n_one++] = SEGD_ID_ANY;
				else if (pe->kind == SEG_PEER_HOST)
					one[n_one++] = SEGD_ID_HOST;
				else if (pe->kind == SEG_PEER_ENDPOINTS)
					rc = segc_select_idents(x, pe->has_namespaces,
							   &pe->namespaces, pol_ns(p),
							   &pe->pods, &set);
				else if (pe->kind == SEG_PEER_CIDR)
					rc = segc_select_cidr(x, pe, &set);
				if (rc)
					goto out;
				if (pe && pe->kind == SEG_PEER_WORLD) {
					/* everything no endpoint/host claims */
					size_t need = n_rem + x->n_cidrs + 2;

					if ((rc = segc_grow(&rem, &cap_rem, need, sizeof(*rem))))
						goto out;
					rem[n_rem++] = SEGD_ID_WORLD;
					rem[n_rem++] = SEGD_ID_WORLD_V6;
					for (size_t c = 0; c < x->n_cidrs; c++)
						rem[n_rem++] = x->cidrs[c].id;
				}
				if (set != SIZE_MAX) {
					const struct idset *s = &x->sets[set];

					if ((rc = segc_grow(&rem, &cap_rem, n_rem + s->n, sizeof(*rem))))
						goto out;
					for (size_t j = 0; j < s->n; j++)
						rem[n_rem++] = pe->kind == SEG_PEER_CIDR ?
							x->pool[s->off + j] :
							x->ids[x->pool[s->off + j]].id;
				}
				if (n_one) {
					if ((rc = segc_grow(&rem, &cap_rem, n_rem + 1, sizeof(*rem))))
						goto out;
					rem[n_rem++] = one[0];
				}
			}
			if (n_rem > 1) {
				size_t u = 1;

				segc_sort(rem, n_rem, sizeof(*rem), segc_cmp_u32);
				for (size_t j = 1; j < n_rem; j++)
					if (rem[j] != rem[u - 1])
						rem[u++] = rem[j];
				n_rem = u;
			}
			for (size_t s = 0; s < x->sets[subj].n; s++) {
				uint32_t lid = x->ids[x->pool[x->sets[subj].off + s]].id;

				for (size_t j = 0; j < n_rem; j++)
					for (size_t q = 0; q < n_pk; q++) {
						struct segd_policy_key key = {
							.local_id = lid,
							.remote_id = rem[j],
							.port = pk[q].port,
							.proto = pk[q].proto,
							.dir = (uint8_t)r->dir,
							.port_kind = pk[q].kind,
						};

						rc = segc_emap_merge(&x->em, &key,
								r->action == SEG_ACTION_DENY ?
								SEGD_VERDICT_DENY :
								SEGD_VERDICT_ALLOW,
								rule_id);
						if (rc)
							goto out;
					}
			}
		}
	}
out:
	free(pk);
	free(rem);
	return rc;
}

/* ---- ipcache ------------------------------------------------------------------ */

struct exact_tmp {
	struct seg_ipc_exact_entry e;
	size_t owner;                 /* endpoint index; SIZE_MAX = host */
};

static int cmp_exact_tmp(const void *pa, const void *pb)
{
	const struct exact_tmp *a = pa, *b = pb;
	int c = memcmp(&a->e.addr, &b->e.addr, sizeof(a->e.addr));

	if (c)
		return c;
	return a->owner < b->owner ? -1 : a->owner > b->owner;
}

static void ep_desc(const struct seg_world *w, size_t owner, char *buf,
		    size_t len)
{
	if (owner == SIZE_MAX)
		snprintf(buf, len, "the node (host address)");
	else
		snprintf(buf, len, "endpoint %s/%s", ep_ns(&w->endpoints[owner]),
			 w->endpoints[owner].name ? w->endpoints[owner].name : "");
}

static int build_exact(struct ctx *x, struct seg_compiled *out)
{
	const struct seg_world *w = x->w;
	struct exact_tmp *t = NULL;
	size_t n = 0, u = 0;
	int rc = 0;

	for (size_t i = 0; i < w->n_endpoints; i++)
		if (w->endpoints[i].n_ips > SEG_MAX_EP_IPS)
			return seg_errorf(x->err, NULL, 0, 0, EINVAL,
					  "endpoint %s/%s has %zu addresses; at "
					  "most %d are supported",
					  ep_ns(&w->endpoints[i]),
					  w->endpoints[i].name, w->endpoints[i].n_ips,
					  SEG_MAX_EP_IPS);
	t = calloc(w->n_endpoints * SEG_MAX_EP_IPS + w->n_host_ips + 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];
		const struct ep_ident *id = &x->ids[x->ep_ident[i]];

		for (size_t j = 0; j < e->n_ips; j++, n++) {
			memcpy(&t[n].e.addr, &e->ips[j], 16);
			t[n].e.value.identity = id->id;
			t[n].e.value.ifindex = e->ifindex;
			t[n].e.value.flags = SEGD_EPF_LOCAL | id->flags;
			t[n].e.value.endpoint_id = e->endpoint_id;
			t[n].owner = i;
		}
	}
	for (size_t i = 0; i < w->n_host_ips; i++, n++) {
		memcpy(&t[n].e.addr, &w->host_ips[i], 16);
		t[n].e.value.identity = SEGD_ID_HOST;
		t[n].owner = SIZE_MAX;
	}
	segc_sort(t, n, sizeof(*t), cmp_exact_tmp);
	for (size_t i = 0; i < n; i++) {
		if (u && !memcmp(&t[i].e.addr, &out->exact[u - 1].addr, 16)) {
			char a[64], o1[300], o2[300];

			if (t[i].owner == t[i - 1].owner)
				continue;       /* same owner listed it twice */
			seg_addr_format((const struct in6_addr *)&t[i].e.addr, a,
					sizeof(a));
			ep_desc(w, t[i - 1].owner, o1, sizeof(o1));
			ep_desc(w, t[i].owner, o2, sizeof(o2));
			rc = seg_errorf(x->err, NULL, 0, 0, EINVAL,
					"address %s is claimed by both %s and %s; "
					"an address may belong to one endpoint "
					"only", a, o1, o2);
			goto out;
		}
		if (u >= SEGD_MAX_IPC_EXACT) {
			rc = seg_errorf(x->err, NULL, 0, 0, E2BIG,
					"%zu endpoint and host addresses exceed "
					"the exact ipcache limit of %d; remove "
					"endpoints or run them on more nodes", n,
					SEGD_MAX_IPC_EXACT);
			goto out;
		}
		if (!out->exact) {
			out->exact = calloc(n, sizeof(*out->exact));
			if (!out->exact) {
				rc = -ENOMEM;
				goto out;
			}
		}
		out->exact[u++] = t[i].e;
	}
	out->n_exact = u;
out:
	free(t);
	return rc;
}

static int cmp_prefix(const void *a, const void *b)
{
	return memcmp(&((const struct seg_ipc_prefix_entry *)a)->key,
		      &((const struct seg_ipc_prefix_entry *)b)->key,
		      sizeof(struct segd_lpm_key));
}

static int cmp_identity(const void *a, const void *b)
{
	uint32_t x = ((const struct seg_identity *)a)->id;
	uint32_t y = ((const struct seg_identity *)b)->id;

	return x < y ? -1 : x > y;
}

struct id_idx {
	uint32_t id;
	size_t idx;
};

static int cmp_id_idx(const void *a, const void *b)
{
	return segc_cmp_u32(a, b);
}

/* ---- seg_compile ------------------------------------------------------------- */

int seg_compile(const struct seg_world *world, struct seg_compiled *out,
		struct seg_error *err)
{
	struct ctx x = { .w = world, .err = err };
	struct seg_compiled c = { 0 };
	struct id_idx *byid = NULL;
	uint32_t *used = NULL;
	size_t used_cap = 64, total_rules = 0;
	int rc = 0;

	if (!world || !out)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "nothing to compile");
	while (used_cap < 2 * (world->n_endpoints + 4))
		used_cap *= 2;
	used = calloc(used_cap, sizeof(*used));
	x.pol_order = calloc(world->n_policies + 1, sizeof(*x.pol_order));
	if (!used || !x.pol_order)
		{ rc = -ENOMEM; goto out; }
	segc_id_claim(used, used_cap, SEGD_ID_WORLD);
	segc_id_claim(used, used_cap, SEGD_ID_HOST);
	segc_id_claim(used, used_cap, SEGD_ID_WORLD_V6);

	for (size_t i = 0; i < world->n_policies; i++) {
		x.pol_order[i] = i;
		total_rules += world->policies[i].n_rules;
	}
	if (total_rules > SEGD_MAX_RULES - 1) {
		rc = seg_errorf(err, NULL, 0, 0, E2BIG,
				"%zu policy rules exceed the limit of %d; merge "
				"rules (several peers and ports per rule) or "
				"delete unused policies", total_rules,
				SEGD_MAX_RULES - 1);
		goto out;
	}
	qsort_r(x.pol_order, world->n_policies, sizeof(*x.pol_order),
		cmp_policy_order, world->policies);

	rc = segc_build_identities(&x, used, used_cap);
	if (!rc)
		rc = segc_build_cidrs(&x, &used, &used_cap);
	if (rc)
		goto out;

	c.rules = calloc(total_rules + 1, sizeof(*c.rules));
	if (!c.rules)
		{ rc = -ENOMEM; goto out; }
	rc = gen_entries(&x, &c);
	if (!rc)
		rc = segc_materialise_denies(&x);
	if (rc == -E2BIG) {
		rc = seg_errorf(err, NULL, 0, 0, E2BIG,
				"policies compile to more than %d policy map "
				"entries (the datapath's limit); narrow port "
				"ranges, peers or subjects, or use fewer "
				"wildcard denies", SEGD_MAX_POLICY_ENTRIES);
		goto out;
	}
	if (rc)
		goto out;

	/* hints, then the flags go into the identities and exact entries */
	byid = calloc(x.n_ids + 1, sizeof(*byid));
	if (!byid)
		{ rc = -ENOMEM; goto out; }
	for (size_t i = 0; i < x.n_ids; i++)
		byid[i] = (struct id_idx){ x.ids[i].id, i };
	segc_sort(byid, x.n_ids, sizeof(*byid), cmp_id_idx);
	for (size_t i = 0; i < x.em.n; i++) {
		const struct segd_policy_key *k = &x.em.v[i].key;
		struct id_idx *hit = segc_find(&k->local_id, byid, x.n_ids,
					     sizeof(*byid), cmp_id_idx);

		if (!hit)
			continue;
		if (k->port_kind == SEGD_PORT_BLOCK)
			x.ids[hit->idx].flags |= SEGD_EPF_HINT_BLOCK(k->dir);
		if (k->remote_id == SEGD_ID_ANY)
			x.ids[hit->idx].flags |= SEGD_EPF_HINT_ANYREM(k->dir);
	}
	rc = build_exact(&x, &c);
	if (rc)
		goto out;

	/* prefixes */
	c.n_prefixes = 2 + x.n_cidrs;
	if (c.n_prefixes > SEGD_MAX_IPC_PREFIXES) {
		rc = seg_errorf(err, NULL, 0, 0, E2BIG,
				"%zu CIDR prefixes exceed the prefix ipcache "
				"limit of %d; aggregate ipBlocks into fewer, "
				"wider prefixes", c.n_prefixes,
				SEGD_MAX_IPC_PREFIXES);
		goto out;
	}
	c.prefixes = calloc(c.n_prefixes, sizeof(*c.prefixes));
	if (!c.prefixes)
		{ rc = -ENOMEM; goto out; }
	for (size_t i = 0; i < c.n_prefixes; i++) {
		const struct seg_cidr *pc = i == 0 ? &segc_world4 : i == 1 ? &segc_world6 :
					    &x.cidrs[i - 2].c;

		c.prefixes[i].key.prefixlen = pc->plen;
		memcpy(c.prefixes[i].key.addr, &pc->addr, 16);
		c.prefixes[i].value.identity = i == 0 ? SEGD_ID_WORLD :
					       i == 1 ? SEGD_ID_WORLD_V6 :
					       x.cidrs[i - 2].id;
	}
	segc_sort(c.prefixes, c.n_prefixes, sizeof(*c.prefixes), cmp_prefix);

	/* entries */
	c.entries = x.em.v;
	c.n_entries = x.em.n;
	x.em.v = NULL;
	x.em.n = 0;
	segc_sort(c.entries, c.n_entries, sizeof(*c.entries), segc_cmp_entry);

	/* identities: reserved, endpoints, cidrs */
	c.identities = calloc(3 + x.n_ids + x.n_cidrs, sizeof(*c.identities));
	if (!c.identities)
		{ rc = -ENOMEM; goto out; }
	{
		static const struct { uint32_t id; const char *key; } rsv[] = {
			{ SEGD_ID_WORLD, "reserved:world" },
			{ SEGD_ID_HOST, "reserved:host" },
			{ SEGD_ID_WORLD_V6, "reserved:segc_world6" },
		};

		for (size_t i = 0; i < 3; i++) {
			c.identities[c.n_identities].id = rsv[i].id;
			c.identities[c.n_identities].key = strdup(rsv[i].key);
			if (!c.identities[c.n_identities++].key)
				{ rc = -ENOMEM; goto out; }
		}
	}
	for (size_t i = 0; i < x.n_ids; i++) {
		c.identities[c.n_identities].id = x.ids[i].id;
		c.identities[c.n_identities].flags = x.ids[i].flags;
		c.identities[c.n_identities++].key = x.ids[i].key;
		x.ids[i].key = NULL;
	}
	for (size_t i = 0; i < x.n_cidrs; i++) {
		c.identities[c.n_identities].id = x.cidrs[i].id;
		c.identities[c.n_identities++].key = x.cidrs[i].key;
		x.cidrs[i].key = NULL;
	}
	segc_sort(c.identities, c.n_identities, sizeof(*c.identities), cmp_identity);
	*out = c;
	memset(&c, 0, sizeof(c));
	rc = 0;
out:	/* on success c is empty: only temporaries are freed */
	if (rc == -ENOMEM)
		seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory while compiling");
	seg_compiled_free(&c);
	for (size_t i = 0; i < x.n_ns; i++)
		seg_labels_free(&x.ns[i].labels);
	free(x.ns);
	segc_smap_free(&x.ns_by_name);
	for (size_t i = 0; x.ids && i < x.n_ids; i++)
		free(x.ids[i].key);
	free(x.ids);
	free(x.ep_ident);
	free(x.ns_members);
	for (size_t i = 0; i < x.n_cidrs; i++)
		free(x.cidrs[i].key);
	free(x.cidrs);
	segc_smap_free(&x.memo);
	free(x.sets);
	free(x.pool);
	free(x.em.slots);
	free(x.em.v);
	free(x.pol_order);
	free(used);
	free(byid);
	return rc;
}

void seg_compiled_free(struct seg_compiled *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_identities; i++)
		free(c->identities[i].key);
	free(c->identities);
	free(c->exact);
	free(c->prefixes);
	free(c->entries);
	for (size_t i = 0; i < c->n_rules; i++) {
		free(c->rules[i].policy_ns);
		free(c->rules[i].policy_name);
	}
	free(c->rules);
	memset(c, 0, sizeof(*c));
}

/* ---- queries: mirror the datapath ------------------------------------------ */

static int cmp_exact_addr(const void *key, const void *elem)
{
	return memcmp(key, &((const struct seg_ipc_exact_entry *)elem)->addr, 16);
}

uint32_t seg_compiled_identity_of(const struct seg_compiled *c,
				  const struct in6_addr *addr)
{
	const struct seg_ipc_exact_entry *e;
	const struct seg_ipc_prefix_entry *best = NULL;
	struct seg_cidr host = { .addr = *addr, .plen = 128 };

	e = segc_find(addr, c->exact, c->n_exact, sizeof(*c->exact),
		    cmp_exact_addr);
	if (e)
		return e->value.identity;
	for (size_t i = 0; i < c->n_prefixes; i++) {
		struct seg_cidr p = { .plen = (uint8_t)c->prefixes[i].key.prefixlen };

		memcpy(&p.addr, c->prefixes[i].key.addr, 16);
		if (seg_cidr_contains(&p, &host) &&
		    (!best || c->prefixes[i].key.prefixlen > best->key.prefixlen))
			best = &c->prefixes[i];
	}
	if (best)
		return best->value.identity;
	return segc_cidr_within(&segc_world4, &host) ? SEGD_ID_WORLD : SEGD_ID_WORLD_V6;
}

static const struct seg_policy_entry *probe(const struct seg_compiled *c,
					    uint32_t l, uint32_t r, int dir,
					    uint8_t proto, uint8_t kind,
					    uint16_t port)
{
	struct segd_policy_key k = {
		.local_id = l, .remote_id = r, .port = port, .proto = proto,
		.dir = (uint8_t)dir, .port_kind = kind,
	};

	return segc_find(&k, c->entries, c->n_entries, sizeof(*c->entries),
		       segc_cmp_entry);
}

static int cmp_identity_id(const void *key, const void *elem)
{
	uint32_t x = *(const uint32_t *)key;
	uint32_t y = ((const struct seg_identity *)elem)->id;

	return x < y ? -1 : x > y;
}

enum segd_verdict seg_compiled_decide(const struct seg_compiled *c,
				      uint32_t local_id, uint32_t remote_id,
				      int dir, uint8_t proto, uint16_t port,
				      uint32_t *rule_id)
{
	const struct seg_identity *id;
	uint32_t flags = 0, rid = 0;
	enum segd_verdict v = SEGD_VERDICT_DENY;

	id = segc_find(&local_id, c->identities, c->n_identities,
		     sizeof(*c->identities), cmp_identity_id);
	if (id)
		flags = id->flags;
	if (dir < 0 || dir > 1 || !(flags & SEGD_EPF_ENFORCE(dir))) {
		v = SEGD_VERDICT_ALLOW;
		goto out;
	}
	for (int half = 0; half < 2; half++) {
		uint32_t r = half ? SEGD_ID_ANY : remote_id;
		const struct seg_policy_entry *e;

		if (half && !(flags & SEGD_EPF_HINT_ANYREM(dir)))
			break;
		e = probe(c, local_id, r, dir, proto, SEGD_PORT_EXACT, port);
		if (!e && (flags & SEGD_EPF_HINT_BLOCK(dir)))
			e = probe(c, local_id, r, dir, proto, SEGD_PORT_BLOCK,
				  port & SEGD_PORT_BLOCK_MASK);
		if (!e)
			e = probe(c, local_id, r, dir, proto, SEGD_PORT_ANY, 0);
		if (!e)
			e = probe(c, local_id, r, dir, SEGD_PROTO_ANY,
				  SEGD_PORT_ANY, 0);
		if (e) {
			v = e->value.verdict;
			rid = e->value.rule_id;
			goto out;
		}
	}
out:
	if (rule_id)
		*rule_id = rid;
	return v;
}

