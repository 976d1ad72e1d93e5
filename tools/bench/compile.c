/* bench_compile - time seg_compile on a large and a small policy set, and
 * seg_compile_cached after a one-rule change of the large one.
 *
 * World: 1,000 endpoints in 10 namespaces, 200 distinct label sets
 * (app=a0..a19 x namespace, tier=t0..t3), 5 endpoints per label set.
 * Large case: 200 policies x 50 rules = 10,000 rules - segment-to-segment
 * port rules, tier/namespace-selector rules with port ranges, CIDR egress
 * rules and a few denies. Small case: the same world with 10 rules.
 * Incremental case: the large world compiled once into a cache, then one
 * rule's port changed (alternating between two values) and compiled with
 * seg_compile_cached; its output is checked against a full compile.
 * ipBlock cases: the same world with one policy of N rules, rule i
 * allowing UDP 5201 from one /32 (tools/bench/gen_policy.py peers' shape),
 * N = 10,000, 100,000 and 131,070: every rule a CIDR identity of its own.
 * Prints best-of-5 wall clock per case (best of 3 for the ipBlock
 * cases), side by side. Not a pass/fail test (exits 1 only when the
 * incremental output differs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler.h"

#define N_NS 10
#define N_APPS 20
#define EPS_PER_SET 5
#define RULES_PER_POLICY 50

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		perror("strdup");
		exit(1);
	}
	return d;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		perror("calloc");
		exit(1);
	}
	return p;
}

static void sel1(struct seg_selector *s, const char *k, const char *v)
{
	s->reqs = xcalloc(1, sizeof(*s->reqs));
	s->n_reqs = 1;
	s->reqs[0].key = xstrdup(k);
	s->reqs[0].op = SEG_SEL_IN;
	s->reqs[0].values = xcalloc(1, sizeof(char *));
	s->reqs[0].values[0] = xstrdup(v);
	s->reqs[0].n_values = 1;
}

static void build_world(struct seg_world *w)
{
	char buf[64];

	memset(w, 0, sizeof(*w));
	w->namespaces = xcalloc(N_NS, sizeof(*w->namespaces));
	for (int n = 0; n < N_NS; n++) {
		struct seg_namespace *ns = &w->namespaces[w->n_namespaces++];

		snprintf(buf, sizeof(buf), "n%d", n);
		ns->name = xstrdup(buf);
		seg_labels_set(&ns->labels, "kubernetes.io/metadata.name", buf);
		snprintf(buf, sizeof(buf), "e%d", n % 3);
		seg_labels_set(&ns->labels, "env", buf);
	}
	w->endpoints = xcalloc(N_NS * N_APPS * EPS_PER_SET, sizeof(*w->endpoints));
	for (int n = 0; n < N_NS; n++)
		for (int a = 0; a < N_APPS; a++)
			for (int k = 0; k < EPS_PER_SET; k++) {
				struct seg_endpoint *e = &w->endpoints[w->n_endpoints++];

				snprintf(buf, sizeof(buf), "n%d", n);
				e->ns = xstrdup(buf);
				snprintf(buf, sizeof(buf), "a%d-%d", a, k);
				e->name = xstrdup(buf);
				snprintf(buf, sizeof(buf), "a%d", a);
				seg_labels_set(&e->labels, "app", buf);
				snprintf(buf, sizeof(buf), "t%d", a % 4);
				seg_labels_set(&e->labels, "tier", buf);
				snprintf(buf, sizeof(buf), "10.200.%d.%d", n,
					 a * EPS_PER_SET + k + 1);
				seg_addr_parse(buf, &e->ips[e->n_ips++]);
				e->ifindex = (uint32_t)w->n_endpoints + 10;
				e->endpoint_id = (uint32_t)w->n_endpoints;
			}
	w->host_ips = xcalloc(1, sizeof(*w->host_ips));
	seg_addr_parse("10.200.255.1", &w->host_ips[w->n_host_ips++]);
}

/* n_rules rules spread over policies of RULES_PER_POLICY rules each */
static void build_policies(struct seg_world *w, int n_rules)
{
	unsigned seed = 42;
	char buf[64];
	int n_pol = (n_rules + RULES_PER_POLICY - 1) / RULES_PER_POLICY;

	w->policies = xcalloc((size_t)n_pol, sizeof(*w->policies));
	for (int pi = 0; pi < n_pol; pi++) {
		struct seg_policy *p = &w->policies[w->n_policies++];
		int nsi = pi % N_NS, app = (pi / N_NS) % N_APPS;
		int nr = n_rules - pi * RULES_PER_POLICY;

		if (nr > RULES_PER_POLICY)
			nr = RULES_PER_POLICY;
		snprintf(buf, sizeof(buf), "n%d", nsi);
		p->ns = xstrdup(buf);
		snprintf(buf, sizeof(buf), "pol-%d", pi);
		p->name = xstrdup(buf);
		snprintf(buf, sizeof(buf), "a%d", app);
		sel1(&p->subject, "app", buf);
		p->enforce[SEGD_DIR_INGRESS] = true;
		p->enforce[SEGD_DIR_EGRESS] = pi % 4 == 0;
		p->rules = xcalloc((size_t)nr, sizeof(*p->rules));
		for (int ri = 0; ri < nr; ri++) {
			struct seg_rule *r = &p->rules[p->n_rules++];
			int roll = (int)(rand_r(&seed) % 100);
			struct seg_peer *pe;

			r->name = xstrdup("");
			r->dir = SEGD_DIR_INGRESS;
			r->peers = xcalloc(1, sizeof(*r->peers));
			r->ports = xcalloc(2, sizeof(*r->ports));
			pe = &r->peers[r->n_peers++];
			if (roll < 80) {
				/* segment to segment, one port */
				pe->kind = SEG_PEER_ENDPOINTS;
				snprintf(buf, sizeof(buf), "a%u", rand_r(&seed) % N_APPS);
				sel1(&pe->pods, "app", buf);
				r->ports[r->n_ports++] = (struct seg_port){
					.proto = IPPROTO_TCP, .port_lo = (uint16_t)(1000 + ri), .port_hi = (uint16_t)(1000 + ri) };
			} else if (roll < 90) {
				/* a tier across namespaces of an env, port range */
				pe->kind = SEG_PEER_ENDPOINTS;
				snprintf(buf, sizeof(buf), "t%u", rand_r(&seed) % 4);
				sel1(&pe->pods, "tier", buf);
				pe->has_namespaces = true;
				snprintf(buf, sizeof(buf), "e%u", rand_r(&seed) % 3);
				sel1(&pe->namespaces, "env", buf);
				r->ports[r->n_ports++] = (struct seg_port){
					.proto = IPPROTO_TCP, .port_lo = 8190, .port_hi = 8450 };
			} else if (roll < 97 && p->enforce[SEGD_DIR_EGRESS]) {
				/* CIDR egress */
				r->dir = SEGD_DIR_EGRESS;
				pe->kind = SEG_PEER_CIDR;
				snprintf(buf, sizeof(buf), "172.%u.%u.0/24",
					 16 + rand_r(&seed) % 16, rand_r(&seed) % 256);
				seg_cidr_parse(buf, &pe->cidr, NULL);
				r->ports[r->n_ports++] = (struct seg_port){
					.proto = IPPROTO_TCP, .port_lo = 443, .port_hi = 443 };
			} else if (roll < 97) {
				pe->kind = SEG_PEER_ENDPOINTS;
				pe->has_namespaces = true;
				r->ports[r->n_ports++] = (struct seg_port){
					.proto = IPPROTO_UDP, .port_lo = 53, .port_hi = 53 };
			} else {
				/* deny: ssh from anywhere, or one segment fully */
				r->action = SEG_ACTION_DENY;
				if (roll == 99) {
					r->all_peers = true;
					r->n_peers = 0;
					r->ports[r->n_ports++] = (struct seg_port){
						.proto = IPPROTO_TCP, .port_lo = 22, .port_hi = 22 };
				} else {
					pe->kind = SEG_PEER_ENDPOINTS;
					snprintf(buf, sizeof(buf), "a%u",
						 rand_r(&seed) % N_APPS);
					sel1(&pe->pods, "app", buf);
					r->all_ports = true;
				}
			}
		}
	}
}

