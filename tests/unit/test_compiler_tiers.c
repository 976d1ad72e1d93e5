/* test_compiler_tiers.c - ClusterNetworkPolicy tiers (compiler_tiers.c)
 * against a reference evaluator written here: a plain loop over the tiers,
 * policies and rules as the API describes them, on random worlds, for
 * every (local endpoint, remote, direction, protocol, port); plus the
 * API's own stories as tables. */
#include "compiler_fixtures.h"
#include "explain_tiers.h"

/* ---- the reference: the API's evaluation order, literally ------------------- */

#define T_NS 3
#define T_EPS 8
static const char *const t_outside = "192.0.2.7";

static const struct seg_labels *ns_labels(const char *name)
{
	for (size_t i = 0; i < W.n_namespaces; i++)
		if (!strcmp(W.namespaces[i].name, name))
			return &W.namespaces[i].labels;
	return NULL;
}

/* remote: an endpoint index, or -1 for t_outside */
static bool in_cidr(const struct seg_peer *pe, int remote)
{
	struct seg_cidr host = { .plen = 128 };

	host.addr = remote < 0 ? ip(t_outside) : W.endpoints[remote].ips[0];
	if (!seg_cidr_contains(&pe->cidr, &host))
		return false;
	for (size_t i = 0; i < pe->n_except; i++)
		if (seg_cidr_contains(&pe->except[i], &host))
			return false;
	return true;
}

static bool ref_peer(const struct seg_policy *p, const struct seg_peer *pe,
		     int remote)
{
	const struct seg_endpoint *e = remote < 0 ? NULL : &W.endpoints[remote];

	switch (pe->kind) {
	case SEG_PEER_ALL:
		return true;
	case SEG_PEER_CIDR:
		return in_cidr(pe, remote);
	case SEG_PEER_ENDPOINTS:
		if (!e)
			return false;
		if (pe->has_namespaces ?
		    !seg_selector_matches(&pe->namespaces, ns_labels(e->ns)) :
		    strcmp(e->ns, p->ns))
			return false;
		return seg_selector_matches(&pe->pods, &e->labels);
	default:
		return false;   /* SEG_PEER_NONE */
	}
}

static bool ref_port(const struct seg_rule *r, uint8_t proto, uint16_t port)
{
	if (r->all_ports)
		return true;
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct seg_port *sp = &r->ports[i];
		bool l4 = proto == TCP || proto == UDP || proto == SCTP;

		if (sp->proto ? sp->proto != proto : sp->port_lo && !l4)
			continue;
		if (!sp->port_lo || (port >= sp->port_lo && port <= sp->port_hi))
			return true;
	}
	return false;
}

static bool ref_rule(const struct seg_policy *p, const struct seg_rule *r,
		     int remote, uint8_t proto, uint16_t port)
{
	bool peer = r->all_peers;

	for (size_t i = 0; i < r->n_peers && !peer; i++)
		peer = ref_peer(p, &r->peers[i], remote);
	return peer && ref_port(r, proto, port);
}

static bool ref_subject(const struct seg_policy *p, const struct seg_endpoint *e)
{
	if (p->has_subject_ns ?
	    !seg_selector_matches(&p->subject_namespaces, ns_labels(e->ns)) :
	    strcmp(e->ns, p->ns))
		return false;
	return seg_selector_matches(&p->subject, &e->labels);
}

/* policies of a tier in the API's order: priority, then name */
static size_t tier_order(enum seg_tier tier, size_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < W.n_policies; i++)
		if (W.policies[i].kind == SEG_KIND_CNP && W.policies[i].tier == tier)
			out[n++] = i;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			const struct seg_policy *a = &W.policies[out[j - 1]];
			const struct seg_policy *b = &W.policies[out[j]];
			size_t t;

			if (a->priority < b->priority ||
			    (a->priority == b->priority && strcmp(a->name, b->name) <= 0))
				break;
			t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

struct ref_out {
	bool deny;
	const struct seg_policy *p;   /* the ClusterNetworkPolicy that decided */
	size_t rule;
};

/* A CNP tier: 1 = decided (o), 0 = passed or nothing matched */
static int ref_cnp_tier(enum seg_tier tier, bool with_audit, size_t local,
			int remote, int dir, uint8_t proto, uint16_t port,
			struct ref_out *o, bool *passed)
{
	size_t ord[MAX_POLS], n = tier_order(tier, ord);

