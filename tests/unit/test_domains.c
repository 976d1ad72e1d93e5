/* test_domains.c - the names of domainNames peers the daemon follows
 * (engine/domains.c): which names the policies use, and what an answer
 * does to a name's addresses at the edges of their time. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "segd.h"

static struct in6_addr addr(const char *s)
{
	struct in6_addr a = { 0 };
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &v4, 4);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, s, &a), 1);
	}
	return a;
}

/* A policy whose rules each hold one domainNames peer per name given. */
static void policy_with_names(struct seg_policy *p, const char *const *names, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->rules = calloc(1, sizeof(*p->rules));
	p->n_rules = 1;
	p->rules[0].peers = calloc(n ? n : 1, sizeof(struct seg_peer));
	p->rules[0].n_peers = n;
	for (size_t i = 0; i < n; i++) {
		p->rules[0].peers[i].kind = SEG_PEER_DOMAIN;
		p->rules[0].peers[i].domain = strdup(names[i]);
	}
}

static void world_names(struct segd *d, const char *const *a, size_t na,
			const char *const *b, size_t nb)
{
	for (size_t i = 0; i < d->state.world.n_policies; i++)
		seg_policy_free(&d->state.world.policies[i]);
	free(d->state.world.policies);
	d->state.world.policies = calloc(2, sizeof(struct seg_policy));
	d->state.world.n_policies = 2;
	policy_with_names(&d->state.world.policies[0], a, na);
	policy_with_names(&d->state.world.policies[1], b, nb);
}

static void world_free(struct segd *d)
{
	for (size_t i = 0; i < d->state.world.n_policies; i++)
		seg_policy_free(&d->state.world.policies[i]);
	free(d->state.world.policies);
	segd_domains_free(&d->domains);
}

Test(domains, track_follows_the_policies_names_sorted_unique_no_wildcards)
{
	struct segd d = { 0 };
	const char *a[] = { "b.example", "*.cdn.example", "a.example" };
	const char *b[] = { "a.example", "c.example" };
	const char *later[] = { "c.example", "d.example" };

	world_names(&d, a, 3, b, 2);
	cr_assert_eq(segd_domains_track(&d), 0);
	cr_assert_eq(d.domains.n, 3);
	cr_assert_str_eq(d.domains.v[0].name, "a.example");
	cr_assert_str_eq(d.domains.v[1].name, "b.example");
	cr_assert_str_eq(d.domains.v[2].name, "c.example");
	cr_assert_not(d.domains.changed, "no name has addresses yet");

	/* c.example keeps its addresses across a change; a and b go */
	{
		struct in6_addr x = addr("192.0.2.1");

		segd_domain_answer(&d.domains, &d.domains.v[2], true, &x, 1, 30, 100);
		segd_domain_answer(&d.domains, &d.domains.v[0], true, &x, 1, 30, 100);
	}
	d.domains.changed = false;
	world_names(&d, later, 2, NULL, 0);
	d.domains.tracked = false;      /* what segd_policies_changed does */
	cr_assert_eq(segd_domains_track(&d), 0);
	cr_assert_eq(d.domains.n, 2);
	cr_assert_str_eq(d.domains.v[0].name, "c.example");
	cr_assert_eq(d.domains.v[0].n_addrs, 1);
	cr_assert_str_eq(d.domains.v[1].name, "d.example");
	cr_assert_eq(d.domains.v[1].n_addrs, 0);
	cr_assert(d.domains.changed, "a.example had an address: the table changes");
	world_free(&d);
}

/* One answer after another at the edges of an address's time. */
struct answer_case {      /* char arrays: Criterion copies the table */
	char name[64];
	char before[3][40];       /* addresses (all seen at t=100, keep 10) */
	bool v4;                  /* family of the answer */
	char answer[3][40];
	int64_t now;
	char after[4][40];        /* sorted as the table holds them */
	bool changed;
};

static struct answer_case answer_cases[] = {
	{ "first answer, sorted", { "" }, true, { "192.0.2.9", "192.0.2.1" }, 100,
	  { "192.0.2.1", "192.0.2.9" }, true },
	{ "same answer again: no change", { "192.0.2.1" }, true, { "192.0.2.1" }, 105,
	  { "192.0.2.1" }, false },
	{ "moved, old one still in its time", { "192.0.2.1" }, true, { "192.0.2.2" }, 110,
	  { "192.0.2.1", "192.0.2.2" }, true },
	{ "moved, old one one second past its time", { "192.0.2.1" }, true,
	  { "192.0.2.2" }, 111, { "192.0.2.2" }, true },
	{ "empty answer (NXDOMAIN) after the time empties the family", { "192.0.2.1" },
	  true, { "" }, 111, { "" }, true },
	{ "an A answer leaves the AAAA addresses alone", { "192.0.2.1", "2001:db8::1" },
	  true, { "" }, 200, { "2001:db8::1" }, true },
	{ "an AAAA answer leaves the A addresses alone", { "192.0.2.1", "2001:db8::1" },
	  false, { "2001:db8::2" }, 200, { "192.0.2.1", "2001:db8::2" }, true },
};

ParameterizedTestParameters(domains, answers)
{
	return cr_make_param_array(struct answer_case, answer_cases,
				   sizeof(answer_cases) / sizeof(answer_cases[0]));
}

ParameterizedTest(struct answer_case *c, domains, answers)
{
	struct segd_domains ds = { 0 };
	struct segd_domain dn = { .name = strdup("a.example") };
	struct in6_addr got[3];
	size_t n = 0;

	ds.v = &dn;
	ds.n = 1;
	for (size_t i = 0; i < 3 && c->before[i][0]; i++) {
		struct in6_addr x = addr(c->before[i]);

		segd_domain_answer(&ds, &dn, IN6_IS_ADDR_V4MAPPED(&x), &x, 1, 10, 100);
	}
	ds.changed = false;
	for (; n < 3 && c->answer[n][0]; n++)
		got[n] = addr(c->answer[n]);
	segd_domain_answer(&ds, &dn, c->v4, got, n, 10, c->now);
	cr_expect_eq(ds.changed, c->changed, "%s: changed", c->name);
	for (n = 0; n < 4 && c->after[n][0]; n++) {
		struct in6_addr want = addr(c->after[n]);

		cr_assert_lt(n, dn.n_addrs, "%s: too few addresses", c->name);
		cr_expect_eq(memcmp(&dn.addrs[n].addr, &want, 16), 0, "%s: address %zu",
			     c->name, n);
	}
	cr_expect_eq(dn.n_addrs, n, "%s: %zu addresses", c->name, dn.n_addrs);
	free(dn.name);
	free(dn.addrs);
}
