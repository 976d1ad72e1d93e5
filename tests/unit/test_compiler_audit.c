/* test_compiler_audit.c - audit mode in the compiler (compiler_entries.c,
 * combine_audit): per policy and per namespace; an audit decision passes
 * (ALLOW + SEGD_POLF_AUDIT) exactly where enforcement allows and the
 * audit-mode policies, counted as enforced, would deny (docs/policy.md).
 */
#include "compiler_fixtures.h"

#define U 3     /* expected: passes, reported as audit */

/* db-1's decision for a flow from `remote`: A, D or U, and the rule id */
static int decide(const char *local, const char *remote, int dir,
		  uint8_t proto, uint16_t port, uint32_t *rid)
{
	uint8_t polf = 0;
	enum segd_verdict v;

	v = seg_compiled_decide_flags(&C, id_of(local), id_of(remote), dir,
				      proto, port, rid, &polf);
	if (v == A && (polf & SEGD_POLF_AUDIT))
		return U;
	cr_assert(!(polf & SEGD_POLF_AUDIT), "audit flag on a DENY entry");
	return v;
}

static const char *vname(int v)
{
	return v == A ? "ALLOW" : v == D ? "DENY" : v == U ? "AUDIT" : "?";
}

/* one decision of one local endpoint: (local, remote, dir, proto, port)
 * -> verdict and rule id (the rule of policy `pol`, index `rule`, or 0) */
struct acase {
	char local[32], remote[32];
	int dir;
	uint8_t proto;
	uint16_t port;
	int want;
	char pol[32];       /* "" = rule id 0 */
	uint32_t rule;      /* index in that policy */
};

static uint32_t rule_id_of(const char *policy, uint32_t index)
{
	for (size_t i = 0; i < C.n_rules; i++)
		if (!strcmp(C.rules[i].policy_name, policy) &&
		    C.rules[i].rule_index == index)
			return C.rules[i].rule_id;
	cr_assert_fail("no rule %s[%u]", policy, index);
	return 0;
}

static void check_decisions(const struct acase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t rid = 0, want_rid = t[i].pol[0] ?
					     rule_id_of(t[i].pol, t[i].rule) : 0;
		int v = decide(t[i].local, t[i].remote, t[i].dir, t[i].proto,
			       t[i].port, &rid);

		cr_expect_eq(v, t[i].want, "row %zu: %s %s %s proto %u port %u: "
			     "got %s want %s", i, t[i].local,
			     t[i].dir == ING ? "<-" : "->", t[i].remote,
			     t[i].proto, t[i].port, vname(v), vname(t[i].want));
		cr_expect_eq(rid, want_rid, "row %zu: rule id %u want %u", i,
			     rid, want_rid);
	}
}
#define DECIDE(...) do { \
	static const struct acase t_[] = { __VA_ARGS__ }; \
	check_decisions(t_, sizeof(t_) / sizeof(t_[0])); \
} while (0)

#define DB "10.200.0.3"
#define WEB "10.200.0.1"
#define CACHE "10.200.0.4"
#define OUT "203.0.113.9"

Test(compiler_audit, audit_only_endpoint, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;
	bool found = false;

	base_world();
	p = pol("prod", "db-audit", "app=db", true, false);
	p->audit = true;
	r = allow(p, ING);
	pods(r, "app=web", NULL);
	port(r, TCP, 5432, 0);
	compile();
	cr_assert(flags_of(DB) & SEGD_EPF_ENFORCE(ING), "audit keeps ENFORCE");
	cr_assert(!(flags_of(DB) & SEGD_EPF_ENFORCE(EGR)));
	DECIDE(
		{ DB, WEB, ING, TCP, 5432, A, "db-audit", 0 },
		{ DB, WEB, ING, TCP, 22, U, "", 0 },
		{ DB, CACHE, ING, TCP, 5432, U, "", 0 },
		{ DB, OUT, ING, UDP, 53, U, "", 0 },
		{ DB, OUT, EGR, TCP, 443, A, "", 0 },      /* egress not enforced */
	);
	/* the default is the least specific key of the chain */
	for (size_t i = 0; i < C.n_entries; i++) {
		const struct seg_policy_entry *e = &C.entries[i];

		if (e->key.local_id != id_of(DB) || e->key.remote_id != SEGD_ID_ANY ||
		    e->key.proto != 0 || e->key.port_kind != SEGD_PORT_ANY)
			continue;
		cr_assert_eq(e->key.dir, ING);
		cr_assert_eq(e->value.verdict, SEGD_VERDICT_ALLOW);
		cr_assert_eq(e->value.flags, SEGD_POLF_AUDIT);
		cr_assert_eq(e->value.rule_id, 0);
		found = true;
	}
	cr_assert(found, "no catch-all audit entry");
	/* end to end: an audit decision lets the flow through */
	CHECK({ CACHE, DB, TCP, 5432, A });
}

