/* test_datapath_hints.c - remote-specific probe hints (segd_lhints) on
 * crafted packets (run as root). The row format and the test world are in
 * dp_harness.h.
 */
#include <bpf/bpf.h>

#include "dp_harness.h"

/* ---- remote-specific probe hints (segd_lhints) --------------------------- */

#define ID_E   259u        /* remote endpoints (exact ipcache, not local) */
#define ID_E2  260u
#define ID_F   261u        /* local, endpoint id outside segd_lhints */
#define E4  "10.200.0.20"
#define E24 "10.200.0.21"
#define F4  "10.200.0.22"
#define F_EPID 70000u

/* A's remote-specific keys spread over every remote class (endpoint,
 * CIDR, world) and probe kind, so each skip decision is exercised: a probe
 * is skipped only when no key of its kind exists for the remote's bucket.
 * F has the same egress keys as A but no segd_lhints entry. */
static void world_lh(struct seg_compiled *c)
{
	uint32_t f = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		     SEGD_EPF_ENFORCE_EGRESS | SEGD_EPF_HINT_BLOCK(EG) |
		     SEGD_EPF_HINT_ANYREM(EG);
	const uint32_t locals[2] = { ID_A, ID_F };

	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, f, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, f, 1), 0);
	cr_assert_eq(st_exact(c, F4, ID_F, EP_IF, f, F_EPID), 0);
	cr_assert_eq(st_exact(c, E4, ID_E, 0, 0, 0), 0);
	cr_assert_eq(st_exact(c, E24, ID_E2, 0, 0, 0), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	cr_assert_eq(st_prefix(c, "198.51.100.0/24", ID_S), 0);
	for (int i = 0; i < 2; i++) {
		uint32_t l = locals[i], r = 100 * (i + 1);
		const uint8_t pany = SEGD_PROTO_ANY;

		st_rule(c, l, ID_E, EG, TCP, SEGD_PORT_EXACT, 8001, ALLOW,
			r + 1);
		st_rule(c, l, ID_E2, EG, TCP, SEGD_PORT_BLOCK, 0x2000, ALLOW,
			r + 2);
		st_rule(c, l, ID_R, EG, TCP, SEGD_PORT_EXACT, 443, ALLOW,
			r + 3);
		st_rule(c, l, SEGD_ID_WORLD, EG, TCP, SEGD_PORT_EXACT, 25,
			ALLOW, r + 4);
		st_rule(c, l, SEGD_ID_WORLD_V6, EG, pany, SEGD_PORT_ANY, 0,
			ALLOW, r + 5);
		st_rule(c, l, ID_S, EG, UDP, SEGD_PORT_ANY, 0, ALLOW, r + 6);
		st_rule(c, l, ID_E, EG, TCP, SEGD_PORT_EXACT, 8080, DENY,
			r + 7);
		st_rule(c, l, SEGD_ID_ANY, EG, UDP, SEGD_PORT_EXACT, 53,
			ALLOW, r + 8);
		st_rule(c, l, ID_E, IN, pany, SEGD_PORT_ANY, 0, ALLOW, r + 9);
	}
}

/* the segd_lhints entry of endpoint id epid in the active slot */
static int lhint_get(uint32_t epid, struct segd_lhint *out)
{
	uint32_t idx = (seg_dp_generation(dp) & 1) * SEGD_LHINT_EPS + epid;

	return bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_LHINTS), &idx,
				   out);
}

static int lhint_set(uint32_t epid, const struct segd_lhint *v)
{
	uint32_t idx = (seg_dp_generation(dp) & 1) * SEGD_LHINT_EPS + epid;

	return bpf_map_update_elem(seg_dp_map_fd(dp, SEGD_MAP_LHINTS), &idx, v,
				   BPF_ANY);
}

/* SEGD_LH_PROBE bits of local identity id, computed independently */
static uint64_t want_lh(const struct seg_compiled *c, uint32_t id)
{
	uint64_t b = 0;

	for (size_t i = 0; i < c->n_entries; i++) {
		const struct segd_policy_key *k = &c->entries[i].key;
		int kind;

		if (k->local_id != id || k->dir > EG ||
		    k->remote_id == SEGD_ID_ANY)
			continue;
		kind = k->port_kind == SEGD_PORT_EXACT ? SEGD_PROBE_EXACT :
		       k->port_kind == SEGD_PORT_BLOCK ? SEGD_PROBE_BLOCK :
		       k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
		b |= SEGD_LH_PROBE(k->dir, kind, segd_lh_bucket(k->remote_id));
	}
	return b;
}

