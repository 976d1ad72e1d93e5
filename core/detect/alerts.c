/* alerts.c - alert records: from the kernel's segd_alert, as text and
 * JSON, and the ring of recent ones (detect.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "detect.h"
#include "model.h"
#include "strbuf.h"
#include "timetext.h"

/* A scan is vertical when it stays on a few hosts, horizontal when it
 * stays on a few ports, and a block scan otherwise. */
#define SCAN_FEW 4

void seg_alert_from_kernel(struct seg_alert *a, const struct segd_alert *ev,
			   const struct seg_detect_settings *s,
			   int64_t mono_to_unix_ms)
{
	(void)s;
	a->kind = (enum segd_alert_kind)ev->kind;
	memcpy(&a->addr, ev->laddr.b, sizeof(a->addr));
	a->first_ms = (int64_t)(ev->first_ns / 1000000) + mono_to_unix_ms;
	a->last_ms = (int64_t)(ev->ts_ns / 1000000) + mono_to_unix_ms;
	if (!ev->first_ns || a->first_ms > a->last_ms)
		a->first_ms = a->last_ms;
	a->flows = ev->flows;
	a->denied = ev->denied;
	a->ports = seg_detect_distinct_of(ev->bits[SEGD_SK_PORTS]);
	a->hosts = seg_detect_distinct_of(ev->bits[SEGD_SK_HOSTS]);
	a->denied_targets = seg_detect_distinct_of(ev->bits[SEGD_SK_DENIED]);
	a->n_sample = ev->n_sample < SEGD_DETECT_SAMPLES ? ev->n_sample :
			   SEGD_DETECT_SAMPLES;
	memcpy(a->sample, ev->sample, a->n_sample * sizeof(a->sample[0]));
	/* the flow that raised it is evidence too: a miner or C2 alert may
	 * come before any sample was kept */
	if (!a->n_sample) {
		a->sample[0] = ev->target;
		a->n_sample = 1;
	}
	a->raised = 1;
	a->shape[0] = 0;
	if (a->kind == SEGD_ALERT_SCAN)
		snprintf(a->shape, sizeof(a->shape), "%s",
			 a->hosts <= SCAN_FEW ? "vertical" :
			 a->ports <= SCAN_FEW ? "horizontal" : "block");
	else if (a->kind == SEGD_ALERT_MINER || a->kind == SEGD_ALERT_C2)
		snprintf(a->shape, sizeof(a->shape), "%s",
			 ev->list_id ? "list" : "stratum");
}

void seg_detect_target_format(const struct segd_detect_target *t, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN], proto[16];
	const char *p = seg_proto_name(t->proto, proto, sizeof(proto));
	struct in6_addr a;

	memcpy(&a, t->addr.b, sizeof(a));
	seg_addr_format(&a, addr, sizeof(addr));
	if (t->proto == IPPROTO_ICMP || t->proto == IPPROTO_ICMPV6)
		snprintf(buf, len, "%s/%s", addr, p);
	else
		snprintf(buf, len, strchr(addr, ':') ? "[%s]:%u/%s" : "%s:%u/%s", addr,
			 t->port, p);
}

void seg_alert_summary(const struct seg_alert *a, char *buf, size_t len)
{
	char target[80] = "";

	if (a->n_sample)
		seg_detect_target_format(&a->sample[a->n_sample - 1], target, sizeof(target));
	snprintf(buf, len, "%s (%s %s%s%s) by %s/%s: %u new flows (%u dropped), "
		 "%u ports, %u hosts, %u denied targets; e.g. %s%s%s; action %s",
		 segd_alert_kind_name(a->kind), seg_detect_technique(a->kind),
		 seg_detect_technique_name(a->kind), a->shape[0] ? ", " : "",
		 a->shape, a->ns, a->name, a->flows, a->denied, a->ports, a->hosts,
		 a->denied_targets, target, a->list[0] ? "; list " : a->domain[0] ?
		 "; domain " : "", a->list[0] ? a->list : a->domain,
		 a->action);
}

static void time_ms(int64_t ms, char *buf, size_t len)
{
	seg_rfc3339_ms(ms > 0 ? (uint64_t)ms * 1000000u : 0, buf, len);
}

/* "k=v,k2=v2" as a JSON object */
static void labels_json(struct seg_strbuf *b, const char *labels)
{
	char *copy = strdup(labels), *save = NULL, *kv;
	bool first = true;

	seg_strbuf_printf(b, "{");
	for (kv = copy ? strtok_r(copy, ",", &save) : NULL; kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq = 0;
		seg_strbuf_printf(b, "%s", first ? "" : ",");
		seg_strbuf_json_str(b, kv);
		seg_strbuf_printf(b, ":");
		seg_strbuf_json_str(b, eq ? eq + 1 : "");
		first = false;
	}
	if (!copy && labels[0])
		b->err = -ENOMEM;
	free(copy);
	seg_strbuf_printf(b, "}");
}

