/* test_flowlog.c - flow records as JSON lines, and the rotated flow log
 * file (core/export/flowlog_json.c, core/export/flowlog.c). */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "flowlog.h"
#include "segd_abi.h"

/* ---- one record -> one line ------------------------------------------------ */

struct peer_case {
	char ns[16], name[16], identity[32];
	int n_labels;              /* -1: no labels object */
	char kv[3][2][32];
};

struct json_case {
	char what[40];
	uint64_t time_ns, start_ns, end_ns;
	bool final;
	uint8_t verdict, proto, direction, tcp_flags;
	char src[40], dst[40];
	uint16_t sport, dport;
	uint64_t packets, bytes, reply_packets, reply_bytes;
	struct peer_case source, destination;
	char observer[24], policy[32], drop_reason[24], blocklist[16];
	char want[900];
	char rule_name[16];   /* the deciding rule's own name, "" = none */
};

#define T_NOW 1795305541123000000ull   /* 2026-11-21T23:59:01.123Z */
#define NOLAB .n_labels = -1

static const struct json_case json_cases[] = {
	{ "tcp forwarded between endpoints", T_NOW, 1795305510000500000ull,
	  1795305541122999999ull, false, SEG_FLOW_FORWARDED, IPPROTO_TCP,
	  SEGD_DIR_EGRESS, 0x13, "10.200.1.10", "10.200.1.20", 41000, 8080,
	  10, 1200, 8, 900,
	  { "shop", "web", "shop/web", 1, { { "app", "web" } } },
	  { "shop", "api", "shop/api", 2, { { "app", "api" }, { "tier", "back\"end" } } },
	  "shop/web", "shop/shop-web#2", "", "",
	  "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"forwarded\","
	  "\"src_ip\":\"10.200.1.10\",\"src_port\":41000,\"dst_ip\":\"10.200.1.20\","
	  "\"dst_port\":8080,\"proto\":\"tcp\",\"packets\":10,\"bytes\":1200,"
	  "\"reply_packets\":8,\"reply_bytes\":900,\"tcp_flags\":\"FIN|SYN|ACK\","
	  "\"direction\":\"egress\",\"source\":{\"namespace\":\"shop\",\"name\":\"web\","
	  "\"labels\":{\"app\":\"web\"},\"identity\":\"shop/web\"},\"destination\":"
	  "{\"namespace\":\"shop\",\"name\":\"api\",\"labels\":{\"app\":\"api\","
	  "\"tier\":\"back\\\"end\"},\"identity\":\"shop/api\"},\"observer\":\"shop/web\","
	  "\"policy\":\"shop/shop-web#2\",\"start\":\"2026-11-21T23:58:30.000Z\","
	  "\"end\":\"2026-11-21T23:59:01.122Z\"}\n", "" },
	{ "udp dropped from the world, ipv6, final", 0, 0, 0, true, SEG_FLOW_DROPPED,
	  IPPROTO_UDP, SEGD_DIR_INGRESS, 0, "2001:db8::10", "fd00:200::30", 5353, 53,
	  1, 72, 0, 0,
	  { "", "", "world", NOLAB },
	  { "shop", "db", "shop/db", 0, { { "" } } },
	  "shop/db", "", "default-denied", "",
	  "{\"time\":\"1970-01-01T00:00:00.000Z\",\"verdict\":\"dropped\","
	  "\"src_ip\":\"2001:db8::10\",\"src_port\":5353,\"dst_ip\":\"fd00:200::30\","
	  "\"dst_port\":53,\"proto\":\"udp\",\"packets\":1,\"bytes\":72,"
	  "\"reply_packets\":0,\"reply_bytes\":0,\"direction\":\"ingress\",\"source\":{\"identity\":\"world\"},"
	  "\"destination\":{\"namespace\":\"shop\",\"name\":\"db\",\"labels\":{},"
	  "\"identity\":\"shop/db\"},\"observer\":\"shop/db\","
	  "\"drop_reason\":\"default-denied\",\"final\":true,\"total_packets\":101,"
	  "\"total_bytes\":1072,\"total_reply_packets\":100,\"total_reply_bytes\":1000}\n", "" },
	{ "icmp audit, escapes, utf-8, no ports", 951825600999000000ull, 0, 0, false,
	  SEG_FLOW_AUDIT, IPPROTO_ICMP, SEGD_DIR_EGRESS, 0x12, "10.200.1.10",
	  "203.0.113.10", 0, 0, 3, 252, 3, 252,
	  { "shop", "web", "shop/web", 1, { { "note", "tab\there\\\xc3\xbcn\xc3\xaf\x01" } } },
	  { "", "", "cidr:203.0.113.0/24", NOLAB },
	  "", "shop/audit#1", "policy-denied", "c2-test",
	  "{\"time\":\"2000-02-29T12:00:00.999Z\",\"verdict\":\"audit\","
	  "\"src_ip\":\"10.200.1.10\",\"dst_ip\":\"203.0.113.10\",\"proto\":\"icmp\","
	  "\"packets\":3,\"bytes\":252,\"reply_packets\":3,\"reply_bytes\":252,"
	  "\"direction\":\"egress\",\"source\":{\"namespace\":\"shop\",\"name\":\"web\","
	  "\"labels\":{\"note\":\"tab\\there\\\\\xc3\xbcn\xc3\xaf\\u0001\"},"
	  "\"identity\":\"shop/web\"},\"destination\":{\"identity\":\"cidr:203.0.113.0/24\"},"
	  "\"policy\":\"shop/audit#1\",\"drop_reason\":\"policy-denied\","
	  "\"blocklist\":\"c2-test\"}\n", "" },
	{ "gre as a number, mapped v4, no labels", T_NOW, 0, 0, false, SEG_FLOW_FORWARDED,
	  47, SEGD_DIR_INGRESS, 0, "fe80::1", "::ffff:192.0.2.1", 0, 0, 0, 0, 0, 0,
	  { "", "", "host", NOLAB },
	  { "shop", "api", "shop/api", NOLAB },
	  "", "", "", "",
	  "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"forwarded\","
	  "\"src_ip\":\"fe80::1\",\"dst_ip\":\"192.0.2.1\",\"proto\":\"47\","
	  "\"packets\":0,\"bytes\":0,\"reply_packets\":0,\"reply_bytes\":0,"
	  "\"direction\":\"ingress\",\"source\":{\"identity\":\"host\"},"
	  "\"destination\":{\"namespace\":\"shop\",\"name\":\"api\",\"identity\":\"shop/api\"}}\n", "" },
	{ "tcp all flags, blocklisted, max counter", T_NOW, 0, 0, false, SEG_FLOW_DROPPED,
	  IPPROTO_TCP, SEGD_DIR_INGRESS, 0xff, "203.0.113.10", "10.200.1.20", 443, 1,
	  2, UINT64_MAX, 0, 0,
	  { "", "", "world", NOLAB }, { "", "", "shop/api", NOLAB },
	  "", "", "blocklisted", "c2-test",
	  "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"dropped\","
	  "\"src_ip\":\"203.0.113.10\",\"src_port\":443,\"dst_ip\":\"10.200.1.20\","
	  "\"dst_port\":1,\"proto\":\"tcp\",\"packets\":2,\"bytes\":18446744073709551615,"
	  "\"reply_packets\":0,\"reply_bytes\":0,\"tcp_flags\":\"FIN|SYN|RST|PSH|ACK|URG|ECE|CWR\",\"direction\":\"ingress\","
	  "\"source\":{\"identity\":\"world\"},\"destination\":{\"identity\":\"shop/api\"},"
	  "\"drop_reason\":\"blocklisted\",\"blocklist\":\"c2-test\"}\n", "" },
	{ "sctp ports, tcp without flags", T_NOW, 0, 0, true, SEG_FLOW_FORWARDED,
	  IPPROTO_SCTP, SEGD_DIR_EGRESS, 0, "10.0.0.1", "10.0.0.2", 9, 10, 1, 2, 3, 4,
	  { "", "", "world", NOLAB }, { "", "", "world", NOLAB }, "", "", "", "",
	  "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"forwarded\","
	  "\"src_ip\":\"10.0.0.1\",\"src_port\":9,\"dst_ip\":\"10.0.0.2\",\"dst_port\":10,"
	  "\"proto\":\"sctp\",\"packets\":1,\"bytes\":2,\"reply_packets\":3,"
	  "\"reply_bytes\":4,\"direction\":\"egress\",\"source\":{\"identity\":\"world\"},"
	  "\"destination\":{\"identity\":\"world\"},\"final\":true,\"total_packets\":101,"
	  "\"total_bytes\":1002,\"total_reply_packets\":103,\"total_reply_bytes\":1004}\n", "" },
	{ "tcp without flags seen", T_NOW, 0, 0, false, SEG_FLOW_FORWARDED,
	  IPPROTO_TCP, SEGD_DIR_EGRESS, 0, "10.0.0.1", "10.0.0.2", 1, 2, 1, 40, 0, 0,
	  { "", "", "world", NOLAB }, { "", "", "world", NOLAB }, "", "", "", "",
	  "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"forwarded\","
	  "\"src_ip\":\"10.0.0.1\",\"src_port\":1,\"dst_ip\":\"10.0.0.2\",\"dst_port\":2,"
	  "\"proto\":\"tcp\",\"packets\":1,\"bytes\":40,\"reply_packets\":0,"
	  "\"reply_bytes\":0,\"direction\":\"egress\",\"source\":{\"identity\":\"world\"},"
	  "\"destination\":{\"identity\":\"world\"}}\n", "" },
	{ .what = "ClusterNetworkPolicy rule, named", .time_ns = T_NOW,
	  .verdict = SEG_FLOW_DROPPED, .proto = IPPROTO_TCP, .direction = SEGD_DIR_EGRESS,
	  .src = "10.200.1.10", .dst = "10.200.1.30", .sport = 40000, .dport = 5432,
	  .packets = 1, .bytes = 60,
	  .source = { "shop", "web", "shop/web", NOLAB },
	  .destination = { "shop", "db", "shop/db", NOLAB },
	  .observer = "shop/web", .policy = "admin/guard#2", .rule_name = "no-db",
	  .drop_reason = "policy-denied",
	  .want = "{\"time\":\"2026-11-21T23:59:01.123Z\",\"verdict\":\"dropped\","
		  "\"src_ip\":\"10.200.1.10\",\"src_port\":40000,\"dst_ip\":\"10.200.1.30\","
		  "\"dst_port\":5432,\"proto\":\"tcp\",\"packets\":1,\"bytes\":60,"
		  "\"reply_packets\":0,\"reply_bytes\":0,\"direction\":\"egress\","
		  "\"source\":{\"namespace\":\"shop\",\"name\":\"web\",\"identity\":\"shop/web\"},"
		  "\"destination\":{\"namespace\":\"shop\",\"name\":\"db\",\"identity\":\"shop/db\"},"
		  "\"observer\":\"shop/web\",\"policy\":\"admin/guard#2\",\"rule_name\":\"no-db\","
		  "\"drop_reason\":\"policy-denied\"}\n" },
};
#define N_JSON_CASES (sizeof(json_cases) / sizeof(json_cases[0]))

