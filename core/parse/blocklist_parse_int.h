/* blocklist_parse_int.h - what the feed readers (core/parse/blocklist_*.c)
 * share. Not an API.
 *
 * Call order, one way, each file calling only the ones below it:
 *   blocklist_parse.c    names, auto-detection, the line loop, seg_blocklist_parse
 *   blocklist_formats.c  one line of each format; what a line looks like
 *   blocklist_yaml.c     the falco-yaml format
 *   blocklist_items.c    problems, entry order, address/domain tokens, adding items
 */
#ifndef SEGD_BLOCKLIST_PARSE_INT_H
#define SEGD_BLOCKLIST_PARSE_INT_H

#include "blocklist.h"

/* ---- items (blocklist_items.c) ------------------------------------------ */
/* The list being read and where its reader stands. */
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
/* An address token of an address format: entry or problem. */
int seg_bl_take_addr(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n);
/* A domain item (and, when addrs_too, an address item): kept or a problem. */
int seg_bl_take_name(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n, bool addrs_too);
/* Why s is not a domain name we can resolve, or NULL; out (254 bytes) gets
 * it lowercased without a trailing dot. */
const char *seg_bl_domain_problem(const char *s, size_t n, char *out);

/* ---- falco-yaml (blocklist_yaml.c) --------------------------------------- */
int seg_bl_read_yaml(struct seg_bl_reader *r, uint32_t line, const char *s,
		     size_t n);
/* Length of a YAML mapping key "key:" at the start of s, else 0. */
size_t seg_bl_yaml_key(const char *s, size_t n);

/* ---- line formats (blocklist_formats.c) --------------------------------- */
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

#endif /* SEGD_BLOCKLIST_PARSE_INT_H */
