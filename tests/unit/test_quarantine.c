/* test_quarantine.c - the pure quarantine module: --allow rules, target
 * matching, the map content, the state file and audit lines. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quarantine.h"

/* ---- --allow rules -------------------------------------------------------- */

struct allow_case {
	char text[48];
	int ok;
	char canon[48];     /* format of the parsed rule (ok) */
	int plen;           /* over the 16-byte form */
	int proto, port;
	char err[40];       /* substring of the reason (not ok) */
};

static const struct allow_case allow_cases[] = {
	{ "10.0.0.5", 1, "10.0.0.5/32", 128, 0, 0, "" },
	{ "10.0.0.0/24", 1, "10.0.0.0/24", 120, 0, 0, "" },
	{ "10.0.0.5:22/tcp", 1, "10.0.0.5/32:22/tcp", 128, 6, 22, "" },
	{ "10.0.0.0/8:514/udp", 1, "10.0.0.0/8:514/udp", 104, 17, 514, "" },
	{ "10.0.0.5:icmp", 1, "10.0.0.5/32:icmp", 128, 1, 0, "" },
	{ "fd00::5", 1, "fd00::5/128", 128, 0, 0, "" },
	{ "fd00::/64", 1, "fd00::/64", 64, 0, 0, "" },
	{ "[fd00::/64]:22/tcp", 1, "[fd00::/64]:22/tcp", 64, 6, 22, "" },
	{ "[fd00::1]:icmpv6", 1, "[fd00::1/128]:icmpv6", 128, 58, 0, "" },
	{ "10.0.0.0/33", 0, "", 0, 0, 0, "" },
	{ "10.0.0.1/24", 0, "", 0, 0, 0, "host bits" },
	{ "10.0.0.5:99999/tcp", 0, "", 0, 0, 0, "not a port" },
	{ "10.0.0.5:22/xyz", 0, "", 0, 0, 0, "" },
	{ "10.0.0.5:22/icmp", 0, "", 0, 0, 0, "no ports" },
	{ "[fd00::1", 0, "", 0, 0, 0, "must end" },
	{ "", 0, "", 0, 0, 0, "" },
	{ "web", 0, "", 0, 0, 0, "" },
};

ParameterizedTestParameters(quarantine, allow_parse)
{
	return cr_make_param_array(struct allow_case, (void *)allow_cases,
				   sizeof(allow_cases) / sizeof(allow_cases[0]));
}

ParameterizedTest(const struct allow_case *c, quarantine, allow_parse)
{
	struct seg_quar_allow a, back;
	char why[256] = "", buf[96];
	int ret = seg_quar_allow_parse(c->text, &a, why, sizeof(why));

	if (!c->ok) {
		cr_expect_neq(ret, 0, "'%s' parsed", c->text);
		cr_expect(strstr(why, c->err), "'%s': reason '%s' lacks '%s'", c->text, why, c->err);
		return;
	}
	cr_assert_eq(ret, 0, "'%s': %s", c->text, why);
	cr_expect_eq(a.cidr.plen, c->plen, "'%s' plen %u", c->text, a.cidr.plen);
	cr_expect_eq(a.proto, c->proto, "'%s'", c->text);
	cr_expect_eq(a.port, c->port, "'%s'", c->text);
	seg_quar_allow_format(&a, buf, sizeof(buf));
	cr_expect_str_eq(buf, c->canon);
	/* the canonical text reads back as the same rule */
	cr_assert_eq(seg_quar_allow_parse(buf, &back, why, sizeof(why)), 0, "%s: %s", buf, why);
	cr_expect_eq(memcmp(&a, &back, sizeof(a)), 0, "'%s' round trip", buf);
}

/* ---- target matching ----------------------------------------------------- */

struct match_case {
	char what[48];
	int kind;              /* enum seg_quar_kind */
	char ns[16], name[16], ip[24], selector[40];
	char ep_ns[16], ep_name[16], ep_ip[24], ep_labels[40];
	int match;
};

