/* detect_harness.c - see detect_harness.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "detect_harness.h"

void det_world(int variant)
{
	struct seg_compiled c;
	char a[INET6_ADDRSTRLEN];

	world(&c, variant);
	for (int i = 0; i < N_WL; i++) {
		det_addr_plus(WL_BASE, i + 1, a, sizeof(a));
		cr_assert_eq(st_exact(&c, a, ID_WL + (uint32_t)i, 0, 0, 0), 0);
	}
	dp_apply(&c);
}

/* ---- time: the kernel's coarse monotonic clock ------------------------- */

static uint64_t coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / SEC_NS),
			       .tv_nsec = (long)(ns % SEC_NS) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

uint64_t det_stay_in_epoch(uint64_t epoch_ns, uint64_t need_ns)
{
	uint64_t now = coarse_now();

	if (epoch_ns - now % epoch_ns < need_ns) {
		det_sleep_to_epoch(epoch_ns, now / epoch_ns + 1, 0);
		now = coarse_now();
	}
	return now / epoch_ns;
}

void det_sleep_to_epoch(uint64_t epoch_ns, uint64_t ep, uint64_t margin_ns)
{
	uint64_t at = ep * epoch_ns + margin_ns, now;

	/* the coarse clock moves by ticks: sleep until it has passed */
	while ((now = coarse_now()) < at)
		sleep_ns(at - now < 1000000 ? at - now : 1000000);
}

/* ---- maps --------------------------------------------------------------- */

void det_config(uint64_t epoch_ns, uint16_t lim_ports, uint16_t lim_hosts,
		uint16_t lim_denied, uint16_t flags)
{
	struct segd_detect_config cfg;
	uint32_t zero = 0;
	int fd = seg_dp_map_fd(dp, SEGD_MAP_DETECT_CFG);

	cr_assert_geq(fd, 0, "no %s map", SEGD_MAP_DETECT_CFG);
	memset(&cfg, 0, sizeof(cfg));
	cfg.epoch_ns = epoch_ns;
	cfg.limit[SEGD_SK_PORTS] = lim_ports;
	cfg.limit[SEGD_SK_HOSTS] = lim_hosts;
	cfg.limit[SEGD_SK_DENIED] = lim_denied;
	cfg.flags = flags;
	cr_assert_eq(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), 0);
	if (epoch_ns >= LONG_EPOCH)
		det_stay_in_epoch(epoch_ns, 2 * SEC_NS);
}

static int on_alert(void *ctx, void *data, size_t len)
{
	struct det_alerts *al = ctx;

	cr_assert_eq(len, sizeof(struct segd_alert), "alert of %zu bytes", len);
	cr_assert_lt(al->n, sizeof(al->got) / sizeof(al->got[0]),
		     "more alerts than the test keeps");
	memcpy(&al->got[al->n++], data, sizeof(struct segd_alert));
	return 0;
}

void det_alerts_open(struct det_alerts *al)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_ALERTS);

	memset(al, 0, sizeof(*al));
	cr_assert_geq(fd, 0, "no %s map", SEGD_MAP_ALERTS);
	al->rb = ring_buffer__new(fd, on_alert, al, NULL);
	cr_assert_not_null(al->rb, "ring_buffer__new: %s", strerror(errno));
}

size_t det_alerts_take(struct det_alerts *al)
{
	size_t before = al->n;
	int n = ring_buffer__consume(al->rb);

	cr_assert_geq(n, 0, "ring_buffer__consume: %s", strerror(-n));
	return al->n - before;
}

void det_alerts_close(struct det_alerts *al)
{
	ring_buffer__free(al->rb);
	al->rb = NULL;
}

int det_state(uint32_t endpoint_id, struct segd_detect_state *st)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_DETECT);

	cr_assert_geq(fd, 0, "no %s map", SEGD_MAP_DETECT);
	return bpf_map_lookup_elem(fd, &endpoint_id, st) ? -errno : 0;
}

void det_send(const char *scenario, const char *name, enum seg_prog prog,
	      const struct pkt_spec *ps, int verdict, int reason)
{
	struct row r = { .name = name, .prog = prog, .pkt = *ps,
			 .verdict = verdict, .reason = reason };

	run_rows(scenario, &r, 1);
}

