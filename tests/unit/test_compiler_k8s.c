/* Kubernetes' semantics the compiler follows: CIDR peers (ipBlock) select
 * the endpoints whose addresses they hold (policy_cidr_match: all, the
 * default; outside keeps them to non-endpoint addresses), and named ports
 * resolve per destination endpoint. */
#include <criterion/criterion.h>

#include "compiler_fixtures.h"

static void named(struct seg_endpoint *e, const char *text)
{
	struct seg_named_port np;
	const char *why;

	cr_assert_eq(seg_named_port_parse(text, &np, &why), 0, "%s: %s", text, why);
	cr_assert_eq(seg_endpoint_add_port(e, &np), 0, "%s", text);
}

/* a named port on r; r's peers stay as they are (none: any peer) */
static void named_rule_port(struct seg_rule *r, uint8_t proto, const char *name)
{
	if (!r->n_peers)
		r->all_peers = true;
	r->all_ports = false;
	r->ports[r->n_ports] = (struct seg_port){ .proto = proto };
	snprintf(r->ports[r->n_ports++].name, sizeof(r->ports[0].name), "%s", name);
}

Test(compiler_k8s, cidr_selects_endpoints_inside_it, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "to-db", "app=web", false, true);
	r = allow(p, EGR);
	cidr(r, "10.200.0.0/24", "10.200.0.4/32", NULL);
	compile();
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, A },   /* db-1, inside */
		{ "10.200.0.1", "10.200.0.4", TCP, 5432, D },   /* cache: except */
		{ "10.200.0.1", "10.200.1.1", TCP, 5432, D },   /* dev: outside */
		{ "10.200.0.1", "10.200.255.1", TCP, 5432, D }, /* host: never */
		{ "10.200.0.1", "10.200.0.77", TCP, 5432, A },  /* no one's */
	);
	/* the old choice, as a setting */
	W.cidr_match = SEG_CIDR_MATCH_OUTSIDE;
	compile();
	CHECK(
		{ "10.200.0.1", "10.200.0.3", TCP, 5432, D },
		{ "10.200.0.1", "10.200.0.4", TCP, 5432, D },
		{ "10.200.0.1", "10.200.0.77", TCP, 5432, A },
	);
}

/* Two pods with one label set, one inside the block: they cannot share an
 * identity, or the block would admit both. */
Test(compiler_k8s, cidr_splits_an_identity, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("dev", "to-web-1", "app=tool", false, true);
	r = allow(p, EGR);
	cidr(r, "10.200.0.1/32", NULL, NULL);
	compile();
	cr_assert_neq(id_of("10.200.0.1"), id_of("10.200.0.2"));
	CHECK(
		{ "10.200.1.2", "10.200.0.1", TCP, 80, A },
		{ "10.200.1.2", "10.200.0.2", TCP, 80, D },
	);
	/* without CIDR peers the pods share one again */
	W.n_policies = 0;
	seg_policy_free(p);
	compile();
	cr_assert_eq(id_of("10.200.0.1"), id_of("10.200.0.2"));
}

Test(compiler_k8s, ingress_named_port_resolves_per_pod, .fini = fini)
{
	struct seg_policy *p;

	base_world();
	/* two web pods, one label set, the name on different numbers */
	named(&W.endpoints[0], "http=8080/TCP");
	named(&W.endpoints[1], "http=9090");
	named(&W.endpoints[1], "dns=53/UDP");
	p = pol("prod", "web-http", "app=web", true, false);
	named_rule_port(allow(p, ING), TCP, "http");
	named_rule_port(allow(p, ING), TCP, "dns");     /* UDP only: nothing */
	compile();
	cr_assert_neq(id_of("10.200.0.1"), id_of("10.200.0.2"));
	CHECK(
		{ "10.200.1.2", "10.200.0.1", TCP, 8080, A },
		{ "10.200.1.2", "10.200.0.1", TCP, 9090, D },
		{ "10.200.1.2", "10.200.0.2", TCP, 9090, A },
		{ "10.200.1.2", "10.200.0.2", TCP, 8080, D },
		{ "10.200.1.2", "10.200.0.2", UDP, 53, D },
		{ "10.200.1.2", "10.200.0.2", TCP, 53, D },
	);
}

Test(compiler_k8s, egress_named_port_resolves_per_destination, .fini = fini)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	named(&W.endpoints[2], "pg=5432");              /* db-1 */
	named(&W.endpoints[3], "pg=6000");              /* cache */
	named(&W.endpoints[3], "memcache=11211/UDP");
	p = pol("dev", "tool-out", "app=tool", false, true);
	named_rule_port(allow(p, EGR), TCP, "pg");     /* to: any peer */
	r = allow(p, EGR);                              /* a block: no names */
	cidr(r, "203.0.113.0/24", NULL, NULL);
	named_rule_port(r, UDP, "memcache");
	compile();
	CHECK(
		{ "10.200.1.2", "10.200.0.3", TCP, 5432, A },
		{ "10.200.1.2", "10.200.0.3", TCP, 6000, D },
		{ "10.200.1.2", "10.200.0.4", TCP, 6000, A },
		{ "10.200.1.2", "10.200.0.4", TCP, 5432, D },
		{ "10.200.1.2", "203.0.113.9", TCP, 5432, D },  /* not a pod */
		{ "10.200.1.2", "203.0.113.9", UDP, 11211, D },
		{ "10.200.1.2", "10.200.0.4", UDP, 11211, D },  /* not in block */
		{ "10.200.1.2", "10.200.0.1", TCP, 5432, D },   /* no port pg */
		{ "10.200.1.2", "10.200.0.1", TCP, 6000, D },
	);
}

Test(compiler_k8s, named_port_parse)
{
	static const struct {
		const char *text;
		int ok;
		uint16_t port;
		uint8_t proto;
	} rows[] = {
		{ "http=80", 1, 80, TCP },
		{ "dns=53/UDP", 1, 53, UDP },
		{ "s-1=9/SCTP", 1, 9, SCTP },
		{ "a23456789012345=1", 1, 1, TCP },
		{ "a234567890123456=1", 0, 0, 0 },      /* 16 characters */
		{ "HTTP=80", 0, 0, 0 },
		{ "80=80", 0, 0, 0 },                   /* no letter */
		{ "-a=1", 0, 0, 0 },
		{ "a--b=1", 0, 0, 0 },
		{ "http=0", 0, 0, 0 },
		{ "http=65536", 0, 0, 0 },
		{ "http=80/tcp", 0, 0, 0 },
		{ "http=80x", 0, 0, 0 },
		{ "http", 0, 0, 0 },
		{ "=80", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct seg_named_port np;
		const char *why;
		int rc = seg_named_port_parse(rows[i].text, &np, &why);

		cr_expect_eq(rc == 0, rows[i].ok, "%s: rc %d", rows[i].text, rc);
		if (rc == 0 && rows[i].ok) {
			cr_expect_eq(np.port, rows[i].port, "%s", rows[i].text);
			cr_expect_eq(np.proto, rows[i].proto, "%s", rows[i].text);
		} else if (rc) {
			cr_expect_not_null(why, "%s", rows[i].text);
		}
	}
}