static const struct match_case match_cases[] = {
	{ "name", SEG_QUAR_ENDPOINT, "shop", "web", "", "",
	  "shop", "web", "10.0.0.1", "app=web", 1 },
	{ "name, other namespace", SEG_QUAR_ENDPOINT, "shop", "web", "", "",
	  "prod", "web", "10.0.0.1", "app=web", 0 },
	{ "name, other endpoint", SEG_QUAR_ENDPOINT, "shop", "web", "", "",
	  "shop", "api", "10.0.0.1", "app=web", 0 },
	{ "ip", SEG_QUAR_IP, "", "", "10.0.0.1", "",
	  "shop", "web", "10.0.0.1", "", 1 },
	{ "ip, v4 written as mapped v6", SEG_QUAR_IP, "", "", "::ffff:10.0.0.1", "",
	  "shop", "web", "10.0.0.1", "", 1 },
	{ "ip, other", SEG_QUAR_IP, "", "", "10.0.0.2", "",
	  "shop", "web", "10.0.0.1", "", 0 },
	{ "selector, one label", SEG_QUAR_SELECTOR, "shop", "", "", "app=web",
	  "shop", "web2", "10.0.0.3", "app=web,tier=front", 1 },
	{ "selector, all labels needed", SEG_QUAR_SELECTOR, "shop", "", "", "app=web,tier=back",
	  "shop", "web2", "10.0.0.3", "app=web,tier=front", 0 },
	{ "selector, both labels", SEG_QUAR_SELECTOR, "shop", "", "", "app=web,tier=front",
	  "shop", "web2", "10.0.0.3", "app=web,tier=front", 1 },
	{ "selector, label missing", SEG_QUAR_SELECTOR, "shop", "", "", "app=web",
	  "shop", "x", "10.0.0.3", "tier=front", 0 },
	{ "selector, other namespace", SEG_QUAR_SELECTOR, "shop", "", "", "app=web",
	  "prod", "web", "10.0.0.3", "app=web", 0 },
};

ParameterizedTestParameters(quarantine, matches)
{
	return cr_make_param_array(struct match_case, (void *)match_cases,
				   sizeof(match_cases) / sizeof(match_cases[0]));
}

ParameterizedTest(const struct match_case *c, quarantine, matches)
{
	struct seg_quarantine q = { .kind = c->kind, .ns = (char *)c->ns,
				    .name = (char *)c->name };
	struct seg_endpoint e = { .ns = (char *)c->ep_ns, .name = (char *)c->ep_name,
				  .n_ips = 1 };

	if (c->kind == SEG_QUAR_IP)
		cr_assert_eq(seg_addr_parse(c->ip, &q.ip), 0);
	if (c->kind == SEG_QUAR_SELECTOR)
		cr_assert_eq(seg_labels_parse(c->selector, &q.selector, NULL), 0);
	cr_assert_eq(seg_addr_parse(c->ep_ip, &e.ips[0]), 0);
	if (c->ep_labels[0])
		cr_assert_eq(seg_labels_parse(c->ep_labels, &e.labels, NULL), 0);
	cr_expect_eq(seg_quar_matches(&q, &e), c->match, "%s", c->what);
	seg_labels_free(&q.selector);
	seg_labels_free(&e.labels);
}

/* ---- records, map content, file, audit ---------------------------------- */

static void put(struct seg_quarantines *qs, int kind, const char *ns, const char *target,
		const char *const *allow, size_t n_allow, const char *reason)
{
	struct seg_quarantine q = { .kind = kind, .since = 1795305600, .uid = 1000, .pid = 42 };
	char why[128];
	bool replaced;
	uint32_t id;

	if (kind != SEG_QUAR_IP)
		q.ns = strdup(ns);
	if (kind == SEG_QUAR_ENDPOINT)
		q.name = strdup(target);
	if (kind == SEG_QUAR_IP)
		cr_assert_eq(seg_addr_parse(target, &q.ip), 0);
	if (kind == SEG_QUAR_SELECTOR)
		cr_assert_eq(seg_labels_parse(target, &q.selector, NULL), 0);
	for (size_t i = 0; i < n_allow; i++)
		cr_assert_eq(seg_quar_allow_parse(allow[i], &q.allow[q.n_allow++], why,
						  sizeof(why)), 0, "%s", why);
	q.reason = strdup(reason);
	cr_assert_eq(seg_quarantines_put(qs, &q, &id, &replaced), 0);
}

