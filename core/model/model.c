/* model.c - helpers of segd's desired-state model: errors, labels,
 * selectors, addresses and CIDRs, and the *_free functions.
 *
 * Pure: no syscalls beyond allocation, no globals.
 */
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---------------------------------------------------------------- */

/* ---- labels ---------------------------------------------------------------- */

void seg_labels_free(struct seg_labels *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Index of key, or -(insertion point) - 1. */
static long labels_find(const struct seg_labels *l, const char *key)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->v[mid].key, key);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

int seg_labels_set(struct seg_labels *l, const char *key, const char *value)
{
	long pos;
	char *k = NULL, *v = NULL;
	struct seg_label *nv;
	size_t at;

	if (!l || !key || !value)
		return -EINVAL;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	pos = labels_find(l, key);
	if (pos >= 0) {
		free(l->v[pos].value);
		l->v[pos].value = v;
		return 0;
	}
	k = strdup(key);
	nv = k ? realloc(l->v, (l->n + 1) * sizeof(*l->v)) : NULL;
	if (!nv) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->v = nv;
	at = (size_t)(-pos - 1);
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
	l->v[at].key = k;
	l->v[at].value = v;
	l->n++;
	return 0;
}

const char *seg_labels_get(const struct seg_labels *l, const char *key)
{
	long pos;

	if (!l || !key || !l->n)
		return NULL;
	pos = labels_find(l, key);
	return pos >= 0 ? l->v[pos].value : NULL;
}

void seg_labels_format(const struct seg_labels *l, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < l->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", i ? "," : "",
					l->v[i].key, l->v[i].value);
}

int seg_labels_copy(struct seg_labels *dst, const struct seg_labels *src)
{
	struct seg_labels out = { 0 };

	/* dst is overwritten, not freed: pass an empty or fresh struct. */
	if (!dst || !src)
		return -EINVAL;
	if (src->n) {
		out.v = calloc(src->n, sizeof(*out.v));
		if (!out.v)
			return -ENOMEM;
		for (size_t i = 0; i < src->n; i++, out.n++) {
			out.v[i].key = strdup(src->v[i].key);
			out.v[i].value = strdup(src->v[i].value);
			if (!out.v[i].key || !out.v[i].value) {
				out.n++;
				seg_labels_free(&out);
				return -ENOMEM;
			}
		}
	}
	*dst = out;
	return 0;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Kubernetes "qualified name" part / label value: <= 63 characters,
 * alphanumeric at both ends, [-A-Za-z0-9_.] inside. Returns NULL when
 * valid, else why not. Empty is rejected here; callers allow it for values. */
static const char *check_name63(const char *s, size_t n)
{
	if (n == 0)
		return "must not be empty";
	if (n > 63)
		return "must be at most 63 characters";
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return "must begin and end with a letter or digit";
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return "may contain only letters, digits, '-', '_' and '.'";
	return NULL;
}

/* RFC 1123 DNS subdomain: <= 253, lowercase alphanumerics, '-' and '.',
 * each dot-separated label 1..63 and alphanumeric at both ends. */
static const char *check_dns_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	if (n == 0)
		return "prefix must not be empty";
	if (n > 253)
		return "prefix must be at most 253 characters";
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-'))
				return "prefix must be a DNS subdomain "
				       "(lowercase letters, digits, '-', '.')";
			continue;
		}
		if (i == start)
			return "prefix has an empty DNS label";
		if (i - start > 63)
			return "prefix has a DNS label longer than 63 characters";
		if (s[start] == '-' || s[i - 1] == '-')
			return "prefix DNS labels must begin and end with a "
			       "letter or digit";
		start = i + 1;
	}
	return NULL;
}

const char *seg_label_value_problem(const char *s, size_t n)
{
	return n ? check_name63(s, n) : NULL;
}

const char *seg_label_key_problem(const char *s, size_t n, size_t *bad_off)
{
	const char *slash = memchr(s, '/', n);
	const char *why;
	size_t unused;

	if (!bad_off)
		bad_off = &unused;
	*bad_off = 0;
	if (n == 0)
		return "key must not be empty";
	if (slash) {
		size_t plen = (size_t)(slash - s);

		why = check_dns_subdomain(s, plen);
		if (why)
			return why;
		*bad_off = plen + 1;
		why = check_name63(slash + 1, n - plen - 1);
		if (why) {
			if (memchr(slash + 1, '/', n - plen - 1))
				return "key may contain at most one '/'";
			return why;
		}
		return NULL;
	}
	why = check_name63(s, n);
	return why;
}

