/* main.c - segd: the node daemon. Arguments, config, signals, the loop.
 *
 *   SIGHUP   re-read the config file and re-sync the kernel
 *   SIGTERM  stop; enforcement (pinned maps, attached programs) stays
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "caps.h"
#include "config.h"
#include "control.h"
#include "segd.h"
#include "lists.h"
#include "feeds_dir.h"
#include "flow_export.h"
#include "learn_store.h"
#include "flowlog.h"
#include "ipfix.h"
#include "log.h"
#include "metrics.h"
#include "netlink.h"
#include "policy_dir.h"
#include "resolver.h"
#include "server.h"
#include "version.h"

#define EXPIRY_CHECK_SECONDS 1

struct options {
	const char *config_file;
	const char *socket_path;
	const char *bpffs;
	const char *state_dir;
	const char *flow_log;
	const char *metrics_addr;
	const char *policy_dir;
	const char *collectors[SEGD_MAX_IPFIX_COLLECTORS];
	size_t n_collectors;
	unsigned int flow_interval;
	bool check_only;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: segd [-c FILE] [--socket PATH] [--bpffs DIR] [--state-dir DIR] [-n]\n"
		"\n"
		"Node daemon of segd: compiles segment policies into BPF maps and keeps\n"
		"the kernel enforcing them.\n"
		"\n"
		"  -c, --config FILE   YAML config (every key: segd(8), CONFIGURATION);\n"
		"                      flags below override it\n"
		"      --socket PATH   control socket (default " SEGD_DEFAULT_SOCKET ")\n"
		"      --bpffs DIR     where maps are pinned (default " SEGD_DEFAULT_BPFFS ")\n"
		"      --state-dir DIR desired state (default " SEGD_DEFAULT_STATE_DIR ")\n"
		"      --flow-log FILE|-        flow records as JSON lines (rotated by size)\n"
		"      --ipfix-collector HOST:PORT  send IPFIX over UDP there (repeatable)\n"
		"      --metrics-addr ADDR:PORT Prometheus /metrics (default " SEGD_DEFAULT_METRICS_ADDR ",\n"
		"                               \"off\" for none)\n"
		"      --flow-interval SECONDS  how often active flows are reported (default 10)\n"
		"      --policy-dir DIR         apply the policy files there and follow\n"
		"                               changes (a mounted ConfigMap)\n"
		"  -n, --check         check the config and the saved state, then exit\n"
		"  -v, --verbose       debug logging\n"
		"  -h, --help          this text\n"
		"      --version       print the version\n"
		"\n"
		"SIGHUP reloads the config; SIGTERM stops segd and leaves enforcement in place.\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_SOCKET = 256, OPT_BPFFS, OPT_STATE, OPT_VERSION, OPT_FLOW_LOG,
	       OPT_IPFIX, OPT_METRICS, OPT_FLOW_INTERVAL, OPT_POLICY_DIR };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "bpffs", required_argument, NULL, OPT_BPFFS },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "flow-log", required_argument, NULL, OPT_FLOW_LOG },
		{ "ipfix-collector", required_argument, NULL, OPT_IPFIX },
		{ "metrics-addr", required_argument, NULL, OPT_METRICS },
		{ "flow-interval", required_argument, NULL, OPT_FLOW_INTERVAL },
		{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config_file = optarg; break;
		case OPT_SOCKET: o->socket_path = optarg; break;
		case OPT_BPFFS: o->bpffs = optarg; break;
		case OPT_STATE: o->state_dir = optarg; break;
		case OPT_FLOW_LOG: o->flow_log = optarg; break;
		case OPT_METRICS: o->metrics_addr = optarg; break;
		case OPT_POLICY_DIR: o->policy_dir = optarg; break;
		case OPT_IPFIX:
			if (o->n_collectors >= SEGD_MAX_IPFIX_COLLECTORS) {
				fprintf(stderr, "segd: at most %d --ipfix-collector\n",
					SEGD_MAX_IPFIX_COLLECTORS);
				return -EINVAL;
			}
			o->collectors[o->n_collectors++] = optarg;
			break;
		case OPT_FLOW_INTERVAL: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 3600) {
				fprintf(stderr, "segd: --flow-interval is seconds, 1 to 3600\n");
				return -EINVAL;
			}
			o->flow_interval = (unsigned int)v;
			break;
		}
		case 'n': o->check_only = true; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: printf("segd %s\n", SEGD_VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "segd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int override(char **dst, const char *v)
{
	if (!v)
		return 0;
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* File first, flags over it, defaults under both. */
static int load_config(const struct options *o, struct segd_settings *cfg,
		       enum seg_log_level *level, struct seg_error *err)
{
	int ret = 0;

