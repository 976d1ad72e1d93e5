/* test_alert_records.c - core/detect/alerts.c: an alert record from the
 * kernel's segd_alert (shape, counts, times, samples), and the store of
 * recent alerts (one record per episode: merged by workload and kind
 * within a window, a new one after it; a bounded ring). The `segctl
 * alerts` answer and output: test_alerts.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include "detect.h"

/* the kernel's alert with bits[] set from distinct counts */
static struct segd_alert kernel_alert(uint8_t kind, unsigned int ports,
				      unsigned int hosts, uint16_t list_id)
{
	struct segd_alert ev = { 0 };

	ev.kind = kind;
	ev.ts_ns = 5000ull * 1000000;   /* monotonic 5 s */
	ev.first_ns = 3000ull * 1000000;
	ev.laddr.b[10] = 0xff, ev.laddr.b[11] = 0xff;
	ev.laddr.b[12] = 10, ev.laddr.b[15] = 7;
	ev.bits[SEGD_SK_PORTS] = seg_detect_bits_for(ports);
	ev.bits[SEGD_SK_HOSTS] = seg_detect_bits_for(hosts);
	ev.list_id = list_id;
	ev.flows = 40;
	ev.denied = 30;
	return ev;
}

struct shape_case {
	char name[48];
	uint8_t kind;
	unsigned int ports, hosts;
	uint16_t list_id;
	char shape[16];
};

static struct shape_case shape_cases[] = {
	{ "one host, many ports", SEGD_ALERT_SCAN, 100, 1, 0, "vertical" },
	{ "four hosts, many ports (the edge)", SEGD_ALERT_SCAN, 60, 4, 0, "vertical" },
	{ "many hosts, one port", SEGD_ALERT_SCAN, 1, 64, 0, "horizontal" },
	{ "many hosts, four ports (the edge)", SEGD_ALERT_SCAN, 4, 40, 0, "horizontal" },
	{ "five hosts, five ports", SEGD_ALERT_SCAN, 5, 5, 0, "block" },
	{ "many of both", SEGD_ALERT_SCAN, 50, 50, 0, "block" },
	{ "miner from a list", SEGD_ALERT_MINER, 1, 1, 3, "list" },
	{ "miner from a Stratum login", SEGD_ALERT_MINER, 1, 1, 0, "stratum" },
	{ "c2 from a list", SEGD_ALERT_C2, 1, 1, 2, "list" },
	{ "lateral has no shape", SEGD_ALERT_LATERAL, 3, 3, 0, "" },
};

ParameterizedTestParameters(alert_records, shape)
{
	return cr_make_param_array(struct shape_case, shape_cases,
				   sizeof(shape_cases) / sizeof(shape_cases[0]));
}

ParameterizedTest(struct shape_case *c, alert_records, shape)
{
	struct segd_alert ev = kernel_alert(c->kind, c->ports, c->hosts, c->list_id);
	struct seg_alert a = { 0 };

	seg_alert_from_kernel(&a, &ev, NULL, 1000000);
	cr_expect_str_eq(a.shape, c->shape, "%s", c->name);
	cr_expect_eq(a.ports, c->ports, "%s: ports %u", c->name, a.ports);
	cr_expect_eq(a.hosts, c->hosts, "%s: hosts %u", c->name, a.hosts);
}

Test(alert_records, times_counts_and_evidence)
{
	struct segd_alert ev = kernel_alert(SEGD_ALERT_SCAN, 30, 1, 0);
	struct seg_alert a = { 0 };

	ev.target.port = 4242;
	ev.target.proto = 6;
	seg_alert_from_kernel(&a, &ev, NULL, 1000000);
	cr_expect_eq(a.first_ms, 3000 + 1000000, "first packet in unix ms");
	cr_expect_eq(a.last_ms, 5000 + 1000000, "the crossing packet in unix ms");
	cr_expect_eq(a.flows, 40);
	cr_expect_eq(a.denied, 30);
	cr_expect_eq(a.n_sample, 1, "no sample kept: the crossing flow is the evidence");
	cr_expect_eq(a.sample[0].port, 4242);
	cr_expect_eq(a.raised, 1);

	ev.first_ns = 0;   /* not timed: the crossing packet is the first */
	seg_alert_from_kernel(&a, &ev, NULL, 1000000);
	cr_expect_eq(a.first_ms, a.last_ms);
	ev.n_sample = 200;  /* a count past the array: at most the array */
	seg_alert_from_kernel(&a, &ev, NULL, 1000000);
	cr_expect_eq(a.n_sample, SEGD_DETECT_SAMPLES);
}