	for (size_t k = 0; k < n; k++) {
		const struct seg_policy *p = &W.policies[ord[k]];

		if ((p->audit && !with_audit) || !ref_subject(p, &W.endpoints[local]))
			continue;
		for (size_t ri = 0; ri < p->n_rules; ri++) {
			const struct seg_rule *r = &p->rules[ri];

			if (r->dir != dir || !ref_rule(p, r, remote, proto, port))
				continue;
			if (r->action == SEG_ACTION_PASS) {
				*passed = true;
				return 0;
			}
			*o = (struct ref_out){ r->action == SEG_ACTION_DENY, p, ri };
			return 1;
		}
	}
	return 0;
}

static struct ref_out ref_decide(bool with_audit, size_t local, int remote,
				 int dir, uint8_t proto, uint16_t port)
{
	struct ref_out o = { 0 };
	bool isolated = false, allow = false, deny = false, passed = false;

	if (ref_cnp_tier(SEG_TIER_ADMIN, with_audit, local, remote, dir, proto,
			 port, &o, &passed))
		return o;
	for (size_t i = 0; i < W.n_policies; i++) {
		const struct seg_policy *p = &W.policies[i];

		if (p->kind == SEG_KIND_CNP || (p->audit && !with_audit) ||
		    !p->enforce[dir] || !ref_subject(p, &W.endpoints[local]))
			continue;
		isolated = true;
		for (size_t ri = 0; ri < p->n_rules; ri++)
			if (p->rules[ri].dir == dir &&
			    ref_rule(p, &p->rules[ri], remote, proto, port)) {
				deny |= p->rules[ri].action == SEG_ACTION_DENY;
				allow |= p->rules[ri].action != SEG_ACTION_DENY;
			}
	}
	if (isolated)
		return (struct ref_out){ .deny = deny || !allow };
	ref_cnp_tier(SEG_TIER_BASELINE, with_audit, local, remote, dir, proto,
		     port, &o, &passed);
	return o;
}

/* ---- random worlds ------------------------------------------------------------ */

static unsigned t_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static const char *pick(unsigned *s, const char *const *v, size_t n)
{
	return v[t_rand(s) % n];
}
#define PICK(s, ...) ({ static const char *const v_[] = { __VA_ARGS__ }; \
	pick(s, v_, sizeof(v_) / sizeof(v_[0])); })

static void rand_ports(unsigned *s, struct seg_rule *r)
{
	size_t n;

	if (t_rand(s) % 5 < 2)
		return;                          /* every protocol and port */
	n = 1 + t_rand(s) % 2;
	for (size_t i = 0; i < n; i++)
		switch (t_rand(s) % 6) {
		case 0: port(r, TCP, 80, 0); break;
		case 1: port(r, TCP, 80, 81); break;
		case 2: port(r, UDP, 53, 0); break;
		case 3: port(r, 0, 5353, 0); break;          /* every L4 protocol */
		case 4: port(r, TCP, 1, 1023); break;         /* BLOCK keys */
		default: port(r, TCP, 0, 0); break;           /* any TCP port */
		}
}

static void rand_peers(unsigned *s, struct seg_rule *r, bool cnp)
{
	size_t n = 1 + t_rand(s) % 2;

	for (size_t i = 0; i < n; i++) {
		unsigned k = t_rand(s) % 10;

		if (k == 0)
			peer(r, SEG_PEER_ALL);
		else if (k == 1 && cnp)
			peer(r, SEG_PEER_NONE);
		else if (k == 2)
			cidr(r, PICK(s, "192.0.2.0/24", "10.9.1.0/24", "0.0.0.0/0"),
			     NULL, NULL);
		else
			pods(r, PICK(s, "", "app=web", "app=db", "app in web|api"),
			     cnp || t_rand(s) % 2 ? PICK(s, "", "team=a", "team=b") : NULL);
	}
}

