/* test_cli_args.c - segctl's command line -> request, table-driven. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "yaml_util.h"

struct args_case {
	char argv[12][40];  /* argv[0] is "segctl"; "" ends the list */
	int exit;           /* SEGCTL_* from segctl_parse */
	char command[24];   /* request command when exit == 0 ("" = help) */
	char key[16];       /* an args key to check */
	char value[40];     /* its scalar value ("" = not checked) */
	char err[48];       /* substring of stderr when exit != 0 */
};

static const struct args_case cases[] = {
	{ { "segctl", "status" }, 0, "status", "", "", "" },
	{ { "segctl", "quarantine", "web", "-n", "shop", "--allow", "10.0.0.5:22/tcp",
	    "--reason", "miner" }, 0, "quarantine", "reason", "miner", "" },
	{ { "segctl", "quarantine", "--selector", "app=web", "-n", "shop" }, 0,
	  "quarantine", "selector", "app=web", "" },
	{ { "segctl", "quarantine", "--ip", "10.200.1.10" }, 0, "quarantine", "", "", "" },
	{ { "segctl", "quarantine", "web", "--allow", "[fd00::/64]:icmpv6" }, 0,
	  "quarantine", "name", "web", "" },
	{ { "segctl", "quarantine" }, 2, "", "", "", "exactly one target" },
	{ { "segctl", "quarantine", "web", "--ip", "10.0.0.1" }, 2, "", "", "",
	  "exactly one target" },
	{ { "segctl", "quarantine", "--ip", "10.0.0.1", "--ip", "10.0.0.2" }, 2, "", "", "",
	  "exactly one target" },
	{ { "segctl", "quarantine", "web", "--allow", "10.0.0.0/33" }, 2, "", "", "",
	  "--allow" },
	{ { "segctl", "quarantine", "web", "--allow", "10.0.0.1:99999/tcp" }, 2, "", "", "",
	  "not a port" },
	{ { "segctl", "quarantine", "a", "b" }, 2, "", "", "", "takes one argument" },
	{ { "segctl", "release", "web", "-n", "shop" }, 0, "release", "namespace", "shop", "" },
	{ { "segctl", "release", "web", "--allow", "10.0.0.1" }, 2, "", "", "",
	  "does not take --allow" },
	{ { "segctl", "get", "quarantines", "-o", "json" }, 0, "get", "what", "quarantines", "" },
	{ { "segctl", "status", "-o", "json" }, 0, "status", "", "", "" },
	{ { "segctl", "lint" }, 0, "lint", "", "", "" },
	{ { "segctl", "lint", "--fail-on", "warning", "-o", "json" }, 0, "lint", "fail-on",
	  "warning", "" },
	{ { "segctl", "lint", "--fail-on", "never" }, 2, "", "", "", "--fail-on takes" },
	{ { "segctl", "lint", "-n", "shop" }, 2, "", "", "", "give FILEs" },
	{ { "segctl", "status", "-o", "xml" }, 2, "", "", "", "-o takes table, json or yaml" },
	{ { "segctl", "namespace", "set", "shop", "--labels", "team=a" }, 0,
	  "namespace.set", "labels", "team=a", "" },
	{ { "segctl", "namespace", "set" }, 2, "", "", "", "takes one argument" },
	{ { "segctl", "namespace", "set", "shop", "--mode", "audit" }, 0,
	  "namespace.set", "mode", "audit", "" },
	{ { "segctl", "endpoint", "add", "web", "-n", "shop", "--ip", "10.200.1.10",
	    "--ifname", "veth1" }, 0, "endpoint.add", "namespace", "shop", "" },
	{ { "segctl", "endpoint", "add", "web", "--ip=10.200.1.10", "--ifname=v1" }, 0,
	  "endpoint.add", "ifname", "v1", "" },
	{ { "segctl", "endpoint", "add", "web", "--ip", "10.200.1.10" }, 2, "", "", "",
	  "needs --ip and --ifname" },
	{ { "segctl", "endpoint", "add", "web", "--ip", "10.200.9.1", "--remote" }, 0,
	  "endpoint.add", "remote", "true", "" },
	{ { "segctl", "endpoint", "add", "web", "--ip", "10.200.9.1", "--remote",
	    "--ifname", "v1" }, 2, "", "", "", "needs --ip and --ifname (or" },
	{ { "segctl", "endpoint", "add", "web", "--ifname", "v1", "--from", "80" }, 2, "",
	  "", "", "does not take --from" },
	{ { "segctl", "endpoint", "add", "web", "--ip", "10.200.9.1", "--ifname", "v1",
	    "--port", "http=80" }, 0, "endpoint.add", "ifname", "v1", "" },
	{ { "segctl", "endpoint", "del", "web", "--namespace", "shop" }, 0,
	  "endpoint.del", "name", "web", "" },
	{ { "segctl", "attach", "up0", "--role", "uplink" }, 0, "attach", "ifname", "up0", "" },
	{ { "segctl", "attach", "up0" }, 2, "", "", "", "needs --role uplink" },
	{ { "segctl", "apply" }, 2, "", "", "", "one or more files" },
	{ { "segctl", "apply", "/nonexistent/p.yaml" }, 2, "", "", "", "cannot read" },
	{ { "segctl", "delete", "policy", "p1", "-n", "shop" }, 0, "policy.delete",
	  "name", "p1", "" },
	{ { "segctl", "promote", "p1", "--namespace", "shop" }, 0, "promote", "name", "p1", "" },
	{ { "segctl", "promote" }, 2, "", "", "", "" },
	{ { "segctl", "audit-report", "--since", "30m", "-o", "json" }, 0, "audit-report",
	  "since", "30m", "" },
	{ { "segctl", "audit-report", "--mode", "audit" }, 2, "", "", "", "does not take --mode" },
	{ { "segctl", "get", "policies", "-o", "yaml" }, 0, "get", "what", "policies", "" },
	{ { "segctl", "get", "pods" }, 2, "", "", "", "namespaces or quarantines" },
	{ { "segctl", "node", "set", "w1", "--ip", "10.0.0.1", "--ip", "fd00::1",
	    "--labels", "role=worker" }, 0, "node.set", "labels", "role=worker", "" },
	{ { "segctl", "node", "set", "w1", "--labels", "a=b" }, 2, "", "", "", "needs --ip" },
	{ { "segctl", "node", "set", "w1", "--ip", "10.0.0.1", "-n", "x" }, 2, "", "", "",
	  "does not take --namespace" },
	{ { "segctl", "node", "del", "w1" }, 0, "node.del", "name", "w1", "" },
	{ { "segctl", "get", "nodes", "-o", "json" }, 0, "get", "what", "nodes", "" },
	{ { "segctl", "frobnicate" }, 2, "", "", "", "unknown command" },
	{ { "segctl" }, 2, "", "", "", "usage: segctl" },
	{ { "segctl", "--bogus", "status" }, 2, "", "", "", "unknown option" },
	{ { "segctl", "--socket", "/tmp/x.sock", "status" }, 0, "status", "", "", "" },
	{ { "segctl", "get", "--help" }, 0, "", "", "", "" },
	{ { "segctl", "--help" }, 0, "", "", "", "" },
	{ { "segctl", "blocklist", "load", "c2", "/nonexistent/feed.csv", "--category", "c2" },
	  2, "", "", "", "cannot read" },
	{ { "segctl", "blocklist", "load", "c2" }, 2, "", "", "", "takes two arguments" },
	{ { "segctl", "blocklist", "test", "203.0.113.7" }, 0, "blocklist.test",
	  "address", "203.0.113.7", "" },
	{ { "segctl", "blocklist", "del", "c2" }, 0, "blocklist.del", "name", "c2", "" },
	{ { "segctl", "explain", "--from", "shop/web", "--to", "10.0.0.1", "--port", "443/tcp" },
	  0, "explain", "port", "443/tcp", "" },
	{ { "segctl", "explain", "--from", "web", "-n", "shop", "--to", "api", "--port", "icmp" },
	  0, "explain", "namespace", "shop", "" },
	{ { "segctl", "explain", "--from", "web", "--to", "api" }, 2, "", "", "",
	  "needs --from, --to and --port" },
	{ { "segctl", "explain", "--from", "web", "--to", "api", "--port", "80/tpc" }, 2, "",
	  "", "", "unknown protocol 'tpc'" },
	{ { "segctl", "explain", "--from", "web", "--to", "api", "--port", "80/tcp", "-o", "dot" },
	  2, "", "", "", "-o dot is for graph only" },
	{ { "segctl", "graph", "-o", "dot", "-n", "shop" }, 0, "graph", "namespace", "shop", "" },
	{ { "segctl", "graph", "extra" }, 2, "", "", "", "takes no arguments" },
	{ { "segctl", "blocklist", "list", "extra" }, 2, "", "", "", "takes no arguments" },
	{ { "segctl", "flows", "--endpoint", "web" }, 0, "flows", "endpoint", "web", "" },
	{ { "segctl", "namespace", "set", "shop", "--on-detect", "quarantine" }, 0,
	  "namespace.set", "on-detect", "quarantine", "" },
	{ { "segctl", "namespace", "set", "shop", "--on-detect=off" }, 0,
	  "namespace.set", "on-detect", "off", "" },
	{ { "segctl", "namespace", "set", "shop", "--on-detect" }, 2, "", "", "",
	  "--on-detect needs a value" },
	{ { "segctl", "alerts" }, 0, "alerts", "", "", "" },
	{ { "segctl", "alerts", "-n", "shop", "-o", "json" }, 0, "alerts", "namespace",
	  "shop", "" },
	{ { "segctl", "alerts", "--namespace=shop", "--follow" }, 0, "alerts", "follow",
	  "true", "" },
	{ { "segctl", "alerts", "shop" }, 2, "", "", "", "alerts takes no arguments" },
	{ { "segctl", "alerts", "--verdict", "deny" }, 2, "", "", "",
	  "alerts does not take --verdict" },
	{ { "segctl", "alerts", "-o", "dot" }, 2, "", "", "", "-o dot is for graph only" },
	{ { "segctl", "alerts", "--help" }, 0, "", "", "", "" },
};

