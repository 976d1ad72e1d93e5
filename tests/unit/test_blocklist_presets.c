/* test_blocklist_presets.c - what policies/blocklists ships: the Falco
 * miner domains load as a clean domain list equal to the fixture's, and
 * the miner ports preset is a valid SegmentPolicy denying exactly Falco's
 * miner_ports towards the world. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"
#include "policy_parse.h"
#include "blocklist_fixtures.h"

static void load(const char *path, struct seg_blocklist *bl)
{
	size_t len;
	char *buf = slurp(path, &len);
	struct seg_error err = { 0 };

	memset(bl, 0, sizeof(*bl));
	cr_assert_eq(seg_blocklist_parse(buf, len, path, SEG_BL_FMT_AUTO, bl, &err),
		     0, "%s", err.msg);
	free(buf);
}

Test(blocklist_presets, falco_miner_domains)
{
	struct seg_blocklist shipped, falco;

	load("policies/blocklists/falco-miner-domains.txt", &shipped);
	load("tests/fixtures/blocklists/falco_miner_lists.yaml", &falco);
	cr_assert_eq(shipped.format, SEG_BL_FMT_DOMAINS);
	cr_assert_eq(shipped.n_problems_total, 0);
	cr_assert_eq(shipped.n_entries, 0);
	cr_assert_eq(shipped.n_domains, 63);
	cr_assert_eq(falco.n_domains, shipped.n_domains);
	for (size_t i = 0; i < shipped.n_domains; i++)
		cr_assert_str_eq(shipped.domains[i], falco.domains[i]);
	seg_blocklist_free(&shipped);
	seg_blocklist_free(&falco);
}

Test(blocklist_presets, falco_miner_ports)
{
	static const uint16_t want[] = {
		25, 3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730,
		6099, 6666, 7777, 7778, 8000, 8001, 8008, 8080, 8118, 8333, 8888,
		8899, 9332, 9999, 14433, 14444, 45560, 45700,
	};
	const char *path = "policies/blocklists/falco-miner-ports.yaml";
	size_t len, n = 0, got = 0;
	char *buf = slurp(path, &len);
	struct seg_policy *p = NULL;
	struct seg_error err = { 0 };
	const struct seg_rule *deny;

	cr_assert_eq(seg_policy_parse(buf, len, path, "ns1", &p, &n, &err), 0,
		     "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0].ns, "ns1");
	cr_assert(p[0].enforce[SEGD_DIR_EGRESS]);
	cr_assert_not(p[0].enforce[SEGD_DIR_INGRESS]);
	cr_assert_eq(p[0].n_rules, 2);
	deny = &p[0].rules[0];
	cr_assert_eq(deny->action, SEG_ACTION_DENY);
	cr_assert_eq(deny->n_peers, 1);
	cr_assert_eq(deny->peers[0].kind, SEG_PEER_WORLD);
	for (size_t i = 0; i < deny->n_ports; i++) {
		cr_assert_eq(deny->ports[i].proto, IPPROTO_TCP);
		for (unsigned q = deny->ports[i].port_lo; q <= deny->ports[i].port_hi; q++) {
			cr_assert_lt(got, sizeof(want) / sizeof(want[0]));
			cr_assert_eq(q, want[got], "port %u", q);
			got++;
		}
	}
	cr_assert_eq(got, sizeof(want) / sizeof(want[0]));
	cr_assert_eq(p[0].rules[1].action, SEG_ACTION_ALLOW);
	cr_assert(p[0].rules[1].all_peers && p[0].rules[1].all_ports);
	seg_policies_free(p, n);
	free(buf);
}
