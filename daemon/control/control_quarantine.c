/* control_quarantine.c - `segctl quarantine` and `segctl release`; the
 * quarantine file, audit log and map are the engine's (engine/quarantine_sync.c).
 *
 * A quarantine goes to the kernel first (segd_quarantine entries and the
 * config flag, written in place: no compile, no generation flip), then to
 * the state dir, then to the audit log, so the time from the request to the
 * first dropped packet is a few map writes. Everything that changes which
 * endpoints a quarantine covers re-syncs the map (segd_quarantine_sync).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "control_int.h"
#include "log.h"
#include "yaml_util.h"

#define QUAR_REASON_MAX 1024

enum { ACT_QUARANTINE, ACT_RELEASE };

/* ---- requests ------------------------------------------------------------------ */

/* The target of a request: exactly one of a name, --ip, --selector. */
static int parse_target(struct segd_req *r, struct seg_quarantine *q)
{
	/* --ip repeats for `endpoint add`, so segctl sends a list */
	yaml_node_t *ips = yu_map_get(r->doc, r->args, "ips");
	const char *name = segd_arg_str(r, "name"), *sel = segd_arg_str(r, "selector");
	const char *ip = yu_seq_len(ips) == 1 ? yu_scalar(yu_seq_at(r->doc, ips, 0))
					      : segd_arg_str(r, "ip");
	struct seg_error lerr = { 0 };

	if (yu_seq_len(ips) > 1 || !!(name && *name) + !!(ip && *ip) + !!(sel && *sel) != 1)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "name exactly one target: "
				  "an endpoint NAME, --ip ADDR or --selector k=v,...");
	if (ip && *ip) {
		q->kind = SEG_QUAR_IP;
		if (seg_addr_parse(ip, &q->ip))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "--ip: '%s' is not an IPv4 or IPv6 address", ip);
		return 0;
	}
	q->ns = strdup(segd_arg_ns(r));
	if (!q->ns)
		return -ENOMEM;
	if (name && *name) {
		q->kind = SEG_QUAR_ENDPOINT;
		return (q->name = strdup(name)) ? 0 : -ENOMEM;
	}
	q->kind = SEG_QUAR_SELECTOR;
	if (seg_labels_parse(sel, &q->selector, &lerr))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--selector: %s", lerr.msg);
	if (!q->selector.n)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "--selector needs at least one k=v");
	return 0;
}

static int parse_request(struct segd_req *r, struct seg_quarantine *q)
{
	yaml_node_t *allow = yu_map_get(r->doc, r->args, "allow");
	const char *reason = segd_arg_str(r, "reason");
	char why[256];
	int ret = parse_target(r, q);

	if (ret)
		return ret;
	if (yu_seq_len(allow) > SEGD_QUAR_ALLOW)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "at most %d --allow rules per quarantine", SEGD_QUAR_ALLOW);
	for (size_t i = 0; i < yu_seq_len(allow); i++) {
		const char *a = yu_scalar(yu_seq_at(r->doc, allow, i));

		if (!a || seg_quar_allow_parse(a, &q->allow[q->n_allow++], why, sizeof(why)))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--allow: %s",
					  a ? why : "not a string");
	}
	if (reason && strlen(reason) > QUAR_REASON_MAX)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "--reason is longer than %d characters", QUAR_REASON_MAX);
	q->reason = strdup(reason ? reason : "");
	return q->reason ? 0 : -ENOMEM;
}

/* target and covered endpoints of q into map m */
static void describe(yaml_document_t *out, int m, const struct seg_quarantine *q,
		     char **eps, size_t n_eps)
{
	char target[1200];
	int seq = yu_add_seq(out);

	seg_quar_target_format(q, target, sizeof(target));
	yu_set_str(out, m, "target", target);
	for (size_t i = 0; i < n_eps; i++)
		yu_append(out, seq, yu_add_str(out, eps[i]));
	yu_set(out, m, "endpoints", seq);
}

