/* test_image.c - core/image: the content of the policy slot's maps (tables,
 * probe hints, segd_lhints, segd_ifc), the delta between two tables, the
 * quarantine delta and the blocklist prefix gate. Expected values are
 * spelled with the ABI's macros, not with the builders' own helpers. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"
#include "policy_image.h"
#include "quarantine_image.h"

static const struct seg_img_limits no_limit_ = {
	{ UINT32_MAX, UINT32_MAX, UINT32_MAX }, UINT32_MAX,
}, *const no_limit = &no_limit_;

static struct segd_addr addr_of(const char *text)
{
	struct in6_addr a;
	struct segd_addr out;

	cr_assert_eq(seg_addr_parse(text, &a), 0, "%s", text);
	memcpy(out.b, &a, sizeof(out.b));
	return out;
}

static const struct segd_ipcache_value *exact_value(const struct seg_img_table *t,
						    size_t i)
{
	return (const void *)(t->rec + i * (seg_img_key_size[SEG_IMG_EXACT] +
					     seg_img_value_size[SEG_IMG_EXACT]) +
			      seg_img_key_size[SEG_IMG_EXACT]);
}

static void tables_free(struct seg_img_table t[SEG_IMG_INNER_COUNT],
			struct seg_img_lhints *lh)
{
	for (int i = 0; i < SEG_IMG_INNER_COUNT; i++)
		seg_img_table_free(&t[i]);
	seg_img_lhints_free(lh);
}

/* ---- probe hints and segd_lhints ------------------------------------------- */

#define LOCAL_ID 300u
#define OTHER_ID 301u
#define REMOTE_ID 400u
#define EP_ID 7u
#define V (SEGD_EPF_PROBES_VALID | SEGD_EPF_LOCAL)

struct key_spec {
	uint32_t local, remote;
	uint16_t port;
	uint8_t proto, dir, kind;
};

struct hint_case {
	char name[48];
	struct key_spec keys[3];
	size_t n_keys;
	uint32_t flags;         /* the local address's exact value after */
	size_t n_lhints;        /* 0 or 1 (endpoint EP_ID) */
	uint64_t probes;
};

