/* strbuf.c - seg_strbuf (strbuf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_escape.h"
#include "strbuf.h"

/* room for need more bytes and a NUL; 0 or b->err set */
static int strbuf_reserve(struct seg_strbuf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->err)
		return b->err;
	if (b->p && b->n + need < b->cap)
		return 0;
	cap = (b->cap ? b->cap * 2 : 256) + need + 1;
	p = realloc(b->p, cap);
	if (!p)
		return b->err = -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

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
		strbuf_reserve(b, (size_t)n);
	}
}

void seg_strbuf_add(struct seg_strbuf *b, const void *s, size_t len)
{
	if (strbuf_reserve(b, len))
		return;
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = 0;
}

void seg_strbuf_str(struct seg_strbuf *b, const char *s)
{
	if (s)
		seg_strbuf_add(b, s, strlen(s));
	else
		seg_strbuf_add(b, "", 0);
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
