/* policy_parse.h - policy documents (YAML) -> struct seg_policy.
 *
 * Three kinds are understood, in any mix, in one multi-document stream:
 *   segd.io/v1 SegmentPolicy          segd's own label-based kind
 *   networking.k8s.io/v1 NetworkPolicy with Kubernetes' exact semantics
 *   policy.networking.k8s.io/v1beta1 (or v1alpha2) ClusterNetworkPolicy,
 *                                     validated as its CRD does
 * docs/policy.md is the reference for all three.
 *
 * Conventions of the produced model (the compiler relies on them):
 *   - rules hold ingress rules first, then egress rules, each in document
 *     order; rule->dir is SEGD_DIR_INGRESS or SEGD_DIR_EGRESS;
 *   - rule->name is "" when the rule has no name (NetworkPolicy rules never
 *     have one);
 *   - a port entry with port_lo == 0 (and port_hi == 0) means every port of
 *     that protocol; proto 0 means any protocol (then ports are 0 too);
 *     `protocol: any` with a port is expanded to TCP, UDP and SCTP entries;
 *   - NetworkPolicy rules are all SEG_ACTION_ALLOW and subjects never have
 *     has_subject_ns;
 *   - SEG_PEER_ENDPOINTS with has_namespaces == false means the policy's own
 *     namespace; has_namespaces with an empty `namespaces` selector means
 *     every namespace;
 *   - tier is SEG_TIER_NETPOL and priority 0 for SegmentPolicy and
 *     NetworkPolicy; only ClusterNetworkPolicy rules are SEG_ACTION_PASS
 *     and only they have SEG_PEER_NODES, SEG_PEER_DOMAIN or SEG_PEER_NONE
 *     peers or fail_closed set.
 *
 * ClusterNetworkPolicy (kind SEG_KIND_CNP):
 *   - ns is "" (cluster-scoped; metadata.namespace is an error and
 *     default_ns is not used); tier is SEG_TIER_ADMIN or
 *     SEG_TIER_BASELINE, priority 0..1000 (lower goes first);
 *   - the subject always has has_subject_ns: `namespaces: S` gives
 *     subject_namespaces = S and an empty subject (every pod there);
 *     `pods` gives subject_namespaces = namespaceSelector (empty when
 *     absent) and subject = podSelector;
 *   - enforce[dir] is true exactly when the spec has rules in that
 *     direction: a CNP without ingress rules does not affect ingress (it
 *     does not isolate the pods it selects);
 *   - Accept is SEG_ACTION_ALLOW, Deny SEG_ACTION_DENY, Pass
 *     SEG_ACTION_PASS; rule order is evaluation order within the policy;
 *   - peers: `namespaces: S` is SEG_PEER_ENDPOINTS with has_namespaces,
 *     namespaces = S and empty pods; `pods` is SEG_PEER_ENDPOINTS with
 *     has_namespaces and both selectors; each `networks` CIDR is one
 *     SEG_PEER_CIDR (no except; v1alpha2 host bits are cleared); `nodes`
 *     is SEG_PEER_NODES; each `domainNames` name is one SEG_PEER_DOMAIN
 *     (lower case, no final dot; only in SEG_ACTION_ALLOW rules);
 *   - ports: tcp/udp/sctp destinationPort number N gives {proto, N, N},
 *     range {start, end} gives {proto, start, end}; destinationNamedPort
 *     gives {0, 0, 0, name}: the subject's (ingress) or peer's (egress)
 *     container port of that name, on the protocol it has; no protocols:
 *     all_ports;
 *   - a peer without any field ({} or null: a field this segd does not
 *     know would be an error) fails closed as the API says, by rewriting
 *     its rule (fail_closed = true): an Accept rule gets the single peer
 *     SEG_PEER_NONE, which matches nothing; a Deny or Pass rule becomes
 *     SEG_ACTION_DENY with all_peers and all_ports ("Deny all").
 */
#ifndef SEGD_POLICY_PARSE_H
#define SEGD_POLICY_PARSE_H

#include <stddef.h>
#include "model.h"

/* Parse a multi-document YAML stream holding the kinds above.
 * All-or-nothing: on any error nothing is returned (*out = NULL,
 * *n_out = 0) and err says file:line:col and what to do. Documents of a
 * namespaced kind without metadata.namespace get default_ns ("default"
 * if NULL). Empty documents (`---` alone) are skipped;
 * a stream without any document gives 0 policies and returns 0.
 * `file` (may be NULL) is used in messages and copied to source_file.
 * Each policy's `source` is its document re-serialised as YAML (with
 * metadata.namespace filled in for namespaced kinds) that parses back to
 * the same policy.
 * Returns 0 or -errno (-EINVAL for bad input, -ENOMEM). */
int seg_policy_parse(const char *buf, size_t len, const char *file,
		     const char *default_ns, struct seg_policy **out,
		     size_t *n_out, struct seg_error *err);

/* Free an array returned by seg_policy_parse (and the array itself). */
void seg_policies_free(struct seg_policy *p, size_t n);

#endif /* SEGD_POLICY_PARSE_H */