	if (o->config_file)
		ret = segd_config_load(o->config_file, cfg, level, err);
	if (!ret && o->verbose)
		*level = SEG_LOG_DEBUG;
	if (!ret && ((ret = override(&cfg->socket_path, o->socket_path)) ||
		     (ret = override(&cfg->bpffs, o->bpffs)) ||
		     (ret = override(&cfg->state_dir, o->state_dir)) ||
		     (ret = override(&cfg->flow_log, o->flow_log)) ||
		     (ret = override(&cfg->metrics_addr, o->metrics_addr)) ||
		     (ret = override(&cfg->policy_dir, o->policy_dir))))
		return ret;
	if (!ret && o->flow_interval)
		cfg->flow_interval = o->flow_interval;
	if (!ret && o->n_collectors) {  /* the flags replace the file's list */
		for (size_t i = 0; i < cfg->n_ipfix_collectors; i++)
			free(cfg->ipfix_collectors[i]);
		cfg->n_ipfix_collectors = 0;
		for (size_t i = 0; !ret && i < o->n_collectors; i++) {
			ret = segd_config_add_collector(cfg, o->collectors[i]);
			if (ret == -EINVAL)
				seg_errorf(err, "--ipfix-collector", 0, 0, ret,
					   "'%s' is not HOST:PORT", o->collectors[i]);
		}
	}
	return ret ? ret : segd_config_defaults(cfg);
}

static void report(const char *what, const struct seg_error *err)
{
	char msg[1024];

	seg_error_format(err, msg, sizeof(msg));
	seg_log(SEG_LOG_ERROR, "%s: %s", what, msg);
}

/* -n: everything but the kernel. */
static int check_only(struct segd *d)
{
	struct seg_error err = { 0 };
	struct seg_compiled c = { 0 };
	struct seg_world w;
	int ret = seg_state_load(&d->state, d->cfg.state_dir, &err);

	if (!ret)
		ret = segd_quarantine_load(d, &err);
	if (ret) {
		report("state", &err);
		return 1;
	}
	w = segd_candidate_of(d);
	ret = seg_compile(&w, &c, &err);
	if (ret) {
		report("compile", &err);
		return 1;
	}
	printf("segd: config ok: socket %s, bpffs %s, state %s: %zu namespaces, "
	       "%zu endpoints, %zu policies -> %zu map entries\n",
	       d->cfg.socket_path, d->cfg.bpffs, d->cfg.state_dir,
	       w.n_namespaces, w.n_endpoints, w.n_policies, c.n_entries);
	seg_compiled_free(&c);
	return 0;
}

struct loop_ctx {
	struct segd *d;
	const struct options *o;
	struct event_base *base;
	struct seg_flowlog *flowlog;      /* NULL: no flow_log configured */
};

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct loop_ctx *l = arg;

	(void)what;
	seg_log(SEG_LOG_INFO, "signal %d: stopping; enforcement stays in place",
		(int)sig);
	event_base_loopbreak(l->base);
}

static bool str_differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static bool list_differs(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++)
		if (str_differs(a[i], b[i]))
			return true;
	return false;
}

/* The settings SIGHUP does not apply, by name, when they changed: said
 * out loud so an edit is never silently ignored. */
