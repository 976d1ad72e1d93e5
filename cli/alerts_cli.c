/* alerts_cli.c - `segctl alerts` (alerts_cli.h). Polling keeps it simple
 * and robust: each request is a plain round trip, a segd restart only
 * ends the loop, and 200 ms is well under how fast anyone reads. */
#include <time.h>
#include "alerts_cli.h"
#include "client.h"
#include "yaml_util.h"

/* {command: alerts, args: {namespace: NS, after: ID}} */
static int alerts_request(yaml_document_t *req, const char *ns, uint64_t after)
{
	int root = yu_doc_init_map(req), args;

	if (root < 0)
		return -1;
	if ((args = yu_add_map(req)) < 0 || yu_set_str(req, root, "command", "alerts") ||
	    yu_set(req, root, "args", args) || yu_set_uint(req, args, "after", after) ||
	    (ns && yu_set_str(req, args, "namespace", ns))) {
		yaml_document_delete(req);
		return -1;
	}
	return 0;
}

int segctl_alerts(const struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	yaml_document_t *creq = (yaml_document_t *)&cmd->req;
	yaml_node_t *args = yu_map_get(creq, yu_root(creq), "args");
	const char *ns = yu_scalar(yu_map_get(creq, args, "namespace"));
	const struct timespec pause = { 0, SEGCTL_ALERTS_POLL_MS * 1000000L };
	bool follow = false, first = true;
	uint64_t after = 0;
	int ret;

	yu_bool(yu_map_get(creq, args, "follow"), &follow);
	for (;;) {
		yaml_document_t req, resp;

		if (alerts_request(&req, ns, after))
			return SEGCTL_FAILED;
		ret = segctl_roundtrip(cmd->socket, &req, NULL, 0, &resp,
				       SEGCTL_REQUEST_TIMEOUT_MS, err);
		yaml_document_delete(&req);
		if (ret)
			return ret;
		ret = segctl_print_alerts(cmd, &resp, !first, &after, out, err);
		yaml_document_delete(&resp);
		fflush(out);
		if (ret || !follow)
			return ret;
		first = false;
		nanosleep(&pause, NULL);
	}
}
