/* model.h - segd's desired-state model: namespaces, endpoints, policies.
 *
 * Produced by the policy parser and the control handlers, consumed by the
 * pure compiler. Plain data, owned by whoever allocated it; *_free()
 * functions release everything a struct owns (not the struct itself).
 */
#ifndef SEGD_MODEL_H
#define SEGD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "error.h"
#include "segd_abi.h"

/* ---- labels and selectors --------------------------------------------- */
struct seg_label {
	char *key;
	char *value;
};

struct seg_labels {          /* kept sorted by key, keys unique */
	struct seg_label *v;
	size_t n;
};

enum seg_sel_op {
	SEG_SEL_IN,
	SEG_SEL_NOT_IN,
	SEG_SEL_EXISTS,
	SEG_SEL_DOES_NOT_EXIST,
};

struct seg_sel_req {
	char *key;
	enum seg_sel_op op;
	char **values;
	size_t n_values;
};

/* A Kubernetes LabelSelector: matchLabels become IN requirements with one
 * value. An empty selector (n_reqs == 0) matches everything. */
struct seg_selector {
	struct seg_sel_req *reqs;
	size_t n_reqs;
};

/* ---- addresses ----------------------------------------------------------- */
struct seg_cidr {
	struct in6_addr addr;   /* IPv4 stored mapped: ::ffff:a.b.c.d */
	uint8_t plen;           /* 0..128 over the mapped form (v4 /N = 96+N) */
};

/* ---- policy ------------------------------------------------------------- */
enum seg_policy_kind {
	SEG_KIND_SEGMENT,      /* segd.io/v1 SegmentPolicy */
	SEG_KIND_K8S,          /* networking.k8s.io/v1 NetworkPolicy */
	SEG_KIND_CNP,          /* policy.networking.k8s.io ClusterNetworkPolicy
				* (v1alpha2, v1beta1): cluster-scoped, ns "" */
};

/* Where a policy sits in the evaluation order: Admin tier (by priority,
 * then rule order), then the NetworkPolicy tier, then Baseline. */
enum seg_tier {
	SEG_TIER_NETPOL = 0,   /* SegmentPolicy and NetworkPolicy */
	SEG_TIER_ADMIN,        /* ClusterNetworkPolicy tier: Admin */
	SEG_TIER_BASELINE,     /* ClusterNetworkPolicy tier: Baseline */
};

enum seg_action {
	SEG_ACTION_ALLOW,      /* allow; ClusterNetworkPolicy's Accept */
	SEG_ACTION_DENY,
	SEG_ACTION_PASS,       /* ClusterNetworkPolicy only: skip the rest of
				* the tier, the next tier decides */
};

enum seg_peer_kind {
	SEG_PEER_ENDPOINTS,    /* pods selected by pod and namespace selectors */
	SEG_PEER_CIDR,         /* cidr minus except */
	SEG_PEER_WORLD,        /* everything that is not a known endpoint or host */
	SEG_PEER_HOST,         /* the node itself */
	SEG_PEER_ALL,          /* anything at all */
	SEG_PEER_NODES,        /* addresses of nodes whose labels match `nodes` */
	SEG_PEER_DOMAIN,       /* addresses `domain` resolves to */
	SEG_PEER_NONE,         /* matches nothing: a ClusterNetworkPolicy peer
				* without any field fails closed (an Accept
				* rule with it matches nothing, a Deny or Pass
				* rule with it matches every peer, see
				* policy_parse.h) */
};

struct seg_peer {
	enum seg_peer_kind kind;
	/* SEG_PEER_ENDPOINTS: pods matching `pods` in namespaces matching
	 * `namespaces`; when has_namespaces is false, only the policy's own
	 * namespace. */
	struct seg_selector pods;
	bool has_namespaces;
	struct seg_selector namespaces;
	/* SEG_PEER_CIDR */
	struct seg_cidr cidr;
	struct seg_cidr *except;
	size_t n_except;
	/* SEG_PEER_NODES: node label selector (empty: every node) */
	struct seg_selector nodes;
	/* SEG_PEER_DOMAIN: an exact name ("example.com") or a wildcard
	 * ("*.example.com": one or more labels before example.com), lower
	 * case, without a trailing dot */
	char *domain;
};

