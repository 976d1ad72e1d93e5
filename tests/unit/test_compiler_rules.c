/* test_compiler_rules.c - the pure compiler (core/compile/compiler.c): deny beats
 * allow, port range decomposition, entry order, capacity limits and
 * randomised checks against a reference model (compiler_fixtures.h).
 */
#include "compiler_fixtures.h"

/* ---- deny beats allow ------------------------------------------------------ */

Test(compiler, deny_beats_allow_same_key, .fini = fini)
{
	struct seg_policy *p;
	uint32_t rid;

	base_world();
	p = pol("prod", "b-allow", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	p = pol("prod", "a-deny", "app=db", true, false);
	pods(deny(p, ING), "app=web", NULL);
	compile();
	CHECK({ "10.200.0.1", "10.200.0.3", TCP, 5432, D });
	/* rule ids follow (ns, name): a-deny is rule 1 */
	cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.3"), id_of("10.200.0.1"),
					 ING, TCP, 1, &rid), D);
	cr_assert_eq(rid, 1);
	cr_assert_str_eq(C.rules[0].policy_name, "a-deny");
	cr_assert_eq(C.rules[0].rule_id, 1);
	cr_assert_str_eq(C.rules[1].policy_name, "b-allow");
}

Test(compiler, deny_wildcards_across_policies, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	/* deny any remote port 22 vs allow web all ports */
	p = pol("prod", "allow-web", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	p = pol("prod", "deny-ssh", "app=db", true, false);
	r = deny(p, ING);
	r->all_peers = true;
	port(r, TCP, 22, 0);
	/* deny proto-any from cache vs allow cache TCP 80 */
	p = pol("prod", "allow-cache-80", "app=db", true, false);
	r = allow(p, ING);
	pods(r, "app=cache", NULL);
	port(r, TCP, 80, 0);
	port(r, UDP, 1000, 3000);
	p = pol("prod", "deny-cache", "app=db", true, false);
	pods(deny(p, ING), "app=cache", NULL);
	/* deny range vs allow exact */
	p = pol("dev", "allow-tool", "app=web", true, false);
	r = allow(p, ING);
	pods(r, "app=tool", NULL);
	port(r, TCP, 8080, 0);
	port(r, TCP, 9000, 0);
	port(r, TCP, 1, 65535);
	p = pol("dev", "deny-range", "app=web", true, false);
	r = deny(p, ING);
	pods(r, "app=tool", NULL);
	port(r, TCP, 8000, 8999);
	port(r, 0, 512, 767);
	compile();
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 22, D },
		{ "10.200.0.1", "10.200.0.3", TCP, 23, A },
		{ "10.200.0.1", "10.200.0.3", UDP, 22, A },
		{ "10.200.0.4", "10.200.0.3", TCP, 80, D },
		{ "10.200.0.4", "10.200.0.3", UDP, 2000, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8080, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8000, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 8999, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 7999, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 9000, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 600, D },
		{ "10.200.1.2", "10.200.1.1", TCP, 511, A },
		{ "10.200.1.2", "10.200.1.1", TCP, 768, A },
		{ "10.200.1.2", "10.200.1.1", UDP, 600, D },     /* not allowed anyway */
		{ "10.200.1.2", "10.200.1.1", TCP, 65535, A },
	);
}

/* Exhaustive oracle: the compiled first-hit chain equals "any matching deny
 * wins, else any matching allow, else default deny" for random rule sets. */
Test(compiler, deny_beats_allow_randomised, .fini = fini)
{
	unsigned seed = 12345;

	for (int round = 0; round < 40; round++) {
		struct mrule m[8];
		int n = 2 + (int)(rand_r(&seed) % 6);
		struct seg_policy *p;

		base_world();
		p = pol("prod", "p", "app=db", true, false);
		for (int i = 0; i < n; i++) {
			m[i] = mrule_random(&seed);
			mrule_add(p, ING, &m[i]);
		}
		compile();
		for (int ri = 0; ri < 3; ri++)
			for (size_t pi = 0; pi < 4; pi++)
				for (size_t qi = 0; qi < 12; qi++) {
					bool any_deny = false, any_allow = false;

					for (int i = 0; i < n; i++)
						if (mrule_matches(&m[i], ri, mprotos[pi], mports[qi])) {
							if (m[i].deny)
								any_deny = true;
							else
								any_allow = true;
						}
					cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.3"),
									 id_of(mremotes[ri]), ING,
									 mprotos[pi], mports[qi], NULL),
						     any_deny ? D : any_allow ? A : D,
						     "round %d remote %d proto %u port %u",
						     round, ri, mprotos[pi], mports[qi]);
				}
		seg_compiled_free(&C);
		w_fini();
	}
}

