/* compiler.c - pure policy compiler: desired state -> BPF map contents.
 *
 * No syscalls, no globals, deterministic: every intermediate that is built
 * with hashing is either order-independent (entry merging is commutative)
 * or sorted before it shapes the output (identity ids are assigned in
 * sorted key order, outputs are sorted by key bytes).
 *
 * Pipeline of seg_compile() (and seg_compile_cached(), compiler_cache.c):
 *   1. namespaces that hold endpoints, with their labels
 *   2. endpoint identities: one per distinct (namespace, labels)
 *   3. rule ids over policies in precedence order, then rule index:
 *      Admin ClusterNetworkPolicies by (priority, name), then the
 *      NetworkPolicy tier by (ns, name), then Baseline by (priority, name)
 *   4. CIDR identities: one per distinct cidr/except prefix used by a rule
 *   5. policy entries: subject x remote x port keys appended as tuples,
 *      then radix-sorted by key bytes and merged per key (DENY beats
 *      ALLOW; same verdict: lowest rule id) - no hashing, no comparison
 *      sort (compiler_entries.c)
 *   6. deny/allow intersections materialised as DENY (compiler_entries.c);
 *      for an identity a ClusterNetworkPolicy selects, every tier
 *      evaluated per key instead (compiler_tiers.c)
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

/* tier rank in evaluation order: Admin, NetworkPolicy, Baseline */
static int tier_rank(const struct seg_policy *p)
{
	return p->kind != SEG_KIND_CNP ? 1 : p->tier == SEG_TIER_ADMIN ? 0 : 2;
}

/* Rule ids follow this order, so within a tier the lowest rule id is the
 * rule that goes first. Equal ClusterNetworkPolicy priorities are ordered
 * by name (the API leaves the order to the implementation). */
