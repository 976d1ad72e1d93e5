/* blocklist_fixtures.h - helpers the blocklist unit tests share (each
 * includes it; static inline, as every tests/unit .c file goes into one
 * binary).
 */
#ifndef SEGD_TEST_BLOCKLIST_FIXTURES_H
#define SEGD_TEST_BLOCKLIST_FIXTURES_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* the whole of path, NUL room included (not set); *len its length */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#endif
