/* args.c - segctl's argument parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "state.h"
#include "yaml_util.h"

static const char top_help[] =
	"usage: segctl [--socket PATH] COMMAND ...\n"
	"\n"
	"Edit and inspect segd's segment policies (SEGD_SOCKET overrides the socket).\n"
	"\n"
	"commands:\n"
	"  namespace set NS [--labels k=v,...]\n"
	"  endpoint add NAME [--namespace NS] --ip ADDR [--ip ADDR]... [--labels k=v,...] --ifname IFACE\n"
	"  endpoint del NAME [--namespace NS]\n"
	"  attach IFACE --role uplink\n"
	"  apply FILE... [--dry-run] [--namespace NS]\n"
	"  delete policy NAME [--namespace NS]\n"
	"  get policies|endpoints|namespaces [-o table|json|yaml]\n"
	"  status [-o table|json|yaml]\n"
	"  flows [--endpoint NAME] [--namespace NS] [-o table|json|yaml]\n"
	"\n"
	"exit codes: 0 ok, 1 rejected or failed, 2 usage, 3 segd not reachable.\n"
	"`segctl COMMAND --help` describes one command.\n";

struct command {
	const char *words;      /* "endpoint add" */
	const char *request;    /* control command */
	const char *usage;
	const char *help;
	int positionals;        /* required positional args after the words; -1 = 1+ */
	const char *const *options; /* accepted long options taking a value */
	const char *const *flags;   /* accepted long options without a value */
};

static const char *const opt_none[] = { NULL };
static const char *const opt_labels[] = { "labels", NULL };
static const char *const opt_ns[] = { "namespace", NULL };
static const char *const opt_ep[] = { "namespace", "ip", "labels", "ifname", NULL };
static const char *const opt_role[] = { "role", NULL };
static const char *const flag_dry[] = { "dry-run", NULL };
static const char *const opt_flows[] = { "endpoint", "namespace", NULL };

static const struct command commands[] = {
	{ "namespace set", "namespace.set", "namespace set NS [--labels k=v,...]",
	  "Create namespace NS or replace its labels. The label\n"
	  "kubernetes.io/metadata.name=NS is always set.\n", 1, opt_labels, opt_none },
	{ "endpoint add", "endpoint.add",
	  "endpoint add NAME [--namespace NS] --ip ADDR [--ip ADDR]... [--labels k=v,...] --ifname IFACE",
	  "Register a workload: its addresses, its labels and the host-side\n"
	  "interface its traffic crosses. segd attaches its programs there; the\n"
	  "endpoint may only send from its own addresses. Re-adding replaces it.\n",
	  1, opt_ep, opt_none },
	{ "endpoint del", "endpoint.del", "endpoint del NAME [--namespace NS]",
	  "Forget an endpoint and detach segd's programs from its interface.\n",
	  1, opt_ns, opt_none },
	{ "attach", "attach", "attach IFACE --role uplink",
	  "Attach segd's XDP program to the node's uplink IFACE for early drops.\n",
	  1, opt_role, opt_none },
	{ "apply", "apply", "apply FILE... [--dry-run] [--namespace NS]",
	  "Create or replace the policies in FILEs (multi-document YAML:\n"
	  "segd.io/v1 SegmentPolicy, networking.k8s.io/v1 NetworkPolicy; '-' reads\n"
	  "stdin). Nothing changes when any document is invalid. --dry-run prints\n"
	  "what would change. --namespace sets the namespace of documents that name\n"
	  "none (default: default).\n", -1, opt_ns, flag_dry },
	{ "delete policy", "policy.delete", "delete policy NAME [--namespace NS]",
	  "Delete a policy.\n", 1, opt_ns, opt_none },
	{ "get", "get", "get policies|endpoints|namespaces [-o table|json|yaml]",
	  "List what segd holds.\n", 1, opt_none, opt_none },
	{ "status", "status", "status [-o table|json|yaml]",
	  "Programs attached per interface, map usage, policy generation and\n"
	  "packet counters by verdict and drop reason.\n", 0, opt_none, opt_none },
	{ "flows", "flows", "flows [--endpoint NAME] [--namespace NS] [-o table|json|yaml]",
	  "Flows the datapath tracks (allowed connections), with packets and bytes\n"
	  "each way, the endpoint, the peer's identity and the rule that allowed\n"
	  "them.\n", 0, opt_flows, opt_none },
};

