/* blocklist_parse.c - reading a feed: names of formats and categories,
 * auto-detection from content (file name as a hint), the line loop,
 * sorting and de-duplication. The top of the readers: line formats are in
 * blocklist_formats.c, the problem list and items in blocklist_items.c. */
#include "blocklist_parse_int.h"
#include "sort.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names ------------------------------------------------------------- */

static const char *const fmt_names[] = {
	[SEG_BL_FMT_AUTO] = "auto",
	[SEG_BL_FMT_PLAIN] = "plain",
	[SEG_BL_FMT_SPAMHAUS_DROP] = "spamhaus-drop",
	[SEG_BL_FMT_SPAMHAUS_JSON] = "spamhaus-json",
	[SEG_BL_FMT_FEODO_CSV] = "feodo-csv",
	[SEG_BL_FMT_HOSTS] = "hosts",
	[SEG_BL_FMT_DOMAINS] = "domains",
	[SEG_BL_FMT_FALCO_YAML] = "falco-yaml",
};
#define N_FMTS (sizeof(fmt_names) / sizeof(fmt_names[0]))

const char *seg_bl_format_name(enum seg_bl_format f)
{
	if ((unsigned)f >= N_FMTS)
		return "unknown";
	return fmt_names[f];
}

int seg_bl_format_parse(const char *name, enum seg_bl_format *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < N_FMTS; i++)
		if (!strcasecmp(name, fmt_names[i])) {
			if (out)
				*out = (enum seg_bl_format)i;
			return 0;
		}
	return -EINVAL;
}

const char *seg_bl_category_name(enum segd_bl_category c)
{
	switch (c) {
	case SEGD_BL_MINER: return "miner";
	case SEGD_BL_C2: return "c2";
	case SEGD_BL_CUSTOM: return "custom";
	}
	return "unknown";
}

int seg_bl_category_parse(const char *name, enum segd_bl_category *out)
{
	enum segd_bl_category c;

	if (!name)
		return -EINVAL;
	if (!strcasecmp(name, "miner"))
		c = SEGD_BL_MINER;
	else if (!strcasecmp(name, "c2"))
		c = SEGD_BL_C2;
	else if (!strcasecmp(name, "custom"))
		c = SEGD_BL_CUSTOM;
	else
		return -EINVAL;
	if (out)
		*out = c;
	return 0;
}

const char *seg_bl_action_name(enum segd_bl_action a)
{
	switch (a) {
	case SEGD_BL_DROP: return "drop";
	case SEGD_BL_AUDIT: return "audit";
	}
	return "unknown";
}

