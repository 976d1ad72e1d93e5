/* flow_names.h - what to call the parts of a flow: the local endpoint of
 * an address, a rule, a protocol, a remote identity. Read from segd's
 * compiled state and world; no syscalls. Shared by `segctl flows`, the
 * flow table and explain. */
#ifndef SEGD_FLOW_NAMES_H
#define SEGD_FLOW_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "control.h"

/* The local endpoint owning address a, or NULL. */
const struct seg_endpoint *seg_endpoint_by_addr(const struct segd *d,
						const struct segd_addr *a);
const struct seg_endpoint *seg_endpoint_by_id(const struct segd *d, uint32_t id);
const struct seg_endpoint *seg_endpoint_by_ifindex(const struct segd *d,
						   uint32_t ifindex);
/* "ns/name#N" (N counts from 1) into buf; false when rule_id is unknown
 * (0 = the default verdict). */
bool seg_rule_name(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len);
/* The same, "not-enforced" for 0 and "?" for an unknown id. */
void seg_rule_text(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len);
/* "tcp", "udp", "icmp", "icmpv6", "sctp", else the number (in buf). */
const char *seg_proto_name(uint8_t proto, char *buf, size_t len);
/* An identity that is not a local endpoint: "world", "host",
 * "cidr:10.0.0.0/8", else "identity:N". */
void seg_identity_name(const struct segd *d, uint32_t id, char *buf, size_t len);

#endif /* SEGD_FLOW_NAMES_H */