/* A Kubernetes port name (IANA_SVC_NAME): at most 15 characters. */
#define SEG_PORT_NAME_MAX 15

struct seg_port {
	uint8_t proto;          /* IPPROTO_TCP/UDP/SCTP/ICMP/ICMPV6, 0 = any */
	uint16_t port_lo;       /* 0 = any port (or a named port) */
	uint16_t port_hi;       /* == port_lo for a single port */
	/* a named port: resolved per destination endpoint by the compiler
	 * (the endpoint's port of this name and protocol; with proto 0, a
	 * ClusterNetworkPolicy destinationNamedPort, the endpoint's port of
	 * this name whatever its protocol); "" = numeric */
	char name[SEG_PORT_NAME_MAX + 1];
};

struct seg_rule {
	enum seg_action action;
	int dir;                /* enum segd_dir */
	char *name;             /* optional; "" when unnamed */
	bool all_peers;         /* from/to missing: any peer */
	struct seg_peer *peers; /* OR'd */
	size_t n_peers;
	bool all_ports;         /* ports missing: any protocol, any port */
	struct seg_port *ports; /* OR'd */
	size_t n_ports;
	bool fail_closed;       /* ClusterNetworkPolicy: a peer had no field,
				 * so the parser rewrote the rule to fail
				 * closed (policy_parse.h); action, peers and
				 * ports are the rewritten ones */
	int line, col;          /* position in the source document */
};

struct seg_policy {
	enum seg_policy_kind kind;
	char *name;
	char *ns;               /* namespace the policy lives in; "" for a
				 * cluster-scoped ClusterNetworkPolicy */
	char *source_file;      /* for messages; may be NULL */
	char *source;           /* the document re-serialised as YAML: what the
				 * state dir stores and `get -o yaml` shows */
	uint64_t raw_hash;      /* hash of the document's text as applied (and
				 * the namespace it defaulted to): an apply that
				 * sends the same text again skips parsing it */
	int line, col;          /* of the document */
	/* Subject: endpoints matching `subject` in the policy's namespace, or
	 * in namespaces matching `subject_namespaces` when has_subject_ns. */
	struct seg_selector subject;
	bool has_subject_ns;
	struct seg_selector subject_namespaces;
	bool enforce[2];        /* [SEGD_DIR_INGRESS], [SEGD_DIR_EGRESS] */
	bool audit;             /* own mode is audit (SegmentPolicy spec.mode,
				 * annotation segd.io/mode); a policy is also in
				 * audit mode when its namespace is */
	bool staged;            /* put in audit mode by `apply --mode audit`
				 * (annotation segd.io/staged: "true", which the
				 * stored source carries): `promote` enforces it */
	struct seg_rule *rules; /* ingress and egress rules, in document order */
	size_t n_rules;
	enum seg_tier tier;     /* SEG_TIER_NETPOL unless SEG_KIND_CNP */
	int priority;           /* SEG_KIND_CNP: 0..1000, lower goes first;
				 * 0 for the other kinds */
};

/* ---- endpoints and namespaces ------------------------------------------- */
/* What the datapath does when an endpoint's flow opens with a Stratum
 * (crypto-mining) login: per namespace. */
enum seg_stratum_mode {
	SEG_STRATUM_DROP = 0,     /* the default */
	SEG_STRATUM_AUDIT,        /* count it, let it pass */
	SEG_STRATUM_OFF,          /* do not look */
};
const char *seg_stratum_mode_name(enum seg_stratum_mode m);
int seg_stratum_mode_parse(const char *s, enum seg_stratum_mode *out);

/* Policy mode of a policy or of every policy of a namespace: audit never
 * drops, it reports the flows enforcement would drop (docs/policy.md). */
