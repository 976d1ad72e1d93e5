/* test_compiler.c - the pure compiler (daemon/compiler.c), worlds built in C.
 *
 * seg_compiled_decide() mirrors the datapath and is the oracle: flows are
 * checked end to end (egress of the source endpoint, then ingress of the
 * destination endpoint) over tables of (from, to, proto, port, verdict).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define SCTP IPPROTO_SCTP
#define ING SEGD_DIR_INGRESS
#define EGR SEGD_DIR_EGRESS
#define A SEGD_VERDICT_ALLOW
#define D SEGD_VERDICT_DENY

/* ---- world builder ------------------------------------------------------ */

#define MAX_EPS 2048
#define MAX_POLS 64
#define MAX_RULES 16
#define MAX_PEERS 8
#define MAX_PORTS 8

static struct seg_world W;

static void w_init(void)
{
	memset(&W, 0, sizeof(W));
	W.endpoints = calloc(MAX_EPS, sizeof(*W.endpoints));
	W.policies = calloc(MAX_POLS, sizeof(*W.policies));
	W.namespaces = calloc(16, sizeof(*W.namespaces));
	W.host_ips = calloc(4, sizeof(*W.host_ips));
}

static void w_fini(void)
{
	for (size_t i = 0; i < W.n_endpoints; i++)
		seg_endpoint_free(&W.endpoints[i]);
	for (size_t i = 0; i < W.n_policies; i++)
		seg_policy_free(&W.policies[i]);
	for (size_t i = 0; i < W.n_namespaces; i++)
		seg_namespace_free(&W.namespaces[i]);
	free(W.endpoints);
	free(W.policies);
	free(W.namespaces);
	free(W.host_ips);
	memset(&W, 0, sizeof(W));
}

static struct in6_addr ip(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(seg_addr_parse(s, &a), 0, "bad address %s", s);
	return a;
}

static void ns(const char *name, const char *labels)
{
	struct seg_namespace *n = &W.namespaces[W.n_namespaces++];

	n->name = strdup(name);
	cr_assert_eq(seg_labels_parse(labels, &n->labels, NULL), 0);
	cr_assert_eq(seg_labels_set(&n->labels, "kubernetes.io/metadata.name",
				    name), 0);
}

static struct seg_endpoint *ep(const char *nsn, const char *name,
			       const char *labels, const char *ip1,
			       const char *ip2)
{
	struct seg_endpoint *e = &W.endpoints[W.n_endpoints++];

	e->ns = strdup(nsn);
	e->name = strdup(name);
	cr_assert_eq(seg_labels_parse(labels, &e->labels, NULL), 0, "%s", labels);
	e->ips[e->n_ips++] = ip(ip1);
	if (ip2)
		e->ips[e->n_ips++] = ip(ip2);
	e->ifindex = 100 + (uint32_t)W.n_endpoints;
	e->endpoint_id = (uint32_t)W.n_endpoints;
	snprintf(e->ifname, sizeof(e->ifname), "veth%zu", W.n_endpoints);
	return e;
}

/* Selector mini-language: "k=v" In, "k in a|b", "k notin a|b", "k" Exists,
 * "!k" DoesNotExist; requirements separated by ','. "" = match all. */
static void sel(struct seg_selector *s, const char *spec)
{
	char *dup = strdup(spec), *save = NULL;

	memset(s, 0, sizeof(*s));
	s->reqs = calloc(8, sizeof(*s->reqs));
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct seg_sel_req *r = &s->reqs[s->n_reqs++];
		char *sp = strchr(t, ' '), *eq = strchr(t, '=');
		char *vals = NULL;

		if (t[0] == '!') {
			r->key = strdup(t + 1);
			r->op = SEG_SEL_DOES_NOT_EXIST;
		} else if (eq) {
			r->key = strndup(t, (size_t)(eq - t));
			r->op = SEG_SEL_IN;
			vals = eq + 1;
		} else if (sp) {
			r->key = strndup(t, (size_t)(sp - t));
			r->op = !strncmp(sp + 1, "in ", 3) ? SEG_SEL_IN : SEG_SEL_NOT_IN;
			vals = strchr(sp + 1, ' ') + 1;
		} else {
			r->key = strdup(t);
			r->op = SEG_SEL_EXISTS;
		}
		if (vals) {
			char *vs = NULL;

			r->values = calloc(8, sizeof(char *));
			for (char *v = strtok_r(vals, "|", &vs); v;
			     v = strtok_r(NULL, "|", &vs))
				r->values[r->n_values++] = strdup(v);
		}
	}
	free(dup);
}

static struct seg_policy *pol(const char *nsn, const char *name,
			      const char *subject, bool ing, bool egr)
{
	struct seg_policy *p = &W.policies[W.n_policies++];

	p->kind = SEG_KIND_SEGMENT;
	p->ns = strdup(nsn);
	p->name = strdup(name);
	sel(&p->subject, subject);
	p->enforce[ING] = ing;
	p->enforce[EGR] = egr;
	p->rules = calloc(MAX_RULES, sizeof(*p->rules));
	return p;
}

