/* test_flowtab.c - conntrack entries and drop events become flow records
 * with exact deltas, final records when flows end, idle or vanish. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <string.h>
#include "segd.h"
#include "flow_names.h"
#include "flowtab.h"

#define SEC 1000000000ull
#define MAX_REC 16

struct captured {
	struct seg_flow_record r[MAX_REC];
	char src[MAX_REC][64], dst[MAX_REC][64], observer[MAX_REC][64];
	char policy[MAX_REC][64], reason[MAX_REC][32], list[MAX_REC][32];
	size_t n;
};

static void capture(void *ctx, const struct seg_flow_record *r)
{
	struct captured *c = ctx;

	cr_assert_lt(c->n, MAX_REC);
	c->r[c->n] = *r;
	snprintf(c->src[c->n], 64, "%s", r->source.identity);
	snprintf(c->dst[c->n], 64, "%s", r->destination.identity);
	snprintf(c->observer[c->n], 64, "%s", r->observer);
	snprintf(c->policy[c->n], 64, "%s", r->policy ? r->policy : "-");
	snprintf(c->reason[c->n], 32, "%s", r->drop_reason ? r->drop_reason : "-");
	snprintf(c->list[c->n], 32, "%s", r->blocklist ? r->blocklist : "-");
	c->n++;
}

/* one local endpoint shop/web at 10.200.1.10, rule 7 = shop/allow-web#2 */
static struct seg_endpoint ep = { .name = "web", .ns = "shop", .ifindex = 42,
				  .endpoint_id = 1 };
static struct seg_ipc_exact_entry exact[1];
static struct seg_rule_ref rules[1];
static struct segd d;

static void addr4(struct segd_addr *a, const char *ip)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, ip, &a->b[12]), 1);
}

static void setup(void)
{
	memset(&d, 0, sizeof(d));
	addr4(&exact[0].addr, "10.200.1.10");
	exact[0].value.endpoint_id = 1;
	exact[0].value.flags = SEGD_EPF_LOCAL;
	d.compiled.exact = exact;
	d.compiled.n_exact = 1;
	rules[0] = (struct seg_rule_ref){ .rule_id = 7, .policy_ns = "shop",
					  .policy_name = "allow-web", .rule_index = 1 };
	d.compiled.rules = rules;
	d.compiled.n_rules = 1;
	d.state.world.endpoints = &ep;
	d.state.world.n_endpoints = 1;
}

static struct seg_flowtab *table(struct captured *c)
{
	struct seg_flowtab *t;

	const struct seg_view view = { &d.state.world, &d.compiled, NULL };

	cr_assert_eq(seg_flowtab_new(&view, &t), 0);
	cr_assert_eq(seg_flowtab_add_sink(t, capture, c), 0);
	return t;
}

/* web (egress) -> 203.0.113.10:443 tcp, created at 1 s */
static void ct_entry(struct segd_ct_key *k, struct segd_ct_value *v)
{
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	addr4(&k->local, "10.200.1.10");
	addr4(&k->remote, "203.0.113.10");
	k->lport = 40000;
	k->rport = 443;
	k->proto = IPPROTO_TCP;
	v->created_ns = v->last_seen_ns = 1 * SEC;
	v->origin_dir = SEGD_DIR_EGRESS;
	v->rule_id = 7;
	v->remote_id = SEGD_ID_WORLD;
	v->tcp_flags[0] = 0x12;   /* SYN, ACK: established */
	v->tcp_flags[1] = 0x12;
}

static void pass(struct seg_flowtab *t, uint64_t at, const struct segd_ct_key *k,
		 const struct segd_ct_value *v, int want_ret)
{
	seg_flowtab_pass_begin(t, at, 1000 * SEC + at);
	if (k)
		cr_assert_eq(seg_flowtab_ct(t, k, v), want_ret);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
}

TestSuite(flowtab, .init = setup);