static const struct hint_case hints[] = {
	{ "exact port to one remote",
	  { { LOCAL_ID, REMOTE_ID, 80, IPPROTO_TCP, SEGD_DIR_INGRESS,
	      SEGD_PORT_EXACT } }, 1,
	  V | SEGD_EPF_PROBE(SEGD_DIR_INGRESS, 0, SEGD_PROBE_EXACT), 1,
	  SEGD_LH_PROBE(SEGD_DIR_INGRESS, SEGD_PROBE_EXACT, 4 + (REMOTE_ID *
			0x9e3779b1u >> 30)) },
	{ "udp/53 to any remote, egress",
	  { { LOCAL_ID, SEGD_ID_ANY, 53, IPPROTO_UDP, SEGD_DIR_EGRESS,
	      SEGD_PORT_EXACT } }, 1,
	  V | SEGD_EPF_PROBE(SEGD_DIR_EGRESS, 1, SEGD_PROBE_EXACT) |
	  SEGD_EPF_ANYREM_PROTO(SEGD_DIR_EGRESS, SEGD_PCLASS_UDP), 1, 0 },
	{ "all protocols from any remote",
	  { { LOCAL_ID, SEGD_ID_ANY, 0, 0, SEGD_DIR_INGRESS, SEGD_PORT_ANY } },
	  1, V | SEGD_EPF_PROBE(SEGD_DIR_INGRESS, 1, SEGD_PROBE_ALLPROTO), 1, 0 },
	{ "a port key without a protocol: every class",
	  { { LOCAL_ID, SEGD_ID_ANY, 80, 0, SEGD_DIR_EGRESS, SEGD_PORT_EXACT } },
	  1, V | SEGD_EPF_PROBE(SEGD_DIR_EGRESS, 1, SEGD_PROBE_EXACT) |
	  SEGD_EPF_ANYREM_PROTO(SEGD_DIR_EGRESS, SEGD_PCLASS_TCP) |
	  SEGD_EPF_ANYREM_PROTO(SEGD_DIR_EGRESS, SEGD_PCLASS_UDP) |
	  SEGD_EPF_ANYREM_PROTO(SEGD_DIR_EGRESS, SEGD_PCLASS_OTHER), 1, 0 },
	{ "sctp port block to the world",
	  { { LOCAL_ID, SEGD_ID_WORLD, 0x100, IPPROTO_SCTP, SEGD_DIR_EGRESS,
	      SEGD_PORT_BLOCK } }, 1,
	  V | SEGD_EPF_PROBE(SEGD_DIR_EGRESS, 0, SEGD_PROBE_BLOCK), 1,
	  SEGD_LH_PROBE(SEGD_DIR_EGRESS, SEGD_PROBE_BLOCK, 0) },
	{ "proto key to any remote: tcp class only",
	  { { LOCAL_ID, SEGD_ID_ANY, 0, IPPROTO_TCP, SEGD_DIR_INGRESS,
	      SEGD_PORT_ANY } }, 1,
	  V | SEGD_EPF_PROBE(SEGD_DIR_INGRESS, 1, SEGD_PROBE_PROTO) |
	  SEGD_EPF_ANYREM_PROTO(SEGD_DIR_INGRESS, SEGD_PCLASS_TCP), 1, 0 },
	{ "another identity's keys stay there",
	  { { OTHER_ID, REMOTE_ID, 80, IPPROTO_TCP, SEGD_DIR_INGRESS,
	      SEGD_PORT_EXACT } }, 1, V, 1, 0 },
	{ "both directions, unsorted input",
	  { { LOCAL_ID, REMOTE_ID, 443, IPPROTO_TCP, SEGD_DIR_EGRESS,
	      SEGD_PORT_EXACT },
	    { LOCAL_ID, REMOTE_ID, 22, IPPROTO_TCP, SEGD_DIR_INGRESS,
	      SEGD_PORT_EXACT } }, 2,
	  V | SEGD_EPF_PROBE(SEGD_DIR_INGRESS, 0, SEGD_PROBE_EXACT) |
	  SEGD_EPF_PROBE(SEGD_DIR_EGRESS, 0, SEGD_PROBE_EXACT), 1,
	  SEGD_LH_PROBE(SEGD_DIR_INGRESS, SEGD_PROBE_EXACT, 4 + (REMOTE_ID *
			0x9e3779b1u >> 30)) |
	  SEGD_LH_PROBE(SEGD_DIR_EGRESS, SEGD_PROBE_EXACT, 4 + (REMOTE_ID *
			0x9e3779b1u >> 30)) },
	{ "no keys at all", { { 0 } }, 0, V, 1, 0 },
};

ParameterizedTestParameters(policy_image, hints)
{
	return cr_make_param_array(struct hint_case, hints,
				   sizeof(hints) / sizeof(hints[0]));
}

