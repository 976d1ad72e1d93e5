/* compiler_fixtures.h - world builder and flow oracle the compiler unit tests
 * share (test_compiler.c, test_compiler_rules.c each include it; static
 * inline, as every tests/unit .c file goes into one binary, and each file
 * gets its own world W and compiled tables C).
 *
 * seg_compiled_decide() mirrors the datapath and is the oracle: flows are
 * checked end to end (egress of the source endpoint, then ingress of the
 * destination endpoint) over tables of (from, to, proto, port, verdict).
 */
#ifndef SEGD_TEST_COMPILER_FIXTURES_H
#define SEGD_TEST_COMPILER_FIXTURES_H

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

static inline void w_init(void)
{
	memset(&W, 0, sizeof(W));
	W.endpoints = calloc(MAX_EPS, sizeof(*W.endpoints));
	W.policies = calloc(MAX_POLS, sizeof(*W.policies));
	W.namespaces = calloc(16, sizeof(*W.namespaces));
	W.host_ips = calloc(4, sizeof(*W.host_ips));
}

static inline void w_fini(void)
{
	seg_world_free(&W);
	free(W.host_ips);
	memset(&W, 0, sizeof(W));
}

static inline struct in6_addr ip(const char *s)
{
	struct in6_addr a;

	cr_assert_eq(seg_addr_parse(s, &a), 0, "bad address %s", s);
	return a;
}

static inline void ns(const char *name, const char *labels)
{
	struct seg_namespace *n = &W.namespaces[W.n_namespaces++];

	n->name = strdup(name);
	cr_assert_eq(seg_labels_parse(labels, &n->labels, NULL), 0);
	cr_assert_eq(seg_labels_set(&n->labels, "kubernetes.io/metadata.name",
				    name), 0);
}

