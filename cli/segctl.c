/* segctl - command-line client of segd's control socket. */
#include <stdio.h>
#include <string.h>
#include "alerts_cli.h"
#include "args.h"
#include "client.h"
#include "lint_cli.h"
#include "output.h"
#include "yaml_util.h"

struct stream_ctx {
	const struct segctl_cmd *cmd;
};

/* flows --follow: the current flows first (as a table; with -o json only
 * the stream, one record a line), then the records as they come */
static int on_answer(void *p, yaml_document_t *resp)
{
	struct stream_ctx *x = p;
	yaml_node_t *root = yu_root(resp);
	bool ok = false;

	yu_bool(yu_map_get(resp, root, "ok"), &ok);
	if (ok && x->cmd->format == SEGCTL_JSON)
		return SEGCTL_OK;
	return segctl_print(x->cmd, resp, stdout, stderr);
}

static void on_line(void *p, const char *line, size_t len)
{
	struct stream_ctx *x = p;

	segctl_print_flow_record(x->cmd, line, len, stdout);
}

static bool wants_stream(struct segctl_cmd *cmd)
{
	yaml_node_t *args = yu_map_get(&cmd->req, yu_root(&cmd->req), "args");
	bool follow = false;

	return !strcmp(cmd->command, "flows") &&
	       !yu_bool(yu_map_get(&cmd->req, args, "follow"), &follow) && follow;
}

int main(int argc, char **argv)
{
	struct segctl_cmd cmd;
	yaml_document_t resp;
	int ret;

	/* hidden: the shell completion asks here (tools/completion) */
	if (argc > 1 && !strcmp(argv[1], "__complete"))
		return segctl_complete(argc - 2, argv + 2, stdout);
	ret = segctl_parse(argc, argv, &cmd, stdout, stderr);

	if (ret != SEGCTL_OK || cmd.help) {
		segctl_cmd_free(&cmd);
		return ret;
	}
	if (!strcmp(cmd.command, "lint")) {   /* files: no segd needed */
		ret = segctl_lint(&cmd, stdout, stderr);
		segctl_cmd_free(&cmd);
		return ret;
	}
	if (!strcmp(cmd.command, "alerts")) {   /* polls when following */
		ret = segctl_alerts(&cmd, stdout, stderr);
		segctl_cmd_free(&cmd);
		return ret;
	}
	if (wants_stream(&cmd)) {
		struct stream_ctx x = { &cmd };

		ret = segctl_stream(cmd.socket, &cmd.req, on_answer, on_line, &x, stderr);
		segctl_cmd_free(&cmd);
		return ret;
	}
	ret = segctl_roundtrip(cmd.socket, &cmd.req, cmd.payload, cmd.payload_len, &resp,
			       SEGCTL_REQUEST_TIMEOUT_MS, stderr);
	if (ret == SEGCTL_OK) {
		ret = segctl_print(&cmd, &resp, stdout, stderr);
		yaml_document_delete(&resp);
	}
	segctl_cmd_free(&cmd);
	return ret;
}
