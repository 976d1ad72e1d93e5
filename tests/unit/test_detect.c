/* test_detect.c - core/detect/detect.c: the kernel's bit limits from
 * distinct counts and back (linear counting on SEGD_DETECT_BITS bits), the
 * segd_detect_config image of the settings, the techniques of the kinds,
 * actions. Expected bit counts are m (1 - (1 - 1/m)^n) rounded, m = 256,
 * worked out separately (closed form). The alert records and `segctl
 * alerts`: test_alerts.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "detect.h"

/* ---- distinct count <-> bits ----------------------------------------------- */

struct bits_case {
	unsigned int distinct;
	uint16_t bits;
};

static struct bits_case bits_cases[] = {
	{ 0, 0 },            /* nothing counted: a limit of 0, never fires */
	{ 1, 1 },
	{ 2, 2 },            /* 1.996 */
	{ 3, 3 },
	{ 8, 8 },            /* 7.89: the default lateral limit */
	{ 16, 16 },          /* 15.54 */
	{ 24, 23 },          /* 22.95: the default scan_ports */
	{ 32, 30 },          /* 30.14: the default scan_hosts */
	{ 64, 57 },
	{ 100, 83 },
	{ 128, 101 },
	{ 200, 139 },        /* 138.97: the largest count the config takes */
	{ 256, 162 },
	{ 1000, 251 },
	{ 1500, 255 },       /* 255.28 */
	{ 2000, 256 },       /* 255.90: rounds to every bit set */
	{ 5000, 256 },       /* saturated: never more than the sketch */
	{ UINT_MAX / 1024, 256 },
};

ParameterizedTestParameters(detect_bits, bits_for)
{
	return cr_make_param_array(struct bits_case, bits_cases,
				   sizeof(bits_cases) / sizeof(bits_cases[0]));
}

ParameterizedTest(struct bits_case *c, detect_bits, bits_for)
{
	uint16_t got = seg_detect_bits_for(c->distinct);

	cr_expect_eq(got, c->bits, "bits_for(%u) = %u, want %u", c->distinct,
		     got, c->bits);
}

struct distinct_case {
	unsigned int bits;
	unsigned int distinct;
};

/* the smallest count whose expected bits round to at least `bits` */
static struct distinct_case distinct_cases[] = {
	{ 0, 0 },
	{ 1, 1 },
	{ 2, 2 },
	{ 8, 8 },
	{ 23, 24 },
	{ 30, 32 },
	{ 139, 199 },        /* 199 and 200 both set 139 bits on average */
	{ 200, 387 },
	{ 250, 939 },
	{ 255, 1314 },
	{ 256, 1314 },       /* all bits set: the most it can tell */
	{ 300, 1314 },       /* more than the sketch holds: the same */
	{ UINT_MAX, 1314 },
};

ParameterizedTestParameters(detect_bits, distinct_of)
{
	return cr_make_param_array(struct distinct_case, distinct_cases,
				   sizeof(distinct_cases) / sizeof(distinct_cases[0]));
}

ParameterizedTest(struct distinct_case *c, detect_bits, distinct_of)
{
	unsigned int got = seg_detect_distinct_of(c->bits);

	cr_expect_eq(got, c->distinct, "distinct_of(%u) = %u, want %u", c->bits,
		     got, c->distinct);
}

Test(detect_bits, monotone_and_bounded)
{
	uint16_t last = 0;
	unsigned int last_n = 0;

	for (unsigned int n = 0; n <= 3000; n++) {
		uint16_t b = seg_detect_bits_for(n);

		cr_assert_geq(b, last, "bits_for(%u) = %u < bits_for(%u) = %u",
			      n, b, n - 1, last);
		cr_assert_leq(b, SEGD_DETECT_BITS, "bits_for(%u) = %u", n, b);
		/* one more target sets at most one more bit */
		cr_assert_leq(b, last + 1, "bits_for(%u) jumps from %u to %u",
			      n, last, b);
		cr_assert(n == 0 || b >= 1, "bits_for(%u) = 0", n);
		last = b;
	}
	cr_expect_eq(last, SEGD_DETECT_BITS, "never saturates");
	for (unsigned int b = 0; b <= SEGD_DETECT_BITS + 4; b++) {
		unsigned int n = seg_detect_distinct_of(b);

		cr_assert_geq(n, last_n, "distinct_of(%u) = %u < %u", b, n,
			      last_n);
		last_n = n;
	}
}

/* Every bit count is some count's, and the way back lands on the smallest
 * count of that bit count: at most one below, in the range the config
 * takes (1..200), where each bit stands for at most two targets. */
