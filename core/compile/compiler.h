/* compiler.h - pure policy compiler: desired state -> BPF map contents.
 *
 * No syscalls, no globals: the same input always gives the same output, so
 * it is unit-tested and fuzzed directly. datapath.c writes the result into
 * the kernel.
 */
#ifndef SEGD_COMPILER_H
#define SEGD_COMPILER_H

#include "model.h"
#include "segd_abi.h"

/* One identity: a set of labels shared by endpoints, or a CIDR, or a
 * reserved identity. key is canonical text: "ep:<ns>\n<k>=<v>\n..." for
 * endpoints, "cidr:<prefix>" for CIDRs, "reserved:world|host". */
struct seg_identity {
	uint32_t id;
	uint32_t flags;   /* SEGD_EPF_ENFORCE_* and HINT_* for endpoint ids */
	char *key;
};

struct seg_ipc_exact_entry {
	struct segd_addr addr;
	struct segd_ipcache_value value;
};

struct seg_ipc_prefix_entry {
	struct segd_lpm_key key;
	struct segd_ipcache_value value;   /* identity only */
};

struct seg_policy_entry {
	struct segd_policy_key key;
	struct segd_policy_value value;
};

/* What rule id N means: which policy and rule decided. id 0 is reserved
 * for "default deny" / "no policy". */
struct seg_rule_ref {
	uint32_t rule_id;
	char *policy_ns;       /* "" for a cluster-scoped ClusterNetworkPolicy */
	char *policy_name;
	uint32_t rule_index;   /* index into seg_policy.rules */
	enum seg_action action;
	int dir;
	enum seg_policy_kind kind;
	enum seg_tier tier;    /* SEG_TIER_NETPOL unless a ClusterNetworkPolicy */
	int priority;          /* the ClusterNetworkPolicy's; 0 otherwise */
	char *rule_name;       /* the rule's name, "" when unnamed */
};

struct seg_compiled {
	struct seg_identity *identities;  size_t n_identities;
	struct seg_ipc_exact_entry *exact; size_t n_exact;
	struct seg_ipc_prefix_entry *prefixes; size_t n_prefixes;
	struct seg_policy_entry *entries; size_t n_entries;
	struct seg_rule_ref *rules;       size_t n_rules;
};

/* Compile `world` into `out` (zeroed by the caller or by a previous
 * seg_compiled_free). Identities are derived deterministically from label
 * sets so they are stable across restarts. Output arrays are sorted
 * (identities by id, entries by key bytes) so two compilations can be
 * diffed. Returns 0 or -errno with err filled (e.g. -E2BIG when a map
 * capacity would be exceeded). */
int seg_compile(const struct seg_world *world, struct seg_compiled *out,
		struct seg_error *err);
void seg_compiled_free(struct seg_compiled *c);

/* ---- incremental compilation ---------------------------------------------- */

/* What a caller keeps between compilations to make the next one cheap.
 * Opaque; one per compiling thread (not thread-safe). It never changes
 * what is compiled: seg_compile_cached() gives exactly (byte for byte,
 * errors included) what seg_compile() gives for the same world.
 *
 * It holds, content-addressed, each policy's entries as compiled (rule ids
 * local to the policy, rebased by addition when merged), and the final
 * per-local-identity entries of the last successful compilation. A policy
 * is "unchanged" when everything the compiler reads from it (namespace,
 * subject, enforce, every rule's action, direction, peers and ports - not
 * its name, file or source text) is equal, compared byte for byte, not by
 * pointer; renamed, reordered or re-parsed policies are reused too. Only
 * the local identities selected by an added, removed or changed policy are
 * recomputed; rule ids that shift because a policy before them gained or
 * lost rules are renumbered in place.
 *
 * Everything is recompiled when the identity universe changes: an
 * endpoint label set (identity) appears or disappears, namespace labels of
 * a namespace holding endpoints change, the set of distinct CIDR
 * prefixes used by rules changes, or what `nodes` and `domainNames` peers
 * select from changes (nodes, resolved names, the node's own addresses).
 * Endpoint addresses, ifindexes and ids are not part of it (the ipcache
 * is rebuilt every time), so adding an endpoint with an existing label
 * set is incremental. */
struct seg_compile_cache;

/* *out = a new empty cache. 0 or -ENOMEM. */
int seg_compile_cache_new(struct seg_compile_cache **out);
void seg_compile_cache_free(struct seg_compile_cache *cache);