ParameterizedTestParameters(cli, args)
{
	return cr_make_param_array(struct args_case, (void *)cases,
				   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct args_case *c, cli, args)
{
	char *argv[13] = { 0 }, *errbuf = NULL, *outbuf = NULL;
	size_t errlen = 0, outlen = 0;
	FILE *err = open_memstream(&errbuf, &errlen), *out = open_memstream(&outbuf, &outlen);
	struct segctl_cmd cmd;
	int argc = 0, ret;

	while (argc < 12 && c->argv[argc][0]) {
		argv[argc] = c->argv[argc];
		argc++;
	}
	ret = segctl_parse(argc, argv, &cmd, out, err);
	fclose(err);
	fclose(out);
	cr_assert_eq(ret, c->exit, "%s %s: exit %d, stderr: %s", argv[1] ? argv[1] : "",
		     argv[2] ? argv[2] : "", ret, errbuf);
	if (ret) {
		cr_assert(strstr(errbuf, c->err), "stderr '%s' lacks '%s'", errbuf, c->err);
	} else if (!c->command[0]) {
		cr_assert(cmd.help, "help expected");
		cr_assert(strstr(outbuf, "usage: segctl"), "help text printed");
	} else {
		yaml_node_t *root = yu_root(&cmd.req);
		yaml_node_t *args = yu_map_get(&cmd.req, root, "args");

		cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, root, "command")), c->command);
		if (c->key[0])
			cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, args, c->key)),
					 c->value, "args.%s", c->key);
	}
	segctl_cmd_free(&cmd);
	free(errbuf);
	free(outbuf);
}