/* What a record borrows, kept alive while it is used. */
struct record_store {
	struct seg_label lab[2][3];
	struct seg_labels labels[2];
};

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

static void peer_from(const struct peer_case *pc, struct seg_flow_peer *p,
		      struct seg_label *lab, struct seg_labels *labels)
{
	p->ns = opt(pc->ns);
	p->name = opt(pc->name);
	p->identity = pc->identity;
	p->labels = NULL;
	if (pc->n_labels < 0)
		return;
	for (int i = 0; i < pc->n_labels; i++) {
		lab[i].key = (char *)pc->kv[i][0];
		lab[i].value = (char *)pc->kv[i][1];
	}
	labels->v = lab;
	labels->n = (size_t)pc->n_labels;
	p->labels = labels;
}

static void record_from(const struct json_case *c, struct seg_flow_record *r,
			struct record_store *st)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = c->time_ns;
	r->start_ns = c->start_ns;
	r->end_ns = c->end_ns;
	r->final = c->final;
	r->verdict = c->verdict;
	r->proto = c->proto;
	r->direction = c->direction;
	r->tcp_flags = c->tcp_flags;
	cr_assert_eq(seg_addr_parse(c->src, &r->src), 0, "%s", c->src);
	cr_assert_eq(seg_addr_parse(c->dst, &r->dst), 0, "%s", c->dst);
	r->sport = c->sport;
	r->dport = c->dport;
	r->packets = c->packets;
	r->bytes = c->bytes;
	r->reply_packets = c->reply_packets;
	r->reply_bytes = c->reply_bytes;
	if (c->final) {   /* the flow had an earlier record of 100/1000 each way */
		r->total_packets = c->packets + 100;
		r->total_bytes = c->bytes + 1000;
		r->total_reply_packets = c->reply_packets + 100;
		r->total_reply_bytes = c->reply_bytes + 1000;
	}
	peer_from(&c->source, &r->source, st->lab[0], &st->labels[0]);
	peer_from(&c->destination, &r->destination, st->lab[1], &st->labels[1]);
	r->observer = opt(c->observer);
	r->policy = opt(c->policy);
	r->rule_name = opt(c->rule_name);
	r->drop_reason = opt(c->drop_reason);
	r->blocklist = opt(c->blocklist);
}