static struct seg_rule *rule(struct seg_policy *p, int dir, enum seg_action act)
{
	struct seg_rule *r = &p->rules[p->n_rules++];

	r->action = act;
	r->dir = dir;
	r->name = strdup("");
	r->peers = calloc(MAX_PEERS, sizeof(*r->peers));
	r->ports = calloc(MAX_PORTS, sizeof(*r->ports));
	r->all_ports = true;
	return r;
}

static struct seg_rule *allow(struct seg_policy *p, int dir)
{
	return rule(p, dir, SEG_ACTION_ALLOW);
}

static struct seg_rule *deny(struct seg_policy *p, int dir)
{
	return rule(p, dir, SEG_ACTION_DENY);
}

static void pods(struct seg_rule *r, const char *podsel, const char *nssel)
{
	struct seg_peer *pe = &r->peers[r->n_peers++];

	pe->kind = SEG_PEER_ENDPOINTS;
	sel(&pe->pods, podsel);
	if (nssel) {
		pe->has_namespaces = true;
		sel(&pe->namespaces, nssel);
	}
}

static void cidr(struct seg_rule *r, const char *c, const char *ex1,
		 const char *ex2)
{
	struct seg_peer *pe = &r->peers[r->n_peers++];

	pe->kind = SEG_PEER_CIDR;
	cr_assert_eq(seg_cidr_parse(c, &pe->cidr, NULL), 0, "%s", c);
	pe->except = calloc(2, sizeof(*pe->except));
	if (ex1)
		cr_assert_eq(seg_cidr_parse(ex1, &pe->except[pe->n_except++], NULL), 0);
	if (ex2)
		cr_assert_eq(seg_cidr_parse(ex2, &pe->except[pe->n_except++], NULL), 0);
}

static void peer(struct seg_rule *r, enum seg_peer_kind k)
{
	r->peers[r->n_peers++].kind = k;
}

static void port(struct seg_rule *r, uint8_t proto, uint16_t lo, uint16_t hi)
{
	r->all_ports = false;
	r->ports[r->n_ports++] = (struct seg_port){ proto, lo, hi ? hi : lo };
}

/* ---- compile and oracle ------------------------------------------------- */

static struct seg_compiled C;

static void compile(void)
{
	struct seg_error err = { 0 };
	int rc;

	seg_compiled_free(&C);
	rc = seg_compile(&W, &C, &err);
	cr_assert_eq(rc, 0, "compile: %d %s", rc, err.msg);
}

static void fini(void)
{
	seg_compiled_free(&C);
	w_fini();
}

static const struct seg_ipc_exact_entry *exact_of(const char *addr)
{
	struct in6_addr a = ip(addr);

	for (size_t i = 0; i < C.n_exact; i++)
		if (!memcmp(&C.exact[i].addr, &a, 16))
			return &C.exact[i];
	return NULL;
}

static uint32_t id_of(const char *addr)
{
	struct in6_addr a = ip(addr);

	return seg_compiled_identity_of(&C, &a);
}

/* A flow from src to dst as the two hooks see it: egress at src (if it is
 * a local endpoint), then ingress at dst (if local). */
static enum segd_verdict flow(const char *src, const char *dst, uint8_t proto,
			      uint16_t dport)
{
	const struct seg_ipc_exact_entry *s = exact_of(src), *d = exact_of(dst);
	uint32_t rid;

	if (s && (s->value.flags & SEGD_EPF_LOCAL) &&
	    seg_compiled_decide(&C, s->value.identity, id_of(dst), EGR, proto,
				dport, &rid) != A)
		return D;
	if (d && (d->value.flags & SEGD_EPF_LOCAL) &&
	    seg_compiled_decide(&C, d->value.identity, id_of(src), ING, proto,
				dport, &rid) != A)
		return D;
	return A;
}

struct fcase {
	const char *src, *dst;
	uint8_t proto;
	uint16_t port;
	enum segd_verdict want;
};

static void check_flows(const struct fcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum segd_verdict v = flow(t[i].src, t[i].dst, t[i].proto, t[i].port);

		cr_expect_eq(v, t[i].want, "row %zu: %s -> %s proto %u port %u: "
			     "got %s want %s", i, t[i].src, t[i].dst, t[i].proto,
			     t[i].port, v == A ? "ALLOW" : "DENY",
			     t[i].want == A ? "ALLOW" : "DENY");
	}
}
#define CHECK(...) do { \
	static const struct fcase t_[] = { __VA_ARGS__ }; \
	check_flows(t_, sizeof(t_) / sizeof(t_[0])); \
} while (0)

static uint32_t flags_of(const char *addr)
{
	const struct seg_ipc_exact_entry *e = exact_of(addr);

	cr_assert_not_null(e, "%s not in exact ipcache", addr);
	return e->value.flags;
}