static void trim(const char **s, size_t *n, size_t *off)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
		(*off)++;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

int seg_labels_parse(const char *text, struct seg_labels *out,
		     struct seg_error *err)
{
	struct seg_labels l = { 0 };
	const char *p;
	int rc = 0;
	char *k = NULL, *v = NULL;

	if (!text || !out)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "no labels given");
	p = text;
	/* An empty or all-blank string is the empty label set. */
	{
		const char *q = text;

		while (*q && isspace((unsigned char)*q))
			q++;
		if (!*q)
			goto done;
	}
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t off = (size_t)(p - text);
		const char *item = p, *eq;
		size_t kn, vn, voff, bad;
		const char *why;
		int col;

		trim(&item, &n, &off);
		col = (int)off + 1;
		if (n == 0) {
			rc = seg_errorf(err, NULL, 0, col, EINVAL,
					"empty label at column %d; expected "
					"key=value[,key=value...]", col);
			goto fail;
		}
		eq = memchr(item, '=', n);
		if (!eq) {
			rc = seg_errorf(err, NULL, 0, col, EINVAL,
					"label '%.*s' at column %d has no '='; "
					"expected key=value", (int)n, item, col);
			goto fail;
		}
		kn = (size_t)(eq - item);
		vn = n - kn - 1;
		voff = kn + 1;
		why = seg_label_key_problem(item, kn, &bad);
		if (why) {
			rc = seg_errorf(err, NULL, 0, col + (int)bad, EINVAL,
					"label '%.*s' at column %d: invalid key "
					"'%.*s': %s", (int)n, item, col + (int)bad,
					(int)kn, item, why);
			goto fail;
		}
		if (vn) {
			why = check_name63(eq + 1, vn);
			if (why) {
				rc = seg_errorf(err, NULL, 0, col + (int)voff,
						EINVAL, "label '%.*s' at column "
						"%d: invalid value '%.*s': %s",
						(int)n, item, col + (int)voff,
						(int)vn, eq + 1, why);
				goto fail;
			}
		}
		k = strndup(item, kn);
		v = strndup(eq + 1, vn);
		if (!k || !v) {
			rc = seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory");
			goto fail;
		}
		if (seg_labels_get(&l, k)) {
			rc = seg_errorf(err, NULL, 0, col, EINVAL,
					"label '%.*s' at column %d: duplicate "
					"key '%s'", (int)n, item, col, k);
			goto fail;
		}
		rc = seg_labels_set(&l, k, v);
		if (rc) {
			seg_errorf(err, NULL, 0, 0, -rc, "out of memory");
			goto fail;
		}
		free(k);
		free(v);
		k = v = NULL;
		if (!end)
			break;
		p = end + 1;
	}
done:
	*out = l;
	return 0;
fail:
	free(k);
	free(v);
	seg_labels_free(&l);
	return rc;
}

/* ---- selectors ------------------------------------------------------------- */

void seg_selector_free(struct seg_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_reqs; i++) {
		struct seg_sel_req *r = &s->reqs[i];

		free(r->key);
		for (size_t j = 0; j < r->n_values; j++)
			free(r->values[j]);
		free(r->values);
	}
	free(s->reqs);
	s->reqs = NULL;
	s->n_reqs = 0;
}