Test(flowtab, conntrack_flow_reports_deltas_then_a_final_record)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k;
	struct segd_ct_value v;

	ct_entry(&k, &v);
	v.packets[0] = 5, v.bytes[0] = 500, v.packets[1] = 4, v.bytes[1] = 4000;
	pass(t, 2 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.r[0].packets, 5);
	cr_assert_eq(c.r[0].bytes, 500);
	cr_assert_eq(c.r[0].reply_packets, 4);
	cr_assert_eq(c.r[0].reply_bytes, 4000);
	cr_assert_eq(c.r[0].verdict, SEG_FLOW_FORWARDED);
	cr_assert_not(c.r[0].final);
	cr_assert_eq(c.r[0].sport, 40000);
	cr_assert_eq(c.r[0].dport, 443);
	cr_assert_str_eq(c.src[0], "shop/web");
	cr_assert_str_eq(c.dst[0], "world");
	cr_assert_str_eq(c.observer[0], "shop/web");
	cr_assert_str_eq(c.policy[0], "shop/allow-web#2");
	cr_assert_null(c.r[0].rule_name);   /* the rule has no name */
	cr_assert_eq(c.r[0].start_ns, 1001 * SEC);

	pass(t, 3 * SEC, &k, &v, 0);            /* nothing moved */
	cr_assert_eq(c.n, 1);

	v.packets[0] = 8, v.bytes[0] = 800;     /* 3 more, no replies */
	v.last_seen_ns = 3 * SEC;
	pass(t, 4 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.r[1].packets, 3);
	cr_assert_eq(c.r[1].bytes, 300);
	cr_assert_eq(c.r[1].reply_packets, 0);

	v.tcp_flags[0] |= 0x01;                 /* FIN: closes in 10 s */
	v.packets[0] = 9, v.bytes[0] = 852;
	pass(t, (3 + SEGD_CT_TCP_CLOSE_LIFETIME + 1) * SEC, &k, &v, 1);
	cr_assert_eq(c.n, 3);
	cr_assert(c.r[2].final);
	cr_assert_eq(c.r[2].packets, 1);
	cr_assert_eq(c.r[2].bytes, 52);
	cr_assert_eq(seg_flowtab_size(t), 0);
	seg_flowtab_free(t);
}

Test(flowtab, vanished_entry_gets_a_final_record_and_replaced_one_a_new_flow)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k;
	struct segd_ct_value v;

	ct_entry(&k, &v);
	v.packets[0] = 2, v.bytes[0] = 120;
	pass(t, 2 * SEC, &k, &v, 0);
	v.created_ns = v.last_seen_ns = 2500000000ull;  /* re-created */
	v.packets[0] = 1, v.bytes[0] = 60;
	pass(t, 3 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 3);
	cr_assert(c.r[1].final);
	cr_assert_eq(c.r[1].packets, 0);
	cr_assert_eq(c.r[2].packets, 1);
	cr_assert_not(c.r[2].final);
	pass(t, 4 * SEC, NULL, NULL, 0);                /* gone from the map */
	cr_assert_eq(c.n, 4);
	cr_assert(c.r[3].final);
	cr_assert_eq(c.r[3].packets, 0);
	cr_assert_eq(seg_flowtab_size(t), 0);
	seg_flowtab_free(t);
}

/* A flush ends a flow at any age: a final record with what moved since
 * the flow's last record (all it counted when it had none), and 1 to
 * delete its entry; the table forgets it. */
struct flush_case {
	const char *name;
	bool seen;               /* a pass recorded it before the flush */
	uint64_t pkts, bytes;    /* the entry's counters at the flush */
	uint64_t want_pkts, want_bytes;
};

static const struct flush_case flush_cases[] = {
	{ "moved since its last record", true, 9, 900, 4, 400 },
	{ "idle since its last record", true, 5, 500, 0, 0 },
	{ "never recorded", false, 3, 300, 3, 300 },
};

ParameterizedTestParameters(flowtab, flush_ends_a_flow)
{
	return cr_make_param_array(struct flush_case, flush_cases,
				   sizeof(flush_cases) / sizeof(flush_cases[0]));
}

