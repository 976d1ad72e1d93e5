/* args.c - segctl's argument parsing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "explain.h"
#include "quarantine.h"
#include "state.h"
#include "yaml_util.h"

static const char top_help[] =
	"usage: segctl [--socket PATH] COMMAND ...\n"
	"\n"
	"Edit and inspect segd's segment policies (SEGD_SOCKET overrides the socket).\n"
	"\n"
	"commands:\n"
	"  namespace set NS [--labels k=v,...] [--mode enforce|audit] [--stratum drop|audit|off]\n"
	"  endpoint add NAME [--namespace NS] --ip ADDR [--ip ADDR]... [--labels k=v,...]\n"
	"               [--port NAME=NUMBER[/PROTO]]... --ifname IFACE|--remote\n"
	"  endpoint del NAME [--namespace NS]\n"
	"  node set NAME --ip ADDR [--ip ADDR]... [--labels k=v,...]\n"
	"  node del NAME\n"
	"  attach IFACE --role uplink\n"
	"  apply FILE... [--dry-run] [--namespace NS]\n"
	"  delete policy NAME [--namespace NS]\n"
	"  get policies|endpoints|namespaces|nodes|quarantines [-o table|json|yaml]\n"
	"  status [-o table|json|yaml]\n"
	"  quarantine NAME|--ip ADDR|--selector k=v,... [--namespace NS]\n"
	"             [--allow CIDR[:PORT/PROTO]]... [--reason TEXT]\n"
	"  release NAME|--ip ADDR|--selector k=v,... [--namespace NS]\n"
		"  flows [--follow] [--verdict allow|deny|audit] [--endpoint NAME] [--namespace NS]\n"
	"        [-o table|json|yaml]\n"
	"  blocklist load NAME FILE --category miner|c2|custom|exception [--format F]\n"
	"                 [--action drop|audit] [--expires DURATION] [--allow CIDR]...\n"
	"  blocklist list | show NAME | del NAME | test IP\n"
	"  explain --from ENDPOINT|IP --to ENDPOINT|IP --port N/PROTO [--namespace NS]\n"
	"  graph [--namespace NS] [-o dot|json|yaml]\n"
	"\n"
	"exit codes: 0 ok, 1 rejected or failed, 2 usage, 3 segd not reachable.\n"
	"`segctl COMMAND --help` describes one command.\n";

struct command {
	const char *words;      /* "endpoint add" */
	const char *request;    /* control command */
	const char *usage;
	const char *help;
	/* positional arguments after the words, by the args key they fill;
	 * "file" reads a file into the payload, "files..." takes one or more */
	const char *const *pos;
	const char *const *options; /* accepted long options taking a value */
	const char *const *flags;   /* accepted long options without a value */
};

static const char *const opt_none[] = { NULL };
static const char *const opt_labels[] = { "labels", "mode", "stratum", NULL };
static const char *const opt_ns[] = { "namespace", NULL };
static const char *const opt_ep[] = { "namespace", "ip", "labels", "ifname", "port",
				       NULL };
static const char *const opt_role[] = { "role", NULL };
static const char *const opt_node[] = { "ip", "labels", NULL };
static const char *const flag_dry[] = { "dry-run", NULL };
static const char *const flag_follow[] = { "follow", NULL };
static const char *const flag_remote[] = { "remote", NULL };
static const char *const opt_flows[] = { "endpoint", "namespace", "verdict", NULL };
static const char *const opt_bl_load[] = { "category", "format", "action", "expires",
					   "allow", NULL };
static const char *const opt_explain[] = { "from", "to", "port", "namespace", NULL };
static const char *const opt_quar[] = { "namespace", "ip", "selector", "allow",
					"reason", NULL };
static const char *const opt_release[] = { "namespace", "ip", "selector", NULL };
static const char *const pos_none[] = { NULL };
/* a trailing '?' makes the positional optional */
static const char *const pos_opt_name[] = { "name?", NULL };
static const char *const pos_name[] = { "name", NULL };
static const char *const pos_ifname[] = { "ifname", NULL };
static const char *const pos_what[] = { "what", NULL };
static const char *const pos_files[] = { "files...", NULL };
static const char *const pos_name_file[] = { "name", "file", NULL };
static const char *const pos_address[] = { "address", NULL };
/* options that may repeat, and the list they build; a command's words
 * limit one to that command */