/* a small two-namespace world used by several tests */
static void base_world(void)
{
	w_init();
	ns("prod", "env=prod");
	ns("dev", "env=dev");
	ep("prod", "web-1", "app=web", "10.200.0.1", NULL);
	ep("prod", "web-2", "app=web", "10.200.0.2", NULL);
	ep("prod", "db-1", "app=db", "10.200.0.3", "fd00:200::3");
	ep("prod", "cache", "app=cache,tier=be", "10.200.0.4", NULL);
	ep("dev", "web-d", "app=web", "10.200.1.1", NULL);
	ep("dev", "tool", "app=tool", "10.200.1.2", NULL);
	ep("other", "x", "app=x", "10.200.2.1", NULL);   /* unlisted namespace */
	W.host_ips[W.n_host_ips++] = ip("10.200.255.1");
}

/* ---- identities ----------------------------------------------------------- */

Test(compiler, identities_shared_and_stable, .fini = fini)
{
	uint32_t web, web2, db, webd;

	base_world();
	compile();
	web = id_of("10.200.0.1");
	web2 = id_of("10.200.0.2");
	db = id_of("10.200.0.3");
	webd = id_of("10.200.1.1");
	cr_assert_eq(web, web2, "same ns+labels share an identity");
	cr_assert_neq(web, db);
	cr_assert_neq(web, webd, "same labels, other namespace");
	cr_assert_eq(id_of("fd00:200::3"), db);
	cr_assert_geq(web, SEGD_ID_FIRST_ENDPOINT);
	cr_assert_leq(web, SEGD_ID_LAST_ENDPOINT);
	cr_assert_eq(id_of("10.200.255.1"), SEGD_ID_HOST);
	cr_assert_eq(id_of("203.0.113.9"), SEGD_ID_WORLD);
	cr_assert_eq(id_of("2001:db8::9"), SEGD_ID_WORLD_V6);
	for (size_t i = 1; i < C.n_identities; i++)
		cr_assert_lt(C.identities[i - 1].id, C.identities[i].id);
	cr_assert_eq(C.n_identities, 3 + 6);

	/* compile again: identical output */
	{
		struct seg_compiled c1 = C;

		memset(&C, 0, sizeof(C));
		compile();
		cr_assert_eq(c1.n_identities, C.n_identities);
		cr_assert_eq(c1.n_exact, C.n_exact);
		cr_assert_eq(memcmp(c1.exact, C.exact, C.n_exact * sizeof(*C.exact)), 0);
		for (size_t i = 0; i < C.n_identities; i++) {
			cr_assert_eq(c1.identities[i].id, C.identities[i].id);
			cr_assert_str_eq(c1.identities[i].key, C.identities[i].key);
		}
		seg_compiled_free(&c1);
	}
	/* reverse the endpoint order: same ids */
	for (size_t i = 0; i < W.n_endpoints / 2; i++) {
		struct seg_endpoint t = W.endpoints[i];

		W.endpoints[i] = W.endpoints[W.n_endpoints - 1 - i];
		W.endpoints[W.n_endpoints - 1 - i] = t;
	}
	compile();
	cr_assert_eq(id_of("10.200.0.1"), web);
	cr_assert_eq(id_of("10.200.0.3"), db);
	cr_assert_eq(id_of("10.200.1.1"), webd);
}

Test(compiler, identity_key_format, .fini = fini)
{
	bool found = false;

	base_world();
	compile();
	for (size_t i = 0; i < C.n_identities; i++)
		if (!strcmp(C.identities[i].key, "ep:prod\napp=cache\ntier=be\n"))
			found = true;
	cr_assert(found);
}

Test(compiler, duplicate_ip_names_both, .fini = fini)
{
	struct seg_error err = { 0 };

	base_world();
	ep("dev", "dup", "app=zz", "10.200.0.3", NULL);
	cr_assert_eq(seg_compile(&W, &C, &err), -EINVAL);
	cr_assert(strstr(err.msg, "prod/db-1") && strstr(err.msg, "dev/dup"),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "10.200.0.3"), "%s", err.msg);
	cr_assert_eq(C.n_identities, 0);
}

Test(compiler, exact_entries, .fini = fini)
{
	const struct seg_ipc_exact_entry *e;

	base_world();
	compile();
	cr_assert_eq(C.n_exact, 9);
	e = exact_of("10.200.0.3");
	cr_assert_eq(e->value.ifindex, 103);
	cr_assert_eq(e->value.endpoint_id, 3);
	cr_assert(e->value.flags & SEGD_EPF_LOCAL);
	e = exact_of("10.200.255.1");
	cr_assert_eq(e->value.identity, SEGD_ID_HOST);
	cr_assert_eq(e->value.flags, 0);
	for (size_t i = 1; i < C.n_exact; i++)
		cr_assert_lt(memcmp(&C.exact[i - 1].addr, &C.exact[i].addr, 16), 0);
	/* always the two world prefixes */
	cr_assert_eq(C.n_prefixes, 2);
}