Test(cli, blocklist_load_sends_one_file_and_repeated_allows)
{
	char path[] = "/tmp/segctl-test-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "segctl", "blocklist", "load", "feodo", path, "--category", "c2",
			 "--allow", "10.0.0.0/8", "--allow", "192.168.0.0/16", NULL };
	struct segctl_cmd cmd;
	yaml_node_t *args;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "1.2.3.4\n", 8), 8);
	close(fd);
	cr_assert_eq(segctl_parse(11, argv, &cmd, stdout, stderr), 0);
	unlink(path);
	args = yu_map_get(&cmd.req, yu_root(&cmd.req), "args");
	cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, args, "name")), "feodo");
	cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, args, "category")), "c2");
	cr_assert_eq(yu_seq_len(yu_map_get(&cmd.req, args, "allow")), 2);
	cr_assert_eq(yu_seq_len(yu_map_get(&cmd.req, args, "files")), 1);
	cr_assert_eq(cmd.payload_len, 8);
	segctl_cmd_free(&cmd);
}

Test(cli, socket_from_environment)
{
	char *argv[] = { "segctl", "status", NULL };
	struct segctl_cmd cmd;

	setenv("SEGD_SOCKET", "/tmp/env.sock", 1);
	cr_assert_eq(segctl_parse(2, argv, &cmd, stdout, stderr), 0);
	cr_assert_str_eq(cmd.socket, "/tmp/env.sock");
	segctl_cmd_free(&cmd);
	unsetenv("SEGD_SOCKET");
	cr_assert_eq(segctl_parse(2, argv, &cmd, stdout, stderr), 0);
	cr_assert_str_eq(cmd.socket, SEGCTL_DEFAULT_SOCKET);
	segctl_cmd_free(&cmd);
}

