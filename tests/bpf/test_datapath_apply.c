/* test_datapath_apply.c - applies, generations, restarts and adoption of
 * pinned state (run as root): CT revocation on a policy change, map usage
 * and apply limits, a restarted segd adopting what is pinned, and apply
 * sequences whose active slot must hold exactly the compiled state. The row
 * format and the test world are in dp_harness.h.
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_render.h"
#include "dp_harness.h"

Test(datapath, policy_change_revokes_established)
{
	static const struct row open_rows[] = {
	{ "open tcp 80", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "reply", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "open udp 53 (stays allowed)", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .sport = 40000, .dport = 53 },
	  TC_ACT_OK, FWD },
	};
	static const struct row renumbered[] = {
	{ "reply after an apply that still allows: refreshed", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = ACK }, TC_ACT_OK, FWD },
	};
	static const struct row cut[] = {
	{ "established flow cut by the new policy", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	{ "next packet: the tombstone drops it", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	{ "reply side dropped too", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	{ "still-allowed flow survives (reply direction)", TO,
	  { .src = R4, .dst = A4, .proto = UDP, .sport = 53, .dport = 40000 },
	  TC_ACT_OK, FWD },
	};
	/* A no longer enforces ingress: the peer's packet must not open the
	 * revoked flow again as a new inbound one */
	static const struct row no_ingress[] = {
	{ "peer's packet at an ingress nobody enforces: still revoked", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	};
	static const struct row resumed[] = {
	{ "allowed again: the revoked flow resumes", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_OK, FWD },
	};
	static const struct row reopen[] = {
	{ "revoked again", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	{ "a SYN on the tuple is a new connection, decided afresh", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	struct segd_ct_value v;

	apply_world(0);
	cr_expect_eq(seg_dp_generation(dp), 1);
	RUN("revoke/open", open_rows);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0);
	cr_expect_eq(v.policy_gen, 1);
	cr_expect_eq(v.rule_id, 1);
	cr_expect_eq(v.origin_dir, EG);

	apply_world(1);
	cr_expect_eq(seg_dp_generation(dp), 2);
	RUN("revoke/renumbered", renumbered);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0);
	cr_expect_eq(v.policy_gen, 2, "gen %u", v.policy_gen);
	cr_expect_eq(v.rule_id, 21, "rule %u", v.rule_id);

	apply_world(2);
	cr_expect_eq(seg_dp_generation(dp), 3);
	RUN("revoke/cut", cut);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0, "tombstone kept");
	cr_expect(v.flags & SEGD_CTF_REVOKED);
	cr_expect_eq(v.policy_gen, 3);
	cr_assert_eq(ct_get(A4, R4, 40000, 53, UDP, &v), 0);
	cr_expect_eq(v.policy_gen, 3);
	cr_expect(!(v.flags & SEGD_CTF_REVOKED));

	apply_world(3);
	RUN("revoke/no-ingress", no_ingress);
	apply_world(0);
	RUN("revoke/resumed", resumed);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0);
	cr_expect(!(v.flags & SEGD_CTF_REVOKED));
	apply_world(2);
	RUN("revoke/reopen", reopen);
	cr_expect_neq(ct_get(A4, R4, 40000, 80, TCP, &v), 0,
		      "the SYN's fresh denial leaves no entry");
}