static void name_restart_only(const struct segd_settings *f,
			      const struct segd_settings *c, char *buf, size_t len)
{
	const struct { const char *name; bool changed; } keys[] = {
		{ "socket", str_differs(f->socket_path, c->socket_path) },
		{ "bpffs", str_differs(f->bpffs, c->bpffs) },
		{ "state_dir", str_differs(f->state_dir, c->state_dir) },
		{ "policy_dir", str_differs(f->policy_dir, c->policy_dir) },
		{ "feeds_dir", str_differs(f->feeds_dir, c->feeds_dir) },
		{ "resolvers", list_differs(f->resolvers, f->n_resolvers, c->resolvers,
					    c->n_resolvers) },
		{ "dns_grace", f->dns_grace != c->dns_grace },
		{ "dns_min_ttl", f->dns_min_ttl != c->dns_min_ttl },
		{ "flow_log", str_differs(f->flow_log, c->flow_log) },
		{ "flow_log_max_bytes", f->flow_log_max_bytes != c->flow_log_max_bytes },
		{ "flow_log_keep", f->flow_log_keep != c->flow_log_keep },
		{ "ipfix_collectors", list_differs(f->ipfix_collectors, f->n_ipfix_collectors,
						   c->ipfix_collectors, c->n_ipfix_collectors) },
		{ "metrics_addr", str_differs(f->metrics_addr, c->metrics_addr) },
		{ "flow_interval", f->flow_interval != c->flow_interval },
		{ "policy_cidr_match", f->cidr_match != c->cidr_match },
		{ "uplink_hook", f->uplink_hook != c->uplink_hook },
		{ "learn", f->learn_off != c->learn_off },
		{ "learn_max_edges", f->learn_max_edges != c->learn_max_edges },
		{ "learn_save_interval", f->learn_save_interval != c->learn_save_interval },
		{ "max_rules", f->max_rules != c->max_rules },
		{ "detect", segd_detect_settings_differ(&f->detect, &c->detect) },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].changed && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      keys[i].name);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct loop_ctx *l = arg;
	struct segd_settings fresh = { 0 };
	enum seg_log_level level = SEG_LOG_INFO;
	struct seg_error err = { 0 };
	char changed[512];
	int rc;

	(void)sig, (void)what;
	if (load_config(l->o, &fresh, &level, &err)) {
		report("reload: config rejected, keeping the running one", &err);
		segd_config_free(&fresh);
		return;
	}
	name_restart_only(&fresh, &l->d->cfg, changed, sizeof(changed));
	if (changed[0])
		seg_log(SEG_LOG_WARN, "reload: %s changed; these take effect when segd "
			"restarts (SIGHUP applies log_level, node_addresses and "
			"interface_patterns, and reopens the flow log)", changed);
	seg_log_set_level(level);
	if ((rc = seg_flowlog_reopen(l->flowlog)))  /* after an outside logrotate */
		seg_log(SEG_LOG_ERROR, "reload: cannot reopen flow log %s: %s",
			l->d->cfg.flow_log, strerror(-rc));
	memcpy(l->d->cfg.node_addrs, fresh.node_addrs, sizeof(fresh.node_addrs));
	l->d->cfg.n_node_addrs = fresh.n_node_addrs;
	segd_config_free_patterns(&l->d->cfg);
	memcpy(l->d->cfg.interface_patterns, fresh.interface_patterns,
	       sizeof(fresh.interface_patterns));
	l->d->cfg.n_interface_patterns = fresh.n_interface_patterns;
	fresh.n_interface_patterns = 0;
	segd_config_free(&fresh);
	if (segd_sync_kernel(l->d, &err))
		report("reload: re-sync failed", &err);
	else
		seg_log(SEG_LOG_INFO, "reload: config re-read, kernel re-synced");
}

static void on_expiry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct loop_ctx *l = arg;

	(void)fd, (void)what;
	segd_blocklists_expire(l->d, (int64_t)time(NULL));
}

static bool caps_ok(void)
{
	char missing[96];

	if (segd_caps_check(missing, sizeof(missing)) != -EPERM)
		return true;   /* held, or the kernel cannot say: let the kernel judge */
	seg_log(SEG_LOG_ERROR, "segd needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN; "
		"missing: %s. Run it as root, or grant them (tools/systemd/segd.service, "
		"docs/kubernetes.md)", missing);
	return false;
}

