/* test_compile_cache.c - seg_compile_cached() == seg_compile(), byte for
 * byte, over a table of successive changes to one world; and the cache
 * really reuses what it can. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

#define MAXP 32
#define MAXE 128

static struct seg_world W;
static struct seg_compile_cache *CACHE;

static char *dup(const char *s)
{
	char *d = strdup(s);

	cr_assert_not_null(d);
	return d;
}

static void sel1(struct seg_selector *s, const char *k, const char *v)
{
	s->reqs = calloc(1, sizeof(*s->reqs));
	s->n_reqs = 1;
	s->reqs[0].key = dup(k);
	s->reqs[0].op = SEG_SEL_IN;
	s->reqs[0].values = calloc(1, sizeof(char *));
	s->reqs[0].values[0] = dup(v);
	s->reqs[0].n_values = 1;
}

static void add_ns(const char *name, const char *env)
{
	struct seg_namespace *n = &W.namespaces[W.n_namespaces++];

	n->name = dup(name);
	cr_assert_eq(seg_labels_set(&n->labels, "kubernetes.io/metadata.name", name), 0);
	cr_assert_eq(seg_labels_set(&n->labels, "env", env), 0);
}

static void add_ep(const char *ns, const char *app, const char *tier)
{
	struct seg_endpoint *e = &W.endpoints[W.n_endpoints++];
	char buf[64];

	e->ns = dup(ns);
	snprintf(buf, sizeof(buf), "ep%zu", W.n_endpoints);
	e->name = dup(buf);
	cr_assert_eq(seg_labels_set(&e->labels, "app", app), 0);
	cr_assert_eq(seg_labels_set(&e->labels, "tier", tier), 0);
	snprintf(buf, sizeof(buf), "10.200.%zu.%zu", W.n_endpoints / 200,
		 W.n_endpoints % 200 + 1);
	cr_assert_eq(seg_addr_parse(buf, &e->ips[e->n_ips++]), 0);
	e->ifindex = 10 + (uint32_t)W.n_endpoints;
	e->endpoint_id = (uint32_t)W.n_endpoints;
}

static struct seg_rule *add_rule(struct seg_policy *p, int dir,
				 enum seg_action act)
{
	struct seg_rule *r;

	p->rules = realloc(p->rules, (p->n_rules + 1) * sizeof(*p->rules));
	cr_assert_not_null(p->rules);
	r = &p->rules[p->n_rules++];
	memset(r, 0, sizeof(*r));
	r->action = act;
	r->dir = dir;
	r->name = dup("");
	r->peers = calloc(2, sizeof(*r->peers));
	r->ports = calloc(2, sizeof(*r->ports));
	p->enforce[dir] = true;
	return r;
}

static void rule_pods(struct seg_rule *r, const char *app)
{
	struct seg_peer *pe = &r->peers[r->n_peers++];

	pe->kind = SEG_PEER_ENDPOINTS;
	sel1(&pe->pods, "app", app);
}

static void rule_cidr(struct seg_rule *r, const char *c)
{
	struct seg_peer *pe = &r->peers[r->n_peers++];

	pe->kind = SEG_PEER_CIDR;
	cr_assert_eq(seg_cidr_parse(c, &pe->cidr, NULL), 0);
}

static void rule_port(struct seg_rule *r, uint8_t proto, uint16_t lo,
		      uint16_t hi)
{
	r->ports[r->n_ports++] = (struct seg_port){ .proto = proto, .port_lo = lo, .port_hi = hi };
}

static struct seg_policy *add_pol(const char *ns, const char *name,
				  const char *app)
{
	struct seg_policy *p = &W.policies[W.n_policies++];

	memset(p, 0, sizeof(*p));
	p->kind = SEG_KIND_SEGMENT;
	p->ns = dup(ns);
	p->name = dup(name);
	sel1(&p->subject, "app", app);
	return p;
}

static void del_pol(size_t i)
{
	seg_policy_free(&W.policies[i]);
	memmove(&W.policies[i], &W.policies[i + 1],
		(W.n_policies - i - 1) * sizeof(W.policies[0]));
	W.n_policies--;
}

/* 3 namespaces x 4 apps x 2 tiers; 6 policies of 6 rules */
static void setup(void)
{
	static const char *apps[] = { "web", "api", "db", "cache" };
	char name[32], ns[16];

	memset(&W, 0, sizeof(W));
	W.namespaces = calloc(8, sizeof(*W.namespaces));
	W.endpoints = calloc(MAXE, sizeof(*W.endpoints));
	W.policies = calloc(MAXP, sizeof(*W.policies));
	W.host_ips = calloc(1, sizeof(*W.host_ips));
	cr_assert_eq(seg_addr_parse("10.200.255.1", &W.host_ips[W.n_host_ips++]), 0);
	for (int n = 0; n < 3; n++) {
		snprintf(ns, sizeof(ns), "ns%d", n);
		add_ns(ns, n ? "prod" : "dev");
		for (int a = 0; a < 4; a++)
			for (int k = 0; k < 3; k++)
				add_ep(ns, apps[a], k ? "t1" : "t0");
	}
	for (int i = 0; i < 6; i++) {
		struct seg_policy *p;

		snprintf(ns, sizeof(ns), "ns%d", i % 3);
		snprintf(name, sizeof(name), "pol-%d", i);
		p = add_pol(ns, name, apps[i % 4]);
		for (int r = 0; r < 6; r++) {
			struct seg_rule *ru = add_rule(p, r == 5 ? SEGD_DIR_EGRESS :
						       SEGD_DIR_INGRESS,
						       SEG_ACTION_ALLOW);

			if (r == 4)
				rule_cidr(ru, "203.0.113.0/24");
			else if (r == 5)
				ru->all_peers = true;
			else
				rule_pods(ru, apps[(i + r) % 4]);
			if (r == 3)
				rule_port(ru, IPPROTO_TCP, 8000, 8600);
			else
				rule_port(ru, IPPROTO_TCP, (uint16_t)(1000 + 10 * i + r),
					  (uint16_t)(1000 + 10 * i + r));
		}
	}
	cr_assert_eq(seg_compile_cache_new(&CACHE), 0);
}