ParameterizedTest(struct hint_case *c, policy_image, hints)
{
	struct seg_policy_entry entries[3] = { 0 };
	struct seg_ipc_exact_entry exact = {
		.addr = addr_of("10.0.0.1"),
		.value = { .identity = LOCAL_ID, .ifindex = 5,
			   .flags = SEGD_EPF_LOCAL, .endpoint_id = EP_ID },
	};
	struct seg_compiled cc = { .entries = entries, .n_entries = c->n_keys,
				   .exact = &exact, .n_exact = 1 };
	struct seg_img_table t[SEG_IMG_INNER_COUNT];
	struct seg_img_lhints lh;

	for (size_t i = 0; i < c->n_keys; i++) {
		entries[i].key = (struct segd_policy_key){
			.local_id = c->keys[i].local,
			.remote_id = c->keys[i].remote,
			.port = c->keys[i].port, .proto = c->keys[i].proto,
			.dir = c->keys[i].dir, .port_kind = c->keys[i].kind,
		};
		entries[i].value.verdict = SEGD_VERDICT_ALLOW;
		entries[i].value.rule_id = (uint32_t)i;
	}
	cr_assert_eq(seg_img_policy_build(&cc, no_limit, NULL, t, &lh), 0,
		     "%s", c->name);
	cr_assert_eq(t[SEG_IMG_POLICY].n, c->n_keys, "%s", c->name);
	cr_assert_eq(t[SEG_IMG_EXACT].n, 1, "%s", c->name);
	cr_assert_eq(exact_value(&t[SEG_IMG_EXACT], 0)->flags, c->flags,
		     "%s: flags %#x, want %#x", c->name,
		     exact_value(&t[SEG_IMG_EXACT], 0)->flags, c->flags);
	cr_assert_eq(lh.n, c->n_lhints, "%s", c->name);
	if (lh.n) {
		cr_assert_eq(lh.epid[0], EP_ID, "%s", c->name);
		cr_assert_eq(lh.probes[0], c->probes, "%s: probes %#llx, want %#llx",
			     c->name, (unsigned long long)lh.probes[0],
			     (unsigned long long)c->probes);
	}
	tables_free(t, &lh);
}

/* ---- what a table holds, and what is refused ------------------------------- */

struct table_case {
	char name[48];
	uint16_t ports[4];       /* exact tcp ingress keys LOCAL_ID -> any */
	uint32_t rule_ids[4];
	size_t n;
	uint32_t max_policy;
	int ret;
	size_t n_out;
	uint16_t out_ports[4];   /* in the table's order */
	uint32_t out_rules[4];
};

static const struct table_case tables[] = {
	{ "sorted stays as it is", { 0x0100, 0x0200 }, { 1, 2 }, 2, 16, 0, 2,
	  { 0x0100, 0x0200 }, { 1, 2 } },
	{ "unsorted is sorted by key bytes", { 0x0200, 0x0100, 0x0300 },
	  { 2, 1, 3 }, 3, 16, 0, 3, { 0x0100, 0x0200, 0x0300 }, { 1, 2, 3 } },
	{ "equal keys: the last wins", { 0x0100, 0x0200, 0x0100 }, { 1, 2, 9 },
	  3, 16, 0, 2, { 0x0100, 0x0200 }, { 9, 2 } },
	{ "more entries than the map holds", { 1, 2, 3 }, { 0, 0, 0 }, 3, 2,
	  -E2BIG, 0, { 0 }, { 0 } },
	{ "exactly as many as the map holds", { 1, 2 }, { 0, 0 }, 2, 2, 0, 2,
	  { 1, 2 }, { 0, 0 } },
	{ "a rule id outside segd_rules", { 1 }, { 16 }, 1, 16,
	  -EINVAL, 0, { 0 }, { 0 } },
	{ "the last rule id segd_rules holds", { 1 }, { 15 }, 1, 16,
	  0, 1, { 1 }, { 15 } },
};

ParameterizedTestParameters(policy_image, tables)
{
	return cr_make_param_array(struct table_case, tables,
				   sizeof(tables) / sizeof(tables[0]));
}

