/* commands.c - segctl's commands: usage, help and arguments. */
#include "commands.h"

const char segctl_top_help[] =
	"usage: segctl [--socket PATH] COMMAND ...\n"
	"\n"
	"Edit and inspect segd's segment policies (SEGD_SOCKET overrides the socket).\n"
	"\n"
	"commands:\n"
	"  namespace set NS [--labels k=v,...] [--mode enforce|audit] [--stratum drop|audit|off]\n"
	"                [--on-detect alert|quarantine|off|default]\n"
	"  endpoint add NAME [--namespace NS] --ip ADDR [--ip ADDR]... [--labels k=v,...]\n"
	"               [--port NAME=NUMBER[/PROTO]]... --ifname IFACE|--remote\n"
	"  endpoint del NAME [--namespace NS]\n"
	"  endpoint load FILE...\n"
	"  node set NAME --ip ADDR [--ip ADDR]... [--labels k=v,...]\n"
	"  node del NAME\n"
	"  attach IFACE --role uplink\n"
	"  apply FILE... [--dry-run] [--namespace NS] [--mode audit]\n"
	"  delete policy NAME [--namespace NS]\n"
	"  promote NAME [--namespace NS]\n"
	"  audit-report [--namespace NS] [--since DURATION] [-o table|json|yaml]\n"
	"  get policies|endpoints|namespaces|nodes|quarantines [-o table|json|yaml]\n"
	"  status [-o table|json|yaml]\n"
	"  quarantine NAME|--ip ADDR|--selector k=v,... [--namespace NS]\n"
	"             [--allow CIDR[:PORT/PROTO]]... [--reason TEXT]\n"
	"  release NAME|--ip ADDR|--selector k=v,... [--namespace NS]\n"
	"  flows [--follow] [--verdict allow|deny|audit] [--endpoint NAME] [--namespace NS]\n"
	"        [-o table|json|yaml]\n"
	"  conntrack flush\n"
	"  alerts [--follow] [--namespace NS] [-o table|json|yaml]\n"
	"  blocklist load NAME FILE --category miner|c2|custom|exception [--format F]\n"
	"                 [--action drop|audit] [--expires DURATION] [--allow CIDR]...\n"
	"  blocklist list | show NAME | del NAME | test IP\n"
	"  explain --from ENDPOINT|IP --to ENDPOINT|IP --port N/PROTO [--namespace NS]\n"
	"  graph [--namespace NS] [-o dot|json|yaml]\n"
	"  recommend [--namespace NS]... [--since DURATION] [--kind SegmentPolicy|NetworkPolicy]\n"
	"            [--aggregate-share F] [-o yaml|json]\n"
	"  learn reset [--namespace NS]\n"
	"  lint [FILE...] [--fail-on warning|error] [--namespace NS] [-o table|json|yaml]\n"
	"\n"
	"exit codes: 0 ok, 1 rejected or failed, 2 usage, 3 segd not reachable.\n"
	"`segctl COMMAND --help` describes one command.\n";


static const char *const opt_none[] = { NULL };
static const char *const opt_labels[] = { "labels", "mode", "stratum", "on-detect", NULL };
static const char *const opt_ns[] = { "namespace", NULL };
static const char *const opt_apply[] = { "namespace", "mode", NULL };
static const char *const opt_audit_report[] = { "namespace", "since", NULL };
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
static const char *const opt_recommend[] = { "namespace", "since", "kind",
					     "aggregate-share", NULL };
static const char *const opt_lint[] = { "fail-on", "namespace", NULL };
static const char *const pos_none[] = { NULL };
/* a trailing '?' makes the positional optional */
static const char *const pos_opt_name[] = { "name?", NULL };
static const char *const pos_name[] = { "name", NULL };
static const char *const pos_ifname[] = { "ifname", NULL };
static const char *const pos_what[] = { "what", NULL };
static const char *const pos_files[] = { "files...", NULL };
static const char *const pos_opt_files[] = { "files...?", NULL };
static const char *const pos_name_file[] = { "name", "file", NULL };
static const char *const pos_address[] = { "address", NULL };