ParameterizedTestParameters(flowlog, json_line)
{
	return cr_make_param_array(struct json_case, (void *)json_cases, N_JSON_CASES);
}

ParameterizedTest(const struct json_case *c, flowlog, json_line)
{
	struct seg_flow_record r;
	struct record_store st;
	char buf[1024], small[1024];
	int n;

	record_from(c, &r, &st);
	n = seg_flow_record_json(&r, buf, sizeof(buf));
	cr_assert_gt(n, 0, "%s: %d", c->what, n);
	cr_assert_str_eq(buf, c->want, "%s", c->what);
	cr_assert_eq((size_t)n, strlen(c->want));
	/* exactly n bytes fit (no NUL needed); one fewer does not */
	cr_assert_eq(seg_flow_record_json(&r, small, (size_t)n), n);
	cr_assert_eq(memcmp(small, c->want, (size_t)n), 0);
	cr_assert_eq(seg_flow_record_json(&r, small, (size_t)n - 1), -ENOSPC);
}

/* Every line a strict JSON parser accepts, with the values it was given. */
Test(flowlog, json_lines_parse)
{
	FILE *p = popen("python3 -c 'import json, sys\n"
			"for l in sys.stdin.buffer:\n"
			"    d = json.loads(l.decode(\"utf-8\", \"strict\"))\n"
			"    assert isinstance(d[\"source\"][\"identity\"], str)\n"
			"    assert d[\"verdict\"] in (\"forwarded\", \"dropped\", \"audit\")\n"
			"'", "w");

	cr_assert(p);
	for (size_t i = 0; i < N_JSON_CASES; i++) {
		struct seg_flow_record r;
		struct record_store st;
		char buf[1024];
		int n;

		record_from(&json_cases[i], &r, &st);
		n = seg_flow_record_json(&r, buf, sizeof(buf));
		cr_assert_gt(n, 0);
		cr_assert_eq(fwrite(buf, 1, (size_t)n, p), (size_t)n);
	}
	cr_assert_eq(pclose(p), 0, "python3's json rejected a line");
}

