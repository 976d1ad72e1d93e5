/* recommend.c - from learned edges to a model of least-privilege policies
 * (recommend.h); recommend_yaml.c writes it out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "recommend_int.h"
#include "segd_abi.h"

/* Label keys that name a workload, in the order tried: the first set the
 * workload has that no other workload of its namespace matches wins. */
static const char *const candidates[][3] = {
	{ "app.kubernetes.io/name", NULL },
	{ "app", NULL },
	{ "k8s-app", NULL },
	{ "name", NULL },
	{ "app.kubernetes.io/name", "app.kubernetes.io/component", NULL },
	{ "app.kubernetes.io/name", "app.kubernetes.io/instance", NULL },
	{ "app", "tier", NULL },
	{ "app", "component", NULL },
	{ "app", "role", NULL },
	{ "component", NULL },
	{ "tier", NULL },
	{ "role", NULL },
};

/* One workload of the universe: its namespace and identity labels. */
struct known {
	char ns[64];
	const char *text;               /* "k=v,..." (borrowed or owned) */
	struct seg_labels labels;
};

struct builder {
	const struct seg_edges *e;
	const struct seg_rec_opts *o;
	struct known *known;            /* sorted by ns, text */
	size_t n_known;
	char **owned;                   /* texts made here */
	size_t n_owned;
	struct in6_addr *ep_addrs;      /* the world's endpoint addresses, sorted */
	size_t n_ep_addrs;
	struct rec_model *m;
};

int seg_rec_kind_parse(const char *s, enum seg_rec_kind *out)
{
	if (!strcasecmp(s, "SegmentPolicy"))
		*out = SEG_REC_SEGMENTPOLICY;
	else if (!strcasecmp(s, "NetworkPolicy"))
		*out = SEG_REC_NETWORKPOLICY;
	else
		return -EINVAL;
	return 0;
}

/* ---- the universe: every workload known per namespace ------------------ */

static int known_cmp(const void *a, const void *b)
{
	const struct known *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->text, y->text);
}

