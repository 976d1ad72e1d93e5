/* test_strbuf.c - the growing text buffer: printf text, binary appends
 * (the compiler's fingerprints hold NULs), JSON strings, and a failure
 * that makes later writes no-ops. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "strbuf.h"

Test(strbuf, binary_appends_keep_nuls_and_a_terminator)
{
	struct seg_strbuf b = { 0 };
	const char bytes[5] = { 'a', 0, 'b', 0, 'c' };

	seg_strbuf_add(&b, bytes, sizeof(bytes));
	cr_assert_eq(b.err, 0);
	cr_assert_eq(b.n, 5);
	cr_assert_eq(memcmp(b.p, bytes, 5), 0);
	cr_assert_eq(b.p[5], 0, "NUL after the bytes");
	seg_strbuf_free(&b);
}

Test(strbuf, strings_printf_and_reset_mix)
{
	struct seg_strbuf b = { 0 };

	seg_strbuf_str(&b, "ep:");
	seg_strbuf_str(&b, NULL);          /* adds nothing */
	seg_strbuf_printf(&b, "%s=%d", "port", 80);
	cr_assert_str_eq(b.p, "ep:port=80");
	b.n = 0;                           /* reused as a scratch key */
	seg_strbuf_str(&b, "x");
	cr_assert_str_eq(b.p, "x");
	seg_strbuf_free(&b);
}

Test(strbuf, grows_past_many_doublings)
{
	struct seg_strbuf b = { 0 };
	char *text;
	size_t len;

	for (int i = 0; i < 100000; i++)
		seg_strbuf_add(&b, "0123456789", 10);
	cr_assert_eq(seg_strbuf_take(&b, &text, &len), 0);
	cr_assert_eq(len, 1000000);
	cr_assert_eq(strlen(text), len);
	cr_assert_eq(memcmp(text + len - 10, "0123456789", 10), 0);
	cr_assert_null(b.p, "take leaves the buffer empty");
	free(text);
}

Test(strbuf, an_error_makes_later_writes_no_ops)
{
	struct seg_strbuf b = { 0 };
	char *text = NULL;
	size_t len = 0;

	seg_strbuf_str(&b, "kept");
	b.err = -ENOMEM;
	seg_strbuf_add(&b, "lost", 4);
	seg_strbuf_printf(&b, "%s", "lost");
	cr_assert_eq(b.n, 4);
	cr_assert_eq(seg_strbuf_take(&b, &text, &len), -ENOMEM);
	cr_assert_null(text);
	cr_assert_null(b.p, "take frees the text on error");
}

Test(strbuf, json_string_escapes)
{
	struct seg_strbuf b = { 0 };

	seg_strbuf_json_str(&b, "a\"b\\c\n");
	cr_assert_str_eq(b.p, "\"a\\\"b\\\\c\\n\"");
	seg_strbuf_free(&b);
}
