/* policy_parse_fixtures.h - what the policy parser's unit tests share
 * (test_policy_parse.c, test_policy_parse_cnp.c each include it; static
 * inline, as every tests/unit .c file goes into one binary): the canonical
 * text of a parsed policy (describe()), and expect_model()/expect_error()
 * that check a document's model, its `source` round trip, or the exact
 * line:col and message of its error.
 */
#ifndef SEGD_TEST_POLICY_PARSE_FIXTURES_H
#define SEGD_TEST_POLICY_PARSE_FIXTURES_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_parse.h"
#include "segd_abi.h"

/* ---- canonical text of a parsed policy ---------------------------------- */

struct sb {
	char buf[4096];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static inline void put(struct sb *s, const char *fmt, ...)
{
	va_list ap;

	if (s->len >= sizeof(s->buf))
		return;
	va_start(ap, fmt);
	s->len += (size_t)vsnprintf(s->buf + s->len, sizeof(s->buf) - s->len,
				    fmt, ap);
	va_end(ap);
}

/* {k=v,k in (a,b),k notin (a),k,!k} */
static inline void put_sel(struct sb *s, const struct seg_selector *sel)
{
	put(s, "{");
	for (size_t i = 0; i < sel->n_reqs; i++) {
		const struct seg_sel_req *r = &sel->reqs[i];

		put(s, "%s", i ? "," : "");
		switch (r->op) {
		case SEG_SEL_IN:
			if (r->n_values == 1) {
				put(s, "%s=%s", r->key, r->values[0]);
				continue;
			}
			put(s, "%s in (", r->key);
			break;
		case SEG_SEL_NOT_IN:
			put(s, "%s notin (", r->key);
			break;
		case SEG_SEL_EXISTS:
			put(s, "%s", r->key);
			continue;
		case SEG_SEL_DOES_NOT_EXIST:
			put(s, "!%s", r->key);
			continue;
		}
		for (size_t j = 0; j < r->n_values; j++)
			put(s, "%s%s", j ? "," : "", r->values[j]);
		put(s, ")");
	}
	put(s, "}");
}

static inline void put_peer(struct sb *s, const struct seg_peer *p)
{
	char a[64];

	switch (p->kind) {
	case SEG_PEER_ENDPOINTS:
		put(s, "pods");
		put_sel(s, &p->pods);
		if (p->has_namespaces) {
			put(s, "@ns");
			put_sel(s, &p->namespaces);
		}
		return;
	case SEG_PEER_CIDR:
		seg_cidr_format(&p->cidr, a, sizeof(a));
		put(s, "cidr %s", a);
		for (size_t i = 0; i < p->n_except; i++) {
			seg_cidr_format(&p->except[i], a, sizeof(a));
			put(s, "%s%s", i ? "," : " except ", a);
		}
		return;
	case SEG_PEER_WORLD: put(s, "world"); return;
	case SEG_PEER_HOST: put(s, "host"); return;
	case SEG_PEER_ALL: put(s, "all"); return;
	case SEG_PEER_NODES:
		put(s, "nodes");
		put_sel(s, &p->nodes);
		return;
	case SEG_PEER_DOMAIN: put(s, "domain %s", p->domain); return;
	case SEG_PEER_NONE: put(s, "none"); return;
	}
}

static inline const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case 0: return "any";
	default: return "?";
	}
}

static inline void put_rule(struct sb *s, const struct seg_rule *r)
{
	put(s, " | %s %s", r->dir == SEGD_DIR_INGRESS ? "in" : "out",
	    r->action == SEG_ACTION_ALLOW ? "allow" :
	    r->action == SEG_ACTION_PASS ? "pass" : "deny");
	if (r->fail_closed)
		put(s, " failclosed");
	if (r->name[0])
		put(s, " \"%s\"", r->name);
	put(s, r->all_peers ? " peers=*" : " peers=[");
	for (size_t i = 0; i < r->n_peers; i++) {
		put(s, "%s", i ? " " : "");
		put_peer(s, &r->peers[i]);
	}
	put(s, r->all_peers ? "" : "]");
	put(s, r->all_ports ? " ports=*" : " ports=[");
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct seg_port *p = &r->ports[i];

		put(s, "%s%s", i ? " " : "", proto_name(p->proto));
		if (p->name[0])
			put(s, ":%s", p->name);
		if (p->port_lo == 0 && p->port_hi == 0)
			continue;
		if (p->port_lo == p->port_hi)
			put(s, "/%u", p->port_lo);
		else
			put(s, "/%u-%u", p->port_lo, p->port_hi);
	}
	put(s, r->all_ports ? "" : "]");
}

/* "ns/name [admin|baseline/PRIORITY] enforce=in,out subject={..}[@ns{..}]
 * [audit] | rule | rule" (ns is "" for a ClusterNetworkPolicy) */