Test(cli, apply_sends_files_raw)
{
	char path[] = "/tmp/segctl-test-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = { "segctl", "apply", path, path, "--dry-run", NULL };
	struct segctl_cmd cmd;
	yaml_node_t *args, *files;

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "abc: 1\n", 7), 7);
	close(fd);
	cr_assert_eq(segctl_parse(5, argv, &cmd, stdout, stderr), 0);
	unlink(path);
	args = yu_map_get(&cmd.req, yu_root(&cmd.req), "args");
	files = yu_map_get(&cmd.req, args, "files");
	cr_assert_eq(yu_seq_len(files), 2);
	cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, yu_seq_at(&cmd.req, files, 1), "size")), "7");
	cr_assert_eq(cmd.payload_len, 14);
	cr_assert(!memcmp(cmd.payload, "abc: 1\nabc: 1\n", 14));
	cr_assert_str_eq(yu_scalar(yu_map_get(&cmd.req, args, "dry_run")), "true");
	segctl_cmd_free(&cmd);
}

/* segctl __complete: the words offered where the last argument is typed */
struct complete_case {
	int argc;
	char argv[8][32];   /* the last one is the word being typed (maybe "") */
	char want[200];     /* the offered words, space separated */
};

static const struct complete_case complete_cases[] = {
	{ 1, { "" }, "namespace endpoint node attach apply delete promote audit-report get "
		     "quarantine release status flows conntrack alerts blocklist explain graph "
		     "recommend learn lint" },
	{ 2, { "conntrack", "" }, "flush" },
	{ 3, { "conntrack", "flush", "-" }, "-o --help" },
	{ 1, { "bl" }, "blocklist" },
	{ 2, { "blocklist", "" }, "load list show del test" },
	{ 2, { "blocklist", "l" }, "load list" },
	{ 2, { "endpoint", "" }, "add load del" },
	{ 4, { "endpoint", "add", "web", "--" }, "--namespace --ip --labels --ifname --port --remote -o --help" },
	{ 2, { "apply", "-" }, "--namespace --mode --dry-run -o --help" },
	{ 3, { "promote", "web", "-" }, "--namespace -o --help" },
	{ 2, { "audit-report", "-" }, "--namespace --since -o --help" },
	{ 4, { "apply", "p.yaml", "--mode", "" }, "audit" },
	{ 5, { "namespace", "set", "shop", "--mode", "" }, "enforce audit" },
	{ 2, { "get", "" }, "policies endpoints namespaces nodes" },
	{ 2, { "node", "" }, "set del" },
	{ 4, { "node", "set", "w1", "--" }, "--ip --labels -o --help" },
	{ 2, { "get", "e" }, "endpoints" },
	{ 3, { "get", "endpoints", "" }, "" },
	{ 3, { "flows", "--verdict", "" }, "allow deny audit" },
	{ 3, { "status", "-o", "j" }, "json" },
	{ 3, { "graph", "-o", "" }, "dot json yaml" },
	{ 2, { "apply", "" }, "__files" },
	{ 4, { "apply", "a.yaml", "--dry-run", "" }, "__files" },
	{ 3, { "blocklist", "load", "" }, "" },
	{ 4, { "blocklist", "load", "feodo", "" }, "__files" },
	{ 6, { "blocklist", "load", "feodo", "f.csv", "--category", "" },
	  "miner c2 custom exception" },
	{ 4, { "attach", "up0", "--role", "" }, "uplink" },
	{ 5, { "endpoint", "add", "web", "--ip", "" }, "" },
	{ 2, { "--socket", "" }, "__files" },
	{ 3, { "--socket", "/run/x.sock", "st" }, "status" },
	{ 1, { "-" }, "--socket --help" },
	{ 2, { "nosuch", "" }, "" },
	{ 2, { "lint", "" }, "__files" },
	{ 3, { "lint", "a.yaml", "" }, "__files" },
	{ 3, { "lint", "--fail-on", "" }, "warning error" },
	{ 2, { "lint", "-" }, "--fail-on --namespace -o --help" },
	{ 2, { "alerts", "-" }, "--namespace --follow -o --help" },
	{ 3, { "alerts", "-o", "" }, "table json yaml" },
	{ 5, { "namespace", "set", "shop", "--on-detect", "" }, "alert quarantine off default" },
	{ 4, { "namespace", "set", "shop", "--" },
	  "--labels --mode --stratum --on-detect -o --help" },
};