enum seg_policy_mode {
	SEG_MODE_ENFORCE = 0,     /* the default */
	SEG_MODE_AUDIT,
};
const char *seg_policy_mode_name(enum seg_policy_mode m);
int seg_policy_mode_parse(const char *s, enum seg_policy_mode *out);

/* What segd does when a detection fires (core/detect/detect.h). */
enum seg_detect_action {
	SEG_DETECT_ALERT = 0,       /* report only */
	SEG_DETECT_QUARANTINE,      /* report and quarantine the endpoint */
	SEG_DETECT_OFF,             /* namespace setting only: never report */
};

struct seg_namespace {
	char *name;
	struct seg_labels labels; /* includes kubernetes.io/metadata.name */
	enum seg_stratum_mode stratum;
	enum seg_policy_mode mode;
	/* `namespace set --on-detect`: what every detection of its endpoints
	 * does, over the config's per-kind actions */
	enum seg_detect_action on_detect;
	bool on_detect_set;       /* false: the config's `detect: actions` */
};

#define SEG_MAX_EP_IPS 8
/* the tc hooks find every address of an endpoint interface in one segd_ifc
 * entry */
_Static_assert(SEG_MAX_EP_IPS == SEGD_IFC_ADDRS, "SEGD_IFC_ADDRS is SEG_MAX_EP_IPS");
#define SEG_MAX_EP_PORTS 32

/* A container port an endpoint serves under a name, for named ports in
 * policies (`port: http`). */
struct seg_named_port {
	char name[SEG_PORT_NAME_MAX + 1];
	uint16_t port;
	uint8_t proto;          /* IPPROTO_TCP/UDP/SCTP */
};

struct seg_endpoint {
	char *name;
	char *ns;
	struct seg_labels labels;
	struct in6_addr ips[SEG_MAX_EP_IPS]; /* IPv4 mapped */
	size_t n_ips;
	struct seg_named_port ports[SEG_MAX_EP_PORTS]; /* sorted by name */
	size_t n_ports;
	char ifname[16];
	uint32_t ifindex;       /* 0 until the interface is known */
	uint32_t endpoint_id;   /* stable small id, 1.. */
	bool remote;            /* a pod of another node: no interface here,
				 * only its addresses -> its identity in the
				 * ipcache, so policies selecting its labels
				 * match it as a peer */
};

/* What a CIDR peer (ipBlock) selects (config `policy_cidr_match`). */
enum seg_cidr_match {
	/* every address inside it, pods included: Kubernetes' e2e suite,
	 * Calico, Antrea (the default) */
	SEG_CIDR_MATCH_ALL = 0,
	/* only addresses no endpoint or node claims: Cilium's default */
	SEG_CIDR_MATCH_OUTSIDE,
};
const char *seg_cidr_match_name(enum seg_cidr_match m);
int seg_cidr_match_parse(const char *s, enum seg_cidr_match *out);

/* ---- named ports (model_ports.c) ------------------------------------------ */
/* NULL when name is a valid port name (IANA_SVC_NAME, as Kubernetes
 * validates it), else what is wrong with it */
const char *seg_port_name_problem(const char *name);
/* "NAME=NUMBER[/TCP|UDP|SCTP]" (TCP when no protocol); 0 or -EINVAL with
 * what is wrong in why */
int seg_named_port_parse(const char *text, struct seg_named_port *out,
			 const char **why);
/* "NAME=NUMBER/PROTO" */
void seg_named_port_format(const struct seg_named_port *p, char *buf,
			   size_t len);
/* add p to e's ports, kept sorted by name; -EEXIST for a name it has,
 * -E2BIG past SEG_MAX_EP_PORTS */
int seg_endpoint_add_port(struct seg_endpoint *e,
			  const struct seg_named_port *p);
/* e's port named name with protocol proto (0: whatever its protocol),
 * or NULL */
const struct seg_named_port *seg_endpoint_port(const struct seg_endpoint *e,
					       const char *name, uint8_t proto);

