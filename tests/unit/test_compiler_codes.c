/* test_compiler_codes.c - the compiler's 64-bit entry codes
 * (core/compile/compiler_int.h): rule ids at the edges of 16 bits and of
 * the code, the protocol index, key order == memcmp order of the map
 * keys, and the merge order of verdicts and rule ids.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_int.h"

/* ---- rule ids ------------------------------------------------------------ */

struct rule_case {
	char name[40];
	uint32_t rule;
	uint64_t verdict;
};

static const struct rule_case rules[] = {
	{ "1, deny", 1, SEGC_V_DENY },
	{ "65535, allow", 65535, SEGC_V_ALLOW },
	{ "65536, deny", 65536, SEGC_V_DENY },
	{ "65536, audit", 65536, SEGC_V_AUDIT },
	{ "131071, allow", 131071, SEGC_V_ALLOW },
	{ "the largest, deny", SEGD_MAX_RULES - 1, SEGC_V_DENY },
	{ "the largest, default audit", SEGD_MAX_RULES - 1, SEGC_V_AUDIT_DFL },
};

ParameterizedTestParameters(codes, rule_ids)
{
	return cr_make_param_array(struct rule_case, rules,
				   sizeof(rules) / sizeof(rules[0]));
}

/* A rule id stays in its bits: the key and the verdict read back whole. */
ParameterizedTest(struct rule_case *c, codes, rule_ids)
{
	struct dkey k = { .rank = SEGC_MAX_RANKS - 1, .port = 0xfffe,
			  .proto = IPPROTO_SCTP, .dir = 1,
			  .kind = SEGD_PORT_ANY };
	uint64_t key = segc_encode(&k), code = key | c->verdict | c->rule;
	struct dkey d = segc_decode(code);

	cr_assert_eq(code & SEGC_RULE_MASK, c->rule, "%s", c->name);
	cr_assert_eq(code & SEGC_VERDICT_MASK, c->verdict, "%s", c->name);
	cr_assert_eq(SEGC_KEY(code), SEGC_KEY(key), "%s", c->name);
	cr_assert_eq(d.rank, k.rank, "%s", c->name);
	cr_assert_eq(d.port, k.port, "%s", c->name);
	cr_assert_eq(d.proto, k.proto, "%s", c->name);
	cr_assert_eq(d.dir, k.dir, "%s", c->name);
	cr_assert_eq(d.kind, k.kind, "%s", c->name);
	cr_assert_eq(segc_is_deny(code), c->verdict == SEGC_V_DENY, "%s", c->name);
}

Test(codes, layout)
{
	cr_assert_eq(SEGC_RULE_MASK, (uint64_t)SEGD_MAX_RULES - 1);
	cr_assert_eq(SEGC_MAX_RANKS, 1u << 19);
	/* every bit of the code has one owner */
	cr_assert_eq(SEGC_RULE_MASK + SEGC_VERDICT_MASK + (3ull << SEGC_KIND_SHIFT) +
		     (1ull << SEGC_DIR_SHIFT) +
		     ((uint64_t)SEGC_PROTO_NONE << SEGC_PROTO_SHIFT) +
		     (0xffffull << SEGC_PORT_SHIFT) +
		     ((uint64_t)(SEGC_MAX_RANKS - 1) << SEGC_RANK_SHIFT), UINT64_MAX);
}

/* ---- protocols ------------------------------------------------------------ */

Test(codes, protocol_index)
{
	static const uint8_t listed[] = { SEGD_PROTO_ANY, IPPROTO_ICMP, IPPROTO_TCP,
					  IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_SCTP };
	int last = -1;

	for (unsigned p = 0; p < 256; p++) {
		uint8_t i = segc_proto_index((uint8_t)p);
		bool is_listed = memchr(listed, (int)p, sizeof(listed)) != NULL;

		if (!is_listed) {
			cr_assert_eq(i, SEGC_PROTO_NONE, "protocol %u", p);
			continue;
		}
		/* ascending with the protocol number, and back */
		cr_assert_lt(i, SEGC_PROTO_NONE, "protocol %u", p);
		cr_assert_gt((int)i, last, "protocol %u: index %u", p, i);
		cr_assert_eq(segc_proto_number(i), p, "protocol %u", p);
		last = i;
	}
	cr_assert_eq(last, (int)sizeof(listed) - 1);
}

/* ---- key order == memcmp order of segd_policy_key ---------------------------- */

/* remote ids in the order of their key bytes (little-endian u32): their
 * ranks are their positions, as segc_build_ranks numbers them */
static const uint32_t remotes[] = { SEGD_ID_ANY, 0x01000000u, 256, SEGD_ID_WORLD,
				    257, SEGD_ID_HOST, SEGD_ID_WORLD_V6 };

static int cmp_key_bytes(const struct segd_policy_key *a,
			 const struct segd_policy_key *b)
{
	int d = memcmp(a, b, sizeof(*a));

	return (d > 0) - (d < 0);
}