int seg_bl_action_parse(const char *name, enum segd_bl_action *out)
{
	enum segd_bl_action a;

	if (!name)
		return -EINVAL;
	if (!strcasecmp(name, "drop"))
		a = SEGD_BL_DROP;
	else if (!strcasecmp(name, "audit"))
		a = SEGD_BL_AUDIT;
	else
		return -EINVAL;
	if (out)
		*out = a;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort, then keep the first line of each prefix. */
static void entries_finish(struct seg_blocklist *bl, bool sorted)
{
	size_t o = 0;

	if (!sorted && bl->n_entries > 1)   /* no scratch copy of the list */
		seg_sort_inplace(bl->entries, bl->n_entries, sizeof(*bl->entries),
				 seg_bl_entry_cmp);
	for (size_t i = 0; i < bl->n_entries; i++) {
		if (o && bl->entries[o - 1].cidr.plen == bl->entries[i].cidr.plen &&
		    !memcmp(&bl->entries[o - 1].cidr.addr, &bl->entries[i].cidr.addr,
			    sizeof(struct in6_addr)))
			continue;
		bl->entries[o++] = bl->entries[i];
	}
	bl->n_entries = o;
}

static void domains_finish(struct seg_blocklist *bl)
{
	size_t o = 0;

	if (bl->n_domains > 1)
		qsort(bl->domains, bl->n_domains, sizeof(*bl->domains), str_cmp);
	for (size_t i = 0; i < bl->n_domains; i++) {
		if (o && !strcmp(bl->domains[o - 1], bl->domains[i])) {
			free(bl->domains[i]);
			continue;
		}
		bl->domains[o++] = bl->domains[i];
	}
	bl->n_domains = o;
}

/* ---- lines ------------------------------------------------------------------ */

struct line_iter {
	const char *buf;
	size_t len, off;
	uint32_t no;
};

/* Next line, trimmed; false at the end. Empty lines are returned too. */
static bool next_line(struct line_iter *it, const char **s, size_t *n)
{
	const char *p, *nl;
	size_t l;

	if (it->off >= it->len)
		return false;
	p = it->buf + it->off;
	nl = memchr(p, '\n', it->len - it->off);
	l = nl ? (size_t)(nl - p) : it->len - it->off;
	it->off += l + (nl ? 1 : 0);
	it->no++;
	while (l && (p[l - 1] == '\r' || p[l - 1] == ' ' || p[l - 1] == '\t' ||
		     p[l - 1] == '\v' || p[l - 1] == '\f'))
		l--;
	while (l && (*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f' ||
		     *p == '\r')) {
		p++;
		l--;
	}
	*s = p;
	*n = l;
	return true;
}

static void iter_init(struct line_iter *it, const char *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->off = 0;
	it->no = 0;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		it->off = 3;        /* UTF-8 byte order mark */
}

/* ---- auto-detection ------------------------------------------------------- */

#define DETECT_LINES 200

static enum seg_bl_format vote_format(enum seg_bl_vote v)
{
	switch (v) {
	case SEG_BL_VOTE_PLAIN: return SEG_BL_FMT_PLAIN;
	case SEG_BL_VOTE_DROP: return SEG_BL_FMT_SPAMHAUS_DROP;
	case SEG_BL_VOTE_JSON: return SEG_BL_FMT_SPAMHAUS_JSON;
	case SEG_BL_VOTE_CSV: return SEG_BL_FMT_FEODO_CSV;
	case SEG_BL_VOTE_HOSTS: return SEG_BL_FMT_HOSTS;
	case SEG_BL_VOTE_DOMAINS: return SEG_BL_FMT_DOMAINS;
	case SEG_BL_VOTE_YAML: return SEG_BL_FMT_FALCO_YAML;
	default: return SEG_BL_FMT_AUTO;
	}
}

static bool name_has(const char *base, const char *what)
{
	return strcasestr(base, what) != NULL;
}

/* What the file name suggests; AUTO when nothing. */
enum seg_bl_format seg_bl_format_hint(const char *file)
{
	const char *base;

	if (!file || !*file)
		return SEG_BL_FMT_AUTO;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	if (name_has(base, ".json"))
		return SEG_BL_FMT_SPAMHAUS_JSON;
	if (name_has(base, ".yaml") || name_has(base, ".yml"))
		return SEG_BL_FMT_FALCO_YAML;
	if (name_has(base, ".csv"))
		return SEG_BL_FMT_FEODO_CSV;
	if (name_has(base, "drop"))
		return SEG_BL_FMT_SPAMHAUS_DROP;
	if (name_has(base, "hosts"))
		return SEG_BL_FMT_HOSTS;
	if (name_has(base, "domain"))
		return SEG_BL_FMT_DOMAINS;
	if (name_has(base, ".netset") || name_has(base, ".ipset"))
		return SEG_BL_FMT_PLAIN;
	return SEG_BL_FMT_AUTO;
}

static int detect(const char *buf, size_t len, const char *file,
		  enum seg_bl_format *out, struct seg_error *err)
{
	size_t votes[SEG_BL_VOTE_MAX] = { 0 };
	struct line_iter it;
	const char *s;
	size_t n, data = 0, best = 0;
	uint32_t first_bad = 0, first_sha = 0;
	char bad_text[48] = "";
	bool only_semicolon = true, any_comment = false;
	enum seg_bl_format hint = seg_bl_format_hint(file), f = SEG_BL_FMT_AUTO;

	iter_init(&it, buf, len);
	while (data < DETECT_LINES && next_line(&it, &s, &n)) {
		enum seg_bl_vote v;

		if (!n)
			continue;
		if (s[0] == '#' || s[0] == ';') {
			any_comment = true;
			only_semicolon &= s[0] == ';';
			continue;
		}
		data++;
		v = seg_bl_classify(s, n);
		votes[v]++;
		if (v == SEG_BL_VOTE_NONE && !first_bad) {
			first_bad = it.no;
			for (size_t k = 0; k < n && k + 1 < sizeof(bad_text); k++)
				bad_text[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
			bad_text[n < sizeof(bad_text) - 1 ? n : sizeof(bad_text) - 1] = 0;
		}
		if (v == SEG_BL_VOTE_SHA && !first_sha)
			first_sha = it.no;
	}
	if (votes[SEG_BL_VOTE_YAML]) {
		*out = SEG_BL_FMT_FALCO_YAML;
		return 0;
	}
	for (int v = SEG_BL_VOTE_PLAIN; v < SEG_BL_VOTE_SHA; v++) {
		enum seg_bl_format vf = vote_format((enum seg_bl_vote)v);

		if (votes[v] > best || (votes[v] && votes[v] == best && vf == hint)) {
			best = votes[v];
			f = vf;
		}
	}
	if (votes[SEG_BL_VOTE_SHA] && votes[SEG_BL_VOTE_SHA] >= best)
		return seg_errorf(err, file, (int)first_sha, 0, EINVAL,
				  "this looks like a list of certificate "
				  "fingerprints (SHA1/SHA256, e.g. line %u; the "
				  "abuse.ch SSLBL certificate list), not of "
				  "addresses or domains: segd cannot block by "
				  "certificate. Use an address feed (e.g. Feodo "
				  "Tracker's ipblocklist)", first_sha);
	if (f != SEG_BL_FMT_AUTO) {
		*out = f;
		return 0;
	}
	if (data)
		return seg_errorf(err, file, (int)first_bad, 0, EINVAL,
				  "cannot tell the format: line %u ('%s') is not "
				  "an address, CIDR, domain, hosts line, CSV row "
				  "or JSON object; give --format (plain, "
				  "spamhaus-drop, spamhaus-json, feodo-csv, hosts, "
				  "domains, falco-yaml)", first_bad, bad_text);
	/* no data lines: an empty list; the name or comments say which kind */
	if (hint != SEG_BL_FMT_AUTO)
		*out = hint;
	else if (any_comment && only_semicolon)
		*out = SEG_BL_FMT_SPAMHAUS_DROP;
	else
		*out = SEG_BL_FMT_PLAIN;
	return 0;
}

/* ---- the parse ------------------------------------------------------------ */

void seg_blocklist_free(struct seg_blocklist *bl)
{
	if (!bl)
		return;
	free(bl->name);
	free(bl->entries);
	for (size_t i = 0; i < bl->n_domains; i++)
		free(bl->domains[i]);
	free(bl->domains);
	free(bl->problems);
	memset(bl, 0, sizeof(*bl));
}

int seg_blocklist_parse(const char *buf, size_t len, const char *file,
			enum seg_bl_format format, struct seg_blocklist *out,
			struct seg_error *err)
{
	struct seg_blocklist *bl = out;
	struct seg_bl_reader r = { 0 };
	struct line_iter it;
	const char *s;
	size_t n;
	int rc;

	if (!out || (!buf && len))
		return seg_errorf(err, file, 0, 0, EINVAL, "no input");
	if ((unsigned)format >= N_FMTS)
		return seg_errorf(err, file, 0, 0, EINVAL, "unknown format %d",
				  (int)format);
	bl->entries = NULL;
	bl->domains = NULL;
	bl->problems = NULL;
	bl->n_entries = bl->n_domains = bl->n_problems = 0;
	bl->n_problems_total = 0;
	if (len > UINT32_MAX)
		return seg_errorf(err, file, 0, 0, EFBIG, "feed larger than 4 GiB");
	if (format == SEG_BL_FMT_AUTO) {
		rc = detect(buf, len, file, &format, err);
		if (rc)
			return rc;
	}
	bl->format = format;
	r.bl = bl;
	r.sorted = true;
	r.csv_col = -1;
	iter_init(&it, buf, len);
	while (next_line(&it, &s, &n)) {
		if (!n)
			continue;
		rc = seg_bl_read_line(&r, format, it.no, s, n);
		if (rc)
			goto fail;
	}
	entries_finish(bl, r.sorted);
	domains_finish(bl);
	seg_bl_problems_sort(bl);
	return 0;
fail:
	free(bl->entries);
	for (size_t i = 0; i < bl->n_domains; i++)
		free(bl->domains[i]);
	free(bl->domains);
	free(bl->problems);
	bl->entries = NULL;
	bl->domains = NULL;
	bl->problems = NULL;
	bl->n_entries = bl->n_domains = bl->n_problems = 0;
	bl->n_problems_total = 0;
	return seg_errorf(err, file, (int)it.no, 0, -rc, "out of memory "
			  "reading the feed");
}
