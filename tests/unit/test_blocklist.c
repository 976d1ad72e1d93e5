/* test_blocklist.c - feed parsing: the real samples in
 * tests/fixtures/blocklists (see PROVENANCE.txt), auto-detection and each
 * format's edge cases. Safety, compile and lookup: test_blocklist_compile.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"
#include "blocklist_fixtures.h"

#define FIXTURES "tests/fixtures/blocklists/"

static int entry_order(const struct seg_bl_entry *a, const struct seg_bl_entry *b)
{
	int d = memcmp(&a->cidr.addr, &b->cidr.addr, 16);

	return d ? d : (int)a->cidr.plen - (int)b->cidr.plen;
}

/* Criterion runs each case in a fresh process: cases hold arrays, not
 * pointers, so they survive the copy. */
struct sample_case {
	char file[48];
	char given[16];            /* "" = auto */
	int ret;
	char format[16];           /* detected */
	size_t entries, domains;   /* after parsing */
	size_t problems;           /* parse problems */
	uint32_t problem_lines[8];
	size_t kept;               /* entries after the safety check */
	/* first: after the safety check */
	uint32_t refused_lines[4];
	char first[48];            /* first entry (CIDR) or first domain */
};

static const struct sample_case samples[] = {
	{ "et_compromised-ips.txt.sample", "", 0, "plain", 10, 0, 0, { 0 },
	  10, { 0 }, "100.20.101.213/32" },
	{ "falco_miner_lists.yaml", "", 0, "falco-yaml", 0, 63, 0, { 0 },
	  0, { 0 }, "asia1.ethpool.org" },
	{ "feodo_ipblocklist.csv.sample", "", 0, "feodo-csv", 5, 0, 0, { 0 },
	  5, { 0 }, "37.60.242.85/32" },
	{ "firehol_feodo.ipset.sample", "", 0, "plain", 3, 0, 0, { 0 },
	  3, { 0 }, "2.50.11.28/32" },
	{ "firehol_level1.netset.sample", "", 0, "plain", 8, 0, 0, { 0 },
	  6, { 35, 41 }, "1.4.0.0/17" },
	{ "nocoin_hosts.txt", "", 0, "hosts", 0, 313, 0, { 0 },
	  0, { 0 }, "1q2w3.fun" },
	{ "spamhaus_drop.txt.sample", "", 0, "spamhaus-drop", 5, 0, 0, { 0 },
	  5, { 0 }, "1.4.0.0/17" },
	{ "spamhaus_drop_v4.json.sample", "", 0, "spamhaus-json", 2, 0, 0, { 0 },
	  2, { 0 }, "1.10.16.0/20" },
	{ "spamhaus_drop_v6.json", "", 0, "spamhaus-json", 3, 0, 1, { 4 },
	  2, { 3 }, "2001:db8::/32" },
	{ "spamhaus_edrop_now.txt", "", 0, "spamhaus-drop", 0, 0, 0, { 0 },
	  0, { 0 }, "" },
	{ "sslbl_sslipblacklist_deprecated.txt.sample", "", 0, "plain", 0, 0, 0,
	  { 0 }, 0, { 0 }, "" },
	{ "sslbl_sslblacklist.csv.sample", "", -EINVAL, "", 0, 0, 0, { 0 },
	  0, { 0 }, "" },
	/* forced: every certificate row is a problem, nothing loads */
	{ "sslbl_sslblacklist.csv.sample", "feodo-csv", 0, "feodo-csv", 0, 0, 2,
	  { 10, 11 }, 0, { 0 }, "" },
	{ "sslbl_sslblacklist.csv.sample", "plain", 0, "plain", 0, 0, 2,
	  { 10, 11 }, 0, { 0 }, "" },
	{ "messy_plain.txt", "", 0, "plain", 6, 0, 6, { 6, 7, 10, 12, 14, 15 },
	  5, { 11 }, "198.51.100.7/32" },
	/* the Falco file as a plain list: YAML lines are problems, none load */
	{ "falco_miner_lists.yaml", "domains", 0, "domains", 0, 0, 133, { 0 },
	  0, { 0 }, "" },
};