static int run(struct segd *d, const struct options *o)
{
	struct loop_ctx l = { .d = d, .o = o };
	struct seg_server *srv = NULL;
	struct seg_server_handler handler;
	static const struct segd_policy_dir_ops policy_ops = { segd_apply, segd_policy_delete };
	struct segd_feeds *feeds = NULL;
	struct segd_links *links = NULL;
	struct segd_policy_dir *policy_dir = NULL;
	struct seg_flow_export *flows = NULL;
	struct segd_learn *learn = NULL;
	struct segd_detect *detect = NULL;
	struct seg_metrics *metrics = NULL;
	struct seg_ipfix *ipfix = NULL;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL, *ev_expire = NULL;
	struct timeval every = { .tv_sec = EXPIRY_CHECK_SECONDS };
	struct seg_error err = { 0 };
	int ret;

	ret = seg_state_load(&d->state, d->cfg.state_dir, &err);
	if (!ret)
		ret = segd_quarantine_load(d, &err);
	if (ret) {
		report("cannot restore state", &err);
		return 1;
	}
	if (seg_compile_cache_new(&d->compile_cache))
		seg_log(SEG_LOG_WARN, "no memory for the compile cache; compiling in full");
	if (!caps_ok())
		return 1;
	ret = seg_dp_open_sized(d->cfg.bpffs, d->cfg.max_rules, &d->dp);
	if (ret) {
		seg_log(SEG_LOG_ERROR, "cannot load BPF programs with maps under %s: %s; "
			"is %s on a bpffs (mount -t bpf bpf DIR) and are you root?",
			d->cfg.bpffs, strerror(-ret), d->cfg.bpffs);
		return 1;
	}
	ret = segd_sync_kernel(d, &err);
	if (ret) {
		report("cannot enforce the restored state", &err);
		goto out;
	}
	/* after the policy: writing the lists bumps the generation again */
	ret = segd_blocklists_restore(d, &err);
	if (ret) {
		report("cannot enforce the restored blocklists", &err);
		goto out;
	}
	seg_log(SEG_LOG_INFO, "enforcing: %zu endpoints, %zu policies, %zu lists, "
		"%zu quarantines, generation %u", d->state.world.n_endpoints,
		d->state.world.n_policies, d->n_lists, d->quarantines.n,
		seg_dp_generation(d->dp));

	signal(SIGPIPE, SIG_IGN);
	l.base = event_base_new();
	if (!l.base) {
		ret = -ENOMEM;
		goto out;
	}
	handler = segd_control_handler(d);
	ret = seg_server_open(l.base, &handler, d->cfg.socket_path, &srv);
	if (ret) {
		seg_log(SEG_LOG_ERROR, "control socket %s: %s%s", d->cfg.socket_path,
			strerror(-ret), ret == -EADDRINUSE ?
			" (another segd is running there)" : "");
		goto out;
	}
	ev_term = evsignal_new(l.base, SIGTERM, on_stop, &l);
	ev_int = evsignal_new(l.base, SIGINT, on_stop, &l);
	ev_hup = evsignal_new(l.base, SIGHUP, on_reload, &l);
	ev_expire = event_new(l.base, -1, EV_PERSIST, on_expiry_timer, &l);
	if (!ev_term || !ev_int || !ev_hup || !ev_expire || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL) || evsignal_add(ev_hup, NULL) ||
	    event_add(ev_expire, &every)) {
		ret = -ENOMEM;
		goto out;
	}
	ret = segd_links_new(l.base, d, &links);
	if (ret)
		seg_log(SEG_LOG_WARN, "no link events (%s): an endpoint whose interface "
			"appears later is attached at the next SIGHUP only", strerror(-ret));
	ret = segd_policy_dir_new(l.base, d, &policy_ops, &policy_dir);
	if (ret)
		seg_log(SEG_LOG_WARN, "policy_dir %s not watched: %s", d->cfg.policy_dir,
			strerror(-ret));
	ret = segd_resolver_new(l.base, d, &d->resolver);
	if (ret)
		seg_log(SEG_LOG_WARN, "no DNS resolver (%s): domain lists stay unresolved",
			strerror(-ret));
	ret = segd_feeds_new(l.base, d, &feeds);
	if (ret)
		seg_log(SEG_LOG_WARN, "feeds_dir %s not watched: %s", d->cfg.feeds_dir,
			strerror(-ret));
	/* observability never stops enforcement: a failure is only logged */
	if (d->cfg.flow_log &&
	    seg_flowlog_open(d->cfg.flow_log, d->cfg.flow_log_max_bytes,
			     d->cfg.flow_log_keep, &l.flowlog, &err))
		report("flow log off", &err);
	if (d->cfg.n_ipfix_collectors &&
	    seg_ipfix_open(d->cfg.ipfix_collectors, d->cfg.n_ipfix_collectors,
			   seg_ipfix_node_domain(), &ipfix, &err))
		report("IPFIX export off", &err);
	if (seg_flow_export_start(l.base, d, &flows, &err)) {
		report("flow records off", &err);
	} else {
		if (l.flowlog && !seg_flowlog_buffer(l.flowlog)) {
			seg_flow_export_add_sink(flows, seg_flowlog_sink, l.flowlog);
			seg_flow_export_on_pass(flows, seg_flowlog_on_pass, l.flowlog);
		}
		if (ipfix) {
			seg_flow_export_add_sink(flows, seg_ipfix_record_sink, ipfix);
			seg_flow_export_on_pass(flows, seg_ipfix_on_pass, ipfix);
		}
		ret = segd_learn_start(l.base, d, flows, &learn);
		if (ret)
			seg_log(SEG_LOG_WARN, "learning off: %s", strerror(-ret));
	}
	ret = seg_alerts_init(&d->alerts);
	if (!ret)
		ret = segd_detect_start(l.base, d, l.flowlog, &detect);
	if (ret)
		seg_log(SEG_LOG_WARN, "detection off: %s", strerror(-ret));
	if (seg_metrics_start(l.base, d->cfg.metrics_addr, d, &metrics, &err))
		report("/metrics off", &err);
	seg_metrics_set_flowlog(metrics, l.flowlog);
	seg_metrics_set_ipfix(metrics, ipfix);
	seg_log(SEG_LOG_INFO, "listening on %s", d->cfg.socket_path);
	ret = event_base_dispatch(l.base) < 0 ? -EIO : 0;
