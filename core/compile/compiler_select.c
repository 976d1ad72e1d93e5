/* compiler_select.c - identities, CIDR identities and memoised selector
 * results of the compiler. */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ns_add(struct ctx *x, const char *name)
{
	const uint32_t *have = segc_smap_get(&x->ns_by_name, name);
	const struct seg_namespace *src = NULL;
	struct ns_info *n;
	int rc;

	if (have)
		return 0;
	for (size_t i = 0; i < x->w->n_namespaces; i++)
		if (x->w->namespaces[i].name &&
		    !strcmp(x->w->namespaces[i].name, name))
			src = &x->w->namespaces[i];
	if (segc_grow(&x->ns, &x->cap_ns, x->n_ns + 1, sizeof(*x->ns)))
		return -ENOMEM;
	n = &x->ns[x->n_ns];
	memset(n, 0, sizeof(*n));
	n->name = name;
	x->n_ns++;
	rc = src ? seg_labels_copy(&n->labels, &src->labels) : 0;
	/* A namespace always carries kubernetes.io/metadata.name=<name>. */
	if (!rc && !seg_labels_get(&n->labels, NS_NAME_LABEL))
		rc = seg_labels_set(&n->labels, NS_NAME_LABEL, name);
	if (!rc)
		rc = segc_smap_put(&x->ns_by_name, name, (uint32_t)(x->n_ns - 1));
	return rc;
}