Test(codes, key_order_is_memcmp_order)
{
	static const uint8_t protos[] = { SEGD_PROTO_ANY, IPPROTO_ICMP, IPPROTO_TCP,
					  IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_SCTP };
	static const uint16_t ports[] = { 0, 1, 80, 255, 256, 0x1300, 0xff00, 65535 };
	struct dkey k[7 * 6 * 8 * 2 * 3];
	size_t n = 0;

	for (uint32_t r = 1; r < 7; r++)
		cr_assert_lt(memcmp(&remotes[r - 1], &remotes[r], 4), 0, "remotes[%u]", r);
	for (uint32_t r = 0; r < 7; r++)
		for (size_t p = 0; p < sizeof(protos); p++)
			for (size_t q = 0; q < 8; q++)
				for (uint8_t dir = 0; dir < 2; dir++)
					for (uint8_t kind = 0; kind < 3; kind++)
						k[n++] = (struct dkey){ .rank = r,
							.proto = protos[p], .port = ports[q],
							.dir = dir, .kind = kind };
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			struct segd_policy_key a = { .local_id = 7,
				.remote_id = remotes[k[i].rank], .port = k[i].port,
				.proto = k[i].proto, .dir = k[i].dir,
				.port_kind = k[i].kind };
			struct segd_policy_key b = { .local_id = 7,
				.remote_id = remotes[k[j].rank], .port = k[j].port,
				.proto = k[j].proto, .dir = k[j].dir,
				.port_kind = k[j].kind };
			uint64_t ca = SEGC_KEY(segc_encode(&k[i]));
			uint64_t cb = SEGC_KEY(segc_encode(&k[j]));

			cr_assert_eq((ca > cb) - (ca < cb), cmp_key_bytes(&a, &b),
				     "keys %zu and %zu", i, j);
		}
}

/* ---- the merge: one code per key, the strongest ------------------------------ */

struct merge_case {
	char name[48];
	uint64_t code[4];        /* verdict | rule id, same key */
	size_t n;
	uint64_t want;
};

static const struct merge_case merges[] = {
	{ "deny beats audit", { SEGC_V_AUDIT | 1, SEGC_V_DENY | 70000 }, 2,
	  SEGC_V_DENY | 70000 },
	{ "audit beats allow", { SEGC_V_ALLOW | 1, SEGC_V_AUDIT | 1048575 }, 2,
	  SEGC_V_AUDIT | 1048575 },
	{ "allow beats the default audit", { SEGC_V_AUDIT_DFL | 0,
	  SEGC_V_ALLOW | 65536 }, 2, SEGC_V_ALLOW | 65536 },
	{ "lowest rule id across 16 bits", { SEGC_V_ALLOW | 65536,
	  SEGC_V_ALLOW | 65535, SEGC_V_ALLOW | 1048575 }, 3, SEGC_V_ALLOW | 65535 },
	{ "lowest rule id past 16 bits", { SEGC_V_DENY | 131071,
	  SEGC_V_DENY | 65537 }, 2, SEGC_V_DENY | 65537 },
	{ "deny of the last rule beats allow of the first",
	  { SEGC_V_ALLOW | 1, SEGC_V_DENY | 1048575, SEGC_V_AUDIT | 2 }, 3,
	  SEGC_V_DENY | 1048575 },
};

ParameterizedTestParameters(codes, merge)
{
	return cr_make_param_array(struct merge_case, merges,
				   sizeof(merges) / sizeof(merges[0]));
}

ParameterizedTest(struct merge_case *c, codes, merge)
{
	struct dkey k = { .rank = 3, .port = 443, .proto = IPPROTO_TCP,
			  .kind = SEGD_PORT_EXACT };
	struct dkey other = { .rank = 3, .port = 444, .proto = IPPROTO_TCP,
			      .kind = SEGD_PORT_EXACT };
	struct ctx x;
	uint64_t v[8];
	size_t n = 0;

	memset(&x, 0, sizeof(x));
	/* a neighbour key on each side of them, which must stay apart */
	v[n++] = segc_encode(&other) | SEGC_V_DENY | 1048575;
	for (size_t i = 0; i < c->n; i++)
		v[n++] = segc_encode(&k) | c->code[i];
	k.proto = IPPROTO_UDP;
	v[n++] = segc_encode(&k) | SEGC_V_DENY;
	k.proto = IPPROTO_TCP;
	cr_assert_eq(segc_sort_codes(&x, v, &n), 0);
	free(x.tmp);
	cr_assert_eq(n, 3, "%s", c->name);
	cr_assert_eq(v[0], segc_encode(&k) | c->want, "%s: %#llx", c->name,
		     (unsigned long long)v[0]);
	/* port before protocol in key order: 443/tcp, 443/udp, 444/tcp */
	k.proto = IPPROTO_UDP;
	cr_assert_eq(v[1], segc_encode(&k) | SEGC_V_DENY, "%s", c->name);
	cr_assert_eq(v[2], segc_encode(&other) | SEGC_V_DENY | 1048575, "%s", c->name);
}