ParameterizedTest(struct flush_case *fc, flowtab, flush_ends_a_flow, .init = setup)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k;
	struct segd_ct_value v;
	size_t before;

	ct_entry(&k, &v);
	if (fc->seen) {
		v.packets[0] = 5, v.bytes[0] = 500;
		pass(t, 2 * SEC, &k, &v, 0);
	}
	before = c.n;
	v.packets[0] = fc->pkts, v.bytes[0] = fc->bytes;
	seg_flowtab_pass_begin(t, 3 * SEC, 1003 * SEC);
	cr_assert_eq(seg_flowtab_ct_end(t, &k, &v), 1, "%s", fc->name);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_eq(c.n, before + 1, "%s: one final record", fc->name);
	cr_assert(c.r[before].final, "%s", fc->name);
	cr_assert_eq(c.r[before].packets, fc->want_pkts, "%s", fc->name);
	cr_assert_eq(c.r[before].bytes, fc->want_bytes, "%s", fc->name);
	cr_assert_str_eq(c.policy[before], "shop/allow-web#2");
	cr_assert_eq(seg_flowtab_size(t), 0, "%s: forgotten", fc->name);
	/* the next pass does not end it a second time */
	pass(t, 4 * SEC, NULL, NULL, 0);
	cr_assert_eq(c.n, before + 1, "%s", fc->name);
	seg_flowtab_free(t);
}

struct orient_case {
	uint8_t origin_dir;
	uint8_t ct_flags;
	char src[32], dst[32];
	uint16_t sport, dport;
	uint8_t verdict;
	char reason[32];
};

static const struct orient_case orient_cases[] = {
	{ SEGD_DIR_EGRESS, 0, "shop/web", "world", 40000, 443, SEG_FLOW_FORWARDED, "-" },
	{ SEGD_DIR_INGRESS, 0, "world", "shop/web", 443, 40000, SEG_FLOW_FORWARDED, "-" },
	{ SEGD_DIR_EGRESS, SEGD_CTF_AUDIT, "shop/web", "world", 40000, 443,
	  SEG_FLOW_AUDIT, "policy-audit" },
};

ParameterizedTestParameters(flowtab, orientation_and_verdict)
{
	return cr_make_param_array(struct orient_case, (void *)orient_cases,
				   sizeof(orient_cases) / sizeof(orient_cases[0]));
}

ParameterizedTest(struct orient_case *oc, flowtab, orientation_and_verdict, .init = setup)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k;
	struct segd_ct_value v;

	ct_entry(&k, &v);
	v.origin_dir = oc->origin_dir;
	v.flags = oc->ct_flags;
	v.packets[0] = 1;
	pass(t, 2 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.src[0], oc->src);
	cr_assert_str_eq(c.dst[0], oc->dst);
	cr_assert_eq(c.r[0].sport, oc->sport);
	cr_assert_eq(c.r[0].dport, oc->dport);
	cr_assert_eq(c.r[0].verdict, oc->verdict);
	cr_assert_str_eq(c.reason[0], oc->reason);
	seg_flowtab_free(t);
}

static struct segd_event drop_event(uint64_t at, uint8_t dir)
{
	struct segd_event e = { .ts_ns = at, .proto = IPPROTO_UDP,
				.type = SEGD_EV_DROP, .dir = dir,
				.reason = SEGD_REASON_DEFAULT_DENIED, .hook = SEGD_HOOK_TC,
				.ifindex = 42, .endpoint_id = 1, .bytes = 40,
				.remote_id = SEGD_ID_WORLD };

	/* a packet of web -> 203.0.113.10:53, or its reply */
	addr4(dir == SEGD_DIR_EGRESS ? &e.saddr : &e.daddr, "10.200.1.10");
	addr4(dir == SEGD_DIR_EGRESS ? &e.daddr : &e.saddr, "203.0.113.10");
	e.sport = dir == SEGD_DIR_EGRESS ? 5555 : 53;
	e.dport = dir == SEGD_DIR_EGRESS ? 53 : 5555;
	return e;
}

/* A pass out of turn (a flush 20 ms after the last pass) must not end a
 * drop flow that is only between events: idle is the caller's interval,
 * not the time since the last pass. */
struct idle_case {
	uint64_t idle_ns;       /* seg_flowtab_set_idle; 0: left unset */
	bool final_at_2_02;     /* the drop flow ends at the pass at 2.02 s */
};

static const struct idle_case idle_cases[] = {
	{ 10 * SEC, false },
	{ 0, true },            /* unset: the 20 ms since the last pass */
};

ParameterizedTestParameters(flowtab, drop_flow_idle_follows_the_set_interval)
{
	return cr_make_param_array(struct idle_case, idle_cases,
				   sizeof(idle_cases) / sizeof(idle_cases[0]));
}

