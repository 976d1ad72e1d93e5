/* control_learn.c - `recommend` and `learn reset` (control_learn.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "control_int.h"
#include "control_learn.h"
#include "timetext.h"
#include "edges.h"
#include "engine.h"
#include "learn_store.h"
#include "log.h"
#include "recommend.h"
#include "yaml_util.h"

static int need_edges(struct segd *d, struct segd_req *r)
{
	if (d->edges)
		return 0;
	return seg_errorf(r->err, NULL, 0, 0, -ENOTSUP, "segd is not learning "
			  "(`learn: false` in its config): set `learn: true` and restart "
			  "segd, then let traffic flow");
}

/* --since, --kind, --aggregate-share and the --namespace list into o */
static int recommend_opts(struct segd_req *r, struct seg_rec_opts *o,
			  const char **nss, size_t max_nss)
{
	const char *since = segd_arg_str(r, "since"), *kind = segd_arg_str(r, "kind");
	const char *share = segd_arg_str(r, "aggregate-share");
	yaml_node_t *list = yu_map_get(r->doc, r->args, "namespaces");
	const char *one = segd_arg_str(r, "namespace");
	int64_t secs;
	char *end;

	memset(o, 0, sizeof(*o));
	if (since && *since) {
		if (seg_duration_parse(since, &secs))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--since '%s': give a "
					  "duration such as 90s, 30m, 12h or 7d", since);
		o->since = (int64_t)time(NULL) - secs;
	}
	if (kind && *kind && seg_rec_kind_parse(kind, &o->kind))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--kind '%s': use "
				  "SegmentPolicy (segd's own: also the node, ICMP) or "
				  "NetworkPolicy (networking.k8s.io/v1)", kind);
	if (share && *share) {
		o->aggregate_share = strtod(share, &end);
		if (*end || !(o->aggregate_share > 0 && o->aggregate_share <= 1))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--aggregate-share "
					  "'%s': a fraction above 0 and at most 1 (0.5: a "
					  "prefix when half its addresses were seen)", share);
	}
	o->namespaces = nss;
	if (yu_seq_len(list) > max_nss)
		return seg_errorf(r->err, NULL, 0, 0, -E2BIG, "at most %zu --namespace "
				  "values; leave them out for every namespace", max_nss);
	for (size_t i = 0; i < yu_seq_len(list); i++)
		nss[o->n_namespaces++] = yu_scalar(yu_seq_at(r->doc, list, i));
	if (!list && one && *one)
		nss[o->n_namespaces++] = one;
	return 0;
}

int segd_h_recommend(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *nss[64];
	struct seg_rec_opts o;
	struct seg_rec_summary sum;
	char *text = NULL;
	size_t len;
	int ret;

	if ((ret = need_edges(d, r)) || (ret = recommend_opts(r, &o, nss, 64)))
		return ret;
	ret = seg_recommend(d->edges, &d->state.world, &o, &text, &len, &sum, r->err);
	if (ret)
		return ret;
	yu_set_str(out, res, "documents", text);
	yu_set_str(out, res, "kind", o.kind == SEG_REC_NETWORKPOLICY ? "NetworkPolicy" :
		   "SegmentPolicy");
	yu_set_uint(out, res, "edges", sum.edges);
	yu_set_uint(out, res, "workloads", sum.workloads);
	yu_set_uint(out, res, "rules", sum.rules);
	yu_set_uint(out, res, "not_expressible", sum.skipped);
	free(text);
	return 0;
}

/* `learn reset` in policy-audit.log: what the next recommendation is
 * made of changed, and who changed it */
static int audit_reset(struct segd *d, struct segd_req *r, const char *ns, size_t gone)
{
	char when[32], *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int ret;

	if (!f)
		return -ENOMEM;
	seg_rfc3339((int64_t)time(NULL), when, sizeof(when));
	fprintf(f, "{\"time\":\"%s\",\"action\":\"learn-reset\",\"namespace\":", when);
	if (ns)
		yu_json_string(f, ns);
	else
		fputs("null", f);
	fprintf(f, ",\"forgotten\":%zu,\"uid\":%u,\"pid\":%u}\n", gone,
		r->peer ? (unsigned int)r->peer->uid : 0,
		r->peer ? (unsigned int)r->peer->pid : 0);
	ret = fclose(f) ? -ENOMEM : segd_audit_append(d, SEGD_POLICY_AUDIT_FILE, line, r->err);
	free(line);
	return ret;
}

int segd_h_learn_reset(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *ns = segd_arg_str(r, "namespace");
	size_t gone;
	int ret = need_edges(d, r);

	if (ret)
		return ret;
	gone = seg_edges_reset(d->edges, ns && *ns ? ns : NULL);
	seg_log(SEG_LOG_INFO, "learn: reset %s: %zu edges forgotten",
		ns && *ns ? ns : "(every namespace)", gone);
	if (ns && *ns)
		yu_set_str(out, res, "namespace", ns);
	yu_set_uint(out, res, "forgotten", gone);
	yu_set_uint(out, res, "edges", seg_edges_count(d->edges));
	/* on disk at once: a restart must not bring them back */
	if (segd_learn_save(d))
		return seg_errorf(r->err, NULL, 0, 0, -EIO, "the edges are forgotten but "
				  "%s/%s could not be rewritten; see segd's log",
				  d->cfg.state_dir, SEGD_LEARN_FILE);
	return audit_reset(d, r, ns && *ns ? ns : NULL, gone);
}

void segd_status_learn(struct segd *d, yaml_document_t *out, int res)
{
	int m = yu_add_map(out);

	yu_set(out, res, "learn", m);
	yu_set_bool(out, m, "enabled", d->edges != NULL);
	if (!d->edges)
		return;
	yu_set_uint(out, m, "edges", seg_edges_count(d->edges));
	yu_set_uint(out, m, "max_edges", d->cfg.learn_max_edges);
	yu_set_uint(out, m, "refused", seg_edges_refused(d->edges));
	yu_set_uint(out, m, "tcp_midflow_skipped", seg_edges_midflow(d->edges));
	yu_set_uint(out, m, "reply_first_skipped", seg_edges_reply_first(d->edges));
	yu_set_uint(out, m, "memory_bytes", seg_edges_memory(d->edges));
}
