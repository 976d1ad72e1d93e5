/* flows.h - the `flows` request: conntrack entries as flows, and the
 * helpers `explain` and `graph` share with it. */
#ifndef SEGD_FLOWS_H
#define SEGD_FLOWS_H

#include <yaml.h>
#include "control.h"

int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

/* Call fn for every conntrack entry (reads the pinned map, changes
 * nothing). 0, or -errno with err filled (no datapath, map unreadable). */
typedef void (*segd_ct_fn)(void *ctx, const struct segd_ct_key *k,
			   const struct segd_ct_value *v);
int segd_ct_foreach(struct segd *d, segd_ct_fn fn, void *ctx, struct seg_error *err);

/* "ns/name#N" of a rule id ("not-enforced" for 0, "?" when unknown). Pure. */
void segd_rule_text(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		    size_t len);
/* "tcp", "udp", "sctp", "icmp", "icmpv6", else the number in buf. Pure. */
const char *segd_proto_name(uint8_t proto, char *buf, size_t len);

#endif /* SEGD_FLOWS_H */
