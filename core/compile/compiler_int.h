/* compiler_int.h - private to compiler*.c: containers and the compile
 * context shared by the compiler's translation units. Not an API. */
#ifndef SEGD_COMPILER_INT_H
#define SEGD_COMPILER_INT_H

#include "compiler.h"
#include "strbuf.h"

#include <netinet/in.h>
#include <string.h>

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

/* ---- containers (compiler_util.c) --------------------------------------- */
int segc_grow(void *pp, size_t *cap, size_t need, size_t esz);
void segc_sort(void *base, size_t n, size_t size,
	       int (*cmp)(const void *, const void *));
void *segc_find(const void *key, const void *base, size_t n, size_t size,
		int (*cmp)(const void *, const void *));
uint32_t segc_fnv1a(const char *s);
uint64_t segc_mix64(uint64_t h);
int segc_cmp_u32(const void *a, const void *b);
int segc_cmp_entry(const void *a, const void *b);   /* policy key bytes */

/* string -> uint32 map, open addressing; keys are copied */
struct smap {
	char **keys;
	uint32_t *vals;
	size_t cap, n;
};

const uint32_t *segc_smap_get(const struct smap *m, const char *k);
int segc_smap_put(struct smap *m, const char *k, uint32_t v);
void segc_smap_free(struct smap *m);
void segc_sort_u32(uint32_t *v, size_t n);
size_t segc_uniq_u32(uint32_t *v, size_t n);   /* sorted v: drop repeats */

/* ---- prefixes ------------------------------------------------------------ */
extern const struct seg_cidr segc_world4;   /* ::ffff:0:0/96 = WORLD */
extern const struct seg_cidr segc_world6;   /* ::/0 = WORLD_V6 */
bool segc_cidr_is_v4(const struct seg_cidr *c);
bool segc_cidr_eq(const struct seg_cidr *a, const struct seg_cidr *b);
bool segc_cidr_within(const struct seg_cidr *outer, const struct seg_cidr *in);
struct seg_cidr segc_cidr_masked(const struct seg_cidr *c);

/* ---- entry codes ------------------------------------------------------------ */

/* While compiling, a policy entry of local identity L is one uint64_t in
 * L's bucket (L is implied by the bucket):
 *
 *   63..45 rank of remote_id   28..25 protocol index   23..22 port_kind
 *   44..29 port, key byte order   24 dir               21..20 verdict (below)
 *                                                       19..0  rule id
 *
 * Ranks number the remote identities in the order of their key bytes
 * (remote ANY = rank 0) and protocol indices number the protocols a
 * policy can name in ascending order (SEGC_PROTOS), so key order
 * (code >> 22) == memcmp order of the keys, and the least code of a key
 * is the merged value: DENY beats AUDIT beats ALLOW beats the default
 * AUDIT of an audit-only direction; same verdict: lowest rule id. The
 * index is fixed, not per compile, so a code means the same in every
 * compile (compiler_cache.c keeps codes across compiles). Rule ids fit
 * SEGC_RULE_BITS (SEGD_MAX_RULES), so rebasing a policy's rule ids is an
 * addition. Policies emit DENY and ALLOW only; the AUDIT verdicts come
 * from combining the audit-mode policies' codes with the enforced ones
 * (compiler_entries.c). */
#define SEGC_RULE_BITS    20
#define SEGC_RULE_MASK    ((1ull << SEGC_RULE_BITS) - 1)
#define SEGC_AUDIT_BIT    (1ull << SEGC_RULE_BITS)
#define SEGC_ALLOW_BIT    (1ull << (SEGC_RULE_BITS + 1))
#define SEGC_VERDICT_MASK (SEGC_AUDIT_BIT | SEGC_ALLOW_BIT)
#define SEGC_V_DENY       0ull
#define SEGC_V_AUDIT      SEGC_AUDIT_BIT               /* a rule would deny */
#define SEGC_V_ALLOW      SEGC_ALLOW_BIT
#define SEGC_V_AUDIT_DFL  (SEGC_ALLOW_BIT | SEGC_AUDIT_BIT) /* no rule allows */
#define SEGC_KIND_SHIFT   (SEGC_RULE_BITS + 2)
#define SEGC_DIR_SHIFT    (SEGC_KIND_SHIFT + 2)
#define SEGC_PROTO_SHIFT  (SEGC_DIR_SHIFT + 1)
#define SEGC_PROTO_BITS   4
#define SEGC_PORT_SHIFT   (SEGC_PROTO_SHIFT + SEGC_PROTO_BITS)
#define SEGC_RANK_SHIFT   (SEGC_PORT_SHIFT + 16)
#define SEGC_RANK_BITS    (64 - SEGC_RANK_SHIFT)
#define SEGC_MAX_RANKS    (1u << SEGC_RANK_BITS)
#define SEGC_KEY(c)       ((c) >> SEGC_KIND_SHIFT)
_Static_assert(SEGC_RANK_SHIFT == 45 && SEGC_RANK_BITS == 19,
	       "entry code: 19 rank bits, as SEGC_MAX_RANKS promises");