static int cmp_ident_key(const void *a, const void *b)
{
	const struct ep_ident *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* Insert id into the used-id set (open addressing over 2^k slots). */
bool segc_id_claim(uint32_t *set, size_t cap, uint32_t id)
{
	size_t i = segc_mix64(id) & (cap - 1);

	while (set[i]) {
		if (set[i] == id)
			return false;
		i = (i + 1) & (cap - 1);
	}
	set[i] = id;
	return true;
}

/* ids from first..last by segc_fnv1a(key) with linear probing, in key order */
static uint32_t id_assign(uint32_t *set, size_t cap, const char *key,
			  uint32_t first, uint32_t last)
{
	uint32_t range = last - first + 1, h = segc_fnv1a(key) % range;

	while (!segc_id_claim(set, cap, first + h))
		h = (h + 1) % range;
	return first + h;
}

/* "ep:<ns>\n<k>=<v>\n...", then "@port <name>=<n>/<proto>\n" per named
 * port and "@cidr <prefix>\n" per policy prefix holding one of e's
 * addresses (x->pfx, sorted). Labels and ports are kept sorted; '@'
 * cannot start a label key. Endpoints share an identity only when policy
 * cannot tell them apart: same labels, same port names (a named port
 * resolves per identity) and, when CIDR peers select endpoints, the same
 * policy prefixes (an ipBlock selects per identity). */
static void identity_key(const struct ctx *x, struct seg_strbuf *sb,
			 const struct seg_endpoint *e)
{
	char buf[64];

	sb->n = 0;
	seg_strbuf_str(sb, "ep:");
	seg_strbuf_str(sb, ep_ns(e));
	seg_strbuf_str(sb, "\n");
	for (size_t j = 0; j < e->labels.n; j++) {
		seg_strbuf_str(sb, e->labels.v[j].key);
		seg_strbuf_str(sb, "=");
		seg_strbuf_str(sb, e->labels.v[j].value);
		seg_strbuf_str(sb, "\n");
	}
	for (size_t j = 0; j < e->n_ports; j++) {
		seg_named_port_format(&e->ports[j], buf, sizeof(buf));
		seg_strbuf_str(sb, "@port ");
		seg_strbuf_str(sb, buf);
		seg_strbuf_str(sb, "\n");
	}
	segc_pfx_key(x, sb, e);
}

static int cmp_cidr(const void *a, const void *b)
{
	const struct seg_cidr *x = a, *y = b;
	int d = memcmp(&x->addr, &y->addr, 16);

	return d ? d : (int)x->plen - (int)y->plen;
}

/* Every prefix CIDR peers name (cidr and except), masked, sorted, unique,
 * into x->pfx: when they select endpoints (SEG_CIDR_MATCH_ALL). */
static int collect_prefixes(struct ctx *x)
{
	size_t cap = 0, u = 0;

	if (x->w->cidr_match != SEG_CIDR_MATCH_ALL)
		return 0;
	for (size_t pi = 0; pi < x->w->n_policies; pi++) {
		const struct seg_policy *p = &x->w->policies[pi];

		for (size_t ri = 0; ri < p->n_rules; ri++)
			for (size_t k = 0; k < p->rules[ri].n_peers; k++) {
				const struct seg_peer *pe = &p->rules[ri].peers[k];

				if (pe->kind != SEG_PEER_CIDR)
					continue;
				for (size_t e = 0; e <= pe->n_except; e++) {
					const struct seg_cidr *c = e ? &pe->except[e - 1]
								     : &pe->cidr;

					if (segc_grow(&x->pfx, &cap, x->n_pfx + 1,
						      sizeof(*x->pfx)))
						return -ENOMEM;
					x->pfx[x->n_pfx++] = segc_cidr_masked(c);
				}
			}
	}
	segc_sort(x->pfx, x->n_pfx, sizeof(*x->pfx), cmp_cidr);
	for (size_t i = 0; i < x->n_pfx; i++)
		if (!u || cmp_cidr(&x->pfx[u - 1], &x->pfx[i]))
			x->pfx[u++] = x->pfx[i];
	x->n_pfx = u;
	segc_pfx_lengths(x);
	return 0;
}

int segc_build_identities(struct ctx *x)
{
	const struct seg_world *w = x->w;
	struct seg_strbuf sb = { 0 };
	struct smap by_key = { 0 };
	size_t *cnt = NULL;
	int rc = 0;

	x->ids = calloc(w->n_endpoints + 1, sizeof(*x->ids));
	x->ep_ident = calloc(w->n_endpoints + 1, sizeof(*x->ep_ident));
	x->ns_members = calloc(w->n_endpoints + 1, sizeof(*x->ns_members));
	if (!x->ids || !x->ep_ident || !x->ns_members) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = collect_prefixes(x)))
		goto out;
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];

		identity_key(x, &sb, e);
		rc = sb.err ? sb.err : ns_add(x, ep_ns(e));
		if (rc)
			goto out;
		if (segc_smap_get(&by_key, sb.p))
			continue;
		rc = segc_smap_put(&by_key, sb.p, 0);
		if (rc)
			goto out;
		x->ids[x->n_ids].key = strdup(sb.p);
		if (!x->ids[x->n_ids].key) {
			rc = -ENOMEM;
			goto out;
		}
		x->ids[x->n_ids].ns = *segc_smap_get(&x->ns_by_name, ep_ns(e));
		x->ids[x->n_ids].labels = &e->labels;
		x->ids[x->n_ids].first_ep = e;
		x->n_ids++;
	}
	segc_sort(x->ids, x->n_ids, sizeof(*x->ids), cmp_ident_key);
	for (size_t i = 0; i < x->n_ids; i++) {
		x->ids[i].id = id_assign(x->used, x->used_cap, x->ids[i].key,
					 SEGD_ID_FIRST_ENDPOINT,
					 SEGD_ID_LAST_ENDPOINT);
		rc = segc_smap_put(&by_key, x->ids[i].key, (uint32_t)i);
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];

		identity_key(x, &sb, e);
		if (sb.err) {
			rc = sb.err;
			goto out;
		}
		x->ep_ident[i] = *segc_smap_get(&by_key, sb.p);
	}
	/* group identities by namespace (counting sort, key order within) */
	cnt = calloc(x->n_ns + 1, sizeof(*cnt));
	if (!cnt) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->n_ids; i++)
		x->ns[x->ids[i].ns].count++;
	for (size_t i = 0, acc = 0; i < x->n_ns; i++) {
		x->ns[i].first = acc;
		acc += x->ns[i].count;
	}
	for (size_t i = 0; i < x->n_ids; i++) {
		struct ns_info *n = &x->ns[x->ids[i].ns];

		x->ns_members[n->first + cnt[x->ids[i].ns]++] = i;
	}
out:
	free(cnt);
	free(sb.p);
	segc_smap_free(&by_key);
	return rc;
}

/* ---- selectors (memoised) ------------------------------------------------------ */

static void sel_canon(struct seg_strbuf *sb, const struct seg_selector *s)
{
	char op[4];

	for (size_t i = 0; s && i < s->n_reqs; i++) {
		snprintf(op, sizeof(op), "\x1e%d", (int)s->reqs[i].op);
		seg_strbuf_str(sb, s->reqs[i].key);
		seg_strbuf_str(sb, op);
		for (size_t j = 0; j < s->reqs[i].n_values; j++) {
			seg_strbuf_str(sb, "\x1d");
			seg_strbuf_str(sb, s->reqs[i].values[j]);
		}
		seg_strbuf_str(sb, "\x1c");
	}
}