ParameterizedTestParameters(blocklist, samples)
{
	return cr_make_param_array(struct sample_case, samples,
				   sizeof(samples) / sizeof(samples[0]));
}

ParameterizedTest(struct sample_case *c, blocklist, samples)
{
	char path[128], got[64];
	size_t len, np = 0, nr = 0;
	char *buf;
	struct seg_blocklist bl = { 0 };
	struct seg_error err = { 0 };
	struct seg_bl_safety sf = { 0 };
	enum seg_bl_format f = SEG_BL_FMT_AUTO;
	int ret;

	snprintf(path, sizeof(path), FIXTURES "%s", c->file);
	buf = slurp(path, &len);
	if (c->given[0])
		cr_assert_eq(seg_bl_format_parse(c->given, &f), 0);
	ret = seg_blocklist_parse(buf, len, path, f, &bl, &err);
	free(buf);
	cr_assert_eq(ret, c->ret, "%s: ret %d (%s)", c->file, ret, err.msg);
	if (ret) {
		cr_assert(strstr(err.msg, "certificate"), "%s: %s", c->file, err.msg);
		cr_assert_eq(bl.n_entries, 0);
		cr_assert_null(bl.entries);
		return;
	}
	cr_assert_str_eq(seg_bl_format_name(bl.format), c->format, "%s: %s",
			 c->file, seg_bl_format_name(bl.format));
	cr_assert_eq(bl.n_entries, c->entries, "%s: %zu entries", c->file,
		     bl.n_entries);
	cr_assert_eq(bl.n_domains, c->domains, "%s: %zu domains", c->file,
		     bl.n_domains);
	cr_assert_eq(bl.n_problems_total, c->problems, "%s: %zu problems (first "
		     "%u: %s)", c->file, bl.n_problems_total,
		     bl.n_problems ? bl.problems[0].line : 0,
		     bl.n_problems ? bl.problems[0].why : "");
	for (size_t i = 0; i < 8 && c->problem_lines[i]; i++, np++)
		cr_assert_eq(bl.problems[i].line, c->problem_lines[i],
			     "%s: problem %zu on line %u: %s", c->file, i,
			     bl.problems[i].line, bl.problems[i].why);
	for (size_t i = 1; i < bl.n_entries; i++)
		cr_assert_lt(entry_order(&bl.entries[i - 1], &bl.entries[i]), 0,
			     "%s: entries sorted and unique", c->file);
	seg_blocklist_apply_safety(&bl, &sf);
	cr_assert_eq(bl.n_entries, c->kept, "%s: %zu kept", c->file, bl.n_entries);
	for (size_t i = 0; i < 4 && c->refused_lines[i]; i++, nr++) {
		bool found = false;

		for (size_t k = 0; k < bl.n_problems; k++)
			found |= bl.problems[k].line == c->refused_lines[i] &&
				 strstr(bl.problems[k].why, "refused");
		cr_assert(found, "%s: line %u refused", c->file,
			  c->refused_lines[i]);
	}
	cr_assert_eq(bl.n_problems_total, c->problems + nr);
	if (c->first[0] && c->entries) {
		seg_cidr_format(&bl.entries[0].cidr, got, sizeof(got));
		cr_assert_str_eq(got, c->first, "%s: first %s", c->file, got);
	} else if (c->first[0]) {
		cr_assert_str_eq(bl.domains[0], c->first);
	}
	(void)np;
	seg_blocklist_free(&bl);
}