ParameterizedTest(struct table_case *c, policy_image, tables)
{
	const size_t rs = seg_img_key_size[SEG_IMG_POLICY] +
			  seg_img_value_size[SEG_IMG_POLICY];
	struct seg_policy_entry entries[4] = { 0 };
	struct seg_compiled cc = { .entries = entries, .n_entries = c->n };
	/* segd_rules of 16 slots: rule ids 0..15 */
	struct seg_img_limits max = { { c->max_policy, 16, 16 }, 16 };
	struct seg_img_table t[SEG_IMG_INNER_COUNT];
	struct seg_img_lhints lh;

	for (size_t i = 0; i < c->n; i++) {
		entries[i].key = (struct segd_policy_key){
			.local_id = LOCAL_ID, .remote_id = SEGD_ID_ANY,
			.port = c->ports[i], .proto = IPPROTO_TCP,
			.dir = SEGD_DIR_INGRESS, .port_kind = SEGD_PORT_EXACT,
		};
		entries[i].value.rule_id = c->rule_ids[i];
	}
	cr_assert_eq(seg_img_policy_build(&cc, &max, NULL, t, &lh), c->ret,
		     "%s", c->name);
	if (c->ret)
		return;
	cr_assert_eq(t[SEG_IMG_POLICY].n, c->n_out, "%s", c->name);
	for (size_t i = 0; i < c->n_out; i++) {
		struct seg_policy_entry e;

		memcpy(&e, t[SEG_IMG_POLICY].rec + i * rs, rs);
		cr_assert_eq(e.key.port, c->out_ports[i], "%s: record %zu",
			     c->name, i);
		cr_assert_eq(e.value.rule_id, c->out_rules[i], "%s: record %zu",
			     c->name, i);
	}
	tables_free(t, &lh);
}

Test(policy_image, lhints_of_endpoint_ids)
{
	struct seg_ipc_exact_entry exact[3] = {
		{ addr_of("10.0.0.1"), { LOCAL_ID, 5, SEGD_EPF_LOCAL, 9 } },
		{ addr_of("10.0.0.2"), { LOCAL_ID, 5, SEGD_EPF_LOCAL, 9 } },
		{ addr_of("10.0.0.3"), { LOCAL_ID, 6, SEGD_EPF_LOCAL,
					 SEGD_LHINT_EPS } },
	};
	struct seg_compiled cc = { .exact = exact, .n_exact = 3 };
	struct seg_img_table t[SEG_IMG_INNER_COUNT];
	struct seg_img_lhints lh;
	struct segd_lhint vals[1];
	uint32_t keys[1];

	cr_assert_eq(seg_img_policy_build(&cc, no_limit, NULL, t, &lh), 0);
	/* one entry per endpoint id; ids past the array have none */
	cr_assert_eq(lh.n, 1);
	cr_assert_eq(lh.epid[0], 9);
	lh.probes[0] = 0x42;
	seg_img_lhints_records(&lh, 1, 17, keys, vals);
	cr_assert_eq(keys[0], SEGD_LHINT_EPS + 9);
	cr_assert_eq(vals[0].gen, 17);
	cr_assert_eq(vals[0].flags, SEGD_LHF_VALID);
	cr_assert_eq(vals[0].probes, 0x42);
	seg_img_lhints_records(&lh, 0, 0, keys, vals);
	cr_assert_eq(keys[0], 9);
	cr_assert_eq(vals[0].flags, 0, "gen 0 clears");
	cr_assert_eq(vals[0].probes, 0);
	tables_free(t, &lh);
}

/* ---- the delta between two tables ------------------------------------------ */

struct diff_case {
	char name[40];
	uint32_t old_ids[4];     /* identity of 10.0.0.1.. (0: absent) */
	uint32_t new_ids[4];
	size_t n_del, n_up;
	uint8_t first_up;        /* last byte of the first key to write */
};

static const struct diff_case diffs[] = {
	{ "same", { 1, 2, 3 }, { 1, 2, 3 }, 0, 0, 0 },
	{ "one value changed", { 1, 2, 3 }, { 1, 5, 3 }, 0, 1, 2 },
	{ "one added", { 1, 0, 3 }, { 1, 2, 3 }, 0, 1, 2 },
	{ "one removed", { 1, 2, 3 }, { 1, 0, 3 }, 1, 0, 0 },
	{ "from nothing", { 0 }, { 1, 2 }, 0, 2, 1 },
	{ "to nothing", { 1, 2 }, { 0 }, 2, 0, 0 },
	{ "all changed", { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, 0, 4, 1 },
};

ParameterizedTestParameters(policy_image, diff)
{
	return cr_make_param_array(struct diff_case, diffs,
				   sizeof(diffs) / sizeof(diffs[0]));
}

static void exact_table(const uint32_t ids[4], struct seg_img_table *t)
{
	struct seg_ipc_exact_entry e[4];
	struct seg_compiled cc = { .exact = e };
	struct seg_img_table all[SEG_IMG_INNER_COUNT];
	struct seg_img_lhints lh;

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < 4; i++) {
		char a[16] = "10.0.0.0";

		if (!ids[i])
			continue;
		a[7] = (char)('1' + i);
		e[cc.n_exact].addr = addr_of(a);
		e[cc.n_exact++].value.identity = ids[i];
	}
	cr_assert_eq(seg_img_policy_build(&cc, no_limit, NULL, all, &lh), 0);
	*t = all[SEG_IMG_EXACT];
	memset(&all[SEG_IMG_EXACT], 0, sizeof(*t));
	tables_free(all, &lh);
}

