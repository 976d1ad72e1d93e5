/* config.c - segd's config file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_detect.h"
#include "state.h"
#include "yaml_util.h"

static int set_string(char **dst, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int parse_level(yaml_node_t *n, enum seg_log_level *level,
		       const char *file, struct seg_error *err)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	const char *v = yu_scalar(n);

	for (int i = 0; v && i < 4; i++)
		if (!strcmp(v, names[i])) {
			if (level)
				*level = (enum seg_log_level)i;
			return 0;
		}
	return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
			  "log_level must be error, warn, info or debug");
}

static int parse_resolvers(yaml_document_t *d, yaml_node_t *n,
			   struct segd_settings *cfg, const char *file,
			   struct seg_error *err)
{
	size_t max = sizeof(cfg->resolvers) / sizeof(cfg->resolvers[0]);

	if (!yu_is_seq(n) || yu_seq_len(n) > max)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "resolvers must be a list of at most %zu \"IP[:PORT]\"", max);
	for (size_t i = 0; i < cfg->n_resolvers; i++)
		free(cfg->resolvers[i]);
	cfg->n_resolvers = 0;
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);

		if (!yu_scalar(a) || !*yu_scalar(a))
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "a resolver is \"IP\" or \"IP:PORT\"");
		if (!(cfg->resolvers[cfg->n_resolvers++] = strdup(yu_scalar(a))))
			return -ENOMEM;
	}
	return 0;
}

static int parse_addrs(yaml_document_t *d, yaml_node_t *n,
		       struct segd_settings *cfg, const char *file,
		       struct seg_error *err)
{
	size_t max = sizeof(cfg->node_addrs) / sizeof(cfg->node_addrs[0]);

	if (!yu_is_seq(n))
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "node_addresses must be a list of addresses");
	if (yu_seq_len(n) > max)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "at most %zu node addresses", max);
	cfg->n_node_addrs = 0;
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);

		if (!yu_scalar(a) ||
		    seg_addr_parse(yu_scalar(a), &cfg->node_addrs[cfg->n_node_addrs]))
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "'%s' is not an IPv4 or IPv6 address",
					  yu_scalar(a) ? yu_scalar(a) : "?");
		cfg->n_node_addrs++;
	}
	return 0;
}

int segd_config_add_collector(struct segd_settings *cfg, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');

	if (!colon || colon == hostport || !colon[1])
		return -EINVAL;
	if (cfg->n_ipfix_collectors >= SEGD_MAX_IPFIX_COLLECTORS)
		return -E2BIG;
	if (!(cfg->ipfix_collectors[cfg->n_ipfix_collectors] = strdup(hostport)))
		return -ENOMEM;
	cfg->n_ipfix_collectors++;
	return 0;
}

static int parse_collectors(yaml_document_t *d, yaml_node_t *n,
			    struct segd_settings *cfg, const char *file,
			    struct seg_error *err)
{
	if (!yu_is_seq(n) || yu_seq_len(n) > SEGD_MAX_IPFIX_COLLECTORS)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "ipfix_collectors must be a list of at most %d \"HOST:PORT\"",
				  SEGD_MAX_IPFIX_COLLECTORS);
	for (size_t i = 0; i < cfg->n_ipfix_collectors; i++)
		free(cfg->ipfix_collectors[i]);
	cfg->n_ipfix_collectors = 0;
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);
		int ret = yu_scalar(a) ? segd_config_add_collector(cfg, yu_scalar(a)) :
					 -EINVAL;

		if (ret == -ENOMEM)
			return ret;
		if (ret)
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "an IPFIX collector is \"HOST:PORT\", e.g. \"127.0.0.1:4739\"");
	}
	return 0;
}

static int parse_patterns(yaml_document_t *d, yaml_node_t *n,
			  struct segd_settings *cfg, const char *file,
			  struct seg_error *err)
{
	size_t max = sizeof(cfg->interface_patterns) / sizeof(cfg->interface_patterns[0]);

	if (!yu_is_seq(n) || yu_seq_len(n) > max)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "interface_patterns must be a list of at most %zu "
				  "names with wildcards, e.g. [\"veth*\", \"cali*\"]", max);
	segd_config_free_patterns(cfg);
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *a = yu_seq_at(d, n, i);

		if (!yu_scalar(a) || !*yu_scalar(a) || strlen(yu_scalar(a)) >= 64)
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "an interface pattern is a name with * ? [...] "
					  "wildcards, up to 63 characters");
		if (!(cfg->interface_patterns[cfg->n_interface_patterns++] =
		      strdup(yu_scalar(a))))
			return -ENOMEM;
	}
	cfg->interface_patterns_set = true;
	return 0;
}

void segd_config_free_patterns(struct segd_settings *cfg)
{
	for (size_t i = 0; i < cfg->n_interface_patterns; i++)
		free(cfg->interface_patterns[i]);
	cfg->n_interface_patterns = 0;
}

/* An integer setting in [min, max]. */
static int parse_uint(yaml_node_t *v, const char *key, int64_t min, int64_t max,
		      const char *unit, const char *file, struct seg_error *err,
		      int64_t *out)
{
	if (yu_int(v, min, max, out))
		return seg_errorf(err, file, yu_line(v), yu_col(v), -EINVAL,
				  "%s is %s, %lld to %lld", key, unit,
				  (long long)min, (long long)max);
	return 0;
}

