/* test_name_index.c - the indexed namers (name_index.h through a
 * seg_view with an index) give the names the scans give, and follow the
 * world and the compiled state when they change. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow_names.h"
#include "flowtab.h"
#include "name_index.h"

/* shop/web id 1 ifindex 42, shop/db id 2 ifindex 43, other/far id 3
 * remote (no ifindex), other/late id 5 also ifindex 43 (db comes first) */
static struct seg_endpoint eps[4];
static struct seg_ipc_prefix_entry prefixes[4];
static struct seg_world world;
static struct seg_compiled compiled;
static struct seg_name_index names;

static void prefix(struct seg_ipc_prefix_entry *p, const char *ip, unsigned plen,
		   uint32_t identity)
{
	memset(p, 0, sizeof(*p));
	if (strchr(ip, ':')) {
		cr_assert_eq(inet_pton(AF_INET6, ip, p->key.addr), 1);
		p->key.prefixlen = plen;
	} else {
		p->key.addr[10] = p->key.addr[11] = 0xff;
		cr_assert_eq(inet_pton(AF_INET, ip, &p->key.addr[12]), 1);
		p->key.prefixlen = 96 + plen;
	}
	p->value.identity = identity;
}

static void setup(void)
{
	memset(eps, 0, sizeof(eps));
	eps[0] = (struct seg_endpoint){ .name = "web", .ns = "shop", .ifindex = 42, .endpoint_id = 1 };
	eps[1] = (struct seg_endpoint){ .name = "db", .ns = "shop", .ifindex = 43, .endpoint_id = 2 };
	eps[2] = (struct seg_endpoint){ .name = "far", .ns = "other", .endpoint_id = 3, .remote = true };
	eps[3] = (struct seg_endpoint){ .name = "late", .ns = "other", .ifindex = 43, .endpoint_id = 5 };
	/* sorted by address like the compiler's, identity 1000 twice */
	prefix(&prefixes[0], "10.0.0.0", 8, 1000);
	prefix(&prefixes[1], "192.168.0.0", 16, 1000);
	prefix(&prefixes[2], "2001:db8::", 32, 1001);
	prefix(&prefixes[3], "2001:db8:1::1", 128, 1002);
	memset(&world, 0, sizeof(world));
	memset(&compiled, 0, sizeof(compiled));
	world.endpoints = eps;
	world.n_endpoints = 4;
	compiled.prefixes = prefixes;
	compiled.n_prefixes = 4;
	seg_name_index_init(&names);
}

static void teardown(void)
{
	seg_name_index_free(&names);
}

enum lookup { BY_ID, BY_IFINDEX, IDENTITY };

struct name_case {
	enum lookup what;
	uint32_t key;
	char want[32];   /* "ns/name", "-" for none, or the identity's name */
};

/* What the view answers, as text. */
static void name_of(const struct seg_view *v, enum lookup what, uint32_t key,
		    char *buf, size_t len)
{
	const struct seg_endpoint *ep = NULL;

	if (what == IDENTITY) {
		seg_identity_name(v, key, buf, len);
		return;
	}
	ep = what == BY_ID ? seg_endpoint_by_id(v, key) : seg_endpoint_by_ifindex(v, key);
	if (ep)
		snprintf(buf, len, "%s/%s", ep->ns, ep->name);
	else
		snprintf(buf, len, "-");
}

