/* blocklist_int.h - helpers shared by the blocklist_*.c files only. */
#ifndef SEGD_BLOCKLIST_INT_H
#define SEGD_BLOCKLIST_INT_H

#include "blocklist.h"

/* An address as a 128-bit number (IPv4 in its mapped form). */
typedef unsigned __int128 seg_u128;

seg_u128 seg_bl_addr_num(const struct in6_addr *a);
/* First and last address of a prefix. */
void seg_bl_cidr_range(const struct seg_cidr *c, seg_u128 *lo, seg_u128 *hi);

/* A set of prefixes, as ranges sorted by start, for overlap and
 * containment queries in O(log n). Prefixes are either nested or disjoint,
 * which the queries rely on. */
struct seg_bl_range {
	seg_u128 lo, hi;
	seg_u128 max_hi;   /* max of hi over this and every earlier range */
	size_t tag;        /* caller's: index into its own table */
};
struct seg_bl_rangeset {
	struct seg_bl_range *v;
	size_t n, cap;
};
int seg_bl_rangeset_add(struct seg_bl_rangeset *s, const struct seg_cidr *c,
			size_t tag);
void seg_bl_rangeset_finish(struct seg_bl_rangeset *s);   /* sort, max_hi */
void seg_bl_rangeset_free(struct seg_bl_rangeset *s);
/* Does any range share an address with [lo, hi]? */
bool seg_bl_rangeset_overlaps(const struct seg_bl_rangeset *s, seg_u128 lo,
			      seg_u128 hi);
/* Does one range contain all of [lo, hi]? */
bool seg_bl_rangeset_covers(const struct seg_bl_rangeset *s, seg_u128 lo,
			    seg_u128 hi);

/* Record a problem: stored while fewer than SEG_BL_MAX_PROBLEMS are,
 * always counted. text is copied (printable, truncated). 0 or -ENOMEM. */
int seg_bl_problem(struct seg_blocklist *bl, uint32_t line, const char *text,
		   size_t text_len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Problems in line order (after safety appended its own). */
void seg_bl_problems_sort(struct seg_blocklist *bl);

/* Order of seg_blocklist.entries: address bytes, then prefix length. */

/* ---- line readers (blocklist_formats.c) --------------------------------- */
struct seg_bl_reader {
	struct seg_blocklist *bl;
	size_t cap_entries, cap_domains;
	bool sorted;          /* entries appended in order so far */
	int csv_col;          /* address column of a CSV feed; -1 = unknown */
	bool csv_header;      /* header row seen */
	int yaml_mode;        /* 0 outside items, 1 flow [..], 2 block "- x" */
	bool yaml_domains;    /* the current list is a domain list */
	bool yaml_in_list;    /* inside a "- list:" item */
};

static inline bool seg_bl_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static inline size_t seg_bl_skip_blank(const char *s, size_t n, size_t i)
{
	while (i < n && seg_bl_is_blank(s[i]))
		i++;
	return i;
}

/* Only characters an address or CIDR can hold, with a '.' or ':'. */
bool seg_bl_addr_chars(const char *s, size_t n);
/* An address or CIDR token: 0, or -EINVAL with why filled. */
int seg_bl_cidr_tok(const char *s, size_t n, struct seg_cidr *out, char *why,
		    size_t why_len);
int seg_bl_add_entry(struct seg_bl_reader *r, const struct seg_cidr *c,
		     uint32_t line);
/* A domain item (and, when addrs_too, an address item): kept or a problem. */
int seg_bl_take_name(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n, bool addrs_too);
/* falco-yaml (blocklist_yaml.c) */
int seg_bl_read_yaml(struct seg_bl_reader *r, uint32_t line, const char *s,
		     size_t n);
/* Length of a YAML mapping key "key:" at the start of s, else 0. */
size_t seg_bl_yaml_key(const char *s, size_t n);

/* One line of a feed, blanks at both ends and CR already stripped, never
 * empty. 0 (good line, comment or problem recorded) or -ENOMEM. */
int seg_bl_read_line(struct seg_bl_reader *r, enum seg_bl_format f,
		     uint32_t line, const char *s, size_t n);

/* Auto-detection: what a single data line looks like. */
enum seg_bl_vote {
	SEG_BL_VOTE_NONE = 0,
	SEG_BL_VOTE_PLAIN,
	SEG_BL_VOTE_DROP,
	SEG_BL_VOTE_JSON,
	SEG_BL_VOTE_CSV,
	SEG_BL_VOTE_HOSTS,
	SEG_BL_VOTE_DOMAINS,
	SEG_BL_VOTE_YAML,
	SEG_BL_VOTE_SHA,      /* certificate fingerprints: not a blocklist */
	SEG_BL_VOTE_MAX,
};
enum seg_bl_vote seg_bl_classify(const char *s, size_t n);

#endif /* SEGD_BLOCKLIST_INT_H */