static void endpoint(struct seg_endpoint *e, const char *ns, const char *name,
		     const char *ip, const char *ip2, const char *labels)
{
	memset(e, 0, sizeof(*e));
	e->ns = (char *)ns;
	e->name = (char *)name;
	cr_assert_eq(seg_addr_parse(ip, &e->ips[e->n_ips++]), 0);
	if (ip2)
		cr_assert_eq(seg_addr_parse(ip2, &e->ips[e->n_ips++]), 0);
	cr_assert_eq(seg_labels_parse(labels, &e->labels, NULL), 0);
}

Test(quarantine, put_replaces_same_target_and_keeps_its_id)
{
	struct seg_quarantines qs = { 0 };
	const char *a1[] = { "10.0.0.5" }, *a2[] = { "10.0.0.6", "10.0.0.7:22/tcp" };

	put(&qs, SEG_QUAR_ENDPOINT, "shop", "web", a1, 1, "first");
	put(&qs, SEG_QUAR_IP, NULL, "10.0.0.9", NULL, 0, "ip");
	put(&qs, SEG_QUAR_ENDPOINT, "shop", "web", a2, 2, "second");
	cr_assert_eq(qs.n, 2);
	cr_expect_eq(qs.v[0].id, 1);
	cr_expect_eq(qs.v[1].id, 2);
	cr_expect_str_eq(qs.v[0].reason, "second");
	cr_expect_eq(qs.v[0].n_allow, 2);
	seg_quarantines_remove(&qs, 0);
	put(&qs, SEG_QUAR_ENDPOINT, "shop", "web", NULL, 0, "third");
	cr_expect_eq(qs.v[1].id, 3, "ids are not reused");
	seg_quarantines_free(&qs);
}

Test(quarantine, entries_cover_every_address_and_merge_overlaps)
{
	struct seg_quarantines qs = { 0 };
	struct seg_endpoint eps[3];
	struct seg_world w = { .endpoints = eps, .n_endpoints = 3 };
	const char *a1[] = { "198.51.100.7:22/tcp" };
	const char *a2[] = { "198.51.100.7:22/tcp", "198.51.100.0/24:icmp" };
	struct seg_quar_entry *e = NULL;
	struct segd_addr web4;
	bool trunc;
	size_t n;

	endpoint(&eps[0], "shop", "web", "10.200.1.10", "fd00:200::10", "app=web");
	endpoint(&eps[1], "shop", "web2", "10.200.1.11", NULL, "app=web");
	endpoint(&eps[2], "shop", "api", "10.200.1.20", NULL, "app=api");
	put(&qs, SEG_QUAR_SELECTOR, "shop", "app=web", a2, 2, "tier");   /* id 1 */
	put(&qs, SEG_QUAR_ENDPOINT, "shop", "web", a1, 1, "one");       /* id 2 */
	put(&qs, SEG_QUAR_IP, NULL, "10.9.9.9", NULL, 0, "not an endpoint"); /* id 3 */
	cr_assert_eq(seg_quar_entries(&qs, &w, &e, &n, &trunc), 0);
	/* web (2 addresses), web2, 10.9.9.9; api untouched */
	cr_assert_eq(n, 4);
	cr_expect_not(trunc);
	for (size_t i = 1; i < n; i++)
		cr_expect_lt(memcmp(&e[i - 1].addr, &e[i].addr, 16), 0, "sorted, unique");
	memcpy(web4.b, eps[0].ips[0].s6_addr, 16);
	for (size_t i = 0; i < n; i++) {
		if (memcmp(&e[i].addr, &web4, 16))
			continue;
		/* covered by 1 and 2: union of the rules (the shared one once),
		 * the lower id */
		cr_expect_eq(e[i].value.quarantine_id, 1);
		cr_expect_eq(e[i].value.n_allow, 2);
		cr_expect_eq(e[i].value.allow[0].port, 22);
		cr_expect_eq(e[i].value.allow[0].mask.b[15], 0xff);
		cr_expect_eq(e[i].value.allow[1].proto, 1);
		cr_expect_eq(e[i].value.allow[1].mask.b[15], 0);
		cr_expect_eq(e[i].value.allow[1].net.b[14], 100);
	}
	free(e);
	seg_quarantines_free(&qs);
	for (int i = 0; i < 3; i++)
		seg_labels_free(&eps[i].labels);
}

