/* test_policy_names.c - one name for a policy and a rule wherever segd
 * shows one (core/model/policy_names.c, seg_rule_name in flow_names.c):
 * "ns/name#N", and "admin/name#N" / "baseline/name#N" for a
 * ClusterNetworkPolicy, which has no namespace. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "flow_names.h"

struct name_case {
	enum seg_policy_kind kind;
	enum seg_tier tier;
	char ns[16], name[24];
	uint32_t rule_index;
	char want_policy[40], want_rule[40], want_tier[16];
};

static const struct name_case name_cases[] = {
	{ SEG_KIND_SEGMENT, SEG_TIER_NETPOL, "shop", "shop-web", 1,
	  "shop/shop-web", "shop/shop-web#2", "NetworkPolicy" },
	{ SEG_KIND_K8S, SEG_TIER_NETPOL, "pay", "allow-api", 0,
	  "pay/allow-api", "pay/allow-api#1", "NetworkPolicy" },
	{ SEG_KIND_K8S, SEG_TIER_NETPOL, "", "no-ns", 2,
	  "default/no-ns", "default/no-ns#3", "NetworkPolicy" },
	{ SEG_KIND_CNP, SEG_TIER_ADMIN, "", "guard", 0,
	  "admin/guard", "admin/guard#1", "Admin" },
	{ SEG_KIND_CNP, SEG_TIER_BASELINE, "", "floor", 11,
	  "baseline/floor", "baseline/floor#12", "Baseline" },
	/* a cluster-scoped policy ignores a namespace it should not have */
	{ SEG_KIND_CNP, SEG_TIER_ADMIN, "shop", "x", 0, "admin/x", "admin/x#1", "Admin" },
};

ParameterizedTestParameters(policy_names, labels)
{
	return cr_make_param_array(struct name_case, (void *)name_cases,
				   sizeof(name_cases) / sizeof(name_cases[0]));
}

ParameterizedTest(const struct name_case *c, policy_names, labels)
{
	char buf[64];
	struct seg_policy p = { .kind = c->kind, .tier = c->tier,
				.ns = (char *)c->ns, .name = (char *)c->name };
	struct seg_rule_ref ref = { .rule_id = 1, .policy_ns = (char *)c->ns,
				    .policy_name = (char *)c->name,
				    .rule_index = c->rule_index, .kind = c->kind,
				    .tier = c->tier, .rule_name = "" };
	struct seg_compiled comp = { .rules = &ref, .n_rules = 1 };

	seg_policy_label(c->kind, c->tier, c->ns, c->name, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->want_policy);
	seg_policy_name_of(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->want_policy);
	seg_rule_label(c->kind, c->tier, c->ns, c->name, c->rule_index, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->want_rule);
	/* flow records, metrics and explain name a compiled rule the same way */
	cr_assert(seg_rule_name(&comp, 1, buf, sizeof(buf)));
	cr_assert_str_eq(buf, c->want_rule);
	cr_assert_str_eq(seg_tier_name(c->kind, c->tier), c->want_tier);
}

Test(policy_names, unknown_and_default_rules)
{
	struct seg_rule_ref refs[2] = {
		{ .rule_id = 1, .policy_ns = "", .policy_name = "guard", .kind = SEG_KIND_CNP,
		  .tier = SEG_TIER_ADMIN, .rule_name = "no-db" },
		{ .rule_id = 2, .policy_ns = "shop", .policy_name = "web", .rule_index = 4,
		  .rule_name = "" },
	};
	struct seg_compiled comp = { .rules = refs, .n_rules = 2 };
	char buf[64];

	cr_assert_eq(seg_rule_ref_of(&comp, 1), &refs[0]);
	cr_assert_eq(seg_rule_ref_of(&comp, 2), &refs[1]);
	cr_assert_null(seg_rule_ref_of(&comp, 0));
	cr_assert_null(seg_rule_ref_of(&comp, 3));
	cr_assert_not(seg_rule_name(&comp, 0, buf, sizeof(buf)));
	seg_rule_text(&comp, 0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "not-enforced");
	seg_rule_text(&comp, 9, buf, sizeof(buf));
	cr_assert_str_eq(buf, "?");
	seg_rule_text(&comp, 2, buf, sizeof(buf));
	cr_assert_str_eq(buf, "shop/web#5");
	/* a short buffer is cut, never overrun */
	seg_rule_label(SEG_KIND_CNP, SEG_TIER_BASELINE, "", "floor", 0, buf, 6);
	cr_assert_str_eq(buf, "basel");
}

struct action_case {
	enum seg_policy_kind kind;
	enum seg_action action;
	char want[8];
};

static const struct action_case action_cases[] = {
	{ SEG_KIND_CNP, SEG_ACTION_ALLOW, "Accept" },
	{ SEG_KIND_CNP, SEG_ACTION_DENY, "Deny" },
	{ SEG_KIND_CNP, SEG_ACTION_PASS, "Pass" },
	{ SEG_KIND_K8S, SEG_ACTION_ALLOW, "Allow" },
	{ SEG_KIND_SEGMENT, SEG_ACTION_DENY, "Deny" },
};

ParameterizedTestParameters(policy_names, actions)
{
	return cr_make_param_array(struct action_case, (void *)action_cases,
				   sizeof(action_cases) / sizeof(action_cases[0]));
}

ParameterizedTest(const struct action_case *c, policy_names, actions)
{
	cr_assert_str_eq(seg_action_name(c->kind, c->action), c->want);
}