/* ---- enforcement and K8s semantics --------------------------------------- */

Test(compiler, not_selected_is_allow_all, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "db-ingress", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	compile();
	cr_assert(flags_of("10.200.0.3") & SEGD_EPF_ENFORCE_INGRESS);
	cr_assert_not(flags_of("10.200.0.3") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert_not(flags_of("10.200.0.1") & (SEGD_EPF_ENFORCE_INGRESS |
						SEGD_EPF_ENFORCE_EGRESS));
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, A },
		{ "10.200.0.2", "10.200.0.3", UDP, 53, A },
		{ "10.200.0.4", "10.200.0.3", TCP, 5432, D },   /* default deny */
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, D },   /* web in dev */
		{ "203.0.113.5", "10.200.0.3", TCP, 5432, D },
		{ "10.200.0.3", "10.200.0.4", TCP, 6379, A },   /* egress not enforced */
		{ "10.200.0.3", "203.0.113.5", TCP, 443, A },
		{ "10.200.0.4", "10.200.0.1", TCP, 80, A },     /* web not selected */
		{ "10.200.0.1", "fd00:200::3", TCP, 5432, A },
	);
}

Test(compiler, default_deny_policy, .fini = fini)
{
	struct seg_policy *p;
	uint32_t rid = 99;

	base_world();
	pol("prod", "deny-all", "", true, true);   /* no rules */
	compile();
	cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.1"), id_of("10.200.0.2"),
					 ING, TCP, 80, &rid), D);
	cr_assert_eq(rid, 0);
	CHECK(
		{ "10.200.0.1", "10.200.0.2", TCP, 80, D },
		{ "10.200.1.1", "10.200.1.2", TCP, 80, A },     /* dev untouched */
		{ "10.200.1.1", "10.200.0.1", TCP, 80, D },
		{ "10.200.0.4", "203.0.113.1", UDP, 53, D },
	);
	(void)p;
}

Test(compiler, and_vs_or_peers, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	/* AND: one peer with pod and namespace selectors (web in dev) */
	p = pol("prod", "and", "app=db", true, false);
	pods(allow(p, ING), "app=web", "env=dev");
	/* OR: two peers - tool pods (own ns = prod: none) or any pod in dev */
	p = pol("prod", "or", "app=cache", true, false);
	r = allow(p, ING);
	pods(r, "app=web", NULL);
	pods(r, "", "env=dev");
	compile();
	CHECK(
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, A },   /* web in dev */
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, D },   /* web in prod: not AND */
		{ "10.200.1.2", "10.200.0.3", TCP, 5432, D },   /* tool in dev */
		{ "10.200.0.1", "10.200.0.4", TCP, 6379, A },   /* web in prod (OR 1) */
		{ "10.200.1.2", "10.200.0.4", TCP, 6379, A },   /* anything in dev (OR 2) */
		{ "10.200.1.1", "10.200.0.4", TCP, 6379, A },
		{ "10.200.2.1", "10.200.0.4", TCP, 6379, D },   /* ns other */
	);
}

Test(compiler, namespace_selection_and_unlisted_ns, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	/* select by the automatic namespace label of an unlisted namespace */
	p = pol("prod", "from-other", "app=web", true, false);
	pods(allow(p, ING), "", "kubernetes.io/metadata.name=other");
	/* subject across namespaces: every web pod in env in (prod|dev) */
	p = pol("prod", "web-egress", "app=web", false, true);
	p->has_subject_ns = true;
	sel(&p->subject_namespaces, "env in prod|dev");
	pods(allow(p, EGR), "app=db", "env=prod");
	compile();
	cr_assert(flags_of("10.200.1.1") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert_not(flags_of("10.200.1.1") & SEGD_EPF_ENFORCE_INGRESS);
	cr_assert(flags_of("10.200.0.1") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert(flags_of("10.200.0.1") & SEGD_EPF_ENFORCE_INGRESS);
	CHECK(
		{ "10.200.2.1", "10.200.0.1", TCP, 80, A },
		{ "10.200.1.2", "10.200.0.1", TCP, 80, D },
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, A },
		{ "10.200.1.1", "10.200.0.4", TCP, 6379, D },
		{ "10.200.1.1", "10.200.1.2", TCP, 22, D },
		{ "10.200.0.2", "10.200.0.3", TCP, 5432, A },
	);
}

Test(compiler, selector_ops, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "ops", "app=db", true, false);
	pods(allow(p, ING), "app notin web|db,!tier", NULL);   /* nothing in prod... */
	pods(allow(p, ING), "tier", NULL);                      /* cache */
	compile();
	CHECK(
		{ "10.200.0.4", "10.200.0.3", TCP, 1, A },
		{ "10.200.0.1", "10.200.0.3", TCP, 1, D },
	);
}

