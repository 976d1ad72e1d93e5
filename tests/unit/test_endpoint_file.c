/* test_endpoint_file.c - `segctl endpoint load` files (core/parse/
 * endpoint_file.c) and the state's endpoint index and ids (state_index.c). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "endpoint_file.h"
#include "state.h"

struct load_case {
	char text[200];
	int ret;
	size_t n;           /* endpoints read */
	int line, col;      /* of the error */
	char msg[56];
};

static const struct load_case load_cases[] = {
	{ "- {name: a, ips: [10.0.0.1], interface: veth-a}\n", 0, 1, 0, 0, "" },
	{ "endpoints:\n- {name: a, namespace: n, ips: [10.0.0.1], remote: true}\n"
	  "- {name: b, namespace: n, ips: [10.0.0.2, 'fd00::2'], remote: true}\n",
	  0, 2, 0, 0, "" },
	/* `get endpoints -o yaml`: items, interface "" on remote ones, read-only
	 * fields ignored */
	{ "kind: endpoints\nitems:\n- {namespace: n, name: a, id: 7, identity: 9, "
	  "interface: '', ifindex: 0, remote: true, ips: [10.0.0.1], ports: [http=80/TCP]}\n",
	  0, 1, 0, 0, "" },
	{ "- {name: a, ips: [10.0.0.1], remote: true}\n---\n- {name: b, ips: [10.0.0.2], "
	  "remote: true}\n", 0, 2, 0, 0, "" },
	{ "", 0, 0, 0, 0, "" },
	{ "- {name: a, ips: [10.0.0.1], remote: true}\n- {name: a, ips: [10.0.0.2], "
	  "remote: true}\n", -EINVAL, 0, 2, 3, "default/a is listed twice" },
	{ "- {name: a, namespace: x, ips: [10.0.0.1], remote: true}\n---\n"
	  "- {name: a, namespace: x, ips: [10.0.0.2], remote: true}\n",
	  -EINVAL, 0, 3, 3, "x/a is listed twice" },
	{ "- {name: a, ips: [10.0.0.1]}\n", -EINVAL, 0, 1, 3, "needs an interface" },
	{ "- {name: a, remote: true}\n", -EINVAL, 0, 1, 3, "needs ips" },
	{ "- {name: a, ips: [10.0.0.300], remote: true}\n", -EINVAL, 0, 1, 19,
	  "'10.0.0.300' is not an address" },
	{ "- {ips: [10.0.0.1], remote: true}\n", -EINVAL, 0, 1, 3, "without a name" },
	{ "- {name: a, ips: [10.0.0.1], remote: maybe}\n", -EINVAL, 0, 1, 38,
	  "remote must be true or false" },
	{ "- {name: a, ips: [10.0.0.1], remote: true, labels: [x]}\n", -EINVAL, 0, 1, 52,
	  "labels must be a mapping" },
	{ "- {name: a, ips: [10.0.0.1], remote: true, ports: [http=99999]}\n", -EINVAL,
	  0, 1, 52, "bad endpoint port 'http=99999'" },
	{ "- {name: a, ips: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, "
	  "1.1.1.7, 1.1.1.8, 1.1.1.9], remote: true}\n", -EINVAL, 0, 1, 18,
	  "at most 8 addresses" },
	{ "- {name: a, ips: [10.0.0.1], interface: a-very-long-interface}\n", -EINVAL,
	  0, 1, 3, "longer than 15" },
	{ "name: a\n", -EINVAL, 0, 1, 1, "expected a list of endpoints" },
	{ "- [a]\n", -EINVAL, 0, 1, 3, "an endpoint is a mapping" },
};

ParameterizedTestParameters(endpoint_file, parse)
{
	return cr_make_param_array(struct load_case, (void *)load_cases,
				   sizeof(load_cases) / sizeof(load_cases[0]));
}

