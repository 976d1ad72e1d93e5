/* blocklist.h - indicator feeds (miner pools, C2 servers, custom lists):
 * parsing the formats feeds are published in, refusing entries that would
 * blackhole what must stay reachable, and merging all lists into the
 * content of the datapath's blocklist maps. Pure: no syscalls, so every
 * function here is unit-tested and fuzzed.
 */
#ifndef SEGD_BLOCKLIST_H
#define SEGD_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "segd_abi.h"

enum seg_bl_format {
	SEG_BL_FMT_AUTO = 0,
	SEG_BL_FMT_PLAIN,         /* one IP or CIDR per line; '#'/';' comments
				   * (Emerging Threats, FireHOL netset/ipset) */
	SEG_BL_FMT_SPAMHAUS_DROP, /* "CIDR ; SBLnnn", ';' comments */
	SEG_BL_FMT_SPAMHAUS_JSON, /* one object per line, {"cidr":...}; a last
				   * {"type":"metadata",...} line */
	SEG_BL_FMT_FEODO_CSV,     /* '#' banner, quoted header row, quoted
				   * fields, dst_ip column, "# END N entries" */
	SEG_BL_FMT_HOSTS,         /* "0.0.0.0 domain" (NoCoin) */
	SEG_BL_FMT_DOMAINS,       /* one domain per line */
	SEG_BL_FMT_FALCO_YAML,    /* Falco rules YAML: - list: miner_domains
				   * items: [...] (domain lists) */
};

/* Name as used on the command line ("auto", "plain", "spamhaus-drop",
 * "spamhaus-json", "feodo-csv", "hosts", "domains", "falco-yaml"). */
const char *seg_bl_format_name(enum seg_bl_format f);
int seg_bl_format_parse(const char *name, enum seg_bl_format *out);
const char *seg_bl_category_name(enum segd_bl_category c);  /* miner|c2|custom */
int seg_bl_category_parse(const char *name, enum segd_bl_category *out);
const char *seg_bl_action_name(enum segd_bl_action a);      /* drop|audit */
int seg_bl_action_parse(const char *name, enum segd_bl_action *out);
/* The format a file name suggests (".json", ".csv", "drop", "hosts",
 * ".yaml", "domain", ".netset"/".ipset"), AUTO when none. Auto-detection
 * decides from the content and uses this only to break a tie or to name
 * the format of a list without data lines. */
enum seg_bl_format seg_bl_format_hint(const char *file);

struct seg_bl_entry {
	struct seg_cidr cidr;     /* a single address is a full-length prefix */
	uint32_t line;            /* in the source file, 1-based */
};
/* The order of seg_blocklist.entries (qsort/bsearch comparator). */
int seg_bl_entry_cmp(const void *a, const void *b);

/* A line that was not loaded: unparseable, or refused by the safety check.
 * The good lines of the file load regardless. */
struct seg_bl_problem {
	uint32_t line;
	char text[64];            /* the offending text, truncated */
	char why[128];
};

struct seg_blocklist {
	char *name;               /* malloc'd; seg_blocklist_free frees it */
	enum segd_bl_category category;
	enum segd_bl_action action;
	int64_t expires;          /* unix seconds; 0 = never */
	enum seg_bl_format format;            /* as detected or given */
	struct seg_bl_entry *entries;         /* sorted by address bytes then
					       * prefix length; unique (the
					       * first line of a duplicate) */
	size_t n_entries;
	char **domains;                       /* lowercase, unique, sorted */
	size_t n_domains;
	struct seg_bl_problem *problems;      /* bad or refused lines, by
					       * line number */
	size_t n_problems;
	size_t n_problems_total;              /* problems beyond the kept ones */
};

/* Record a problem (the feed readers and the safety check add them):
 * stored while fewer than SEG_BL_MAX_PROBLEMS are, always counted. text is copied (printable, truncated). 0 or -ENOMEM. */
