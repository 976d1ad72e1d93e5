/* strbuf.h - a growing text buffer written with printf formats. An
 * allocation failure is remembered in err and makes later writes no-ops,
 * so a writer checks once at the end. */
#ifndef SEGD_STRBUF_H
#define SEGD_STRBUF_H

#include <stddef.h>

struct seg_strbuf {
	char *p;                /* NUL-terminated once anything was written */
	size_t n, cap;
	int err;                /* 0 or -ENOMEM / -EINVAL */
};

void seg_strbuf_printf(struct seg_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* len bytes of s, which may hold NULs (the compiler's fingerprints); the
 * text stays NUL-terminated after them */
void seg_strbuf_add(struct seg_strbuf *b, const void *s, size_t len);
/* s as it is; NULL adds nothing */
void seg_strbuf_str(struct seg_strbuf *b, const char *s);
/* s as a quoted JSON string (escaped as every segd JSON writer does). */
void seg_strbuf_json_str(struct seg_strbuf *b, const char *s);
/* The text (malloc'd, "" when empty) and its length; b is empty after.
 * Returns b->err (the text is freed then). */
int seg_strbuf_take(struct seg_strbuf *b, char **text, size_t *len);
void seg_strbuf_free(struct seg_strbuf *b);

#endif /* SEGD_STRBUF_H */
