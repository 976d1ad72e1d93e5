/* test_text_memo.c - texts kept by what they name (core/flows/text_memo.c):
 * kinds keep keys apart, growth keeps every text, long texts fit, clear
 * forgets. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>
#include "text_memo.h"

struct memo_case {
	size_t n;           /* texts put */
	size_t text_len;    /* bytes of each (beyond its number) */
};

ParameterizedTestParameters(text_memo, keeps_every_text)
{
	static struct memo_case cases[] = {
		{ 1, 0 },
		{ 300, 8 },           /* past the first table of 256 slots */
		{ 50000, 40 },        /* many chunks, many growths */
		{ 3, 100000 },        /* each text beyond a chunk */
	};
	return cr_make_param_array(struct memo_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void text_of(size_t i, uint32_t kind, size_t pad, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u:%zu:", kind, i);

	memset(buf + n, 'a' + (int)(i % 26), pad);
	buf[(size_t)n + pad] = '\0';
}

ParameterizedTest(struct memo_case *c, text_memo, keeps_every_text)
{
	static char want[100100], got_copy[100100];
	struct seg_text_memo m;

	seg_text_memo_init(&m);
	for (size_t i = 0; i < c->n; i++)
		for (uint32_t kind = 1; kind <= 2; kind++) {
			const char *kept;

			cr_assert_null(seg_text_memo_get(&m, kind, i));
			text_of(i, kind, c->text_len, want, sizeof(want));
			kept = seg_text_memo_put(&m, kind, i, want);
			cr_assert_not_null(kept);
			cr_assert_neq(kept, want, "a copy, not the caller's buffer");
		}
	/* every text is still there, under its own kind, after all growth */
	for (size_t i = 0; i < c->n; i++)
		for (uint32_t kind = 1; kind <= 2; kind++) {
			const char *kept = seg_text_memo_get(&m, kind, i);

			text_of(i, kind, c->text_len, want, sizeof(want));
			cr_assert_not_null(kept, "kind %u key %zu", kind, i);
			snprintf(got_copy, sizeof(got_copy), "%s", kept);
			cr_assert_str_eq(got_copy, want);
		}
	cr_assert_null(seg_text_memo_get(&m, 3, 0), "an unknown kind");
	seg_text_memo_clear(&m);
	for (size_t i = 0; i < c->n; i++)
		cr_assert_null(seg_text_memo_get(&m, 1, i), "cleared: %zu", i);
	/* and it is usable again after a clear */
	cr_assert_str_eq(seg_text_memo_put(&m, 1, 7, "again"), "again");
	cr_assert_str_eq(seg_text_memo_get(&m, 1, 7), "again");
	seg_text_memo_free(&m);
	cr_assert_null(seg_text_memo_get(&m, 1, 7));
}

Test(text_memo, empty_memo_knows_nothing)
{
	struct seg_text_memo m;

	seg_text_memo_init(&m);
	cr_assert_null(seg_text_memo_get(&m, 1, 0));
	seg_text_memo_clear(&m);
	seg_text_memo_free(&m);
}