ParameterizedTest(struct load_case *c, endpoint_file, parse)
{
	struct seg_error err = { 0 };
	struct seg_endpoint *v = NULL;
	size_t n = 99;
	int ret = seg_endpoints_parse(c->text, strlen(c->text), "eps.yaml", &v, &n, &err);

	cr_assert_eq(ret, c->ret, "'%s': ret %d (%s)", c->text, ret, err.msg);
	cr_assert_eq(n, c->n, "'%s': %zu endpoints", c->text, n);
	if (ret) {
		cr_assert(strstr(err.msg, c->msg), "'%s' lacks '%s'", err.msg, c->msg);
		cr_assert_eq(err.line, c->line, "'%s': line %d", err.msg, err.line);
		cr_assert_eq(err.col, c->col, "'%s': col %d", err.msg, err.col);
	}
	seg_endpoints_free(v, n);
}

Test(endpoint_file, fields_read)
{
	const char *t = "- {name: web, namespace: shop, ips: [10.0.0.1, 'fd00::1'], "
			"labels: {app: web, tier: front}, interface: veth-web, "
			"ports: [http=8080, dns=53/UDP]}\n"
			"- {name: far, ips: [10.1.0.1], remote: true, interface: ''}\n";
	struct seg_error err = { 0 };
	struct seg_endpoint *v;
	size_t n;

	cr_assert_eq(seg_endpoints_parse(t, strlen(t), "f", &v, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].ns, "shop");
	cr_assert_str_eq(v[0].ifname, "veth-web");
	cr_assert_eq(v[0].n_ips, 2);
	cr_assert_eq(v[0].labels.n, 2);
	cr_assert_eq(v[0].n_ports, 2);
	cr_assert_not(v[0].remote);
	cr_assert_eq(v[0].endpoint_id, 0, "ids are segd's to give");
	cr_assert_str_eq(v[1].ns, "default");
	cr_assert(v[1].remote);
	cr_assert_str_eq(v[1].ifname, "");
	seg_endpoints_free(v, n);
}

static void put(struct seg_state *s, const char *ns, const char *name, uint32_t id)
{
	struct seg_endpoint ep = { .endpoint_id = id, .remote = true, .n_ips = 1 };

	ep.ns = strdup(ns);
	ep.name = strdup(name);
	cr_assert_eq(seg_state_put_ep(s, &ep), 0);
}

/* the index stays right through adds, replaces and deletes (which move the
 * last endpoint into the hole) */
Test(state_index, finds_every_endpoint_through_adds_and_deletes)
{
	struct seg_state s;
	char name[32];

	cr_assert_eq(seg_state_init(&s), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "ep%d", i);
		put(&s, i % 2 ? "a" : "b", name, 0);
	}
	for (int i = 0; i < 3000; i += 3) {
		snprintf(name, sizeof(name), "ep%d", i);
		cr_assert_eq(seg_state_del_ep(&s, i % 2 ? "a" : "b", name), 0);
	}
	put(&s, "a", "ep1", 0);   /* a replace keeps the id */
	for (int i = 0; i < 3000; i++) {
		struct seg_endpoint *e;

		snprintf(name, sizeof(name), "ep%d", i);
		e = seg_state_find_ep(&s, i % 2 ? "a" : "b", name);
		cr_assert_eq(e != NULL, i % 3 != 0, "%s", name);
		if (e)
			cr_assert_str_eq(e->name, name);
		cr_assert_null(seg_state_find_ep(&s, i % 2 ? "b" : "a", name),
			       "%s in the other namespace", name);
	}
	cr_assert_eq(seg_state_find_ep(&s, "a", "ep1")->endpoint_id, 2);
	seg_state_free(&s);
}

/* the lowest free ids, holes first */
Test(state_index, free_ids_fill_holes_first)
{
	struct seg_state s;
	uint32_t ids[4];

	cr_assert_eq(seg_state_init(&s), 0);
	put(&s, "n", "a", 1);
	put(&s, "n", "b", 3);
	put(&s, "n", "c", 4);
	put(&s, "n", "d", 7);
	cr_assert_eq(seg_state_free_endpoint_id(&s), 2);
	cr_assert_eq(seg_state_free_endpoint_ids(&s, ids, 4), 0);
	cr_assert_eq(ids[0], 2);
	cr_assert_eq(ids[1], 5);
	cr_assert_eq(ids[2], 6);
	cr_assert_eq(ids[3], 8);
	seg_state_free(&s);
}
