/* test_explain_tiers.c - explain names the tiers a decision went through
 * (core/query/explain_tiers.c): Admin rules in order, Pass, the
 * NetworkPolicy tier and what isolates an endpoint, Baseline, default
 * allow; over a world compiled by the real compiler, while the verdict
 * stays the compiled chain's. */
#include "compiler_fixtures.h"
#include <criterion/parameterized.h>
#include "explain.h"

/* a ClusterNetworkPolicy rule with its own name */
static struct seg_rule *named_rule(struct seg_policy *p, int dir, enum seg_action act,
				   const char *name)
{
	struct seg_rule *r = cnp_rule(p, dir, act);

	free(r->name);
	r->name = strdup(name);
	return r;
}

/* shop: web (10.1.0.1), api (10.1.0.2); pay: pay (10.1.1.1); lab: tool
 * (10.1.2.1).
 *   admin/shop-self (5, shop): #1 ingress Pass from shop,
 *                              #2 egress Pass to 192.0.2.0/24
 *   admin/guard (10, pay):     #1 ingress Accept web of shop on tcp/443,
 *                              #2 ingress Deny from every namespace
 *   shop/web, shop/web-extra:  web's ingress; #1 allows api on tcp/80
 *                              (web-extra: tcp/81)
 *   baseline/isolate (10, all): #1 ingress Deny from every namespace */
static void tiers_world(void)
{
	struct seg_policy *p;
	struct seg_rule *r;

	w_init();
	ns("shop", "team=shop");
	ns("pay", "team=pay");
	ns("lab", "team=lab");
	ep("shop", "web", "app=web", "10.1.0.1", NULL);
	ep("shop", "api", "app=api", "10.1.0.2", NULL);
	ep("pay", "pay", "app=pay", "10.1.1.1", NULL);
	ep("lab", "tool", "app=tool", "10.1.2.1", NULL);
	p = cnp_policy("shop-self", SEG_TIER_ADMIN, 5, "team=shop");
	pods(named_rule(p, ING, SEG_ACTION_PASS, "within-shop"), "", "team=shop");
	cidr(cnp_rule(p, EGR, SEG_ACTION_PASS), "192.0.2.0/24", NULL, NULL);
	p = cnp_policy("guard", SEG_TIER_ADMIN, 10, "team=pay");
	r = named_rule(p, ING, SEG_ACTION_ALLOW, "from-shop-web");
	pods(r, "app=web", "team=shop");
	port(r, TCP, 443, 0);
	pods(named_rule(p, ING, SEG_ACTION_DENY, "no-one-else"), "", "");
	p = pol("shop", "web", "app=web", true, false);
	r = allow(p, ING);
	pods(r, "app=api", NULL);
	port(r, TCP, 80, 0);
	p = pol("shop", "web-extra", "app=web", true, false);
	r = allow(p, ING);
	pods(r, "app=api", NULL);
	port(r, TCP, 81, 0);
	p = cnp_policy("isolate", SEG_TIER_BASELINE, 10, "");
	pods(named_rule(p, ING, SEG_ACTION_DENY, "ns-isolation"), "", "");
	compile();
}

struct tier_case {
	char name[40];
	char src[16], dst[16];
	uint16_t port;              /* tcp */
	int dir;                    /* the half looked at */
	char verdict[8];            /* that half's, from the chain */
	char tier[16], action[8], decided_by[32], rule_name[24];
	char passed_by[24];         /* "" = none */
	char isolated_by[2][24];
};