Test(quarantine, too_many_rules_together_are_cut_never_widened)
{
	struct seg_quarantines qs = { 0 };
	const char *a[8], *b[8];
	char ta[8][24], tb[8][24];
	struct seg_quar_entry *e = NULL;
	struct seg_world w = { 0 };
	bool trunc;
	size_t n;

	for (int i = 0; i < 8; i++) {
		snprintf(ta[i], sizeof(ta[i]), "10.1.0.%d", i + 1);
		snprintf(tb[i], sizeof(tb[i]), "10.2.0.%d", i + 1);
		a[i] = ta[i];
		b[i] = tb[i];
	}
	put(&qs, SEG_QUAR_IP, NULL, "10.9.9.9", a, 8, "a");
	/* same address, other target text: a second record */
	put(&qs, SEG_QUAR_IP, NULL, "::ffff:10.9.9.9", b, 8, "b");
	cr_expect_eq(qs.n, 1, "the mapped form is the same address: replaced");
	seg_quarantines_free(&qs);
	put(&qs, SEG_QUAR_IP, NULL, "10.9.9.9", a, 8, "a");
	put(&qs, SEG_QUAR_ENDPOINT, "shop", "x", b, 8, "b");
	{
		struct seg_endpoint ep;

		endpoint(&ep, "shop", "x", "10.9.9.9", NULL, "app=x");
		w.endpoints = &ep;
		w.n_endpoints = 1;
		cr_assert_eq(seg_quar_entries(&qs, &w, &e, &n, &trunc), 0);
		seg_labels_free(&ep.labels);
	}
	cr_assert_eq(n, 1);
	cr_expect(trunc);
	cr_expect_eq(e[0].value.n_allow, SEGD_QUAR_ALLOW);
	free(e);
	seg_quarantines_free(&qs);
}

