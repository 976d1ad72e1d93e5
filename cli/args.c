/* args.c - segctl's argument parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "explain.h"
#include "quarantine.h"
#include "state.h"
#include "yaml_util.h"

/* options that may repeat, and the list they build; a command's words
 * limit one to that command */
static const char *const repeatable[][3] = {
	{ NULL, "ip", "ips" }, { NULL, "allow", "allow" },
	{ "endpoint add", "port", "ports" }, { "recommend", "namespace", "namespaces" },
};
#define N_REPEATABLE (sizeof(repeatable) / sizeof(repeatable[0]))

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
	/* the bytes travel raw after the header (core/util/wire.h) */
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
	else if (!strcmp(v, "dot"))
		cmd->format = SEGCTL_DOT;
	else {
		fprintf(err, "segctl: -o takes table, json or yaml (graph: dot), not '%s'\n", v);
		return SEGCTL_USAGE;
	}
	return 0;
}

/* Which command do argv's leading words name? */
static const struct segctl_command *match(int argc, char **argv, int *used)
{
	for (size_t i = 0; i < segctl_n_commands; i++) {
		char words[64];
		int n = 0;
		bool ok = true;

		snprintf(words, sizeof(words), "%s", segctl_commands[i].words);
		for (char *save, *w = strtok_r(words, " ", &save); w;
		     w = strtok_r(NULL, " ", &save), n++)
			ok &= n < argc && !strcmp(argv[n], w);
		if (ok) {
			*used = n;
			return &segctl_commands[i];
		}
	}
	return NULL;
}

/* The k-th positional argument `a`: a value for its args key, a file for
 * the payload, or (for get) one of the kinds segd lists. */
static int positional(const struct segctl_command *c, struct segctl_cmd *cmd, int args,
		      int k, const char *a, int *files, FILE *err)
{
	const char *key = NULL;

	char bare[32];

	for (int i = 0; i <= k && c->pos[i]; i++)
		key = c->pos[i];
	if (!key || (strncmp(key, "files...", 8) && !c->pos[k]))
		return 0; /* too many: counted and reported by the caller */
	if (key[strlen(key) - 1] == '?') {   /* optional: same key, no '?' */
		snprintf(bare, sizeof(bare), "%.*s", (int)strlen(key) - 1, key);
		key = bare;
	}
	if (!strcmp(key, "files...") || !strcmp(key, "file")) {
		if (*files < 0 && ((*files = yu_add_seq(&cmd->req)) < 0 ||
				   yu_set(&cmd->req, args, "files", *files)))
			return SEGCTL_FAILED;
		return add_file(cmd, *files, a, err);
	}
	if (!strcmp(key, "what")) {
		if (strcmp(a, "policies") && strcmp(a, "endpoints") && strcmp(a, "namespaces") &&
		    strcmp(a, "quarantines") && strcmp(a, "nodes")) {
			fprintf(err, "segctl: get policies, endpoints, nodes, namespaces or "
				"quarantines, not '%s'\n", a);
			return SEGCTL_USAGE;
		}
		cmd->what = a;
	}
	return yu_set_str(&cmd->req, args, key, a) ? SEGCTL_FAILED : SEGCTL_OK;
}