Test(blocklist, level1_refusal_names_the_range)
{
	size_t len;
	char *buf = slurp(FIXTURES "firehol_level1.netset.sample", &len);
	struct seg_blocklist bl = { 0 };
	struct seg_bl_safety sf = { 0 };

	cr_assert_eq(seg_blocklist_parse(buf, len, NULL, SEG_BL_FMT_AUTO, &bl,
					 NULL), 0);
	seg_blocklist_apply_safety(&bl, &sf);
	cr_assert_eq(bl.n_problems, 2);
	cr_assert_str_eq(bl.problems[1].text, "10.0.0.0/8");
	cr_assert(strstr(bl.problems[1].why, "RFC 1918"), "%s", bl.problems[1].why);
	cr_assert(strstr(bl.problems[1].why, "--allow"), "%s", bl.problems[1].why);
	free(buf);
	seg_blocklist_free(&bl);
}

Test(blocklist, messy_messages)
{
	size_t len;
	char *buf = slurp(FIXTURES "messy_plain.txt", &len);
	struct seg_blocklist bl = { 0 };

	cr_assert_eq(seg_blocklist_parse(buf, len, NULL, SEG_BL_FMT_AUTO, &bl,
					 NULL), 0);
	cr_assert_str_eq(bl.problems[1].text, "192.0.2.1/24");
	cr_assert(strstr(bl.problems[1].why, "did you mean 192.0.2.0/24"), "%s",
		  bl.problems[1].why);
	cr_assert(strstr(bl.problems[3].why, "unexpected text"));
	cr_assert(strstr(bl.problems[4].why, "ranges"));
	cr_assert(strstr(bl.problems[5].why, "did you mean 2001:db8::/32"));
	free(buf);
	seg_blocklist_free(&bl);
}

/* ---- auto-detection and format edge cases ------------------------------ */

struct detect_case {
	char name[40];
	char text[200];
	char file[24];
	char given[16];       /* "" = auto */
	int ret;
	char format[16];
	size_t entries, domains, problems;
};