static void teardown(void)
{
	seg_world_free(&W);
	free(W.host_ips);
	seg_compile_cache_free(CACHE);
	CACHE = NULL;
}

/* compile both ways; every array byte for byte, errors included */
static void check_same(const char *step, struct seg_compile_cache_stats *st)
{
	struct seg_compiled a = { 0 }, b = { 0 };
	struct seg_error ea = { 0 }, eb = { 0 };
	int ra = seg_compile(&W, &a, &ea);
	int rb = seg_compile_cached(&W, CACHE, &b, &eb);

	cr_assert_eq(ra, rb, "%s: rc %d vs %d", step, ra, rb);
	cr_assert_str_eq(ea.msg, eb.msg, "%s", step);
	cr_assert_eq(a.n_entries, b.n_entries, "%s", step);
	cr_assert_eq(a.n_exact, b.n_exact, "%s", step);
	cr_assert_eq(a.n_prefixes, b.n_prefixes, "%s", step);
	cr_assert_eq(a.n_identities, b.n_identities, "%s", step);
	cr_assert_eq(a.n_rules, b.n_rules, "%s", step);
	cr_assert_eq(memcmp(a.entries, b.entries, a.n_entries * sizeof(*a.entries)),
		     0, "%s: entries differ", step);
	cr_assert_eq(memcmp(a.exact, b.exact, a.n_exact * sizeof(*a.exact)), 0,
		     "%s: exact differs", step);
	cr_assert_eq(memcmp(a.prefixes, b.prefixes,
			    a.n_prefixes * sizeof(*a.prefixes)), 0,
		     "%s: prefixes differ", step);
	for (size_t i = 0; i < a.n_identities; i++) {
		cr_assert_eq(a.identities[i].id, b.identities[i].id, "%s", step);
		cr_assert_eq(a.identities[i].flags, b.identities[i].flags, "%s", step);
		cr_assert_str_eq(a.identities[i].key, b.identities[i].key, "%s", step);
	}
	for (size_t i = 0; i < a.n_rules; i++) {
		const struct seg_rule_ref *x = &a.rules[i], *y = &b.rules[i];

		cr_assert(x->rule_id == y->rule_id && x->rule_index == y->rule_index &&
			  x->action == y->action && x->dir == y->dir &&
			  !strcmp(x->policy_ns, y->policy_ns) &&
			  !strcmp(x->policy_name, y->policy_name),
			  "%s: rule %zu differs", step, i);
	}
	seg_compile_cache_stats(CACHE, st);
	seg_compiled_free(&a);
	seg_compiled_free(&b);
}

