/* detect.c - settings, kernel limits and techniques of detection (detect.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

const char *seg_detect_action_name(enum seg_detect_action a)
{
	switch (a) {
	case SEG_DETECT_ALERT: return "alert";
	case SEG_DETECT_QUARANTINE: return "quarantine";
	case SEG_DETECT_OFF: return "off";
	}
	return "?";
}

int seg_detect_action_parse(const char *s, bool allow_off, enum seg_detect_action *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "alert"))
		*out = SEG_DETECT_ALERT;
	else if (!strcmp(s, "quarantine"))
		*out = SEG_DETECT_QUARANTINE;
	else if (allow_off && !strcmp(s, "off"))
		*out = SEG_DETECT_OFF;
	else
		return -EINVAL;
	return 0;
}

void seg_detect_defaults(struct seg_detect_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->window_s = SEG_DETECT_DEFAULT_WINDOW_S;
	s->scan_ports = SEG_DETECT_DEFAULT_SCAN_PORTS;
	s->scan_hosts = SEG_DETECT_DEFAULT_SCAN_HOSTS;
	s->lateral_targets = SEG_DETECT_DEFAULT_LATERAL;
	s->new_dest_after_s = SEG_DETECT_DEFAULT_NEW_DEST_AFTER;
	/* action[] is all SEG_DETECT_ALERT (0) */
}

void seg_detect_settings_free(struct seg_detect_settings *s)
{
	for (size_t i = 0; i < s->n_exempt; i++)
		free(s->exempt[i]);
	s->n_exempt = 0;
}

/* Expected bits set after n distinct targets hashed into m bits:
 * m (1 - (1 - 1/m)^n), computed step by step (no libm in core/). */
static double expected_bits(unsigned int n)
{
	const double m = SEGD_DETECT_BITS;
	double e = 0;

	for (unsigned int i = 0; i < n; i++)
		e += (m - e) / m;
	return e;
}

uint16_t seg_detect_bits_for(unsigned int distinct)
{
	double e = expected_bits(distinct);
	unsigned int b = (unsigned int)(e + 0.5);

	if (!distinct)
		return 0;
	if (b < 1)
		b = 1;
	return (uint16_t)(b > SEGD_DETECT_BITS ? SEGD_DETECT_BITS : b);
}

unsigned int seg_detect_distinct_of(unsigned int bits)
{
	unsigned int n = 0;

	if (bits >= SEGD_DETECT_BITS)   /* saturated: the most we can tell */
		bits = SEGD_DETECT_BITS - 1;
	while (expected_bits(n) + 0.5 < bits)
		n++;
	return n;
}

void seg_detect_config_image(const struct seg_detect_settings *s,
			     struct segd_detect_config *out)
{
	memset(out, 0, sizeof(*out));
	if (s->off)
		return;
	/* a window is two epochs: the count covers the last window/2..window */
	out->epoch_ns = (uint64_t)s->window_s * 1000000000ull / 2;
	out->limit[SEGD_SK_PORTS] = seg_detect_bits_for(s->scan_ports);
	out->limit[SEGD_SK_HOSTS] = seg_detect_bits_for(s->scan_hosts);
	out->limit[SEGD_SK_DENIED] = seg_detect_bits_for(s->lateral_targets);
	out->flags = SEGD_DCF_ON | SEGD_DCF_MINER | SEGD_DCF_C2;
}

/* MITRE ATT&CK (enterprise) technique per kind. new-destination: a
 * workload reaching an outside host its identity never reached is, in the
 * compromise sequence the guidance describes, most often fetching tools
 * (T1105 Ingress Tool Transfer); C2 lists name the command channel
 * (T1071); denied attempts against other workloads' services are
 * exploitation attempts (T1210). */
static const struct {
	const char *id, *name;
} techniques[SEGD_ALERT_KIND_MAX] = {
	[SEGD_ALERT_SCAN] = { "T1046", "Network Service Discovery" },
	[SEGD_ALERT_LATERAL] = { "T1210", "Exploitation of Remote Services" },
	[SEGD_ALERT_NEW_DEST] = { "T1105", "Ingress Tool Transfer" },
	[SEGD_ALERT_MINER] = { "T1496", "Resource Hijacking" },
	[SEGD_ALERT_C2] = { "T1071", "Application Layer Protocol" },
};

const char *seg_detect_technique(enum segd_alert_kind k)
{
	return (unsigned int)k < SEGD_ALERT_KIND_MAX && techniques[k].id ?
	       techniques[k].id : "";
}

const char *seg_detect_technique_name(enum segd_alert_kind k)
{
	return (unsigned int)k < SEGD_ALERT_KIND_MAX && techniques[k].name ?
	       techniques[k].name : "";
}
