/* test_compiler.c - the pure compiler (core/compile/compiler.c), worlds built in C:
 * identities, the exact ipcache, enforcement and K8s selection semantics.
 * Deny-beats-allow, port decomposition, capacity and ordering cases are in
 * test_compiler_rules.c; the world builder and oracle in compiler_fixtures.h.
 */
#include "compiler_fixtures.h"

/* ---- identities ----------------------------------------------------------- */

Test(compiler, identities_shared_and_stable, .fini = fini)
{
	uint32_t web, web2, db, webd;

	base_world();
	compile();
	web = id_of("10.200.0.1");
	web2 = id_of("10.200.0.2");
	db = id_of("10.200.0.3");
	webd = id_of("10.200.1.1");
	cr_assert_eq(web, web2, "same ns+labels share an identity");
	cr_assert_neq(web, db);
	cr_assert_neq(web, webd, "same labels, other namespace");
	cr_assert_eq(id_of("fd00:200::3"), db);
	cr_assert_geq(web, SEGD_ID_FIRST_ENDPOINT);
	cr_assert_leq(web, SEGD_ID_LAST_ENDPOINT);
	cr_assert_eq(id_of("10.200.255.1"), SEGD_ID_HOST);
	cr_assert_eq(id_of("203.0.113.9"), SEGD_ID_WORLD);
	cr_assert_eq(id_of("2001:db8::9"), SEGD_ID_WORLD_V6);
	for (size_t i = 1; i < C.n_identities; i++)
		cr_assert_lt(C.identities[i - 1].id, C.identities[i].id);
	cr_assert_eq(C.n_identities, 3 + 6);

	/* compile again: identical output */
	{
		struct seg_compiled c1 = C;

		memset(&C, 0, sizeof(C));
		compile();
		cr_assert_eq(c1.n_identities, C.n_identities);
		cr_assert_eq(c1.n_exact, C.n_exact);
		cr_assert_eq(memcmp(c1.exact, C.exact, C.n_exact * sizeof(*C.exact)), 0);
		for (size_t i = 0; i < C.n_identities; i++) {
			cr_assert_eq(c1.identities[i].id, C.identities[i].id);
			cr_assert_str_eq(c1.identities[i].key, C.identities[i].key);
		}
		seg_compiled_free(&c1);
	}
	/* reverse the endpoint order: same ids */
	for (size_t i = 0; i < W.n_endpoints / 2; i++) {
		struct seg_endpoint t = W.endpoints[i];

		W.endpoints[i] = W.endpoints[W.n_endpoints - 1 - i];
		W.endpoints[W.n_endpoints - 1 - i] = t;
	}
	compile();
	cr_assert_eq(id_of("10.200.0.1"), web);
	cr_assert_eq(id_of("10.200.0.3"), db);
	cr_assert_eq(id_of("10.200.1.1"), webd);
}

Test(compiler, identity_key_format, .fini = fini)
{
	bool found = false;

	base_world();
	compile();
	for (size_t i = 0; i < C.n_identities; i++)
		if (!strcmp(C.identities[i].key, "ep:prod\napp=cache\ntier=be\n"))
			found = true;
	cr_assert(found);
}

Test(compiler, duplicate_ip_names_both, .fini = fini)
{
	struct seg_error err = { 0 };

	base_world();
	ep("dev", "dup", "app=zz", "10.200.0.3", NULL);
	cr_assert_eq(seg_compile(&W, &C, &err), -EINVAL);
	cr_assert(strstr(err.msg, "prod/db-1") && strstr(err.msg, "dev/dup"),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "10.200.0.3"), "%s", err.msg);
	cr_assert_eq(C.n_identities, 0);
}