static int build(const struct segctl_command *c, int argc, char **argv,
		 struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	int root, args, lists[N_REPEATABLE], files = -1, n_pos = 0, n_want = 0, ret;
	int n_optional = 0;

	for (size_t k = 0; k < N_REPEATABLE; k++)
		lists[k] = -1;
	for (; c->pos[n_want]; n_want++) {
		if (!strncmp(c->pos[n_want], "files...", 8)) {
			/* "files...?": zero or more */
			n_optional = c->pos[n_want][8] == '?';
			n_want = -1;
			break;
		}
		n_optional += c->pos[n_want][strlen(c->pos[n_want]) - 1] == '?';
	}

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
			if ((ret = positional(c, cmd, args, n_pos++, a, &files, err)))
				return ret;
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
		ret = 0;
		for (size_t k = 0; k < N_REPEATABLE; k++) {
			if (strcmp(name, repeatable[k][1]) ||
			    (repeatable[k][0] && strcmp(c->words, repeatable[k][0])))
				continue;
			if (lists[k] < 0 && ((lists[k] = yu_add_seq(&cmd->req)) < 0 ||
					     yu_set(&cmd->req, args, repeatable[k][2], lists[k])))
				return SEGCTL_FAILED;
			ret = yu_append(&cmd->req, lists[k], yu_add_str(&cmd->req, val)) ? -1 : 1;
		}
		if (ret == 0)
			ret = yu_set_str(&cmd->req, args, name, val);
		else
			ret = ret < 0;
		if (ret)
			return SEGCTL_FAILED;
	}
	if ((n_want >= 0 && (n_pos > n_want || n_pos < n_want - n_optional)) ||
	    (n_want < 0 && n_pos == 0 && !n_optional)) {
		fprintf(err, "segctl: %s takes %s\nusage: segctl %s\n", c->words,
			n_want == 0 ? "no arguments" : n_want < 0 ? "one or more files" :
			n_want == 1 ? "one argument" : "two arguments", c->usage);
		return SEGCTL_USAGE;
	}
	return SEGCTL_OK;
}

/* quarantine / release: one target; --allow rules that parse */
static int check_quarantine(struct segctl_cmd *cmd, yaml_node_t *args, FILE *err)
{
	yaml_node_t *ips = yu_map_get(&cmd->req, args, "ips");
	yaml_node_t *allow = yu_map_get(&cmd->req, args, "allow");
	int targets = !!yu_map_get(&cmd->req, args, "name") + !!ips +
		      !!yu_map_get(&cmd->req, args, "selector");
	struct seg_quar_allow a;
	char why[256];

	if (targets != 1 || yu_seq_len(ips) > 1) {
		fprintf(err, "segctl: %s takes exactly one target: an endpoint NAME, one "
			"--ip ADDR or --selector k=v,...\n", cmd->command);
		return SEGCTL_USAGE;
	}
	if (yu_seq_len(allow) > SEGD_QUAR_ALLOW) {
		fprintf(err, "segctl: at most %d --allow rules\n", SEGD_QUAR_ALLOW);
		return SEGCTL_USAGE;
	}
	for (size_t i = 0; i < yu_seq_len(allow); i++) {
		const char *text = yu_scalar(yu_seq_at(&cmd->req, allow, i));

		if (!text || seg_quar_allow_parse(text, &a, why, sizeof(why))) {
			fprintf(err, "segctl: --allow: %s\n", text ? why : "empty");
			return SEGCTL_USAGE;
		}
	}
	return SEGCTL_OK;
}

/* lint: --fail-on warning|error; --namespace only for files */
static int check_lint(struct segctl_cmd *cmd, yaml_node_t *args, FILE *err)
{
	const char *f = yu_scalar(yu_map_get(&cmd->req, args, "fail-on"));

	if (f && strcmp(f, "warning") && strcmp(f, "error")) {
		fprintf(err, "segctl: --fail-on takes warning or error, not '%s'\n", f);
		return SEGCTL_USAGE;
	}
	if (yu_map_get(&cmd->req, args, "namespace") &&
	    !yu_map_get(&cmd->req, args, "files")) {
		fprintf(err, "segctl: lint --namespace names the namespace of the FILEs' "
			"documents that name none; give FILEs, or leave it out to lint "
			"what segd enforces\n");
		return SEGCTL_USAGE;
	}
	return SEGCTL_OK;
}