ParameterizedTest(struct idle_case *ic, flowtab, drop_flow_idle_follows_the_set_interval,
		  .init = setup)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_event e = drop_event(1 * SEC + 1000, SEGD_DIR_EGRESS);

	seg_flowtab_set_idle(t, ic->idle_ns);
	pass(t, 1 * SEC, NULL, NULL, 0);
	cr_assert_eq(seg_flowtab_event(t, &e), 0);
	pass(t, 2 * SEC, NULL, NULL, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_not(c.r[0].final);
	pass(t, 2 * SEC + 20000000, NULL, NULL, 0);
	cr_assert_eq(c.n, ic->final_at_2_02 ? 2 : 1);
	cr_assert_eq(seg_flowtab_size(t), ic->final_at_2_02 ? 0 : 1);
	if (!ic->final_at_2_02) {
		pass(t, 12 * SEC, NULL, NULL, 0);   /* 11 s without drops */
		cr_assert_eq(c.n, 2);
		cr_assert(c.r[1].final);
		cr_assert_eq(seg_flowtab_size(t), 0);
	}
	seg_flowtab_free(t);
}

/* A pass that could not read the whole map keeps the flows it missed:
 * a final record for them would count them again at the next pass. */
Test(flowtab, incomplete_pass_keeps_the_flows_it_missed)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k;
	struct segd_ct_value v;

	ct_entry(&k, &v);
	v.packets[0] = 2, v.bytes[0] = 120;
	pass(t, 2 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 1);
	seg_flowtab_pass_begin(t, 3 * SEC, 1003 * SEC);
	seg_flowtab_pass_incomplete(t);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_eq(c.n, 1, "no final record for a flow the pass missed");
	cr_assert_eq(seg_flowtab_size(t), 1);
	v.packets[0] = 3, v.bytes[0] = 180;
	pass(t, 4 * SEC, &k, &v, 0);            /* seen again: a delta */
	cr_assert_eq(c.n, 2);
	cr_assert_not(c.r[1].final);
	cr_assert_eq(c.r[1].packets, 1);
	pass(t, 5 * SEC, NULL, NULL, 0);        /* a whole pass without it: gone */
	cr_assert_eq(c.n, 3);
	cr_assert(c.r[2].final);
	seg_flowtab_free(t);
}

Test(flowtab, drop_events_sum_per_flow_and_end_when_idle)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_event e;

	pass(t, 1 * SEC, NULL, NULL, 0);
	for (int i = 0; i < 3; i++) {
		e = drop_event(1 * SEC + (uint64_t)i * 1000, SEGD_DIR_EGRESS);
		cr_assert_eq(seg_flowtab_event(t, &e), 0);
	}
	e = drop_event(1 * SEC + 5000, SEGD_DIR_INGRESS);
	cr_assert_eq(seg_flowtab_event(t, &e), 0);
	pass(t, 2 * SEC, NULL, NULL, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.r[0].verdict, SEG_FLOW_DROPPED);
	cr_assert_eq(c.r[0].packets, 3);
	cr_assert_eq(c.r[0].bytes, 120);
	cr_assert_eq(c.r[0].reply_packets, 1);
	cr_assert_eq(c.r[0].dport, 53);
	cr_assert_str_eq(c.reason[0], "default-denied");
	cr_assert_str_eq(c.observer[0], "shop/web");
	cr_assert_not(c.r[0].final);

	pass(t, 3 * SEC, NULL, NULL, 0);     /* a whole interval without drops */
	cr_assert_eq(c.n, 2);
	cr_assert(c.r[1].final);
	cr_assert_eq(c.r[1].packets, 0);
	cr_assert_eq(seg_flowtab_size(t), 0);
	seg_flowtab_free(t);
}

static bool namer(void *ctx, const struct segd_addr *remote, char *buf, size_t len)
{
	struct segd_addr want;

	(void)ctx;
	addr4(&want, "203.0.113.10");
	if (memcmp(remote, &want, sizeof(want)))
		return false;
	snprintf(buf, len, "c2-feed");
	return true;
}