struct time_case {
	uint64_t ns;
	char want[32];
};

ParameterizedTestParameters(flowlog, rfc3339)
{
	static struct time_case cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 999999, "1970-01-01T00:00:00.000Z" },
		{ 1000000, "1970-01-01T00:00:00.001Z" },
		{ T_NOW, "2026-11-21T23:59:01.123Z" },
		{ 951825600999999999ull, "2000-02-29T12:00:00.999Z" },
		{ 4102444799000000000ull, "2099-12-31T23:59:59.000Z" },
	};
	return cr_make_param_array(struct time_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct time_case *c, flowlog, rfc3339)
{
	char buf[40];

	seg_rfc3339_ms(c->ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, c->want);
}

/* ---- the file: rotation by size -------------------------------------------- */

/* Records whose lines all have the same length; line i says packets 1000000+i. */
static void numbered(struct seg_flow_record *r, unsigned int i)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = T_NOW;
	r->proto = IPPROTO_UDP;
	seg_addr_parse("10.0.0.1", &r->src);
	seg_addr_parse("10.0.0.2", &r->dst);
	r->packets = 1000000 + i;
	r->source.identity = "world";
	r->destination.identity = "world";
}

static size_t line_len(void)
{
	struct seg_flow_record r;
	char buf[512];

	numbered(&r, 0);
	return (size_t)seg_flow_record_json(&r, buf, sizeof(buf));
}