enum expect { FULL, INCR, ANY };

struct change {
	const char *name;
	void (*apply)(void);
	enum expect expect;
};

static void c_none(void) { }
static void c_port(void) { W.policies[2].rules[1].ports[0].port_lo =
			   W.policies[2].rules[1].ports[0].port_hi = 4242; }
static void c_rule_added(void)
{
	struct seg_rule *r = add_rule(&W.policies[1], SEGD_DIR_INGRESS,
				      SEG_ACTION_ALLOW);

	rule_pods(r, "db");
	rule_port(r, IPPROTO_UDP, 53, 53);
}
static void c_rule_removed(void)
{
	struct seg_policy *p = &W.policies[0];

	seg_rule_free(&p->rules[2]);
	memmove(&p->rules[2], &p->rules[3], (p->n_rules - 3) * sizeof(*p->rules));
	p->n_rules--;
}
static void c_policy_added(void)
{
	struct seg_policy *p = add_pol("ns1", "aaa-first", "api");
	struct seg_rule *r = add_rule(p, SEGD_DIR_INGRESS, SEG_ACTION_ALLOW);

	rule_pods(r, "web");
	rule_port(r, IPPROTO_TCP, 443, 443);
}
static void c_policy_deleted(void) { del_pol(3); }
static void c_policy_renamed(void)
{
	free(W.policies[4].name);
	W.policies[4].name = dup("zzz-last");
}
static void c_deny_overlapping(void)
{
	struct seg_rule *r = add_rule(&W.policies[2], SEGD_DIR_INGRESS,
				      SEG_ACTION_DENY);

	r->all_peers = true;
	rule_port(r, IPPROTO_TCP, 8000, 8600);   /* overlaps the range rules */
}
static void c_deny_all_ports(void)
{
	struct seg_rule *r = add_rule(&W.policies[0], SEGD_DIR_INGRESS,
				      SEG_ACTION_DENY);

	rule_pods(r, "api");
	r->all_ports = true;
}
static void c_endpoint_same_labels(void) { add_ep("ns2", "web", "t1"); }
static void c_endpoint_new_labels(void) { add_ep("ns2", "web", "t9"); }
static void c_ns_labels(void)
{
	cr_assert_eq(seg_labels_set(&W.namespaces[0].labels, "env", "prod"), 0);
}
static void c_new_cidr(void)
{
	struct seg_rule *r = add_rule(&W.policies[5], SEGD_DIR_EGRESS,
				      SEG_ACTION_ALLOW);

	rule_cidr(r, "198.51.100.0/24");
	r->all_ports = true;
}
static void c_swap_array(void)
{
	struct seg_policy t = W.policies[0];

	W.policies[0] = W.policies[W.n_policies - 1];
	W.policies[W.n_policies - 1] = t;
}
static void c_bad_range(void) { W.policies[1].rules[0].ports[0].port_hi = 1; }
static void c_fix_range(void)
{
	W.policies[1].rules[0].ports[0].port_hi =
		W.policies[1].rules[0].ports[0].port_lo;
}
static void c_policy_audit(void) { W.policies[2].audit = true; }
static void c_audit_deny(void)
{
	struct seg_rule *r = add_rule(&W.policies[2], SEGD_DIR_INGRESS,
				      SEG_ACTION_DENY);

	rule_pods(r, "web");
	rule_port(r, IPPROTO_TCP, 8100, 8200);
}
static void c_policy_enforce(void) { W.policies[2].audit = false; }
static void c_ns_audit(void) { W.namespaces[1].mode = SEG_MODE_AUDIT; }
static void c_ns_enforce(void) { W.namespaces[1].mode = SEG_MODE_ENFORCE; }
static void c_ifindex(void) { W.endpoints[3].ifindex += 100; }
static void c_same_content_twice(void)
{
	struct seg_policy *p = add_pol("ns0", "twin-a", "cache");
	struct seg_policy *q;

	rule_pods(add_rule(p, SEGD_DIR_INGRESS, SEG_ACTION_ALLOW), "db");
	q = add_pol("ns0", "twin-b", "cache");
	rule_pods(add_rule(q, SEGD_DIR_INGRESS, SEG_ACTION_ALLOW), "db");
}

