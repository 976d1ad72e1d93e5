/* explain.h - `segctl explain`: would a flow pass, and what decides it.
 *
 * Pure (no syscalls): it reads the compiled state the kernel was given
 * (struct seg_compiled) and the loaded blocklists, and walks them exactly as
 * the datapath does (bpf/lib/pipeline.h, bpf/lib/policy.h). A flow between two
 * local endpoints is decided twice - at the source's egress hook and at the
 * destination's ingress hook - and must pass both.
 */
#ifndef SEGD_EXPLAIN_H
#define SEGD_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "blocklist.h"
#include "compiler.h"
#include "explain_tiers.h"

enum seg_explain_verdict {
	SEG_EXPLAIN_ALLOW = 0,
	SEG_EXPLAIN_AUDIT,      /* passes, reported: a policy in audit mode */
	SEG_EXPLAIN_DENY,
};

enum seg_explain_why {
	SEG_WHY_RULE = 0,       /* a policy entry decided (rule_id, key) */
	SEG_WHY_DEFAULT_DENY,   /* enforced direction, no entry matched */
	SEG_WHY_NOT_ENFORCED,   /* no policy enforces this direction */
	SEG_WHY_BLOCKLISTED,    /* the remote address is on a drop list */
	SEG_WHY_NO_HOOK,        /* this end is not a local endpoint: no hook */
};

/* The blocklists as loaded (control_blocklist.c), for seg_blocklists_test. */
struct seg_explain_lists {
	const struct seg_blocklist *lists;
	const bool *exception;  /* per list: an exception list, not a blocklist */
	size_t n_lists;
	const struct seg_cidr *exceptions;
	size_t n_exceptions;
};

/* One hook's decision: egress at the source or ingress at the destination. */
struct seg_explain_half {
	int dir;                          /* SEGD_DIR_* */
	struct in6_addr local, remote;
	uint32_t local_id, remote_id;     /* remote_id: 0 when not looked up */
	uint32_t lflags;                  /* the local address's ipcache flags */
	enum seg_explain_verdict verdict;
	enum seg_explain_why why;
	uint32_t rule_id;                 /* SEG_WHY_RULE */
	struct segd_policy_key key;       /* SEG_WHY_RULE: the probe that hit */
	int probe;                        /* its place in the chain, 1..8 */
	char rule[300];                   /* "ns/name#N", "default deny", ... */
	char list[128];                   /* blocklist that drops (BLOCKLISTED) */
	char audit_list[128];             /* audit list holding remote, or "" */
	uint8_t polf;                     /* SEG_WHY_RULE: the entry's SEGD_POLF_* */
	/* the tiers the decision went through (seg_explain_flow_tiers), for
	 * a hook that asked policy: RULE, DEFAULT_DENY, NOT_ENFORCED */
	bool traced;
	struct seg_tier_trace trace;
};

struct seg_explain {
	struct seg_explain_half half[2];  /* [SEGD_DIR_EGRESS] at the source,
					   * [SEGD_DIR_INGRESS] at the dest. */
	enum seg_explain_verdict verdict; /* both together */
};

/* The drop list (not excepted) that blocks remote, as the datapath would
 * count it, into list; false when none does. */
bool seg_explain_blocklist(const struct seg_explain_lists *l, const struct in6_addr *remote,
			   char *list, size_t len);

/* Explain src -> dst, protocol proto (IPPROTO_*), destination port (0 for
 * ICMP). lists may be NULL (no blocklists). Fills *out; never fails. */
void seg_explain_flow(const struct seg_compiled *c,
		      const struct seg_explain_lists *lists,
		      const struct in6_addr *src, const struct in6_addr *dst,
		      uint8_t proto, uint16_t port, struct seg_explain *out);

/* Name the tiers, policies and rules each half of x went through
 * (explain_tiers.h), over world, the world c was compiled from; x from
 * seg_explain_flow for the same proto and port. A half whose local end
 * world does not know stays untraced. Never fails. */
void seg_explain_flow_tiers(const struct seg_world *world, uint8_t proto,
			    uint16_t port, struct seg_explain *x);

const char *seg_explain_verdict_name(enum seg_explain_verdict v); /* allow|audit|deny */
const char *seg_explain_why_name(enum seg_explain_why w);
/* "exact", "block", "any-port", "any-proto" */
const char *seg_explain_port_kind_name(const struct segd_policy_key *k);

#endif /* SEGD_EXPLAIN_H */
