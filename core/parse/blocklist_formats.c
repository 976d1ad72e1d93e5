/* blocklist_formats.c - one line of each feed format, and what a line looks
 * like for auto-detection. Lines arrive trimmed (blanks, CR) and non-empty;
 * nothing here is NUL-terminated. */
#include "blocklist_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tokens ------------------------------------------------------------ */

#define is_blank seg_bl_is_blank
#define skip_blank seg_bl_skip_blank
#define addr_chars seg_bl_addr_chars
#define cidr_tok seg_bl_cidr_tok
#define add_entry seg_bl_add_entry
#define take_name seg_bl_take_name

/* End of the token starting at i: the next blank or one of stops. */
static size_t tok_end(const char *s, size_t n, size_t i, const char *stops)
{
	while (i < n && !is_blank(s[i]) && !(s[i] && strchr(stops, s[i])))
		i++;
	return i;
}

static bool is_hex_len(const char *s, size_t n, size_t want)
{
	if (n != want)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

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
static const char *domain_problem(const char *s, size_t n, char *out)
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
static int take_addr(struct seg_bl_reader *r, uint32_t line, const char *t,
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

/* After the token: only blanks or a comment may follow. */
static int rest_must_be_comment(struct seg_bl_reader *r, uint32_t line,
				const char *s, size_t n, size_t i, bool *bad)
{
	i = skip_blank(s, n, i);
	*bad = i < n && s[i] != '#' && s[i] != ';';
	if (*bad)
		return seg_bl_problem(r->bl, line, s, n, "unexpected text after "
				      "the first item: '%.*s'",
				      (int)(n - i > 40 ? 40 : n - i), s + i);
	return 0;
}

/* ---- formats ------------------------------------------------------------ */

/* plain and spamhaus-drop: "ITEM [; comment]" / "ITEM [# comment]" */
static int read_plain(struct seg_bl_reader *r, uint32_t line, const char *s,
		      size_t n)
{
	size_t e = tok_end(s, n, 0, "#;");
	bool bad;
	int rc;

	if (e == 0)
		return 0;           /* comment */
	rc = rest_must_be_comment(r, line, s, n, e, &bad);
	if (rc || bad)
		return rc;
	return take_addr(r, line, s, e);
}

/* JSON: end of the string starting at s[i] == '"', or 0. */
static size_t json_str_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* JSON: end of the value at s[i], or 0. Nested values are skipped. */
static size_t json_val_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	if (i >= n)
		return 0;
	if (s[i] == '"')
		return json_str_end(s, n, i);
	if (s[i] != '{' && s[i] != '[') {
		size_t st = i;

		while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-' ||
				 s[i] == '+' || s[i] == '.'))
			i++;
		return i > st ? i : 0;
	}
	for (; i < n; i++) {
		if (s[i] == '"') {
			i = json_str_end(s, n, i);
			if (!i)
				return 0;
			i--;
		} else if (s[i] == '{' || s[i] == '[') {
			if (++depth > 32)
				return 0;
		} else if (s[i] == '}' || s[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

static bool json_key_is(const char *s, size_t ks, size_t ke, const char *name)
{
	size_t l = strlen(name);

	return ke - ks == l + 2 && !memcmp(s + ks + 1, name, l);
}

/* spamhaus-json: {"cidr":"1.10.16.0/20","sblid":...}; metadata lines. */
static int read_json(struct seg_bl_reader *r, uint32_t line, const char *s,
		     size_t n)
{
	size_t i = 1, cs = 0, ce = 0;
	bool meta = false;
	char v[64];
	size_t vn = 0;

	if (s[0] == '#')
		return 0;
	if (s[0] != '{')
		goto bad;
	for (;;) {
		size_t ks, ke, ve;

		i = skip_blank(s, n, i);
		if (i < n && s[i] == '}' && !cs && !meta)
			break;      /* {} */
		if (i >= n || s[i] != '"' || !(ke = json_str_end(s, n, i)))
			goto bad;
		ks = i;
		i = skip_blank(s, n, ke);
		if (i >= n || s[i] != ':')
			goto bad;
		i = skip_blank(s, n, i + 1);
		ve = json_val_end(s, n, i);
		if (!ve)
			goto bad;
		if (json_key_is(s, ks, ke, "cidr") && s[i] == '"') {
			cs = i + 1;
			ce = ve - 1;
		} else if (json_key_is(s, ks, ke, "type") &&
			   ve - i == 10 && !memcmp(s + i, "\"metadata\"", 10)) {
			meta = true;
		}
		i = skip_blank(s, n, ve);
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i < n && s[i] == '}')
			break;
		goto bad;
	}
	i = skip_blank(s, n, i + 1);
	if (i < n && !(s[i] == ',' && skip_blank(s, n, i + 1) == n))
		goto bad;
	if (meta)
		return 0;
	if (!cs)
		return seg_bl_problem(r->bl, line, s, n, "no \"cidr\" field in "
				      "this object");
	for (size_t k = cs; k < ce; k++) {      /* "1.2.3.0\/24" */
		if (s[k] == '\\' && k + 1 < ce && (s[k + 1] == '/' ||
						   s[k + 1] == '\\'))
			k++;
		else if (s[k] == '\\')
			return seg_bl_problem(r->bl, line, s + cs, ce - cs,
					      "unexpected escape in \"cidr\"");
		if (vn + 1 >= sizeof(v))
			return seg_bl_problem(r->bl, line, s + cs, ce - cs,
					      "\"cidr\" is too long");
		v[vn++] = s[k];
	}
	return take_addr(r, line, v, vn);
bad:
	return seg_bl_problem(r->bl, line, s, n, "not a JSON object on one "
			      "line like {\"cidr\":\"192.0.2.0/24\",...}");
}

/* CSV fields, quotes removed (doubled quotes kept as they are: addresses
 * never hold them). At most max fields; returns how many. */
struct field { const char *p; size_t n; };

static size_t csv_split(const char *s, size_t n, struct field *f, size_t max)
{
	size_t i = 0, k = 0;

	while (k < max) {
		size_t st, e;

		i = skip_blank(s, n, i);
		if (i < n && s[i] == '"') {
			st = ++i;
			while (i < n && !(s[i] == '"' && !(i + 1 < n &&
							   s[i + 1] == '"')))
				i += (s[i] == '"') ? 2 : 1;
			e = i < n ? i : n;
			while (i < n && s[i] != ',')
				i++;
		} else {
			st = i;
			while (i < n && s[i] != ',')
				i++;
			e = i;
			while (e > st && is_blank(s[e - 1]))
				e--;
		}
		f[k].p = s + st;
		f[k].n = e - st;
		k++;
		if (i >= n)
			break;
		i++;            /* ',' */
	}
	return k;
}

static bool csv_addr_column(const struct field *f)
{
	static const char *const names[] = {
		"dst_ip", "dstip", "ip_address", "ipaddress", "ip_addr", "ip",
		"ipv4", "ipv6", "cidr", "address", "addr", "c2_ip", NULL,
	};

	for (const char *const *nm = names; *nm; nm++)
		if (f->n == strlen(*nm) && !strncasecmp(f->p, *nm, f->n))
			return true;
	return false;
}

#define CSV_MAX_FIELDS 64

/* Column names: letters, digits, '_', blanks; starting with a letter. */
static bool csv_name(const struct field *f)
{
	if (f->n && !isalpha((unsigned char)f->p[0]) && f->p[0] != '_')
		return false;
	for (size_t i = 0; i < f->n; i++)
		if (!isalnum((unsigned char)f->p[i]) && f->p[i] != '_' &&
		    !is_blank(f->p[i]))
			return false;
	return true;
}

/* The first row is a header when it holds names only; either way, no
 * later row is one. */
static bool csv_header_row(struct seg_bl_reader *r, const struct field *f,
			   size_t nf)
{
	r->csv_header = true;
	for (size_t k = 0; k < nf; k++)
		if (!csv_name(&f[k]))
			return false;
	for (size_t k = 0; k < nf; k++)
		if (csv_addr_column(&f[k])) {
			r->csv_col = (int)k;
			break;
		}
	return true;
}

/* feodo-csv: '#' banner (maybe a "# a,b,c" header), header row, rows. */
static int read_csv(struct seg_bl_reader *r, uint32_t line, const char *s,
		    size_t n)
{
	struct field f[CSV_MAX_FIELDS];
	size_t nf;

	if (s[0] == '#') {
		size_t i = skip_blank(s, n, 1);

		if (!r->csv_header && memchr(s, ',', n)) {
			nf = csv_split(s + i, n - i, f, CSV_MAX_FIELDS);
			for (size_t k = 0; k < nf; k++)
				if (csv_addr_column(&f[k]))
					r->csv_col = (int)k;
		}
		return 0;
	}
	nf = csv_split(s, n, f, CSV_MAX_FIELDS);
	if (!r->csv_header && csv_header_row(r, f, nf))
		return 0;
	if (r->csv_col >= 0) {
		if ((size_t)r->csv_col >= nf)
			return seg_bl_problem(r->bl, line, s, n, "row has %zu "
					      "fields; the address is field %d",
					      nf, r->csv_col + 1);
		return take_addr(r, line, f[r->csv_col].p, f[r->csv_col].n);
	}
	for (size_t k = 0; k < nf; k++) {
		struct seg_cidr c;
		char why[128];

		if (!cidr_tok(f[k].p, f[k].n, &c, why, sizeof(why)))
			return add_entry(r, &c, line);
	}
	for (size_t k = 0; k < nf; k++)
		if (is_hex_len(f[k].p, f[k].n, 40) ||
		    is_hex_len(f[k].p, f[k].n, 64))
			return seg_bl_problem(r->bl, line, s, n, "a certificate "
					      "fingerprint, not an address: "
					      "segd cannot block by certificate");
	return seg_bl_problem(r->bl, line, s, n, "no IP address in this row");
}

static bool hosts_skip(const char *t, size_t n)
{
	static const char *const names[] = {
		"localhost", "localhost.localdomain", "local", "broadcasthost",
		"ip6-localhost", "ip6-loopback", "ip6-localnet",
		"ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
		"ip6-allhosts", "0.0.0.0", NULL,
	};

	for (const char *const *nm = names; *nm; nm++)
		if (n == strlen(*nm) && !strncasecmp(t, *nm, n))
			return true;
	return false;
}

/* hosts: "0.0.0.0 name [name...] [# comment]" */
static int read_hosts(struct seg_bl_reader *r, uint32_t line, const char *s,
		      size_t n)
{
	size_t e = tok_end(s, n, 0, "#"), i;
	struct seg_cidr c;
	char why[128];
	bool any = false;
	int rc;

	if (e == 0)
		return 0;
	if (cidr_tok(s, e, &c, why, sizeof(why)) || memchr(s, '/', e))
		return seg_bl_problem(r->bl, line, s, n, "expected 'ADDRESS "
				      "NAME...' (hosts format)");
	for (i = skip_blank(s, n, e); i < n && s[i] != '#';
	     i = skip_blank(s, n, e)) {
		e = tok_end(s, n, i, "#");
		any = true;
		if (hosts_skip(s + i, e - i))
			continue;
		rc = take_name(r, line, s + i, e - i, false);
		if (rc)
			return rc;
	}
	if (!any)
		return seg_bl_problem(r->bl, line, s, n, "no host name after "
				      "the address");
	return 0;
}

/* domains: "name [# comment]"; addresses load as entries */
static int read_domains(struct seg_bl_reader *r, uint32_t line, const char *s,
			size_t n)
{
	size_t e = tok_end(s, n, 0, "#;");
	bool bad;
	int rc;

	if (e == 0)
		return 0;
	rc = rest_must_be_comment(r, line, s, n, e, &bad);
	if (rc || bad)
		return rc;
	return take_name(r, line, s, e, true);
}

int seg_bl_read_line(struct seg_bl_reader *r, enum seg_bl_format f,
		     uint32_t line, const char *s, size_t n)
{
	switch (f) {
	case SEG_BL_FMT_SPAMHAUS_JSON:
		return read_json(r, line, s, n);
	case SEG_BL_FMT_FEODO_CSV:
		return read_csv(r, line, s, n);
	case SEG_BL_FMT_HOSTS:
		return read_hosts(r, line, s, n);
	case SEG_BL_FMT_DOMAINS:
		return read_domains(r, line, s, n);
	case SEG_BL_FMT_FALCO_YAML:
		return seg_bl_read_yaml(r, line, s, n);
	case SEG_BL_FMT_PLAIN:
	case SEG_BL_FMT_SPAMHAUS_DROP:
	default:
		return read_plain(r, line, s, n);
	}
}

/* ---- auto-detection ------------------------------------------------------ */

static bool addr_like(const char *s, size_t n)
{
	char buf[64];
	const char *sl;
	struct in6_addr a;

	if (!addr_chars(s, n) || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	sl = strchr(buf, '/');
	if (sl)
		buf[sl - buf] = 0;
	return seg_addr_parse(buf, &a) == 0;
}

enum seg_bl_vote seg_bl_classify(const char *s, size_t n)
{
	char dom[256];
	size_t e, i;

	if (s[0] == '{')
		return SEG_BL_VOTE_JSON;
	if (n >= 2 && s[0] == '-' && is_blank(s[1])) {
		i = skip_blank(s, n, 1);
		if (seg_bl_yaml_key(s + i, n - i))
			return SEG_BL_VOTE_YAML;
	}
	if (s[0] == '"')
		return SEG_BL_VOTE_CSV;
	e = tok_end(s, n, 0, ",;#");
	for (i = 0; i < n && s[i] != '#' && s[i] != ';' && s[i] != ','; i++)
		;
	if (i < n && s[i] == ',') {
		struct field f[CSV_MAX_FIELDS];
		size_t nf = csv_split(s, n, f, CSV_MAX_FIELDS);

		for (size_t k = 0; k < nf; k++)
			if (addr_like(f[k].p, f[k].n) || csv_addr_column(&f[k]))
				return SEG_BL_VOTE_CSV;
		for (size_t k = 0; k < nf; k++)
			if (is_hex_len(f[k].p, f[k].n, 40) ||
			    is_hex_len(f[k].p, f[k].n, 64))
				return SEG_BL_VOTE_SHA;
		return SEG_BL_VOTE_NONE;
	}
	if (addr_like(s, e)) {
		size_t t2, t2e;

		i = skip_blank(s, n, e);
		if (i < n && s[i] == ';') {
			i = skip_blank(s, n, i + 1);
			return (n - i >= 3 && !strncasecmp(s + i, "SBL", 3))
				? SEG_BL_VOTE_DROP : SEG_BL_VOTE_PLAIN;
		}
		t2 = i;
		t2e = tok_end(s, n, t2, "#");
		if (t2e > t2 && !memchr(s, '/', e) &&
		    (!domain_problem(s + t2, t2e - t2, dom) ||
		     hosts_skip(s + t2, t2e - t2)))
			return SEG_BL_VOTE_HOSTS;
		return SEG_BL_VOTE_PLAIN;
	}
	if (e && !domain_problem(s, e, dom))
		return SEG_BL_VOTE_DOMAINS;
	if (is_hex_len(s, e, 40) || is_hex_len(s, e, 64))
		return SEG_BL_VOTE_SHA;
	return SEG_BL_VOTE_NONE;
}
