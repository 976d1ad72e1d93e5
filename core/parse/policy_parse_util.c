/* policy_parse_util.c - what every part of the policy parser shares:
 * quoting, errors with file:line:col, type checks, and unknown-field
 * detection with a "did you mean" (policy_parse_int.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_parse_int.h"

const char *pp_q(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s && *s && i + 4 < len; s++)
		buf[i++] = isprint((unsigned char)*s) ? *s : '?';
	if (s && *s) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
/* ---- errors and small helpers ------------------------------------------------ */

int pp_err(const struct pp *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return seg_errorf(c->err, c->file, yu_line(n), yu_col(n), EINVAL, "%s",
			  msg);
}

int pp_nomem(const struct pp *c)
{
	return seg_errorf(c->err, c->file, 0, 0, ENOMEM, "out of memory");
}

void *pp_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

const char *pp_type_name(const yaml_node_t *n)
{
	if (!n || yu_is_null(n))
		return "nothing (null)";
	if (yu_is_map(n))
		return "a mapping";
	if (yu_is_seq(n))
		return "a list";
	return "a plain value";
}

yaml_node_t *pp_get(const struct pp *c, yaml_node_t *map, const char *key)
{
	return yu_map_get(c->doc, map, key);
}

yaml_node_t *pp_key_node(const struct pp *c, yaml_node_t *map, const char *key)
{
	if (!yu_is_map(map))
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(c->doc, p->key);
		const char *s = yu_scalar(k);

		if (s && !strcmp(s, key))
			return k;
	}
	return NULL;
}

int pp_want_map(const struct pp *c, const yaml_node_t *n, const char *what)
{
	if (yu_is_map(n))
		return 0;
	return pp_err(c, n, "%s must be a mapping (key: value), not %s; "
		      "fix its indentation or write it as {...}", what,
		      pp_type_name(n));
}

int pp_want_seq(const struct pp *c, const yaml_node_t *n, const char *what)
{
	if (yu_is_seq(n))
		return 0;
	return pp_err(c, n, "%s must be a list, not %s; write its items as "
		      "'- ...' lines or as [...]", what, pp_type_name(n));
}

int pp_want_str(const struct pp *c, const yaml_node_t *n, const char *what,
		const char **out)
{
	const char *s = yu_scalar(n);

	if (!s || yu_is_null(n))
		return pp_err(c, n, "%s must be a string, not %s", what,
			      pp_type_name(n));
	*out = s;
	return 0;
}

int pp_choice(const struct pp *c, const yaml_node_t *n, const char *what,
	      const char *const *names, bool fold, const char *choices,
	      size_t *idx)
{
	const char *s;
	int ret = pp_want_str(c, n, what, &s);

	for (size_t i = 0; !ret && names[i]; i++)
		if (fold ? !strcasecmp(s, names[i]) : !strcmp(s, names[i])) {
			*idx = i;
			return 0;
		}
	return ret ? ret : pp_err(c, n, "unknown %s '%s'; use %s", what, Q(s),
				  choices);
}

/* Optimal-string-alignment distance (a transposition costs 1),
 * case-insensitive, capped at 9. */
unsigned pp_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[33][33];

	if (la > 32 || lb > 32)
		return 9;
	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			unsigned best, cost;

			if (!i || !j) {
				d[i][j] = (unsigned)(i + j);
				continue;
			}
			cost = tolower((unsigned char)a[i - 1]) !=
			       tolower((unsigned char)b[j - 1]);
			best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
			    tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			    tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb] > 9 ? 9 : d[la][lb];
}

bool pp_close(const char *typed, const char *known)
{
	unsigned d = pp_edit_distance(typed, known);

	return d <= 1 || (d == 2 && strlen(known) >= 5);
}

static int unknown_key(const struct pp *c, const yaml_node_t *k,
		       const char *what, const char *const *keys)
{
	const char *s = yu_scalar(k), *best = NULL;
	unsigned best_d = 9;
	char list[256] = "";
	size_t used = 0;

	for (const char *const *p = keys; *p; p++) {
		unsigned d = pp_edit_distance(s, *p);

		if (d < best_d && pp_close(s, *p)) {
			best_d = d;
			best = *p;
		}
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%s%s", p == keys ? "" : ", ", *p);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	if (best)
		return pp_err(c, k, "unknown field '%s' in %s; did you mean "
			      "'%s'?", Q(s), what, best);
	return pp_err(c, k, "unknown field '%s' in %s; expected one of: %s",
		      Q(s), what, list);
}

int pp_keys(const struct pp *c, const yaml_node_t *n, const char *what,
	    const char *const *keys)
{
	int ret = pp_want_map(c, n, what);

	if (ret)
		return ret;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(c->doc, p->key);
		const char *s = yu_scalar(k);
		const char *const *kp = keys;

		if (!s)
			return pp_err(c, k, "keys in %s must be plain names, not "
				      "%s", what, pp_type_name(k));
		while (*kp && strcmp(*kp, s))
			kp++;
		if (!*kp)
			return unknown_key(c, k, what, keys);
		for (yaml_node_pair_t *o = n->data.mapping.pairs.start; o < p; o++) {
			const char *os = yu_scalar(yu_node(c->doc, o->key));

			if (os && !strcmp(os, s))
				return pp_err(c, k, "duplicate field '%s' in %s; "
					      "keep only one", s, what);
		}
	}
	return 0;
}
