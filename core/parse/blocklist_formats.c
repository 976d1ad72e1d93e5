/* blocklist_formats.c - one line of each feed format, and what a line looks
 * like for auto-detection. Lines arrive trimmed (blanks, CR) and non-empty;
 * nothing here is NUL-terminated. Tokens and items: blocklist_items.c. */
#include "blocklist_parse_int.h"

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
#define take_addr seg_bl_take_addr
#define domain_problem seg_bl_domain_problem

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
