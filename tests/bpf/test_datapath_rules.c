/* test_datapath_rules.c - segd_rules sized at load time (segd's max_rules):
 * rule ids past 16 bits decide and are counted, the last id it holds is
 * accepted and one past refused, and a pinned segd_rules of another size
 * is replaced at the next start while one of the same size is adopted.
 */
#include <errno.h>

#include "dp_harness.h"

/* the seeded world with `rid` for rule 1 (A egress TCP 80 to R) */
static void world_rid(struct seg_compiled *c, uint32_t rid)
{
	world(c, 0);
	for (size_t i = 0; i < c->n_entries; i++)
		if (c->entries[i].value.rule_id == 1)
			c->entries[i].value.rule_id = rid;
}

static uint64_t flows_of(uint32_t rid)
{
	struct segd_rule_counter rc;

	cr_assert_eq(seg_dp_rule_counter(dp, rid, &rc), 0, "rule %u", rid);
	return rc.flows;
}

/* one new flow under rule 1's entry, from source port sport */
static void syn_80(uint16_t sport)
{
	const struct row rows[] = {
		{ "new flow tcp 80 to R", FROM,
		  { .src = A4, .dst = R4, .proto = TCP, .sport = sport,
		    .dport = 80, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};

	RUN("rule ids", rows);
}

Test(datapath, rule_slots_from_max_rules)
{
	struct segd_rule_counter rc;
	struct seg_datapath *other = NULL;

	cr_expect_eq(seg_dp_rule_slots(dp), SEGD_DEFAULT_MAX_RULES + 1);
	cr_expect_eq(seg_dp_open_sized(NULL, 0, &other), -EINVAL);
	cr_expect_eq(seg_dp_open_sized(NULL, SEGD_MAX_RULES, &other), -EINVAL);
	cr_expect_null(other);
	cr_expect_eq(seg_dp_rule_counter(dp, SEGD_DEFAULT_MAX_RULES, &rc), 0);
	cr_expect_eq(seg_dp_rule_counter(dp, SEGD_DEFAULT_MAX_RULES + 1, &rc),
		     -EINVAL);
}

Test(datapath, rule_ids_past_16_bits_and_resized_pins)
{
	char root[] = "/tmp/segd-test-bpffs.XXXXXX", pin[64];
	struct segd_rule_counter rc;
	struct seg_compiled c;

	dp_bpffs_make(root, pin);
	seg_dp_close(dp);
	cr_assert_eq(seg_dp_open_sized(pin, 70000, &dp), 0);
	cr_assert_eq(seg_dp_rule_slots(dp), 70001);
	/* the last rule id segd_rules holds decides and counts */
	world_rid(&c, 70000);
	dp_apply(&c);
	syn_80(42000);
	cr_expect_eq(flows_of(70000), 1);
	cr_expect_eq(flows_of(70000 & 0xffff), 0, "folded into 16 bits");
	cr_expect_eq(seg_dp_rule_counter(dp, 70001, &rc), -EINVAL);
	/* one past it is refused, and nothing changes */
	world_rid(&c, 70001);
	cr_expect_eq(seg_dp_apply(dp, &c), -EINVAL);
	st_free(&c);
	cr_expect_eq(seg_dp_generation(dp), 1);
	seg_dp_close(dp);
	dp = NULL;

	/* the same size at the next start: adopted, counters kept */
	cr_assert_eq(seg_dp_open_sized(pin, 70000, &dp), 0);
	cr_expect_eq(flows_of(70000), 1);
	seg_dp_close(dp);
	dp = NULL;

	/* another size: a fresh segd_rules, counted from zero */
	cr_assert_eq(seg_dp_open_sized(pin, 100, &dp), 0);
	cr_assert_eq(seg_dp_rule_slots(dp), 101);
	cr_expect_eq(seg_dp_rule_counter(dp, 70000, &rc), -EINVAL);
	world_rid(&c, 100);
	dp_apply(&c);
	syn_80(42001);
	cr_expect_eq(flows_of(100), 1);
	seg_dp_close(dp);
	dp = NULL;
	dp_bpffs_drop(root);
	cr_assert_eq(seg_dp_open(NULL, &dp), 0); /* for teardown */
}