ParameterizedTest(struct diff_case *c, policy_image, diff)
{
	const size_t ks = seg_img_key_size[SEG_IMG_EXACT];
	struct seg_img_table o, n;
	struct seg_img_delta d;

	exact_table(c->old_ids, &o);
	exact_table(c->new_ids, &n);
	cr_assert_eq(seg_img_table_diff(&o, &n, ks,
					seg_img_value_size[SEG_IMG_EXACT], &d), 0);
	cr_assert_eq(d.n_del, c->n_del, "%s: %zu deletes", c->name, d.n_del);
	cr_assert_eq(d.n_up, c->n_up, "%s: %zu updates", c->name, d.n_up);
	if (d.n_up)
		cr_assert_eq(d.up_k[ks - 1], c->first_up, "%s", c->name);
	seg_img_delta_free(&d);
	seg_img_table_free(&o);
	seg_img_table_free(&n);
}

/* ---- segd_ifc ------------------------------------------------------------------ */

struct ifc_addr_spec {
	char addr[20];
	uint32_t ifindex, flags;
};

struct ifc_case {
	char name[48];
	struct ifc_addr_spec a[10];
	size_t n;
	size_t n_ent;
	uint32_t ifindex[2], count[2];   /* entries, by ifindex */
};

#define L SEGD_EPF_LOCAL
static const struct ifc_case ifcs[] = {
	{ "two interfaces", { { "10.0.0.1", 5, L }, { "10.0.0.2", 6, L },
	  { "10.0.0.3", 5, L } }, 3, 2, { 5, 6 }, { 2, 1 } },
	{ "remote and ifindex-less addresses stay out",
	  { { "10.0.0.1", 5, L }, { "10.0.0.2", 5, 0 }, { "10.0.0.3", 0, L } },
	  3, 1, { 5 }, { 1 } },
	{ "as many addresses as an entry holds",
	  { { "10.0.0.1", 5, L }, { "10.0.0.2", 5, L }, { "10.0.0.3", 5, L },
	    { "10.0.0.4", 5, L }, { "10.0.0.5", 5, L }, { "10.0.0.6", 5, L },
	    { "10.0.0.7", 5, L }, { "10.0.0.8", 5, L } }, 8, 1, { 5 }, { 8 } },
	{ "one more: the exact ipcache answers",
	  { { "10.0.0.1", 5, L }, { "10.0.0.2", 5, L }, { "10.0.0.3", 5, L },
	    { "10.0.0.4", 5, L }, { "10.0.0.5", 5, L }, { "10.0.0.6", 5, L },
	    { "10.0.0.7", 5, L }, { "10.0.0.8", 5, L }, { "10.0.0.9", 5, L },
	    { "10.0.0.10", 6, L } }, 10, 1, { 6 }, { 1 } },
	{ "a bucket belongs to the lower ifindex",
	  { { "10.0.0.1", 5 + SEGD_IFC_BUCKETS, L }, { "10.0.0.2", 5, L } },
	  2, 1, { 5 }, { 1 } },
	{ "nothing local", { { "10.0.0.1", 0, 0 } }, 1, 0, { 0 }, { 0 } },
};
#undef L

