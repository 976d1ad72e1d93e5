/* test_model.c - labels, selectors and CIDRs (core/model/model.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "model.h"

/* ---- label parsing ------------------------------------------------------- */

struct label_case {
	char text[80];
	int rc;            /* 0 or -EINVAL */
	size_t n;          /* labels on success */
	int col;           /* error column on failure (0 = not checked) */
	char msg[48];     /* substring of the message on failure */
};

ParameterizedTestParameters(model, labels_parse)
{
	static struct label_case cases[] = {
		{ "", 0, 0, 0, "" },
		{ "app=web", 0, 1, 0, "" },
		{ "app=web,tier=frontend", 0, 2, 0, "" },
		{ "tier=frontend, app=web", 0, 2, 0, "" },
		{ "app=", 0, 1, 0, "" },
		{ "kubernetes.io/metadata.name=prod", 0, 1, 0, "" },
		{ "example.com/my_key-1.x=V_1-a.b", 0, 1, 0, "" },
		{ "a=1,b=2,c=3,d=4", 0, 4, 0, "" },
		{ "A9=z", 0, 1, 0, "" },
		{ "app", -EINVAL, 0, 1, "has no '='" },
		{ "app=web,tier", -EINVAL, 0, 9, "'tier'" },
		{ "app=web,,x=y", -EINVAL, 0, 9, "empty label" },
		{ "=web", -EINVAL, 0, 1, "must not be empty" },
		{ "-app=web", -EINVAL, 0, 1, "begin and end" },
		{ "app-=web", -EINVAL, 0, 1, "begin and end" },
		{ "ap p=web", -EINVAL, 0, 1, "may contain only" },
		{ "app=web!", -EINVAL, 0, 5, "invalid value 'web!'" },
		{ "x=1,app=-web", -EINVAL, 0, 9, "invalid value" },
		{ "Example.com/app=x", -EINVAL, 0, 1, "DNS subdomain" },
		{ "example..com/app=x", -EINVAL, 0, 1, "empty DNS label" },
		{ "/app=x", -EINVAL, 0, 1, "prefix must not be empty" },
		{ "example.com/=x", -EINVAL, 0, 13, "must not be empty" },
		{ "a/b/c=x", -EINVAL, 0, 3, "at most one '/'" },
		{ "app=web,app=db", -EINVAL, 0, 9, "duplicate key 'app'" },
		{ "k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  -EINVAL, 0, 3, "at most 63" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=v",
		  -EINVAL, 0, 1, "at most 63" },
		{ "k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  0, 1, 0, "" },
	};
	return cr_make_param_array(struct label_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct label_case *c, model, labels_parse)
{
	struct seg_labels l = { 0 };
	struct seg_error err = { 0 };
	int rc = seg_labels_parse(c->text, &l, &err);

	cr_assert_eq(rc, c->rc, "'%s': rc %d, want %d (%s)", c->text, rc,
		     c->rc, err.msg);
	if (!rc) {
		cr_assert_eq(l.n, c->n, "'%s': %zu labels", c->text, l.n);
		for (size_t i = 1; i < l.n; i++)
			cr_assert_lt(strcmp(l.v[i - 1].key, l.v[i].key), 0);
	} else {
		if (c->col)
			cr_assert_eq(err.col, c->col, "'%s': col %d want %d (%s)",
				     c->text, err.col, c->col, err.msg);
		cr_assert(strstr(err.msg, c->msg), "'%s': msg '%s' lacks '%s'",
			  c->text, err.msg, c->msg);
		cr_assert_eq(l.n, 0);
	}
	seg_labels_free(&l);
}

Test(model, labels_set_get_copy)
{
	struct seg_labels l = { 0 }, d = { 0 };

	cr_assert_eq(seg_labels_set(&l, "b", "2"), 0);
	cr_assert_eq(seg_labels_set(&l, "a", "1"), 0);
	cr_assert_eq(seg_labels_set(&l, "c", "3"), 0);
	cr_assert_eq(seg_labels_set(&l, "b", "22"), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0].key, "a");
	cr_assert_str_eq(l.v[1].key, "b");
	cr_assert_str_eq(seg_labels_get(&l, "b"), "22");
	cr_assert_null(seg_labels_get(&l, "zz"));
	cr_assert_eq(seg_labels_copy(&d, &l), 0);
	seg_labels_free(&l);
	cr_assert_eq(d.n, 3);
	cr_assert_str_eq(seg_labels_get(&d, "c"), "3");
	seg_labels_free(&d);
	seg_labels_free(&d);
}

Test(model, error_format)
{
	struct seg_error e = { 0 };
	char buf[600];

	cr_assert_eq(seg_errorf(&e, "p.yaml", 3, 7, EINVAL, "bad %s", "thing"),
		     -EINVAL);
	seg_error_format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "p.yaml:3:7: bad thing");
	cr_assert_eq(seg_errorf(&e, NULL, 0, 0, E2BIG, "too big"), -E2BIG);
	seg_error_format(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "too big");
	cr_assert_eq(seg_errorf(NULL, NULL, 0, 0, ENOENT, "x"), -ENOENT);
}