static const struct detect_case detects[] = {
	{ "bare IPv4", "1.2.3.4\n", "", "", 0, "plain", 1, 0, 0 },
	{ "bare IPv6", "2001:db8::1\n2001:db8::/48\n", "", "", 0, "plain", 2, 0, 0 },
	{ "CRLF and blanks", " 1.2.3.4 \r\n\t5.6.7.0/24\t\r\n", "", "", 0, "plain", 2, 0, 0 },
	{ "BOM", "\xef\xbb\xbf" "1.2.3.4\n", "", "", 0, "plain", 1, 0, 0 },
	{ "no final newline", "1.2.3.4\n5.6.7.8", "", "", 0, "plain", 2, 0, 0 },
	{ "duplicates merge", "1.2.3.4\n1.2.3.4\n", "", "", 0, "plain", 1, 0, 0 },
	{ "majority wins", "1.2.3.4\nbad line!\n5.6.7.8\n", "", "", 0, "plain", 2, 0, 1 },
	{ "drop text", "; c\n1.2.3.0/24 ; SBL123\n", "", "", 0, "spamhaus-drop", 1, 0, 0 },
	{ "drop json", "{\"cidr\":\"1.2.3.0/24\",\"sblid\":\"SBL1\"}\n", "", "", 0,
	  "spamhaus-json", 1, 0, 0 },
	{ "json escaped slash", "{\"cidr\":\"1.2.3.0\\/24\"}\n{bad\n", "", "", 0,
	  "spamhaus-json", 1, 0, 1 },
	{ "json metadata only", "{\"type\":\"metadata\",\"records\":0}\n", "", "", 0,
	  "spamhaus-json", 0, 0, 0 },
	{ "csv quoted header", "\"a\",\"dst_ip\"\n\"x\",\"1.2.3.4\"\n# END 1 entries\n",
	  "", "", 0, "feodo-csv", 1, 0, 0 },
	{ "csv no header", "1.2.3.4,80\n\"x\",\"\"\n", "", "feodo-csv", 0,
	  "feodo-csv", 1, 0, 1 },
	{ "csv first field IP", "1.2.3.4,evil\n", "", "", 0, "feodo-csv", 1, 0, 0 },
	{ "csv comment header", "# Firstseen,DstIP,DstPort\n2020-01-01,1.2.3.4,443\n"
	  "2020-01-01,5.6.7.9/30,1\n", "", "", 0, "feodo-csv", 1, 0, 1 },
	{ "csv short row", "\"a\",\"dst_ip\"\n\"x\"\n", "", "feodo-csv", 0,
	  "feodo-csv", 0, 0, 1 },
	{ "hosts", "127.0.0.1 localhost\n0.0.0.0 Pool.Example.com # x\n", "", "",
	  0, "hosts", 0, 1, 0 },
	{ "hosts several names", "0.0.0.0 a.example.com b.example.com\n0.0.0.0\n"
	  "0.0.0.0 bad_label-.example.com\n", "", "hosts", 0, "hosts", 0, 2, 2 },
	{ "domains", "pool.example.com\nPOOL.example.com.\n", "", "", 0,
	  "domains", 0, 1, 0 },
	{ "domains with addresses", "a.example.com\n198.51.100.1\n*.b.example\n"
	  "single\n1.2.3.4/33\n", "", "domains", 0, "domains", 1, 1, 3 },
	{ "falco flow", "- list: miner_domains\n  items: [\"a.example.com\",\n"
	  "  \"b.example.com\"]\n- list: miner_ports\n  items: [25, 3333]\n", "",
	  "", 0, "falco-yaml", 0, 2, 0 },
	{ "falco block", "- list: my_domains\n  items:\n    - a.example.com\n"
	  "    - \"b.example.com\" # c\n- list: bad_ips\n  items: [198.51.100.1, "
	  "\"2001:db8::/32\"]\n- macro: m\n  condition: x\n", "", "", 0,
	  "falco-yaml", 2, 2, 0 },
	{ "comments only", "# nothing\n#\n", "", "", 0, "plain", 0, 0, 0 },
	{ "semicolons only", "; nothing\n", "", "", 0, "spamhaus-drop", 0, 0, 0 },
	{ "empty", "", "", "", 0, "plain", 0, 0, 0 },
	{ "empty, name hint", "", "drop_v6.json", "", 0, "spamhaus-json", 0, 0, 0 },
	{ "tie, name hint", "1.2.3.4\nexample.com\n", "x.domains", "", 0,
	  "domains", 1, 1, 0 },
	{ "tie, no hint", "1.2.3.4\nexample.com\n", "", "", 0, "plain", 1, 0, 1 },
	{ "sha1 rows", "2024-09-02 06:17:52,4da14224452c1fe61f46b1112c43ecfd9f322c82,x\n",
	  "", "", -EINVAL, "", 0, 0, 0 },
	{ "sha1 bare", "4da14224452c1fe61f46b1112c43ecfd9f322c82\n", "", "",
	  -EINVAL, "", 0, 0, 0 },
	{ "garbage", "hello world!\n", "", "", -EINVAL, "", 0, 0, 0 },
	{ "host bits", "1.2.3.4/24\n", "", "", 0, "plain", 0, 0, 1 },
	{ "bad prefix", "1.2.3.0/33\n2001:db8::/129\n", "", "", 0, "plain", 0, 0, 2 },
	{ "leading zero", "01.2.3.4\n1.2.3.4\n", "", "", 0, "plain", 1, 0, 1 },
	{ "mapped IPv6 is IPv4", "::ffff:1.2.3.4\n1.2.3.4\n", "", "", 0, "plain",
	  1, 0, 0 },
	{ "NUL byte", "1.2.3.4\n1.2.3.5\0x\n", "", "plain", 0, "plain", 1, 0, 1 },
};

ParameterizedTestParameters(blocklist, detect)
{
	return cr_make_param_array(struct detect_case, detects,
				   sizeof(detects) / sizeof(detects[0]));
}