Test(datapath, remote_probe_hints)
{
	/* every verdict here is what the full probe chain decides */
	static const struct row rows[] = {
	{ "endpoint remote, exact port allowed", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "endpoint remote, other port: default deny", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 9,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "endpoint remote, explicit deny", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8080,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_POLICY_DENIED },
	{ "endpoint remote with a block key: block allowed", FROM,
	  { .src = A4, .dst = E24, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "block port to the other endpoint: denied", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 2, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "CIDR remote, exact port allowed", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 1, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "CIDR remote, block port: denied", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "CIDR remote, protocol key (udp any port) allowed", FROM,
	  { .src = A4, .dst = S4, .proto = UDP, .sport = 1, .dport = 7 },
	  TC_ACT_OK, FWD },
	{ "CIDR remote, tcp: denied", FROM,
	  { .src = A4, .dst = S4, .proto = TCP, .sport = 1, .dport = 7,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "world remote, exact port allowed", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 25, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "world remote, other port: denied", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 443, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "world remote, udp 53 to any still allowed", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = UDP, .sport = 1,
	    .dport = 53 }, TC_ACT_OK, FWD },
	{ "world-v6 remote, all-protocol key allowed", FROM,
	  { .src = A6, .dst = "2a00::1", .proto = TCP, .sport = 1,
	    .dport = 9, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "ingress from the endpoint (all protocols) allowed", TO,
	  { .src = E4, .dst = A4, .proto = UDP, .sport = 1, .dport = 9 },
	  TC_ACT_OK, FWD },
	{ "ingress from the world denied", TO,
	  { .src = "192.0.2.1", .dst = A4, .proto = UDP, .sport = 1,
	    .dport = 9 }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "XDP: ingress from the endpoint passes", XDP,
	  { .src = E4, .dst = A4, .proto = TCP, .sport = 3, .dport = 9,
	    .tcp_flags = SYN }, XDP_PASS, NOR },
	{ "XDP: ingress from a CIDR remote dropped", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 3, .dport = 9,
	    .tcp_flags = SYN }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "no hints entry (endpoint id too big): exact allowed", FROM,
	  { .src = F4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "no hints entry: block allowed", FROM,
	  { .src = F4, .dst = E24, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "no hints entry: world denied", FROM,
	  { .src = F4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 443, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	};
	/* the hint really is what the datapath goes by, and only when valid
	 * and of the running generation (rows run after lhint_set) */
	static const struct row emptied[] = {
	{ "valid entry, no bits: the allowed exact port is not probed", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 10, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	static const struct row ignored[] = {
	{ "entry of another generation is ignored", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 11, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row invalid[] = {
	{ "entry without SEGD_LHF_VALID is ignored", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 12, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row reapplied[] = {
	{ "after the next apply", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 13, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	struct segd_lhint h, forged;
	struct seg_compiled c;
	uint32_t gen;

	world_lh(&c);
	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	gen = seg_dp_generation(dp);
	cr_assert_eq(lhint_get(1, &h), 0);
	cr_expect_eq(h.gen, gen, "lhint gen %u, want %u", h.gen, gen);
	cr_expect_eq(h.flags, SEGD_LHF_VALID);
	cr_expect_eq(h.probes, want_lh(&c, ID_A), "lhint probes %#llx, want "
		     "%#llx", (unsigned long long)h.probes,
		     (unsigned long long)want_lh(&c, ID_A));
	/* the world bucket holds A's world keys only */
	cr_expect_eq(h.probes & (SEGD_LH_PROBE(EG, SEGD_PROBE_EXACT, 0) |
				 SEGD_LH_PROBE(EG, SEGD_PROBE_ALLPROTO, 0)),
		     SEGD_LH_PROBE(EG, SEGD_PROBE_EXACT, 0) |
		     SEGD_LH_PROBE(EG, SEGD_PROBE_ALLPROTO, 0));
	RUN("lhints", rows);

	forged = (struct segd_lhint){ .gen = gen, .flags = SEGD_LHF_VALID };
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/emptied", emptied);
	forged.gen = gen + 1;
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/other generation", ignored);
	forged = (struct segd_lhint){ .gen = gen, .flags = 0 };
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/invalid", invalid);

	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	cr_assert_eq(lhint_get(1, &h), 0);
	cr_expect_eq(h.gen, gen + 1);
	cr_expect_eq(h.probes, want_lh(&c, ID_A));
	RUN("lhints/reapplied", reapplied);
	st_free(&c);
}