static struct tier_case tier_cases[] = {
	{ "Admin Accept", "10.1.0.1", "10.1.1.1", 443, ING, "allow",
	  "Admin", "Accept", "admin/guard#1", "from-shop-web", "", { "" } },
	{ "Admin Deny", "10.1.0.2", "10.1.1.1", 443, ING, "deny",
	  "Admin", "Deny", "admin/guard#2", "no-one-else", "", { "" } },
	{ "Admin Deny past an Accept's port", "10.1.0.1", "10.1.1.1", 80, ING, "deny",
	  "Admin", "Deny", "admin/guard#2", "no-one-else", "", { "" } },
	{ "Pass, then the NetworkPolicy allows", "10.1.0.2", "10.1.0.1", 80, ING, "allow",
	  "NetworkPolicy", "Allow", "shop/web#1", "", "admin/shop-self#1", { "" } },
	{ "Pass, then the other one allows", "10.1.0.2", "10.1.0.1", 81, ING, "allow",
	  "NetworkPolicy", "Allow", "shop/web-extra#1", "", "admin/shop-self#1", { "" } },
	{ "Pass, then NetworkPolicy isolation", "10.1.0.2", "10.1.0.1", 82, ING, "deny",
	  "NetworkPolicy", "Deny", "", "", "admin/shop-self#1",
	  { "shop/web", "shop/web-extra" } },
	{ "NetworkPolicy isolation, no Pass", "10.1.1.1", "10.1.0.1", 80, ING, "deny",
	  "NetworkPolicy", "Deny", "", "", "", { "shop/web", "shop/web-extra" } },
	{ "Pass, then Baseline Deny", "10.1.0.1", "10.1.0.2", 8080, ING, "deny",
	  "Baseline", "Deny", "baseline/isolate#1", "ns-isolation", "admin/shop-self#1",
	  { "" } },
	{ "Baseline Deny", "10.1.2.1", "10.1.0.2", 8080, ING, "deny",
	  "Baseline", "Deny", "baseline/isolate#1", "ns-isolation", "", { "" } },
	{ "Pass, then default allow", "10.1.0.2", "192.0.2.1", 443, EGR, "allow",
	  "none", "Allow", "", "", "admin/shop-self#2", { "" } },
	{ "no policy: default allow", "10.1.2.1", "198.51.100.1", 443, EGR, "allow",
	  "none", "Allow", "", "", "", { "" } },
	{ "not a pod: Baseline has no rule", "198.51.100.1", "10.1.2.1", 22, ING, "allow",
	  "none", "Allow", "", "", "", { "" } },
};

ParameterizedTestParameters(explain_tiers, stories)
{
	return cr_make_param_array(struct tier_case, tier_cases,
				   sizeof(tier_cases) / sizeof(tier_cases[0]));
}

ParameterizedTest(struct tier_case *c, explain_tiers, stories, .fini = fini)
{
	struct in6_addr src = ip(c->src), dst = ip(c->dst);
	const struct seg_tier_trace *t;
	const struct seg_explain_half *h;
	struct seg_explain x;
	size_t n_iso = 0;

	tiers_world();
	seg_explain_flow(&C, NULL, &src, &dst, TCP, c->port, &x);
	seg_explain_flow_tiers(&W, TCP, c->port, &x);
	h = &x.half[c->dir];
	t = &h->trace;
	cr_assert(h->traced, "%s: not traced (why %s)", c->name, seg_explain_why_name(h->why));
	cr_expect_str_eq(seg_explain_verdict_name(h->verdict), c->verdict, "%s", c->name);
	cr_expect_str_eq(seg_trace_tier_name(t), c->tier, "%s", c->name);
	cr_expect_str_eq(seg_trace_action_name(t), c->action, "%s", c->name);
	cr_expect_str_eq(t->by == SEG_TRACE_RULE ? t->decided_by : "", c->decided_by,
			 "%s", c->name);
	cr_expect_str_eq(t->rule_name, c->rule_name, "%s", c->name);
	cr_expect_eq(t->n_passed, c->passed_by[0] ? 1u : 0u, "%s: passed %zu", c->name,
		     t->n_passed);
	if (c->passed_by[0] && t->n_passed)
		cr_expect_str_eq(t->passed_by[0], c->passed_by, "%s", c->name);
	for (size_t i = 0; i < 2 && c->isolated_by[i][0]; i++, n_iso++)
		if (i < t->n_isolated)
			cr_expect_str_eq(t->isolated_by[i], c->isolated_by[i], "%s", c->name);
	cr_expect_eq(t->n_isolated, n_iso, "%s: isolated by %zu", c->name, t->n_isolated);
	cr_expect_eq(t->n_isolated_total, n_iso, "%s", c->name);
	/* the trace names the chain's decision, never another one */
	cr_expect_eq(t->action == SEG_ACTION_DENY, h->verdict == SEG_EXPLAIN_DENY,
		     "%s: the trace says %s, the chain %s", c->name,
		     seg_trace_action_name(t), seg_explain_verdict_name(h->verdict));
}