static inline void describe(struct sb *s, const struct seg_policy *p)
{
	put(s, "%s/%s", p->ns, p->name);
	if (p->tier != SEG_TIER_NETPOL || p->priority)
		put(s, " %s/%d", p->tier == SEG_TIER_ADMIN ? "admin" :
		    p->tier == SEG_TIER_BASELINE ? "baseline" : "netpol",
		    p->priority);
	put(s, " enforce=%s%s%s subject=",
	    p->enforce[SEGD_DIR_INGRESS] ? "in" : "",
	    p->enforce[0] && p->enforce[1] ? "," : "",
	    p->enforce[SEGD_DIR_EGRESS] ? "out" :
	    (p->enforce[0] ? "" : "-"));
	put_sel(s, &p->subject);
	if (p->has_subject_ns) {
		put(s, "@ns");
		put_sel(s, &p->subject_namespaces);
	}
	if (p->audit)
		put(s, " audit");
	for (size_t i = 0; i < p->n_rules; i++) {
		cr_assert(p->rules[i].name, "rule name must never be NULL");
		put_rule(s, &p->rules[i]);
	}
}

static inline void describe_all(struct sb *s, const struct seg_policy *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(s, "\n");
		describe(s, &p[i]);
	}
}

static inline int parse(const char *yaml, const char *ns, struct seg_policy **p,
		 size_t *n, struct seg_error *err)
{
	return seg_policy_parse(yaml, strlen(yaml), "t.yaml", ns, p, n, err);
}

static inline void err_text(const struct seg_error *e, char *buf, size_t len)
{
	seg_error_format(e, buf, len);
}

/* Parse, compare, then check that `source` parses back to the same model
 * even with another default namespace. */
static inline void expect_model(const char *yaml, const char *ns, const char *want)
{
	struct seg_policy *p = NULL, *p2 = NULL;
	size_t n = 0, n2 = 0;
	struct seg_error e = { 0 };
	struct sb s = { 0 }, s2 = { 0 };
	char msg[1024];
	int ret = parse(yaml, ns, &p, &n, &e);

	err_text(&e, msg, sizeof(msg));
	cr_assert_eq(ret, 0, "parse failed: %s\n%s", msg, yaml);
	describe_all(&s, p, n);
	cr_assert_str_eq(s.buf, want, "input:\n%s", yaml);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(p[i].source_file, "t.yaml");
		cr_assert(p[i].source && *p[i].source);
		ret = parse(p[i].source, "elsewhere", &p2, &n2, &e);
		err_text(&e, msg, sizeof(msg));
		cr_assert_eq(ret, 0, "source does not parse: %s\n%s", msg,
			     p[i].source);
		cr_assert_eq(n2, 1);
		memset(&s, 0, sizeof(s));
		memset(&s2, 0, sizeof(s2));
		describe(&s, &p[i]);
		describe(&s2, &p2[0]);
		cr_assert_str_eq(s2.buf, s.buf, "source round trip:\n%s",
				 p[i].source);
		seg_policies_free(p2, n2);
	}
	seg_policies_free(p, n);
}

static inline void expect_error(const char *yaml, const char *pos, const char *sub)
{
	struct seg_policy *p = (void *)1;
	size_t n = 99;
	struct seg_error e = { 0 };
	char got[32], msg[1024];
	int ret = parse(yaml, NULL, &p, &n, &e);

	err_text(&e, msg, sizeof(msg));
	cr_assert_eq(ret, -EINVAL, "expected an error at %s, got %d (%s)\n%s",
		     pos, ret, msg, yaml);
	cr_assert_null(p);
	cr_assert_eq(n, 0);
	cr_assert_str_eq(e.file, "t.yaml");
	snprintf(got, sizeof(got), "%d:%d", e.line, e.col);
	cr_assert_str_eq(got, pos, "position of: %s\n%s", msg, yaml);
	cr_assert(strstr(e.msg, sub), "message '%s' lacks '%s'", e.msg, sub);
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Criterion runs each parameter in a fresh process, so parameters must not
 * hold pointers: pass indexes into the static tables instead. */
static inline struct criterion_test_params index_params(size_t n)
{
	static size_t idx[256];

	cr_assert_leq(n, ARRAY_SIZE(idx));
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, n);
}

struct vcase {
	const char *name;
	const char *yaml;
	const char *want;
};

struct ecase {
	const char *name;
	const char *yaml;
	const char *pos;
	const char *sub;
};

static inline void check_valid(const struct vcase *c)
{
	expect_model(c->yaml, NULL, c->want);
}

static inline void check_invalid(const struct ecase *c)
{
	expect_error(c->yaml, c->pos, c->sub);
}

/* A parameterised test a row of `table`: check is check_valid (vcase rows
 * give their model) or check_invalid (ecase rows give their error). */
#define TABLE_TEST(suite, test, table, check)				\
	ParameterizedTestParameters(suite, test)			\
	{								\
		return index_params(ARRAY_SIZE(table));			\
	}								\
	ParameterizedTest(size_t *i, suite, test)			\
	{								\
		cr_assert_lt(*i, ARRAY_SIZE(table));			\
		cr_log_info("%s", table[*i].name);			\
		check(&table[*i]);					\
	}

#endif /* SEGD_TEST_POLICY_PARSE_FIXTURES_H */
