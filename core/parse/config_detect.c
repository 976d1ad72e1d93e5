/* config_detect.c - the config file's `detect:` section (detect.h):
 *   detect:
 *     enabled: true
 *     window: 10s
 *     scan_ports: 24
 *     scan_hosts: 32
 *     lateral_targets: 8
 *     new_destination_after: 24h    # 0 = no new-destination alerts
 *     actions: { scan: quarantine, miner: quarantine }
 *     quarantine_allow: ["10.0.0.5/32:22/tcp"]
 *     exempt: ["app=prometheus"]
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_detect.h"
#include "timetext.h"
#include "yaml_util.h"

/* A window is two kernel epochs of window/2: 2 s keeps an epoch at least a
 * second long; past an hour a count mixes unrelated activity and a sketch
 * fills up with ordinary traffic. */
#define DETECT_WINDOW_MIN 2
#define DETECT_WINDOW_MAX 3600
/* A sketch is SEGD_DETECT_BITS (256) bits counted by linear counting:
 * 200 distinct targets already set ~139 of them on average, and past that
 * the estimate saturates (a few more targets fill the last bits), so a
 * larger limit could not be told from a smaller one. */
#define DETECT_DISTINCT_MAX 200
/* a learning period longer than a year never ends in practice */
#define DETECT_LEARN_MAX (365 * 86400)

enum detect_key {
	DK_ENABLED, DK_WINDOW, DK_SCAN_PORTS, DK_SCAN_HOSTS, DK_LATERAL,
	DK_NEW_DEST_AFTER, DK_ACTIONS, DK_QUAR_ALLOW, DK_EXEMPT, DK_N,
};
static const char *const detect_keys[DK_N] = {
	"enabled", "window", "scan_ports", "scan_hosts", "lateral_targets",
	"new_destination_after", "actions", "quarantine_allow", "exempt",
};

__attribute__((format(printf, 4, 5)))
static int bad(const yaml_node_t *n, const char *file, struct seg_error *err,
	       const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL, "%s", msg);
}

/* "scan, lateral, new-destination, miner, c2" */
static void kind_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int k = 1; k < SEGD_ALERT_KIND_MAX && off < len; k++)
		if (segd_alert_kind_name(k))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						segd_alert_kind_name(k));
}

static int parse_distinct(yaml_node_t *v, const char *key, unsigned int *out,
			  const char *file, struct seg_error *err)
{
	int64_t n;

	if (yu_int(v, 1, DETECT_DISTINCT_MAX, &n))
		return bad(v, file, err, "detect %s is a count of distinct targets, 1 to %d "
			   "(a sketch of %d bits cannot tell larger counts apart)", key,
			   DETECT_DISTINCT_MAX, SEGD_DETECT_BITS);
	*out = (unsigned int)n;
	return 0;
}

/* A duration ("10s", "30m", "24h", a number of seconds) in [min, max]. */
static int parse_seconds(yaml_node_t *v, const char *key, int64_t min, int64_t max,
			 unsigned int *out, const char *file, struct seg_error *err)
{
	int64_t s = 0;

	if (seg_duration_parse(yu_scalar(v), &s) || s < min || s > max)
		return bad(v, file, err, "detect %s is a duration (90s, 30m, 12h, 7d) from "
			   "%llds to %llds", key, (long long)min, (long long)max);
	*out = (unsigned int)s;
	return 0;
}

static int parse_actions(yaml_document_t *d, yaml_node_t *n, struct seg_detect_settings *s,
			 const char *file, struct seg_error *err)
{
	char kinds[128];

	kind_names(kinds, sizeof(kinds));
	if (!yu_is_map(n))
		return bad(n, file, err, "detect actions is a mapping of kind (%s) to "
			   "alert or quarantine", kinds);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(d, p->key), *v = yu_node(d, p->value);
		const char *kind = yu_scalar(k);
		enum seg_detect_action a;
		unsigned int i = 1;

		while (i < SEGD_ALERT_KIND_MAX &&
		       !(kind && segd_alert_kind_name(i) && !strcmp(segd_alert_kind_name(i), kind)))
			i++;
		if (i == SEGD_ALERT_KIND_MAX)
			return bad(k, file, err, "detect actions: unknown kind '%s'; known: %s",
				   kind ? kind : "?", kinds);
		if (seg_detect_action_parse(yu_scalar(v), false, &a))
			return bad(v, file, err, "detect actions: %s takes alert or quarantine, "
				   "not '%s' (to detect nothing: enabled: false)", kind,
				   yu_scalar(v) ? yu_scalar(v) : "");
		s->action[i] = a;
	}
	return 0;
}

static int parse_allow(yaml_document_t *d, yaml_node_t *n, struct seg_detect_settings *s,
		       const char *file, struct seg_error *err)
{
	struct seg_quar_allow allow[SEGD_QUAR_ALLOW];
	char why[256];

	if (!yu_is_seq(n) || yu_seq_len(n) > SEGD_QUAR_ALLOW)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "detect quarantine_allow is a list of at most %d forensic "
				  "peers \"CIDR[:PORT/PROTO]\"", SEGD_QUAR_ALLOW);
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);

		if (!yu_scalar(a) || seg_quar_allow_parse(yu_scalar(a), &allow[i], why,
							  sizeof(why)))
			return bad(a, file, err, "detect quarantine_allow: %s",
				   yu_scalar(a) ? why : "a peer is \"CIDR[:PORT/PROTO]\"");
	}
	memcpy(s->quarantine_allow, allow, yu_seq_len(n) * sizeof(allow[0]));
	s->n_quarantine_allow = yu_seq_len(n);
	return 0;
}