static int add_known(struct builder *b, const char *ns, const char *text, size_t *cap)
{
	struct known *k;
	int ret;

	if (b->n_known == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct known *v = realloc(b->known, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->known = v;
		*cap = n;
	}
	k = &b->known[b->n_known];
	memset(k, 0, sizeof(*k));
	snprintf(k->ns, sizeof(k->ns), "%s", ns);
	k->text = text;
	ret = *text ? seg_labels_parse(text, &k->labels, NULL) : 0;
	if (ret)
		return ret == -ENOMEM ? ret : 0;   /* not labels: not a workload */
	b->n_known++;
	return 0;
}

/* "ns k=v,..." -> ns into buf, the labels part returned */
static const char *split_workload(const char *w, char *ns, size_t len)
{
	const char *sp = strchr(w, ' ');

	seg_edge_ns(w, ns, len);
	return sp ? sp + 1 : "";
}

static int own_text(struct builder *b, const char *text, const char **out)
{
	char **v = realloc(b->owned, (b->n_owned + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	b->owned = v;
	if (!(v[b->n_owned] = strdup(text)))
		return -ENOMEM;
	*out = v[b->n_owned++];
	return 0;
}

static int build_universe(struct builder *b, const struct seg_world *w)
{
	size_t cap = 0, kept = 0;
	char ns[64], buf[2048];
	int ret = 0;

	for (size_t i = 0; i < seg_edges_count(b->e) && !ret; i++) {
		const struct seg_edge *x = seg_edges_at(b->e, i);
		const char *lab = split_workload(seg_edges_string(b->e, x->local), ns,
						 sizeof(ns));

		ret = add_known(b, ns, lab, &cap);
		if (!ret && x->remote_kind == SEG_EDGE_WORKLOAD) {
			lab = split_workload(seg_edges_string(b->e, x->remote), ns,
					     sizeof(ns));
			ret = add_known(b, ns, lab, &cap);
		}
	}
	for (size_t i = 0; w && i < w->n_endpoints && !ret; i++) {
		const char *text;

		if ((size_t)seg_identity_labels(&w->endpoints[i].labels, buf, sizeof(buf)) >=
		    sizeof(buf))
			continue;
		ret = own_text(b, buf, &text);
		if (!ret)
			ret = add_known(b, w->endpoints[i].ns, text, &cap);
	}
	if (ret)
		return ret;
	if (b->n_known)         /* qsort wants an array, even of nothing */
		qsort(b->known, b->n_known, sizeof(*b->known), known_cmp);
	for (size_t i = 0; i < b->n_known; i++) {   /* one of each */
		if (kept && !known_cmp(&b->known[kept - 1], &b->known[i])) {
			seg_labels_free(&b->known[i].labels);
			continue;
		}
		b->known[kept++] = b->known[i];
	}
	b->n_known = kept;
	return 0;
}

/* ---- selectors ------------------------------------------------------------ */

static bool sel_matches(const struct seg_labels *sel, const struct seg_labels *l)
{
	for (size_t i = 0; i < sel->n; i++) {
		const char *v = seg_labels_get(l, sel->v[i].key);

		if (!v || strcmp(v, sel->v[i].value))
			return false;
	}
	return true;
}

/* Does sel match a workload of ns other than the one labelled text? */
static bool ambiguous(const struct builder *b, const char *ns, const char *text,
		      const struct seg_labels *sel)
{
	for (size_t i = 0; i < b->n_known; i++)
		if (!strcmp(b->known[i].ns, ns) && strcmp(b->known[i].text, text) &&
		    sel_matches(sel, &b->known[i].labels))
			return true;
	return false;
}

static void sel_text(struct rec_sel *sel)
{
	size_t off = 0, len = sizeof(sel->text);

	sel->text[0] = '\0';
	for (size_t i = 0; i < sel->labels.n && off < len; i++)
		off += (size_t)snprintf(sel->text + off, len - off, "%s%s=%s", i ? "," : "",
					sel->labels.v[i].key, sel->labels.v[i].value);
	for (size_t i = 0; i < sel->absent.n && off < len; i++)
		off += (size_t)snprintf(sel->text + off, len - off, ",!%s",
					sel->absent.v[i].key);
}

static void sel_free(struct rec_sel *sel)
{
	seg_labels_free(&sel->labels);
	seg_labels_free(&sel->absent);
}

/* The keys other workloads of ns matched by all of l have and l lacks,
 * into absent: with them DoesNotExist, l's labels select l alone. */
static int absent_keys(const struct builder *b, const char *ns, const char *text,
		       const struct seg_labels *l, struct seg_labels *absent)
{
	for (size_t i = 0; i < b->n_known; i++) {
		const struct known *u = &b->known[i];

		if (strcmp(u->ns, ns) || !strcmp(u->text, text) || !sel_matches(l, &u->labels))
			continue;
		for (size_t k = 0; k < u->labels.n; k++)
			if (!seg_labels_get(l, u->labels.v[k].key) &&
			    seg_labels_set(absent, u->labels.v[k].key, ""))
				return -ENOMEM;
	}
	return 0;
}

/* The fewest labels of text (a workload of ns) that select it alone; all
 * of them when no candidate set does, with DoesNotExist for the keys of
 * the workloads whose labels hold all of them. 1 when text has no labels. */
static int choose_selector(const struct builder *b, const char *ns, const char *text,
			   struct rec_sel *out)
{
	struct seg_labels l = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!*text)
		return 1;
	ret = seg_labels_parse(text, &l, NULL);
	if (ret)
		return ret == -ENOMEM ? ret : 1;
	for (size_t c = 0; c < sizeof(candidates) / sizeof(candidates[0]); c++) {
		bool has = true;

		for (size_t k = 0; candidates[c][k] && has; k++) {
			const char *v = seg_labels_get(&l, candidates[c][k]);

			has = v && !seg_labels_set(&out->labels, candidates[c][k], v);
		}
		if (has && !ambiguous(b, ns, text, &out->labels)) {
			seg_labels_free(&l);
			sel_text(out);
			return 0;
		}
		seg_labels_free(&out->labels);
	}
	out->labels = l;
	ret = absent_keys(b, ns, text, &out->labels, &out->absent);
	sel_text(out);
	return ret;
}

/* ---- rules ------------------------------------------------------------------ */

static void merge_seen(struct rec_rule *r, const struct seg_edge *x)
{
	r->flows += x->flows;
	r->bytes += x->bytes;
	if (!r->first || x->first_seen < r->first)
		r->first = x->first_seen;
	if (x->last_seen > r->last)
		r->last = x->last_seen;
}

static int add_port(struct rec_rule *r, uint8_t proto, uint16_t port)
{
	struct rec_port *v;

	for (size_t i = 0; i < r->n_ports; i++)
		if (r->ports[i].proto == proto && r->ports[i].port == port)
			return 0;
	v = realloc(r->ports, (r->n_ports + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->ports = v;
	r->ports[r->n_ports++] = (struct rec_port){ proto, port };
	return 0;
}

static int new_rule(struct rec_policy *p, int dir, struct rec_rule **out)
{
	struct rec_rule *v = realloc(p->rules[dir], (p->n_rules[dir] + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->rules[dir] = v;
	*out = &v[p->n_rules[dir]++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* The rule of p for a workload peer or the host, made when new. */
static int peer_rule(const struct builder *b, struct rec_policy *p, const struct seg_edge *x,
		     struct rec_rule **out)
{
	struct rec_rule want = { .kind = x->remote_kind == SEG_EDGE_HOST ? REC_HOST :
					 REC_WORKLOAD };
	int dir = x->dir, ret;

	*out = NULL;
	if (want.kind == REC_WORKLOAD) {
		const char *lab = split_workload(seg_edges_string(b->e, x->remote),
						 want.ns, sizeof(want.ns));

		ret = choose_selector(b, want.ns, lab, &want.sel);
		if (ret)
			return ret;     /* 1: a peer without labels, not expressible */
	}
	for (size_t i = 0; i < p->n_rules[dir]; i++) {
		struct rec_rule *r = &p->rules[dir][i];

		if (r->kind == want.kind && !strcmp(r->ns, want.ns) &&
		    !strcmp(r->sel.text, want.sel.text)) {
			sel_free(&want.sel);
			*out = r;
			return 0;
		}
	}
	ret = new_rule(p, dir, out);
	if (ret) {
		sel_free(&want.sel);
		return ret;
	}
	**out = want;
	return 0;
}

/* ---- outside addresses, merged into prefixes ---------------------------------- */

static bool is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

/* a's prefix of length plen (in IPv6 bits) and its last address */
static void block_of(const struct in6_addr *a, int plen, struct in6_addr *lo,
		     struct in6_addr *hi)
{
	for (int i = 0; i < 16; i++) {
		int bits = plen - i * 8;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		lo->s6_addr[i] = a->s6_addr[i] & mask;
		hi->s6_addr[i] = (uint8_t)(lo->s6_addr[i] | (uint8_t)~mask);
	}
}

static int edge_addr_cmp(const void *a, const void *b)
{
	const struct seg_edge *x = *(const struct seg_edge *const *)a;
	const struct seg_edge *y = *(const struct seg_edge *const *)b;
	int c = memcmp(&x->addr, &y->addr, sizeof(x->addr));

	return c ? c : x->proto != y->proto ? x->proto - y->proto : x->port - y->port;
}

static void add_name(struct rec_rule *r, const char *name)
{
	size_t n = strlen(r->names);

	if (!*name || strstr(r->names, name))
		return;
	snprintf(r->names + n, sizeof(r->names) - n, "%s%s", n ? ", " : "", name);
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

static int build_endpoint_addrs(struct builder *b, const struct seg_world *w)
{
	size_t n = 0;

	for (size_t i = 0; w && i < w->n_endpoints; i++)
		n += w->endpoints[i].n_ips;
	b->ep_addrs = calloc(n + 1, sizeof(*b->ep_addrs));
	if (!b->ep_addrs)
		return -ENOMEM;
	for (size_t i = 0; w && i < w->n_endpoints; i++)
		for (size_t j = 0; j < w->endpoints[i].n_ips; j++)
			b->ep_addrs[b->n_ep_addrs++] = w->endpoints[i].ips[j];
	if (b->n_ep_addrs)
		qsort(b->ep_addrs, b->n_ep_addrs, sizeof(*b->ep_addrs), addr_cmp);
	return 0;
}

/* Drop from v the addresses an endpoint holds now: learned before segd
 * knew the pod (another node's, before its labels came), they would be a
 * pod address in a policy. Returns how many are left. */
static size_t drop_endpoint_addrs(const struct builder *b, struct rec_ns *ns,
				  const struct seg_edge **v, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (b->n_ep_addrs && bsearch(&v[i]->addr, b->ep_addrs, b->n_ep_addrs,
					     sizeof(*b->ep_addrs), addr_cmp)) {
			ns->endpoint_addrs++;
			continue;
		}
		v[kept++] = v[i];
	}
	return kept;
}

/* Ingress from the outside world: clients seen from at least
 * world_min_addrs addresses in world_min_nets networks (/16, /32 for
 * IPv6) make one `world` peer instead of a rule per client. v is sorted. */
static int world_rule(const struct builder *b, struct rec_policy *p,
		      const struct seg_edge **v, size_t n, bool *made)
{
	size_t addrs = 0, nets = 0;
	struct rec_rule *r;
	int ret;

	*made = false;
	for (size_t i = 0; i < n; i++) {
		const struct in6_addr *a = &v[i]->addr, *prev = i ? &v[i - 1]->addr : NULL;
		size_t net = is_v4(a) ? 14 : 4;         /* bytes of a /16 or /32 */

		addrs += !prev || memcmp(a, prev, sizeof(*a));
		nets += !prev || memcmp(a, prev, net);
	}
	if (addrs < b->o->world_min_addrs || nets < b->o->world_min_nets)
		return 0;
	if ((ret = new_rule(p, SEGD_DIR_INGRESS, &r)))
		return ret;
	r->kind = REC_WORLD;
	r->n_addrs = addrs;
	r->n_nets = nets;
	for (size_t i = 0; i < n; i++) {
		if ((ret = add_port(r, v[i]->proto, v[i]->port)))
			return ret;
		merge_seen(r, v[i]);
	}
	*made = true;
	return 0;
}

/* Rules for the outside edges v[0..n) (one workload, one direction):
 * from each address not yet covered, the largest aligned block (down to
 * /16 or /48) of which at least `share` was seen becomes one peer. */
static int outside_rules(const struct builder *b, struct rec_policy *p, int dir,
			 const struct seg_edge **v, size_t n, double share)
{
	struct in6_addr covered_hi;
	bool any = false;
	size_t i = 0;
	int ret;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), edge_addr_cmp);
	if (dir == SEGD_DIR_INGRESS) {
		bool world;

		if ((ret = world_rule(b, p, v, n, &world)) || world)
			return ret;
	}
	while (i < n) {
		bool v4 = is_v4(&v[i]->addr);
		int width = v4 ? 32 : 128, base = 128 - width;
		int min_plen = base + (v4 ? 16 : 48);
		struct in6_addr lo, hi;
		struct rec_rule *r = NULL;
		size_t end = i + 1, addrs = 1;

		for (int plen = min_plen; plen <= 128; plen++) {
			size_t j = i, distinct = 0;

			block_of(&v[i]->addr, plen, &lo, &hi);
			if (any && memcmp(&lo, &covered_hi, sizeof(lo)) <= 0)
				continue;       /* would reach back over a block made */
			for (; j < n && memcmp(&v[j]->addr, &hi, sizeof(hi)) <= 0; j++)
				distinct += j == i || memcmp(&v[j]->addr, &v[j - 1]->addr,
							     sizeof(v[j]->addr)) != 0;
			/* one address is no aggregate, whatever the share */
			if ((plen == 128 || distinct >= 2) &&
			    (double)distinct >= share * ldexp(1.0, 128 - plen)) {
				ret = new_rule(p, dir, &r);
				if (ret)
					return ret;
				r->kind = REC_CIDR;
				memcpy(&r->cidr.addr, &lo, sizeof(lo));
				r->cidr.plen = (uint8_t)plen;
				end = j;
				addrs = distinct;
				break;
			}
		}
		if (!r)
			return -EINVAL;    /* a /128 always qualifies: share <= 1 */
		r->n_addrs = addrs;
		for (size_t k = i; k < end; k++) {
			if ((ret = add_port(r, v[k]->proto, v[k]->port)))
				return ret;
			merge_seen(r, v[k]);
			add_name(r, seg_edges_string(b->e, v[k]->name));
		}
		covered_hi = hi;
		any = true;
		i = end;
	}
	return 0;
}

/* ---- policies ------------------------------------------------------------------ */

static int edge_cmp(const void *a, const void *b, void *ctx)
{
	const struct seg_edges *e = ctx;
	const struct seg_edge *x = *(const struct seg_edge *const *)a;
	const struct seg_edge *y = *(const struct seg_edge *const *)b;
	int c = strcmp(seg_edges_string(e, x->local), seg_edges_string(e, y->local));

	if (c)
		return c;
	if (x->dir != y->dir)
		return x->dir - y->dir;
	if (x->remote_kind != y->remote_kind)
		return x->remote_kind - y->remote_kind;
	c = strcmp(seg_edges_string(e, x->remote), seg_edges_string(e, y->remote));
	if (c)
		return c;
	c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if (c)
		return c;
	return x->proto != y->proto ? x->proto - y->proto : x->port - y->port;
}

static bool wanted(const struct builder *b, const struct seg_edge *x)
{
	char ns[64];

	if (b->o->since && x->last_seen < b->o->since)
		return false;
	if (!b->o->n_namespaces)
		return true;
	seg_edge_ns(seg_edges_string(b->e, x->local), ns, sizeof(ns));
	for (size_t i = 0; i < b->o->n_namespaces; i++)
		if (!strcmp(ns, b->o->namespaces[i]))
			return true;
	return false;
}

static struct rec_ns *ns_of(struct rec_model *m, const char *name)
{
	struct rec_ns *v;

	if (m->n_nss && !strcmp(m->nss[m->n_nss - 1].name, name))
		return &m->nss[m->n_nss - 1];
	v = realloc(m->nss, (m->n_nss + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->nss = v;
	memset(&v[m->n_nss], 0, sizeof(v[0]));
	snprintf(v[m->n_nss].name, sizeof(v[0].name), "%s", name);
	return &v[m->n_nss++];
}

/* "learned-" and the selector's values, as a DNS-1123 name, unique in ns */
static void policy_name(struct rec_ns *n, struct rec_policy *p)
{
	char base[100] = "learned";
	size_t off = strlen(base);

	for (size_t i = 0; i < p->subject.labels.n && off + 2 < sizeof(base); i++) {
		const char *v = p->subject.labels.v[i].value;

		base[off++] = '-';
		for (; *v && off + 1 < sizeof(base); v++) {
			char c = (*v >= 'A' && *v <= 'Z') ? (char)(*v - 'A' + 'a') : *v;

			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
				base[off++] = c;
			else if (base[off - 1] != '-')  /* one '-' for any run */
				base[off++] = '-';
		}
	}
	while (off > 7 && base[off - 1] == '-')
		off--;
	base[off] = '\0';
	snprintf(p->name, sizeof(p->name), "%s", base);
	for (unsigned int k = 2;; k++) {
		bool taken = !strcmp(p->name, "learned-default-deny");

		for (size_t i = 0; i < n->n_pols && !taken; i++)
			taken = &n->pols[i] != p && !strcmp(n->pols[i].name, p->name);
		if (!taken)
			return;
		snprintf(p->name, sizeof(p->name), "%s-%u", base, k);
	}
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rec_rule *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if ((c = strcmp(x->ns, y->ns)) || (c = strcmp(x->sel.text, y->sel.text)))
		return c;
	return memcmp(&x->cidr.addr, &y->cidr.addr, sizeof(x->cidr.addr)) ?:
	       x->cidr.plen - y->cidr.plen;
}

static int port_cmp(const void *a, const void *b)
{
	const struct rec_port *x = a, *y = b;

	return x->proto != y->proto ? x->proto - y->proto : x->port - y->port;
}

/* The policy of one workload from its edges v[0..n) (sorted by edge_cmp). */
static int workload_policy(struct builder *b, struct rec_ns *ns, const char *labels,
			   const struct seg_edge **v, size_t n)
{
	struct rec_policy *p, *pols;
	const struct seg_edge **outside = calloc(n, sizeof(*outside));
	int ret = 0;

	if (!outside)
		return -ENOMEM;
	pols = realloc(ns->pols, (ns->n_pols + 1) * sizeof(*pols));
	if (!pols) {
		free(outside);
		return -ENOMEM;
	}
	ns->pols = pols;
	p = &pols[ns->n_pols++];
	memset(p, 0, sizeof(*p));
	snprintf(p->ns, sizeof(p->ns), "%s", ns->name);
	ret = choose_selector(b, ns->name, labels, &p->subject);
	/* per direction: egress edges follow the ingress ones (edge_cmp) */
	for (int dir = 0; dir < 2 && !ret; dir++) {
		size_t n_out = 0;

		for (size_t i = 0; i < n; i++) {
			struct rec_rule *r;

			if (v[i]->dir != dir)
				continue;
			p->flows += v[i]->flows;
			if (v[i]->remote_kind == SEG_EDGE_OUTSIDE) {
				outside[n_out++] = v[i];
				continue;
			}
			ret = peer_rule(b, p, v[i], &r);
			if (ret == 1) {
				ns->unlabelled++;
				ret = 0;
				continue;
			}
			if (ret || (ret = add_port(r, v[i]->proto, v[i]->port)))
				break;
			merge_seen(r, v[i]);
		}
		n_out = drop_endpoint_addrs(b, ns, outside, n_out);
		if (!ret)
			ret = outside_rules(b, p, dir, outside, n_out,
					    b->o->aggregate_share);
	}
	for (int dir = 0; dir < 2 && !ret; dir++) {
		if (p->n_rules[dir])    /* qsort wants an array, even of nothing */
			qsort(p->rules[dir], p->n_rules[dir], sizeof(*p->rules[dir]),
			      rule_cmp);
		for (size_t i = 0; i < p->n_rules[dir]; i++)
			qsort(p->rules[dir][i].ports, p->rules[dir][i].n_ports,
			      sizeof(struct rec_port), port_cmp);
	}
	if (!ret)
		policy_name(ns, p);
	free(outside);
	return ret;
}

static void model_free(struct rec_model *m)
{
	for (size_t i = 0; i < m->n_nss; i++) {
		for (size_t j = 0; j < m->nss[i].n_pols; j++) {
			struct rec_policy *p = &m->nss[i].pols[j];

			sel_free(&p->subject);
			for (int d = 0; d < 2; d++) {
				for (size_t k = 0; k < p->n_rules[d]; k++) {
					sel_free(&p->rules[d][k].sel);
					free(p->rules[d][k].ports);
				}
				free(p->rules[d]);
			}
		}
		free(m->nss[i].pols);
	}
	free(m->nss);
}

static int build(struct builder *b, const struct seg_edge **v, size_t n)
{
	size_t i = 0;
	int ret = 0;

	qsort_r(v, n, sizeof(*v), edge_cmp, (void *)b->e);
	while (i < n && !ret) {
		const char *w = seg_edges_string(b->e, v[i]->local);
		char nsname[64];
		const char *labels = split_workload(w, nsname, sizeof(nsname));
		struct rec_ns *ns = ns_of(b->m, nsname);
		size_t j = i;

		while (j < n && v[j]->local == v[i]->local)
			j++;
		if (!ns)
			return -ENOMEM;
		if (!*labels)
			ns->unlabelled += j - i;
		else
			ret = workload_policy(b, ns, labels, v + i, j - i);
		i = j;
	}
	return ret;
}

int seg_recommend(const struct seg_edges *e, const struct seg_world *w,
		  const struct seg_rec_opts *o, char **text, size_t *len,
		  struct seg_rec_summary *sum, struct seg_error *err)
{
	struct seg_rec_opts opts = *o;
	struct rec_model m = { 0 };
	struct builder b = { .e = e, .o = &opts, .m = &m };
	const struct seg_edge **v = NULL;
	size_t n = 0;
	int ret;

	if (!opts.aggregate_share)
		opts.aggregate_share = SEG_REC_DEFAULT_SHARE;
	if (!(opts.aggregate_share > 0 && opts.aggregate_share <= 1))
		return seg_errorf(err, NULL, 0, 0, -EINVAL, "the aggregate share must be "
				  "above 0 and at most 1 (0.5: a prefix is used when half of "
				  "its addresses were seen)");
	memset(sum, 0, sizeof(*sum));
	if (!opts.world_min_addrs)
		opts.world_min_addrs = SEG_REC_DEFAULT_WORLD_ADDRS;
	if (!opts.world_min_nets)
		opts.world_min_nets = SEG_REC_DEFAULT_WORLD_NETS;
	ret = build_universe(&b, w);
	if (!ret)
		ret = build_endpoint_addrs(&b, w);
	if (ret)
		goto out;
	v = calloc(seg_edges_count(e) + 1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < seg_edges_count(e); i++)
		if (wanted(&b, seg_edges_at(e, i)))
			v[n++] = seg_edges_at(e, i);
	m.n_edges = n;
	ret = build(&b, v, n);
	if (!ret)
		ret = rec_write_yaml(&m, &opts, text, len, sum);
out:
	model_free(&m);
	free(v);
	for (size_t i = 0; i < b.n_known; i++)
		seg_labels_free(&b.known[i].labels);
	free(b.known);
	for (size_t i = 0; i < b.n_owned; i++)
		free(b.owned[i]);
	free(b.owned);
	free(b.ep_addrs);
	return ret;
}
