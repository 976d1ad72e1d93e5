/* explain_tiers.h - the way one hook's decision went through the tiers:
 * Admin rules in order (a Pass skips the rest of the Admin tier), the
 * NetworkPolicy tier when a NetworkPolicy or SegmentPolicy isolates the
 * endpoint in that direction, Baseline, then default allow.
 *
 * The compiled chain folds Pass rules away, so the way is evaluated anew
 * from the world's policies, matched by the compiler itself
 * (seg_flow_match). It only names: the verdict stays the chain's
 * (explain.c). Pure. */
#ifndef SEGD_EXPLAIN_TIERS_H
#define SEGD_EXPLAIN_TIERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

#define SEG_TRACE_NAMES 8      /* passed_by / isolated_by names kept */
#define SEG_TRACE_NAME_LEN 300

enum seg_trace_decider {
	SEG_TRACE_RULE = 0,        /* a rule of `tier` decided */
	SEG_TRACE_ISOLATED,        /* the NetworkPolicy tier's default deny */
	SEG_TRACE_DEFAULT_ALLOW,   /* no tier decided */
};

struct seg_tier_trace {
	enum seg_trace_decider by;
	enum seg_tier tier;           /* the tier that decided (RULE, ISOLATED) */
	enum seg_policy_kind kind;    /* the deciding policy's kind (RULE) */
	enum seg_action action;       /* ALLOW or DENY (what decided) */
	char decided_by[SEG_TRACE_NAME_LEN];  /* "admin/guard#1", "shop/np#2";
					       * "" unless RULE */
	char policy[SEG_TRACE_NAME_LEN];      /* "admin/guard", "shop/np" */
	char rule_name[SEG_TRACE_NAME_LEN];   /* the rule's own name, "" */
	/* Pass rules met on the way, in order (at most one per tier) */
	char passed_by[SEG_TRACE_NAMES][SEG_TRACE_NAME_LEN];
	size_t n_passed;
	/* ISOLATED: the policies selecting the endpoint with the direction
	 * in their types ("ns/name"); the first SEG_TRACE_NAMES of
	 * n_isolated_total */
	char isolated_by[SEG_TRACE_NAMES][SEG_TRACE_NAME_LEN];
	size_t n_isolated, n_isolated_total;
};

/* The trace of one hook: local identity local_id, remote identity
 * remote_id, dir, proto, port, over world (the world c was compiled
 * from). with_audit: audit-mode policies take part (the chain's verdict
 * was audit: name what would deny); else only enforced ones do.
 * chain_rule_id (0: none) is the rule the chain hit: where several rules
 * of the NetworkPolicy tier agree, that one is named. 0, or -errno of
 * seg_flow_match (-ENOENT: local_id is no endpoint of world). */
int seg_explain_tiers(const struct seg_world *world, uint32_t local_id,
		      uint32_t remote_id, int dir, uint8_t proto, uint16_t port,
		      bool with_audit, uint32_t chain_rule_id,
		      struct seg_tier_trace *out, struct seg_error *err);

/* "Admin", "NetworkPolicy", "Baseline"; "none" for DEFAULT_ALLOW */
const char *seg_trace_tier_name(const struct seg_tier_trace *t);
/* "Accept", "Allow", "Deny" */
const char *seg_trace_action_name(const struct seg_tier_trace *t);

#endif /* SEGD_EXPLAIN_TIERS_H */