/* seg_compile(world, out, err), reusing and then updating `cache` (NULL:
 * plain seg_compile). The world may be any world - the cache finds out
 * itself what changed since the compilation it last saw. On failure the
 * cache is emptied (the next call compiles in full) and err is exactly
 * what seg_compile() reports. */
int seg_compile_cached(const struct seg_world *world,
		       struct seg_compile_cache *cache,
		       struct seg_compiled *out, struct seg_error *err);

/* What the last seg_compile_cached() did, for tests and benchmarks. */
struct seg_compile_cache_stats {
	bool full;               /* nothing reused (first call, universe changed) */
	size_t policies_reused;  /* policies whose entries came from the cache */
	size_t policies_compiled;
	size_t idents_rebuilt;   /* local identities whose entries were re-merged */
	size_t idents_reused;
};
void seg_compile_cache_stats(const struct seg_compile_cache *cache,
			     struct seg_compile_cache_stats *st);

/* The identity of id (c->identities is sorted by id), or NULL. */
const struct seg_identity *seg_compiled_identity(const struct seg_compiled *c,
						 uint32_t id);

/* Identity of an address per the compiled ipcache (exact, then longest
 * prefix, then WORLD). Used by `explain` and tests. */
uint32_t seg_compiled_identity_of(const struct seg_compiled *c,
				  const struct in6_addr *addr);

/* The policy lookup chain of bpf/lib/policy.h (policy_decide) over
 * c->entries, for a local identity with ipcache flags lflags (its HINT_*
 * bits skip probes as the datapath does): the first entry hit, with *hit
 * (may be NULL) its key and *n (may be NULL) its place 1..8; NULL when
 * nothing matches. The one user-space copy of the chain: decide and
 * explain both walk it. */
const struct seg_policy_entry *seg_compiled_chain(const struct seg_compiled *c,
						  uint32_t local_id, uint32_t lflags,
						  uint32_t remote_id, int dir,
						  uint8_t proto, uint16_t port,
						  struct segd_policy_key *hit, int *n);

/* Decide (local_id, remote_id, dir, proto, port) exactly as the datapath
 * does: not enforced in dir -> ALLOW; else the same lookup chain over
 * c->entries; no hit -> DENY with *rule_id 0 (default deny). An audit
 * decision is ALLOW (it passes). */
enum segd_verdict seg_compiled_decide(const struct seg_compiled *c,
				      uint32_t local_id, uint32_t remote_id,
				      int dir, uint8_t proto, uint16_t port,
				      uint32_t *rule_id);
/* The same, and *polf (may be NULL) gets the deciding entry's
 * SEGD_POLF_* flags: SEGD_POLF_AUDIT = a policy in audit mode would have
 * denied the flow (*rule_id: its rule, 0 for its default deny). */
enum segd_verdict seg_compiled_decide_flags(const struct seg_compiled *c,
					    uint32_t local_id,
					    uint32_t remote_id, int dir,
					    uint8_t proto, uint16_t port,
					    uint32_t *rule_id, uint8_t *polf);

/* ---- which rules match one flow (compiler_match.c) -------------------------- */

/* A policy of the world in precedence order, as it meets one flow. */
struct seg_policy_match {
	size_t policy;            /* index into world->policies */
	bool subject;             /* its subject selects the local identity */
	bool audit;               /* in audit mode: its own or its namespace's */
	uint32_t first_rule_id;   /* its rule i is rule id first_rule_id + i,
				   * as seg_compile numbers them */
};

/* What the compiler's own selectors, peers, port keys and named ports say
 * about one flow at one hook - for explain, which names the tiers a
 * decision went through (the compiled chain folds Pass away). */
struct seg_flow_match {
	struct seg_policy_match *policies;  /* Admin, NetworkPolicy tier,
					     * Baseline; rule id order */
	size_t n_policies;
	bool *rule_matches;       /* [rule id]: the rule is in dir, its policy
				   * selects the local identity, and its
				   * peers and ports hold the packet; [0]
				   * unused */
	size_t n_rules;
};

/* Match the flow (local identity local_id, remote identity remote_id as
 * seg_compiled_identity_of gives it, dir, proto, port) against every
 * policy and rule of world, identities derived as seg_compile derives
 * them. 0; -ENOENT when local_id is no endpoint identity of world (it
 * changed since it was compiled); -ENOMEM, or seg_compile's errors. */
int seg_flow_match(const struct seg_world *world, uint32_t local_id,
		   uint32_t remote_id, int dir, uint8_t proto, uint16_t port,
		   struct seg_flow_match *out, struct seg_error *err);
void seg_flow_match_free(struct seg_flow_match *m);

#endif /* SEGD_COMPILER_H */