/* ---- nodes and resolved names (model_nodes.c) -------------------------------- */
#define SEG_MAX_NODE_IPS 8

/* A node of the cluster (`segctl node set`, the cluster sync from Node
 * objects): what a ClusterNetworkPolicy `nodes` peer selects by labels.
 * Its addresses become exact-prefix CIDR identities; a node holding one
 * of this node's own addresses (node_addresses) is this node: the peer
 * then selects the host identity. */
struct seg_node {
	char *name;
	struct seg_labels labels;
	struct in6_addr ips[SEG_MAX_NODE_IPS]; /* IPv4 mapped */
	size_t n_ips;
};

/* What one exact domain name of a `domainNames` peer resolved to. The
 * daemon's resolver fills the table; the compiler only reads it. */
struct seg_name_addrs {
	char *name;               /* lower case, no trailing dot */
	struct in6_addr *ips;     /* IPv4 mapped; sorted, unique */
	size_t n_ips;
};

void seg_node_free(struct seg_node *n);
/* Why name is not a valid node name (a DNS-1123 subdomain), or NULL. */
const char *seg_node_name_problem(const char *name);
/* The entry of `name` in a table sorted by name, or NULL. */
const struct seg_name_addrs *seg_names_find(const struct seg_name_addrs *v,
					    size_t n, const char *name);
void seg_name_addrs_free(struct seg_name_addrs *v, size_t n);

struct seg_world;
/* The exact names of every domainNames peer of w's policies (a wildcard
 * cannot be asked for), sorted and unique, into a new array of names
 * borrowed from the policies: what the daemon's resolver asks for. */
int seg_world_domains(const struct seg_world *w, const char ***out, size_t *n);

/* The whole desired state the compiler works from. */
struct seg_world {
	struct seg_namespace *namespaces;
	size_t n_namespaces;
	struct seg_endpoint *endpoints;
	size_t n_endpoints;
	struct seg_policy *policies;
	size_t n_policies;
	struct in6_addr *host_ips;   /* the node's own addresses */
	size_t n_host_ips;
	struct seg_node *nodes;      /* the cluster's nodes, owned */
	size_t n_nodes;
	/* domain names resolved (sorted by name); borrowed, like host_ips:
	 * the daemon's resolver owns them */
	const struct seg_name_addrs *names;
	size_t n_names;
	enum seg_cidr_match cidr_match;  /* what a CIDR peer selects */
	/* the most rules the datapath counts (segd's `max_rules`); 0 = the
	 * compiler's own limit, SEGD_MAX_RULES - 1 */
	uint32_t max_rules;
};

/* ---- names of policies and rules (policy_names.c) ------------------------------ */
/* How segd names a policy everywhere (flow records, metrics, explain):
 * "ns/name" for a namespaced policy ("default/name" without a namespace),
 * "admin/name" or "baseline/name" for a ClusterNetworkPolicy. */
void seg_policy_label(enum seg_policy_kind kind, enum seg_tier tier,
		      const char *ns, const char *name, char *buf, size_t len);
/* The same with "#N", N = rule_index + 1: "shop/web#2", "admin/guard#1". */
void seg_rule_label(enum seg_policy_kind kind, enum seg_tier tier,
		    const char *ns, const char *name, uint32_t rule_index,
		    char *buf, size_t len);
/* seg_policy_label of p */
void seg_policy_name_of(const struct seg_policy *p, char *buf, size_t len);
/* "SegmentPolicy", "NetworkPolicy", "ClusterNetworkPolicy" */
const char *seg_policy_kind_name(enum seg_policy_kind kind);
/* "Admin", "NetworkPolicy" (SegmentPolicy and NetworkPolicy), "Baseline" */
const char *seg_tier_name(enum seg_policy_kind kind, enum seg_tier tier);
/* "Accept" (a ClusterNetworkPolicy's allow), "Allow", "Deny", "Pass" */
const char *seg_action_name(enum seg_policy_kind kind, enum seg_action action);

