/* blocklist_items.c - the bottom of the feed readers: the problem list, the
 * order of entries, address and domain tokens, and adding an item to the
 * list being read. Calls nothing of the other blocklist_*.c files. */
#include "blocklist_parse_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define addr_chars seg_bl_addr_chars
#define cidr_tok seg_bl_cidr_tok
#define add_entry seg_bl_add_entry
#define take_addr seg_bl_take_addr
#define domain_problem seg_bl_domain_problem

/* ---- problems and order ---------------------------------------------------- */

int seg_bl_problem(struct seg_blocklist *bl, uint32_t line, const char *text,
		   size_t text_len, const char *fmt, ...)
{
	struct seg_bl_problem *p;
	va_list ap;
	size_t k;

	bl->n_problems_total++;
	if (bl->n_problems >= SEG_BL_MAX_PROBLEMS)
		return 0;
	if (!bl->problems) {
		bl->problems = calloc(SEG_BL_MAX_PROBLEMS, sizeof(*bl->problems));
		if (!bl->problems)
			return -ENOMEM;
	}
	p = &bl->problems[bl->n_problems++];
	p->line = line;
	for (k = 0; k < text_len && k + 1 < sizeof(p->text); k++) {
		unsigned char c = (unsigned char)text[k];

		p->text[k] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	p->text[k] = 0;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	return 0;
}

int seg_bl_entry_cmp(const void *a, const void *b)
{
	const struct seg_bl_entry *x = a, *y = b;
	int c = memcmp(&x->cidr.addr, &y->cidr.addr, sizeof(x->cidr.addr));

	if (c)
		return c;
	if (x->cidr.plen != y->cidr.plen)
		return x->cidr.plen < y->cidr.plen ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int problem_cmp(const void *a, const void *b)
{
	const struct seg_bl_problem *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

void seg_bl_problems_sort(struct seg_blocklist *bl)
{
	if (bl->n_problems > 1)
		qsort(bl->problems, bl->n_problems, sizeof(*bl->problems),
		      problem_cmp);
}

/* ---- tokens and items ------------------------------------------------------ */

/* Only characters an address or CIDR can hold, with a '.' or ':'. */
bool seg_bl_addr_chars(const char *s, size_t n)
{
	bool sep = false;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' || c == ':')
			sep = true;
		else if (!isxdigit((unsigned char)c) && c != '/')
			return false;
	}
	return sep;
}

/* Dotted-quad IPv4 with an optional /len, host bits clear: the common case
 * of every feed, without a copy or inet_pton. Anything unusual -> false,
 * and the caller takes the general (and message-producing) path. */
static bool fast_v4(const char *s, size_t n, struct seg_cidr *out)
{
	uint32_t a = 0;
	unsigned plen = 32;
	size_t i = 0;

	for (int oct = 0; oct < 4; oct++) {
		unsigned v = 0;
		size_t d = 0, st = i;

		while (i < n && s[i] >= '0' && s[i] <= '9' && d < 4) {
			v = v * 10 + (unsigned)(s[i] - '0');
			i++;
			d++;
		}
		if (d == 0 || d > 3 || v > 255 || (d > 1 && s[st] == '0'))
			return false;
		a = a << 8 | v;
		if (oct < 3) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	if (i < n) {
		size_t d = 0;

		if (s[i++] != '/')
			return false;
		plen = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9' && d < 3) {
			plen = plen * 10 + (unsigned)(s[i] - '0');
			i++;
			d++;
		}
		if (d == 0 || i != n || plen > 32)
			return false;
	}
	if (plen < 32 && (a & (0xffffffffu >> plen)))
		return false;
	memset(out, 0, sizeof(*out));
	out->addr.s6_addr[10] = 0xff;
	out->addr.s6_addr[11] = 0xff;
	out->addr.s6_addr[12] = (uint8_t)(a >> 24);
	out->addr.s6_addr[13] = (uint8_t)(a >> 16);
	out->addr.s6_addr[14] = (uint8_t)(a >> 8);
	out->addr.s6_addr[15] = (uint8_t)a;
	out->plen = (uint8_t)(96 + plen);
	return true;
}

/* Parse an address or CIDR token. 0, or -EINVAL with why filled. */
int seg_bl_cidr_tok(const char *s, size_t n, struct seg_cidr *out, char *why,
		    size_t why_len)
{
	char buf[64];
	struct seg_error e = { 0 };

	if (fast_v4(s, n, out))
		return 0;
	if (memchr(s, 0, n)) {
		snprintf(why, why_len, "contains a NUL byte");
		return -EINVAL;
	}
	if (n >= sizeof(buf)) {
		snprintf(why, why_len, "too long for an address or CIDR");
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	if (seg_cidr_parse(buf, out, &e)) {
		snprintf(why, why_len, "%.127s", e.msg);
		return -EINVAL;
	}
	return 0;
}

/* Why s is not a domain name we can resolve, or NULL; out (254 bytes) gets
 * it lowercased without a trailing dot. */
const char *seg_bl_domain_problem(const char *s, size_t n, char *out)
{
	size_t label = 0, labels = 1;
	bool tld_digits = true;

	if (n && s[n - 1] == '.')
		n--;
	if (!n)
		return "empty name";
	if (n > 253)
		return "a domain name has at most 253 characters";
	if (memchr(s, '*', n))
		return "wildcards are not supported; list each name";
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)s[i]);

		out[i] = c;
		if (c == '.') {
			if (!label)
				return "empty label (\"..\" or a leading dot)";
			if (out[i - 1] == '-')
				return "a label ends with '-'";
			labels++;
			label = 0;
			tld_digits = true;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return "not a domain name: only letters, digits, '-', '_' "
			       "and '.' are allowed";
		if (!label && c == '-')
			return "a label starts with '-'";
		if (++label > 63)
			return "a label has at most 63 characters";
		if (!isdigit((unsigned char)c))
			tld_digits = false;
	}
	out[n] = 0;
	if (!label || out[n - 1] == '-')
		return "a label ends with '-' or is empty";
	if (labels < 2)
		return "a single-label name; give the full domain name";
	if (tld_digits)
		return "not a valid address, and not a domain name (numeric "
		       "top-level label)";
	return NULL;
}

/* ---- adding ------------------------------------------------------------- */

int seg_bl_add_entry(struct seg_bl_reader *r, const struct seg_cidr *c,
		     uint32_t line)
{
	struct seg_blocklist *bl = r->bl;
	struct seg_bl_entry *e;

	if (bl->n_entries == r->cap_entries) {
		size_t nc = r->cap_entries ? r->cap_entries * 2 : 64;
		void *p = realloc(bl->entries, nc * sizeof(*bl->entries));

		if (!p)
			return -ENOMEM;
		bl->entries = p;
		r->cap_entries = nc;
	}
	e = &bl->entries[bl->n_entries];
	e->cidr = *c;
	e->line = line;
	if (r->sorted && bl->n_entries &&
	    seg_bl_entry_cmp(&bl->entries[bl->n_entries - 1], e) > 0)
		r->sorted = false;
	bl->n_entries++;
	return 0;
}

static int add_domain(struct seg_bl_reader *r, const char *name)
{
	struct seg_blocklist *bl = r->bl;
	char *d;

	if (bl->n_domains == r->cap_domains) {
		size_t nc = r->cap_domains ? r->cap_domains * 2 : 32;
		void *p = realloc(bl->domains, nc * sizeof(*bl->domains));

		if (!p)
			return -ENOMEM;
		bl->domains = p;
		r->cap_domains = nc;
	}
	d = strdup(name);
	if (!d)
		return -ENOMEM;
	bl->domains[bl->n_domains++] = d;
	return 0;
}

/* An address token of an address format: entry or problem. */
int seg_bl_take_addr(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n)
{
	struct seg_cidr c;
	char why[128], dom[256];

	if (!cidr_tok(t, n, &c, why, sizeof(why)))
		return add_entry(r, &c, line);
	{
	const char *dash = memchr(t, '-', n);

	if (dash && addr_chars(t, (size_t)(dash - t)) &&
	    addr_chars(dash + 1, n - (size_t)(dash - t) - 1))
		snprintf(why, sizeof(why), "address ranges (A-B) are not "
			 "supported; write them as CIDRs");
	else if (!addr_chars(t, n) && !domain_problem(t, n, dom))
		snprintf(why, sizeof(why), "a domain name, not an address; "
			 "load domain lists with --format domains");
	}
	return seg_bl_problem(r->bl, line, t, n, "%s", why);
}

/* A domain (or, in a domain list, address) item. */
int seg_bl_take_name(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n, bool addrs_too)
{
	char dom[256];
	const char *why;

	if (addrs_too && addr_chars(t, n))
		return take_addr(r, line, t, n);
	why = domain_problem(t, n, dom);
	if (why)
		return seg_bl_problem(r->bl, line, t, n, "%s", why);
	return add_domain(r, dom);
}
