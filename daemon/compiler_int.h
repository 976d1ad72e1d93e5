/* compiler_int.h - private to compiler*.c: containers and the compile
 * context shared by the compiler's translation units. Not an API. */
#ifndef SEGD_COMPILER_INT_H
#define SEGD_COMPILER_INT_H

#include "compiler.h"

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

struct sbuf {
	char *p;
	size_t n, cap;
	int err;
};

/* string -> uint32 map, open addressing; keys are copied */
struct smap {
	char **keys;
	uint32_t *vals;
	size_t cap, n;
};

/* policy key -> merged value; slots hold index + 1 into v */
struct emap {
	uint32_t *slots;
	size_t cap;
	struct seg_policy_entry *v;
	size_t n, vcap;
};

void segc_sb_add(struct sbuf *sb, const char *s, size_t len);
void segc_sb_str(struct sbuf *sb, const char *s);
const uint32_t *segc_smap_get(const struct smap *m, const char *k);
int segc_smap_put(struct smap *m, const char *k, uint32_t v);
void segc_smap_free(struct smap *m);
int segc_emap_merge(struct emap *m, const struct segd_policy_key *k,
		    uint8_t verdict, uint32_t rule_id);

/* ---- prefixes ------------------------------------------------------------ */
extern const struct seg_cidr segc_world4;   /* ::ffff:0:0/96 = WORLD */
extern const struct seg_cidr segc_world6;   /* ::/0 = WORLD_V6 */
bool segc_cidr_is_v4(const struct seg_cidr *c);
bool segc_cidr_eq(const struct seg_cidr *a, const struct seg_cidr *b);
bool segc_cidr_within(const struct seg_cidr *outer, const struct seg_cidr *in);
struct seg_cidr segc_cidr_masked(const struct seg_cidr *c);

/* ---- compile context ------------------------------------------------------ */

struct ns_info {
	const char *name;
	struct seg_labels labels;     /* owned */
	size_t first, count;          /* range in ctx.ns_members */
};

struct ep_ident {
	char *key;                    /* owned until handed to the output */
	uint32_t id, flags;
	size_t ns;
	const struct seg_labels *labels;
	const struct seg_endpoint *first_ep;
};

struct cidr_ident {
	struct seg_cidr c;
	uint32_t id;
	char *key;
};

struct idset {                        /* a memoised selector result */
	size_t off, n;                /* range in ctx.pool */
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
	struct smap memo;
	struct idset *sets;
	size_t n_sets, cap_sets;
	uint32_t *pool;               /* ident indices or identity ids */
	size_t n_pool, cap_pool;
	struct emap em;
	size_t *pol_order;
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
int segc_build_identities(struct ctx *x, uint32_t *used, size_t used_cap);
int segc_build_cidrs(struct ctx *x, uint32_t **used, size_t *used_cap);
int segc_select_idents(struct ctx *x, bool has_nss,
		       const struct seg_selector *nss, const char *ns_name,
		       const struct seg_selector *pods, size_t *set);
int segc_select_cidr(struct ctx *x, const struct seg_peer *p, size_t *set);

/* ---- ports and deny materialisation (compiler_rules.c) -------------------- */
struct pkey {
	uint8_t proto, kind;
	uint16_t port;
};

/* -ERANGE when a range ends below its start */
int segc_port_keys(const struct seg_rule *r, struct pkey **v, size_t *n,
		   size_t *cap);
int segc_materialise_denies(struct ctx *x);

#endif /* SEGD_COMPILER_INT_H */