/* ---- helpers (model.c) ---------------------------------------------------- */
void seg_labels_free(struct seg_labels *l);
int seg_labels_set(struct seg_labels *l, const char *key, const char *value);
const char *seg_labels_get(const struct seg_labels *l, const char *key);
/* Parse "k=v,k2=v2"; keys and values per Kubernetes' label syntax. */
int seg_labels_parse(const char *text, struct seg_labels *out,
		     struct seg_error *err);
int seg_labels_copy(struct seg_labels *dst, const struct seg_labels *src);
/* "k=v,k2=v2" (sorted by key, as kept) into buf, cut at len. */
void seg_labels_format(const struct seg_labels *l, char *buf, size_t len);
/* Why key/value is not valid Kubernetes label syntax, or NULL when it is.
 * *bad_off (may be NULL) gets the offset of the offending part of a key. */
const char *seg_label_key_problem(const char *key, size_t len, size_t *bad_off);
const char *seg_label_value_problem(const char *value, size_t len);
void seg_selector_free(struct seg_selector *s);
bool seg_selector_matches(const struct seg_selector *s,
			  const struct seg_labels *l);
void seg_peer_free(struct seg_peer *p);
void seg_rule_free(struct seg_rule *r);
void seg_policy_free(struct seg_policy *p);
void seg_namespace_free(struct seg_namespace *n);
void seg_endpoint_free(struct seg_endpoint *e);
/* Free the namespaces, endpoints, nodes and policies of w and their arrays
 * (not host_ips or names, which a world borrows). */
void seg_world_free(struct seg_world *w);

/* What is wrong with s as a DNS-1123 subdomain (policy names) or, with
 * label, a DNS-1123 label (namespaces); NULL when nothing. */
const char *seg_dns_name_problem(const char *s, bool label);

/* Parse "10.0.0.0/8", "fd00::/64", or a bare address (full-length prefix).
 * Host bits must be zero. 0 or -EINVAL with err->msg set. */
int seg_cidr_parse(const char *text, struct seg_cidr *out,
		   struct seg_error *err);
int seg_addr_parse(const char *text, struct in6_addr *out);
void seg_addr_format(const struct in6_addr *a, char *buf, size_t len);
void seg_cidr_format(const struct seg_cidr *c, char *buf, size_t len);
bool seg_cidr_contains(const struct seg_cidr *outer, const struct seg_cidr *inner);
/* Clear the host bits of c (the bits past c->plen). */
void seg_cidr_mask(struct seg_cidr *c);

/* Protocols and service ports (model_ports.c). */
/* "tcp", "udp", "icmp", "icmpv6", "sctp", else the number (in buf). */
const char *seg_proto_name(uint8_t proto, char *buf, size_t len);
/* "80/tcp", "53/udp", "icmp", "0/icmpv6", "tcp" (port 0). Returns 0 or
 * -EINVAL with a message for the user in why (may be NULL). */
/* ---- forensic peers of a quarantine (quar_allow.c) ---- */
/* A forensic peer: remote address in cidr; port (0 = any) is the local or
 * the remote port; proto 0 = any. */
struct seg_quar_allow {
	struct seg_cidr cidr;
	uint16_t port;
	uint8_t proto;
};
/* "CIDR", "CIDR:PORT/PROTO", "CIDR:PROTO"; IPv6 with a port or protocol
 * in brackets: "[fd00::/64]:22/tcp". A bare address is a /32 (/128).
 * 0, or -EINVAL with why filled. */
int seg_quar_allow_parse(const char *text, struct seg_quar_allow *out,
			 char *why, size_t why_len);
/* The canonical text of a rule (what parse reads back). */
void seg_quar_allow_format(const struct seg_quar_allow *a, char *buf, size_t len);

int seg_explain_port_parse(const char *text, uint8_t *proto, uint16_t *port,
			   char *why, size_t why_len);

#endif /* SEGD_MODEL_H */