Test(compiler, exact_entries, .fini = fini)
{
	const struct seg_ipc_exact_entry *e;

	base_world();
	compile();
	cr_assert_eq(C.n_exact, 9);
	e = exact_of("10.200.0.3");
	cr_assert_eq(e->value.ifindex, 103);
	cr_assert_eq(e->value.endpoint_id, 3);
	cr_assert(e->value.flags & SEGD_EPF_LOCAL);
	e = exact_of("10.200.255.1");
	cr_assert_eq(e->value.identity, SEGD_ID_HOST);
	cr_assert_eq(e->value.flags, 0);
	for (size_t i = 1; i < C.n_exact; i++)
		cr_assert_lt(memcmp(&C.exact[i - 1].addr, &C.exact[i].addr, 16), 0);
	/* always the two world prefixes */
	cr_assert_eq(C.n_prefixes, 2);
}

/* ---- enforcement and K8s semantics --------------------------------------- */

Test(compiler, not_selected_is_allow_all, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "db-ingress", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	compile();
	cr_assert(flags_of("10.200.0.3") & SEGD_EPF_ENFORCE_INGRESS);
	cr_assert_not(flags_of("10.200.0.3") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert_not(flags_of("10.200.0.1") & (SEGD_EPF_ENFORCE_INGRESS |
						SEGD_EPF_ENFORCE_EGRESS));
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, A },
		{ "10.200.0.2", "10.200.0.3", UDP, 53, A },
		{ "10.200.0.4", "10.200.0.3", TCP, 5432, D },   /* default deny */
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, D },   /* web in dev */
		{ "203.0.113.5", "10.200.0.3", TCP, 5432, D },
		{ "10.200.0.3", "10.200.0.4", TCP, 6379, A },   /* egress not enforced */
		{ "10.200.0.3", "203.0.113.5", TCP, 443, A },
		{ "10.200.0.4", "10.200.0.1", TCP, 80, A },     /* web not selected */
		{ "10.200.0.1", "fd00:200::3", TCP, 5432, A },
	);
}

Test(compiler, default_deny_policy, .fini = fini)
{
	struct seg_policy *p;
	uint32_t rid = 99;

	base_world();
	pol("prod", "deny-all", "", true, true);   /* no rules */
	compile();
	cr_assert_eq(seg_compiled_decide(&C, id_of("10.200.0.1"), id_of("10.200.0.2"),
					 ING, TCP, 80, &rid), D);
	cr_assert_eq(rid, 0);
	CHECK(
		{ "10.200.0.1", "10.200.0.2", TCP, 80, D },
		{ "10.200.1.1", "10.200.1.2", TCP, 80, A },     /* dev untouched */
		{ "10.200.1.1", "10.200.0.1", TCP, 80, D },
		{ "10.200.0.4", "203.0.113.1", UDP, 53, D },
	);
	(void)p;
}

Test(compiler, and_vs_or_peers, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	/* AND: one peer with pod and namespace selectors (web in dev) */
	p = pol("prod", "and", "app=db", true, false);
	pods(allow(p, ING), "app=web", "env=dev");
	/* OR: two peers - tool pods (own ns = prod: none) or any pod in dev */
	p = pol("prod", "or", "app=cache", true, false);
	r = allow(p, ING);
	pods(r, "app=web", NULL);
	pods(r, "", "env=dev");
	compile();
	CHECK(
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, A },   /* web in dev */
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, D },   /* web in prod: not AND */
		{ "10.200.1.2", "10.200.0.3", TCP, 5432, D },   /* tool in dev */
		{ "10.200.0.1", "10.200.0.4", TCP, 6379, A },   /* web in prod (OR 1) */
		{ "10.200.1.2", "10.200.0.4", TCP, 6379, A },   /* anything in dev (OR 2) */
		{ "10.200.1.1", "10.200.0.4", TCP, 6379, A },
		{ "10.200.2.1", "10.200.0.4", TCP, 6379, D },   /* ns other */
	);
}