ParameterizedTestParameters(name_index, same_names_as_the_scans)
{
	static struct name_case cases[] = {
		{ BY_ID, 1, "shop/web" },
		{ BY_ID, 2, "shop/db" },
		{ BY_ID, 3, "other/far" },
		{ BY_ID, 5, "other/late" },
		{ BY_ID, 0, "-" },
		{ BY_ID, 4, "-" },
		{ BY_ID, 99999, "-" },
		{ BY_ID, UINT32_MAX, "-" },
		{ BY_IFINDEX, 42, "shop/web" },
		{ BY_IFINDEX, 43, "shop/db" },       /* the first of two */
		{ BY_IFINDEX, 0, "-" },              /* remote: no interface */
		{ BY_IFINDEX, 7, "-" },
		{ IDENTITY, SEGD_ID_WORLD, "world" },
		{ IDENTITY, SEGD_ID_WORLD_V6, "world" },
		{ IDENTITY, SEGD_ID_HOST, "host" },
		{ IDENTITY, 1000, "cidr:10.0.0.0/8" },   /* the first of two */
		{ IDENTITY, 1001, "cidr:2001:db8::/32" },
		{ IDENTITY, 1002, "cidr:2001:db8:1::1/128" },
		{ IDENTITY, 1003, "identity:1003" },
		{ IDENTITY, 0, "identity:0" },
	};
	return cr_make_param_array(struct name_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, name_index, same_names_as_the_scans,
		  .init = setup, .fini = teardown)
{
	const struct seg_view scan = { &world, &compiled, NULL };
	const struct seg_view indexed = { &world, &compiled, &names };
	char a[64], b[64];

	name_of(&scan, c->what, c->key, a, sizeof(a));
	name_of(&indexed, c->what, c->key, b, sizeof(b));
	cr_assert_str_eq(a, c->want, "scan: %s, want %s", a, c->want);
	cr_assert_str_eq(b, a, "indexed: %s, scan: %s", b, a);
}

/* A state file may give any id: the index then keeps sorted pairs. */
Test(name_index, sparse_ids, .init = setup, .fini = teardown)
{
	const struct seg_view v = { &world, &compiled, &names };

	eps[1].endpoint_id = 4000000000u;
	cr_assert_eq(seg_endpoint_by_id(&v, 4000000000u), &eps[1]);
	cr_assert_eq(seg_endpoint_by_id(&v, 1), &eps[0]);
	cr_assert_null(seg_endpoint_by_id(&v, 2));
	cr_assert_null(names.id_slot);
}

Test(name_index, follows_endpoints_added_and_deleted, .init = setup, .fini = teardown)
{
	const struct seg_view v = { &world, &compiled, &names };
	struct seg_endpoint *grown = calloc(5, sizeof(*grown));

	cr_assert_null(seg_endpoint_by_id(&v, 6));
	/* added: seg_state_put_ep reallocs and counts one more */
	memcpy(grown, eps, sizeof(eps));
	grown[4] = (struct seg_endpoint){ .name = "new", .ns = "shop", .ifindex = 44,
					  .endpoint_id = 6 };
	world.endpoints = grown;
	world.n_endpoints = 5;
	cr_assert_eq(seg_endpoint_by_id(&v, 6), &grown[4]);
	cr_assert_eq(seg_endpoint_by_ifindex(&v, 44), &grown[4]);
	/* web deleted: seg_state_del_ep moves the last one into its slot */
	grown[0] = grown[4];
	world.n_endpoints = 4;
	cr_assert_null(seg_endpoint_by_id(&v, 1));
	cr_assert_null(seg_endpoint_by_ifindex(&v, 42));
	cr_assert_eq(seg_endpoint_by_id(&v, 6), &grown[0]);
	world.endpoints = eps;
	free(grown);
}

/* Same array, same count: a hit on a slot that changed is noticed at once;
 * a key that is new is found once the index is told (every flow pass). */
Test(name_index, follows_endpoints_changed_in_place, .init = setup, .fini = teardown)
{
	const struct seg_view v = { &world, &compiled, &names };

	cr_assert_eq(seg_endpoint_by_ifindex(&v, 42), &eps[0]);
	eps[0].ifindex = 50;   /* web's interface came back as another one */
	eps[0].endpoint_id = 7;
	cr_assert_null(seg_endpoint_by_ifindex(&v, 42));
	cr_assert_null(seg_endpoint_by_id(&v, 1));
	seg_name_index_invalidate(&names);
	cr_assert_eq(seg_endpoint_by_ifindex(&v, 50), &eps[0]);
	cr_assert_eq(seg_endpoint_by_id(&v, 7), &eps[0]);
}

Test(name_index, follows_the_compiled_prefixes, .init = setup, .fini = teardown)
{
	const struct seg_view v = { &world, &compiled, &names };
	struct seg_ipc_prefix_entry next[1];
	char buf[64];

	seg_identity_name(&v, 1000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cidr:10.0.0.0/8");
	/* changed in place: 10/8 is another identity now */
	prefixes[0].value.identity = 2000;
	seg_identity_name(&v, 1000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cidr:192.168.0.0/16");
	seg_name_index_invalidate(&names);
	seg_identity_name(&v, 2000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cidr:10.0.0.0/8");
	/* a new apply: another array */
	prefix(&next[0], "172.16.0.0", 12, 1001);
	compiled.prefixes = next;
	compiled.n_prefixes = 1;
	seg_identity_name(&v, 1001, buf, sizeof(buf));
	cr_assert_str_eq(buf, "cidr:172.16.0.0/12");
	seg_identity_name(&v, 1000, buf, sizeof(buf));
	cr_assert_str_eq(buf, "identity:1000");
}

/* The flow table: a drop flow's observer comes from its event's
 * endpoint id or ifindex, named again at every pass. */
static char observer[64], remote[64];

static void capture(void *ctx, const struct seg_flow_record *r)
{
	(*(int *)ctx)++;
	snprintf(observer, sizeof(observer), "%s", r->observer);
	snprintf(remote, sizeof(remote), "%s", r->destination.identity);
}

static void drop(struct seg_flowtab *t, uint64_t at, uint32_t endpoint_id, uint32_t ifindex)
{
	struct segd_event e = { .ts_ns = at, .proto = IPPROTO_UDP, .type = SEGD_EV_DROP,
				.dir = SEGD_DIR_EGRESS, .reason = SEGD_REASON_DEFAULT_DENIED,
				.ifindex = ifindex, .endpoint_id = endpoint_id, .bytes = 40,
				.remote_id = 1000, .sport = 5555, .dport = 53 };

	e.saddr.b[10] = e.saddr.b[11] = e.daddr.b[10] = e.daddr.b[11] = 0xff;
	e.saddr.b[12] = 10, e.saddr.b[15] = 1;     /* 10.0.0.1, not in the ipcache */
	e.daddr.b[12] = 192, e.daddr.b[13] = 168, e.daddr.b[15] = 9;
	cr_assert_eq(seg_flowtab_event(t, &e), 0);
}

struct observer_case {
	uint32_t endpoint_id, ifindex;
	char want[32];
};

ParameterizedTestParameters(name_index, flow_observer)
{
	static struct observer_case cases[] = {
		{ 2, 0, "shop/db" },        /* by id */
		{ 0, 42, "shop/web" },      /* by ifindex */
		{ 0, 43, "shop/db" },
		{ 9, 42, "ifindex:42" },    /* an id no endpoint has */
		{ 0, 77, "ifindex:77" },
	};
	return cr_make_param_array(struct observer_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct observer_case *c, name_index, flow_observer, .init = setup,
		  .fini = teardown)
{
	const struct seg_view scan = { &world, &compiled, NULL };
	const struct seg_view indexed = { &world, &compiled, &names };
	const struct seg_endpoint *ep = c->endpoint_id ? seg_endpoint_by_id(&scan, c->endpoint_id) :
							 seg_endpoint_by_ifindex(&scan, c->ifindex);
	char want[64];
	struct seg_flowtab *t;
	int n = 0;

	/* what the scans name is what the table's records say */
	if (ep)
		snprintf(want, sizeof(want), "%s/%s", ep->ns, ep->name);
	else
		snprintf(want, sizeof(want), "ifindex:%u", c->ifindex);
	cr_assert_str_eq(want, c->want);
	cr_assert_eq(seg_flowtab_new(&indexed, &t), 0);
	cr_assert_eq(seg_flowtab_add_sink(t, capture, &n), 0);
	seg_flowtab_pass_begin(t, 1000, 1000);
	drop(t, 1000, c->endpoint_id, c->ifindex);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(observer, c->want);
	cr_assert_str_eq(remote, "cidr:10.0.0.0/8");
	seg_flowtab_free(t);
}

Test(name_index, flow_pass_sees_the_world_changed_in_place, .init = setup,
     .fini = teardown)
{
	const struct seg_view v = { &world, &compiled, &names };
	struct seg_flowtab *t;
	int n = 0;

	cr_assert_eq(seg_flowtab_new(&v, &t), 0);
	cr_assert_eq(seg_flowtab_add_sink(t, capture, &n), 0);
	seg_flowtab_pass_begin(t, 1000, 1000);
	drop(t, 1000, 0, 50);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_str_eq(observer, "ifindex:50");
	/* web's interface is 50 now: same array, same count */
	eps[0].ifindex = 50;
	prefixes[0].value.identity = 1001;
	seg_flowtab_pass_begin(t, 2000, 2000);
	drop(t, 2000, 0, 50);
	cr_assert_eq(seg_flowtab_pass_end(t), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(observer, "shop/web");
	cr_assert_str_eq(remote, "cidr:192.168.0.0/16");
	seg_flowtab_free(t);
}