void det_addr_plus(const char *base, int i, char *buf, size_t len)
{
	struct segd_addr a;
	unsigned int low;
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	cr_assert_eq(st_addr(base, &a), 0, "%s", base);
	low = ((unsigned int)a.b[14] << 8 | a.b[15]) + (unsigned int)i;
	a.b[14] = (uint8_t)(low >> 8);
	a.b[15] = (uint8_t)low;
	if (!memcmp(a.b, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, a.b + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a.b, buf, (socklen_t)len);
}

/* ---- the model ------------------------------------------------------------ */

/* bpf/lib/detect.h's hashes */
static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

static uint32_t addr_hash(const struct segd_addr *a)
{
	uint32_t w[4];

	memcpy(w, a->b, sizeof(w));
	return mix(w[0] ^ mix(w[1] ^ mix(w[2] ^ mix(w[3]))));
}

void model_target(const struct pkt_spec *ps, int denied,
		  struct segd_detect_target *t)
{
	memset(t, 0, sizeof(*t));
	cr_assert_eq(st_addr(ps->dst, &t->addr), 0, "%s", ps->dst);
	if (ps->proto == IPPROTO_ICMP || ps->proto == IPPROTO_ICMPV6)
		t->port = (uint16_t)(ps->icmp_type << 8 | ps->icmp_code);
	else
		t->port = ps->dport;
	t->proto = ps->proto;
	t->denied = (uint8_t)denied;
}

/* set h's bit in sketch sk; 1 when it was not set */
static int model_add(struct det_model *m, int sk, uint32_t h)
{
	uint32_t bit = h >> 24;
	uint64_t mask = 1ull << (bit & 63);

	if (m->bits[sk][bit >> 6] & mask)
		return 0;
	m->bits[sk][bit >> 6] |= mask;
	m->count[sk]++;
	return 1;
}

unsigned int model_flow(struct det_model *m, const struct pkt_spec *ps,
			int denied, int to_workload)
{
	struct segd_detect_target t;
	unsigned int fresh = 0;
	uint32_t hp, hh;

	model_target(ps, denied, &t);
	m->flows++;
	m->denied += denied != 0;
	hp = mix((uint32_t)t.proto << 16 | t.port);
	hh = addr_hash(&t.addr);
	fresh |= (unsigned int)model_add(m, SEGD_SK_PORTS, hp) << SEGD_SK_PORTS;
	fresh |= (unsigned int)model_add(m, SEGD_SK_HOSTS, hh) << SEGD_SK_HOSTS;
	if (denied && to_workload)
		fresh |= (unsigned int)model_add(m, SEGD_SK_DENIED,
						 mix(hh ^ hp)) << SEGD_SK_DENIED;
	if (fresh)
		m->sample[m->fresh++ % SEGD_DETECT_SAMPLES] = t;
	return fresh;
}

void det_expect_state(const struct segd_detect_state *st,
		      const struct det_model *m, const char *where)
{
	static const uint64_t none[SEGD_SK_MAX][SEGD_DETECT_WORDS];

	for (int sk = 0; sk < SEGD_SK_MAX; sk++) {
		cr_expect_eq(memcmp(st->cur[sk], m->bits[sk], sizeof(m->bits[sk])),
			     0, "[%s] sketch %d: bits differ from the model",
			     where, sk);
		cr_expect_eq(st->cur_bits[sk], m->count[sk],
			     "[%s] sketch %d: cur_bits %u, want %u", where, sk,
			     st->cur_bits[sk], m->count[sk]);
		cr_expect_eq(st->union_bits[sk], m->count[sk],
			     "[%s] sketch %d: union_bits %u, want %u", where,
			     sk, st->union_bits[sk], m->count[sk]);
	}
	cr_expect_eq(memcmp(st->prev, none, sizeof(none)), 0,
		     "[%s] a previous epoch", where);
	cr_expect_eq(st->flows[0], m->flows, "[%s] flows %u, want %u", where,
		     st->flows[0], m->flows);
	cr_expect_eq(st->denied[0], m->denied, "[%s] denied %u, want %u",
		     where, st->denied[0], m->denied);
	cr_expect_eq(st->flows[1], 0, "[%s] flows of a previous epoch", where);
	cr_expect_eq(st->next_sample, m->fresh, "[%s] next_sample %u, want %u",
		     where, st->next_sample, m->fresh);
	cr_expect_eq(memcmp(st->sample, m->sample, sizeof(m->sample)), 0,
		     "[%s] samples differ from the model", where);
	cr_expect_neq(st->first_ns[0], 0, "[%s] first_ns not set", where);
}

void det_expect_alert(const struct segd_alert *a, const struct det_model *m,
		      const struct pkt_spec *ps, int denied, int kind,
		      int sketch, uint16_t list_id, const char *where)
{
	struct segd_detect_target t;
	struct segd_addr laddr;
	uint32_t n = m->fresh < SEGD_DETECT_SAMPLES ? m->fresh :
						       SEGD_DETECT_SAMPLES;

	model_target(ps, denied, &t);
	cr_assert_eq(st_addr(ps->src, &laddr), 0);
	cr_expect_eq(a->kind, kind, "[%s] kind %u, want %d", where, a->kind, kind);
	cr_expect_eq(a->sketch, sketch, "[%s] sketch %u, want %d", where,
		     a->sketch, sketch);
	cr_expect_eq(a->endpoint_id, EP_A, "[%s] endpoint %u", where,
		     a->endpoint_id);
	cr_expect_eq(memcmp(&a->laddr, &laddr, sizeof(laddr)), 0,
		     "[%s] laddr is not %s", where, ps->src);
	cr_expect_eq(memcmp(&a->target, &t, sizeof(t)), 0,
		     "[%s] target is not %s:%u/%u (denied %d): port %u proto %u "
		     "denied %u", where, ps->dst, t.port, t.proto, denied,
		     a->target.port, a->target.proto, a->target.denied);
	cr_expect_eq(a->list_id, list_id, "[%s] list %u, want %u", where,
		     a->list_id, list_id);
	cr_expect_eq(a->flows, m->flows, "[%s] flows %u, want %u", where,
		     a->flows, m->flows);
	cr_expect_eq(a->denied, m->denied, "[%s] denied %u, want %u", where,
		     a->denied, m->denied);
	for (int sk = 0; sk < SEGD_SK_MAX; sk++)
		cr_expect_eq(a->bits[sk], m->count[sk],
			     "[%s] bits[%d] %u, want %u", where, sk,
			     a->bits[sk], m->count[sk]);
	cr_expect_eq(a->n_sample, n, "[%s] n_sample %u, want %u", where,
		     a->n_sample, n);
	cr_expect_eq(memcmp(a->sample, m->sample, sizeof(m->sample)), 0,
		     "[%s] samples differ from the model", where);
	cr_expect(a->first_ns && a->first_ns <= a->ts_ns,
		  "[%s] first_ns %llu, ts_ns %llu", where,
		  (unsigned long long)a->first_ns,
		  (unsigned long long)a->ts_ns);
	cr_expect_eq(a->pad, 0, "[%s] pad", where);
}

void det_run_steps(const char *scenario, const struct step *s, size_t n,
		   struct det_alerts *al, struct det_model *m)
{
	for (size_t i = 0; i < n; i++) {
		int denied = s[i].verdict != TC_ACT_OK;
		char where[160];
		size_t got;

		snprintf(where, sizeof(where), "%s: %s", scenario, s[i].name);
		det_send(scenario, where, FROM, &s[i].pkt, s[i].verdict,
			 s[i].reason);
		/* a blocklisted flow's remote is not looked up: not lateral */
		model_flow(m, &s[i].pkt, denied,
			   s[i].to_workload && s[i].reason != BLK);
		got = det_alerts_take(al);
		cr_expect_eq(got, s[i].kind != 0, "[%s] %zu alerts, want %d",
			     where, got, s[i].kind != 0);
		if (got && s[i].kind)
			det_expect_alert(&al->got[al->n - 1], m, &s[i].pkt,
					 denied, s[i].kind, s[i].sketch,
					 s[i].list_id, where);
	}
}