/* one policy of n ipBlock /32 rules for app=a0 in n0, as gen_policy.py
 * peers numbers the addresses (198.18.0.0/15) */
static void build_peers(struct seg_world *w, int n)
{
	struct seg_policy *p;
	char buf[64];

	w->policies = xcalloc(1, sizeof(*w->policies));
	p = &w->policies[w->n_policies++];
	p->ns = xstrdup("n0");
	p->name = xstrdup("peers");
	sel1(&p->subject, "app", "a0");
	p->enforce[SEGD_DIR_INGRESS] = true;
	p->rules = xcalloc((size_t)n, sizeof(*p->rules));
	for (int i = 1; i <= n; i++) {
		struct seg_rule *r = &p->rules[p->n_rules++];

		r->name = xstrdup("");
		r->dir = SEGD_DIR_INGRESS;
		r->peers = xcalloc(1, sizeof(*r->peers));
		r->ports = xcalloc(1, sizeof(*r->ports));
		r->peers[r->n_peers].kind = SEG_PEER_CIDR;
		snprintf(buf, sizeof(buf), "198.%d.%d.%d/32", 18 + (i >> 16),
			 (i >> 8) & 255, i & 255);
		seg_cidr_parse(buf, &r->peers[r->n_peers++].cidr, NULL);
		r->ports[r->n_ports++] = (struct seg_port){
			.proto = IPPROTO_UDP, .port_lo = 5201, .port_hi = 5201 };
	}
}