ParameterizedTestParameters(ifc_image, build)
{
	return cr_make_param_array(struct ifc_case, ifcs,
				   sizeof(ifcs) / sizeof(ifcs[0]));
}

ParameterizedTest(struct ifc_case *c, ifc_image, build)
{
	struct seg_ipc_exact_entry e[10] = { 0 };
	struct seg_compiled cc = { .exact = e, .n_exact = c->n };
	struct seg_img_table t[SEG_IMG_INNER_COUNT];
	struct seg_img_lhints lh;
	struct seg_img_ifc f;

	for (size_t i = 0; i < c->n; i++) {
		e[i].addr = addr_of(c->a[i].addr);
		e[i].value.identity = LOCAL_ID;
		e[i].value.ifindex = c->a[i].ifindex;
		e[i].value.flags = c->a[i].flags;
	}
	cr_assert_eq(seg_img_policy_build(&cc, no_limit, NULL, t, &lh), 0);
	cr_assert_eq(seg_img_ifc_build(&t[SEG_IMG_EXACT], &f), 0);
	cr_assert_eq(f.n, c->n_ent, "%s: %zu entries", c->name, f.n);
	for (size_t i = 0; i < f.n; i++) {
		cr_assert_eq(f.ent[i].ifindex, c->ifindex[i], "%s", c->name);
		cr_assert_eq(f.ent[i].n, c->count[i], "%s", c->name);
		cr_assert_eq(f.bucket[i], c->ifindex[i] & (SEGD_IFC_BUCKETS - 1));
		/* the value as the exact ipcache holds it, hints included */
		cr_assert_eq(f.ent[i].a[0].val.identity, LOCAL_ID);
		cr_assert(f.ent[i].a[0].val.flags & SEGD_EPF_PROBES_VALID);
	}
	seg_img_ifc_free(&f);
	tables_free(t, &lh);
}

struct ifc_rec_case {
	char name[48];
	bool prev_known;
	uint32_t prev_used[2];   /* buckets (0: none) */
	uint32_t ifindex[2];     /* entries of the new image (0: none) */
	uint32_t gen;
	size_t n_rec, n_valid;   /* records, of them with SEGD_IFCF_VALID */
	size_t n_now;            /* buckets used after */
};

static const struct ifc_rec_case ifc_recs[] = {
	{ "unknown slot: every bucket written", false, { 0 }, { 5 }, 3,
	  SEGD_IFC_BUCKETS, 1, 1 },
	{ "same bucket again", true, { 5 }, { 5 }, 3, 1, 1, 1 },
	{ "moved: the old bucket is cleared", true, { 5 }, { 6 }, 3, 2, 1, 1 },
	{ "two new, none before", true, { 0 }, { 5, 9 }, 3, 2, 2, 2 },
	{ "gen 0 clears", true, { 5 }, { 5 }, 0, 1, 0, 0 },
	{ "nothing to write, nothing there", true, { 0 }, { 0 }, 3, 0, 0, 0 },
	{ "empty image clears what was there", true, { 5, 7 }, { 0 }, 3, 2, 0,
	  0 },
};

ParameterizedTestParameters(ifc_image, records)
{
	return cr_make_param_array(struct ifc_rec_case, ifc_recs,
				   sizeof(ifc_recs) / sizeof(ifc_recs[0]));
}

static size_t bits(const uint64_t *set, size_t words)
{
	size_t n = 0;

	for (size_t i = 0; i < words; i++)
		n += (size_t)__builtin_popcountll(set[i]);
	return n;
}