_Static_assert(SEGD_MAX_RULES == 1u << SEGC_RULE_BITS,
	       "a rule id of segd_abi.h fits the entry code");

/* X(index, protocol): every protocol a policy can name (ports, named
 * ports), in ascending order of the protocol number; its index is what a
 * code holds. A protocol not listed cannot be compiled (segc_prepare says
 * so). Up to 1 << SEGC_PROTO_BITS of them. */
#define SEGC_PROTOS(X) \
	X(0, SEGD_PROTO_ANY) X(1, IPPROTO_ICMP) X(2, IPPROTO_TCP) \
	X(3, IPPROTO_UDP) X(4, IPPROTO_ICMPV6) X(5, IPPROTO_SCTP)
#define SEGC_PROTO_NONE   ((1u << SEGC_PROTO_BITS) - 1) /* not listed */

static inline uint8_t segc_proto_index(uint8_t proto)
{
#define SEGC_PROTO_CASE_(i, p) case p: return i;
	switch (proto) {
	SEGC_PROTOS(SEGC_PROTO_CASE_)
	}
#undef SEGC_PROTO_CASE_
	return SEGC_PROTO_NONE;
}

static inline uint8_t segc_proto_number(unsigned index)
{
#define SEGC_PROTO_NUM_(i, p) [i] = p,
	static const uint8_t num[1u << SEGC_PROTO_BITS] = {
		SEGC_PROTOS(SEGC_PROTO_NUM_)
	};
#undef SEGC_PROTO_NUM_
	return num[index & SEGC_PROTO_NONE];
}

static inline bool segc_is_deny(uint64_t c)
{
	return !(c & SEGC_VERDICT_MASK);
}