Test(compiler, ipblock_except_and_world, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "egress", "app=web", false, true);
	r = allow(p, EGR);
	cidr(r, "203.0.113.0/24", "203.0.113.128/25", "203.0.113.7/32");
	port(r, TCP, 443, 0);
	r = allow(p, EGR);
	cidr(r, "0.0.0.0/0", "10.0.0.0/8", NULL);
	port(r, UDP, 53, 0);
	r = allow(p, EGR);
	cidr(r, "2001:db8::/32", NULL, NULL);
	p = pol("prod", "db-world", "app=db", false, true);
	peer(allow(p, EGR), SEG_PEER_WORLD);
	compile();
	cr_assert_eq(C.n_prefixes, 2 + 5);  /* /24, /25, /32, 10/8, 2001:db8::/32 */
	cr_assert_neq(id_of("203.0.113.200"), id_of("203.0.113.5"));
	CHECK(
		{ "10.200.0.1", "203.0.113.5", TCP, 443, A },
		{ "10.200.0.1", "203.0.113.5", TCP, 80, D },
		{ "10.200.0.1", "203.0.113.7", TCP, 443, D },   /* except /32 */
		{ "10.200.0.1", "203.0.113.200", TCP, 443, D }, /* except /25 */
		{ "10.200.0.1", "198.51.100.1", TCP, 443, D },
		{ "10.200.0.1", "198.51.100.1", UDP, 53, A },   /* 0/0 -> WORLD */
		{ "10.200.0.1", "203.0.113.200", UDP, 53, A },  /* subprefix of 0/0 */
		{ "10.200.0.1", "10.9.9.9", UDP, 53, D },       /* except 10/8 */
		{ "10.200.0.1", "2001:db8::1", UDP, 53, A },
		{ "10.200.0.1", "2001:db9::1", UDP, 53, D },    /* v4 0/0 is not v6 */
		/* CIDR peers never match endpoints (own identities) */
		{ "10.200.0.1", "10.200.0.3", UDP, 53, D },
		/* WORLD: everything unknown, v4 and v6, and every CIDR id */
		{ "10.200.0.3", "8.8.8.8", TCP, 1, A },
		{ "10.200.0.3", "2606:4700::1", TCP, 1, A },
		{ "10.200.0.3", "203.0.113.7", TCP, 1, A },
		{ "10.200.0.3", "10.9.9.9", TCP, 1, A },
		{ "10.200.0.3", "10.200.0.1", TCP, 1, D },      /* endpoint */
		{ "10.200.0.3", "10.200.255.1", TCP, 1, D },    /* host */
	);
}

Test(compiler, v6_zero_is_v6_only, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "v6", "app=web", false, true);
	r = allow(p, EGR);
	cidr(r, "::/0", NULL, NULL);
	r = allow(p, EGR);
	cidr(r, "fd00:abcd::/32", "fd00:abcd:1::/48", NULL);
	port(r, TCP, 22, 0);
	compile();
	CHECK(
		{ "10.200.0.1", "2001:db8::1", TCP, 80, A },
		{ "10.200.0.1", "203.0.113.1", TCP, 80, D },
		{ "10.200.0.1", "fd00:200::3", TCP, 80, D },    /* db endpoint v6 */
		{ "10.200.0.1", "fd00:abcd::1", TCP, 80, A },   /* in ::/0 */
		{ "10.200.0.1", "fd00:abcd:1::1", TCP, 22, A }, /* ::/0 covers */
	);
	seg_compiled_free(&C);
	W.policies[0].rules[0].peers[0].kind = SEG_PEER_HOST;
	compile();
	CHECK(
		{ "10.200.0.1", "fd00:abcd::1", TCP, 22, A },
		{ "10.200.0.1", "fd00:abcd:1::1", TCP, 22, D },
		{ "10.200.0.1", "fd00:abcd::1", TCP, 23, D },
		{ "10.200.0.1", "10.200.255.1", TCP, 23, A },   /* host peer */
	);
}

/* ---- deny beats allow ------------------------------------------------------ */

Test(compiler, deny_beats_allow_same_key, .fini = fini)
{
	struct seg_policy *p;
	uint32_t rid;

	base_world();
	p = pol("prod", "b-allow", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	p = pol("prod", "a-deny", "app=db", true, false);
	pods(deny(p, ING), "app=web", NULL);
	compile();
	CHECK({ "10.200.0.1", "10.200.0.3", TCP, 5432, D });
	/* rule ids follow (ns, name): a-deny is rule 1 */
	cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.3"), id_of("10.200.0.1"),
					 ING, TCP, 1, &rid), D);
	cr_assert_eq(rid, 1);
	cr_assert_str_eq(C.rules[0].policy_name, "a-deny");
	cr_assert_eq(C.rules[0].rule_id, 1);
	cr_assert_str_eq(C.rules[1].policy_name, "b-allow");
}