/* ---- ports and hints --------------------------------------------------- */

struct pcase {
	uint8_t proto;
	uint16_t lo, hi;
	size_t exact, block, any;
};

Test(compiler, port_range_decomposition, .fini = fini)
{
	static const struct pcase t[] = {
		{ TCP, 80, 80, 1, 0, 0 },
		{ TCP, 1, 65535, 255, 255, 0 },
		{ TCP, 256, 511, 0, 1, 0 },
		{ TCP, 255, 512, 2, 1, 0 },
		/* 8000-8191 exact, 8192-8959 three blocks, 8960-8999 exact */
		{ TCP, 8000, 8999, 192 + 40, 3, 0 },
		{ 0, 256, 511, 0, 3, 0 },                      /* tcp, udp, sctp */
		{ UDP, 0, 0, 0, 0, 1 },
		{ 0, 0, 0, 0, 0, 1 },
		{ TCP, 65280, 65535, 0, 1, 0 },
		{ TCP, 65535, 65535, 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct seg_policy *p;
		size_t ex = 0, bl = 0, an = 0, want_ex = t[i].exact;

		base_world();
		p = pol("prod", "p", "app=db", true, false);
		port(allow(p, ING), t[i].proto, t[i].lo, t[i].hi);
		if (!t[i].lo && !t[i].proto)
			p->rules[0].all_ports = true;
		p->rules[0].all_peers = true;
		compile();
		for (size_t e = 0; e < C.n_entries; e++) {
			ex += C.entries[e].key.port_kind == SEGD_PORT_EXACT;
			bl += C.entries[e].key.port_kind == SEGD_PORT_BLOCK;
			an += C.entries[e].key.port_kind == SEGD_PORT_ANY;
		}
		cr_expect_eq(ex, want_ex, "case %zu exact %zu", i, ex);
		cr_expect_eq(bl, t[i].block, "case %zu block %zu", i, bl);
		cr_expect_eq(an, t[i].any, "case %zu any %zu", i, an);
		cr_expect_eq(!!(flags_of("10.200.0.3") & SEGD_EPF_HINT_BLOCK(ING)),
			     bl > 0, "case %zu hint", i);
		cr_expect(flags_of("10.200.0.3") & SEGD_EPF_HINT_ANYREM(ING));
		cr_expect_not(flags_of("10.200.0.3") & SEGD_EPF_HINT_ANYREM(EGR));
		seg_compiled_free(&C);
		w_fini();
	}
}

Test(compiler, entries_sorted_and_flags_copied, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "p", "app=web", true, true);
	pods(allow(p, ING), "", NULL);
	port(allow(p, EGR), TCP, 1000, 2000);
	p->rules[1].all_peers = true;
	compile();
	for (size_t i = 1; i < C.n_entries; i++)
		cr_assert_lt(memcmp(&C.entries[i - 1].key, &C.entries[i].key,
				    sizeof(C.entries[i].key)), 0);
	for (size_t i = 0; i < C.n_identities; i++) {
		if (C.identities[i].id != id_of("10.200.0.1"))
			continue;
		cr_assert_eq(C.identities[i].flags | SEGD_EPF_LOCAL,
			     flags_of("10.200.0.1"));
		cr_assert(C.identities[i].flags & SEGD_EPF_HINT_BLOCK(EGR));
		cr_assert(C.identities[i].flags & SEGD_EPF_HINT_ANYREM(EGR));
		cr_assert_not(C.identities[i].flags & SEGD_EPF_HINT_ANYREM(ING));
	}
	cr_assert_eq(flags_of("10.200.0.2"), flags_of("10.200.0.1"));
}

/* ---- capacity ------------------------------------------------------------ */