static bool value_in(const struct seg_sel_req *r, const char *v)
{
	for (size_t i = 0; i < r->n_values; i++)
		if (r->values[i] && strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

/* Kubernetes semantics: requirements are AND'd; NotIn and DoesNotExist are
 * true when the key is absent; the empty selector matches everything. */
bool seg_selector_matches(const struct seg_selector *s,
			  const struct seg_labels *l)
{
	if (!s)
		return true;
	for (size_t i = 0; i < s->n_reqs; i++) {
		const struct seg_sel_req *r = &s->reqs[i];
		const char *v = seg_labels_get(l, r->key);

		switch (r->op) {
		case SEG_SEL_IN:
			if (!v || !value_in(r, v))
				return false;
			break;
		case SEG_SEL_NOT_IN:
			if (v && value_in(r, v))
				return false;
			break;
		case SEG_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case SEG_SEL_DOES_NOT_EXIST:
			if (v)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

/* ---- frees ----------------------------------------------------------------- */

void seg_peer_free(struct seg_peer *p)
{
	if (!p)
		return;
	seg_selector_free(&p->pods);
	seg_selector_free(&p->namespaces);
	seg_selector_free(&p->nodes);
	free(p->except);
	free(p->domain);
	memset(p, 0, sizeof(*p));
}

void seg_rule_free(struct seg_rule *r)
{
	if (!r)
		return;
	free(r->name);
	for (size_t i = 0; i < r->n_peers; i++)
		seg_peer_free(&r->peers[i]);
	free(r->peers);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

void seg_policy_free(struct seg_policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->ns);
	free(p->source_file);
	free(p->source);
	seg_selector_free(&p->subject);
	seg_selector_free(&p->subject_namespaces);
	for (size_t i = 0; i < p->n_rules; i++)
		seg_rule_free(&p->rules[i]);
	free(p->rules);
	memset(p, 0, sizeof(*p));
}

void seg_namespace_free(struct seg_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	seg_labels_free(&n->labels);
	memset(n, 0, sizeof(*n));
}

void seg_endpoint_free(struct seg_endpoint *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->ns);
	seg_labels_free(&e->labels);
	memset(e, 0, sizeof(*e));
}

void seg_node_free(struct seg_node *n)
{
	if (!n)
		return;
	free(n->name);
	seg_labels_free(&n->labels);
	memset(n, 0, sizeof(*n));
}

/* ---- addresses ------------------------------------------------------------- */

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
					     0, 0, 0xff, 0xff };

static bool is_mapped(const struct in6_addr *a)
{
	return memcmp(a->s6_addr, v4mapped_prefix, 12) == 0;
}

/* 4 = IPv4 (stored mapped), 6 = IPv6, 0 = neither. */
static int addr_parse(const char *text, struct in6_addr *out)
{
	struct in_addr a4;

	if (!text || !*text)
		return 0;
	if (inet_pton(AF_INET, text, &a4) == 1) {
		memset(out, 0, sizeof(*out));
		memcpy(out->s6_addr, v4mapped_prefix, 12);
		memcpy(out->s6_addr + 12, &a4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, text, out) == 1)
		return 6;
	return 0;
}

int seg_addr_parse(const char *text, struct in6_addr *out)
{
	struct in6_addr a;

	if (!out || !addr_parse(text, &a))
		return -EINVAL;
	*out = a;
	return 0;
}

void seg_addr_format(const struct in6_addr *a, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!buf || !len)
		return;
	if (is_mapped(a))
		inet_ntop(AF_INET, a->s6_addr + 12, tmp, sizeof(tmp));
	else
		inet_ntop(AF_INET6, a, tmp, sizeof(tmp));
	snprintf(buf, len, "%s", tmp);
}

void seg_cidr_format(const struct seg_cidr *c, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];

	if (!buf || !len)
		return;
	if (c->plen >= 96 && is_mapped(&c->addr)) {
		inet_ntop(AF_INET, c->addr.s6_addr + 12, tmp, sizeof(tmp));
		snprintf(buf, len, "%s/%u", tmp, (unsigned)(c->plen - 96));
	} else {
		inet_ntop(AF_INET6, &c->addr, tmp, sizeof(tmp));
		snprintf(buf, len, "%s/%u", tmp, (unsigned)c->plen);
	}
}

/* Do the first plen bits of a and b agree? */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rem = plen % 8;

	if (memcmp(a, b, full))
		return false;
	if (rem) {
		uint8_t m = (uint8_t)(0xff << (8 - rem));

		if ((a[full] & m) != (b[full] & m))
			return false;
	}
	return true;
}

static void mask_addr(struct in6_addr *a, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		if (bits >= 8)
			continue;
		a->s6_addr[i] &= (uint8_t)(0xff00 >> bits);
	}
}

int seg_cidr_parse(const char *text, struct seg_cidr *out,
		   struct seg_error *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	struct seg_cidr c = { 0 };
	size_t alen;
	int fam;
	unsigned long plen;
	unsigned max;

	if (!text || !*text)
		return seg_errorf(err, NULL, 0, 0, EINVAL,
				  "empty CIDR; expected e.g. 10.0.0.0/8 or "
				  "fd00::/64");
	slash = strchr(text, '/');
	alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(buf))
		return seg_errorf(err, NULL, 0, 0, EINVAL,
				  "'%.64s' is not a CIDR; expected e.g. "
				  "10.0.0.0/8 or fd00::/64", text);
	memcpy(buf, text, alen);
	buf[alen] = 0;
	fam = addr_parse(buf, &c.addr);
	if (!fam)
		return seg_errorf(err, NULL, 0, 0, EINVAL,
				  "'%.64s' is not a CIDR: '%s' is not an IPv4 or "
				  "IPv6 address", text, buf);
	max = fam == 4 ? 32 : 128;
	if (slash) {
		const char *d = slash + 1;

		if (!*d || strlen(d) > 3)
			goto badlen;
		plen = 0;
		for (; *d; d++) {
			if (*d < '0' || *d > '9')
				goto badlen;
			plen = plen * 10 + (unsigned long)(*d - '0');
		}
		if (plen > max)
			goto badlen;
	} else {
		plen = max;
	}
	c.plen = (uint8_t)(fam == 4 ? 96 + plen : plen);
	{
		struct seg_cidr m = c;

		mask_addr(&m.addr, c.plen);
		if (memcmp(&m.addr, &c.addr, sizeof(c.addr))) {
			char want[64];

			seg_cidr_format(&m, want, sizeof(want));
			if (fam == 6 && is_mapped(&m.addr) && m.plen >= 96) {
				/* keep the user's IPv6 spelling */
				char a6[INET6_ADDRSTRLEN];

				inet_ntop(AF_INET6, &m.addr, a6, sizeof(a6));
				snprintf(want, sizeof(want), "%s/%u", a6,
					 (unsigned)m.plen);
			}
			return seg_errorf(err, NULL, 0, 0, EINVAL,
					  "%.64s has host bits set; did you mean "
					  "%s?", text, want);
		}
	}
	if (out)
		*out = c;
	return 0;