static int check_required(struct segctl_cmd *cmd, FILE *err)
{
	yaml_node_t *args = yu_map_get(&cmd->req, yu_root(&cmd->req), "args");

	if (!strcmp(cmd->command, "endpoint.add")) {
		if (!yu_map_get(&cmd->req, args, "ips") ||
		    (!yu_map_get(&cmd->req, args, "ifname") ==
		     !yu_map_get(&cmd->req, args, "remote"))) {
			fprintf(err, "segctl: endpoint add needs --ip and --ifname (or, "
				"for a workload of another node, --remote instead)\n");
			return SEGCTL_USAGE;
		}
	}
	if (!strcmp(cmd->command, "node.set") && !yu_map_get(&cmd->req, args, "ips")) {
		fprintf(err, "segctl: node set needs --ip (one for each of its addresses)\n");
		return SEGCTL_USAGE;
	}
	if (cmd->format == SEGCTL_DOT && strcmp(cmd->command, "graph")) {
		fprintf(err, "segctl: -o dot is for graph only\n");
		return SEGCTL_USAGE;
	}
	if (!strcmp(cmd->command, "explain")) {
		const char *port = yu_scalar(yu_map_get(&cmd->req, args, "port"));
		char why[200];
		uint16_t n;
		uint8_t p;

		if (!yu_map_get(&cmd->req, args, "from") || !yu_map_get(&cmd->req, args, "to") ||
		    !port) {
			fprintf(err, "segctl: explain needs --from, --to and --port\n");
			return SEGCTL_USAGE;
		}
		if (seg_explain_port_parse(port, &p, &n, why, sizeof(why))) {
			fprintf(err, "segctl: --port: %s\n", why);
			return SEGCTL_USAGE;
		}
	}
	if (!strcmp(cmd->command, "lint"))
		return check_lint(cmd, args, err);
	if (!strcmp(cmd->command, "quarantine") || !strcmp(cmd->command, "release"))
		return check_quarantine(cmd, args, err);
	if (!strcmp(cmd->command, "attach") && !yu_map_get(&cmd->req, args, "role")) {
		fprintf(err, "segctl: attach needs --role uplink\n");
		return SEGCTL_USAGE;
	}
	return SEGCTL_OK;
}

int segctl_parse(int argc, char **argv, struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	const struct segctl_command *c;
	int i = 1, used = 0, ret;

	memset(cmd, 0, sizeof(*cmd));
	cmd->socket = getenv("SEGD_SOCKET");
	for (; i < argc && !strncmp(argv[i], "-", 1); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(segctl_top_help, out);
			cmd->help = true;
			return SEGCTL_OK;
		}
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			cmd->socket = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			cmd->socket = argv[i] + 9;
		} else {
			fprintf(err, "segctl: unknown option '%s'\n%s", argv[i], segctl_top_help);
			return SEGCTL_USAGE;
		}
	}
	if (!cmd->socket || !*cmd->socket)
		cmd->socket = SEGCTL_DEFAULT_SOCKET;
	if (i == argc) {
		fputs(segctl_top_help, err);
		return SEGCTL_USAGE;
	}
	c = match(argc - i, argv + i, &used);
	if (!c) {
		fprintf(err, "segctl: unknown command '%s'\n%s", argv[i], segctl_top_help);
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

/* ---- shell completion (segctl __complete) --------------------------------- */

/* values an option takes, for completion only (segd checks them); a
 * command's words limit one to that command */
static const char *const option_values[][3] = {
	{ "apply", "mode", "audit" },
	{ "namespace set", "mode", "enforce audit" },
	{ "namespace set", "on-detect", "alert quarantine off default" },
	{ NULL, "verdict", "allow deny audit" },
	{ NULL, "role", "uplink" },
	{ NULL, "fail-on", "warning error" },
	{ "recommend", "kind", "SegmentPolicy NetworkPolicy" },
	{ NULL, "stratum", "drop audit off" },
	{ NULL, "action", "drop audit" },
	{ NULL, "category", "miner c2 custom exception" },
	{ NULL, "format", "auto plain spamhaus-drop spamhaus-json feodo-csv hosts domains "
		    "falco-yaml" },
};

static void print_matching(FILE *out, const char *words, const char *cur)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!strncmp(w, cur, strlen(cur)))
			fprintf(out, "%s\n", w);
}

/* The n-th word of a command's words, or NULL. */
static const char *nth_word(const struct segctl_command *c, int n, char *buf, size_t len)
{
	char *save, *w;

	snprintf(buf, len, "%s", c->words);
	for (w = strtok_r(buf, " ", &save); w && n--; w = strtok_r(NULL, " ", &save))
		;
	return w;
}