static int cmp_policy_order(const void *a, const void *b, void *arg)
{
	const struct seg_policy *p = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = tier_rank(&p[i]) - tier_rank(&p[j]);

	if (!c && p[i].kind == SEG_KIND_CNP)
		c = (p[i].priority > p[j].priority) - (p[i].priority < p[j].priority);
	if (!c)
		c = strcmp(pol_ns(&p[i]), pol_ns(&p[j]));

	if (!c)
		c = strcmp(p[i].name ? p[i].name : "", p[j].name ? p[j].name : "");
	return c ? c : (i < j ? -1 : i > j);
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

/* The namespace's Stratum mode as ipcache flags. Endpoints usually come
 * grouped by namespace, so the last match is tried first. */
static uint32_t stratum_flags(const struct seg_world *w, const char *ns,
			      const struct seg_namespace **last)
{
	const struct seg_namespace *n = *last;

	if (!n || strcmp(n->name, ns)) {
		n = NULL;
		for (size_t i = 0; i < w->n_namespaces && !n; i++)
			if (!strcmp(w->namespaces[i].name, ns))
				n = &w->namespaces[i];
		if (!n)
			return 0; /* an unlisted namespace has the default */
		*last = n;
	}
	return n->stratum == SEG_STRATUM_AUDIT ? SEGD_EPF_STRATUM_AUDIT :
	       n->stratum == SEG_STRATUM_OFF ? SEGD_EPF_STRATUM_OFF : 0;
}

static int build_exact(struct ctx *x, struct seg_compiled *out)
{
	const struct seg_world *w = x->w;
	const struct seg_namespace *last_ns = NULL;
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
		uint32_t mode = stratum_flags(w, ep_ns(e), &last_ns);

		for (size_t j = 0; j < e->n_ips; j++, n++) {
			memcpy(&t[n].e.addr, &e->ips[j], 16);
			t[n].e.value.identity = id->id;
			t[n].owner = i;
			if (e->remote)
				continue;  /* an identity only: never the local side */
			t[n].e.value.ifindex = e->ifindex;
			t[n].e.value.flags = SEGD_EPF_LOCAL | id->flags | mode;
			t[n].e.value.endpoint_id = e->endpoint_id;
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

/* ---- the shared pipeline -------------------------------------------------------- */

int segc_e2big_entries(struct seg_error *err)
{
	return seg_errorf(err, NULL, 0, 0, E2BIG,
			  "policies compile to more than %d policy map "
			  "entries (the datapath's limit); narrow port "
			  "ranges, peers or subjects, or use fewer "
			  "wildcard denies", SEGD_MAX_POLICY_ENTRIES);
}

/* Which policies are in audit mode: their own mode, or their namespace's.
 * Policies come sorted by namespace, so the last namespace is tried first. */
static void policy_modes(struct ctx *x)
{
	const struct seg_world *w = x->w;
	const struct seg_namespace *last = NULL;

	for (size_t oi = 0; oi < w->n_policies; oi++) {
		size_t pi = x->pol_order[oi];
		const char *name = pol_ns(&w->policies[pi]);

		if (w->policies[pi].kind == SEG_KIND_CNP) {
			/* cluster-scoped: its own mode only */
			x->pol_audit[pi] = w->policies[pi].audit;
			x->any_audit |= x->pol_audit[pi];
			continue;
		}
		if (!last || strcmp(last->name, name)) {
			last = NULL;
			for (size_t i = 0; i < w->n_namespaces && !last; i++)
				if (!strcmp(w->namespaces[i].name, name))
					last = &w->namespaces[i];
		}
		x->pol_audit[pi] = w->policies[pi].audit ||
				   (last && last->mode == SEG_MODE_AUDIT);
		x->any_audit |= x->pol_audit[pi];
	}
}

/* With ClusterNetworkPolicies: what each rule id does (x->rule_act) */
static int tier_tables(struct ctx *x, size_t total_rules)
{
	const struct seg_world *w = x->w;
	uint32_t base = 0;
	bool tiers = false;

	for (size_t i = 0; i < w->n_policies; i++)
		tiers |= w->policies[i].kind == SEG_KIND_CNP;
	if (!tiers)
		return 0;
	x->rule_act = calloc(total_rules + 1, 1);
	if (!x->rule_act)
		return -ENOMEM;
	for (size_t oi = 0; oi < w->n_policies; oi++) {
		const struct seg_policy *p = &w->policies[x->pol_order[oi]];

		for (size_t ri = 0; ri < p->n_rules; ri++)
			x->rule_act[base + ri + 1] = (uint8_t)p->rules[ri].action;
		base += (uint32_t)p->n_rules;
	}
	return 0;
}

/* Rule ids must fit the entry codes and the datapath's rule counters
 * (world.max_rules, segd's setting): -E2BIG past either, naming the
 * largest policy, where merging rules helps most. */
static int check_rule_count(struct ctx *x, size_t total)
{
	const struct seg_world *w = x->w;
	const struct seg_policy *big = NULL;
	size_t limit = SEGD_MAX_RULES - 1;
	char name[300] = "";

	if (w->max_rules && w->max_rules < limit)
		limit = w->max_rules;
	if (total <= limit)
		return 0;
	for (size_t i = 0; i < w->n_policies; i++)
		if (!big || w->policies[i].n_rules > big->n_rules)
			big = &w->policies[i];
	seg_policy_name_of(big, name, sizeof(name));
	if (limit < SEGD_MAX_RULES - 1)
		return seg_errorf(x->err, NULL, 0, 0, E2BIG,
				  "%zu policy rules exceed max_rules %zu (segd's "
				  "config; the largest policy is %s with %zu "
				  "rules); raise max_rules (at most %d; the rule "
				  "counters take 24 bytes per rule and CPU) and "
				  "restart segd, or merge rules (several peers and "
				  "ports per rule)", total, limit, name,
				  big->n_rules, SEGD_MAX_RULES - 1);
	return seg_errorf(x->err, NULL, 0, 0, E2BIG,
			  "%zu policy rules exceed the limit of %zu (the largest "
			  "policy is %s with %zu rules); merge rules (several "
			  "peers and ports per rule) or delete unused policies",
			  total, limit, name, big->n_rules);
}

/* Entry codes hold a protocol index (SEGC_PROTOS): every protocol the
 * parsers accept has one; a world built otherwise is refused here. */
static int check_protocols(struct ctx *x)
{
	const struct seg_world *w = x->w;
	char name[300];

	for (size_t i = 0; i < w->n_policies; i++) {
		const struct seg_policy *p = &w->policies[i];

		for (size_t ri = 0; ri < p->n_rules; ri++)
			for (size_t k = 0; k < p->rules[ri].n_ports; k++) {
				uint8_t pr = p->rules[ri].ports[k].proto;

				if (segc_proto_index(pr) != SEGC_PROTO_NONE)
					continue;
				seg_policy_name_of(p, name, sizeof(name));
				return seg_errorf(x->err, NULL, 0, 0, EINVAL,
						  "policy %s rule %zu: protocol %u "
						  "cannot be compiled; use TCP, UDP, "
						  "SCTP, ICMP, ICMPv6 or any", name,
						  ri + 1, pr);
			}
	}
	for (size_t i = 0; i < w->n_endpoints; i++)
		for (size_t k = 0; k < w->endpoints[i].n_ports; k++)
			if (segc_proto_index(w->endpoints[i].ports[k].proto) ==
			    SEGC_PROTO_NONE)
				return seg_errorf(x->err, NULL, 0, 0, EINVAL,
						  "endpoint %s/%s: port %s has "
						  "protocol %u, which cannot be "
						  "compiled; use TCP, UDP or SCTP",
						  ep_ns(&w->endpoints[i]),
						  w->endpoints[i].name,
						  w->endpoints[i].ports[k].name,
						  w->endpoints[i].ports[k].proto);
	return 0;
}

/* Steps 1-4: namespaces, identities, policy order, CIDR identities. */
int segc_prepare(struct ctx *x, const struct seg_world *world,
		 struct seg_error *err)
{
	size_t total_rules = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	x->w = world;
	x->err = err;
	if (!world)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "nothing to compile");
	x->used_cap = 64;
	while (x->used_cap < 2 * (world->n_endpoints + 4))
		x->used_cap *= 2;
	x->used = calloc(x->used_cap, sizeof(*x->used));
	x->pol_order = calloc(world->n_policies + 1, sizeof(*x->pol_order));
	x->pol_audit = calloc(world->n_policies + 1, sizeof(*x->pol_audit));
	if (!x->used || !x->pol_order || !x->pol_audit)
		return -ENOMEM;
	segc_id_claim(x->used, x->used_cap, SEGD_ID_WORLD);
	segc_id_claim(x->used, x->used_cap, SEGD_ID_HOST);
	segc_id_claim(x->used, x->used_cap, SEGD_ID_WORLD_V6);

	for (size_t i = 0; i < world->n_policies; i++) {
		x->pol_order[i] = i;
		total_rules += world->policies[i].n_rules;
	}
	if ((rc = check_rule_count(x, total_rules)) || (rc = check_protocols(x)))
		return rc;
	qsort_r(x->pol_order, world->n_policies, sizeof(*x->pol_order),
		cmp_policy_order, world->policies);
	policy_modes(x);
	if ((rc = tier_tables(x, total_rules)))
		return rc;
	rc = segc_build_identities(x);
	if (!rc)
		rc = segc_build_cidrs(x);
	if (!rc)
		rc = segc_build_ranks(x);
	if (!rc && (!(x->bk = calloc(x->n_ids + 1, sizeof(*x->bk))) ||
		    !(x->abk = calloc(x->n_ids + 1, sizeof(*x->abk)))))
		rc = -ENOMEM;
	for (size_t t = 0; !rc && x->rule_act && t < 4; t++)
		if (!(x->cbk[t] = calloc(x->n_ids + 1, sizeof(*x->cbk[t]))))
			rc = -ENOMEM;
	return rc;
}

/* An identity only an audit-mode policy enforces in a direction gets the
 * ENFORCE flag too: its default is the catch-all audit entry. */
void segc_add_enforce(struct ctx *x, size_t pi, const uint32_t *idents,
		      size_t n)
{
	const struct seg_policy *p = &x->w->policies[pi];
	uint8_t dirs = (uint8_t)((p->enforce[0] ? 1 : 0) | (p->enforce[1] ? 2 : 0));
	uint32_t f = (p->enforce[0] ? SEGD_EPF_ENFORCE(0) : 0) |
		     (p->enforce[1] ? SEGD_EPF_ENFORCE(1) : 0);

	for (size_t k = 0; k < n; k++) {
		struct ep_ident *id = &x->ids[idents[k]];

		id->flags |= f;
		if (p->kind == SEG_KIND_CNP)
			id->cnp_dirs |= dirs;   /* not the NetworkPolicy tier's */
		else if (x->pol_audit[pi])
			id->audit_dirs |= dirs;
		else
			id->enf_dirs |= dirs;
	}
}

static int fill_rules(struct ctx *x, struct seg_compiled *c)
{
	const struct seg_world *w = x->w;
	size_t total = 0;

	for (size_t i = 0; i < w->n_policies; i++)
		total += w->policies[i].n_rules;
	c->rules = calloc(total + 1, sizeof(*c->rules));
	if (!c->rules)
		return -ENOMEM;
	for (size_t oi = 0; oi < w->n_policies; oi++) {
		const struct seg_policy *p = &w->policies[x->pol_order[oi]];

		for (size_t ri = 0; ri < p->n_rules; ri++) {
			struct seg_rule_ref *ref = &c->rules[c->n_rules];

			ref->rule_id = (uint32_t)++c->n_rules;
			ref->policy_ns = strdup(p->kind == SEG_KIND_CNP ? "" :
						pol_ns(p));
			ref->policy_name = strdup(p->name ? p->name : "");
			ref->rule_name = strdup(p->rules[ri].name ?
						p->rules[ri].name : "");
			ref->rule_index = (uint32_t)ri;
			ref->action = p->rules[ri].action;
			ref->dir = p->rules[ri].dir;
			ref->kind = p->kind;
			ref->tier = p->tier;
			ref->priority = p->priority;
			if (!ref->policy_ns || !ref->policy_name ||
			    !ref->rule_name)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Steps 6-7, then the output. */
int segc_finish(struct ctx *x, struct seg_compiled *out)
{
	struct seg_compiled c = { 0 };
	int rc;

	rc = segc_finish_entries(x);
	if (rc == -E2BIG)
		return segc_e2big_entries(x->err);
	if (!rc)
		rc = build_exact(x, &c);
	if (rc)
		goto out;

	/* prefixes */
	c.n_prefixes = 2 + x->n_cidrs;
	if (c.n_prefixes > SEGD_MAX_IPC_PREFIXES) {
		rc = seg_errorf(x->err, NULL, 0, 0, E2BIG,
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
					    &x->cidrs[i - 2].c;

		c.prefixes[i].key.prefixlen = pc->plen;
		memcpy(c.prefixes[i].key.addr, &pc->addr, 16);
		c.prefixes[i].value.identity = i == 0 ? SEGD_ID_WORLD :
					       i == 1 ? SEGD_ID_WORLD_V6 :
					       x->cidrs[i - 2].id;
	}
	segc_sort(c.prefixes, c.n_prefixes, sizeof(*c.prefixes), cmp_prefix);

	/* entries: sorted by key bytes, keys unique */
	rc = segc_emit_entries(x, &c.entries);
	if (rc)
		goto out;
	c.n_entries = x->n_entries;

	/* identities: reserved, endpoints, cidrs */
	c.identities = calloc(3 + x->n_ids + x->n_cidrs, sizeof(*c.identities));
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
	for (size_t i = 0; i < x->n_ids; i++) {
		c.identities[c.n_identities].id = x->ids[i].id;
		c.identities[c.n_identities].flags = x->ids[i].flags;
		c.identities[c.n_identities++].key = x->ids[i].key;
		x->ids[i].key = NULL;
	}
	for (size_t i = 0; i < x->n_cidrs; i++) {
		c.identities[c.n_identities].id = x->cidrs[i].id;
		c.identities[c.n_identities++].key = x->cidrs[i].key;
		x->cidrs[i].key = NULL;
	}
	segc_sort(c.identities, c.n_identities, sizeof(*c.identities), cmp_identity);
	rc = fill_rules(x, &c);
	if (rc)
		goto out;
	*out = c;
	memset(&c, 0, sizeof(c));
out:
	seg_compiled_free(&c);
	return rc;
}

void segc_ctx_free(struct ctx *x)
{
	for (size_t i = 0; i < x->n_ns; i++)
		seg_labels_free(&x->ns[i].labels);
	free(x->ns);
	segc_smap_free(&x->ns_by_name);
	for (size_t i = 0; x->ids && i < x->n_ids; i++)
		free(x->ids[i].key);
	free(x->ids);
	free(x->ep_ident);
	free(x->pfx);
	free(x->cidr_ord);
	free(x->ep_addrs);
	free(x->ident_mark);
	free(x->rank_ident);
	free(x->ns_members);
	for (size_t i = 0; i < x->n_cidrs; i++)
		free(x->cidrs[i].key);
	free(x->cidrs);
	segc_smap_free(&x->memo);
	segc_label_index_free(&x->li);
	free(x->sets);
	free(x->pool);
	free(x->rpool);
	free(x->world_rem);
	free(x->sb.p);
	free(x->pk);
	free(x->rem);
	free(x->tmp);
	free(x->kv);
	free(x->rank_id);
	segc_buckets_free(x->bk, x->n_ids);
	segc_buckets_free(x->abk, x->n_ids);
	for (size_t t = 0; t < 4; t++)
		segc_buckets_free(x->cbk[t], x->n_ids);
	free(x->rule_act);
	free(x->pol_order);
	free(x->pol_audit);
	free(x->used);
	memset(x, 0, sizeof(*x));
}

/* ---- seg_compile ------------------------------------------------------------- */

/* every policy's entries into x->bk, compacted; ENFORCE flags */
static int gen_all(struct ctx *x)
{
	const struct seg_world *w = x->w;
	uint32_t base = 0;
	int rc = 0;

	for (size_t oi = 0; !rc && oi < w->n_policies; oi++) {
		size_t pi = x->pol_order[oi], subj;
		const struct seg_policy *p = &w->policies[pi];
		struct bucket *bk = segc_bk_of(x, pi);

		rc = segc_gen_policy(x, p, base, bk, &subj);
		if (rc == -EINVAL && segc_compact_all(x, bk) == -E2BIG)
			rc = -E2BIG;    /* the map overflowed before this rule */
		if (rc)
			break;
		segc_add_enforce(x, pi, x->pool + x->sets[subj].off,
				 x->sets[subj].n);
		base += (uint32_t)p->n_rules;
	}
	if (!rc)
		rc = segc_compact_all(x, x->bk);
	if (!rc && x->any_audit)
		rc = segc_compact_all(x, x->abk);
	for (size_t t = 0; !rc && x->rule_act && t < 4; t++)
		rc = segc_compact_all(x, x->cbk[t]);
	return rc == -E2BIG ? segc_e2big_entries(x->err) : rc;
}

int seg_compile(const struct seg_world *world, struct seg_compiled *out,
		struct seg_error *err)
{
	struct ctx x;
	int rc;

	if (!out)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "nothing to compile");
	rc = segc_prepare(&x, world, err);
	if (!rc)
		rc = gen_all(&x);
	if (!rc)
		rc = segc_finish(&x, out);
	if (rc == -ENOMEM)
		seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory while compiling");
	segc_ctx_free(&x);
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
		free(c->rules[i].rule_name);
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
					    const struct segd_policy_key *k)
{
	return segc_find(k, c->entries, c->n_entries, sizeof(*c->entries),
			 segc_cmp_entry);
}

const struct seg_policy_entry *seg_compiled_chain(const struct seg_compiled *c,
						  uint32_t local_id, uint32_t lflags,
						  uint32_t remote_id, int dir,
						  uint8_t proto, uint16_t port,
						  struct segd_policy_key *hit, int *n)
{
	bool has_ports = proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
			 proto == IPPROTO_SCTP;
	struct segd_policy_key k = { .local_id = local_id, .dir = (uint8_t)dir };
	const struct seg_policy_entry *e = NULL;
	int place = 0;

	for (int pass = 0; pass < 2 && !e; pass++) {
		if (pass == 1 && !(lflags & SEGD_EPF_HINT_ANYREM(dir)))
			break;
		k.remote_id = pass ? SEGD_ID_ANY : remote_id;
		k.proto = proto;
		place = pass * 4 + 1;
		if (has_ports) {
			k.port_kind = SEGD_PORT_EXACT;
			k.port = port;
			if ((e = probe(c, &k)))
				break;
		}
		place++;
		if (has_ports && (lflags & SEGD_EPF_HINT_BLOCK(dir))) {
			k.port_kind = SEGD_PORT_BLOCK;
			k.port = port & SEGD_PORT_BLOCK_MASK;
			if ((e = probe(c, &k)))
				break;
		}
		place++;
		k.port_kind = SEGD_PORT_ANY;
		k.port = 0;
		if (proto != SEGD_PROTO_ANY && (e = probe(c, &k)))
			break;
		place++;
		k.proto = SEGD_PROTO_ANY;
		e = probe(c, &k);
	}
	if (e && hit)
		*hit = k;
	if (n)
		*n = e ? place : 0;
	return e;
}

static int cmp_identity_id(const void *key, const void *elem)
{
	uint32_t x = *(const uint32_t *)key;
	uint32_t y = ((const struct seg_identity *)elem)->id;

	return x < y ? -1 : x > y;
}

const struct seg_identity *seg_compiled_identity(const struct seg_compiled *c,
						 uint32_t id)
{
	return segc_find(&id, c->identities, c->n_identities,
			 sizeof(*c->identities), cmp_identity_id);
}

enum segd_verdict seg_compiled_decide(const struct seg_compiled *c,
				      uint32_t local_id, uint32_t remote_id,
				      int dir, uint8_t proto, uint16_t port,
				      uint32_t *rule_id)
{
	return seg_compiled_decide_flags(c, local_id, remote_id, dir, proto,
					 port, rule_id, NULL);
}

enum segd_verdict seg_compiled_decide_flags(const struct seg_compiled *c,
					    uint32_t local_id,
					    uint32_t remote_id, int dir,
					    uint8_t proto, uint16_t port,
					    uint32_t *rule_id, uint8_t *polf)
{
	const struct seg_policy_entry *e;
	const struct seg_identity *id;
	uint32_t flags = 0, rid = 0;
	uint8_t pf = 0;
	enum segd_verdict v = SEGD_VERDICT_DENY;

	id = seg_compiled_identity(c, local_id);
	if (id)
		flags = id->flags;
	if (dir < 0 || dir > 1 || !(flags & SEGD_EPF_ENFORCE(dir))) {
		v = SEGD_VERDICT_ALLOW;
		goto out;
	}
	e = seg_compiled_chain(c, local_id, flags, remote_id, dir, proto, port,
			       NULL, NULL);
	if (e) {
		v = e->value.verdict;
		rid = e->value.rule_id;
		pf = e->value.flags;
	}
out:
	if (rule_id)
		*rule_id = rid;
	if (polf)
		*polf = pf;
	return v;
}