struct rotate_case {
	char what[40];
	unsigned int max_lines_x10;  /* max_bytes in tenths of a line */
	unsigned int keep;
	unsigned int n;              /* records written */
	uint64_t rotations;
	int lines[5];                /* in FILE, FILE.1, ...; -1: absent */
	bool buffered;               /* seg_flowlog_buffer: same files */
};

ParameterizedTestParameters(flowlog, rotate)
{
	static struct rotate_case cases[] = {
		{ "3 lines a file, keep 2", 30, 2, 10, 3, { 1, 3, 3, -1, -1 }, false },
		{ "3.5 lines: only whole lines", 35, 3, 7, 2, { 1, 3, 3, -1, -1 }, false },
		{ "exactly full, then rotate", 30, 3, 6, 1, { 3, 3, -1, -1, -1 }, false },
		{ "a line over the limit alone", 5, 2, 3, 2, { 1, 1, 1, -1, -1 }, false },
		{ "max 0: never rotated", 0, 2, 5, 0, { 5, -1, -1, -1, -1 }, false },
		{ "keep 0: removed", 20, 0, 5, 2, { 1, -1, -1, -1, -1 }, false },
		{ "keep 4, fewer rotations", 20, 4, 5, 2, { 1, 2, 2, -1, -1 }, false },
		{ "below the limit", 100, 1, 4, 0, { 4, -1, -1, -1, -1 }, false },
		{ "buffered: 3 lines a file, keep 2", 30, 2, 10, 3, { 1, 3, 3, -1, -1 }, true },
		{ "buffered: 3.5 lines", 35, 3, 7, 2, { 1, 3, 3, -1, -1 }, true },
		{ "buffered: a line over the limit", 5, 2, 3, 2, { 1, 1, 1, -1, -1 }, true },
		{ "buffered: never rotated", 0, 2, 5, 0, { 5, -1, -1, -1, -1 }, true },
	};
	return cr_make_param_array(struct rotate_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Lines of a file, each checked whole and numbered one after the other;
 * first and last get the numbers. -1 when the file is absent. */
static int file_lines(const char *path, size_t len, unsigned int *first,
		      unsigned int *last)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"packets\":");
		unsigned int v;

		cr_assert_eq(strlen(line), len, "%s: a line split or merged", path);
		cr_assert(p && sscanf(p, "\"packets\":%u", &v) == 1);
		v -= 1000000;
		if (n == 0)
			*first = v;
		else
			cr_assert_eq(v, *last + 1, "%s: lines out of order", path);
		*last = v;
		n++;
	}
	fclose(f);
	return n;
}

ParameterizedTest(const struct rotate_case *c, flowlog, rotate)
{
	char dir[] = "/tmp/segd-flowlog-test-XXXXXX", path[96], name[112];
	size_t len = line_len();
	struct seg_flowlog *fl;
	struct seg_flowlog_stats st;
	struct seg_error err = { 0 };
	unsigned int first = 0, last = 0, newer_first = 0;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/flows.json", dir);
	cr_assert_eq(seg_flowlog_open(path, len * c->max_lines_x10 / 10, c->keep,
				      &fl, &err), 0, "%s", err.msg);
	if (c->buffered)
		cr_assert_eq(seg_flowlog_buffer(fl), 0);
	for (unsigned int i = 1; i <= c->n; i++) {
		struct seg_flow_record r;

		numbered(&r, i);
		cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	}
	seg_flowlog_stats(fl, &st);
	seg_flowlog_close(fl);
	cr_assert_eq(st.lines, c->n, "%s", c->what);
	cr_assert_eq(st.bytes, c->n * len);
	cr_assert_eq(st.rotations, c->rotations, "%s: %llu rotations", c->what,
		     (unsigned long long)st.rotations);
	cr_assert_eq(st.write_errors, 0);
	for (int i = 0; i < 5; i++) {
		int n;

		if (i == 0)
			snprintf(name, sizeof(name), "%s", path);
		else
			snprintf(name, sizeof(name), "%s.%d", path, i);
		n = file_lines(name, len, &first, &last);
		cr_assert_eq(n, c->lines[i], "%s: %s has %d lines", c->what, name, n);
		if (n > 0 && i == 0)
			cr_assert_eq(last, c->n, "the newest line is in FILE");
		if (n > 0 && i > 0)
			cr_assert_eq(last + 1, newer_first, "%s follows %s", name, path);
		if (n > 0)
			newer_first = first;
		if (n >= 0) {
			struct stat sb;

			cr_assert_eq(stat(name, &sb), 0);
			cr_assert_eq(sb.st_mode & 0777, 0640, "%s mode %o", name,
				     sb.st_mode & 0777);
			unlink(name);
		}
	}
	cr_assert_eq(rmdir(dir), 0, "%s: a file beyond keep in %s", c->what, dir);
}