/* ---- selectors --------------------------------------------------------- */

struct sel_case {
	char labels[32];
	char key[16];
	enum seg_sel_op op;
	char v1[16], v2[16];
	bool want;
};

ParameterizedTestParameters(model, selector)
{
	static struct sel_case cases[] = {
		{ "app=web", "app", SEG_SEL_IN, "web", "", true },
		{ "app=web", "app", SEG_SEL_IN, "db", "web", true },
		{ "app=web", "app", SEG_SEL_IN, "db", "", false },
		{ "", "app", SEG_SEL_IN, "web", "", false },
		{ "app=", "app", SEG_SEL_IN, "", "", false },
		{ "app=web", "app", SEG_SEL_NOT_IN, "db", "", true },
		{ "app=web", "app", SEG_SEL_NOT_IN, "web", "", false },
		{ "tier=x", "app", SEG_SEL_NOT_IN, "web", "", true },
		{ "app=web", "app", SEG_SEL_EXISTS, "", "", true },
		{ "app=", "app", SEG_SEL_EXISTS, "", "", true },
		{ "tier=x", "app", SEG_SEL_EXISTS, "", "", false },
		{ "app=web", "app", SEG_SEL_DOES_NOT_EXIST, "", "", false },
		{ "tier=x", "app", SEG_SEL_DOES_NOT_EXIST, "", "", true },
		{ "", "app", SEG_SEL_DOES_NOT_EXIST, "", "", true },
	};
	return cr_make_param_array(struct sel_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sel_case *c, model, selector)
{
	struct seg_labels l = { 0 };
	char *vals[2] = { c->v1, c->v2 };
	struct seg_sel_req r = {
		.key = c->key, .op = c->op, .values = vals,
		.n_values = c->v2[0] ? 2 : c->v1[0] ? 1 : 0,
	};
	struct seg_selector s = { .reqs = &r, .n_reqs = 1 };

	cr_assert_eq(seg_labels_parse(c->labels, &l, NULL), 0);
	cr_assert_eq(seg_selector_matches(&s, &l), c->want,
		     "labels '%s' key %s op %d", c->labels, c->key, c->op);
	seg_labels_free(&l);
}

Test(model, selector_empty_and_and)
{
	struct seg_labels l = { 0 };
	struct seg_selector empty = { 0 };
	char *web[] = { "web" }, *prod[] = { "prod" };
	struct seg_sel_req r[2] = {
		{ .key = "app", .op = SEG_SEL_IN, .values = web, .n_values = 1 },
		{ .key = "env", .op = SEG_SEL_IN, .values = prod, .n_values = 1 },
	};
	struct seg_selector both = { .reqs = r, .n_reqs = 2 };

	cr_assert_eq(seg_labels_parse("app=web", &l, NULL), 0);
	cr_assert(seg_selector_matches(&empty, &l));
	cr_assert_not(seg_selector_matches(&both, &l));
	cr_assert_eq(seg_labels_set(&l, "env", "prod"), 0);
	cr_assert(seg_selector_matches(&both, &l));
	seg_labels_free(&l);
}

/* ---- CIDRs -------------------------------------------------------------- */

struct cidr_case {
	char text[48];
	int rc;
	int plen;             /* stored plen */
	char fmt[80];         /* seg_cidr_format, or error substring */
};

ParameterizedTestParameters(model, cidr_parse)
{
	static struct cidr_case cases[] = {
		{ "10.0.0.0/8", 0, 104, "10.0.0.0/8" },
		{ "10.1.2.3", 0, 128, "10.1.2.3/32" },
		{ "10.1.2.3/32", 0, 128, "10.1.2.3/32" },
		{ "0.0.0.0/0", 0, 96, "0.0.0.0/0" },
		{ "192.168.0.0/16", 0, 112, "192.168.0.0/16" },
		{ "fd00::/64", 0, 64, "fd00::/64" },
		{ "::/0", 0, 0, "::/0" },
		{ "2001:db8::1", 0, 128, "2001:db8::1/128" },
		{ "::ffff:10.0.0.0/104", 0, 104, "10.0.0.0/8" },
		{ "10.0.0.1/8", -EINVAL, 0,
		  "10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?" },
		{ "fd00::1/64", -EINVAL, 0, "did you mean fd00::/64?" },
		{ "10.0.0.0/33", -EINVAL, 0, "0 to 32" },
		{ "fd00::/129", -EINVAL, 0, "0 to 128" },
		{ "10.0.0.0/", -EINVAL, 0, "prefix length" },
		{ "10.0.0.0/x", -EINVAL, 0, "prefix length" },
		{ "10.0.0.0/-1", -EINVAL, 0, "prefix length" },
		{ "10.0.0/8", -EINVAL, 0, "not an IPv4 or IPv6" },
		{ "", -EINVAL, 0, "empty" },
		{ "/8", -EINVAL, 0, "not a CIDR" },
		{ "hello", -EINVAL, 0, "not an IPv4 or IPv6" },
	};
	return cr_make_param_array(struct cidr_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cidr_case *c, model, cidr_parse)
{
	struct seg_cidr cidr;
	struct seg_error err = { 0 };
	char buf[64];
	int rc = seg_cidr_parse(c->text, &cidr, &err);

	cr_assert_eq(rc, c->rc, "'%s': rc %d (%s)", c->text, rc, err.msg);
	if (rc) {
		cr_assert(strstr(err.msg, c->fmt), "'%s': '%s' lacks '%s'",
			  c->text, err.msg, c->fmt);
		return;
	}
	cr_assert_eq(cidr.plen, c->plen, "'%s': plen %d", c->text, cidr.plen);
	seg_cidr_format(&cidr, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->fmt);
}

struct contains_case {
	char outer[48], inner[48];
	bool want;
};

ParameterizedTestParameters(model, cidr_contains)
{
	static struct contains_case cases[] = {
		{ "10.0.0.0/8", "10.1.0.0/16", true },
		{ "10.0.0.0/8", "10.0.0.0/8", true },
		{ "10.1.0.0/16", "10.0.0.0/8", false },
		{ "10.0.0.0/8", "11.0.0.0/16", false },
		{ "10.0.0.0/8", "10.255.255.255", true },
		{ "0.0.0.0/0", "203.0.113.7", true },
		{ "0.0.0.0/0", "2001:db8::1", false },
		{ "::/0", "2001:db8::1", true },
		{ "::/0", "10.0.0.1", true },   /* raw bits: mapped is inside ::/0 */
		{ "fd00::/64", "fd00::1", true },
		{ "fd00::/64", "fd00:0:0:1::1", false },
		{ "10.0.0.128/25", "10.0.0.127", false },
		{ "10.0.0.128/25", "10.0.0.129", true },
	};
	return cr_make_param_array(struct contains_case, cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct contains_case *c, model, cidr_contains)
{
	struct seg_cidr o, i;

	cr_assert_eq(seg_cidr_parse(c->outer, &o, NULL), 0);
	cr_assert_eq(seg_cidr_parse(c->inner, &i, NULL), 0);
	cr_assert_eq(seg_cidr_contains(&o, &i), c->want, "%s in %s", c->inner,
		     c->outer);
}

Test(model, addr_parse_format)
{
	struct in6_addr a;
	char buf[64];

	cr_assert_eq(seg_addr_parse("10.200.0.5", &a), 0);
	cr_assert_eq(a.s6_addr[10], 0xff);
	cr_assert_eq(a.s6_addr[15], 5);
	seg_addr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "10.200.0.5");
	cr_assert_eq(seg_addr_parse("fd00:200::7", &a), 0);
	seg_addr_format(&a, buf, sizeof(buf));
	cr_assert_str_eq(buf, "fd00:200::7");
	cr_assert_eq(seg_addr_parse("10.0.0.0/8", &a), -EINVAL);
	cr_assert_eq(seg_addr_parse("", &a), -EINVAL);
}

Test(model, frees_are_idempotent)
{
	struct seg_policy p = { 0 };
	struct seg_endpoint e = { 0 };
	struct seg_namespace n = { 0 };

	p.name = strdup("x");
	p.rules = calloc(1, sizeof(*p.rules));
	p.n_rules = 1;
	p.rules[0].peers = calloc(1, sizeof(*p.rules[0].peers));
	p.rules[0].n_peers = 1;
	p.rules[0].peers[0].except = calloc(2, sizeof(struct seg_cidr));
	p.rules[0].peers[0].n_except = 2;
	seg_policy_free(&p);
	seg_policy_free(&p);
	e.name = strdup("e");
	cr_assert_eq(seg_labels_set(&e.labels, "a", "b"), 0);
	seg_endpoint_free(&e);
	seg_endpoint_free(&e);
	n.name = strdup("n");
	seg_namespace_free(&n);
	seg_namespace_free(NULL);
}
