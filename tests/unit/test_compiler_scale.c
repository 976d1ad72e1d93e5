/* test_compiler_scale.c - the compiler past 16-bit rule ids: 100,000
 * ipBlock /32 rules (tools/bench/gen_policy.py peers' shape), the rule
 * count limits (the entry codes', the datapath's max_rules) and their
 * messages, and CIDR peers selecting endpoints by address order.
 */
#include "compiler_fixtures.h"

#include <criterion/parameterized.h>

#define SCALE_RULES 100000

/* 198.18.0.0/15, as gen_policy.py peers numbers them: address i + 1 */
static void peer_addr(int i, char *buf, size_t len)
{
	i += 1;
	snprintf(buf, len, "198.%d.%d.%d", 18 + (i >> 16), (i >> 8) & 255, i & 255);
}

/* Policy shop/peers for app=web: n ingress rules, rule i allowing UDP 5201
 * from peer_addr(i)/32; each rule with one peer and one port, not the
 * fixtures' MAX_PEERS and MAX_PORTS. */
static struct seg_policy *peers_policy(int n)
{
	struct seg_policy *p = pol("shop", "peers", "app=web", true, false);
	char a[32];

	free(p->rules);
	p->rules = calloc((size_t)n, sizeof(*p->rules));
	cr_assert(p->rules);
	for (int i = 0; i < n; i++) {
		struct seg_rule *r = &p->rules[p->n_rules++];

		r->action = SEG_ACTION_ALLOW;
		r->dir = ING;
		r->name = strdup("");
		r->peers = calloc(1, sizeof(*r->peers));
		r->ports = calloc(1, sizeof(*r->ports));
		cr_assert(r->name && r->peers && r->ports);
		peer_addr(i, a, sizeof(a));
		strcat(a, "/32");
		r->peers[0].kind = SEG_PEER_CIDR;
		cr_assert_eq(seg_cidr_parse(a, &r->peers[0].cidr, NULL), 0, "%s", a);
		r->n_peers = 1;
		r->ports[0] = (struct seg_port){ .proto = UDP, .port_lo = 5201,
						 .port_hi = 5201 };
		r->n_ports = 1;
	}
	return p;
}

static void scale_world(void)
{
	w_init();
	ns("shop", "");
	ep("shop", "web", "app=web", "10.200.1.10", NULL);
}

/* the verdict and rule id for UDP 5201 from src into web */
static enum segd_verdict into_web(const char *src, uint32_t *rid)
{
	return seg_compiled_decide(&C, id_of("10.200.1.10"), id_of(src), ING,
				   UDP, 5201, rid);
}

Test(compiler_scale, ipblock_rules_100000, .fini = fini, .timeout = 60)
{
	static const int probe[] = { 0, 65534, 65535, 65536, SCALE_RULES - 1 };
	char a[32];
	uint32_t rid;

	scale_world();
	peers_policy(SCALE_RULES);
	compile();
	cr_assert_eq(C.n_rules, SCALE_RULES);
	cr_assert_eq(C.n_entries, SCALE_RULES);
	cr_assert_eq(C.n_prefixes, SCALE_RULES + 2);   /* and the two worlds */
	cr_assert_eq(C.rules[SCALE_RULES - 1].rule_id, SCALE_RULES);
	/* the rule ids around 16 bits and the last: each address is allowed
	 * by its own rule, with that rule's id */
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		peer_addr(probe[i], a, sizeof(a));
		cr_assert_eq(into_web(a, &rid), A, "%s", a);
		cr_assert_eq(rid, (uint32_t)probe[i] + 1, "%s: rule id %u", a, rid);
	}
	cr_assert_eq(into_web("198.19.255.255", &rid), D);   /* not listed */
	cr_assert_eq(rid, 0);
	cr_assert_eq(into_web("203.0.113.10", &rid), D);
	/* every entry carries a rule id of its own, none folded into 16 bits */
	for (size_t i = 0; i < C.n_entries; i++)
		cr_assert(C.entries[i].value.rule_id >= 1 &&
			  C.entries[i].value.rule_id <= SCALE_RULES);
}

struct limit_case {
	char name[48];
	uint32_t max_rules;      /* the world's; 0 = the compiler's own */
	size_t n_rules;
	int ret;
	char msg[4][64];         /* what the message must say */
};