Test(compiler, deny_wildcards_across_policies, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	/* deny any remote port 22 vs allow web all ports */
	p = pol("prod", "allow-web", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	p = pol("prod", "deny-ssh", "app=db", true, false);
	r = deny(p, ING);
	r->all_peers = true;
	port(r, TCP, 22, 0);
	/* deny proto-any from cache vs allow cache TCP 80 */
	p = pol("prod", "allow-cache-80", "app=db", true, false);
	r = allow(p, ING);
	pods(r, "app=cache", NULL);
	port(r, TCP, 80, 0);
	port(r, UDP, 1000, 3000);
	p = pol("prod", "deny-cache", "app=db", true, false);
	pods(deny(p, ING), "app=cache", NULL);
	/* deny range vs allow exact */
	p = pol("dev", "allow-tool", "app=web", true, false);
	r = allow(p, ING);
	pods(r, "app=tool", NULL);
	port(r, TCP, 8080, 0);
	port(r, TCP, 9000, 0);
	port(r, TCP, 1, 65535);
	p = pol("dev", "deny-range", "app=web", true, false);
	r = deny(p, ING);
	pods(r, "app=tool", NULL);
	port(r, TCP, 8000, 8999);
	port(r, 0, 512, 767);
	compile();
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 22, D },
		{ "10.200.0.1", "10.200.0.3", TCP, 23, A },
		{ "10.200.0.1", "10.200.0.3", UDP, 22, A },
		{ "10.200.0.4", "10.200.0.3", TCP, 80, D },
		{ "10.200.0.4", "10.200.0.3", UDP, 2000, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8080, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8000, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8999, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 7999, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 9000, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 600, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 511, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 768, A },
		{ "10.200.1.2", "10.200.1.1", UDP, 600, D },     /* not allowed anyway */
		{ "10.200.1.2", "10.200.1.1", TCP, 65535, A },
	);
}

/* Exhaustive oracle: the compiled first-hit chain equals "any matching deny
 * wins, else any matching allow, else default deny" for random rule sets. */
struct mrule {
	bool deny;
	int remote;        /* -1 = any, else index into remotes */
	uint8_t proto;     /* 0 = any */
	uint16_t lo, hi;   /* 0 = any port */
};

static bool mrule_matches(const struct mrule *m, int remote, uint8_t proto,
			  uint16_t port)
{
	if (m->remote >= 0 && m->remote != remote)
		return false;
	if (m->lo) {
		if (!proto ? false : (m->proto ? m->proto != proto :
				      proto != TCP && proto != UDP && proto != SCTP))
			return false;
		return port >= m->lo && port <= m->hi;
	}
	return !m->proto || m->proto == proto;
}

Test(compiler, deny_beats_allow_randomised, .fini = fini)
{
	static const char *remotes[] = { "10.200.0.1", "10.200.0.4", "203.0.113.9" };
	static const uint8_t protos[] = { TCP, UDP, SCTP, IPPROTO_ICMP };
	static const uint16_t ports[] = { 1, 22, 80, 255, 256, 300, 511, 512,
					  1023, 1024, 8080, 65535 };
	unsigned seed = 12345;

	for (int round = 0; round < 40; round++) {
		struct mrule m[8];
		int n = 2 + (int)(rand_r(&seed) % 6);
		struct seg_policy *p;

		base_world();
		p = pol("prod", "p", "app=db", true, false);
		for (int i = 0; i < n; i++) {
			struct seg_rule *r;
			int kind = (int)(rand_r(&seed) % 4);

			m[i].deny = rand_r(&seed) % 3 == 0;
			m[i].remote = (int)(rand_r(&seed) % 4) - 1;
			m[i].proto = (uint8_t[]){ 0, TCP, UDP, 0 }[rand_r(&seed) % 4];
			m[i].lo = m[i].hi = 0;
			if (kind == 1) {
				m[i].lo = m[i].hi = ports[rand_r(&seed) % 12];
			} else if (kind >= 2) {
				m[i].lo = ports[rand_r(&seed) % 12];
				m[i].hi = ports[rand_r(&seed) % 12];
				if (m[i].hi < m[i].lo) {
					uint16_t t = m[i].lo;

					m[i].lo = m[i].hi;
					m[i].hi = t;
				}
			}
			r = rule(p, ING, m[i].deny ? SEG_ACTION_DENY : SEG_ACTION_ALLOW);
			if (m[i].remote < 0)
				r->all_peers = true;
			else if (m[i].remote == 0)
				pods(r, "app=web", NULL);
			else if (m[i].remote == 1)
				pods(r, "app=cache", NULL);
			else
				cidr(r, "203.0.113.0/24", NULL, NULL);
			if (m[i].lo || m[i].proto)
				port(r, m[i].proto, m[i].lo, m[i].hi);
		}
		compile();
		for (int ri = 0; ri < 3; ri++)
			for (size_t pi = 0; pi < 4; pi++)
				for (size_t qi = 0; qi < 12; qi++) {
					bool any_deny = false, any_allow = false;

					for (int i = 0; i < n; i++)
						if (mrule_matches(&m[i], ri, protos[pi], ports[qi])) {
							if (m[i].deny)
								any_deny = true;
							else
								any_allow = true;
						}
					cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.3"),
									 id_of(remotes[ri]), ING,
									 protos[pi], ports[qi], NULL),
						     any_deny ? D : any_allow ? A : D,
						     "round %d remote %d proto %u port %u",
						     round, ri, protos[pi], ports[qi]);
				}
		seg_compiled_free(&C);
		w_fini();
	}
}

