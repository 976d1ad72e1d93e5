/* test_compiler_labels.c - the compiler's label index (core/compile/
 * compiler_labels.c) against a plain scan: for every selector form, in a
 * namespace or across a namespace selector, the identities selected are
 * those the selector matches, in namespace-group order, none twice. */
#include <criterion/parameterized.h>
#include "compiler_fixtures.h"
#include "compiler_int.h"

struct sel_case {
	char pods[48];
	char nss[32];       /* "" with ns_name: one namespace */
	char ns_name[8];
};

static const struct sel_case sel_cases[] = {
	{ "app=a", "", "n0" },
	{ "app=a", "team=x", "" },
	{ "app in a|b|c", "", "n1" },
	{ "app in a|c,tier=t1", "team=x", "" },
	{ "app in a|zz", "", "n2" },         /* a value nobody has */
	{ "app=zz", "", "n0" },              /* nothing */
	{ "app=a,tier notin t1", "", "n0" },
	{ "tier=t2,!env", "team in x|y", "" },
	{ "env", "", "n3" },                 /* no IN: the scan */
	{ "", "", "n1" },                    /* everything in n1 */
	{ "!app", "", "n0" },
	{ "tier in t0|t1|t2,app=b", "", "" },/* every namespace, by selector "" */
};

ParameterizedTestParameters(label_index, selects_what_a_scan_selects)
{
	return cr_make_param_array(struct sel_case, (void *)sel_cases,
				   sizeof(sel_cases) / sizeof(sel_cases[0]));
}

/* 4 namespaces (team x, x, y, none), 600 endpoints whose label sets
 * repeat, so identities group several endpoints */
static void build_world(void)
{
	static const char *const teams[] = { "team=x", "team=x", "team=y", "" };
	char name[16], labels[64], addr[32];

	w_init();
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ns(name, teams[i]);
	}
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		snprintf(labels, sizeof(labels), "%s%c,tier=t%d%s",
			 i % 7 ? "app=" : "other=", 'a' + i % 5, i % 3,
			 i % 4 ? "" : ",env=prod");
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", 1 + i % 4, i / 250, 1 + i % 250);
		ep(W.namespaces[i % 4].name, name, labels, addr, NULL);
	}
}

ParameterizedTest(struct sel_case *c, label_index, selects_what_a_scan_selects)
{
	struct seg_selector pods, nss;
	struct seg_error err = { 0 };
	bool has_nss = !c->ns_name[0];
	uint32_t *pos;
	struct ctx x;
	size_t set, want = 0;

	build_world();
	sel(&pods, c->pods);
	sel(&nss, c->nss);
	cr_assert_eq(segc_prepare(&x, &W, &err), 0, "%s", err.msg);
	cr_assert_eq(segc_select_idents(&x, has_nss, &nss, c->ns_name, &pods, &set), 0);
	pos = calloc(x.n_ids + 1, sizeof(*pos));
	for (size_t m = 0; m < x.n_ids; m++)
		pos[x.ns_members[m]] = (uint32_t)m;
	for (size_t i = 0; i < x.n_ids; i++) {
		const struct ns_info *n = &x.ns[x.ids[i].ns];
		bool in_scope = has_nss ? seg_selector_matches(&nss, &n->labels)
					: !strcmp(n->name, c->ns_name);
		bool found = false;

		if (!in_scope || !seg_selector_matches(&pods, x.ids[i].labels))
			continue;
		want++;
		for (size_t k = 0; k < x.sets[set].n && !found; k++)
			found = x.pool[x.sets[set].off + k] == i;
		cr_expect(found, "%s in {%s}/%s: identity %zu missing", c->pods, c->nss,
			  c->ns_name, i);
	}
	cr_expect_eq(x.sets[set].n, want, "%s: %zu selected, a scan finds %zu",
		     c->pods, x.sets[set].n, want);
	for (size_t k = 1; k < x.sets[set].n; k++)
		cr_expect_lt(pos[x.pool[x.sets[set].off + k - 1]],
			     pos[x.pool[x.sets[set].off + k]],
			     "%s: out of namespace-group order at %zu", c->pods, k);
	if (strchr(c->pods, '='))
		cr_expect(x.li.built, "%s: IN requirement, yet no index", c->pods);
	free(pos);
	segc_ctx_free(&x);
	seg_selector_free(&pods);
	seg_selector_free(&nss);
	w_fini();
}