static void rand_world(unsigned seed)
{
	unsigned s = seed;
	size_t n_cnp = 1 + t_rand(&s) % 4, n_np = t_rand(&s) % 3;
	static const char *const apps[] = { "app=web", "app=db", "app=api",
					    "app=web,role=x" };

	w_init();
	ns("n0", "team=a");
	ns("n1", "team=b");
	ns("n2", "team=a,env=x");
	for (int i = 0; i < T_EPS; i++) {
		char name[16], addr[32];
		int nsi = (int)(t_rand(&s) % T_NS);

		snprintf(name, sizeof(name), "p%d", i);
		snprintf(addr, sizeof(addr), "10.9.%d.%d", nsi, i + 1);
		ep(W.namespaces[nsi].name, name, apps[t_rand(&s) % 4], addr, NULL);
	}
	for (size_t k = 0; k < n_cnp; k++) {
		char name[16];
		struct seg_policy *p;
		size_t nr = 1 + t_rand(&s) % 4;

		snprintf(name, sizeof(name), "c%zu", k);
		p = pol("", name, PICK(&s, "", "", "app=web", "app=db"), false, false);
		p->kind = SEG_KIND_CNP;
		p->tier = t_rand(&s) % 2 ? SEG_TIER_ADMIN : SEG_TIER_BASELINE;
		p->priority = (int)(t_rand(&s) % 3);   /* ties too */
		p->has_subject_ns = true;
		sel(&p->subject_namespaces, PICK(&s, "", "team=a", "team=b"));
		p->audit = t_rand(&s) % 6 == 0;
		for (size_t ri = 0; ri < nr; ri++) {
			int dir = (int)(t_rand(&s) % 2);
			static const enum seg_action acts[] = {
				SEG_ACTION_ALLOW, SEG_ACTION_DENY, SEG_ACTION_PASS };
			struct seg_rule *r = rule(p, dir, acts[t_rand(&s) % 3]);

			p->enforce[dir] = true;
			if (r->action != SEG_ACTION_ALLOW && t_rand(&s) % 8 == 0)
				r->all_peers = true;    /* a fail-closed rule */
			else
				rand_peers(&s, r, true);
			rand_ports(&s, r);
		}
	}
	for (size_t k = 0; k < n_np; k++) {
		char name[16];
		struct seg_policy *p;
		size_t nr = t_rand(&s) % 4;
		bool ing = t_rand(&s) % 3 != 0;

		snprintf(name, sizeof(name), "np%zu", k);
		p = pol(W.namespaces[t_rand(&s) % T_NS].name, name,
			PICK(&s, "", "app=web", "app=db"), ing,
			!ing || t_rand(&s) % 2);
		p->audit = t_rand(&s) % 6 == 0;
		for (size_t ri = 0; ri < nr; ri++) {
			int dir = p->enforce[ING] && (!p->enforce[EGR] ||
						      t_rand(&s) % 2) ? ING : EGR;
			struct seg_rule *r = rule(p, dir, t_rand(&s) % 4 ?
						  SEG_ACTION_ALLOW : SEG_ACTION_DENY);

			if (t_rand(&s) % 6 == 0)
				r->all_peers = true;
			else
				rand_peers(&s, r, false);
			rand_ports(&s, r);
		}
	}
}

static const struct { uint8_t proto; uint16_t port; } t_probes[] = {
	{ TCP, 80 }, { TCP, 81 }, { TCP, 22 }, { TCP, 1023 }, { TCP, 1024 },
	{ TCP, 8080 }, { UDP, 53 }, { UDP, 5353 }, { TCP, 5353 }, { SCTP, 9003 },
	{ IPPROTO_ICMP, 0 },
};

static char *world_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < W.n_endpoints; i++)
		fprintf(f, "ep %s/%s %s\n", W.endpoints[i].ns, W.endpoints[i].name,
			W.endpoints[i].labels.v[0].value);
	for (size_t i = 0; i < W.n_policies; i++) {
		const struct seg_policy *p = &W.policies[i];

		fprintf(f, "policy %s/%s kind %d tier %d prio %d audit %d rules %zu\n",
			p->ns, p->name, p->kind, p->tier, p->priority, p->audit,
			p->n_rules);
		for (size_t r = 0; r < p->n_rules; r++)
			fprintf(f, "  rule %zu dir %d act %d all_peers %d peers %zu "
				"all_ports %d ports %zu\n", r, p->rules[r].dir,
				p->rules[r].action, p->rules[r].all_peers,
				p->rules[r].n_peers, p->rules[r].all_ports,
				p->rules[r].n_ports);
	}
	fclose(f);
	return buf;
}

/* explain's trace (explain_tiers.c) names the reference's decision: the
 * same verdict, and the ClusterNetworkPolicy rule that decided */
