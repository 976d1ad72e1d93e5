/* docsplit.c - textual split of a YAML stream into documents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "docsplit.h"

static int is_marker(const char *line, size_t len, const char *m)
{
	return len >= 3 && !memcmp(line, m, 3) &&
	       (len == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

int seg_split_documents(const char *buf, size_t len, struct seg_doc_span **out,
			size_t *n_out)
{
	struct seg_doc_span *v = NULL, *grown;
	size_t n = 0, cap = 0, start = 0;
	int line = 1, start_line = 1;

	for (size_t pos = 0; pos <= len;) {
		const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *l = buf + pos;
		size_t ll = end - pos;

		/* a directive or an explicit document end could make the
		 * text of one document depend on another: parse it whole */
		if ((ll && l[0] == '%') || is_marker(l, ll, "...")) {
			free(v);
			return -EINVAL;
		}
		if (pos < len && is_marker(l, ll, "---") && pos > start) {
			if (n == cap) {
				grown = realloc(v, (cap = cap * 2 + 16) * sizeof(*v));
				if (!grown) {
					free(v);
					return -ENOMEM;
				}
				v = grown;
			}
			v[n++] = (struct seg_doc_span){ start, pos - start, start_line };
			start = pos;
			start_line = line;
		}
		if (!nl)
			break;
		pos = end + 1;
		line++;
	}
	if (len > start || n == 0) {
		grown = realloc(v, (n + 1) * sizeof(*v));
		if (!grown) {
			free(v);
			return -ENOMEM;
		}
		v = grown;
		v[n++] = (struct seg_doc_span){ start, len - start, start_line };
	}
	*out = v;
	*n_out = n;
	return 0;
}

uint64_t seg_doc_hash(const char *default_ns, const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p = (const unsigned char *)(default_ns ? default_ns : "");

	for (; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	h = (h ^ 0xff) * 0x100000001b3ull; /* separator no name can contain */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
	return h;
}