int seg_alert_json(const struct seg_alert *a, char **out, size_t *len)
{
	struct seg_strbuf b = { 0 };
	char addr[INET6_ADDRSTRLEN], first[80], last[80], target[80];

	seg_addr_format(&a->addr, addr, sizeof(addr));
	time_ms(a->first_ms, first, sizeof(first));
	time_ms(a->last_ms, last, sizeof(last));
	seg_strbuf_printf(&b, "{\"type\":\"alert\",\"id\":%llu,\"kind\":",
			  (unsigned long long)a->id);
	seg_strbuf_json_str(&b, segd_alert_kind_name(a->kind) ?
				segd_alert_kind_name(a->kind) : "?");
	seg_strbuf_printf(&b, ",\"technique\":\"%s\",\"technique_name\":\"%s\","
			  "\"shape\":\"%s\",\"namespace\":", seg_detect_technique(a->kind),
			  seg_detect_technique_name(a->kind), a->shape);
	seg_strbuf_json_str(&b, a->ns);
	seg_strbuf_printf(&b, ",\"name\":");
	seg_strbuf_json_str(&b, a->name);
	seg_strbuf_printf(&b, ",\"labels\":");
	labels_json(&b, a->labels);
	seg_strbuf_printf(&b, ",\"address\":\"%s\",\"list\":", addr);
	seg_strbuf_json_str(&b, a->list);
	seg_strbuf_printf(&b, ",\"domain\":");
	seg_strbuf_json_str(&b, a->domain);
	seg_strbuf_printf(&b, ",\"first\":\"%s\",\"last\":\"%s\",\"flows\":%u,"
			  "\"denied\":%u,\"ports\":%u,\"hosts\":%u,\"denied_targets\":%u,"
			  "\"targets\":[", first, last, a->flows, a->denied, a->ports,
			  a->hosts, a->denied_targets);
	for (size_t i = 0; i < a->n_sample; i++) {
		seg_detect_target_format(&a->sample[i], target, sizeof(target));
		seg_strbuf_printf(&b, "%s{\"target\":\"%s\",\"denied\":%s}",
				  i ? "," : "", target,
				  a->sample[i].denied ? "true" : "false");
	}
	seg_strbuf_printf(&b, "],\"raised\":%u,\"action\":", a->raised);
	seg_strbuf_json_str(&b, a->action);
	seg_strbuf_printf(&b, ",\"quarantine_id\":%u,\"containment_us\":%u}",
			  a->quarantine_id, a->contain_us);
	return seg_strbuf_take(&b, out, len);
}

/* ---- the ring ------------------------------------------------------------- */

int seg_alerts_init(struct seg_alerts *as)
{
	memset(as, 0, sizeof(*as));
	as->next_id = 1;
	as->v = calloc(SEG_ALERTS_KEEP, sizeof(*as->v));
	return as->v ? 0 : -ENOMEM;
}

void seg_alerts_free(struct seg_alerts *as)
{
	free(as->v);
	memset(as, 0, sizeof(*as));
}

const struct seg_alert *seg_alerts_at(const struct seg_alerts *as, size_t i)
{
	return &as->v[(as->head + i) % SEG_ALERTS_KEEP];
}

static bool same_target(const struct segd_detect_target *x,
			const struct segd_detect_target *y)
{
	return !memcmp(&x->addr, &y->addr, sizeof(x->addr)) && x->port == y->port &&
	       x->proto == y->proto;
}

/* the newer alert's samples join the older's, the oldest going first */
static void merge_samples(struct seg_alert *into, const struct seg_alert *a)
{
	for (size_t i = 0; i < a->n_sample; i++) {
		size_t j;

		for (j = 0; j < into->n_sample; j++)
			if (same_target(&into->sample[j], &a->sample[i]))
				break;
		if (j < into->n_sample)
			continue;
		if (into->n_sample == SEGD_DETECT_SAMPLES) {
			memmove(into->sample, into->sample + 1,
				(SEGD_DETECT_SAMPLES - 1) * sizeof(into->sample[0]));
			into->n_sample--;
		}
		into->sample[into->n_sample++] = a->sample[i];
	}
}

#define MAX_(a, b) ((a) > (b) ? (a) : (b))

int seg_alerts_add(struct seg_alerts *as, const struct seg_alert *a,
		   int64_t merge_ms, struct seg_alert **stored, bool *merged)
{
	struct seg_alert *slot;

	if (!as->v)
		return -EINVAL;
	for (size_t i = as->n; i-- > 0;) {
		struct seg_alert *o = &as->v[(as->head + i) % SEG_ALERTS_KEEP];

		if (o->kind != a->kind || memcmp(&o->addr, &a->addr, sizeof(o->addr)))
			continue;
		if (a->last_ms - o->last_ms > merge_ms)
			break;
		o->last_ms = MAX_(o->last_ms, a->last_ms);
		o->flows = MAX_(o->flows, a->flows);
		o->denied = MAX_(o->denied, a->denied);
		o->ports = MAX_(o->ports, a->ports);
		o->hosts = MAX_(o->hosts, a->hosts);
		o->denied_targets = MAX_(o->denied_targets, a->denied_targets);
		o->raised += a->raised;
		merge_samples(o, a);
		*stored = o;
		*merged = true;
		return 0;
	}
	if (as->n == SEG_ALERTS_KEEP) {     /* forget the oldest */
		as->head = (as->head + 1) % SEG_ALERTS_KEEP;
		as->n--;
	}
	slot = &as->v[(as->head + as->n) % SEG_ALERTS_KEEP];
	*slot = *a;
	slot->id = as->next_id++;
	as->n++;
	if ((unsigned int)a->kind < SEGD_ALERT_KIND_MAX)
		as->total[a->kind]++;
	*stored = slot;
	*merged = false;
	return 0;
}