ParameterizedTest(struct ifc_rec_case *c, ifc_image, records)
{
	struct segd_ifc ent[2] = { 0 };
	uint32_t bucket[2];
	struct seg_img_ifc f = { .ent = ent, .bucket = bucket };
	struct seg_img_ifc_used prev = { .known = c->prev_known }, now;
	uint32_t *keys = malloc(SEGD_IFC_BUCKETS * sizeof(*keys));
	struct segd_ifc *vals = malloc(SEGD_IFC_BUCKETS * sizeof(*vals));
	const uint32_t slot = 1;
	size_t n, valid = 0;

	cr_assert(keys && vals);
	for (size_t i = 0; i < 2; i++) {
		if (c->prev_used[i])
			prev.used[c->prev_used[i] / 64] |=
				1ull << (c->prev_used[i] % 64);
		if (!c->ifindex[i])
			continue;
		ent[f.n].ifindex = c->ifindex[i];
		ent[f.n].n = 1;
		bucket[f.n++] = c->ifindex[i] & (SEGD_IFC_BUCKETS - 1);
	}
	cr_assert_eq(seg_img_ifc_pending(&f, &prev),
		     c->n_rec > 0, "%s: pending", c->name);
	n = seg_img_ifc_records(&f, slot, c->gen, &prev, keys, vals, &now);
	cr_assert_eq(n, c->n_rec, "%s: %zu records", c->name, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_geq(keys[i], slot * SEGD_IFC_BUCKETS, "%s", c->name);
		cr_assert_lt(keys[i], (slot + 1) * SEGD_IFC_BUCKETS, "%s", c->name);
		if (vals[i].flags & SEGD_IFCF_VALID) {
			valid++;
			cr_assert_eq(vals[i].gen, c->gen, "%s", c->name);
			cr_assert_eq(vals[i].ifindex & (SEGD_IFC_BUCKETS - 1),
				     keys[i] - slot * SEGD_IFC_BUCKETS);
		} else {
			cr_assert_eq(vals[i].ifindex, 0, "%s: cleared", c->name);
			cr_assert_eq(vals[i].n, 0, "%s: cleared", c->name);
		}
	}
	cr_assert_eq(valid, c->n_valid, "%s: %zu valid", c->name, valid);
	cr_assert(now.known);
	cr_assert_eq(bits(now.used, SEGD_IFC_BUCKETS / 64), c->n_now, "%s",
		     c->name);
	free(keys);
	free(vals);
}

/* ---- segd_quarantine --------------------------------------------------------- */

struct quar_case {
	char name[40];
	uint8_t prev[4][2];      /* last address byte, quarantine id (0: end) */
	uint8_t next[4][2];
	size_t n_up, up0;        /* updates, index into next of the first */
	size_t n_stale, stale0;  /* deletes, index into prev of the first */
};

static const struct quar_case quars[] = {
	{ "same", { { 1, 1 }, { 2, 1 } }, { { 1, 1 }, { 2, 1 } }, 0, 0, 0, 0 },
	{ "a value changed", { { 1, 1 }, { 2, 1 } }, { { 1, 1 }, { 2, 3 } },
	  1, 1, 0, 0 },
	{ "one added", { { 2, 1 } }, { { 1, 1 }, { 2, 1 } }, 1, 0, 0, 0 },
	{ "one released", { { 1, 1 }, { 2, 1 } }, { { 2, 1 } }, 0, 0, 1, 0 },
	{ "all released", { { 1, 1 }, { 2, 1 } }, { { 0 } }, 0, 0, 2, 0 },
	{ "replaced", { { 1, 1 } }, { { 3, 1 } }, 1, 0, 1, 0 },
	{ "from nothing", { { 0 } }, { { 4, 1 }, { 5, 2 } }, 2, 0, 0, 0 },
};

ParameterizedTestParameters(quarantine_image, delta)
{
	return cr_make_param_array(struct quar_case, quars,
				   sizeof(quars) / sizeof(quars[0]));
}

static size_t quar_entries(const uint8_t spec[4][2], struct seg_quar_entry *out)
{
	size_t n = 0;

	memset(out, 0, 4 * sizeof(*out));
	for (; n < 4 && spec[n][0]; n++) {
		out[n].addr = addr_of("10.0.0.0");
		out[n].addr.b[15] = spec[n][0];
		out[n].value.quarantine_id = spec[n][1];
	}
	return n;
}