/* a new memo entry: ident indices pool[off..], identity ids rpool[roff..]
 * (sorted here) */
static int set_new(struct ctx *x, const char *key, size_t off, size_t roff,
		   size_t *out)
{
	struct idset *s;

	if (segc_grow(&x->sets, &x->cap_sets, x->n_sets + 1, sizeof(*x->sets)))
		return -ENOMEM;
	s = &x->sets[x->n_sets];
	s->off = off;
	s->n = x->n_pool - off;
	s->roff = roff;
	s->rn = x->n_rpool - roff;
	segc_sort_u32(x->rpool + roff, s->rn);
	*out = x->n_sets++;
	return segc_smap_put(&x->memo, key, (uint32_t)*out);
}

static int pool_push(struct ctx *x, uint32_t v)
{
	if (segc_grow(&x->pool, &x->cap_pool, x->n_pool + 1, sizeof(*x->pool)))
		return -ENOMEM;
	x->pool[x->n_pool++] = v;
	return 0;
}

static int rpool_push(struct ctx *x, uint32_t v)
{
	if (segc_grow(&x->rpool, &x->cap_rpool, x->n_rpool + 1,
		      sizeof(*x->rpool)))
		return -ENOMEM;
	x->rpool[x->n_rpool++] = v;
	return 0;
}

static int push_if_matches(struct ctx *x, const struct seg_selector *pods, size_t id)
{
	int rc;

	if (!seg_selector_matches(pods, x->ids[id].labels))
		return 0;
	rc = pool_push(x, (uint32_t)id);
	return rc ? rc : rpool_push(x, x->ids[id].rank);
}

/* Endpoint identities (indices into x->ids) matching `pods` in the scope:
 * namespace `ns_name`, or every namespace matching `nss` when has_nss. */
int segc_select_idents(struct ctx *x, bool has_nss,
			 const struct seg_selector *nss, const char *ns_name,
			 const struct seg_selector *pods, size_t *set)
{
	struct seg_strbuf *sb = &x->sb;
	const uint32_t *hit, *cand;
	size_t off = x->n_pool, roff = x->n_rpool, n_cand;
	int rc = 0;

	sb->n = 0;
	seg_strbuf_str(sb, "E");
	if (has_nss)
		sel_canon(sb, nss);
	else
		seg_strbuf_str(sb, ns_name);
	seg_strbuf_str(sb, "\x1f");
	sel_canon(sb, pods);
	if (sb->err)
		return sb->err;
	hit = segc_smap_get(&x->memo, sb->p);
	if (hit) {
		*set = *hit;
		return 0;
	}
	rc = segc_label_candidates(x, pods, &cand, &n_cand);
	if (rc && rc != -ENOENT)
		return rc;
	if (!rc) {
		/* the identities its matchLabels name, in the order the scan
		 * below would take them */
		uint8_t *ns_ok = x->li.ns_ok;

		for (size_t n = 0; n < x->n_ns; n++)
			ns_ok[n] = has_nss ? seg_selector_matches(nss, &x->ns[n].labels)
					   : !strcmp(x->ns[n].name, ns_name);
		for (size_t k = 0; k < n_cand; k++)
			if (ns_ok[x->ids[cand[k]].ns] &&
			    (rc = push_if_matches(x, pods, cand[k])))
				return rc;
		return set_new(x, sb->p, off, roff, set);
	}
	for (size_t n = 0; n < x->n_ns; n++) {
		const struct ns_info *ns = &x->ns[n];

		if (has_nss ? !seg_selector_matches(nss, &ns->labels)
			    : strcmp(ns->name, ns_name))
			continue;
		for (size_t k = 0; k < ns->count; k++)
			if ((rc = push_if_matches(x, pods, x->ns_members[ns->first + k])))
				return rc;
	}
	return set_new(x, sb->p, off, roff, set);
}

