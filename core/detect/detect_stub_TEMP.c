/* detect_stub_TEMP.c - TEMPORARY stand-ins for the detect.h functions the
 * CLI plumbing (branch detectcli) calls, so it links before the lead's
 * core/detect/detect.c lands. Drop this file at merge. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

const char *seg_detect_action_name(enum seg_detect_action a)
{
	return a == SEG_DETECT_QUARANTINE ? "quarantine" : a == SEG_DETECT_OFF ? "off" :
	       "alert";
}

int seg_detect_action_parse(const char *s, bool allow_off, enum seg_detect_action *out)
{
	if (s && !strcmp(s, "alert"))
		*out = SEG_DETECT_ALERT;
	else if (s && !strcmp(s, "quarantine"))
		*out = SEG_DETECT_QUARANTINE;
	else if (s && allow_off && !strcmp(s, "off"))
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
}

void seg_detect_settings_free(struct seg_detect_settings *s)
{
	for (size_t i = 0; i < s->n_exempt; i++)
		free(s->exempt[i]);
	s->n_exempt = 0;
}

const char *seg_detect_technique(enum segd_alert_kind k)
{
	switch (k) {
	case SEGD_ALERT_SCAN: return "T1046";
	case SEGD_ALERT_LATERAL: return "T1210";
	case SEGD_ALERT_NEW_DEST: return "T1071";
	case SEGD_ALERT_MINER: return "T1496";
	case SEGD_ALERT_C2: return "T1071";
	default: return "";
	}
}

const char *seg_detect_technique_name(enum segd_alert_kind k)
{
	switch (k) {
	case SEGD_ALERT_SCAN: return "Network Service Discovery";
	case SEGD_ALERT_LATERAL: return "Exploitation of Remote Services";
	case SEGD_ALERT_MINER: return "Resource Hijacking";
	case SEGD_ALERT_NEW_DEST:
	case SEGD_ALERT_C2: return "Application Layer Protocol";
	default: return "";
	}
}

const struct seg_alert *seg_alerts_at(const struct seg_alerts *as, size_t i)
{
	return &as->v[(as->head + i) % SEG_ALERTS_KEEP];
}
