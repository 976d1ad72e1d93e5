/* flow_names.h - what to call the parts of a flow: the local endpoint of
 * an address, a rule, a protocol, a remote identity. Read from segd's
 * compiled state and world (a seg_view); no syscalls. Shared by `segctl flows`, the
 * flow table and explain. */
#ifndef SEGD_FLOW_NAMES_H
#define SEGD_FLOW_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

struct seg_name_index;

/* What names are read from: the world and what the kernel enforces. Two
 * pointers, so a view taken once follows every later apply. With an index
 * (name_index.h; the flow table keeps one) lookups by id, ifindex and
 * identity are O(1)/O(log n) instead of a scan per lookup; without one
 * (NULL) they scan. Both give the same answers. */
struct seg_view {
	const struct seg_world *world;
	const struct seg_compiled *compiled;
	struct seg_name_index *index;   /* optional */
};

/* The local endpoint owning address a, or NULL. */
const struct seg_endpoint *seg_endpoint_by_addr(const struct seg_view *v,
						const struct segd_addr *a);
const struct seg_endpoint *seg_endpoint_by_id(const struct seg_view *v, uint32_t id);
const struct seg_endpoint *seg_endpoint_by_ifindex(const struct seg_view *v,
						   uint32_t ifindex);
/* The rule rule_id names, or NULL (0 = the default verdict). */
const struct seg_rule_ref *seg_rule_ref_of(const struct seg_compiled *c,
					   uint32_t rule_id);
/* "ns/name#N", or "admin/name#N" / "baseline/name#N" for a
 * ClusterNetworkPolicy (seg_rule_label; N counts from 1) into buf; false
 * when rule_id is unknown (0 = the default verdict). */
bool seg_rule_name(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len);
/* The same, "not-enforced" for 0 and "?" for an unknown id. */
void seg_rule_text(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len);
/* "forwarded", "dropped", "audit" (enum seg_flow_verdict) */
const char *seg_flow_verdict_name(uint8_t verdict);
/* allow|forwarded, deny|dropped, audit -> enum seg_flow_verdict, or -EINVAL */
int seg_flow_verdict_parse(const char *s);
/* An identity that is not a local endpoint: "world", "host",
 * "cidr:10.0.0.0/8", else "identity:N". */
void seg_identity_name(const struct seg_view *v, uint32_t id, char *buf, size_t len);

#endif /* SEGD_FLOW_NAMES_H */