static void check_trace(unsigned seed, uint32_t lid, uint32_t rid, int dir,
			uint8_t pr, uint16_t po, uint32_t rule,
			const struct ref_out *e, bool audit, const struct ref_out *f)
{
	const struct ref_out *want = audit ? f : e;
	struct seg_tier_trace t;
	char name[300];

	cr_assert_eq(seg_explain_tiers(&W, lid, rid, dir, pr, po, audit, rule, &t, NULL),
		     0, "seed %u", seed);
	cr_expect_eq(t.action == SEG_ACTION_DENY, want->deny, "seed %u: dir %d proto %u "
		     "port %u: trace %s (%s)", seed, dir, pr, po, seg_trace_action_name(&t),
		     t.decided_by);
	if (!want->p)
		return;
	seg_rule_label(want->p->kind, want->p->tier, want->p->ns, want->p->name,
		       (uint32_t)want->rule, name, sizeof(name));
	cr_expect_eq(t.by, SEG_TRACE_RULE, "seed %u", seed);
	cr_expect_str_eq(t.decided_by, name, "seed %u", seed);
}

/* every (local, remote, dir, probe) of one world against the reference */
static size_t check_world(unsigned seed)
{
	size_t checked = 0, fails = 0;

	for (size_t l = 0; l < W.n_endpoints; l++) {
		uint32_t lid = seg_compiled_identity_of(&C, &W.endpoints[l].ips[0]);

		for (int remote = -1; remote < (int)W.n_endpoints; remote++) {
			uint32_t rid;

			if (remote == (int)l)
				continue;
			rid = remote < 0 ? id_of(t_outside) :
			      seg_compiled_identity_of(&C, &W.endpoints[remote].ips[0]);
			for (int dir = 0; dir < 2; dir++)
				for (size_t t = 0; t < sizeof(t_probes) / sizeof(t_probes[0]); t++) {
					uint8_t pr = t_probes[t].proto;
					uint16_t po = t_probes[t].port;
					struct ref_out e = ref_decide(false, l, remote, dir, pr, po);
					struct ref_out f = ref_decide(true, l, remote, dir, pr, po);
					enum segd_verdict want = e.deny ? D : A;
					bool want_audit = !e.deny && f.deny;
					uint32_t rule = 0;
					uint8_t polf = 0;
					enum segd_verdict got;

					got = seg_compiled_decide_flags(&C, lid, rid, dir, pr,
									po, &rule, &polf);
					checked++;
					if (got != want ||
					    !!(polf & SEGD_POLF_AUDIT) != want_audit) {
						if (fails++ < 3) {
							char *txt = world_text();

							cr_log_error("seed %u: p%zu %s remote %d dir %d "
								     "proto %u port %u: got %s%s "
								     "want %s%s\n%s", seed, l,
								     dir ? "egress" : "ingress",
								     remote, dir, pr, po,
								     got == A ? "allow" : "deny",
								     polf & SEGD_POLF_AUDIT ? "+audit" : "",
								     want == A ? "allow" : "deny",
								     want_audit ? "+audit" : "", txt);
							free(txt);
						}
						continue;
					}
					if (checked % 7 == 0)   /* a sample: it compiles anew */
						check_trace(seed, lid, rid, dir, pr, po, rule,
							    &e, want_audit, &f);
					/* a ClusterNetworkPolicy rule that decided is named */
					if (e.p && !want_audit) {
						cr_assert(rule >= 1 && rule <= C.n_rules,
							  "seed %u: rule id %u", seed, rule);
						cr_expect_str_eq(C.rules[rule - 1].policy_name,
								 e.p->name, "seed %u", seed);
						cr_expect_eq(C.rules[rule - 1].rule_index,
							     e.rule, "seed %u", seed);
					}
				}
		}
	}
	cr_expect_eq(fails, 0, "seed %u: %zu of %zu decisions differ from the "
		     "reference", seed, fails, checked);
	return checked;
}

Test(compiler_tiers, random_worlds_match_the_reference, .fini = fini)
{
	size_t checked = 0;

	for (unsigned seed = 1; seed <= 400; seed++) {
		struct seg_compiled again = { 0 };
		struct seg_error err = { 0 };

		rand_world(seed);
		compile();
		checked += check_world(seed);
		/* deterministic: the same world, the same bytes */
		cr_assert_eq(seg_compile(&W, &again, &err), 0, "%s", err.msg);
		cr_assert_eq(again.n_entries, C.n_entries);
		cr_assert(!memcmp(again.entries, C.entries,
				  C.n_entries * sizeof(*C.entries)), "seed %u", seed);
		seg_compiled_free(&again);
		fini();
	}
	cr_log_info("%zu decisions checked", checked);
}