static bool listed(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

static int read_all(FILE *f, char **out, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		if (n + 4097 > cap) {
			char *p = realloc(buf, cap = cap * 2 + 8192);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (!got)
			break;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int add_file(struct segctl_cmd *cmd, int files, const char *path, FILE *err)
{
	char *text = NULL, *grown;
	size_t len = 0;
	int ret, m;

	ret = strcmp(path, "-") ? seg_read_file(path, &text, &len)
				: read_all(stdin, &text, &len);
	if (ret) {
		fprintf(err, "segctl: cannot read %s: %s\n", path, strerror(-ret));
		return SEGCTL_USAGE;
	}
	/* the bytes travel raw after the header (daemon/wire.h) */
	grown = realloc(cmd->payload, cmd->payload_len + len + 1);
	if (!grown) {
		free(text);
		return SEGCTL_FAILED;
	}
	cmd->payload = grown;
	memcpy(cmd->payload + cmd->payload_len, text, len);
	cmd->payload_len += len;
	m = yu_add_map(&cmd->req);
	ret = yu_append(&cmd->req, files, m) ||
	      yu_set_str(&cmd->req, m, "name", strcmp(path, "-") ? path : "<stdin>") ||
	      yu_set_uint(&cmd->req, m, "size", len);
	free(text);
	return ret ? SEGCTL_FAILED : 0;
}

static int parse_format(const char *v, struct segctl_cmd *cmd, FILE *err)
{
	if (!strcmp(v, "table") || !strcmp(v, "wide"))
		cmd->format = SEGCTL_TABLE;
	else if (!strcmp(v, "json"))
		cmd->format = SEGCTL_JSON;
	else if (!strcmp(v, "yaml"))
		cmd->format = SEGCTL_YAML;
	else {
		fprintf(err, "segctl: -o takes table, json or yaml, not '%s'\n", v);
		return SEGCTL_USAGE;
	}
	return 0;
}

/* Which command do argv's leading words name? */
static const struct command *match(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char words[64];
		int n = 0;
		bool ok = true;

		snprintf(words, sizeof(words), "%s", commands[i].words);
		for (char *save, *w = strtok_r(words, " ", &save); w;
		     w = strtok_r(NULL, " ", &save), n++)
			ok &= n < argc && !strcmp(argv[n], w);
		if (ok) {
			*used = n;
			return &commands[i];
		}
	}
	return NULL;
}

static int build(const struct command *c, int argc, char **argv,
		 struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	int root, args, ips = -1, files = -1, n_pos = 0, ret;
	const char *first = NULL;

	root = yu_doc_init_map(&cmd->req);
	args = yu_add_map(&cmd->req);
	if (root < 0 || args < 0 || yu_set_str(&cmd->req, root, "command", c->request) ||
	    yu_set(&cmd->req, root, "args", args))
		return SEGCTL_FAILED;
	cmd->command = c->request;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i], name[64];
		const char *val = NULL, *eq;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fprintf(out, "usage: segctl %s\n\n%s", c->usage, c->help);
			cmd->help = true;
			return SEGCTL_OK;
		}
		if (!strcmp(a, "-o") || !strncmp(a, "--output", 8) || !strncmp(a, "-o=", 3)) {
			eq = strchr(a, '=');
			val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!val) {
				fprintf(err, "segctl: -o needs a format\n");
				return SEGCTL_USAGE;
			}
			if ((ret = parse_format(val, cmd, err)))
				return ret;
			continue;
		}
		if (!strcmp(a, "-n")) /* kubectl's short namespace flag */
			a = "--namespace";
		if (strncmp(a, "--", 2) || !a[2]) {
			if (n_pos++ == 0)
				first = a;
			if (!strcmp(c->request, "apply")) {
				if (files < 0 && ((files = yu_add_seq(&cmd->req)) < 0 ||
						  yu_set(&cmd->req, args, "files", files)))
					return SEGCTL_FAILED;
				if ((ret = add_file(cmd, files, a, err)))
					return ret;
			}
			continue;
		}
		eq = strchr(a + 2, '=');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
		if (listed(c->flags, name)) {
			if (yu_set_bool(&cmd->req, args, !strcmp(name, "dry-run") ?
					"dry_run" : name, true))
				return SEGCTL_FAILED;
			continue;
		}
		if (!listed(c->options, name)) {
			fprintf(err, "segctl: %s does not take --%s\nusage: segctl %s\n",
				c->words, name, c->usage);
			return SEGCTL_USAGE;
		}
		val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val) {
			fprintf(err, "segctl: --%s needs a value\n", name);
			return SEGCTL_USAGE;
		}
		if (!strcmp(name, "ip")) {
			if (ips < 0 && ((ips = yu_add_seq(&cmd->req)) < 0 ||
					yu_set(&cmd->req, args, "ips", ips)))
				return SEGCTL_FAILED;
			ret = yu_append(&cmd->req, ips, yu_add_str(&cmd->req, val));
		} else {
			ret = yu_set_str(&cmd->req, args, name, val);
		}
		if (ret)
			return SEGCTL_FAILED;
	}
	if ((c->positionals >= 0 && n_pos != c->positionals) ||
	    (c->positionals < 0 && n_pos == 0)) {
		fprintf(err, "segctl: %s takes %s\nusage: segctl %s\n", c->words,
			c->positionals == 0 ? "no arguments" :
			c->positionals < 0 ? "one or more files" : "one name",
			c->usage);
		return SEGCTL_USAGE;
	}
	if (!first || c->positionals < 0)
		return SEGCTL_OK;
	if (!strcmp(c->request, "get")) {
		if (strcmp(first, "policies") && strcmp(first, "endpoints") &&
		    strcmp(first, "namespaces")) {
			fprintf(err, "segctl: get policies, endpoints or namespaces, "
				"not '%s'\n", first);
			return SEGCTL_USAGE;
		}
		cmd->what = first;
		return yu_set_str(&cmd->req, args, "what", first) ? SEGCTL_FAILED : 0;
	}
	return yu_set_str(&cmd->req, args, !strcmp(c->request, "attach") ? "ifname" :
			  "name", first) ? SEGCTL_FAILED : SEGCTL_OK;
}