ParameterizedTest(struct quar_case *c, quarantine_image, delta)
{
	struct seg_quar_entry prev[4], next[4];
	size_t n_prev = quar_entries(c->prev, prev);
	size_t n_next = quar_entries(c->next, next);
	size_t up[4], stale[4], n_up, n_stale;

	seg_quar_image_delta(prev, n_prev, next, n_next, up, &n_up, stale,
			     &n_stale);
	cr_assert_eq(n_up, c->n_up, "%s: %zu updates", c->name, n_up);
	cr_assert_eq(n_stale, c->n_stale, "%s: %zu deletes", c->name, n_stale);
	if (n_up)
		cr_assert_eq(up[0], c->up0, "%s", c->name);
	if (n_stale)
		cr_assert_eq(stale[0], c->stale0, "%s", c->name);
	cr_assert_eq(seg_quar_image_find(next, n_next, &next[0].addr),
		     n_next ? &next[0] : NULL);
}

/* ---- the blocklist prefix gate --------------------------------------------------- */

struct gate_case {
	char name[48];
	char prefixes[2][44];
	size_t n_bits;
	char probe[20];          /* an IPv4 address whose /16 bit ... */
	bool probe_set;          /* ... is set */
};

static const struct gate_case gates[] = {
	{ "IPv4 /16 and shorter: the /16 view answers", { "10.1.0.0/16",
	  "16.0.0.0/12" }, 0, "10.1.2.3", false },
	{ "IPv4 /17../24: the /24 view answers", { "10.1.2.0/24" }, 0,
	  "10.1.2.3", false },
	{ "IPv4 /25: its /16", { "10.1.2.128/25" }, 1, "10.1.2.200", true },
	{ "two prefixes of one /16", { "10.1.2.128/25", "10.1.9.4/32" }, 1,
	  "10.1.9.4", true },
	{ "another /16 stays clear", { "10.1.2.128/25" }, 1, "10.2.2.200",
	  false },
	{ "IPv6 /32: one hashed bit", { "2001:db8::/32" }, 1, "10.1.2.3",
	  false },
	{ "IPv6 /31: two", { "2001:db8::/31" }, 2, "", false },
	{ "::/0 sets every bit", { "::/0" }, SEGD_BL_GATE_BITS, "1.2.3.4",
	  true },
};

ParameterizedTestParameters(blocklist_gate, fill)
{
	return cr_make_param_array(struct gate_case, gates,
				   sizeof(gates) / sizeof(gates[0]));
}

ParameterizedTest(struct gate_case *c, blocklist_gate, fill)
{
	struct seg_bl_prefix_entry p[2] = { 0 };
	uint64_t *gate = malloc(SEGD_BL_GATE_WORDS * sizeof(*gate));
	size_t n = 0;

	cr_assert(gate);
	for (; n < 2 && c->prefixes[n][0]; n++) {
		struct seg_cidr cidr;

		cr_assert_eq(seg_cidr_parse(c->prefixes[n], &cidr, NULL), 0,
			     "%s", c->prefixes[n]);
		p[n].key.prefixlen = cidr.plen;
		memcpy(p[n].key.addr, &cidr.addr, sizeof(p[n].key.addr));
	}
	memset(gate, 0xa5, SEGD_BL_GATE_WORDS * sizeof(*gate));  /* filled whole */
	seg_bl_gate_fill(p, n, NULL, gate);
	cr_assert_eq(bits(gate, SEGD_BL_GATE_WORDS), c->n_bits, "%s: %zu bits",
		     c->name, bits(gate, SEGD_BL_GATE_WORDS));
	if (c->probe[0]) {
		struct segd_addr a = addr_of(c->probe);
		uint32_t b = (uint32_t)a.b[12] << 8 | a.b[13];

		cr_assert_eq(!!(gate[b / 64] >> (b % 64) & 1), c->probe_set,
			     "%s", c->name);
	}
	free(gate);
}
