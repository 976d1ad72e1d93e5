/* segctl - command-line client of segd's control socket. */
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "client.h"
#include "output.h"

#define REQUEST_TIMEOUT_MS 60000

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
	ret = segctl_roundtrip(cmd.socket, &cmd.req, cmd.payload, cmd.payload_len, &resp,
			       REQUEST_TIMEOUT_MS, stderr);
	if (ret == SEGCTL_OK) {
		ret = segctl_print(&cmd, &resp, stdout, stderr);
		yaml_document_delete(&resp);
	}
	segctl_cmd_free(&cmd);
	return ret;
}
