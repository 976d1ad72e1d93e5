/* explain_tiers.c - the way a decision went through the tiers
 * (explain_tiers.h): the tiers' order as docs/policy.md gives it, over
 * which rules the compiler says match (seg_flow_match). Pure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "explain_tiers.h"

struct walk {
	const struct seg_world *w;
	const struct seg_flow_match *m;
	int dir;
	bool with_audit;
	struct seg_tier_trace *t;
};

static bool takes_part(const struct walk *k, const struct seg_policy_match *pm)
{
	return pm->subject && (!pm->audit || k->with_audit);
}

static void name_rule(struct seg_tier_trace *t, const struct seg_policy *p, size_t ri)
{
	t->by = SEG_TRACE_RULE;
	t->tier = p->kind == SEG_KIND_CNP ? p->tier : SEG_TIER_NETPOL;
	t->kind = p->kind;
	t->action = p->rules[ri].action;
	seg_rule_label(p->kind, p->tier, p->ns, p->name, (uint32_t)ri,
		       t->decided_by, sizeof(t->decided_by));
	seg_policy_name_of(p, t->policy, sizeof(t->policy));
	snprintf(t->rule_name, sizeof(t->rule_name), "%s",
		 p->rules[ri].name ? p->rules[ri].name : "");
}

/* A ClusterNetworkPolicy tier: its first matching rule decides, a Pass
 * ends the tier undecided. true when decided. */
static bool cnp_tier(struct walk *k, enum seg_tier tier)
{
	for (size_t i = 0; i < k->m->n_policies; i++) {
		const struct seg_policy_match *pm = &k->m->policies[i];
		const struct seg_policy *p = &k->w->policies[pm->policy];

		if (p->kind != SEG_KIND_CNP || p->tier != tier || !takes_part(k, pm))
			continue;
		for (size_t ri = 0; ri < p->n_rules; ri++) {
			struct seg_tier_trace *t = k->t;

			if (!k->m->rule_matches[pm->first_rule_id + ri])
				continue;
			if (p->rules[ri].action != SEG_ACTION_PASS) {
				name_rule(t, p, ri);
				return true;
			}
			if (t->n_passed < SEG_TRACE_NAMES)
				seg_rule_label(p->kind, p->tier, p->ns, p->name,
					       (uint32_t)ri, t->passed_by[t->n_passed++],
					       SEG_TRACE_NAME_LEN);
			return false;
		}
	}
	return false;
}

/* The rule of the NetworkPolicy tier that decides with action act: the
 * chain's own when it is one of them, else the first in rule id order. */
static bool np_rule(struct walk *k, enum seg_action act, uint32_t chain_rule_id)
{
	const struct seg_policy *first = NULL;
	size_t first_ri = 0;

	for (size_t i = 0; i < k->m->n_policies; i++) {
		const struct seg_policy_match *pm = &k->m->policies[i];
		const struct seg_policy *p = &k->w->policies[pm->policy];

		if (p->kind == SEG_KIND_CNP || !takes_part(k, pm))
			continue;
		for (size_t ri = 0; ri < p->n_rules; ri++) {
			uint32_t id = pm->first_rule_id + (uint32_t)ri;

			if (!k->m->rule_matches[id] || (p->rules[ri].action == SEG_ACTION_DENY) !=
						       (act == SEG_ACTION_DENY))
				continue;
			if (id == chain_rule_id) {
				name_rule(k->t, p, ri);
				return true;
			}
			if (!first) {
				first = p;
				first_ri = ri;
			}
		}
	}
	if (first)
		name_rule(k->t, first, first_ri);
	return first != NULL;
}

/* The NetworkPolicy tier decides when one of its policies selects the
 * endpoint in this direction: an explicit deny, else an allow, else its
 * default deny. true when it decided. */
static bool np_tier(struct walk *k, uint32_t chain_rule_id)
{
	struct seg_tier_trace *t = k->t;

	for (size_t i = 0; i < k->m->n_policies; i++) {
		const struct seg_policy_match *pm = &k->m->policies[i];
		const struct seg_policy *p = &k->w->policies[pm->policy];

		if (p->kind == SEG_KIND_CNP || !takes_part(k, pm) || !p->enforce[k->dir])
			continue;
		if (t->n_isolated < SEG_TRACE_NAMES)
			seg_policy_name_of(p, t->isolated_by[t->n_isolated++],
					   SEG_TRACE_NAME_LEN);
		t->n_isolated_total++;
	}
	if (!t->n_isolated_total)
		return false;
	if (np_rule(k, SEG_ACTION_DENY, chain_rule_id) ||
	    np_rule(k, SEG_ACTION_ALLOW, chain_rule_id)) {
		t->n_isolated = t->n_isolated_total = 0;   /* a rule decided */
		return true;
	}
	t->by = SEG_TRACE_ISOLATED;
	t->tier = SEG_TIER_NETPOL;
	t->kind = SEG_KIND_K8S;
	t->action = SEG_ACTION_DENY;
	return true;
}

int seg_explain_tiers(const struct seg_world *world, uint32_t local_id,
		      uint32_t remote_id, int dir, uint8_t proto, uint16_t port,
		      bool with_audit, uint32_t chain_rule_id,
		      struct seg_tier_trace *out, struct seg_error *err)
{
	struct seg_flow_match m;
	struct walk k = { world, &m, dir, with_audit, out };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = seg_flow_match(world, local_id, remote_id, dir, proto, port, &m, err);
	if (rc)
		return rc;
	if (!cnp_tier(&k, SEG_TIER_ADMIN) && !np_tier(&k, chain_rule_id) &&
	    !cnp_tier(&k, SEG_TIER_BASELINE)) {
		out->by = SEG_TRACE_DEFAULT_ALLOW;
		out->action = SEG_ACTION_ALLOW;
	}
	seg_flow_match_free(&m);
	return 0;
}

const char *seg_trace_tier_name(const struct seg_tier_trace *t)
{
	return t->by == SEG_TRACE_DEFAULT_ALLOW ? "none" : seg_tier_name(t->kind, t->tier);
}

const char *seg_trace_action_name(const struct seg_tier_trace *t)
{
	return seg_action_name(t->by == SEG_TRACE_RULE ? t->kind : SEG_KIND_K8S, t->action);
}