/* cfg->detect from seg_detect_defaults(), once: its window is never 0
 * after that (2.. s), so 0 says it was not filled yet. The file's section
 * and segd_config_defaults() both start from here, so the keys a file
 * leaves out keep their defaults. */
static void detect_defaulted(struct segd_settings *cfg)
{
	if (!cfg->detect.window_s)
		seg_detect_defaults(&cfg->detect);
}

struct config_ctx {
	const char *file;
	struct segd_settings *cfg;
	enum seg_log_level *level;
	struct seg_error *err;
	int docs;
};

static int config_doc(yaml_document_t *doc, void *p)
{
	struct config_ctx *x = p;
	struct segd_settings *cfg = x->cfg;
	enum seg_log_level *level = x->level;
	struct seg_error *err = x->err;
	const char *file = x->file;
	yaml_document_t d = *doc;
	yaml_node_t *root;
	int ret = 0;

	if (x->docs++)
		return seg_errorf(err, file, yu_line(yu_root(doc)), 1, -EINVAL,
				  "the config is one YAML document; remove the others");
	root = yu_root(&d);
	if (yu_is_null(root))
		goto out; /* an empty file: all defaults */
	if (!yu_is_map(root)) {
		ret = seg_errorf(err, file, yu_line(root), yu_col(root), -EINVAL,
				 "the config must be a mapping of settings");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     !ret && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(&d, p->key), *v = yu_node(&d, p->value);
		const char *key = yu_scalar(k), *val = yu_scalar(v);

		if (!key) {
			ret = seg_errorf(err, file, yu_line(k), yu_col(k), -EINVAL,
					 "setting names must be strings");
		} else if (!strcmp(key, "node_addresses")) {
			ret = parse_addrs(&d, v, cfg, file, err);
		} else if (!strcmp(key, "log_level")) {
			ret = parse_level(v, level, file, err);
		} else if (!strcmp(key, "resolvers")) {
			ret = parse_resolvers(&d, v, cfg, file, err);
		} else if (!strcmp(key, "ipfix_collectors")) {
			ret = parse_collectors(&d, v, cfg, file, err);
		} else if (!strcmp(key, "interface_patterns")) {
			ret = parse_patterns(&d, v, cfg, file, err);
		} else if (!strcmp(key, "dns_grace")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 0, 7 * 86400, "seconds", file, err, &g);
			cfg->dns_grace = (unsigned int)g;
		} else if (!strcmp(key, "dns_min_ttl")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 1, 3600, "seconds", file, err, &g);
			cfg->dns_min_ttl = (unsigned int)g;
		} else if (!strcmp(key, "flow_interval")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 1, 3600, "seconds", file, err, &g);
			cfg->flow_interval = (unsigned int)g;
		} else if (!strcmp(key, "learn")) {
			bool on = true;

			if (yu_bool(v, &on))
				ret = seg_errorf(err, file, yu_line(v), yu_col(v), -EINVAL,
						 "learn is true (keep the edges of the flows "
						 "seen, for `segctl recommend`) or false");
			cfg->learn_off = !on;
		} else if (!strcmp(key, "learn_max_edges")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 100, 10000000, "an edge count", file, err, &g);
			cfg->learn_max_edges = (unsigned int)g;
		} else if (!strcmp(key, "max_rules")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 1, SEGD_MAX_RULES - 1, "a rule count",
					 file, err, &g);
			cfg->max_rules = (uint32_t)g;
		} else if (!strcmp(key, "learn_save_interval")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 1, 86400, "seconds", file, err, &g);
			cfg->learn_save_interval = (unsigned int)g;
		} else if (!strcmp(key, "flow_log_max_bytes")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 4096, INT64_MAX, "bytes", file, err, &g);
			cfg->flow_log_max_bytes = (uint64_t)g;
		} else if (!strcmp(key, "policy_cidr_match")) {
			if (seg_cidr_match_parse(val, &cfg->cidr_match))
				ret = seg_errorf(err, file, yu_line(v), yu_col(v),
						 -EINVAL, "policy_cidr_match '%s': "
						 "use all (a CIDR peer selects "
						 "every address in it, pods "
						 "included) or outside (only "
						 "addresses of no endpoint or "
						 "node)", val ? val : "");
		} else if (!strcmp(key, "uplink_hook")) {
			if (val && !strcmp(val, "auto"))
				cfg->uplink_hook = SEGD_UPLINK_AUTO;
			else if (val && !strcmp(val, "xdp"))
				cfg->uplink_hook = SEGD_UPLINK_XDP;
			else if (val && !strcmp(val, "tc"))
				cfg->uplink_hook = SEGD_UPLINK_TC;
			else
				ret = seg_errorf(err, file, yu_line(v), yu_col(v),
						 -EINVAL, "uplink_hook '%s': use "
						 "auto (native XDP on a NIC, tc "
						 "ingress elsewhere), xdp (native "
						 "on a NIC, generic on a veth) or "
						 "tc (tc ingress)",
						 val ? val : "");
		} else if (!strcmp(key, "flow_log_keep")) {
			int64_t g = 0;

			ret = parse_uint(v, key, 1, 100, "a file count", file, err, &g);
			cfg->flow_log_keep = (unsigned int)g;
		} else if (!strcmp(key, "detect")) {
			detect_defaulted(cfg);
			ret = segd_config_parse_detect(&d, v, &cfg->detect, file, err);
		} else if (strcmp(key, "socket") && strcmp(key, "bpffs") &&
			   strcmp(key, "state_dir") && strcmp(key, "feeds_dir") &&
			   strcmp(key, "policy_dir") && strcmp(key, "flow_log") && strcmp(key, "metrics_addr")) {
			ret = seg_errorf(err, file, yu_line(k), yu_col(k), -EINVAL,
					 "unknown setting '%s'; known: socket, bpffs, "
					 "state_dir, feeds_dir, policy_dir, node_addresses, "
					 "log_level, interface_patterns, "
					 "resolvers, dns_grace, dns_min_ttl, flow_log, flow_log_max_bytes, "
					 "flow_log_keep, ipfix_collectors, metrics_addr, "
					 "flow_interval, policy_cidr_match, "
					 "uplink_hook, learn, learn_max_edges, "
					 "learn_save_interval, max_rules, detect", key);
		} else if (!val || !*val) {
			ret = seg_errorf(err, file, yu_line(v), yu_col(v), -EINVAL,
					 "'%s' needs %s", key,
					 !strcmp(key, "metrics_addr") ?
					 "an ADDR:PORT or \"off\"" : "a path");
		} else {
			ret = set_string(!strcmp(key, "socket") ? &cfg->socket_path :
					 !strcmp(key, "bpffs") ? &cfg->bpffs :
					 !strcmp(key, "feeds_dir") ? &cfg->feeds_dir :
					 !strcmp(key, "policy_dir") ? &cfg->policy_dir :
					 !strcmp(key, "flow_log") ? &cfg->flow_log :
					 !strcmp(key, "metrics_addr") ? &cfg->metrics_addr :
					 &cfg->state_dir, val);
		}
	}