Test(datapath, map_usage_and_apply_limits)
{
	struct seg_dp_map_usage u[8];
	struct seg_compiled c;
	int n;

	apply_world(0);
	n = seg_dp_map_usage(dp, u, 8);
	cr_assert_eq(n, 8, "rows %d", n);
	for (int i = 0; i < n; i++) {
		if (!strcmp(u[i].name, SEGD_MAP_POLICY)) {
			cr_expect_eq(u[i].entries, 12);
			cr_expect_eq(u[i].capacity, SEGD_MAX_POLICY_ENTRIES);
		} else if (!strcmp(u[i].name, SEGD_MAP_IPC_EXACT)) {
			cr_expect_eq(u[i].entries, 4);
		} else if (!strcmp(u[i].name, SEGD_MAP_IPC_LPM)) {
			cr_expect_eq(u[i].entries, 5);
		} else if (!strcmp(u[i].name, SEGD_MAP_CT)) {
			cr_expect_eq(u[i].entries, 0);
			cr_expect_eq(u[i].capacity, SEGD_MAX_CT_ENTRIES);
		}
	}
	/* a rule id outside segd_rules is refused and changes nothing */
	world(&c, 0);
	c.entries[0].value.rule_id = seg_dp_rule_slots(dp);
	cr_expect_eq(seg_dp_apply(dp, &c), -EINVAL);
	st_free(&c);
	cr_expect_eq(seg_dp_generation(dp), 1);
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* The programs are pinned as <pin>/progs/<name> and are the very programs
 * seg_dp_prog_fd returns; ids[] gets their ids. */
static void expect_prog_pins(const char *pin, const char *step,
			     uint32_t ids[3])
{
	static const struct {
		enum seg_prog prog;
		const char *name;
	} progs[3] = {
		{ FROM, "from_endpoint" }, { TO, "to_endpoint" },
		{ XDP, "uplink" },
	};

	for (int i = 0; i < 3; i++) {
		uint32_t want = prog_id_of(seg_dp_prog_fd(dp, progs[i].prog));
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/%s/%s", pin, SEGD_PIN_PROGS_DIR,
			 progs[i].name);
		fd = bpf_obj_get(path);
		cr_assert_geq(fd, 0, "[%s] %s not pinned: %s", step, path,
			      strerror(errno));
		ids[i] = prog_id_of(fd);
		close(fd);
		cr_expect_neq(want, 0, "[%s] no id for %s", step,
			      progs[i].name);
		cr_expect_eq(ids[i], want, "[%s] %s is program %u, "
			     "seg_dp_prog_fd has %u", step, path, ids[i], want);
	}
}

/* A restarted segd adopts what is pinned: generation, policy and CT. Its
 * programs replace the previous process's program pins. */
Test(datapath, adopt_pinned_state)
{
	static const struct row before[] = {
	{ "open tcp 80 (first process)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 42000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row after[] = {
	{ "established flow survives the restart", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 42000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "policy survives the restart", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 42001, .dport = 81,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	char root[] = "/tmp/segd-test-bpffs.XXXXXX", pin[64];
	uint32_t first[3], second[3];
	struct segd_ct_value v;

	dp_bpffs_make(root, pin);
	seg_dp_close(dp);
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	expect_prog_pins(pin, "adopt/first process", first);
	apply_world(0);
	RUN("adopt/before", before);
	seg_dp_close(dp);
	dp = NULL;

	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	/* the pins now name the new process's programs, not the old ones */
	expect_prog_pins(pin, "adopt/restarted", second);
	for (int i = 0; i < 3; i++)
		cr_expect_neq(second[i], first[i], "pin %d not replaced", i);
	cr_expect_eq(seg_dp_generation(dp), 1);
	RUN("adopt/after", after);
	cr_expect_eq(ct_get(A4, R4, 42000, 80, TCP, &v), 0);
	seg_dp_close(dp);
	dp = NULL;
	dp_bpffs_drop(root);
	cr_assert_eq(seg_dp_open(NULL, &dp), 0); /* for teardown */
}

/* ---- apply sequences: the active slot holds exactly the compiled state --- */

/* The probe hints core/image/policy_image.c ORs into exact ipcache values,
 * computed here independently from the policy entries. */
static uint32_t want_hints(const struct seg_compiled *c, uint32_t id)
{
	uint32_t b = SEGD_EPF_PROBES_VALID | SEGD_EPF_ANYREM_PROTO_VALID;

	for (size_t i = 0; i < c->n_entries; i++) {
		const struct segd_policy_key *k = &c->entries[i].key;
		int anyrem = k->remote_id == SEGD_ID_ANY, kind;

		if (k->local_id != id || k->dir > EG)
			continue;
		kind = k->port_kind == SEGD_PORT_EXACT ? SEGD_PROBE_EXACT :
		       k->port_kind == SEGD_PORT_BLOCK ? SEGD_PROBE_BLOCK :
		       k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
		b |= SEGD_EPF_PROBE(k->dir, anyrem, kind);
		if (!anyrem || kind == SEGD_PROBE_ALLPROTO)
			continue;
		if (k->proto == TCP)
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP);
		else if (k->proto == UDP)
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP);
		else
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
	}
	return b;
}

/* every (key, value) of an inner map, by get_next_key + lookup */
static size_t dump_map(int fd, size_t ks, size_t vs, uint8_t **out)
{
	uint8_t *rec = NULL, key[64], next[64];
	size_t n = 0;
	int r;

	for (r = bpf_map_get_next_key(fd, NULL, next); !r;
	     r = bpf_map_get_next_key(fd, key, next)) {
		rec = realloc(rec, (n + 1) * (ks + vs));
		cr_assert_not_null(rec);
		memcpy(rec + n * (ks + vs), next, ks);
		cr_assert_eq(bpf_map_lookup_elem(fd, next,
						 rec + n * (ks + vs) + ks), 0);
		memcpy(key, next, ks);
		n++;
	}
	cr_assert_eq(errno, ENOENT, "dump: %s", strerror(errno));
	*out = rec;
	return n;
}

/* is (key, value) one of the n records? */
static int has_rec(const uint8_t *rec, size_t n, size_t ks, size_t vs,
		   const void *key, const void *val)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(rec + i * (ks + vs), key, ks))
			return !memcmp(rec + i * (ks + vs) + ks, val, vs);
	return 0;
}