/* Identity ids of CIDR c minus except[]: every known prefix P (WORLD and
 * WORLD_V6 count as ::ffff:0:0/96 and ::/0) with P within c and not within
 * any except. Exact because the datapath resolves an address to its
 * LONGEST known prefix and c and every except are known prefixes: an
 * address a in c \ U(except) has a longest prefix P containing it, P is
 * nested with c (both hold a) and at least as long, so P within c; P within
 * some except E would put a in E. Conversely P within c puts a in c, and an
 * except E holding a would be nested with P and, P being longest, contain
 * it. CIDR peers do NOT match endpoint or host addresses: those resolve
 * through the exact ipcache to their own identities first (Cilium's
 * semantics; select them with pod selectors / the host peer). */
int segc_select_cidr(struct ctx *x, const struct seg_peer *p, size_t *set)
{
	struct seg_strbuf *sb = &x->sb;
	char buf[64];
	const uint32_t *hit;
	size_t off = x->n_pool, roff = x->n_rpool;
	int rc = 0;

	sb->n = 0;
	seg_cidr_format(&p->cidr, buf, sizeof(buf));
	seg_strbuf_str(sb, "C");
	seg_strbuf_str(sb, buf);
	for (size_t i = 0; i < p->n_except; i++) {
		seg_cidr_format(&p->except[i], buf, sizeof(buf));
		seg_strbuf_str(sb, "-");
		seg_strbuf_str(sb, buf);
	}
	if (sb->err)
		return sb->err;
	hit = segc_smap_get(&x->memo, sb->p);
	if (hit) {
		*set = *hit;
		return 0;
	}
	rc = segc_cidr_ranks(x, p, rpool_push);
	if (rc)
		return rc;
	return set_new(x, sb->p, off, roff, set);
}

/* one of this node's own addresses (the host identity)? */
static bool is_host_addr(const struct ctx *x, const struct in6_addr *a)
{
	for (size_t i = 0; i < x->w->n_host_ips; i++)
		if (!memcmp(&x->w->host_ips[i], a, 16))
			return true;
	return false;
}

/* The rank of address a: the host identity for this node's own
 * addresses, else its exact-prefix CIDR identity (addr_add made one). */
