/* test_docsplit.c - textual YAML document split and request framing. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include "docsplit.h"
#include "wire.h"

/* Criterion runs each case in a fresh process: cases hold arrays, not
 * pointers, so they survive the copy. */
struct split_case {
	char name[48];
	char text[64];
	int ret;            /* 0 or -EINVAL */
	size_t n;           /* documents */
	int lines[4];       /* first_line of each */
};

static const struct split_case split_cases[] = {
	{ "one document, no marker", "a: 1\nb: 2\n", 0, 1, { 1 } },
	{ "leading marker", "---\na: 1\n", 0, 1, { 1 } },
	{ "two documents", "---\na: 1\n---\nb: 2\n", 0, 2, { 1, 3 } },
	{ "comment before first marker", "# hi\n---\na: 1\n---\nb: 2\n", 0, 3, { 1, 2, 4 } },
	{ "marker with content after a space", "a: 1\n--- # x\nb: 2\n", 0, 2, { 1, 2 } },
	{ "not a marker: ---x", "a: 1\n---x: 2\n", 0, 1, { 1 } },
	{ "not a marker: indented", "a: |\n  ---\n  b\n", 0, 1, { 1 } },
	{ "CRLF marker", "a: 1\r\n---\r\nb: 2\r\n", 0, 2, { 1, 2 } },
	{ "empty stream", "", 0, 1, { 1 } },
	{ "no final newline", "---\na: 1\n---\nb: 2", 0, 2, { 1, 3 } },
	{ "directive refused", "%YAML 1.1\n---\na: 1\n", -EINVAL, 0, { 0 } },
	{ "document end refused", "a: 1\n...\n---\nb: 2\n", -EINVAL, 0, { 0 } },
};

ParameterizedTestParameters(docsplit, table)
{
	return cr_make_param_array(struct split_case, split_cases,
				   sizeof(split_cases) / sizeof(split_cases[0]));
}

ParameterizedTest(struct split_case *c, docsplit, table)
{
	struct seg_doc_span *s = NULL;
	size_t n = 0, covered = 0;
	int ret = seg_split_documents(c->text, strlen(c->text), &s, &n);

	cr_assert_eq(ret, c->ret, "%s: ret %d", c->name, ret);
	if (ret)
		return;
	cr_assert_eq(n, c->n, "%s: %zu documents", c->name, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(s[i].first_line, c->lines[i], "%s: doc %zu line %d",
			     c->name, i, s[i].first_line);
		cr_assert_eq(s[i].off, covered, "%s: spans are contiguous", c->name);
		covered += s[i].len;
	}
	cr_assert_eq(covered, strlen(c->text), "%s: spans cover the stream", c->name);
	free(s);
}

Test(docsplit, hash_depends_on_text_and_namespace)
{
	const char *t = "a: 1\n";

	cr_assert_eq(seg_doc_hash("ns", t, 5), seg_doc_hash("ns", t, 5));
	cr_assert_neq(seg_doc_hash("ns", t, 5), seg_doc_hash("nt", t, 5));
	cr_assert_neq(seg_doc_hash("ns", t, 5), seg_doc_hash("ns", "a: 2\n", 5));
	/* the separator keeps "a"+"bc" apart from "ab"+"c" */
	cr_assert_neq(seg_doc_hash("a", "bc", 2), seg_doc_hash("ab", "c", 1));
}

struct wire_case {
	char name[32];
	char buf[64];
	int ret;
	char hdr[16];
	char payload[16];
};

static const struct wire_case wire_cases[] = {
	{ "header and payload", "segd-request 5 3\nhead:xyz", 0, "head:", "xyz" },
	{ "no payload", "segd-request 3 0\nabc", 0, "abc", "" },
	{ "empty header", "segd-request 0 4\nrest", 0, "", "rest" },
	{ "length past the end", "segd-request 9 0\nabc", -EINVAL, "", "" },
	{ "payload length wrong", "segd-request 3 5\nabcxy", -EINVAL, "", "" },
	{ "one length only", "segd-request 3\nabc", -EINVAL, "", "" },
	{ "no length", "segd-request \nabc", -EINVAL, "", "" },
	{ "wrong magic", "command: status\n", -EINVAL, "", "" },
	{ "no newline", "segd-request 3", -EINVAL, "", "" },
	{ "huge length", "segd-request 99999999999999999999999 0\nx", -EINVAL, "", "" },
};

ParameterizedTestParameters(wire, split)
{
	return cr_make_param_array(struct wire_case, wire_cases,
				   sizeof(wire_cases) / sizeof(wire_cases[0]));
}

ParameterizedTest(struct wire_case *c, wire, split)
{
	const char *h, *p;
	size_t hl, pl;
	int ret = seg_wire_split(c->buf, strlen(c->buf), &h, &hl, &p, &pl);

	cr_assert_eq(ret, c->ret, "%s: ret %d", c->name, ret);
	if (ret)
		return;
	cr_assert_eq(hl, strlen(c->hdr), "%s", c->name);
	cr_assert(!memcmp(h, c->hdr, hl), "%s", c->name);
	cr_assert_eq(pl, strlen(c->payload), "%s", c->name);
	cr_assert(!memcmp(p, c->payload, pl), "%s", c->name);
}

Test(wire, prefix_round_trip)
{
	char buf[128];
	const char *h, *p;
	size_t hl, pl;
	int n = seg_wire_prefix(buf, sizeof(buf), 4, 2);

	memcpy(buf + n, "abcdXY", 6);
	cr_assert_eq(seg_wire_split(buf, (size_t)n + 6, &h, &hl, &p, &pl), 0);
	cr_assert_eq(hl, 4);
	cr_assert_eq(pl, 2);
}