static const char *const repeatable[][3] = {
	{ NULL, "ip", "ips" }, { NULL, "allow", "allow" },
	{ "endpoint add", "port", "ports" },
};

static const struct command commands[] = {
	{ "namespace set", "namespace.set",
	  "namespace set NS [--labels k=v,...] [--mode enforce|audit] [--stratum drop|audit|off]",
	  "Create namespace NS or replace its labels. The label\n"
	  "kubernetes.io/metadata.name=NS is always set. --mode audit puts every\n"
	  "policy of NS in audit mode: nothing it would drop is dropped, such flows\n"
	  "pass and are reported as audit; --mode enforce (the default) enforces\n"
	  "them again. --stratum says what happens\n"
	  "when a flow of its endpoints opens with a Stratum (crypto-mining) login:\n"
	  "drop it (the default), audit it (count, pass) or off (do not look).\n", pos_name, opt_labels, opt_none },
	{ "endpoint add", "endpoint.add",
	  "endpoint add NAME [--namespace NS] --ip ADDR [--ip ADDR]... [--labels k=v,...] "
	  "[--port NAME=NUMBER[/PROTO]]... --ifname IFACE|--remote",
	  "Register a workload: its addresses, its labels and the host-side\n"
	  "interface its traffic crosses. segd attaches its programs there; the\n"
	  "endpoint may only send from its own addresses. Re-adding replaces it.\n"
	  "With --remote instead of --ifname: a workload of another node; its\n"
	  "addresses carry the identity of its labels, so policies selecting them\n"
	  "match it as a peer; nothing is attached for it here. --port names a\n"
	  "port it serves (its container port's name; PROTO TCP, UDP or SCTP,\n"
	  "default TCP), so policies can say `port: NAME`.\n",
	  pos_name, opt_ep, flag_remote },
	{ "endpoint del", "endpoint.del", "endpoint del NAME [--namespace NS]",
	  "Forget an endpoint and detach segd's programs from its interface.\n",
	  pos_name, opt_ns, opt_none },
	{ "node set", "node.set", "node set NAME --ip ADDR [--ip ADDR]... [--labels k=v,...]",
	  "Register a node of the cluster: its addresses (InternalIP, ExternalIP)\n"
	  "and its labels, which ClusterNetworkPolicy `nodes` peers select. Its\n"
	  "addresses become that peer's; a node holding one of this node's\n"
	  "node_addresses is this node (the host). Setting it again replaces it.\n",
	  pos_name, opt_node, opt_none },
	{ "node del", "node.del", "node del NAME",
	  "Forget a node: `nodes` peers no longer select its addresses.\n",
	  pos_name, opt_none, opt_none },
	{ "attach", "attach", "attach IFACE --role uplink",
	  "Attach segd's XDP program to the node's uplink IFACE for early drops.\n",
	  pos_ifname, opt_role, opt_none },
	{ "apply", "apply", "apply FILE... [--dry-run] [--namespace NS]",
	  "Create or replace the policies in FILEs (multi-document YAML:\n"
	  "segd.io/v1 SegmentPolicy, networking.k8s.io/v1 NetworkPolicy; '-' reads\n"
	  "stdin). Nothing changes when any document is invalid. --dry-run prints\n"
	  "what would change. --namespace sets the namespace of documents that name\n"
	  "none (default: default).\n", pos_files, opt_ns, flag_dry },
	{ "delete policy", "policy.delete", "delete policy NAME [--namespace NS]",
	  "Delete a policy.\n", pos_name, opt_ns, opt_none },
	{ "get", "get", "get policies|endpoints|namespaces|nodes|quarantines [-o table|json|yaml]",
	  "List what segd holds.\n", pos_what, opt_none, opt_none },
	{ "quarantine", "quarantine",
	  "quarantine NAME|--ip ADDR|--selector k=v,... [--namespace NS] "
	  "[--allow CIDR[:PORT/PROTO]]... [--reason TEXT]",
	  "Cut a compromised workload off at once: every packet to or from it is\n"
	  "dropped at every hook, established connections included, whatever the\n"
	  "policies and blocklist exceptions say - except traffic with the forensic\n"
	  "peers named by --allow (up to 8; CIDR, CIDR:PORT/PROTO or CIDR:PROTO,\n"
	  "IPv6 as [CIDR]:PORT/PROTO; PORT is the workload's or the peer's port).\n"
	  "The target is endpoint NAME in --namespace (default: default), every\n"
	  "endpoint holding address --ip, or every endpoint in --namespace carrying\n"
	  "all labels of --selector; endpoints registered later under it are\n"
	  "quarantined when they register. Quarantining a target again replaces\n"
	  "its allow list and reason. It lasts until `segctl release`: across segd\n"
	  "restarts, reboots and policy changes. Every quarantine and release is\n"
	  "recorded with the caller's uid in <state-dir>/quarantine-audit.log.\n",
	  pos_opt_name, opt_quar, opt_none },
	{ "release", "release",
	  "release NAME|--ip ADDR|--selector k=v,... [--namespace NS]",
	  "End a quarantine (the same target as given to `segctl quarantine`): the\n"
	  "policies decide again, from the next packet on.\n",
	  pos_opt_name, opt_release, opt_none },
	{ "status", "status", "status [-o table|json|yaml]",
	  "Programs attached per interface, map usage, policy generation and\n"
	  "packet counters by verdict and drop reason.\n", pos_none, opt_none, opt_none },
	{ "flows", "flows",
	  "flows [--follow] [--verdict allow|deny|audit] [--endpoint NAME] [--namespace NS] "
	  "[-o table|json|yaml]",
	  "Flows segd knows now, oldest first: the last ones that ended, the live\n"
	  "connections and the flows being dropped, with packets and bytes each\n"
	  "way since they started, the endpoint that saw them, both sides, the\n"
	  "verdict and the rule that decided (or the drop reason). --follow then\n"
	  "keeps printing flow records as segd makes them (every flow_interval;\n"
	  "counters are deltas since the flow's previous record) until interrupted;\n"
	  "with -o json one JSON object per line, as in the flow log.\n",
	  pos_none, opt_flows, flag_follow },
	{ "blocklist load", "blocklist.load",
	  "blocklist load NAME FILE --category miner|c2|custom|exception [--format FORMAT] "
	  "[--action drop|audit] [--expires DURATION] [--allow CIDR]...",
	  "Load (or reload) an indicator list. Formats: auto (default), plain,\n"
	  "spamhaus-drop, spamhaus-json, feodo-csv, hosts, domains, falco-yaml. Bad\n"
	  "lines are reported with their line numbers; the good ones load. Entries\n"
	  "covering private, loopback, link-local or multicast ranges, the node or an\n"
	  "endpoint are refused unless inside an --allow CIDR. Category exception\n"
	  "makes an exception list, which overrides every blocklist. --action audit\n"
	  "counts instead of dropping. --expires 12h|7d|3600s removes the list then.\n"
	  "A reload never leaves a moment without the list's old entries.\n",
	  pos_name_file, opt_bl_load, opt_none },
	{ "blocklist list", "blocklist.list", "blocklist list [-o table|json|yaml]",
	  "Lists with category, action, entries and what they dropped.\n",
	  pos_none, opt_none, opt_none },
	{ "blocklist show", "blocklist.show", "blocklist show NAME [-o table|json|yaml]",
	  "One list: its source, counts, problems (bad or refused lines) and counters.\n",
	  pos_name, opt_none, opt_none },
	{ "blocklist del", "blocklist.del", "blocklist del NAME",
	  "Remove a list.\n", pos_name, opt_none, opt_none },
	{ "blocklist test", "blocklist.test", "blocklist test IP [-o table|json|yaml]",
	  "Which lists hold IP, by which entry (and whether an exception covers it).\n",
	  pos_address, opt_none, opt_none },
	{ "explain", "explain",
	  "explain --from ENDPOINT|IP --to ENDPOINT|IP --port N/PROTO [--namespace NS] "
	  "[-o table|json|yaml]",
	  "Say whether a new flow would pass - allow, deny or audit - and which policy\n"
	  "and rule decides it (or default deny, not enforced, blocklisted), without\n"
	  "sending anything. The answer comes from the compiled state the kernel\n"
	  "holds, walked as the datapath walks it. A flow between two local endpoints\n"
	  "is decided at the source's egress and at the destination's ingress; both\n"
	  "halves are shown and both must pass. ENDPOINT is NAME (in --namespace,\n"
	  "default: default) or NS/NAME; IP is any address. PROTO is tcp, udp, sctp,\n"
	  "icmp or icmpv6 (no port: --port icmp).\n", pos_none, opt_explain, opt_none },
	{ "graph", "graph", "graph [--namespace NS] [-o dot|json|yaml]",
	  "Print segment connectivity as Graphviz DOT (render: segctl graph | dot\n"
	  "-Tsvg > segments.svg). Nodes are segments (endpoints sharing a label set)\n"
	  "and the world, host, CIDR and any-peer identities policy names; an edge\n"
	  "goes from the side that opens a flow to the side that accepts it, labelled\n"
	  "with the protocols and ports policy allows and the flows conntrack holds\n"
	  "(thicker: more flows; dotted: seen but not allowed by policy; dashed:\n"
	  "one end does not allow it). --namespace keeps one namespace's segments\n"
	  "and their peers.\n", pos_none, opt_ns, opt_none },
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

/* The k-th positional argument `a`: a value for its args key, a file for
 * the payload, or (for get) one of the kinds segd lists. */
static int positional(const struct command *c, struct segctl_cmd *cmd, int args,
		      int k, const char *a, int *files, FILE *err)
{
	const char *key = NULL;

	char bare[32];

	for (int i = 0; i <= k && c->pos[i]; i++)
		key = c->pos[i];
	if (!key || (strcmp(key, "files...") && !c->pos[k]))
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

static int build(const struct command *c, int argc, char **argv,
		 struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	int root, args, lists[3] = { -1, -1, -1 }, files = -1, n_pos = 0, n_want = 0, ret;
	int n_optional = 0;

	for (; c->pos[n_want]; n_want++) {
		if (!strcmp(c->pos[n_want], "files...")) {
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
		for (size_t k = 0; k < sizeof(repeatable) / sizeof(repeatable[0]); k++) {
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
	    (n_want < 0 && n_pos == 0)) {
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

/* ---- shell completion (segctl __complete) --------------------------------- */

/* values an option takes, for completion only (segd checks them) */
static const char *const option_values[][2] = {
	{ "verdict", "allow deny audit" },
	{ "role", "uplink" },
	{ "stratum", "drop audit off" },
	{ "action", "drop audit" },
	{ "category", "miner c2 custom exception" },
	{ "format", "auto plain spamhaus-drop spamhaus-json feodo-csv hosts domains "
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
static const char *nth_word(const struct command *c, int n, char *buf, size_t len)
{
	char *save, *w;

	snprintf(buf, len, "%s", c->words);
	for (w = strtok_r(buf, " ", &save); w && n--; w = strtok_r(NULL, " ", &save))
		;
	return w;
}

/* Do c's first n words equal typed[0..n)? */
static bool same_start(const struct command *c, char **typed, int n)
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
static void complete_args(const struct command *c, char **prev, int n_prev, const char *cur,
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
			if (!strcmp(last + 2, option_values[i][0]))
				print_matching(out, option_values[i][1], cur);
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
		bool many = !strcmp(c->pos[i], "files...");

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
	const struct command *c;
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
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		int n = argc - 1 - i;
		const char *w = same_start(&commands[k], argv + i, n) ?
				nth_word(&commands[k], n, buf, sizeof(buf)) : NULL;
		bool again = false;

		if (!w || strncmp(w, cur, strlen(cur)))
			continue;
		for (size_t j = 0; j < k && !again; j++) {
			char other[64];
			const char *v = nth_word(&commands[j], n, other, sizeof(other));

			again = v && !strcmp(v, w) && same_start(&commands[j], argv + i, n);
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