/* Report, log, audit and count one action on q. */
static int record_action(struct segd *d, struct segd_req *r, int action,
			 const struct seg_quarantine *q, const char *verb,
			 yaml_document_t *out, int res)
{
	uint32_t uid = r->peer ? (uint32_t)r->peer->uid : 0;
	uint32_t pid = r->peer ? (uint32_t)r->peer->pid : 0;
	char **eps = NULL;
	size_t n_eps = segd_quarantine_covered(d, q, &eps);

	yu_set_uint(out, res, "id", q->id);
	yu_set_str(out, res, "action", verb);
	describe(out, res, q, eps, n_eps);
	yu_set(out, res, "allow", seg_quar_allow_node(out, q));
	segd_quarantine_names_free(eps, n_eps);
	return segd_quarantine_record(d, action == ACT_RELEASE, q, "operator", uid, pid,
				      r->err);
}

int segd_h_quarantine(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_quarantine q = { 0 }, *cur = NULL;
	bool replaced = false;
	int ret;

	if ((ret = parse_request(r, &q)))
		goto out;
	q.since = (int64_t)time(NULL);
	q.uid = r->peer ? (uint32_t)r->peer->uid : 0;
	q.pid = r->peer ? (uint32_t)r->peer->pid : 0;
	ret = segd_quarantine_put(d, &q, &cur, &replaced, NULL, r->err);
	if (cur) {   /* in force, even when saving it failed: say so */
		int ra = record_action(d, r, ACT_QUARANTINE, cur,
				       replaced ? "updated" : "quarantined", out, res);

		if (!ret)
			ret = ra;
	}
out:
	seg_quarantine_free(&q);
	return ret;
}

int segd_h_release(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_quarantine q = { 0 }, *cur, gone;
	struct seg_quarantines cand = d->quarantines;
	char target[1200];
	size_t idx;
	int ret;

	if ((ret = parse_target(r, &q)))
		goto out;
	cur = seg_quarantines_find(&d->quarantines, &q);
	if (!cur) {
		seg_quar_target_format(&q, target, sizeof(target));
		ret = seg_errorf(r->err, NULL, 0, 0, -ENOENT, "%s is not quarantined; "
				 "see `segctl get quarantines`", target);
		goto out;
	}
	idx = (size_t)(cur - d->quarantines.v);
	cand.v = calloc(d->quarantines.n, sizeof(*cand.v));
	if (!cand.v) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(cand.v, d->quarantines.v, d->quarantines.n * sizeof(*cand.v));
	cand.v[idx] = cand.v[--cand.n];
	ret = segd_quarantine_write(d, &cand, &d->state.world, false, r->err);
	free(cand.v);
	if (ret)
		goto out;
	/* keep the record until it is reported and audited */
	gone = *cur;
	memset(cur, 0, sizeof(*cur));
	memmove(cur, cur + 1, (d->quarantines.n - idx - 1) * sizeof(*cur));
	d->quarantines.n--;
	ret = segd_quarantine_persist(d, r->err);
	{
		int ra = record_action(d, r, ACT_RELEASE, &gone, "released", out, res);

		if (!ret)
			ret = ra;
	}
	seg_quarantine_free(&gone);
out:
	seg_quarantine_free(&q);
	return ret;
}

/* ---- get and status ---------------------------------------------------------------- */

int segd_get_quarantines(struct segd *d, yaml_document_t *out, int items)
{
	for (size_t i = 0; i < d->quarantines.n; i++) {
		const struct seg_quarantine *q = &d->quarantines.v[i];
		int m = seg_quar_record_node(out, items, q);
		char **names = NULL;
		size_t n;

		if (m < 0)
			return m;
		n = segd_quarantine_covered(d, q, &names);
		describe(out, m, q, names, n);
		segd_quarantine_names_free(names, n);
	}
	return 0;
}

void segd_status_quarantines(struct segd *d, yaml_document_t *out, int res)
{
	yu_set_uint(out, res, "quarantines", d->quarantines.n);
	yu_set_uint(out, res, "quarantined_addresses", d->n_quar_written);
	yu_set_uint(out, res, "quarantine_audit_records", d->quar_audit_records);
}
