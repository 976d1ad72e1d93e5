/* strbuf.c - seg_strbuf (strbuf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_escape.h"
#include "strbuf.h"

void seg_strbuf_printf(struct seg_strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (!b->err) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->p && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void seg_strbuf_json_str(struct seg_strbuf *b, const char *s)
{
	char esc[7];

	seg_strbuf_printf(b, "\"");
	for (const char *p = s; *p; p++) {
		size_t k = seg_json_escape((unsigned char)*p, esc);

		if (k) {
			esc[k] = 0;
			seg_strbuf_printf(b, "%s", esc);
		} else {
			seg_strbuf_printf(b, "%c", *p);
		}
	}
	seg_strbuf_printf(b, "\"");
}

int seg_strbuf_take(struct seg_strbuf *b, char **text, size_t *len)
{
	int ret = b->err;

	if (!ret && !b->p && !(b->p = strdup("")))
		ret = -ENOMEM;
	if (ret) {
		seg_strbuf_free(b);
		return ret;
	}
	*text = b->p;
	*len = b->n;
	memset(b, 0, sizeof(*b));
	return 0;
}

void seg_strbuf_free(struct seg_strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
