/* policy_parse_int.h - internals shared by policy_parse*.c. Not an API.
 *
 * Call order: policy_parse.c (stream, envelope, source) -> the specs
 * policy_parse_k8s.c, policy_parse_cnp.c, policy_parse_seg.c ->
 * policy_parse_fields.c (selectors, CIDRs, ports, rule start) ->
 * policy_parse_util.c (errors, type checks, keys, choices).
 */
#ifndef SEGD_POLICY_PARSE_INT_H
#define SEGD_POLICY_PARSE_INT_H

#include <stdbool.h>
#include "model.h"
#include "yaml_util.h"

/* Parse state of one document. */
struct pp {
	yaml_document_t *doc;
	const char *file;
	const char *ns;          /* namespace of the policy being parsed */
	struct seg_error *err;
	yaml_node_t *mode_note;  /* value of annotation segd.io/mode, or NULL */
	yaml_node_t *staged_note; /* value of annotation segd.io/staged, or NULL */
};

#define PP_MODE_ANNOTATION "segd.io/mode"
#define PP_STAGED_ANNOTATION "segd.io/staged"

enum pp_flavor {
	PP_K8S,                  /* networking.k8s.io/v1: Kubernetes' rules */
	PP_SEG,                  /* segd.io/v1: our own, a bit more liberal */
};

/* Printable, bounded copy of user text for messages: Q(s). */
const char *pp_q(const char *s, char *buf, size_t len);
#define Q(s) pp_q((s), (char[72]){ 0 }, 72)

/* Error at node n (position of n); returns -EINVAL. */
int pp_err(const struct pp *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pp_nomem(const struct pp *c);
/* "a mapping", "a list", "a string"... for messages. */
const char *pp_type_name(const yaml_node_t *n);

yaml_node_t *pp_get(const struct pp *c, yaml_node_t *map, const char *key);
/* The key node of `key` in map (for positions), NULL if absent. */
yaml_node_t *pp_key_node(const struct pp *c, yaml_node_t *map, const char *key);

/* Type checks; `what` names the field in messages ("spec.ingress"). */
int pp_want_map(const struct pp *c, const yaml_node_t *n, const char *what);
int pp_want_seq(const struct pp *c, const yaml_node_t *n, const char *what);
/* Non-null scalar; *out points into the document. */
int pp_want_str(const struct pp *c, const yaml_node_t *n, const char *what,
		const char **out);
/* Scalar n must be one of names (NULL-terminated; fold: any case); *idx
 * gets which, else "unknown WHAT 'X'; use CHOICES". */
int pp_choice(const struct pp *c, const yaml_node_t *n, const char *what,
	      const char *const *names, bool fold, const char *choices,
	      size_t *idx);
/* Every key of mapping n must be a string from `keys` (NULL-terminated)
 * and appear once. Unknown keys get a did-you-mean when one is close. */
int pp_keys(const struct pp *c, const yaml_node_t *n, const char *what,
	    const char *const *keys);

/* Kubernetes LabelSelector {matchLabels, matchExpressions}; null or
 * missing (n == NULL) gives the empty selector. */
int pp_selector(const struct pp *c, yaml_node_t *n, const char *what,
		struct seg_selector *out);
/* cidr (+ optional except list) -> SEG_PEER_CIDR peer. K8S requires
 * explicit prefix lengths. */
int pp_cidr_peer(const struct pp *c, yaml_node_t *cidr, yaml_node_t *except,
		 enum pp_flavor fl, struct seg_peer *out);
/* `ports` value of a rule -> r->all_ports / r->ports. Missing, null or
 * (K8S only) [] means all ports. */
int pp_ports(const struct pp *c, yaml_node_t *n, enum pp_flavor fl,
	     struct seg_rule *r);
/* The start of a SegmentPolicy or ClusterNetworkPolicy rule at node n:
 * r->dir, line and col, then the keys name, action, from (ingress) or to
 * (egress) and ports_key, the other direction's peer key with a message
 * of its own. A null n is left to the caller: 0. */
int pp_rule_start(const struct pp *c, yaml_node_t *n, int dir,
		  const char *ports_key, struct seg_rule *r);
/* calloc that never returns NULL for n == 0 and checks overflow. */
void *pp_calloc(size_t n, size_t size);

/* Case-insensitive edit distance, capped at 9 (for did-you-mean). */
unsigned pp_edit_distance(const char *a, const char *b);
/* Is `typed` close enough to `known` to suggest it? */
bool pp_close(const char *typed, const char *known);
/* Scalar node n as a valid label key / value (null value = ""). */
int pp_label_key(const struct pp *c, yaml_node_t *n, const char *what,
		 const char **out);
int pp_label_value(const struct pp *c, yaml_node_t *n, const char *what,
		   const char **out);

/* Kind-specific spec parsers (policy_parse_k8s.c, policy_parse_cnp.c,
 * policy_parse_seg.c). p->name/ns are set; they fill subject, enforce,
 * audit, rules (and for ClusterNetworkPolicy tier and priority). */
int pp_k8s_spec(const struct pp *c, yaml_node_t *spec, struct seg_policy *p);
int pp_cnp_spec(const struct pp *c, yaml_node_t *spec, bool v1beta1,
		struct seg_policy *p);
int pp_seg_spec(const struct pp *c, yaml_node_t *spec, struct seg_policy *p);

#endif /* SEGD_POLICY_PARSE_INT_H */