static int parse_exempt(yaml_document_t *d, yaml_node_t *n, struct seg_detect_settings *s,
			const char *file, struct seg_error *err)
{
	if (!yu_is_seq(n) || yu_seq_len(n) > SEG_DETECT_MAX_EXEMPT)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "detect exempt is a list of at most %d label selectors "
				  "\"k=v,...\"", SEG_DETECT_MAX_EXEMPT);
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);
		struct seg_labels l = { 0 };
		struct seg_error lerr = { 0 };
		const char *text = yu_scalar(a);
		bool ok = text && !seg_labels_parse(text, &l, &lerr) && l.n > 0;

		seg_labels_free(&l);
		if (!ok)  /* an empty selector would exempt every workload */
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "detect exempt: '%s' is not a label selector "
					  "\"k=v,...\"%s%s", text ? text : "",
					  lerr.msg[0] ? ": " : "", lerr.msg);
	}
	for (size_t i = 0; i < s->n_exempt; i++)
		free(s->exempt[i]);
	s->n_exempt = 0;
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		if (!(s->exempt[i] = strdup(yu_scalar(yu_seq_at(d, n, i)))))
			return -ENOMEM;
		s->n_exempt++;
	}
	return 0;
}

static int parse_key(yaml_document_t *d, enum detect_key key, yaml_node_t *v,
		     struct seg_detect_settings *s, const char *file, struct seg_error *err)
{
	const char *name = detect_keys[key];
	bool on = true;

	switch (key) {
	case DK_ENABLED:
		if (yu_bool(v, &on))
			return bad(v, file, err, "detect enabled is true or false");
		s->off = !on;
		return 0;
	case DK_WINDOW:
		return parse_seconds(v, name, DETECT_WINDOW_MIN, DETECT_WINDOW_MAX,
				     &s->window_s, file, err);
	case DK_SCAN_PORTS:
		return parse_distinct(v, name, &s->scan_ports, file, err);
	case DK_SCAN_HOSTS:
		return parse_distinct(v, name, &s->scan_hosts, file, err);
	case DK_LATERAL:
		return parse_distinct(v, name, &s->lateral_targets, file, err);
	case DK_NEW_DEST_AFTER:
		if (yu_scalar(v) && !strcmp(yu_scalar(v), "0")) {
			s->new_dest_after_s = 0;   /* no new-destination alerts */
			return 0;
		}
		if (parse_seconds(v, name, 1, DETECT_LEARN_MAX, &s->new_dest_after_s,
				  NULL, NULL))
			return bad(v, file, err, "detect new_destination_after is a learning "
				   "period (90s, 30m, 12h, 7d) up to 365d, or 0 for no "
				   "new-destination alerts");
		return 0;
	case DK_ACTIONS:
		return parse_actions(d, v, s, file, err);
	case DK_QUAR_ALLOW:
		return parse_allow(d, v, s, file, err);
	case DK_EXEMPT:
		return parse_exempt(d, v, s, file, err);
	default:
		return -EINVAL;
	}
}

int segd_config_parse_detect(yaml_document_t *d, yaml_node_t *n,
			     struct seg_detect_settings *s, const char *file,
			     struct seg_error *err)
{
	char known[256];
	size_t off = 0;
	int ret = 0;

	for (int i = 0; i < DK_N; i++)
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
					i ? ", " : "", detect_keys[i]);
	if (yu_is_null(n))
		return 0;  /* `detect:` alone: the defaults */
	if (!yu_is_map(n))
		return bad(n, file, err, "detect is a mapping of settings: %s", known);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     !ret && p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(d, p->key);
		const char *name = yu_scalar(k);
		int key = 0;

		while (key < DK_N && !(name && !strcmp(detect_keys[key], name)))
			key++;
		if (key == DK_N)
			return bad(k, file, err, "unknown detect setting '%s'; known: %s",
				   name ? name : "?", known);
		ret = parse_key(d, (enum detect_key)key, yu_node(d, p->value), s, file, err);
	}
	return ret;
}

bool segd_detect_settings_differ(const struct seg_detect_settings *a,
				 const struct seg_detect_settings *b)
{
	if (a->off != b->off || a->window_s != b->window_s ||
	    a->scan_ports != b->scan_ports || a->scan_hosts != b->scan_hosts ||
	    a->lateral_targets != b->lateral_targets ||
	    a->new_dest_after_s != b->new_dest_after_s ||
	    memcmp(a->action, b->action, sizeof(a->action)) ||
	    a->n_quarantine_allow != b->n_quarantine_allow ||
	    a->n_exempt != b->n_exempt)
		return true;
	/* parsed rules are zeroed first (seg_quar_allow_parse), padding too */
	if (memcmp(a->quarantine_allow, b->quarantine_allow,
		   a->n_quarantine_allow * sizeof(a->quarantine_allow[0])))
		return true;
	for (size_t i = 0; i < a->n_exempt; i++)
		if (strcmp(a->exempt[i], b->exempt[i]))
			return true;
	return false;
}