Test(compile_cache, incremental_equals_full, .init = setup, .fini = teardown)
{
	static const struct change table[] = {
		{ "first compile", c_none, FULL },
		{ "nothing changed", c_none, INCR },
		{ "rule port changed", c_port, INCR },
		{ "rule added (later rule ids shift)", c_rule_added, INCR },
		{ "rule removed", c_rule_removed, INCR },
		{ "policy added (sorts first)", c_policy_added, INCR },
		{ "policy deleted", c_policy_deleted, INCR },
		{ "policy renamed (reordered)", c_policy_renamed, ANY },
		{ "deny overlapping allows", c_deny_overlapping, INCR },
		{ "deny all ports of a segment", c_deny_all_ports, INCR },
		{ "endpoint added, known label set", c_endpoint_same_labels, INCR },
		{ "endpoint ifindex changed", c_ifindex, INCR },
		{ "endpoint added, new label set", c_endpoint_new_labels, FULL },
		{ "namespace labels changed", c_ns_labels, FULL },
		{ "new CIDR prefix", c_new_cidr, FULL },
		{ "policy array order swapped", c_swap_array, INCR },
		{ "two policies, same content", c_same_content_twice, INCR },
		{ "bad port range (error)", c_bad_range, ANY },
		{ "range fixed", c_fix_range, FULL },
		{ "rule port changed again", c_port, INCR },
		{ "policy to audit mode", c_policy_audit, INCR },
		{ "deny rule in the audit policy", c_audit_deny, INCR },
		{ "policy back to enforce", c_policy_enforce, INCR },
		{ "namespace to audit mode", c_ns_audit, INCR },
		{ "audit policy's port changed", c_port, INCR },
		{ "namespace back to enforce", c_ns_enforce, INCR },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct seg_compile_cache_stats st;

		table[i].apply();
		check_same(table[i].name, &st);
		if (table[i].expect == FULL)
			cr_expect(st.full, "%s: expected a full compile", table[i].name);
		if (table[i].expect == INCR) {
			cr_expect(!st.full, "%s: expected reuse", table[i].name);
			cr_expect_gt(st.idents_reused, 0, "%s", table[i].name);
		}
	}
}

Test(compile_cache, one_rule_change_rebuilds_one_subject, .init = setup,
     .fini = teardown)
{
	struct seg_compile_cache_stats st;

	check_same("first", &st);
	c_port();
	check_same("port", &st);
	cr_assert(!st.full);
	cr_assert_eq(st.policies_compiled, 1);
	cr_assert_eq(st.policies_reused, W.n_policies - 1);
	/* policy 2 selects app=db in ns2: one identity per tier */
	cr_assert_eq(st.idents_rebuilt, 2);
}

Test(compile_cache, null_cache_is_plain_compile, .init = setup, .fini = teardown)
{
	struct seg_compiled a = { 0 }, b = { 0 };

	cr_assert_eq(seg_compile(&W, &a, NULL), 0);
	cr_assert_eq(seg_compile_cached(&W, NULL, &b, NULL), 0);
	cr_assert_eq(a.n_entries, b.n_entries);
	cr_assert_eq(memcmp(a.entries, b.entries, a.n_entries * sizeof(*a.entries)), 0);
	seg_compiled_free(&a);
	seg_compiled_free(&b);
}

Test(compile_cache, error_then_recovery, .init = setup, .fini = teardown)
{
	struct seg_compiled c = { 0 };
	struct seg_error err = { 0 };
	struct seg_compile_cache_stats st;

	check_same("first", &st);
	c_bad_range();
	cr_assert_eq(seg_compile_cached(&W, CACHE, &c, &err), -EINVAL);
	cr_assert(strstr(err.msg, "port range"), "%s", err.msg);
	cr_assert_null(c.entries);
	c_fix_range();
	check_same("fixed", &st);
	check_same("again", &st);
	cr_assert(!st.full);
}