ParameterizedTest(struct detect_case *c, blocklist, detect)
{
	struct seg_blocklist bl = { 0 };
	struct seg_error err = { 0 };
	enum seg_bl_format f = SEG_BL_FMT_AUTO;
	size_t len = strlen(c->text);
	int ret;

	if (!strcmp(c->name, "NUL byte"))
		len = 18;
	if (c->given[0])
		cr_assert_eq(seg_bl_format_parse(c->given, &f), 0);
	ret = seg_blocklist_parse(c->text, len, c->file[0] ? c->file : NULL, f,
				  &bl, &err);
	cr_assert_eq(ret, c->ret, "%s: ret %d (%s)", c->name, ret, err.msg);
	if (ret) {
		cr_assert(err.msg[0], "%s: a message", c->name);
		return;
	}
	cr_assert_str_eq(seg_bl_format_name(bl.format), c->format, "%s: %s",
			 c->name, seg_bl_format_name(bl.format));
	cr_assert_eq(bl.n_entries, c->entries, "%s: %zu entries", c->name,
		     bl.n_entries);
	cr_assert_eq(bl.n_domains, c->domains, "%s: %zu domains", c->name,
		     bl.n_domains);
	cr_assert_eq(bl.n_problems_total, c->problems, "%s: %zu problems (%s)",
		     c->name, bl.n_problems_total,
		     bl.n_problems ? bl.problems[0].why : "");
	for (size_t i = 0; i < bl.n_problems; i++)
		cr_assert(bl.problems[i].line > 0 && bl.problems[i].why[0]);
	seg_blocklist_free(&bl);
}

Test(blocklist, names_round_trip)
{
	enum seg_bl_format f;
	enum segd_bl_category c;
	enum segd_bl_action a;

	for (int i = SEG_BL_FMT_AUTO; i <= SEG_BL_FMT_FALCO_YAML; i++) {
		cr_assert_eq(seg_bl_format_parse(seg_bl_format_name(i), &f), 0);
		cr_assert_eq((int)f, i);
	}
	cr_assert_eq(seg_bl_format_parse("csv", &f), -EINVAL);
	cr_assert_eq(seg_bl_category_parse("miner", &c), 0);
	cr_assert_eq(c, SEGD_BL_MINER);
	cr_assert_str_eq(seg_bl_category_name(SEGD_BL_C2), "c2");
	cr_assert_eq(seg_bl_category_parse("exception", &c), -EINVAL);
	cr_assert_eq(seg_bl_action_parse("audit", &a), 0);
	cr_assert_eq(a, SEGD_BL_AUDIT);
	cr_assert_str_eq(seg_bl_action_name(SEGD_BL_DROP), "drop");
}

Test(blocklist, problems_are_capped_but_counted)
{
	size_t n = 500, len = 0;
	char *buf = malloc(n * 8 + 16);
	struct seg_blocklist bl = { 0 };

	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%s\n", i % 2 ? "x!" : "1.2.3.4");
	cr_assert_eq(seg_blocklist_parse(buf, len, NULL, SEG_BL_FMT_PLAIN, &bl,
					 NULL), 0);
	cr_assert_eq(bl.n_entries, 1);
	cr_assert_eq(bl.n_problems, SEG_BL_MAX_PROBLEMS);
	cr_assert_eq(bl.n_problems_total, n / 2);
	cr_assert_eq(bl.problems[0].line, 2);
	free(buf);
	seg_blocklist_free(&bl);
}

Test(blocklist, first_line_of_a_duplicate_wins)
{
	const char *t = "5.6.7.8\n1.2.3.4\n1.2.3.4\n";
	struct seg_blocklist bl = { 0 };

	cr_assert_eq(seg_blocklist_parse(t, strlen(t), NULL, SEG_BL_FMT_AUTO, &bl,
					 NULL), 0);
	cr_assert_eq(bl.n_entries, 2);
	cr_assert_eq(bl.entries[0].line, 2);
	seg_blocklist_free(&bl);
}