Test(compiler, capacity_entries, .fini = fini)
{
	struct seg_error err = { 0 };
	char lbl[32], addr[32];
	struct seg_policy *p;
	struct seg_rule *r;

	w_init();
	/* 1000 identities x 1000 remotes > 524288 */
	for (int i = 0; i < 1000; i++) {
		snprintf(lbl, sizeof(lbl), "app=a%d", i);
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 250, i % 250 + 1);
		ep("default", lbl + 4, lbl, addr, NULL);
	}
	p = pol("default", "big", "", true, false);
	r = allow(p, ING);
	pods(r, "", NULL);
	cr_assert_eq(seg_compile(&W, &C, &err), -E2BIG);
	cr_assert(strstr(err.msg, "524288"), "%s", err.msg);
	cr_assert_eq(C.n_entries, 0);
}

Test(compiler, capacity_exact, .fini = fini)
{
	struct seg_error err = { 0 };
	char name[32], addr[32];

	w_init();
	free(W.endpoints);
	W.endpoints = calloc(SEGD_MAX_IPC_EXACT / 8 + 2, sizeof(*W.endpoints));
	for (int i = 0; i < SEGD_MAX_IPC_EXACT / 8 + 1; i++) {
		struct seg_endpoint *e = &W.endpoints[W.n_endpoints++];

		snprintf(name, sizeof(name), "e%d", i);
		e->name = strdup(name);
		e->ns = strdup("default");
		for (int j = 0; j < 8; j++) {
			snprintf(addr, sizeof(addr), "10.%d.%d.%d", j, i / 256, i % 256);
			e->ips[e->n_ips++] = ip(addr);
		}
	}
	cr_assert_eq(seg_compile(&W, &C, &err), -E2BIG);
	cr_assert(strstr(err.msg, "131072"), "%s", err.msg);
}

Test(compiler, empty_world, .fini = fini)
{
	w_init();
	compile();
	cr_assert_eq(C.n_entries, 0);
	cr_assert_eq(C.n_prefixes, 2);
	cr_assert_eq(C.n_identities, 3);
	cr_assert_eq(seg_compiled_decide(&C, 12345, SEGD_ID_WORLD, ING, TCP, 80,
					 NULL), A);
}

Test(compiler, output_independent_of_input_order, .fini = fini)
{
	struct seg_compiled c1;
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "zeta", "app=db", true, true);
	pods(allow(p, ING), "app=web", NULL);
	r = deny(p, EGR);
	r->all_peers = true;
	port(r, TCP, 25, 0);
	peer(allow(p, EGR), SEG_PEER_WORLD);
	p = pol("dev", "alpha", "", true, false);
	r = allow(p, ING);
	cidr(r, "198.51.100.0/24", NULL, NULL);
	port(r, 0, 1000, 1999);
	compile();
	c1 = C;
	memset(&C, 0, sizeof(C));
	{
		struct seg_policy t = W.policies[0];

		W.policies[0] = W.policies[1];
		W.policies[1] = t;
	}
	compile();
	cr_assert_eq(C.n_entries, c1.n_entries);
	cr_assert_eq(memcmp(C.entries, c1.entries, C.n_entries * sizeof(*C.entries)), 0);
	cr_assert_eq(C.n_prefixes, c1.n_prefixes);
	cr_assert_eq(memcmp(C.prefixes, c1.prefixes, C.n_prefixes * sizeof(*C.prefixes)), 0);
	cr_assert_eq(memcmp(C.exact, c1.exact, C.n_exact * sizeof(*C.exact)), 0);
	cr_assert_str_eq(C.rules[0].policy_ns, "dev");   /* sorted by (ns, name) */
	cr_assert_str_eq(C.rules[1].policy_name, "zeta");
	cr_assert_eq(C.rules[3].rule_index, 2);
	seg_compiled_free(&c1);
	CHECK(
		{ "10.200.0.3", "8.8.8.8", TCP, 25, D },
		{ "10.200.0.3", "8.8.8.8", TCP, 26, A },
		{ "198.51.100.7", "10.200.1.1", UDP, 1500, A },
		{ "198.51.100.7", "10.200.1.1", IPPROTO_ICMP, 0, D },
	);
}

Test(compiler, bad_port_range, .fini = fini)
{
	struct seg_error err = { 0 };
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "bad", "app=db", true, false);
	r = allow(p, ING);
	r->all_peers = true;
	r->all_ports = false;
	r->ports[r->n_ports++] = (struct seg_port){ .proto = TCP, .port_lo = 90, .port_hi = 80 };
	cr_assert_eq(seg_compile(&W, &C, &err), -EINVAL);
	cr_assert(strstr(err.msg, "prod/bad"), "%s", err.msg);
}