/* ---- ports and hints --------------------------------------------------- */

struct pcase {
	uint8_t proto;
	uint16_t lo, hi;
	size_t exact, block, any;
};

Test(compiler, port_range_decomposition, .fini = fini)
{
	static const struct pcase t[] = {
		{ TCP, 80, 80, 1, 0, 0 },
		{ TCP, 1, 65535, 255, 255, 0 },
		{ TCP, 256, 511, 0, 1, 0 },
		{ TCP, 255, 512, 2, 1, 0 },
		/* 8000-8191 exact, 8192-8959 three blocks, 8960-8999 exact */
		{ TCP, 8000, 8999, 192 + 40, 3, 0 },
		{ 0, 256, 511, 0, 3, 0 },                      /* tcp, udp, sctp */
		{ UDP, 0, 0, 0, 0, 1 },
		{ 0, 0, 0, 0, 0, 1 },
		{ TCP, 65280, 65535, 0, 1, 0 },
		{ TCP, 65535, 65535, 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct seg_policy *p;
		size_t ex = 0, bl = 0, an = 0, want_ex = t[i].exact;

		base_world();
		p = pol("prod", "p", "app=db", true, false);
		port(allow(p, ING), t[i].proto, t[i].lo, t[i].hi);
		if (!t[i].lo && !t[i].proto)
			p->rules[0].all_ports = true;
		p->rules[0].all_peers = true;
		compile();
		for (size_t e = 0; e < C.n_entries; e++) {
			ex += C.entries[e].key.port_kind == SEGD_PORT_EXACT;
			bl += C.entries[e].key.port_kind == SEGD_PORT_BLOCK;
			an += C.entries[e].key.port_kind == SEGD_PORT_ANY;
		}
		cr_expect_eq(ex, want_ex, "case %zu exact %zu", i, ex);
		cr_expect_eq(bl, t[i].block, "case %zu block %zu", i, bl);
		cr_expect_eq(an, t[i].any, "case %zu any %zu", i, an);
		cr_expect_eq(!!(flags_of("10.200.0.3") & SEGD_EPF_HINT_BLOCK(ING)),
			     bl > 0, "case %zu hint", i);
		cr_expect(flags_of("10.200.0.3") & SEGD_EPF_HINT_ANYREM(ING));
		cr_expect_not(flags_of("10.200.0.3") & SEGD_EPF_HINT_ANYREM(EGR));
		seg_compiled_free(&C);
		w_fini();
	}
}

Test(compiler, entries_sorted_and_flags_copied, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "p", "app=web", true, true);
	pods(allow(p, ING), "", NULL);
	port(allow(p, EGR), TCP, 1000, 2000);
	p->rules[1].all_peers = true;
	compile();
	for (size_t i = 1; i < C.n_entries; i++)
		cr_assert_lt(memcmp(&C.entries[i - 1].key, &C.entries[i].key,
				    sizeof(C.entries[i].key)), 0);
	for (size_t i = 0; i < C.n_identities; i++) {
		if (C.identities[i].id != id_of("10.200.0.1"))
			continue;
		cr_assert_eq(C.identities[i].flags | SEGD_EPF_LOCAL,
			     flags_of("10.200.0.1"));
		cr_assert(C.identities[i].flags & SEGD_EPF_HINT_BLOCK(EGR));
		cr_assert(C.identities[i].flags & SEGD_EPF_HINT_ANYREM(EGR));
		cr_assert_not(C.identities[i].flags & SEGD_EPF_HINT_ANYREM(ING));
	}
	cr_assert_eq(flags_of("10.200.0.2"), flags_of("10.200.0.1"));
}

/* ---- capacity ------------------------------------------------------------ */

Test(compiler, capacity_entries, .fini = fini)
{
	struct seg_error err = { 0 };
	char lbl[32], addr[32];
	struct seg_policy *p;
	struct seg_rule *r;

	w_init();
	/* 1000 identities x 1000 remotes > 524288 */
	for (int i = 0; i < 1000; i++) {
		snprintf(lbl, sizeof(lbl), "app=a%d", i);
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 250, i % 250 + 1);
		ep("default", lbl + 4, lbl, addr, NULL);
	}
	p = pol("default", "big", "", true, false);
	r = allow(p, ING);
	pods(r, "", NULL);
	cr_assert_eq(seg_compile(&W, &C, &err), -E2BIG);
	cr_assert(strstr(err.msg, "524288"), "%s", err.msg);
	cr_assert_eq(C.n_entries, 0);
}