static const struct limit_case limits[] = {
	{ "the compiler's limit", 0, SEGD_MAX_RULES - 1, 0, { "" } },
	{ "one past the compiler's limit", 0, SEGD_MAX_RULES, -E2BIG,
	  { "1048576 policy rules exceed the limit of 1048575",
	    "default/many with 1048576 rules", "merge rules" } },
	{ "max_rules exactly", 100, 100, 0, { "" } },
	{ "one past max_rules", 100, 101, -E2BIG,
	  { "101 policy rules exceed max_rules 100", "default/many",
	    "raise max_rules (at most 1048575", "restart segd" } },
	{ "max_rules above the compiler's limit", SEGD_MAX_RULES + 5,
	  SEGD_MAX_RULES, -E2BIG, { "exceed the limit of 1048575" } },
};

ParameterizedTestParameters(compiler_scale, rule_limits)
{
	return cr_make_param_array(struct limit_case, limits,
				   sizeof(limits) / sizeof(limits[0]));
}

/* Rules without peers or ports compile to nothing; what is checked is
 * the count, before any work (the refusals), and the ids given. */
ParameterizedTest(struct limit_case *c, compiler_scale, rule_limits,
		  .fini = fini, .timeout = 60)
{
	struct seg_error err = { 0 };
	struct seg_policy *p;
	int rc;

	w_init();
	W.max_rules = c->max_rules;
	p = pol("default", "many", "", true, false);
	free(p->rules);
	p->rules = calloc(c->n_rules, sizeof(*p->rules));
	cr_assert(p->rules);
	p->n_rules = c->n_rules;
	rc = seg_compile(&W, &C, &err);
	cr_assert_eq(rc, c->ret, "%s: %d %s", c->name, rc, err.msg);
	for (size_t i = 0; i < 4 && c->msg[i][0]; i++)
		cr_assert(strstr(err.msg, c->msg[i]), "%s: '%s' not in: %s",
			  c->name, c->msg[i], err.msg);
	if (rc)
		return;
	cr_assert_eq(C.n_rules, c->n_rules, "%s", c->name);
	cr_assert_eq(C.rules[C.n_rules - 1].rule_id, c->n_rules, "%s", c->name);
}

/* CIDR peers that select endpoints (policy_cidr_match all) take each
 * endpoint identity with an address inside and outside every except,
 * however the addresses interleave with other prefixes' */
Test(compiler_scale, cidr_peers_select_endpoints, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	w_init();
	ns("shop", "");
	ep("shop", "web", "app=web", "10.200.1.10", NULL);
	ep("shop", "in1", "app=in", "10.9.0.1", NULL);
	ep("shop", "in2", "app=in", "10.9.0.200", "fd00::9");
	ep("shop", "ex", "app=in", "10.9.0.130", NULL);
	ep("shop", "out", "app=out", "10.10.0.1", NULL);
	ep("shop", "six", "app=six", "fd00::1:5", NULL);
	p = pol("shop", "p", "app=web", true, false);
	r = allow(p, ING);
	cidr(r, "10.9.0.0/24", "10.9.0.128/27", NULL);
	port(r, TCP, 80, 0);
	r = allow(p, ING);
	cidr(r, "fd00::1:0/112", NULL, NULL);
	port(r, TCP, 81, 0);
	r = allow(p, ING);
	cidr(r, "10.9.0.1/32", NULL, NULL);     /* a prefix in the first one */
	port(r, TCP, 82, 0);
	compile();
	CHECK({ "10.9.0.1", "10.200.1.10", TCP, 80, A },
	      { "10.9.0.200", "10.200.1.10", TCP, 80, A },
	      { "fd00::9", "10.200.1.10", TCP, 80, A },  /* in2's other address */
	      { "10.9.0.130", "10.200.1.10", TCP, 80, D }, /* in the except */
	      { "10.10.0.1", "10.200.1.10", TCP, 80, D },
	      { "fd00::1:5", "10.200.1.10", TCP, 81, A },
	      { "fd00::1:5", "10.200.1.10", TCP, 80, D },
	      { "10.9.0.1", "10.200.1.10", TCP, 82, A },
	      { "10.9.0.200", "10.200.1.10", TCP, 82, D },
	      { "10.9.0.77", "10.200.1.10", TCP, 80, A },  /* no endpoint */
	      { "10.9.0.140", "10.200.1.10", TCP, 80, D });
}