Test(detect_bits, round_trip_within_the_estimate)
{
	for (unsigned int b = 0; b < SEGD_DETECT_BITS; b++) {
		unsigned int n = seg_detect_distinct_of(b);

		cr_expect_eq(seg_detect_bits_for(n), b,
			     "bits_for(distinct_of(%u) = %u) = %u", b, n,
			     seg_detect_bits_for(n));
		cr_expect(n == 0 || seg_detect_bits_for(n - 1) < b,
			  "distinct_of(%u) = %u is not the smallest", b, n);
	}
	for (unsigned int n = 1; n <= 200; n++) {
		unsigned int est = seg_detect_distinct_of(seg_detect_bits_for(n));

		cr_expect(est <= n && n - est <= 1, "distinct_of(bits_for(%u)) "
			  "= %u", n, est);
	}
}

/* ---- the kernel's config ----------------------------------------------------- */

struct image_case {
	char name[64];
	bool off;
	unsigned int window_s, ports, hosts, lateral;
	enum seg_detect_action scan, lateral_act, miner, c2;
	uint64_t epoch_ns;
	uint16_t lim_ports, lim_hosts, lim_lateral, flags;
};

#define ALL (SEGD_DCF_ON | SEGD_DCF_MINER | SEGD_DCF_C2)
#define AL SEG_DETECT_ALERT
#define QU SEG_DETECT_QUARANTINE

static struct image_case image_cases[] = {
	{ "defaults", false, 10, 24, 32, 8, AL, AL, AL, AL,
	  5000000000ull, 23, 30, 8, ALL },
	{ "off: nothing at all", true, 10, 24, 32, 8, AL, AL, AL, AL,
	  0, 0, 0, 0, 0 },
	{ "off with quarantine actions", true, 60, 200, 200, 200, QU, QU, QU, QU,
	  0, 0, 0, 0, 0 },
	{ "shortest window: 1 s epochs", false, 2, 1, 1, 1, AL, AL, AL, AL,
	  1000000000ull, 1, 1, 1, ALL },
	{ "odd window: half a second kept", false, 3, 24, 32, 8, AL, AL, AL, AL,
	  1500000000ull, 23, 30, 8, ALL },
	{ "longest window", false, 3600, 200, 200, 200, AL, AL, AL, AL,
	  1800000000000ull, 139, 139, 139, ALL },
	{ "a window past 32 bits of ns", false, UINT_MAX, 24, 32, 8, AL, AL, AL,
	  AL, 2147483647500000000ull, 23, 30, 8, ALL },
	{ "miner and c2 quarantine: still alerts", false, 10, 24, 32, 8, AL, AL,
	  QU, QU, 5000000000ull, 23, 30, 8, ALL },
	{ "scan and lateral quarantine", false, 10, 16, 64, 3, QU, QU, AL, AL,
	  5000000000ull, 16, 57, 3, ALL },
	{ "a count of 0: that limit never fires", false, 10, 0, 32, 0, AL, AL,
	  AL, AL, 5000000000ull, 0, 30, 0, ALL },
};

ParameterizedTestParameters(detect_image, config)
{
	return cr_make_param_array(struct image_case, image_cases,
				   sizeof(image_cases) / sizeof(image_cases[0]));
}

ParameterizedTest(struct image_case *c, detect_image, config)
{
	struct seg_detect_settings s;
	struct segd_detect_config out;

	seg_detect_defaults(&s);
	s.off = c->off;
	s.window_s = c->window_s;
	s.scan_ports = c->ports;
	s.scan_hosts = c->hosts;
	s.lateral_targets = c->lateral;
	s.action[SEGD_ALERT_SCAN] = c->scan;
	s.action[SEGD_ALERT_LATERAL] = c->lateral_act;
	s.action[SEGD_ALERT_MINER] = c->miner;
	s.action[SEGD_ALERT_C2] = c->c2;
	memset(&out, 0xa5, sizeof(out));   /* every byte must be written */
	seg_detect_config_image(&s, &out);
	cr_expect_eq(out.epoch_ns, c->epoch_ns, "[%s] epoch_ns %llu, want %llu",
		     c->name, (unsigned long long)out.epoch_ns,
		     (unsigned long long)c->epoch_ns);
	cr_expect_eq(out.limit[SEGD_SK_PORTS], c->lim_ports, "[%s] ports %u",
		     c->name, out.limit[SEGD_SK_PORTS]);
	cr_expect_eq(out.limit[SEGD_SK_HOSTS], c->lim_hosts, "[%s] hosts %u",
		     c->name, out.limit[SEGD_SK_HOSTS]);
	cr_expect_eq(out.limit[SEGD_SK_DENIED], c->lim_lateral,
		     "[%s] lateral %u", c->name, out.limit[SEGD_SK_DENIED]);
	cr_expect_eq(out.flags, c->flags, "[%s] flags %#x, want %#x", c->name,
		     out.flags, c->flags);
	/* the kernel reads limits and flags as one word (bpf/lib/detect.h) */
	cr_expect_eq(out.word, (uint64_t)c->lim_ports |
		     (uint64_t)c->lim_hosts << 16 |
		     (uint64_t)c->lim_lateral << 32 | (uint64_t)c->flags << 48,
		     "[%s] word %#llx", c->name, (unsigned long long)out.word);
	seg_detect_settings_free(&s);
}