Test(compiler, capacity_rules, .fini = fini)
{
	struct seg_error err = { 0 };
	struct seg_policy *p;

	w_init();
	p = pol("default", "many", "", true, false);
	free(p->rules);
	p->rules = calloc(SEGD_MAX_RULES, sizeof(*p->rules));
	p->n_rules = SEGD_MAX_RULES;
	cr_assert_eq(seg_compile(&W, &C, &err), -E2BIG);
	cr_assert(strstr(err.msg, "65535"), "%s", err.msg);
	p->n_rules = SEGD_MAX_RULES - 1;
	compile();
	cr_assert_eq(C.n_rules, SEGD_MAX_RULES - 1);
	cr_assert_eq(C.rules[C.n_rules - 1].rule_id, SEGD_MAX_RULES - 1);
}

Test(compiler, capacity_exact, .fini = fini)
{
	struct seg_error err = { 0 };
	char name[32], addr[32];

	w_init();
	free(W.endpoints);
	W.endpoints = calloc(SEGD_MAX_IPC_EXACT / 8 + 2, sizeof(*W.endpoints));
	for (int i = 0; i < SEGD_MAX_IPC_EXACT / 8 + 1; i++) {
		struct seg_endpoint *e = &W.endpoints[W.n_endpoints++];

		snprintf(name, sizeof(name), "e%d", i);
		e->name = strdup(name);
		e->ns = strdup("default");
		for (int j = 0; j < 8; j++) {
			snprintf(addr, sizeof(addr), "10.%d.%d.%d", j, i / 256, i % 256);
			e->ips[e->n_ips++] = ip(addr);
		}
	}
	cr_assert_eq(seg_compile(&W, &C, &err), -E2BIG);
	cr_assert(strstr(err.msg, "65536"), "%s", err.msg);
}

Test(compiler, empty_world, .fini = fini)
{
	w_init();
	compile();
	cr_assert_eq(C.n_entries, 0);
	cr_assert_eq(C.n_prefixes, 2);
	cr_assert_eq(C.n_identities, 3);
	cr_assert_eq(seg_compiled_decide(&C, 12345, SEGD_ID_WORLD, ING, TCP, 80,
					 NULL), A);
}

Test(compiler, output_independent_of_input_order, .fini = fini)
{
	struct seg_compiled c1;
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "zeta", "app=db", true, true);
	pods(allow(p, ING), "app=web", NULL);
	r = deny(p, EGR);
	r->all_peers = true;
	port(r, TCP, 25, 0);
	peer(allow(p, EGR), SEG_PEER_WORLD);
	p = pol("dev", "alpha", "", true, false);
	r = allow(p, ING);
	cidr(r, "198.51.100.0/24", NULL, NULL);
	port(r, 0, 1000, 1999);
	compile();
	c1 = C;
	memset(&C, 0, sizeof(C));
	{
		struct seg_policy t = W.policies[0];

		W.policies[0] = W.policies[1];
		W.policies[1] = t;
	}
	compile();
	cr_assert_eq(C.n_entries, c1.n_entries);
	cr_assert_eq(memcmp(C.entries, c1.entries, C.n_entries * sizeof(*C.entries)), 0);
	cr_assert_eq(C.n_prefixes, c1.n_prefixes);
	cr_assert_eq(memcmp(C.prefixes, c1.prefixes, C.n_prefixes * sizeof(*C.prefixes)), 0);
	cr_assert_eq(memcmp(C.exact, c1.exact, C.n_exact * sizeof(*C.exact)), 0);
	cr_assert_str_eq(C.rules[0].policy_ns, "dev");   /* sorted by (ns, name) */
	cr_assert_str_eq(C.rules[1].policy_name, "zeta");
	cr_assert_eq(C.rules[3].rule_index, 2);
	seg_compiled_free(&c1);
	CHECK(
		{ "10.200.0.3", "8.8.8.8", TCP, 25, D },
		{ "10.200.0.3", "8.8.8.8", TCP, 26, A },
		{ "198.51.100.7", "10.200.1.1", UDP, 1500, A },
		{ "198.51.100.7", "10.200.1.1", IPPROTO_ICMP, 0, D },
	);
}

Test(compiler, bad_port_range, .fini = fini)
{
	struct seg_error err = { 0 };
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "bad", "app=db", true, false);
	r = allow(p, ING);
	r->all_peers = true;
	r->all_ports = false;
	r->ports[r->n_ports++] = (struct seg_port){ TCP, 90, 80 };
	cr_assert_eq(seg_compile(&W, &C, &err), -EINVAL);
	cr_assert(strstr(err.msg, "prod/bad"), "%s", err.msg);
}