static inline uint16_t segc_port_ord(uint16_t port)    /* key byte order */
{
	uint8_t b[2];

	memcpy(b, &port, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint16_t segc_port_host(uint16_t ord)
{
	uint8_t b[2] = { (uint8_t)(ord >> 8), (uint8_t)ord };
	uint16_t p;

	memcpy(&p, b, 2);
	return p;
}

/* the port/proto/kind part of a code */
static inline uint64_t segc_code_port(uint8_t proto, uint8_t kind,
				      uint16_t port)
{
	return (uint64_t)segc_port_ord(port) << SEGC_PORT_SHIFT |
	       (uint64_t)segc_proto_index(proto) << SEGC_PROTO_SHIFT |
	       (uint64_t)kind << SEGC_KIND_SHIFT;
}

struct dkey {                         /* a decoded code's key */
	uint32_t rank;
	uint16_t port;                /* host order */
	uint8_t proto, dir, kind;
};

static inline struct dkey segc_decode(uint64_t c)
{
	return (struct dkey){
		.rank = (uint32_t)(c >> SEGC_RANK_SHIFT),
		.port = segc_port_host((uint16_t)(c >> SEGC_PORT_SHIFT)),
		.proto = segc_proto_number((unsigned)(c >> SEGC_PROTO_SHIFT)),
		.dir = (uint8_t)((c >> SEGC_DIR_SHIFT) & 1),
		.kind = (uint8_t)((c >> SEGC_KIND_SHIFT) & 3),
	};
}

/* the key bits of a code (verdict and rule id zero) */
static inline uint64_t segc_encode(const struct dkey *k)
{
	return (uint64_t)k->rank << SEGC_RANK_SHIFT |
	       (uint64_t)k->dir << SEGC_DIR_SHIFT |
	       segc_code_port(k->proto, k->kind, k->port);
}

/* does port part q (with its direction) contain port part p? A packet
 * is the EXACT port part of its protocol and port. */
static inline bool segc_port_contains(const struct dkey *q, const struct dkey *p)
{
	if (q->dir != p->dir)
		return false;
	if (q->proto == SEGD_PROTO_ANY)
		return true;
	if (q->proto != p->proto)
		return false;
	if (q->kind == SEGD_PORT_ANY)
		return true;
	if (q->kind == SEGD_PORT_BLOCK)
		return p->kind != SEGD_PORT_ANY &&
		       (p->port & SEGD_PORT_BLOCK_MASK) == q->port;
	return p->kind == SEGD_PORT_EXACT && p->port == q->port;
}

struct bucket {                       /* codes of one local identity */
	uint64_t *v;
	size_t n, cap, n_sorted;      /* v[0..n_sorted): sorted, keys unique */
};

/* ---- compile context ------------------------------------------------------ */

struct ns_info {
	const char *name;
	struct seg_labels labels;     /* owned */
	size_t first, count;          /* range in ctx.ns_members */
};

struct ep_ident {
	char *key;                    /* owned until handed to the output */
	uint32_t id, flags, rank;
	uint8_t enf_dirs;             /* 1 << dir: an enforced policy enforces */
	uint8_t audit_dirs;           /* 1 << dir: an audit-mode policy does */
	uint8_t cnp_dirs;             /* 1 << dir: a ClusterNetworkPolicy has
				       * rules for it (compiler_tiers.c) */
	size_t ns;
	const struct seg_labels *labels;
	const struct seg_endpoint *first_ep;
};

struct cidr_ident {
	struct seg_cidr c;
	uint32_t id, rank;
	char *key;
};

struct idset {                        /* a memoised selector result */
	size_t off, n;                /* ident indices: range in ctx.pool */
	size_t roff, rn;              /* remote ranks, sorted: in ctx.rpool */
};

/* label (key, value) -> the identities holding it, in ns_members order
 * (compiler_labels.c); built at the first selector that can use it */
struct label_index {
	bool built;
	struct smap pairs;            /* "key\x1dvalue" -> pair number */
	uint32_t *first;              /* per pair: its range in idents (+1) */
	uint32_t *idents;             /* ident indices, pair by pair */
	uint32_t *pos;                /* per ident: its place in ns_members */
	uint64_t *scratch;            /* (pos, ident) of a multi-value IN */
	uint32_t *cand;               /* the merged candidates */
	size_t cap_scratch, cap_cand;
	uint8_t *ns_ok;               /* per namespace: in the selector's scope */
	struct seg_strbuf sb;         /* scratch for pair keys */
};

struct ctx {
	const struct seg_world *w;
	struct seg_error *err;
	struct ns_info *ns;
	size_t n_ns, cap_ns;
	struct smap ns_by_name;
	struct ep_ident *ids;
	size_t n_ids;
	size_t *ep_ident;             /* per endpoint: index into ids */
	size_t *ns_members;           /* ident indices grouped by namespace */
	struct cidr_ident *cidrs;
	size_t n_cidrs, cap_cidrs;
	uint32_t *rank_id;            /* rank -> remote identity id */
	uint32_t *rank_ident;         /* rank -> index into ids, or UINT32_MAX */
	size_t n_ranks;
	uint32_t rank_host, rank_world, rank_world6;
	uint32_t *world_rem;          /* ranks of WORLD, WORLD_V6, CIDRs; sorted */
	size_t n_world_rem;
	struct smap memo;
	struct idset *sets;
	size_t n_sets, cap_sets;
	uint32_t *pool;               /* ident indices */
	size_t n_pool, cap_pool;
	uint32_t *rpool;              /* remote ranks, sorted per set */
	size_t n_rpool, cap_rpool;
	struct seg_strbuf sb;               /* scratch for selector memo keys */
	uint64_t *pk;                 /* scratch: a rule's port codes */
	size_t cap_pk;
	uint32_t *rem;                /* scratch: a rule's remote ranks */
	size_t cap_rem;
	uint64_t *tmp, *kv;           /* scratch: radix sort, deny codes */
	size_t cap_tmp, n_kv, cap_kv;
	struct bucket *bk;            /* per ident: the entries */
	struct bucket *abk;           /* per ident: audit-mode policies' codes */
	uint8_t *pol_audit;           /* per policy (world index): audit mode */
	bool any_audit;
	/* ClusterNetworkPolicy codes, per ident, by SEGC_CBK(tier, audit):
	 * their verdict bits are zero, so a key keeps its lowest rule id,
	 * which is its first rule in precedence order; rule_act says what
	 * the rule does. NULL without ClusterNetworkPolicies. */
	struct bucket *cbk[4];
	uint8_t *rule_act;            /* per rule id: enum seg_action */
	const uint8_t *bk_final;      /* per ident: bk[] already final, or NULL */
	size_t raw;                   /* codes pushed since the last compaction */
	size_t n_entries;             /* after segc_finish_entries */
	size_t *pol_order;
	uint32_t *used;               /* claimed identity ids (open addressing) */
	size_t used_cap;
	struct seg_cidr *pfx;         /* prefixes CIDR peers name, when they
				       * select endpoints; sorted, unique */
	size_t n_pfx;
	uint8_t pfx_lens[129];        /* the distinct lengths in pfx, ascending */
	size_t n_pfx_lens;
	/* by address (compiler_prefix.c), built at the first CIDR peer */
	bool indexed;
	uint32_t *cidr_ord;           /* cidrs indices by (address, length) */
	struct addr_ident *ep_addrs;  /* identities' addresses, sorted */
	size_t n_ep_addrs;
	uint32_t *ident_mark;         /* per ident: the last CIDR peer taking it */
	uint32_t mark;
	struct label_index li;
};

static inline const char *ep_ns(const struct seg_endpoint *e)
{
	return e->ns && *e->ns ? e->ns : "default";
}

static inline const char *pol_ns(const struct seg_policy *p)
{
	return p->ns && *p->ns ? p->ns : "default";
}

/* ---- identities and selectors (compiler_select.c) ------------------------ */
bool segc_id_claim(uint32_t *set, size_t cap, uint32_t id);
int segc_build_identities(struct ctx *x);
int segc_build_cidrs(struct ctx *x);
int segc_build_ranks(struct ctx *x);
/* the rank of remote identity id, or UINT32_MAX when it has none */
uint32_t segc_rank_of(const struct ctx *x, uint32_t id);
/* is identity index ident in the memoised set? */
bool segc_set_has(const struct ctx *x, size_t set, size_t ident);
/* The identities a pod selector can match, narrowed by its most selective
 * IN requirement (matchLabels are such), in ns_members order: *out and *n,
 * valid until the next call. -ENOENT when no requirement narrows it (look
 * at every identity). The caller still checks the whole selector. */
int segc_label_candidates(struct ctx *x, const struct seg_selector *s,
			  const uint32_t **out, size_t *n);
void segc_label_index_free(struct label_index *li);
int segc_select_idents(struct ctx *x, bool has_nss,
		       const struct seg_selector *nss, const char *ns_name,
		       const struct seg_selector *pods, size_t *set);
int segc_select_cidr(struct ctx *x, const struct seg_peer *p, size_t *set);

/* ---- CIDR peers by address order (compiler_prefix.c) ---------------------- */
/* The remote ranks CIDR peer p selects (prefixes, and endpoint identities
 * when x->n_pfx), each passed to push once */
int segc_cidr_ranks(struct ctx *x, const struct seg_peer *p,
		    int (*push)(struct ctx *, uint32_t));
/* x->pfx_lens from x->pfx */
void segc_pfx_lengths(struct ctx *x);
/* "@cidr <prefix>\n" for each of x->pfx holding one of e's addresses, in
 * x->pfx's order, into sb */
void segc_pfx_key(const struct ctx *x, struct seg_strbuf *sb,
		  const struct seg_endpoint *e);
/* a `nodes` or `domainNames` peer (SEG_PEER_NODES, SEG_PEER_DOMAIN) */
int segc_select_addrs(struct ctx *x, const struct seg_peer *p, size_t *set);

/* ---- ports and one policy's entries (compiler_rules.c) -------------------- */
/* A rule's port keys as codes (segc_code_port); -ERANGE when a range ends
 * below its start */
int segc_port_keys(const struct seg_rule *r, uint64_t **v, size_t *n,
		   size_t *cap);
/* One policy's entries into bk[ident], rule ids base + rule index + 1;
 * *subj is the memoised subject set. Errors are formatted (-EINVAL for a
 * bad port range); -E2BIG unformatted. */
int segc_gen_policy(struct ctx *x, const struct seg_policy *p, uint32_t base,
		    struct bucket *bk, size_t *subj);
/* Does rule r of p match one packet of local identity index ident with
 * the remote of rank `rank` (UINT32_MAX: one no rule names), protocol
 * proto, port? The remotes, port keys and named ports segc_gen_policy
 * pushes, asked for one flow (the subject is the caller's question). */
int segc_rule_matches(struct ctx *x, const struct seg_policy *p,
		      const struct seg_rule *r, size_t ident, uint32_t rank,
		      uint8_t proto, uint16_t port, bool *hit);

/* ---- buckets (compiler_entries.c) ----------------------------------------- */
/* Tail compaction threshold: bounds memory on huge inputs while the common
 * case compacts once, at the end. */
#define SEGC_RAW_MAX (1u << 20)

int segc_bk_grow(struct bucket *b);
/* sort + merge every bucket; -E2BIG past SEGD_MAX_POLICY_ENTRIES keys */
int segc_compact_all(struct ctx *x, struct bucket *bk);
int segc_bk_sort(struct ctx *x, struct bucket *b);
#define SEGC_CBK(tier, audit) (((tier) == SEG_TIER_BASELINE) * 2 + !!(audit))

/* the buckets a policy's codes go to: x->abk for one in audit mode, a
 * ClusterNetworkPolicy's to its tier's */
static inline struct bucket *segc_bk_of(struct ctx *x, size_t pi)
{
	const struct seg_policy *p = &x->w->policies[pi];

	if (p->kind == SEG_KIND_CNP)
		return x->cbk[SEGC_CBK(p->tier, x->pol_audit[pi])];
	return x->pol_audit[pi] ? x->abk : x->bk;
}
void segc_buckets_free(struct bucket *bk, size_t n);
/* deny intersections, hints, x->n_entries; -E2BIG unformatted */
int segc_finish_entries(struct ctx *x);
/* sort codes by key, one code per key (the least); 0 or -ENOMEM */
int segc_sort_codes(struct ctx *x, uint64_t *v, size_t *n);
/* every bucket's codes as sorted output entries */
int segc_emit_entries(struct ctx *x, struct seg_policy_entry **out);

static inline int segc_bk_push(struct ctx *x, struct bucket *bk, struct bucket *b,
			       uint64_t code)
{
	int rc;

	if (b->n == b->cap && (rc = segc_bk_grow(b)))
		return rc;
	b->v[b->n++] = code;
	if (++x->raw >= SEGC_RAW_MAX)
		return segc_compact_all(x, bk);
	return 0;
}

/* ---- tiers (compiler_tiers.c) ---------------------------------------------- */
/* Identity i's final codes when a ClusterNetworkPolicy selects it: every
 * tier evaluated per key of the meet-closed key set, into x->bk[i] */
int segc_tier_entries(struct ctx *x, size_t i);

/* ---- the shared pipeline (compiler.c) ------------------------------------- */
int segc_prepare(struct ctx *x, const struct seg_world *w,
		 struct seg_error *err);
/* x->bk holds every policy entry (compacted) and the identities their
 * ENFORCE flags: deny intersections, hints, ipcache, identities, rules. */
int segc_finish(struct ctx *x, struct seg_compiled *out);
void segc_ctx_free(struct ctx *x);
int segc_e2big_entries(struct seg_error *err);
/* ENFORCE flags of policy p (world index pi) on its subject identities */
void segc_add_enforce(struct ctx *x, size_t pi, const uint32_t *idents,
		      size_t n);

#endif /* SEGD_COMPILER_INT_H */