static struct seg_alert record(uint8_t kind, uint8_t last_octet, int64_t last_ms)
{
	struct seg_alert a = { 0 };

	a.kind = (enum segd_alert_kind)kind;
	a.addr.s6_addr[10] = 0xff, a.addr.s6_addr[11] = 0xff;
	a.addr.s6_addr[12] = 10, a.addr.s6_addr[15] = last_octet;
	a.first_ms = a.last_ms = last_ms;
	a.flows = 10;
	a.ports = 24;
	a.raised = 1;
	return a;
}

Test(alert_records, one_record_per_episode)
{
	struct seg_alerts as = { 0 };
	struct seg_alert a, *stored = NULL;
	bool merged;

	cr_assert_eq(seg_alerts_init(&as), 0);
	a = record(SEGD_ALERT_SCAN, 7, 1000);
	cr_assert_eq(seg_alerts_add(&as, &a, 10000, &stored, &merged), 0);
	cr_expect(!merged);
	cr_expect_eq(stored->id, 1);

	a = record(SEGD_ALERT_SCAN, 7, 6000);   /* the next epoch of the scan */
	a.ports = 60;
	cr_assert_eq(seg_alerts_add(&as, &a, 10000, &stored, &merged), 0);
	cr_expect(merged, "same workload and kind within the window");
	cr_expect_eq(stored->id, 1);
	cr_expect_eq(stored->last_ms, 6000);
	cr_expect_eq(stored->first_ms, 1000);
	cr_expect_eq(stored->ports, 60, "the larger count");
	cr_expect_eq(stored->raised, 2);

	a = record(SEGD_ALERT_LATERAL, 7, 6500);   /* another kind */
	cr_assert_eq(seg_alerts_add(&as, &a, 10000, &stored, &merged), 0);
	cr_expect(!merged);
	a = record(SEGD_ALERT_SCAN, 8, 6500);      /* another workload */
	cr_assert_eq(seg_alerts_add(&as, &a, 10000, &stored, &merged), 0);
	cr_expect(!merged);
	a = record(SEGD_ALERT_SCAN, 7, 16001);     /* past the window: a new episode */
	cr_assert_eq(seg_alerts_add(&as, &a, 10000, &stored, &merged), 0);
	cr_expect(!merged);
	cr_expect_eq(stored->id, 4);
	cr_expect_eq(as.n, 4);
	cr_expect_eq(as.total[SEGD_ALERT_SCAN], 3, "episodes, not kernel alerts");
	cr_expect_eq(as.total[SEGD_ALERT_LATERAL], 1);
	seg_alerts_free(&as);
}

Test(alert_records, the_ring_keeps_the_newest)
{
	struct seg_alerts as = { 0 };
	struct seg_alert *stored = NULL;
	bool merged;

	cr_assert_eq(seg_alerts_init(&as), 0);
	for (int i = 0; i < SEG_ALERTS_KEEP + 10; i++) {
		/* 0 ms merge window: every alert is its own record */
		struct seg_alert a = record(SEGD_ALERT_SCAN, (uint8_t)(i % 200), i * 10);

		cr_assert_eq(seg_alerts_add(&as, &a, 0, &stored, &merged), 0);
		cr_assert(!merged, "alert %d", i);
	}
	cr_expect_eq(as.n, SEG_ALERTS_KEEP);
	cr_expect_eq(seg_alerts_at(&as, 0)->id, 11, "the oldest 10 went");
	cr_expect_eq(seg_alerts_at(&as, SEG_ALERTS_KEEP - 1)->id, SEG_ALERTS_KEEP + 10);
	cr_expect_eq(as.total[SEGD_ALERT_SCAN], SEG_ALERTS_KEEP + 10);
	seg_alerts_free(&as);
}