Test(compiler, namespace_selection_and_unlisted_ns, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	/* select by the automatic namespace label of an unlisted namespace */
	p = pol("prod", "from-other", "app=web", true, false);
	pods(allow(p, ING), "", "kubernetes.io/metadata.name=other");
	/* subject across namespaces: every web pod in env in (prod|dev) */
	p = pol("prod", "web-egress", "app=web", false, true);
	p->has_subject_ns = true;
	sel(&p->subject_namespaces, "env in prod|dev");
	pods(allow(p, EGR), "app=db", "env=prod");
	compile();
	cr_assert(flags_of("10.200.1.1") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert_not(flags_of("10.200.1.1") & SEGD_EPF_ENFORCE_INGRESS);
	cr_assert(flags_of("10.200.0.1") & SEGD_EPF_ENFORCE_EGRESS);
	cr_assert(flags_of("10.200.0.1") & SEGD_EPF_ENFORCE_INGRESS);
	CHECK(
		{ "10.200.2.1", "10.200.0.1", TCP, 80, A },
		{ "10.200.1.2", "10.200.0.1", TCP, 80, D },
		{ "10.200.1.1", "10.200.0.3", TCP, 5432, A },
		{ "10.200.1.1", "10.200.0.4", TCP, 6379, D },
		{ "10.200.1.1", "10.200.1.2", TCP, 22, D },
		{ "10.200.0.2", "10.200.0.3", TCP, 5432, A },
	);
}

Test(compiler, selector_ops, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	p = pol("prod", "ops", "app=db", true, false);
	pods(allow(p, ING), "app notin web|db,!tier", NULL);   /* nothing in prod... */
	pods(allow(p, ING), "tier", NULL);                      /* cache */
	compile();
	CHECK(
		{ "10.200.0.4", "10.200.0.3", TCP, 1, A },
		{ "10.200.0.1", "10.200.0.3", TCP, 1, D },
	);
}

Test(compiler, ipblock_except_and_world, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "egress", "app=web", false, true);
	r = allow(p, EGR);
	cidr(r, "203.0.113.0/24", "203.0.113.128/25", "203.0.113.7/32");
	port(r, TCP, 443, 0);
	r = allow(p, EGR);
	cidr(r, "0.0.0.0/0", "10.0.0.0/8", NULL);
	port(r, UDP, 53, 0);
	r = allow(p, EGR);
	cidr(r, "2001:db8::/32", NULL, NULL);
	p = pol("prod", "db-world", "app=db", false, true);
	peer(allow(p, EGR), SEG_PEER_WORLD);
	compile();
	cr_assert_eq(C.n_prefixes, 2 + 5);  /* /24, /25, /32, 10/8, 2001:db8::/32 */
	cr_assert_neq(id_of("203.0.113.200"), id_of("203.0.113.5"));
	CHECK(
		{ "10.200.0.1", "203.0.113.5", TCP, 443, A },
		{ "10.200.0.1", "203.0.113.5", TCP, 80, D },
		{ "10.200.0.1", "203.0.113.7", TCP, 443, D },   /* except /32 */
		{ "10.200.0.1", "203.0.113.200", TCP, 443, D }, /* except /25 */
		{ "10.200.0.1", "198.51.100.1", TCP, 443, D },
		{ "10.200.0.1", "198.51.100.1", UDP, 53, A },   /* 0/0 -> WORLD */
		{ "10.200.0.1", "203.0.113.200", UDP, 53, A },  /* subprefix of 0/0 */
		{ "10.200.0.1", "10.9.9.9", UDP, 53, D },       /* except 10/8 */
		{ "10.200.0.1", "2001:db8::1", UDP, 53, A },
		{ "10.200.0.1", "2001:db9::1", UDP, 53, D },    /* v4 0/0 is not v6 */
		/* an except excludes an endpoint's address as any other */
		{ "10.200.0.1", "10.200.0.3", UDP, 53, D },
		/* WORLD: everything unknown, v4 and v6, and every CIDR id */
		{ "10.200.0.3", "8.8.8.8", TCP, 1, A },
		{ "10.200.0.3", "2606:4700::1", TCP, 1, A },
		{ "10.200.0.3", "203.0.113.7", TCP, 1, A },
		{ "10.200.0.3", "10.9.9.9", TCP, 1, A },
		{ "10.200.0.3", "10.200.0.1", TCP, 1, D },      /* endpoint */
		{ "10.200.0.3", "10.200.255.1", TCP, 1, D },    /* host */
	);
}