/* The compiled chain names a tier's default deny "default deny", not a rule. */
Test(explain_tiers, chain_default_entry_named_default, .fini = fini)
{
	struct in6_addr src = ip("10.1.0.2"), dst = ip("10.1.0.1");
	struct seg_explain x;

	tiers_world();
	seg_explain_flow(&C, NULL, &src, &dst, TCP, 82, &x);
	cr_expect_eq(x.half[ING].verdict, SEG_EXPLAIN_DENY);
	cr_expect(!strcmp(x.half[ING].rule, "default deny"), "rule '%s'", x.half[ING].rule);
}

/* A world the trace does not know the local identity of (changed since
 * it was compiled) leaves the half untraced; explain itself is unchanged. */
Test(explain_tiers, unknown_local_identity_is_untraced, .fini = fini)
{
	struct in6_addr src = ip("10.1.0.2"), dst = ip("10.1.0.1");
	struct seg_tier_trace t;
	struct seg_explain x;

	tiers_world();
	seg_explain_flow(&C, NULL, &src, &dst, TCP, 80, &x);
	cr_assert_eq(seg_explain_tiers(&W, 999999, x.half[ING].remote_id, ING, TCP, 80,
				       false, 0, &t, NULL), -ENOENT);
	free(W.endpoints[0].labels.v[0].value);    /* web is app=web2 now */
	W.endpoints[0].labels.v[0].value = strdup("web2");
	seg_explain_flow_tiers(&W, TCP, 80, &x);
	cr_expect_not(x.half[ING].traced);
	cr_expect(x.half[EGR].traced);   /* api is the same */
	cr_expect_str_eq(x.half[ING].rule, "shop/web#1");
}

/* An audit verdict names what the audit-mode policy would do; an
 * enforced one leaves it out. */
Test(explain_tiers, audit_names_the_audit_mode_rule, .fini = fini)
{
	struct in6_addr src = ip("10.1.2.1"), dst = ip("10.1.0.2");
	const struct seg_explain_half *h;
	struct seg_explain x;

	tiers_world();
	W.policies[4].audit = true;    /* baseline/isolate in audit mode */
	cr_assert_str_eq(W.policies[4].name, "isolate");
	compile();
	seg_explain_flow(&C, NULL, &src, &dst, TCP, 8080, &x);
	seg_explain_flow_tiers(&W, TCP, 8080, &x);
	h = &x.half[ING];
	cr_expect_eq(h->verdict, SEG_EXPLAIN_AUDIT);
	cr_assert(h->traced);
	cr_expect_str_eq(h->trace.decided_by, "baseline/isolate#1");
	cr_expect_eq(h->trace.action, SEG_ACTION_DENY);
	/* enforced: Admin denies, whatever Baseline would do */
	src = ip("10.1.0.2"), dst = ip("10.1.1.1");
	seg_explain_flow(&C, NULL, &src, &dst, TCP, 443, &x);
	seg_explain_flow_tiers(&W, TCP, 443, &x);
	h = &x.half[ING];
	cr_expect_eq(h->verdict, SEG_EXPLAIN_DENY);
	cr_expect_str_eq(h->trace.decided_by, "admin/guard#2");
	/* enforced allow: the audit-mode Baseline is not named */
	src = ip("10.1.2.1"), dst = ip("192.0.2.1");
	seg_explain_flow(&C, NULL, &src, &dst, TCP, 443, &x);
	seg_explain_flow_tiers(&W, TCP, 443, &x);
	cr_expect_eq(x.half[EGR].trace.by, SEG_TRACE_DEFAULT_ALLOW);
}