/* ---- the API's stories, as tables ---------------------------------------------- */

static void stories_world(void)
{
	w_init();
	ns("shop", "team=shop");
	ns("pay", "team=pay");
	ep("shop", "web", "app=web", "10.1.0.1", "fd00::1");
	ep("shop", "api", "app=api", "10.1.0.2", "fd00::2");
	ep("pay", "pay", "app=pay", "10.1.1.1", "fd00::11");
}

/* networks are per family: ::/0 is IPv6 only, 0.0.0.0/0 IPv4 only. A
 * dual-stack pod's two addresses carry one identity, so a block of one
 * family selects the pod for both (the approximation docs/policy.md
 * states, "CIDRs"). */
Test(compiler_tiers, networks_are_per_address_family, .fini = fini)
{
	struct seg_policy *p;

	stories_world();
	p = cnp_policy("no-v6-out", SEG_TIER_ADMIN, 1, "team=shop");
	cidr(cnp_rule(p, EGR, SEG_ACTION_DENY), "::/0", NULL, NULL);
	p = cnp_policy("no-v4-out", SEG_TIER_ADMIN, 2, "team=pay");
	cidr(cnp_rule(p, EGR, SEG_ACTION_DENY), "0.0.0.0/0", NULL, NULL);
	compile();
	CHECK({ "10.1.0.1", "192.0.2.1", TCP, 80, A },
	      { "fd00::1", "2001:db8::1", TCP, 80, D },
	      { "10.1.0.1", "10.1.1.1", TCP, 80, D },   /* dual-stack pod */
	      { "fd00::1", "fd00::11", TCP, 80, D },
	      { "10.1.1.1", "192.0.2.1", TCP, 80, D },
	      { "fd00::11", "2001:db8::1", TCP, 80, A },
	      { "10.1.1.1", "10.1.0.1", TCP, 80, D },
	      { "fd00::11", "fd00::1", TCP, 80, D });  /* dual-stack pod */
}

/* Admin -> NetworkPolicy -> Baseline, from the API's user stories */
Test(compiler_tiers, stories, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	stories_world();
	/* Baseline: every namespace isolated from the others' pods */
	p = cnp_policy("isolate", SEG_TIER_BASELINE, 10, "");
	pods(cnp_rule(p, ING, SEG_ACTION_DENY), "", "");
	/* Admin: nobody outside pay reaches pay */
	p = cnp_policy("protect-pay", SEG_TIER_ADMIN, 10, "team=pay");
	pods(cnp_rule(p, ING, SEG_ACTION_DENY), "", "team notin pay");
	/* Admin: shop manages itself (Pass), priority 5 */
	p = cnp_policy("shop-self", SEG_TIER_ADMIN, 5, "team=shop");
	pods(cnp_rule(p, ING, SEG_ACTION_PASS), "", "team=shop");
	/* a NetworkPolicy in shop: web takes api on 80 only */
	p = pol("shop", "web", "app=web", true, false);
	r = allow(p, ING);
	pods(r, "app=api", NULL);
	port(r, TCP, 80, 0);
	/* pay's own NetworkPolicy allows everything: Admin still denies */
	p = pol("pay", "all", "", true, false);
	allow(p, ING)->all_peers = true;
	compile();
	CHECK({ "10.1.0.2", "10.1.0.1", TCP, 80, A },    /* passed; NP allows */
	      { "10.1.0.2", "10.1.0.1", TCP, 81, D },    /* passed; NP denies */
	      { "10.1.1.1", "10.1.0.1", TCP, 80, D },    /* NP: not from api */
	      { "10.1.0.1", "10.1.0.2", TCP, 8080, D },  /* passed; no NP; Baseline */
	      { "10.1.1.1", "10.1.0.2", TCP, 8080, D },  /* Baseline denies */
	      { "192.0.2.1", "10.1.0.2", TCP, 8080, A }, /* not a pod */
	      { "10.1.0.1", "10.1.1.1", TCP, 80, D },    /* Admin beats NP allow */
	      { "192.0.2.1", "10.1.1.1", TCP, 80, A });
}