static int addr_rank_push(struct ctx *x, const struct in6_addr *a)
{
	struct seg_cidr one = { .addr = *a, .plen = 128 };
	char buf[64], key[72];

	if (is_host_addr(x, a))
		return rpool_push(x, x->rank_host);
	seg_cidr_format(&one, buf, sizeof(buf));
	snprintf(key, sizeof(key), "cidr:%s", buf);
	for (size_t lo = 0, hi = x->n_cidrs; lo < hi;) {
		size_t m = lo + (hi - lo) / 2;
		int c = strcmp(x->cidrs[m].key, key);

		if (!c)
			return rpool_push(x, x->cidrs[m].rank);
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return 0;       /* cannot happen: segc_build_cidrs added it */
}

/* A `nodes` or `domainNames` peer: the identities of the addresses of
 * the nodes whose labels match, or of what the exact name resolved to
 * (a wildcard or a name not resolved yet: nothing). Endpoint addresses
 * resolve to their endpoint identities first (the exact ipcache), which
 * such a peer never selects: a pod is not a node, nor a domain name's
 * host. */
int segc_select_addrs(struct ctx *x, const struct seg_peer *p, size_t *set)
{
	const struct seg_world *w = x->w;
	struct seg_strbuf *sb = &x->sb;
	const uint32_t *hit;
	size_t off = x->n_pool, roff = x->n_rpool;
	int rc = 0;

	sb->n = 0;
	if (p->kind == SEG_PEER_NODES) {
		seg_strbuf_str(sb, "N");
		sel_canon(sb, &p->nodes);
	} else {
		seg_strbuf_str(sb, "D");
		seg_strbuf_str(sb, p->domain ? p->domain : "*");
	}
	if (sb->err)
		return sb->err;
	hit = segc_smap_get(&x->memo, sb->p);
	if (hit) {
		*set = *hit;
		return 0;
	}
	if (p->kind == SEG_PEER_NODES) {
		for (size_t i = 0; i < w->n_nodes && !rc; i++) {
			if (!seg_selector_matches(&p->nodes, &w->nodes[i].labels))
				continue;
			for (size_t j = 0; j < w->nodes[i].n_ips && !rc; j++)
				rc = addr_rank_push(x, &w->nodes[i].ips[j]);
		}
	} else if (p->domain && p->domain[0] != '*') {
		const struct seg_name_addrs *na =
			seg_names_find(w->names, w->n_names, p->domain);

		for (size_t j = 0; na && j < na->n_ips && !rc; j++)
			rc = addr_rank_push(x, &na->ips[j]);
	}
	if (rc)
		return rc;
	/* set_new sorts; drop repeats (two nodes may share an address) */
	rc = set_new(x, sb->p, off, roff, set);
	if (!rc) {
		struct idset *s = &x->sets[*set];

		s->rn = segc_uniq_u32(x->rpool + s->roff, s->rn);
		x->n_rpool = s->roff + s->rn;
	}
	return rc;
}

/* ---- CIDR identities ------------------------------------------------------------ */

static int cidr_add(struct ctx *x, struct smap *seen, const struct seg_cidr *c0)
{
	struct seg_cidr c = segc_cidr_masked(c0);
	char buf[64], key[72];

	/* the two /0s are WORLD and WORLD_V6 themselves */
	if (segc_cidr_eq(&c, &segc_world4) || segc_cidr_eq(&c, &segc_world6))
		return 0;
	seg_cidr_format(&c, buf, sizeof(buf));
	snprintf(key, sizeof(key), "cidr:%s", buf);
	if (segc_smap_get(seen, key))
		return 0;
	if (segc_grow(&x->cidrs, &x->cap_cidrs, x->n_cidrs + 1, sizeof(*x->cidrs)))
		return -ENOMEM;
	x->cidrs[x->n_cidrs].c = c;
	x->cidrs[x->n_cidrs].id = 0;
	x->cidrs[x->n_cidrs].key = strdup(key);
	if (!x->cidrs[x->n_cidrs].key)
		return -ENOMEM;
	x->n_cidrs++;
	return segc_smap_put(seen, key, 0);
}

static int cmp_cidr_key(const void *a, const void *b)
{
	return strcmp(((const struct cidr_ident *)a)->key,
		      ((const struct cidr_ident *)b)->key);
}

/* One address of a node or a resolved name as an exact-prefix CIDR
 * identity (/32, /128). This node's own addresses are the host identity
 * (the exact ipcache resolves them to it first): none for them. */
static int addr_add(struct ctx *x, struct smap *seen, const struct in6_addr *a)
{
	struct seg_cidr c = { .addr = *a, .plen = 128 };

	return is_host_addr(x, a) ? 0 : cidr_add(x, seen, &c);
}

/* The addresses of the nodes a `nodes` peer selects, or the addresses
 * a `domainNames` name resolved to (exact names only: a wildcard cannot
 * be resolved), as CIDR identities. */
static int peer_addrs_add(struct ctx *x, struct smap *seen,
			  const struct seg_peer *pe)
{
	const struct seg_world *w = x->w;
	const struct seg_name_addrs *na;
	int rc = 0;

	if (pe->kind == SEG_PEER_NODES) {
		for (size_t i = 0; i < w->n_nodes && !rc; i++) {
			if (!seg_selector_matches(&pe->nodes, &w->nodes[i].labels))
				continue;
			for (size_t j = 0; j < w->nodes[i].n_ips && !rc; j++)
				rc = addr_add(x, seen, &w->nodes[i].ips[j]);
		}
		return rc;
	}
	if (pe->kind != SEG_PEER_DOMAIN || !pe->domain || pe->domain[0] == '*')
		return 0;
	na = seg_names_find(w->names, w->n_names, pe->domain);
	for (size_t j = 0; na && j < na->n_ips && !rc; j++)
		rc = addr_add(x, seen, &na->ips[j]);
	return rc;
}

int segc_build_cidrs(struct ctx *x)
{
	struct smap seen = { 0 };
	int rc = 0;

	for (size_t pi = 0; pi < x->w->n_policies; pi++) {
		const struct seg_policy *p = &x->w->policies[pi];

		for (size_t ri = 0; ri < p->n_rules; ri++) {
			const struct seg_rule *r = &p->rules[ri];

			for (size_t k = 0; k < r->n_peers; k++) {
				const struct seg_peer *pe = &r->peers[k];

				if (pe->kind != SEG_PEER_CIDR) {
					if ((rc = peer_addrs_add(x, &seen, pe)))
						goto out;
					continue;
				}
				rc = cidr_add(x, &seen, &pe->cidr);
				for (size_t e = 0; !rc && e < pe->n_except; e++)
					rc = cidr_add(x, &seen, &pe->except[e]);
				if (rc)
					goto out;
			}
		}
	}
	segc_sort(x->cidrs, x->n_cidrs, sizeof(*x->cidrs), cmp_cidr_key);
	{
		/* re-size the used-id set for endpoints + cidrs */
		size_t need = 64, old = x->used_cap;
		uint32_t *ns;

		while (need < 2 * (x->n_ids + x->n_cidrs + 4))
			need *= 2;
		ns = calloc(need, sizeof(*ns));
		if (!ns) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < old; i++)
			if (x->used[i])
				segc_id_claim(ns, need, x->used[i]);
		free(x->used);
		x->used = ns;
		x->used_cap = need;
	}
	for (size_t i = 0; i < x->n_cidrs; i++)
		x->cidrs[i].id = id_assign(x->used, x->used_cap, x->cidrs[i].key,
					   SEGD_ID_FIRST_CIDR, SEGD_ID_LAST_CIDR);
out:
	segc_smap_free(&seen);
	return rc;
}