/* Read the three inner maps of the active slot back and compare them with
 * c, entry by entry, in both directions (same count, every entry there). */
static void expect_active(const struct seg_compiled *c, const char *step)
{
	static const char *const outer[3] = {
		SEGD_MAP_POLICY, SEGD_MAP_IPC_EXACT, SEGD_MAP_IPC_LPM,
	};
	static const size_t ks[3] = { sizeof(struct segd_policy_key),
		sizeof(struct segd_addr), sizeof(struct segd_lpm_key) };
	static const size_t vs[3] = { sizeof(struct segd_policy_value),
		sizeof(struct segd_ipcache_value),
		sizeof(struct segd_ipcache_value) };
	const size_t want_n[3] = { c->n_entries, c->n_exact, c->n_prefixes };
	uint32_t slot = seg_dp_generation(dp) & 1;

	for (int t = 0; t < 3; t++) {
		uint32_t id = 0;
		uint8_t *rec;
		size_t n;
		int fd;

		cr_assert_eq(bpf_map_lookup_elem(seg_dp_map_fd(dp, outer[t]),
						 &slot, &id), 0);
		fd = bpf_map_get_fd_by_id(id);
		cr_assert_geq(fd, 0, "[%s] %s[%u]: no inner map", step,
			      outer[t], slot);
		n = dump_map(fd, ks[t], vs[t], &rec);
		close(fd);
		cr_expect_eq(n, want_n[t], "[%s] %s holds %zu entries, want %zu",
			     step, outer[t], n, want_n[t]);
		for (size_t i = 0; i < want_n[t]; i++) {
			const void *k, *v;
			struct segd_ipcache_value iv;

			if (t == 0) {
				k = &c->entries[i].key;
				v = &c->entries[i].value;
			} else if (t == 1) {
				iv = c->exact[i].value;
				iv.flags |= want_hints(c, iv.identity);
				k = &c->exact[i].addr;
				v = &iv;
			} else {
				k = &c->prefixes[i].key;
				v = &c->prefixes[i].value;
			}
			cr_expect(has_rec(rec, n, ks[t], vs[t], k, v),
				  "[%s] %s: entry %zu missing or different",
				  step, outer[t], i);
		}
		free(rec);
	}
}

#define D4 "10.200.0.13"   /* an endpoint that only some states have */

/* variant 0..2 as world(); 3: world(0) plus endpoint D (ipcache-only
 * change); 4: the ipcache of world(0) and no policy entries at all */
static void world2(struct seg_compiled *c, int variant)
{
	world(c, variant == 3 || variant == 4 ? 0 : variant);
	if (variant == 3)
		cr_assert_eq(st_exact(c, D4, ID_B, EP_IF, SEGD_EPF_LOCAL, 4), 0);
	if (variant == 4) {
		free(c->entries);
		c->entries = NULL;
		c->n_entries = 0;
	}
}