ParameterizedTestParameters(cli_args, complete)
{
	return cr_make_param_array(struct complete_case, complete_cases,
				   sizeof(complete_cases) / sizeof(complete_cases[0]));
}

ParameterizedTest(const struct complete_case *tc, cli_args, complete)
{
	char *argv[8], *text = NULL, *p;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert(out);
	for (int i = 0; i < tc->argc; i++)
		argv[i] = (char *)tc->argv[i];
	cr_assert_eq(segctl_complete(tc->argc, argv, out), 0);
	fclose(out);
	for (p = text; (p = strchr(p, '\n'));)
		*p = ' ';
	if (len && text[len - 1] == ' ')
		text[len - 1] = '\0';
	cr_assert_str_eq(text, tc->want);
	free(text);
}

/* every command the parser knows is offered by completion, word by word */
Test(cli_args, complete_covers_every_command)
{
	static const char *const words[][2] = {
		{ "namespace", "set" }, { "endpoint", "add" }, { "endpoint", "del" },
		{ "delete", "policy" }, { "blocklist", "load" }, { "blocklist", "list" },
		{ "blocklist", "show" }, { "blocklist", "del" }, { "blocklist", "test" },
		{ "node", "set" }, { "node", "del" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *argv[2] = { (char *)words[i][0], (char *)"" }, *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);

		segctl_complete(2, argv, out);
		fclose(out);
		cr_assert(strstr(text, words[i][1]), "%s: '%s' not offered: %s", words[i][0],
			  words[i][1], text);
		free(text);
	}
}
