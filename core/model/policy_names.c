/* policy_names.c - what segd calls a policy and a rule wherever it names
 * one: flow records, metrics, explain, `get policies`. A
 * ClusterNetworkPolicy has no namespace; its tier takes the namespace's
 * place ("admin/NAME#N"), so its name never reads "/NAME#N" and never
 * collides with a namespace's policy. */
#include "model.h"

#include <stdio.h>
#include <string.h>

static const char *tier_scope(enum seg_tier tier)
{
	return tier == SEG_TIER_ADMIN ? "admin" : "baseline";
}

void seg_policy_label(enum seg_policy_kind kind, enum seg_tier tier,
		      const char *ns, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", kind == SEG_KIND_CNP ? tier_scope(tier) :
		 ns && *ns ? ns : "default", name ? name : "");
}

void seg_rule_label(enum seg_policy_kind kind, enum seg_tier tier,
		    const char *ns, const char *name, uint32_t rule_index,
		    char *buf, size_t len)
{
	size_t n;

	seg_policy_label(kind, tier, ns, name, buf, len);
	n = strnlen(buf, len);
	if (n < len)
		snprintf(buf + n, len - n, "#%u", rule_index + 1);
}

void seg_policy_name_of(const struct seg_policy *p, char *buf, size_t len)
{
	seg_policy_label(p->kind, p->tier, p->ns, p->name, buf, len);
}

const char *seg_policy_kind_name(enum seg_policy_kind kind)
{
	return kind == SEG_KIND_K8S ? "NetworkPolicy" :
	       kind == SEG_KIND_CNP ? "ClusterNetworkPolicy" : "SegmentPolicy";
}

const char *seg_tier_name(enum seg_policy_kind kind, enum seg_tier tier)
{
	if (kind != SEG_KIND_CNP)
		return "NetworkPolicy";
	return tier == SEG_TIER_ADMIN ? "Admin" : "Baseline";
}

const char *seg_action_name(enum seg_policy_kind kind, enum seg_action action)
{
	switch (action) {
	case SEG_ACTION_ALLOW:
		/* each kind's own word: Accept in a ClusterNetworkPolicy */
		return kind == SEG_KIND_CNP ? "Accept" : "Allow";
	case SEG_ACTION_DENY:
		return "Deny";
	case SEG_ACTION_PASS:
		return "Pass";
	}
	return "?";
}