static void free_world(struct seg_world *w)
{
	for (size_t i = 0; i < w->n_namespaces; i++)
		seg_namespace_free(&w->namespaces[i]);
	for (size_t i = 0; i < w->n_endpoints; i++)
		seg_endpoint_free(&w->endpoints[i]);
	for (size_t i = 0; i < w->n_policies; i++)
		seg_policy_free(&w->policies[i]);
	free(w->namespaces);
	free(w->endpoints);
	free(w->policies);
	free(w->host_ips);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct result {
	int rules;
	double best_ms;
	struct seg_compiled c;
};

/* best of `rounds` full compiles of n_rules rules (ipBlock ones: peers) */
static int run(int n_rules, bool peers, int rounds, struct result *res)
{
	struct seg_world w;
	struct seg_error err = { 0 };
	int rc = 0;

	build_world(&w);
	if (peers)
		build_peers(&w, n_rules);
	else
		build_policies(&w, n_rules);
	res->rules = n_rules;
	res->best_ms = 1e18;
	for (int i = 0; i < rounds; i++) {
		struct seg_compiled c = { 0 };
		double t0 = now_ms(), dt;

		rc = seg_compile(&w, &c, &err);
		dt = now_ms() - t0;
		if (rc) {
			fprintf(stderr, "bench_compile: %d rules: %s\n", n_rules,
				err.msg);
			break;
		}
		if (dt < res->best_ms)
			res->best_ms = dt;
		seg_compiled_free(&res->c);
		res->c = c;
	}
	free_world(&w);
	return rc;
}

static bool same(const struct seg_compiled *a, const struct seg_compiled *b)
{
	if (a->n_entries != b->n_entries || a->n_identities != b->n_identities ||
	    a->n_exact != b->n_exact || a->n_prefixes != b->n_prefixes ||
	    a->n_rules != b->n_rules)
		return false;
	for (size_t i = 0; i < a->n_identities; i++)
		if (a->identities[i].id != b->identities[i].id ||
		    a->identities[i].flags != b->identities[i].flags ||
		    strcmp(a->identities[i].key, b->identities[i].key))
			return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (a->rules[i].rule_id != b->rules[i].rule_id ||
		    a->rules[i].rule_index != b->rules[i].rule_index ||
		    strcmp(a->rules[i].policy_name, b->rules[i].policy_name))
			return false;
	return !memcmp(a->entries, b->entries, a->n_entries * sizeof(*a->entries)) &&
	       !memcmp(a->exact, b->exact, a->n_exact * sizeof(*a->exact)) &&
	       !memcmp(a->prefixes, b->prefixes, a->n_prefixes * sizeof(*a->prefixes));
}

/* seg_compile_cached after a one-rule port change of the n_rules world */
static int run_incremental(int n_rules, struct result *res)
{
	struct seg_world w;
	struct seg_error err = { 0 };
	struct seg_compile_cache *cache = NULL;
	struct seg_compiled c = { 0 }, full = { 0 };
	struct seg_port *port;
	int rc;

	build_world(&w);
	build_policies(&w, n_rules);
	res->rules = n_rules;
	res->best_ms = 1e18;
	/* the middle policy's first rule */
	port = &w.policies[w.n_policies / 2].rules[0].ports[0];
	rc = seg_compile_cache_new(&cache);
	if (!rc)
		rc = seg_compile_cached(&w, cache, &c, &err);
	for (int i = 0; !rc && i < 5; i++) {
		double t0, dt;

		port->port_lo = port->port_hi = (uint16_t)(i % 2 ? 1000 : 40000);
		seg_compiled_free(&c);
		t0 = now_ms();
		rc = seg_compile_cached(&w, cache, &c, &err);
		dt = now_ms() - t0;
		if (!rc && dt < res->best_ms)
			res->best_ms = dt;
	}
	if (!rc)
		rc = seg_compile(&w, &full, &err);
	if (rc)
		fprintf(stderr, "bench_compile: incremental: %s\n", err.msg);
	else if (!same(&c, &full)) {
		fprintf(stderr, "bench_compile: incremental output differs\n");
		rc = -1;
	}
	seg_compiled_free(&full);
	seg_compiled_free(&res->c);
	res->c = c;
	seg_compile_cache_free(cache);
	free_world(&w);
	return rc;
}

int main(void)
{
	static const char *const what[6] = { "full", "full", "1-rule change",
					     "ipBlock /32", "ipBlock /32", "ipBlock /32" };
	static const int peers[3] = { 10000, 100000, 131070 };
	struct result r[6] = { 0 };
	int rc = run(10, false, 5, &r[0]);

	if (!rc)
		rc = run(10000, false, 5, &r[1]);
	if (!rc)
		rc = run_incremental(10000, &r[2]);
	for (int i = 0; !rc && i < 3; i++)
		rc = run(peers[i], true, 3, &r[3 + i]);
	if (rc)
		return 1;
	printf("bench_compile: 1000 endpoints, 10 namespaces, %zu endpoint "
	       "identities; best of 5 (ipBlock: of 3), wall clock\n",
	       r[1].c.n_identities - 3 - (r[1].c.n_prefixes - 2));
	printf("%-14s %8s %10s %10s %10s %8s %10s\n", "compile", "rules",
	       "entries", "exact", "prefixes", "ids", "ms");
	for (int i = 0; i < 6; i++)
		printf("%-14s %8d %10zu %10zu %10zu %8zu %10.2f\n", what[i],
		       r[i].rules, r[i].c.n_entries, r[i].c.n_exact,
		       r[i].c.n_prefixes, r[i].c.n_identities, r[i].best_ms);
	printf("ratio 10000/10 rules: %.1fx time, %.1fx entries; incremental "
	       "vs full 10000: %.1fx faster; ipBlock 100000/10000: %.1fx time\n",
	       r[1].best_ms / (r[0].best_ms > 0 ? r[0].best_ms : 1e-9),
	       (double)r[1].c.n_entries /
	       (double)(r[0].c.n_entries ? r[0].c.n_entries : 1),
	       r[1].best_ms / (r[2].best_ms > 0 ? r[2].best_ms : 1e-9),
	       r[4].best_ms / (r[3].best_ms > 0 ? r[3].best_ms : 1e-9));
	for (int i = 0; i < 6; i++)
		seg_compiled_free(&r[i].c);
	return 0;
}