out:
	segd_detect_stop(detect);
	seg_flow_export_stop(flows);
	segd_learn_stop(learn);     /* after the flows' last records */
	seg_ipfix_close(ipfix);
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (ev_expire)
		event_free(ev_expire);
	seg_server_close(srv);
	seg_metrics_stop(metrics);
	seg_flowlog_close(l.flowlog);
	segd_feeds_free(feeds);
	segd_links_free(links);
	segd_policy_dir_free(policy_dir);
	segd_resolver_free(d->resolver);
	d->resolver = NULL;
	if (l.base)
		event_base_free(l.base);
	/* user-space handles only: pinned maps and attached programs stay */
	seg_dp_close(d->dp);
	d->dp = NULL;
	seg_compile_cache_free(d->compile_cache);
	d->compile_cache = NULL;
	segd_blocklists_free(d);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct segd d = { 0 };
	enum seg_log_level level = SEG_LOG_INFO;
	struct seg_error err = { 0 };
	int ret;

	if (parse_args(argc, argv, &o))
		return 2;
	/* big arrays (a million-entry blocklist) come from mmap and go back to
	 * the system when freed, instead of staying in the heap's high water */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (load_config(&o, &d.cfg, &level, &err)) {
		report("config", &err);
		return 1;
	}
	seg_log_set_level(level);
	ret = o.check_only ? check_only(&d) : run(&d, &o);
	seg_compiled_free(&d.compiled);
	segd_domains_free(&d.domains);
	seg_state_free(&d.state);
	seg_quarantines_free(&d.quarantines);
	seg_alerts_free(&d.alerts);
	free(d.quar_written);
	segd_config_free(&d.cfg);
	return ret;
}