Test(compiler, v6_zero_is_v6_only, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "v6", "app=web", false, true);
	r = allow(p, EGR);
	cidr(r, "::/0", NULL, NULL);
	r = allow(p, EGR);
	cidr(r, "fd00:abcd::/32", "fd00:abcd:1::/48", NULL);
	port(r, TCP, 22, 0);
	compile();
	CHECK(
		{ "10.200.0.1", "2001:db8::1", TCP, 80, A },
		{ "10.200.0.1", "203.0.113.1", TCP, 80, D },
		{ "10.200.0.1", "fd00:200::3", TCP, 80, A },    /* db endpoint v6 */
		{ "10.200.0.1", "fd00:abcd::1", TCP, 80, A },   /* in ::/0 */
		{ "10.200.0.1", "fd00:abcd:1::1", TCP, 22, A }, /* ::/0 covers */
	);
	seg_compiled_free(&C);
	W.policies[0].rules[0].peers[0].kind = SEG_PEER_HOST;
	compile();
	CHECK(
		{ "10.200.0.1", "fd00:abcd::1", TCP, 22, A },
		{ "10.200.0.1", "fd00:abcd:1::1", TCP, 22, D },
		{ "10.200.0.1", "fd00:abcd::1", TCP, 23, D },
		{ "10.200.0.1", "10.200.255.1", TCP, 23, A },   /* host peer */
	);
}


/* ---- remote endpoints (pods of other nodes) ---------------------------------- */

/* A remote pod has the identity of its label set, shared with local pods
 * of the same labels, and its address is in the ipcache; it is never a
 * local side (no LOCAL flag, ifindex or endpoint id), and a policy that
 * selects its labels as peers matches it. */
Test(compiler, remote_endpoint_identity_and_peer, .fini = fini)
{
	struct seg_endpoint *r, *r2;
	struct seg_policy *p;
	struct seg_rule *rl;
	const struct seg_ipc_exact_entry *x;

	w_init();
	ns("shop", "team=shop");
	ep("shop", "api", "app=api", "10.200.1.20", NULL);
	ep("shop", "web", "app=web", "10.200.1.10", NULL);
	r = ep("shop", "web-remote", "app=web", "10.201.0.10", NULL);
	r->remote = true;
	r->ifindex = 0;
	r2 = ep("shop", "batch-remote", "app=batch", "10.201.0.11", NULL);
	r2->remote = true;
	r2->ifindex = 0;
	p = pol("shop", "api-in", "app=api", true, false);
	rl = allow(p, ING);
	pods(rl, "app=web", NULL);
	port(rl, TCP, 8080, 0);
	compile();

	x = exact_of("10.201.0.10");
	cr_assert_not_null(x, "a remote pod's address is in the exact ipcache");
	cr_assert_eq(x->value.identity, id_of("10.200.1.10"),
		     "same labels as the local web pod: same identity");
	cr_assert_eq(x->value.flags & SEGD_EPF_LOCAL, 0u);
	cr_assert_eq(x->value.ifindex, 0u);
	cr_assert_eq(x->value.endpoint_id, 0u);
	cr_assert_neq(id_of("10.201.0.11"), id_of("10.200.1.10"));
	cr_assert_neq(id_of("10.201.0.11"), SEGD_ID_WORLD, "a remote pod is not world");
	cr_assert_eq(flow("10.201.0.10", "10.200.1.20", TCP, 8080), A,
		     "remote web -> local api: selected by app=web");
	cr_assert_eq(flow("10.201.0.11", "10.200.1.20", TCP, 8080), D,
		     "remote batch -> local api: not selected");
	cr_assert_eq(flow("10.201.0.10", "10.200.1.20", TCP, 9090), D);
}