Test(detect_image, defaults)
{
	struct seg_detect_settings s;

	memset(&s, 0xa5, sizeof(s));
	seg_detect_defaults(&s);
	cr_expect_not(s.off);
	cr_expect_eq(s.window_s, 10);
	cr_expect_eq(s.scan_ports, 24);
	cr_expect_eq(s.scan_hosts, 32);
	cr_expect_eq(s.lateral_targets, 8);
	cr_expect_eq(s.new_dest_after_s, 86400);
	for (int k = 0; k < SEGD_ALERT_KIND_MAX; k++)
		cr_expect_eq(s.action[k], SEG_DETECT_ALERT, "kind %d", k);
	cr_expect_eq(s.n_exempt, 0);
	cr_expect_eq(s.n_quarantine_allow, 0);
	seg_detect_settings_free(&s);
}

/* ---- techniques and actions ---------------------------------------------------- */

struct technique_case {
	int kind;
	char name[24];       /* the ABI's kind name; "" for none */
	char id[8];
	char title[48];
};

static struct technique_case technique_cases[] = {
	{ SEGD_ALERT_SCAN, "scan", "T1046", "Network Service Discovery" },
	{ SEGD_ALERT_LATERAL, "lateral", "T1210", "Exploitation of Remote Services" },
	{ SEGD_ALERT_NEW_DEST, "new-destination", "T1105", "Ingress Tool Transfer" },
	{ SEGD_ALERT_MINER, "miner", "T1496", "Resource Hijacking" },
	{ SEGD_ALERT_C2, "c2", "T1071", "Application Layer Protocol" },
	{ 0, "", "", "" },
	{ 6, "", "", "" },
	{ SEGD_ALERT_KIND_MAX - 1, "", "", "" },
	{ SEGD_ALERT_KIND_MAX, "", "", "" },
	{ -1, "", "", "" },
	{ 1000, "", "", "" },
};

ParameterizedTestParameters(detect_kinds, technique)
{
	return cr_make_param_array(struct technique_case, technique_cases,
				   sizeof(technique_cases) / sizeof(technique_cases[0]));
}

ParameterizedTest(struct technique_case *c, detect_kinds, technique)
{
	const char *name = segd_alert_kind_name((__u32)c->kind);

	cr_expect_str_eq(seg_detect_technique((enum segd_alert_kind)c->kind),
			 c->id, "kind %d", c->kind);
	cr_expect_str_eq(seg_detect_technique_name((enum segd_alert_kind)c->kind),
			 c->title, "kind %d", c->kind);
	cr_expect_str_eq(name ? name : "", c->name, "kind %d", c->kind);
}

struct action_case {
	char text[16];
	bool null_text;
	bool allow_off;
	int ret;
	enum seg_detect_action want;
};

static struct action_case action_cases[] = {
	{ "alert", false, false, 0, SEG_DETECT_ALERT },
	{ "quarantine", false, false, 0, SEG_DETECT_QUARANTINE },
	{ "off", false, true, 0, SEG_DETECT_OFF },
	{ "off", false, false, -EINVAL, 0 },        /* the config has no off */
	{ "alert", false, true, 0, SEG_DETECT_ALERT },
	{ "Alert", false, true, -EINVAL, 0 },
	{ "quarantine ", false, true, -EINVAL, 0 },
	{ "", false, true, -EINVAL, 0 },
	{ "", true, true, -EINVAL, 0 },
};

ParameterizedTestParameters(detect_kinds, action_parse)
{
	return cr_make_param_array(struct action_case, action_cases,
				   sizeof(action_cases) / sizeof(action_cases[0]));
}

ParameterizedTest(struct action_case *c, detect_kinds, action_parse)
{
	enum seg_detect_action got = (enum seg_detect_action)77;
	int ret = seg_detect_action_parse(c->null_text ? NULL : c->text,
					  c->allow_off, &got);

	cr_expect_eq(ret, c->ret, "\"%s\" (off %d): %d", c->text, c->allow_off,
		     ret);
	if (!c->ret) {
		cr_expect_eq(got, c->want, "\"%s\": %d", c->text, got);
		/* and the name goes back to the same text */
		cr_expect_str_eq(seg_detect_action_name(got), c->text);
	} else {
		cr_expect_eq(got, (enum seg_detect_action)77,
			     "\"%s\": written on failure", c->text);
	}
}