/* Do c's first n words equal typed[0..n)? */
static bool same_start(const struct segctl_command *c, char **typed, int n)
{
	char buf[64];

	for (int j = 0; j < n; j++) {
		const char *w = nth_word(c, j, buf, sizeof(buf));

		if (!w || strcmp(w, typed[j]))
			return false;
	}
	return true;
}

/* Words that may follow `prev` (a complete command) where the user types cur. */
static void complete_args(const struct segctl_command *c, char **prev, int n_prev, const char *cur,
			  FILE *out)
{
	const char *last = n_prev ? prev[n_prev - 1] : "";
	int n_pos = 0;

	if (!strcmp(last, "-o") || !strcmp(last, "--output")) {
		print_matching(out, strcmp(c->request, "graph") ? "table json yaml" :
			       "dot json yaml", cur);
		return;
	}
	if (!strncmp(last, "--", 2) && listed(c->options, last + 2)) {
		for (size_t i = 0; i < sizeof(option_values) / sizeof(option_values[0]); i++)
			if ((!option_values[i][0] || !strcmp(option_values[i][0], c->words)) &&
			    !strcmp(last + 2, option_values[i][1]))
				print_matching(out, option_values[i][2], cur);
		return; /* a free value: nothing to offer */
	}
	if (cur[0] == '-') {
		for (const char *const *o = c->options; *o; o++)
			fprintf(out, "--%s\n", *o);
		for (const char *const *o = c->flags; *o; o++)
			fprintf(out, "--%s\n", *o);
		fprintf(out, "-o\n--help\n");
		return;
	}
	/* which positional comes next: count the ones already given */
	for (int i = 0; i < n_prev; i++) {
		if (!strcmp(prev[i], "-o") || !strcmp(prev[i], "-n") ||
		    (!strncmp(prev[i], "--", 2) && !strchr(prev[i], '=') &&
		     listed(c->options, prev[i] + 2)))
			i++; /* its value */
		else if (prev[i][0] != '-')
			n_pos++;
	}
	for (int i = 0; c->pos[i]; i++) {
		bool many = !strncmp(c->pos[i], "files...", 8);

		if (i != n_pos && !(many && n_pos >= i))
			continue;
		if (!strcmp(c->pos[i], "what"))
			print_matching(out, "policies endpoints namespaces nodes", cur);
		else if (many || !strcmp(c->pos[i], "file"))
			fprintf(out, "__files\n"); /* the shell completes file names */
		break;
	}
}

int segctl_complete(int argc, char **argv, FILE *out)
{
	const char *cur = argc ? argv[argc - 1] : "";
	const struct segctl_command *c;
	int i = 0, used = 0;
	char buf[64];

	/* global options first, as segctl_parse takes them */
	for (; i < argc - 1 && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--socket"))
			continue;
		if (++i == argc - 1) { /* cur is the socket's path */
			fprintf(out, "__files\n");
			return 0;
		}
	}
	c = match(argc - 1 - i, argv + i, &used);
	if (c) {
		complete_args(c, argv + i + used, argc - 1 - i - used, cur, out);
		return 0;
	}
	if (i == argc - 1 && cur[0] == '-') {
		fprintf(out, "--socket\n--help\n");
		return 0;
	}
	/* the next word of every command whose leading words were typed, once
	 * ("blocklist load" and "blocklist list" share "blocklist") */
	for (size_t k = 0; k < segctl_n_commands; k++) {
		int n = argc - 1 - i;
		const char *w = same_start(&segctl_commands[k], argv + i, n) ?
				nth_word(&segctl_commands[k], n, buf, sizeof(buf)) : NULL;
		bool again = false;

		if (!w || strncmp(w, cur, strlen(cur)))
			continue;
		for (size_t j = 0; j < k && !again; j++) {
			char other[64];
			const char *v = nth_word(&segctl_commands[j], n, other, sizeof(other));

			again = v && !strcmp(v, w) && same_start(&segctl_commands[j], argv + i, n);
		}
		if (!again)
			fprintf(out, "%s\n", w);
	}
	return 0;
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