/* An existing file is appended to (its size counts); reopen follows a
 * rename by an outside logrotate. */
Test(flowlog, append_and_reopen)
{
	char dir[] = "/tmp/segd-flowlog-test-XXXXXX", path[96], moved[112];
	size_t len = line_len();
	struct seg_flowlog *fl;
	struct seg_error err = { 0 };
	struct seg_flow_record r;
	unsigned int first, last;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/flows.json", dir);
	snprintf(moved, sizeof(moved), "%s.old", path);
	cr_assert_eq(seg_flowlog_open(path, 4 * len, 1, &fl, &err), 0);
	numbered(&r, 1);
	cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	seg_flowlog_close(fl);
	/* again: one line there already, so 3 more fit before a rotation */
	cr_assert_eq(seg_flowlog_open(path, 4 * len, 1, &fl, &err), 0);
	for (unsigned int i = 2; i <= 5; i++) {
		numbered(&r, i);
		cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	}
	cr_assert_eq(file_lines(path, len, &first, &last), 1);
	cr_assert_eq(first, 5);
	cr_assert_eq(rename(path, moved), 0);
	cr_assert_eq(seg_flowlog_reopen(fl), 0);
	numbered(&r, 6);
	cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	seg_flowlog_close(fl);
	cr_assert_eq(file_lines(path, len, &first, &last), 1);
	cr_assert_eq(first, 6);
	cr_assert_eq(file_lines(moved, len, &first, &last), 1);
	cr_assert_eq(first, 5);
	snprintf(moved, sizeof(moved), "%s.1", path);
	cr_assert_eq(file_lines(moved, len, &first, &last), 4);
	cr_assert_eq(first, 1);
	unlink(moved);
	unlink(path);
	snprintf(moved, sizeof(moved), "%s.old", path);
	unlink(moved);
	cr_assert_eq(rmdir(dir), 0, "a file left in %s", dir);
}

/* Buffered lines reach the file at a flush, all of them, whole. */
Test(flowlog, buffered_lines_wait_for_the_flush)
{
	char dir[] = "/tmp/segd-flowlog-test-XXXXXX", path[96];
	size_t len = line_len();
	struct seg_flowlog *fl;
	struct seg_error err = { 0 };
	struct seg_flow_record r;
	unsigned int first = 0, last = 0;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/flows.json", dir);
	cr_assert_eq(seg_flowlog_open(path, 0, 1, &fl, &err), 0);
	cr_assert_eq(seg_flowlog_buffer(fl), 0);
	for (unsigned int i = 1; i <= 3; i++) {
		numbered(&r, i);
		cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	}
	cr_assert_eq(file_lines(path, len, &first, &last), 0);
	cr_assert_eq(seg_flowlog_flush(fl), 0);
	cr_assert_eq(file_lines(path, len, &first, &last), 3);
	cr_assert_eq(last, 3);
	for (unsigned int i = 4; i <= 5000; i++) {   /* more than the buffer */
		numbered(&r, i);
		cr_assert_eq(seg_flowlog_write(fl, &r), 0);
	}
	cr_assert_gt(file_lines(path, len, &first, &last), 3);
	seg_flowlog_close(fl);
	cr_assert_eq(file_lines(path, len, &first, &last), 5000);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0);
}

Test(flowlog, open_fails_with_a_message)
{
	struct seg_flowlog *fl = (void *)1;
	struct seg_error err = { 0 };

	cr_assert_eq(seg_flowlog_open("/nonexistent-dir/flows.json", 0, 1, &fl, &err), -ENOENT);
	cr_assert_null(fl);
	cr_assert(strstr(err.msg, "/nonexistent-dir/flows.json"), "%s", err.msg);
	cr_assert(strstr(err.msg, "directory exist"), "%s", err.msg);
}