static int check_required(struct segctl_cmd *cmd, FILE *err)
{
	yaml_node_t *args = yu_map_get(&cmd->req, yu_root(&cmd->req), "args");

	if (!strcmp(cmd->command, "endpoint.add")) {
		if (!yu_map_get(&cmd->req, args, "ips") ||
		    !yu_map_get(&cmd->req, args, "ifname")) {
			fprintf(err, "segctl: endpoint add needs --ip and --ifname\n");
			return SEGCTL_USAGE;
		}
	}
	if (!strcmp(cmd->command, "attach") && !yu_map_get(&cmd->req, args, "role")) {
		fprintf(err, "segctl: attach needs --role uplink\n");
		return SEGCTL_USAGE;
	}
	return SEGCTL_OK;
}

int segctl_parse(int argc, char **argv, struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	const struct command *c;
	int i = 1, used = 0, ret;

	memset(cmd, 0, sizeof(*cmd));
	cmd->socket = getenv("SEGD_SOCKET");
	for (; i < argc && !strncmp(argv[i], "-", 1); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(top_help, out);
			cmd->help = true;
			return SEGCTL_OK;
		}
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			cmd->socket = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			cmd->socket = argv[i] + 9;
		} else {
			fprintf(err, "segctl: unknown option '%s'\n%s", argv[i], top_help);
			return SEGCTL_USAGE;
		}
	}
	if (!cmd->socket || !*cmd->socket)
		cmd->socket = SEGCTL_DEFAULT_SOCKET;
	if (i == argc) {
		fputs(top_help, err);
		return SEGCTL_USAGE;
	}
	c = match(argc - i, argv + i, &used);
	if (!c) {
		fprintf(err, "segctl: unknown command '%s'\n%s", argv[i], top_help);
		return SEGCTL_USAGE;
	}
	ret = build(c, argc - i - used, argv + i + used, cmd, out, err);
	if (ret == SEGCTL_OK && !cmd->help)
		ret = check_required(cmd, err);
	if (ret != SEGCTL_OK) {
		segctl_cmd_free(cmd);
		memset(cmd, 0, sizeof(*cmd));
	}
	return ret;
}

void segctl_cmd_free(struct segctl_cmd *cmd)
{
	if (cmd->command)
		yaml_document_delete(&cmd->req);
	cmd->command = NULL;
	free(cmd->payload);
	cmd->payload = NULL;
	cmd->payload_len = 0;
}