/* ---- ranks ---------------------------------------------------------------------- */

static int cmp_id_bytes(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(uint32_t));
}

static uint32_t rank_of(const struct ctx *x, uint32_t id)
{
	size_t lo = 0, hi = x->n_ranks;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (memcmp(&x->rank_id[m], &id, sizeof(id)) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return (uint32_t)lo;
}

uint32_t segc_rank_of(const struct ctx *x, uint32_t id)
{
	uint32_t r = rank_of(x, id);

	return r < x->n_ranks && x->rank_id[r] == id ? r : UINT32_MAX;
}

bool segc_set_has(const struct ctx *x, size_t set, size_t ident)
{
	const struct idset *s = &x->sets[set];

	for (size_t k = 0; k < s->n; k++)
		if (x->pool[s->off + k] == ident)
			return true;
	return false;
}

/* Remote identities numbered in key byte order (see compiler_int.h). */
int segc_build_ranks(struct ctx *x)
{
	size_t n = 0;

	if (4 + x->n_ids + x->n_cidrs > SEGC_MAX_RANKS)
		return seg_errorf(x->err, NULL, 0, 0, E2BIG,
				  "%zu identities exceed the compiler's limit "
				  "of %u; use fewer distinct label sets or "
				  "CIDRs", x->n_ids + x->n_cidrs,
				  SEGC_MAX_RANKS - 4);
	x->rank_id = calloc(4 + x->n_ids + x->n_cidrs, sizeof(*x->rank_id));
	x->world_rem = calloc(2 + x->n_cidrs, sizeof(*x->world_rem));
	if (!x->rank_id || !x->world_rem)
		return -ENOMEM;
	x->rank_id[n++] = SEGD_ID_ANY;
	x->rank_id[n++] = SEGD_ID_WORLD;
	x->rank_id[n++] = SEGD_ID_HOST;
	x->rank_id[n++] = SEGD_ID_WORLD_V6;
	for (size_t i = 0; i < x->n_ids; i++)
		x->rank_id[n++] = x->ids[i].id;
	for (size_t i = 0; i < x->n_cidrs; i++)
		x->rank_id[n++] = x->cidrs[i].id;
	qsort(x->rank_id, n, sizeof(*x->rank_id), cmp_id_bytes);
	x->n_ranks = n;
	x->rank_ident = malloc(n * sizeof(*x->rank_ident));
	if (!x->rank_ident)
		return -ENOMEM;
	memset(x->rank_ident, 0xff, n * sizeof(*x->rank_ident));
	for (size_t i = 0; i < x->n_ids; i++) {
		x->ids[i].rank = rank_of(x, x->ids[i].id);
		x->rank_ident[x->ids[i].rank] = (uint32_t)i;
	}
	x->rank_world = rank_of(x, SEGD_ID_WORLD);
	x->rank_world6 = rank_of(x, SEGD_ID_WORLD_V6);
	x->rank_host = rank_of(x, SEGD_ID_HOST);
	x->world_rem[x->n_world_rem++] = x->rank_world;
	x->world_rem[x->n_world_rem++] = x->rank_world6;
	for (size_t i = 0; i < x->n_cidrs; i++) {
		x->cidrs[i].rank = rank_of(x, x->cidrs[i].id);
		x->world_rem[x->n_world_rem++] = x->cidrs[i].rank;
	}
	segc_sort_u32(x->world_rem, x->n_world_rem);
	return 0;
}