out:
	return ret;
}

int segd_config_parse(const char *buf, size_t len, const char *file,
		      struct segd_settings *cfg, enum seg_log_level *level,
		      struct seg_error *err)
{
	struct config_ctx x = { file, cfg, level, err, 0 };

	/* an empty file is valid: every setting keeps its default */
	return yu_load_all(buf, len, file, config_doc, &x, err);
}

int segd_config_load(const char *file, struct segd_settings *cfg,
		     enum seg_log_level *level, struct seg_error *err)
{
	char *text;
	size_t len;
	int ret = seg_read_file(file, &text, &len);

	if (ret)
		return seg_errorf(err, file, 0, 0, ret, "cannot read config: %s",
				  strerror(-ret));
	ret = segd_config_parse(text, len, file, cfg, level, err);
	free(text);
	return ret;
}

int segd_config_defaults(struct segd_settings *cfg)
{
	static const char *const patterns[] = { "veth*", "cali*", "lxc*", "cni*" };

	for (size_t i = 0; !cfg->interface_patterns_set && i < 4; i++)
		if (!(cfg->interface_patterns[cfg->n_interface_patterns++] = strdup(patterns[i])))
			return -ENOMEM;
	cfg->interface_patterns_set = true;
	if (!cfg->dns_grace)
		cfg->dns_grace = SEGD_DEFAULT_DNS_GRACE;
	if (!cfg->dns_min_ttl)
		cfg->dns_min_ttl = SEGD_DEFAULT_DNS_MIN_TTL;
	if (!cfg->flow_interval)
		cfg->flow_interval = SEGD_DEFAULT_FLOW_INTERVAL;
	if (!cfg->learn_max_edges)
		cfg->learn_max_edges = SEGD_DEFAULT_LEARN_MAX_EDGES;
	if (!cfg->learn_save_interval)
		cfg->learn_save_interval = SEGD_DEFAULT_LEARN_SAVE_INTERVAL;
	if (!cfg->max_rules)
		cfg->max_rules = SEGD_DEFAULT_MAX_RULES;
	if (!cfg->flow_log_max_bytes)
		cfg->flow_log_max_bytes = SEGD_DEFAULT_FLOW_LOG_MAX_BYTES;
	if (!cfg->flow_log_keep)
		cfg->flow_log_keep = SEGD_DEFAULT_FLOW_LOG_KEEP;
	detect_defaulted(cfg);
	if (!cfg->metrics_addr && set_string(&cfg->metrics_addr, SEGD_DEFAULT_METRICS_ADDR))
		return -ENOMEM;
	if (!cfg->socket_path && set_string(&cfg->socket_path, SEGD_DEFAULT_SOCKET))
		return -ENOMEM;
	if (!cfg->bpffs && set_string(&cfg->bpffs, SEGD_DEFAULT_BPFFS))
		return -ENOMEM;
	if (!cfg->state_dir && set_string(&cfg->state_dir, SEGD_DEFAULT_STATE_DIR))
		return -ENOMEM;
	return 0;
}

void segd_config_free(struct segd_settings *cfg)
{
	for (size_t i = 0; i < cfg->n_resolvers; i++)
		free(cfg->resolvers[i]);
	for (size_t i = 0; i < cfg->n_ipfix_collectors; i++)
		free(cfg->ipfix_collectors[i]);
	free(cfg->flow_log);
	free(cfg->metrics_addr);
	free(cfg->socket_path);
	free(cfg->bpffs);
	free(cfg->state_dir);
	free(cfg->feeds_dir);
	free(cfg->policy_dir);
	segd_config_free_patterns(cfg);
	seg_detect_settings_free(&cfg->detect);
	memset(cfg, 0, sizeof(*cfg));
}