Test(flowtab, blocklisted_drops_name_their_list)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_event e = drop_event(1 * SEC, SEGD_DIR_EGRESS);
	struct seg_flow_record seen;

	seg_flowtab_set_list_namer(t, namer, NULL);
	e.reason = SEGD_REASON_BLOCKLISTED;
	cr_assert_eq(seg_flowtab_event(t, &e), 0);
	pass(t, 2 * SEC, NULL, NULL, 0);
	cr_assert_eq(c.n, 1);
	seen = c.r[0];
	cr_assert_str_eq(c.reason[0], "blocklisted");
	cr_assert_not_null(seen.blocklist);
	cr_assert_str_eq(c.list[0], "c2-feed");
	seg_flowtab_free(t);
}

Test(flowtab, audit_events_are_left_to_conntrack)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_event e = drop_event(1 * SEC, SEGD_DIR_EGRESS);

	e.type = SEGD_EV_AUDIT;
	cr_assert_eq(seg_flowtab_event(t, &e), 0);
	pass(t, 2 * SEC, NULL, NULL, 0);
	cr_assert_eq(c.n, 0);
	seg_flowtab_free(t);
}

/* A ClusterNetworkPolicy rule is named by its tier, and its own name rides
 * along: "admin/guard#1", rule_name "no-db". */
Test(flowtab, cluster_policy_rule_named_by_tier)
{
	struct captured c = { 0 };
	struct seg_flowtab *t;
	struct segd_ct_key k;
	struct segd_ct_value v;
	char rule_name[16];

	rules[0] = (struct seg_rule_ref){ .rule_id = 7, .policy_ns = "",
					  .policy_name = "guard", .rule_index = 0,
					  .kind = SEG_KIND_CNP, .tier = SEG_TIER_ADMIN,
					  .rule_name = "no-db" };
	t = table(&c);
	ct_entry(&k, &v);
	v.packets[0] = 1, v.bytes[0] = 60;
	pass(t, 2 * SEC, &k, &v, 0);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.policy[0], "admin/guard#1");
	cr_assert_not_null(c.r[0].rule_name);
	snprintf(rule_name, sizeof(rule_name), "%s", c.r[0].rule_name);
	cr_assert_str_eq(rule_name, "no-db");
	seg_flowtab_free(t);
}

/* Names are made once per pass and kept (text_memo.h): a rename in place
 * (same endpoint and rule arrays) shows at the next pass and listing, and
 * each pass's records share one names epoch that the next one moves. */
Test(flowtab, names_follow_renames_between_passes)
{
	struct captured c = { 0 };
	struct seg_flowtab *t = table(&c);
	struct segd_ct_key k, k2;
	struct segd_ct_value v, v2;

	ct_entry(&k, &v);
	k2 = k, v2 = v;
	k2.lport = 40001;
	v.packets[0] = v2.packets[0] = 1;
	seg_flowtab_pass_begin(t, 2 * SEC, 1002 * SEC);
	cr_assert_eq(seg_flowtab_ct(t, &k, &v), 0);
	cr_assert_eq(seg_flowtab_ct(t, &k2, &v2), 0);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.observer[1], "shop/web");
	cr_assert_str_eq(c.policy[1], "shop/allow-web#2");
	cr_assert_neq(c.r[0].names_epoch, 0);
	cr_assert_eq(c.r[0].names_epoch, c.r[1].names_epoch);

	ep.name = "web-v2";
	rules[0].policy_name = "allow-web-v2";
	v.packets[0] = 2;
	pass(t, 3 * SEC, &k, &v, 0);   /* k moved, k2 is gone (final) */
	cr_assert_eq(c.n, 4);
	for (size_t i = 2; i < 4; i++) {
		cr_assert_str_eq(c.src[i], "shop/web-v2");
		cr_assert_str_eq(c.observer[i], "shop/web-v2");
		cr_assert_str_eq(c.policy[i], "shop/allow-web-v2#2");
		cr_assert_gt(c.r[i].names_epoch, c.r[1].names_epoch);
	}

	ep.name = "web-v3";
	seg_flowtab_names_changed(t);
	seg_flowtab_ct_record(t, &k, &v, capture, &c);
	cr_assert_str_eq(c.observer[4], "shop/web-v3");
	ep.name = "web";
	seg_flowtab_free(t);
}