Test(compiler_audit, audit_deny_inside_enforced_allow, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "allow-web", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	p = pol("prod", "no-ssh", "app=db", true, false);
	p->audit = true;
	r = deny(p, ING);
	r->all_peers = true;
	port(r, TCP, 22, 0);
	allow(p, ING)->all_peers = true;     /* audit allows are no-ops here */
	compile();
	DECIDE(
		{ DB, WEB, ING, TCP, 22, U, "no-ssh", 0 },
		{ DB, WEB, ING, TCP, 80, A, "allow-web", 0 },
		{ DB, WEB, ING, UDP, 22, A, "allow-web", 0 },
		{ DB, CACHE, ING, TCP, 22, D, "", 0 },     /* enforced default */
		{ DB, CACHE, ING, TCP, 80, D, "", 0 },     /* audit allow opens nothing */
	);
}

Test(compiler_audit, audit_deny_outside_enforced_allow, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "allow-web-80", "app=db", true, false);
	r = allow(p, ING);
	pods(r, "app=web", NULL);
	port(r, TCP, 80, 0);
	p = pol("prod", "deny-cache", "app=db", true, false);
	p->audit = true;
	pods(deny(p, ING), "app=cache", NULL);
	compile();
	DECIDE(
		{ DB, CACHE, ING, TCP, 80, D, "", 0 },
		{ DB, CACHE, ING, TCP, 443, D, "", 0 },
		{ DB, WEB, ING, TCP, 80, A, "allow-web-80", 0 },
		{ DB, WEB, ING, TCP, 81, D, "", 0 },
	);
}

Test(compiler_audit, enforced_deny_beats_audit, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "a-audit", "app=db", true, false);   /* lower rule ids */
	p->audit = true;
	r = deny(p, ING);
	pods(r, "app=web", NULL);
	port(r, TCP, 1, 1024);
	p = pol("prod", "b-enforce", "app=db", true, false);
	allow(p, ING)->all_peers = true;
	r = deny(p, ING);
	pods(r, "app=web", NULL);
	port(r, TCP, 22, 0);
	compile();
	DECIDE(
		{ DB, WEB, ING, TCP, 22, D, "b-enforce", 1 },
		{ DB, WEB, ING, TCP, 80, U, "a-audit", 0 },
		{ DB, WEB, ING, TCP, 2000, A, "b-enforce", 0 },
		{ DB, CACHE, ING, TCP, 80, A, "b-enforce", 0 },
	);
}

Test(compiler_audit, namespace_mode_turns_its_policies_audit, .fini = fini)
{
	static const struct acase enforced[] = {
		{ DB, WEB, ING, TCP, 5432, A, "db", 0 },
		{ DB, CACHE, ING, TCP, 5432, D, "", 0 },
		{ "10.200.1.1", "10.200.1.2", ING, TCP, 80, D, "", 0 },
	};
	static const struct acase audited[] = {
		{ DB, WEB, ING, TCP, 5432, A, "db", 0 },
		{ DB, CACHE, ING, TCP, 5432, U, "", 0 },
		/* dev is not in audit mode */
		{ "10.200.1.1", "10.200.1.2", ING, TCP, 80, D, "", 0 },
	};
	struct seg_policy *p;

	base_world();
	p = pol("prod", "db", "app=db", true, false);
	pods(allow(p, ING), "app=web", NULL);
	pol("dev", "web", "app=web", true, false);
	compile();
	check_decisions(enforced, sizeof(enforced) / sizeof(enforced[0]));
	W.namespaces[0].mode = SEG_MODE_AUDIT;      /* prod */
	compile();
	check_decisions(audited, sizeof(audited) / sizeof(audited[0]));
	W.namespaces[0].mode = SEG_MODE_ENFORCE;
	compile();
	check_decisions(enforced, sizeof(enforced) / sizeof(enforced[0]));
}

/* Audit policies change nothing for the identities they do not select,
 * and nothing at all when none is in audit mode. */