static inline struct seg_endpoint *ep(const char *nsn, const char *name,
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
static inline void sel(struct seg_selector *s, const char *spec)
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

static inline struct seg_policy *pol(const char *nsn, const char *name,
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

static inline struct seg_rule *rule(struct seg_policy *p, int dir,
				    enum seg_action act)
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

static inline struct seg_rule *allow(struct seg_policy *p, int dir)
{
	return rule(p, dir, SEG_ACTION_ALLOW);
}

static inline struct seg_rule *deny(struct seg_policy *p, int dir)
{
	return rule(p, dir, SEG_ACTION_DENY);
}

static inline void pods(struct seg_rule *r, const char *podsel,
			const char *nssel)
{
	struct seg_peer *pe = &r->peers[r->n_peers++];

	pe->kind = SEG_PEER_ENDPOINTS;
	sel(&pe->pods, podsel);
	if (nssel) {
		pe->has_namespaces = true;
		sel(&pe->namespaces, nssel);
	}
}

static inline void cidr(struct seg_rule *r, const char *c, const char *ex1,
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

static inline void peer(struct seg_rule *r, enum seg_peer_kind k)
{
	r->peers[r->n_peers++].kind = k;
}

static inline void port(struct seg_rule *r, uint8_t proto, uint16_t lo,
			uint16_t hi)
{
	r->all_ports = false;
	r->ports[r->n_ports++] = (struct seg_port){ .proto = proto, .port_lo = lo, .port_hi = hi ? hi : lo };
}

/* A ClusterNetworkPolicy of tier with priority prio, subject: the
 * namespaces matching ns_subject */
static inline struct seg_policy *cnp_policy(const char *name, enum seg_tier tier, int prio,
					    const char *ns_subject)
{
	struct seg_policy *p = pol("", name, "", false, false);

	p->kind = SEG_KIND_CNP;
	p->tier = tier;
	p->priority = prio;
	p->has_subject_ns = true;
	sel(&p->subject_namespaces, ns_subject);
	return p;
}

/* a rule of a ClusterNetworkPolicy (its direction becomes one of its types) */
static inline struct seg_rule *cnp_rule(struct seg_policy *p, int dir,
					enum seg_action act)
{
	p->enforce[dir] = true;
	return rule(p, dir, act);
}

/* ---- compile and oracle ------------------------------------------------- */

static struct seg_compiled C;

static inline void compile(void)
{
	struct seg_error err = { 0 };
	int rc;

	seg_compiled_free(&C);
	rc = seg_compile(&W, &C, &err);
	cr_assert_eq(rc, 0, "compile: %d %s", rc, err.msg);
}

static inline void fini(void)
{
	seg_compiled_free(&C);
	w_fini();
}

static inline const struct seg_ipc_exact_entry *exact_of(const char *addr)
{
	struct in6_addr a = ip(addr);

	for (size_t i = 0; i < C.n_exact; i++)
		if (!memcmp(&C.exact[i].addr, &a, 16))
			return &C.exact[i];
	return NULL;
}

static inline uint32_t id_of(const char *addr)
{
	struct in6_addr a = ip(addr);

	return seg_compiled_identity_of(&C, &a);
}

/* A flow from src to dst as the two hooks see it: egress at src (if it is
 * a local endpoint), then ingress at dst (if local). */
static inline enum segd_verdict flow(const char *src, const char *dst,
				     uint8_t proto, uint16_t dport)
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

static inline void check_flows(const struct fcase *t, size_t n)
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

static inline uint32_t flags_of(const char *addr)
{
	const struct seg_ipc_exact_entry *e = exact_of(addr);

	cr_assert_not_null(e, "%s not in exact ipcache", addr);
	return e->value.flags;
}

/* ---- random rules for the reference-model checks -------------------------- */

/* A rule of a policy selecting db-1 (10.200.0.3) in base_world(), in a form
 * a reference model can match: remote -1 = any peer, 0 = app=web (prod),
 * 1 = app=cache (prod), 2 = 203.0.113.0/24 (mremotes[] has one address of
 * each). */
struct mrule {
	bool deny;
	int remote;        /* -1 = any, else index into mremotes */
	uint8_t proto;     /* 0 = any */
	uint16_t lo, hi;   /* 0 = any port */
};

static const char *const mremotes[] = { "10.200.0.1", "10.200.0.4", "203.0.113.9" };
static const uint8_t mprotos[] = { TCP, UDP, SCTP, IPPROTO_ICMP };
static const uint16_t mports[] = { 1, 22, 80, 255, 256, 300, 511, 512,
				   1023, 1024, 8080, 65535 };

static inline bool mrule_matches(const struct mrule *m, int remote,
				 uint8_t proto, uint16_t port)
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

static inline struct mrule mrule_random(unsigned *seed)
{
	struct mrule m = { 0 };
	int kind = (int)(rand_r(seed) % 4);

	m.deny = rand_r(seed) % 3 == 0;
	m.remote = (int)(rand_r(seed) % 4) - 1;
	m.proto = (uint8_t[]){ 0, TCP, UDP, 0 }[rand_r(seed) % 4];
	if (kind == 1) {
		m.lo = m.hi = mports[rand_r(seed) % 12];
	} else if (kind >= 2) {
		m.lo = mports[rand_r(seed) % 12];
		m.hi = mports[rand_r(seed) % 12];
		if (m.hi < m.lo) {
			uint16_t t = m.lo;

			m.lo = m.hi;
			m.hi = t;
		}
	}
	return m;
}

static inline void mrule_add(struct seg_policy *p, int dir,
			     const struct mrule *m)
{
	struct seg_rule *r = rule(p, dir, m->deny ? SEG_ACTION_DENY :
						    SEG_ACTION_ALLOW);

	if (m->remote < 0)
		r->all_peers = true;
	else if (m->remote == 0)
		pods(r, "app=web", NULL);
	else if (m->remote == 1)
		pods(r, "app=cache", NULL);
	else
		cidr(r, "203.0.113.0/24", NULL, NULL);
	if (m->lo || m->proto)
		port(r, m->proto, m->lo, m->hi);
}

/* a small two-namespace world used by several tests */
static inline void base_world(void)
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

#endif
