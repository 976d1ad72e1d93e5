/* policy_parse.h - policy documents (YAML) -> struct seg_policy.
 *
 * Two kinds are understood, in any mix, in one multi-document stream:
 *   segd.io/v1 SegmentPolicy          segd's own label-based kind
 *   networking.k8s.io/v1 NetworkPolicy with Kubernetes' exact semantics
 * docs/policy.md is the reference for both.
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
 *     every namespace.
 */
#ifndef SEGD_POLICY_PARSE_H
#define SEGD_POLICY_PARSE_H

#include <stddef.h>
#include "model.h"

/* Parse a multi-document YAML stream holding segd.io/v1 SegmentPolicy and
 * networking.k8s.io/v1 NetworkPolicy documents. All-or-nothing: on any
 * error nothing is returned (*out = NULL, *n_out = 0) and err says
 * file:line:col and what to do. Documents without metadata.namespace get
 * default_ns ("default" if NULL). Empty documents (`---` alone) are skipped;
 * a stream without any document gives 0 policies and returns 0.
 * `file` (may be NULL) is used in messages and copied to source_file.
 * Each policy's `source` is its document re-serialised as YAML (with
 * metadata.namespace filled in) that parses back to the same policy.
 * Returns 0 or -errno (-EINVAL for bad input, -ENOMEM). */
int seg_policy_parse(const char *buf, size_t len, const char *file,
		     const char *default_ns, struct seg_policy **out,
		     size_t *n_out, struct seg_error *err);

/* Free an array returned by seg_policy_parse (and the array itself). */
void seg_policies_free(struct seg_policy *p, size_t n);

#endif /* SEGD_POLICY_PARSE_H */