badlen:
	return seg_errorf(err, NULL, 0, 0, EINVAL,
			  "'%.64s': prefix length must be a number from 0 to "
			  "%u", text, max);
}

void seg_cidr_mask(struct seg_cidr *c)
{
	if (c)
		mask_addr(&c->addr, c->plen);
}

bool seg_cidr_contains(const struct seg_cidr *outer, const struct seg_cidr *inner)
{
	if (!outer || !inner || outer->plen > inner->plen)
		return false;
	return prefix_eq(outer->addr.s6_addr, inner->addr.s6_addr, outer->plen);
}

const char *seg_stratum_mode_name(enum seg_stratum_mode m)
{
	return m == SEG_STRATUM_AUDIT ? "audit" : m == SEG_STRATUM_OFF ? "off" : "drop";
}

int seg_stratum_mode_parse(const char *s, enum seg_stratum_mode *out)
{
	static const enum seg_stratum_mode modes[] = { SEG_STRATUM_DROP, SEG_STRATUM_AUDIT,
						       SEG_STRATUM_OFF };

	for (size_t i = 0; s && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(s, seg_stratum_mode_name(modes[i]))) {
			*out = modes[i];
			return 0;
		}
	return -EINVAL;
}

const char *seg_policy_mode_name(enum seg_policy_mode m)
{
	return m == SEG_MODE_AUDIT ? "audit" : "enforce";
}

int seg_policy_mode_parse(const char *s, enum seg_policy_mode *out)
{
	if (s && !strcmp(s, "enforce"))
		*out = SEG_MODE_ENFORCE;
	else if (s && !strcmp(s, "audit"))
		*out = SEG_MODE_AUDIT;
	else
		return -EINVAL;
	return 0;
}

void seg_world_free(struct seg_world *w)
{
	for (size_t i = 0; i < w->n_namespaces; i++)
		seg_namespace_free(&w->namespaces[i]);
	for (size_t i = 0; i < w->n_endpoints; i++)
		seg_endpoint_free(&w->endpoints[i]);
	for (size_t i = 0; i < w->n_policies; i++)
		seg_policy_free(&w->policies[i]);
	for (size_t i = 0; i < w->n_nodes; i++)
		seg_node_free(&w->nodes[i]);
	free(w->namespaces);
	free(w->endpoints);
	free(w->policies);
	free(w->nodes);
	w->namespaces = NULL;
	w->endpoints = NULL;
	w->policies = NULL;
	w->nodes = NULL;
	w->n_namespaces = w->n_endpoints = w->n_policies = w->n_nodes = 0;
}

/* DNS-1123 subdomain (names) or label (namespaces). */
const char *seg_dns_name_problem(const char *s, bool label)
{
	size_t n = strlen(s), max = label ? 63 : 253;

	if (!n)
		return "must not be empty";
	if (n > max)
		return label ? "must be at most 63 characters" :
			       "must be at most 253 characters";
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (alnum)
			continue;
		if (ch == '-' && i > 0 && i + 1 < n && s[i - 1] != '.' &&
		    s[i + 1] != '.')
			continue;
		if (ch == '.' && !label && i > 0 && i + 1 < n && s[i - 1] != '.')
			continue;
		return label ? "must be lowercase letters, digits and '-', "
			       "starting and ending with a letter or digit" :
			       "must be lowercase letters, digits, '-' and '.', "
			       "starting and ending with a letter or digit";
	}
	return NULL;
}
