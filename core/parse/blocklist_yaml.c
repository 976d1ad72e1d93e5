/* blocklist_yaml.c - the falco-yaml format: `- list: NAME` items with
 * `items: [a, "b", ...]` (over several lines) or block sequences. Lists
 * whose name contains "domain" give domains; other lists give the
 * addresses among their items and nothing else (ports, process names). */
#include "blocklist_parse_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define is_blank seg_bl_is_blank
#define skip_blank seg_bl_skip_blank

/* falco-yaml: one flow or block sequence item */
static int yaml_item(struct seg_bl_reader *r, uint32_t line, const char *t,
		     size_t n)
{
	struct seg_cidr c;
	char why[128];

	while (n && is_blank(t[n - 1]))
		n--;
	if (n >= 2 && (t[0] == '"' || t[0] == '\'') && t[n - 1] == t[0]) {
		t++;
		n -= 2;
	}
	if (!n)
		return 0;
	if (r->yaml_domains)
		return seg_bl_take_name(r, line, t, n, true);
	if (seg_bl_addr_chars(t, n) && !seg_bl_cidr_tok(t, n, &c, why, sizeof(why)))
		return seg_bl_add_entry(r, &c, line);
	return 0;       /* ports, process names: not ours */
}

/* "key:" at the start of s (a YAML mapping key)? Its length, else 0. */
size_t seg_bl_yaml_key(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_'))
		i++;
	if (i < n && s[i] == ':' && (i + 1 == n || is_blank(s[i + 1])))
		return i;
	return 0;
}

static int yaml_flow(struct seg_bl_reader *r, uint32_t line, const char *s,
		     size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t st = i = skip_blank(s, n, i);
		char q = 0;
		int rc;

		while (i < n) {
			if (q) {
				if (s[i] == q)
					q = 0;
			} else if (s[i] == '"' || s[i] == '\'') {
				q = s[i];
			} else if (s[i] == ',' || s[i] == ']' || s[i] == '#') {
				break;
			}
			i++;
		}
		rc = yaml_item(r, line, s + st, i - st);
		if (rc)
			return rc;
		if (i >= n || s[i] == '#')
			return 0;
		if (s[i] == ']') {
			r->yaml_mode = 0;
			return 0;
		}
		i++;
	}
	return 0;
}

int seg_bl_read_yaml(struct seg_bl_reader *r, uint32_t line, const char *s,
		     size_t n)
{
	size_t k;

	if (s[0] == '#')
		return 0;
	if (r->yaml_mode == 1)
		return yaml_flow(r, line, s, n);
	if (n >= 2 && s[0] == '-' && is_blank(s[1])) {
		size_t i = skip_blank(s, n, 1);

		k = seg_bl_yaml_key(s + i, n - i);
		if (k) {        /* "- list: name" starts an item */
			size_t v = skip_blank(s, n, i + k + 1);

			r->yaml_mode = 0;
			r->yaml_in_list = k == 4 && !memcmp(s + i, "list", 4);
			r->yaml_domains = false;
			for (size_t j = v; r->yaml_in_list && j + 6 <= n; j++)
				if (!strncasecmp(s + j, "domain", 6))
					r->yaml_domains = true;
			return 0;
		}
		if (r->yaml_mode == 2) {
			size_t e = n;

			for (size_t j = i; j < n; j++)
				if (s[j] == '#' && is_blank(s[j - 1])) {
					e = j;
					break;
				}
			return yaml_item(r, line, s + i, e - i);
		}
		return 0;
	}
	k = seg_bl_yaml_key(s, n);
	if (k == 5 && !memcmp(s, "items", 5) && r->yaml_in_list) {
		size_t i = skip_blank(s, n, k + 1);

		if (i < n && s[i] == '[') {
			r->yaml_mode = 1;
			return yaml_flow(r, line, s + i + 1, n - i - 1);
		}
		r->yaml_mode = (i >= n || s[i] == '#') ? 2 : 0;
		return 0;
	}
	if (k)
		r->yaml_mode = 0;
	return 0;
}