/* apply variant, check the maps, then what packets see */
static void step(int variant, const char *name, uint16_t sport)
{
	const struct row rows[] = {
	{ "tcp 80 to R (rule 1: variants 0, 1, 3)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = sport, .dport = 80,
	    .tcp_flags = SYN },
	  variant == 2 || variant == 4 ? TC_ACT_SHOT : TC_ACT_OK,
	  variant == 2 || variant == 4 ? SEGD_REASON_DEFAULT_DENIED : FWD },
	{ "udp 53 to any (rule 2: all but 4)", FROM,
	  { .src = A4, .dst = "8.8.8.8", .proto = UDP, .sport = sport,
	    .dport = 53 }, variant == 4 ? TC_ACT_SHOT : TC_ACT_OK,
	  variant == 4 ? SEGD_REASON_DEFAULT_DENIED : FWD },
	{ "tcp 53 to any: never (remote-ANY keys are udp)", FROM,
	  { .src = A4, .dst = "8.8.8.8", .proto = TCP, .sport = sport,
	    .dport = 53, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "D sends (an endpoint in variant 3 only)", FROM,
	  { .src = D4, .dst = R4, .proto = TCP, .sport = sport, .dport = 9,
	    .tcp_flags = SYN }, variant == 3 ? TC_ACT_OK : TC_ACT_SHOT,
	  variant == 3 ? FWD : SEGD_REASON_SPOOFED },
	{ "XDP: ssh from R (rule 5: all but 4)", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = sport, .dport = 22,
	    .tcp_flags = SYN }, variant == 4 ? XDP_DROP : XDP_PASS,
	  variant == 4 ? SEGD_REASON_DEFAULT_DENIED : NOR },
	};
	struct seg_compiled c;
	uint32_t gen = seg_dp_generation(dp);
	int err;

	world2(&c, variant);
	err = seg_dp_apply(dp, &c);
	cr_assert_eq(err, 0, "[%s] seg_dp_apply: %s", name, strerror(-err));
	cr_expect_eq(seg_dp_generation(dp), gen + 1, "[%s] generation", name);
	expect_active(&c, name);
	st_free(&c);
	RUN(name, rows);
}

Test(datapath, apply_sequence_in_place)
{
	struct seg_compiled bad;
	uint16_t sport = 30000;
	uint32_t gen;

	step(0, "first apply", sport++);
	step(0, "same state, other slot", sport++);
	step(2, "one-rule change (rule 1 removed)", sport++);
	step(0, "and back", sport++);
	step(2, "one-rule change again", sport++);
	step(3, "ipcache-only change (endpoint D added)", sport++);
	step(0, "ipcache back (D removed)", sport++);
	step(1, "rule renumbered", sport++);
	step(1, "no change", sport++);
	step(1, "no change again", sport++);
	step(4, "every policy entry removed", sport++);
	step(0, "every policy entry back", sport++);
	/* a refused apply changes nothing, and the next one still works */
	gen = seg_dp_generation(dp);
	world(&bad, 2);
	bad.entries[1].value.rule_id = seg_dp_rule_slots(dp);
	cr_expect_eq(seg_dp_apply(dp, &bad), -EINVAL);
	st_free(&bad);
	cr_expect_eq(seg_dp_generation(dp), gen);
	{
		struct seg_compiled c;

		world2(&c, 0);
		expect_active(&c, "after a refused apply");
		st_free(&c);
	}
	step(2, "after a refused apply: one-rule change", sport++);
	step(3, "two changes at once (rule 1 back, D added)", sport++);
	step(3, "no change", sport++);
}

/* A restarted segd knows nothing about what the slots hold: it adopts the
 * pinned maps, enforces them unchanged, and its applies stay exact. */
Test(datapath, apply_sequence_across_restart)
{
	char root[] = "/tmp/segd-test-bpffs.XXXXXX", pin[64];
	struct seg_compiled c;
	uint16_t sport = 31000;

	dp_bpffs_make(root, pin);
	seg_dp_close(dp);
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(0, "restart/first process: state 0", sport++);
	step(2, "restart/first process: one-rule change", sport++);
	step(3, "restart/first process: two changes", sport++);
	seg_dp_close(dp);
	dp = NULL;

	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	world2(&c, 3);
	expect_active(&c, "restart/adopted, before any apply");
	st_free(&c);
	step(3, "restart/same state re-applied", sport++);
	step(2, "restart/one-rule change", sport++);
	step(0, "restart/back to 0", sport++);
	step(2, "restart/one-rule change, in place", sport++);
	step(2, "restart/no change", sport++);
	seg_dp_close(dp);
	dp = NULL;

	/* and a restart right after an apply (grace period maybe pending) */
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(0, "restart 2/state 0", sport++);
	seg_dp_close(dp);
	dp = NULL;
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(3, "restart 2/ipcache-only change", sport++);
	step(4, "restart 2/every policy entry removed", sport++);
	seg_dp_close(dp);
	dp = NULL;
	dp_bpffs_drop(root);
	cr_assert_eq(seg_dp_open(NULL, &dp), 0); /* for teardown */
}