Test(quarantine, state_file_round_trip)
{
	struct seg_quarantines qs = { 0 }, back = { 0 };
	const char *a[] = { "198.51.100.7:22/tcp", "[fd00::/64]:icmpv6" };
	struct seg_error err = { 0 };
	char *text = NULL, *text2 = NULL;

	put(&qs, SEG_QUAR_ENDPOINT, "shop", "web", a, 2, "incident 42: \"miner\"");
	put(&qs, SEG_QUAR_IP, NULL, "fd00:200::30", NULL, 0, "");
	put(&qs, SEG_QUAR_SELECTOR, "shop", "app=web,tier=front", a, 1, "tier");
	seg_quarantines_remove(&qs, 1);
	cr_assert_eq(seg_quarantines_to_yaml(&qs, &text), 0);
	cr_assert_eq(seg_quarantines_from_yaml(text, strlen(text), "q.yaml", &back, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(back.n, 2);
	cr_expect_eq(back.next_id, 4, "next id survives: a released id is not reused");
	for (size_t i = 0; i < 2; i++) {
		cr_expect(seg_quar_same_target(&qs.v[i], &back.v[i]));
		cr_expect_eq(qs.v[i].id, back.v[i].id);
		cr_expect_eq(qs.v[i].n_allow, back.v[i].n_allow);
		cr_expect_eq(memcmp(qs.v[i].allow, back.v[i].allow,
				    qs.v[i].n_allow * sizeof(qs.v[i].allow[0])), 0);
		cr_expect_str_eq(qs.v[i].reason, back.v[i].reason);
		cr_expect_eq(qs.v[i].since, back.v[i].since);
		cr_expect_eq(back.v[i].uid, 1000);
		cr_expect_eq(back.v[i].pid, 42);
	}
	cr_assert_eq(seg_quarantines_to_yaml(&back, &text2), 0);
	cr_expect_str_eq(text, text2, "stable text");
	free(text);
	free(text2);
	seg_quarantines_free(&qs);
	seg_quarantines_free(&back);
}

struct bad_file_case {
	char what[40];
	char text[200];
	int line;
	char err[40];
};

static const struct bad_file_case bad_files[] = {
	{ "unknown kind", "next_id: 2\nquarantines:\n- id: 1\n  kind: pod\n", 3, "kind is not" },
	{ "bad allow rule", "quarantines:\n- id: 1\n  kind: ip\n  ip: 10.0.0.1\n"
	  "  allow: [10.0.0.0/33]\n", 5, "" },
	{ "selector without labels", "quarantines:\n- id: 1\n  kind: selector\n"
	  "  namespace: a\n  selector: \"\"\n", 2, "selector" },
	{ "two of one target", "quarantines:\n- {id: 1, kind: ip, ip: 10.0.0.1}\n"
	  "- {id: 2, kind: ip, ip: 10.0.0.1}\n", 3, "two quarantines" },
	{ "no id", "quarantines:\n- {kind: ip, ip: 10.0.0.1}\n", 2, "id" },
};

ParameterizedTestParameters(quarantine, bad_state_file)
{
	return cr_make_param_array(struct bad_file_case, (void *)bad_files,
				   sizeof(bad_files) / sizeof(bad_files[0]));
}

ParameterizedTest(const struct bad_file_case *c, quarantine, bad_state_file)
{
	struct seg_quarantines qs = { 0 };
	struct seg_error err = { 0 };

	cr_expect_neq(seg_quarantines_from_yaml(c->text, strlen(c->text), "q.yaml", &qs,
						&err), 0, "%s loaded", c->what);
	cr_expect_str_eq(err.file, "q.yaml", "%s", c->what);
	cr_expect_eq(err.line, c->line, "%s: line %d", c->what, err.line);
	cr_expect(strstr(err.msg, c->err), "%s: '%s'", c->what, err.msg);
	cr_expect(strstr(err.msg, "fix or remove"), "%s says what to do", c->what);
	cr_expect_eq(qs.n, 0);
	seg_quarantines_free(&qs);
}

Test(quarantine, audit_line_is_one_json_record)
{
	struct seg_quarantines qs = { 0 };
	const char *a[] = { "198.51.100.7:22/tcp" };
	const char *eps[] = { "shop/web", "shop/web2" };
	char *line = NULL;

	put(&qs, SEG_QUAR_SELECTOR, "shop", "app=web", a, 1, "say \"why\"\nplease");
	cr_assert_eq(seg_quar_audit_line("quarantine", &qs.v[0], 1795305600, "operator", 0, 4242,
					 eps, 2, &line), 0);
	cr_expect_str_eq(line,
		"{\"time\":\"2026-11-22T00:00:00Z\",\"action\":\"quarantine\",\"id\":1,"
		"\"target\":\"selector shop/app=web\",\"reason\":\"say \\\"why\\\"\\nplease\","
		"\"allow\":[\"198.51.100.7/32:22/tcp\"],\"endpoints\":[\"shop/web\","
		"\"shop/web2\"],\"actor\":\"operator\",\"uid\":0,\"pid\":4242}\n");
	cr_expect_eq(strchr(line, '\n'), line + strlen(line) - 1, "one line");
	free(line);
	seg_quarantines_free(&qs);
}