int seg_bl_problem(struct seg_blocklist *bl, uint32_t line, const char *text,
		   size_t text_len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Problems in line order (after safety appended its own). */
void seg_bl_problems_sort(struct seg_blocklist *bl);

/* Parse a feed. Bad lines become problems (line numbers kept, at most
 * SEG_BL_MAX_PROBLEMS stored, all counted); the call fails only when the
 * format cannot be recognised or memory runs out. An empty list (comments
 * only) is valid. out->name/category/action/expires are left to the
 * caller (set them before or after; nothing else of *out is read).
 *
 * Every format: LF or CRLF, blanks around items, a UTF-8 BOM, '#' comment
 * lines (';' too in plain/spamhaus-drop/domains), inline comments after an
 * item. A CIDR with host bits set is refused with the prefix it probably
 * meant. Auto-detection classifies the first 200 data lines and takes the
 * majority; a certificate-fingerprint list (abuse.ch SSLBL SHA1 rows) is
 * refused with -EINVAL and a message saying so. Given explicitly, a format
 * that does not fit turns each line into a problem.
 * Returns 0, -EINVAL (format not recognised; err says which line), -EFBIG
 * (over 4 GiB) or -ENOMEM. On failure *out holds no allocations. */
#define SEG_BL_MAX_PROBLEMS 100
int seg_blocklist_parse(const char *buf, size_t len, const char *file,
			enum seg_bl_format format, struct seg_blocklist *out,
			struct seg_error *err);
void seg_blocklist_free(struct seg_blocklist *bl);

/* What a blocklist must never cover. Entries that overlap any of these
 * (contain them or lie inside them) are refused and moved to problems.
 * Built-in (seg_bl_reserved): 0.0.0.0/8, RFC 1918, 100.64.0.0/10 (RFC 6598,
 * often pod or CGNAT space), 127/8, 169.254/16, 224/4, 255.255.255.255,
 * ::, ::1, fc00::/7 (RFC 4193), fe80::/10, ff00::/8. An entry overlapping
 * a built-in range loads when it lies wholly inside an `allowed` prefix.
 * The node's addresses and every endpoint address are never blockable:
 * `allowed` does not override them. Domains are not checked here: run the
 * addresses they resolve to through this before they reach the maps.
 * O((n + m) log m) for n entries and m protected addresses. */
struct seg_bl_safety {
	const struct in6_addr *node_addrs;  size_t n_node_addrs;
	const struct in6_addr *ep_addrs;    size_t n_ep_addrs;
	const struct seg_cidr *allowed;     size_t n_allowed;
};
void seg_blocklist_apply_safety(struct seg_blocklist *bl,
				const struct seg_bl_safety *safety);
/* The built-in ranges, for docs and `segctl`: i < seg_bl_reserved_count(). */
size_t seg_bl_reserved_count(void);
int seg_bl_reserved(size_t i, struct seg_cidr *out, const char **what);

/* The content of the datapath's blocklist maps for a set of lists (list i
 * gets list_id i + 1) and an exception list (which overrides every list).
 * Single addresses (/32 IPv4 = plen 128 mapped, /128 IPv6) go to the exact
 * hash, prefixes to the LPM trie, exceptions to the except trie. Where
 * lists overlap on the same key, a drop list beats an audit list, then the
 * lower list id wins. Arrays are sorted by the memcmp order of their map
 * key (so two compiles diff with one linear merge) and unique; the result
 * is deterministic.
 * The datapath this assumes: exact hash first, else the LPM trie; on a hit,
 * the except trie is asked, and a hit there means "not listed". So entries
 * wholly inside an exception are left out (they could never decide), and
 * so are entries of audit lists wholly inside a drop list's prefix (the
 * longer audit match would otherwise hide the drop).
 * Lists need action drop|audit and a category; -EINVAL otherwise. -E2BIG
 * with a message when more than SEGD_MAX_BLOCKLISTS - 1 lists or more than
 * SEGD_MAX_BL_EXACT / _PREFIXES / _EXCEPT entries; -ENOMEM. On failure
 * *out holds nothing. */
struct seg_bl_exact_entry {
	struct segd_addr addr;
	struct segd_bl_value value;
};
struct seg_bl_prefix_entry {
	struct segd_lpm_key key;
	struct segd_bl_value value;
};
struct seg_bl_compiled {
	struct seg_bl_exact_entry *exact;   size_t n_exact;
	struct seg_bl_prefix_entry *prefixes; size_t n_prefixes;
	struct segd_lpm_key *except;        size_t n_except;
};
int seg_blocklists_compile(const struct seg_blocklist *lists, size_t n_lists,
			   const struct seg_cidr *exceptions, size_t n_exceptions,
			   struct seg_bl_compiled *out, struct seg_error *err);
void seg_bl_compiled_free(struct seg_bl_compiled *c);

/* The IPv4 views of a compiled prefix array (segd_abi.h). The /16 view
 * (segd_bl_net16): out[a << 8 | b] = the value of the longest IPv4 prefix
 * of length /0../16 covering a.b.0.0/16, zero for none. The /24 view
 * (segd_bl_net24): every /24 that an IPv4 prefix of length /17../24
 * covers, with the value of the longest such prefix covering it, in
 * ascending key order (segd_bl_net24_key). Init copies those prefixes (12
 * bytes each), next produces one /24 per call. */
bool seg_bl_net16_prefix(const struct segd_lpm_key *k);
bool seg_bl_net24_prefix(const struct segd_lpm_key *k);
int seg_bl_net16_fill(const struct seg_bl_prefix_entry *p, size_t n,
		      struct segd_bl_value *out);  /* SEGD_BL_NET16_SLOTS */

/* Which /16s the /24 view covers when it must fit in `budget` keys: all
 * that hold /17../24 prefixes when they fit, else the cheapest /16s first
 * (the most of them kept off the trie), ties by address. The /17../24
 * prefixes of the other /16s (n_left) stay with the trie alone, behind
 * an open prefix gate. Deterministic: the same prefixes give the same
 * plan, so a writer can work out what it wrote before. */
struct seg_bl_net24_plan {
	uint64_t in_view[SEGD_BL_NET16_SLOTS / 64];
	size_t n_keys;          /* /24 keys of the planned view */
	size_t n_left;          /* /16s left to the trie */
};
int seg_bl_net24_plan(const struct seg_bl_prefix_entry *p, size_t n,
		      size_t budget, struct seg_bl_net24_plan *plan);
/* k is a /17../24 prefix of a /16 in the view (plan NULL: of any /16) */
bool seg_bl_net24_planned(const struct seg_bl_net24_plan *plan,
			  const struct segd_lpm_key *k);

#define SEG_BL_NET24_DEPTH 8      /* nesting of /17../24: one per length */
struct seg_bl_n24_pfx {
	uint32_t first, end;      /* its /24 keys: [first, end) */
	struct segd_bl_value value;
};
struct seg_bl_net24_iter {
	struct seg_bl_n24_pfx *v;
	size_t n, i;
	uint32_t cur;
	int sp;
	struct seg_bl_n24_pfx stack[SEG_BL_NET24_DEPTH];
};
/* the view of the planned /16s (plan NULL: all of them) */
int seg_bl_net24_init(struct seg_bl_net24_iter *it,
		      const struct seg_bl_prefix_entry *p, size_t n,
		      const struct seg_bl_net24_plan *plan);
bool seg_bl_net24_next(struct seg_bl_net24_iter *it, uint32_t *key,
		       struct segd_bl_value *value);
void seg_bl_net24_free(struct seg_bl_net24_iter *it);

/* The prefix gate (segd_bl_pfx16) of a compiled prefix array: gate gets
 * SEGD_BL_GATE_WORDS words, a bit set for every group of addresses that a
 * prefix outside the IPv4 views (not /0../16 IPv4, not planned for the /24
 * view) covers. A prefix up to ::ffff:0:0/96 or IPv6 /0../15 sets whole
 * ranges. blocklist_gate.c. */
void seg_bl_gate_fill(const struct seg_bl_prefix_entry *p, size_t n,
		      const struct seg_bl_net24_plan *plan, uint64_t *gate);

/* Which lists hold addr, and by which entry: calls fn once per list that
 * holds it, in list order, with that list's longest matching entry.
 * excepted is true when an exception covers addr (the datapath would let
 * it pass). No call when no list holds addr. Works on the parsed lists,
 * not the compiled maps, so it names the line the entry came from. */
typedef void (*seg_bl_hit_fn)(void *ctx, size_t list_index,
			      const struct seg_bl_entry *entry, bool excepted);
void seg_blocklists_test(const struct seg_blocklist *lists, size_t n_lists,
			 const struct seg_cidr *exceptions, size_t n_exceptions,
			 const struct in6_addr *addr, seg_bl_hit_fn fn, void *ctx);

#endif /* SEGD_BLOCKLIST_H */
