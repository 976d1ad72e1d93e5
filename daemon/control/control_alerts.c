/* control_alerts.c - `segctl alerts`: the recent alerts (d->alerts, kept
 * by engine/detect.c), oldest first, every field of each. Filters:
 * --namespace (the workload's), `after` (only alerts with a larger id:
 * what `segctl alerts --follow` polls with). Changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "control_int.h"
#include "flowlog.h"
#include "yaml_util.h"

/* "k=v,k2=v2" (seg_alert.labels) as a mapping, as `get endpoints` has it */
static int labels_node(yaml_document_t *out, const char *text)
{
	int m = yu_add_map(out);
	char buf[SEG_ALERT_LABELS_MAX];

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save, *kv = strtok_r(buf, ",", &save); m > 0 && kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq = '\0';
		yu_set_str(out, m, kv, eq ? eq + 1 : "");
	}
	return m;
}

static uint64_t ms_to_ns(int64_t ms)
{
	return ms > 0 ? (uint64_t)ms * 1000000u : 0;
}

static void add_alert(yaml_document_t *out, int seq, const struct seg_alert *a)
{
	int m = yu_add_map(out), targets = yu_add_seq(out);
	char addr[INET6_ADDRSTRLEN], t[96];

	yu_append(out, seq, m);
	yu_set_uint(out, m, "id", a->id);
	yu_set_str(out, m, "kind", segd_alert_kind_name(a->kind) ?
		   segd_alert_kind_name(a->kind) : "unknown");
	yu_set_str(out, m, "technique", seg_detect_technique(a->kind));
	yu_set_str(out, m, "technique_name", seg_detect_technique_name(a->kind));
	yu_set_str(out, m, "shape", a->shape);
	yu_set_str(out, m, "namespace", a->ns);
	yu_set_str(out, m, "name", a->name);
	yu_set(out, m, "labels", labels_node(out, a->labels));
	seg_addr_format(&a->addr, addr, sizeof(addr));
	yu_set_str(out, m, "address", addr);
	yu_set_str(out, m, "list", a->list);
	yu_set_str(out, m, "domain", a->domain);
	/* RFC 3339 with ms, as the flow log's times */
	seg_rfc3339_ms(ms_to_ns(a->first_ms), t, sizeof(t));
	yu_set_str(out, m, "first", t);
	seg_rfc3339_ms(ms_to_ns(a->last_ms), t, sizeof(t));
	yu_set_str(out, m, "last", t);
	yu_set_uint(out, m, "flows", a->flows);
	yu_set_uint(out, m, "denied", a->denied);
	yu_set_uint(out, m, "ports", a->ports);
	yu_set_uint(out, m, "hosts", a->hosts);
	yu_set_uint(out, m, "denied_targets", a->denied_targets);
	yu_set(out, m, "targets", targets);
	for (size_t i = 0; i < a->n_sample && i < SEGD_DETECT_SAMPLES; i++) {
		int s = yu_add_map(out);

		seg_detect_target_format(&a->sample[i], t, sizeof(t));
		yu_append(out, targets, s);
		yu_set_str(out, s, "target", t);
		yu_set_bool(out, s, "denied", a->sample[i].denied);
	}
	yu_set_uint(out, m, "raised", a->raised);
	yu_set_str(out, m, "action", a->action);
	yu_set_uint(out, m, "quarantine_id", a->quarantine_id);
	yu_set_uint(out, m, "containment_us", a->contain_us);
}

int segd_h_alerts(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *ns = segd_arg_str(r, "namespace");
	yaml_node_t *after_n = yu_map_get(r->doc, r->args, "after");
	int64_t after = 0;
	uint64_t last_id = 0;
	size_t shown = 0;
	int seq;

	if (after_n && yu_int(after_n, 0, INT64_MAX, &after))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "after is an alert id (0 or more), not '%s'",
				  yu_scalar(after_n) ? yu_scalar(after_n) : "");
	if ((seq = yu_add_seq(out)) < 0 || yu_set(out, res, "alerts", seq))
		return seg_errorf(r->err, NULL, 0, 0, -ENOMEM, "out of memory");
	for (size_t i = 0; i < d->alerts.n; i++) {
		const struct seg_alert *a = seg_alerts_at(&d->alerts, i);

		if (a->id > last_id)
			last_id = a->id;
		if (a->id <= (uint64_t)after || (ns && *ns && strcmp(a->ns, ns)))
			continue;
		add_alert(out, seq, a);
		shown++;
	}
	/* the newest id whatever the filter: --follow asks after it next */
	yu_set_uint(out, res, "last_id", last_id > (uint64_t)after ? last_id :
		    (uint64_t)after);
	yu_set_uint(out, res, "total", shown);
	return 0;
}

void segd_status_detect(struct segd *d, yaml_document_t *out, int res)
{
	uint64_t total = 0;

	for (size_t k = 0; k < SEGD_ALERT_KIND_MAX; k++)
		total += d->alerts.total[k];
	yu_set_bool(out, res, "detection", !d->cfg.detect.off);
	yu_set_uint(out, res, "alerts", total);
	/* dropped before they were alerts: exempt workloads, and alerts of
	 * addresses that are no local endpoint (never contained) */
	yu_set_uint(out, res, "alerts_exempt", d->detect_stats.exempt);
	yu_set_uint(out, res, "alerts_not_endpoint", d->detect_stats.not_endpoint);
}