const struct segctl_command segctl_commands[] = {
	{ "namespace set", "namespace.set",
	  "namespace set NS [--labels k=v,...] [--mode enforce|audit] [--stratum drop|audit|off] "
	  "[--on-detect alert|quarantine|off|default]",
	  "Create namespace NS or replace its labels. The label\n"
	  "kubernetes.io/metadata.name=NS is always set. --mode audit puts every\n"
	  "policy of NS in audit mode: nothing it would drop is dropped, such flows\n"
	  "pass and are reported as audit; --mode enforce (the default) enforces\n"
	  "them again. --stratum says what happens\n"
	  "when a flow of its endpoints opens with a Stratum (crypto-mining) login:\n"
	  "drop it (the default), audit it (count, pass) or off (do not look).\n"
	  "--on-detect says what a detection (scan, lateral, new-destination,\n"
	  "miner, c2; see `segctl alerts`) of its endpoints does, whatever its\n"
	  "kind: alert (report only), quarantine (report and cut the endpoint\n"
	  "off, as `segctl quarantine` does, until `segctl release`) or off\n"
	  "(report nothing); default goes back to the config's `detect: actions`.\n",
	  pos_name, opt_labels, opt_none },
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
	{ "endpoint load", "endpoint.load", "endpoint load FILE...",
	  "Register every endpoint the files list, in one step and all or none:\n"
	  "one compile and one save for the lot (a node learning the pods of a\n"
	  "large cluster). A file is a YAML list of endpoints, or a mapping whose\n"
	  "`endpoints:` (or `items:`, as `get endpoints -o yaml` prints) is one;\n"
	  "each: name, namespace (default \"default\"), ips: [ADDR...], labels:\n"
	  "{k: v}, interface: IFACE or remote: true, ports: [NAME=NUMBER[/PROTO]].\n"
	  "Listed ones already registered are replaced. Errors at file:line:col.\n",
	  pos_files, opt_none, opt_none },
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
	{ "apply", "apply", "apply FILE... [--dry-run] [--namespace NS] [--mode audit]",
	  "Create or replace the policies in FILEs (multi-document YAML:\n"
	  "segd.io/v1 SegmentPolicy, networking.k8s.io/v1 NetworkPolicy; '-' reads\n"
	  "stdin). Nothing changes when any document is invalid. --dry-run prints\n"
	  "what would change: per policy created, configured or unchanged, and the\n"
	  "policy map entries each rule adds or removes. --namespace sets the\n"
	  "namespace of documents that name none (default: default). --mode audit\n"
	  "stages every document: it is applied in audit mode (it drops nothing and\n"
	  "reports what it would drop, see `segctl audit-report`) and marked staged,\n"
	  "without editing the file; `segctl promote` enforces it, and so does\n"
	  "applying the same file again without --mode.\n", pos_files, opt_apply, flag_dry },
	{ "delete policy", "policy.delete", "delete policy NAME [--namespace NS]",
	  "Delete a policy.\n", pos_name, opt_ns, opt_none },
	{ "promote", "promote", "promote NAME [--namespace NS]",
	  "Enforce a staged (or any audit-mode) policy: the flows it would have\n"
	  "dropped are dropped from the next packet on, established ones included.\n"
	  "Without --namespace NAME is the cluster-scoped policy NAME if there is\n"
	  "one, else default/NAME. The change is atomic and kept across restarts.\n",
	  pos_name, opt_ns, opt_none },
	{ "audit-report", "audit-report",
	  "audit-report [--namespace NS] [--since DURATION] [-o table|json|yaml]",
	  "The flows that audit-mode (staged) policies would have dropped since segd\n"
	  "started, grouped by policy and rule: flows, packets, bytes, first and\n"
	  "last seen, and the distinct flows (source identity and labels ->\n"
	  "destination, protocol/port) with their counts, up to 64 per rule (what\n"
	  "is left out is counted). --since 30m|12h|7d keeps what was last seen in\n"
	  "that time; --namespace the policies of NS (for the default deny and\n"
	  "cluster-scoped policies: the flows seen by NS's endpoints). Updated\n"
	  "every flow_interval.\n", pos_none, opt_audit_report, opt_none },
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
	{ "conntrack flush", "conntrack.flush", "conntrack flush",
	  "End every flow in segd's conntrack, now: each gets its final flow record\n"
	  "and its entry is deleted, so its next packet is decided again by the\n"
	  "policies in force, as a new flow: an allowed connection goes on once the\n"
	  "side that opened it sends again (its peer's packets before that may be\n"
	  "dropped, and are resent). Entries of flows a policy change revoked stay\n"
	  "until they expire, so those flows cannot open again. Flows of dropped\n"
	  "packets (no conntrack entry) go on. Like `conntrack -F` for netfilter:\n"
	  "to start from an empty table.\n",
	  pos_none, opt_none, opt_none },
	{ "alerts", "alerts", "alerts [--follow] [--namespace NS] [-o table|json|yaml]",
	  "Detections of compromised workloads segd raised (the config's `detect:`\n"
	  "section), oldest first, up to the last 1024: kind (scan, lateral,\n"
	  "new-destination, miner, c2) and shape, MITRE ATT&CK technique, the\n"
	  "workload (namespace, name, labels, address), first and last packet,\n"
	  "counts (new flows, dropped, distinct ports, hosts and denied targets),\n"
	  "a sample of targets and the action taken (alert, quarantine with its\n"
	  "id, exempt). --namespace keeps the alerts of NS's workloads. --follow\n"
	  "then prints new alerts as segd raises them (it asks every 200 ms) until\n"
	  "interrupted. -o json: one JSON object per alert and line.\n",
	  pos_none, opt_ns, flag_follow },
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
	{ "recommend", "recommend",
	  "recommend [--namespace NS]... [--since DURATION] "
	  "[--kind SegmentPolicy|NetworkPolicy] [--aggregate-share F] [-o yaml|json]",
	  "Print policies that allow exactly the traffic segd saw, and nothing\n"
	  "else, from its learned edges: per namespace a default deny of both\n"
	  "directions, and per workload one policy selecting it by its labels\n"
	  "(app, app.kubernetes.io/name, ...; never by address) that allows the\n"
	  "peers (workloads by label across namespaces, the node, outside\n"
	  "addresses) and ports it was seen using. Outside addresses merge into a\n"
	  "prefix only when at least --aggregate-share (default 0.5) of the prefix\n"
	  "was seen. Each rule says in a comment what it was learned from. The same\n"
	  "edges give the same output. --namespace (repeatable) limits it to those\n"
	  "namespaces' workloads; --since to edges seen within DURATION (90s, 30m,\n"
	  "12h, 7d). --kind NetworkPolicy writes networking.k8s.io/v1 documents\n"
	  "(what they cannot say, the node and ICMP, is left out with a comment).\n"
	  "Review it, then: apply --dry-run, apply --mode audit, audit-report,\n"
	  "promote.\n", pos_none, opt_recommend, opt_none },
	{ "learn reset", "learn.reset", "learn reset [--namespace NS]",
	  "Forget the learned edges (of the workloads of namespace NS), in memory\n"
	  "and in the state dir; learning goes on from the next flow record.\n",
	  pos_none, opt_ns, opt_none },
	{ "lint", "lint",
	  "lint [FILE...] [--fail-on warning|error] [--namespace NS] [-o table|json|yaml]",
	  "Report what is risky or dead in policies: ingress open to the world\n"
	  "(error on administrative ports such as 22, 3389, 5432, 6379, 10250),\n"
	  "allow-all egress, namespaces without a default deny, endpoints no policy\n"
	  "selects, rules that can never match (shadowed by a deny or an earlier\n"
	  "rule, selectors that match nothing, ports outside the protocol's range)\n"
	  "and allows to addresses on a loaded blocklist. With FILEs ('-': stdin)\n"
	  "the files are parsed here, as apply would, and segd is not needed; the\n"
	  "checks that need endpoints or blocklists are skipped. Without FILEs segd\n"
	  "lints the policies it enforces. Each finding has a severity (info,\n"
	  "warning, error), a code, where it is (FILE:LINE:COL, or the rule as\n"
	  "NS/POLICY#N) and what to do. --namespace: namespace of the documents\n"
	  "that name none (default: default). Exit 0 when no finding is at or\n"
	  "above --fail-on (default error), 1 when one is or a FILE does not parse.\n",
	  pos_opt_files, opt_lint, opt_none },
};

const size_t segctl_n_commands = sizeof(segctl_commands) / sizeof(segctl_commands[0]);