Test(compiler_audit, no_audit_output_unchanged, .fini = fini)
{
	struct seg_compiled before = { 0 };
	struct seg_policy *p;
	struct seg_rule *r;
	uint32_t web = 0;
	size_t nb = 0, na = 0;

	base_world();
	p = pol("prod", "db", "app=db", true, true);
	pods(allow(p, ING), "app=web", NULL);
	r = deny(p, EGR);
	cidr(r, "203.0.113.0/24", NULL, NULL);
	allow(p, EGR)->all_peers = true;
	p = pol("prod", "web", "app=web", true, false);
	r = allow(p, ING);
	peer(r, SEG_PEER_WORLD);
	port(r, TCP, 8000, 8999);
	p = pol("prod", "x-audit", "app=web", false, true);
	pods(allow(p, EGR), "app=db", NULL);
	compile();
	web = id_of(WEB);
	before = C;
	memset(&C, 0, sizeof(C));
	/* the same policy in enforce mode: identical output */
	compile();
	cr_assert_eq(before.n_entries, C.n_entries);
	cr_assert_eq(memcmp(before.entries, C.entries,
			    C.n_entries * sizeof(*C.entries)), 0);
	/* in audit mode: only web's egress entries differ */
	W.policies[2].audit = true;
	compile();
	for (size_t i = 0; i < before.n_entries; i++)
		if (before.entries[i].key.local_id != web ||
		    before.entries[i].key.dir != EGR)
			nb++;
	for (size_t i = 0; i < C.n_entries; i++) {
		const struct seg_policy_entry *e = &C.entries[i];

		if (e->key.local_id == web && e->key.dir == EGR)
			continue;
		cr_assert_lt(na, before.n_entries);
		while (before.entries[na].key.local_id == web &&
		       before.entries[na].key.dir == EGR)
			na++;
		cr_assert_eq(memcmp(e, &before.entries[na], sizeof(*e)), 0,
			     "entry %zu changed", i);
		na++;
		nb--;
	}
	cr_assert_eq(nb, 0, "%zu entries of other identities lost", nb);
	for (size_t i = 0; i < C.n_entries; i++)
		cr_assert(C.entries[i].value.flags == 0 ||
			  (C.entries[i].key.local_id == web &&
			   C.entries[i].key.dir == EGR));
	seg_compiled_free(&before);
}

/* Reference model: for random enforced and audit rules on db-1's ingress,
 * E = enforced rules alone, F = all of them; E denies -> DENY, else F
 * denies -> AUDIT (rule id: an audit deny that matches, else 0), else
 * ALLOW. */
Test(compiler_audit, randomised_against_model, .fini = fini)
{
	unsigned seed = 4242;

	for (int round = 0; round < 60; round++) {
		struct mrule m[10];
		bool audit[10];
		uint32_t rid_of[10];
		int n = 2 + (int)(rand_r(&seed) % 8);
		bool enf_e = round % 4 != 0, enf_a = round % 5 != 1;
		struct seg_policy *pe, *pa;

		base_world();
		pe = pol("prod", "e", "app=db", enf_e, false);
		pa = pol("prod", "a", "app=db", enf_a, false);
		pa->audit = true;
		for (int i = 0; i < n; i++) {
			struct seg_policy *p;

			m[i] = mrule_random(&seed);
			audit[i] = rand_r(&seed) % 2;
			p = audit[i] ? pa : pe;
			if (!p->enforce[ING]) {
				audit[i] = !audit[i];
				p = audit[i] ? pa : pe;
			}
			if (p->enforce[ING])
				mrule_add(p, ING, &m[i]);
		}
		/* rule ids follow (ns, name): a's rules 1..n_a, then e's */
		for (int i = 0, ka = 0, ke = 0; i < n; i++) {
			if (!(audit[i] ? pa : pe)->enforce[ING]) {
				rid_of[i] = 0;
				continue;
			}
			rid_of[i] = audit[i] ? (uint32_t)++ka :
				    (uint32_t)(pa->n_rules + (size_t)++ke);
		}
		compile();
		for (int ri = 0; ri < 3; ri++)
			for (size_t pi = 0; pi < 4; pi++)
				for (size_t qi = 0; qi < 12; qi++) {
					bool ed = false, ea = false, fd = false, fa = false;
					int want, got;
					uint32_t rid;

					for (int i = 0; i < n; i++) {
						if (!rid_of[i] || !mrule_matches(&m[i], ri,
								 mprotos[pi], mports[qi]))
							continue;
						if (!audit[i]) {
							ed |= m[i].deny;
							ea |= !m[i].deny;
						}
						fd |= m[i].deny;
						fa |= !m[i].deny;
					}
					if (enf_e && (ed || !ea))
						want = D;
					else if ((enf_e || enf_a) && (fd || !fa))
						want = U;
					else
						want = A;
					got = decide(DB, mremotes[ri], ING, mprotos[pi],
						     mports[qi], &rid);
					cr_assert_eq(got, want, "round %d remote %d proto "
						     "%u port %u: got %s want %s", round,
						     ri, mprotos[pi], mports[qi],
						     vname(got), vname(want));
					if (got != U)
						continue;
					if (!fd) {
						cr_assert_eq(rid, 0, "round %d", round);
						continue;
					}
					for (int i = 0; i < n; i++)
						if (rid_of[i] == rid) {
							cr_assert(audit[i] && m[i].deny &&
								  mrule_matches(&m[i], ri, mprotos[pi],
										mports[qi]),
								  "round %d: audit rule %u "
								  "does not deny this flow",
								  round, rid);
							rid = 0;
						}
					cr_assert_eq(rid, 0, "round %d: unknown rule", round);
				}
		seg_compiled_free(&C);
		w_fini();
	}
}
