/* control.c - request dispatch: one YAML request document in, the
 * handler its command names, one YAML response document out. The
 * handlers are control_*.c, one file per family; every change they make
 * goes through the engine (engine/engine.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "control.h"
#include "control_blocklist.h"
#include "control_explain.h"
#include "control_flows.h"
#include "control_int.h"
#include "control_learn.h"
#include "control_report.h"
#include "log.h"
#include "yaml_util.h"

/* ---- dispatch ------------------------------------------------------------------- */

typedef int (*handler_fn)(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

static const struct {
	const char *name;
	handler_fn fn;
} handlers[] = {
	{ "namespace.set", segd_h_namespace_set },
	{ "endpoint.add", segd_h_endpoint_add },
	{ "endpoint.del", segd_h_endpoint_del },
	{ "endpoint.load", segd_h_endpoint_load },
	{ "node.set", segd_h_node_set },
	{ "node.del", segd_h_node_del },
	{ "attach", segd_h_attach },
	{ "apply", segd_h_apply },
	{ "policy.delete", segd_h_policy_delete },
	{ "promote", segd_h_promote },
	{ "audit-report", segd_h_audit_report },
	{ "get", segd_h_get },
	{ "status", segd_h_status },
	{ "flows", segd_h_flows },
	{ "conntrack.flush", segd_h_conntrack_flush },
	{ "alerts", segd_h_alerts },
	{ "blocklist.load", segd_h_blocklist_load },
	{ "blocklist.list", segd_h_blocklist_list },
	{ "blocklist.show", segd_h_blocklist_show },
	{ "blocklist.del", segd_h_blocklist_del },
	{ "blocklist.test", segd_h_blocklist_test },
	{ "explain", segd_h_explain },
	{ "graph", segd_h_graph },
	{ "quarantine", segd_h_quarantine },
	{ "release", segd_h_release },
	{ "recommend", segd_h_recommend },
	{ "learn.reset", segd_h_learn_reset },
	{ "lint", segd_h_lint },
};

/* Endpoints and namespaces may have changed what a quarantine covers
 * (a name re-registered, new labels): drop what no longer matches. A
 * no-op diff when nothing changed. */
static void sync_quarantines_after(struct segd *d)
{
	struct seg_error err = { 0 };
	char msg[1024];

	if (!d->dp || segd_quarantine_sync(d, NULL, false, &err) == 0)
		return;
	seg_error_format(&err, msg, sizeof(msg));
	seg_log(SEG_LOG_ERROR, "quarantine: cannot update the kernel map: %s", msg);
}

int segd_handle(struct segd *d, yaml_document_t *req, const char *payload,
		size_t payload_len, const struct segd_peer *peer,
		yaml_document_t *resp)
{
	struct seg_error err = { 0 };
	struct segd_req r = { .doc = req, .err = &err, .payload = payload,
			      .payload_len = payload_len, .peer = peer };
	yaml_node_t *root = yu_root(req);
	const char *cmd = yu_scalar(yu_map_get(req, root, "command"));
	int top = yu_doc_init_map(resp), res, ret = -EINVAL, exit_code = 2;
	char msg[1024];

	if (top < 0)
		return top;
	res = yu_add_map(resp);
	r.args = yu_map_get(req, root, "args");
	if (!cmd) {
		seg_errorf(&err, NULL, 0, 0, -EINVAL, "request has no command");
		goto done;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (strcmp(handlers[i].name, cmd))
			continue;
		ret = handlers[i].fn(d, &r, resp, res);
		exit_code = ret ? 1 : 0;
		if (!ret)
			sync_quarantines_after(d);
		goto done;
	}
	seg_errorf(&err, NULL, 0, 0, -EINVAL,
		   "unknown command '%s'; is segctl newer than segd?", cmd);
done:
	yu_set_bool(resp, top, "ok", ret == 0);
	yu_set_int(resp, top, "exit", exit_code);
	if (ret) {
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg), "%s", strerror(-ret));
		seg_error_format(&err, msg, sizeof(msg));
		yu_set_str(resp, top, "error", msg);
	}
	return yu_set(resp, top, "result", res);
}

static int handle_request(void *ctx, yaml_document_t *req, const char *payload,
			  size_t payload_len, const struct segd_peer *peer,
			  yaml_document_t *resp)
{
	return segd_handle(ctx, req, payload, payload_len, peer, resp);
}

static bool take_follower(void *ctx, struct bufferevent *bev)
{
	return segd_flows_take_follower(ctx, bev);
}

struct seg_server_handler segd_control_handler(struct segd *d)
{
	return (struct seg_server_handler){ .handle = handle_request,
					    .take_over = take_follower, .ctx = d };
}
