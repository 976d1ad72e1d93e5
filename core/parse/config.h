/* config.h - segd's config file (-c FILE), YAML:
 *   socket: /run/segd/segd.sock
 *   bpffs: /sys/fs/bpf/segd
 *   state_dir: /var/lib/segd
 *   node_addresses: [10.200.0.1, fd00:200::1]   # the node itself: `host`
 *   log_level: info                             # error|warn|info|debug
 *   resolvers: ["10.96.0.10", "127.0.0.1:5353"]  # for domain lists
 *   feeds_dir: /var/lib/segd/feeds  # NAME.CATEGORY.* files become lists
 *   dns_grace: 3600             # keep an address this long after its
 *                               # domain stopped returning it
 *   flow_log: /var/log/segd/flows.json  # JSON lines, "-" = stdout
 *   flow_log_max_bytes: 104857600       # rotate at this size
 *   flow_log_keep: 5                    # rotated files kept
 *   ipfix_collectors: ["10.0.0.5:4739"] # IPFIX over UDP
 *   metrics_addr: 127.0.0.1:9470        # Prometheus /metrics, "off" = none
 *   flow_interval: 10                   # seconds between flow records
 *   interface_patterns: ["veth*", "cali*", "lxc*", "cni*"]  # pod interfaces
 *                        # logged when they appear without an endpoint
 *   policy_dir: /etc/segd/policies      # policy files (a mounted ConfigMap)
 *   learn: true                         # keep what flows were seen (edges)
 *   learn_max_edges: 200000             # at most this many edges
 *   learn_save_interval: 60             # seconds between saves to state_dir
 *   max_rules: 131072                   # policy rules accepted: sizes the
 *                                       # per-CPU rule counters (segd_rules)
 *   detect: { window: 10s, actions: { scan: quarantine } }  # detect.h
 * Command-line flags override the file.
 */
#ifndef SEGD_CONFIG_H
#define SEGD_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "log.h"
#include "model.h"
#include "wire.h"
#include "detect.h"

/* Where an uplink's early drop runs (config `uplink_hook`). XDP is the
 * design's hook and the right one on a NIC (native, before any skb). On a
 * virtual uplink XDP runs on the skb and the kernel copies every non-linear
 * packet first; tc ingress runs the same program on the skb as it is.
 * auto (the default): native XDP where the driver runs it on its own
 * buffers, tc ingress elsewhere (a veth, a driver without XDP) - never
 * generic XDP, which only `xdp` asks for. */
enum segd_uplink_hook {
	SEGD_UPLINK_AUTO = 0,
	SEGD_UPLINK_XDP = 1,
	SEGD_UPLINK_TC = 2,
};

struct segd_settings {
	char *socket_path;
	char *bpffs;
	char *state_dir;
	struct in6_addr node_addrs[16];   /* the node's own addresses: HOST */
	size_t n_node_addrs;
	char *resolvers[4];               /* DNS servers "IP[:PORT]" for domain
					   * lists; none: /etc/resolv.conf */
	size_t n_resolvers;
	char *feeds_dir;                  /* lists a feed updater writes; may be NULL */
	unsigned int dns_grace;           /* seconds an address stays after its
					   * domain stopped returning it */
	unsigned int dns_min_ttl;         /* the shortest TTL honoured (s) */
	/* flow export (flow_record.h) */
	char *flow_log;                   /* JSON lines file, "-" = stdout, NULL = none */
	uint64_t flow_log_max_bytes;      /* rotate when the file reaches this */
	unsigned int flow_log_keep;       /* rotated files kept (FILE.1 .. FILE.N) */
	char *ipfix_collectors[8];        /* "HOST:PORT" (UDP) */
	size_t n_ipfix_collectors;
	char *metrics_addr;               /* "ADDR:PORT" for /metrics, "off" = none */
	unsigned int flow_interval;       /* seconds between flow records */
	char *interface_patterns[16];     /* fnmatch(3) names of pod interfaces
					   * logged when no endpoint names them */
	size_t n_interface_patterns;
	bool interface_patterns_set;      /* the config named them (even none) */
	char *policy_dir;                 /* policy files (a mounted ConfigMap); may be NULL */
	enum seg_cidr_match cidr_match;   /* what CIDR peers select */
	enum segd_uplink_hook uplink_hook; /* where an uplink's early drop runs */
	/* learned edges (core/learn/edges.h) for `segctl recommend` */
	bool learn_off;                   /* `learn: false` */
	unsigned int learn_max_edges;
	unsigned int learn_save_interval; /* seconds */
	/* policy rules accepted (1..SEGD_MAX_RULES - 1): segd_rules gets one
	 * slot more, per possible CPU */
	uint32_t max_rules;
	/* detection of compromised workloads (core/detect/detect.h) */
	struct seg_detect_settings detect;
};

#define SEGD_DEFAULT_BPFFS     "/sys/fs/bpf/segd"
#define SEGD_DEFAULT_STATE_DIR "/var/lib/segd"
#define SEGD_DEFAULT_DNS_GRACE 3600
#define SEGD_DEFAULT_DNS_MIN_TTL 30
#define SEGD_DEFAULT_METRICS_ADDR "127.0.0.1:9470"
#define SEGD_DEFAULT_FLOW_INTERVAL 10
#define SEGD_DEFAULT_LEARN_MAX_EDGES 200000
#define SEGD_DEFAULT_LEARN_SAVE_INTERVAL 60
#define SEGD_DEFAULT_FLOW_LOG_MAX_BYTES (100ull << 20)
#define SEGD_DEFAULT_FLOW_LOG_KEEP 5
#define SEGD_MAX_IPFIX_COLLECTORS 8

/* Add a collector "HOST:PORT" (config key or --ipfix-collector). */
int segd_config_add_collector(struct segd_settings *cfg, const char *hostport);

/* Parse the file's text into cfg (fields it sets replace cfg's).
 * Errors carry file:line:col. */
int segd_config_parse(const char *buf, size_t len, const char *file,
		      struct segd_settings *cfg, enum seg_log_level *level,
		      struct seg_error *err);
int segd_config_load(const char *file, struct segd_settings *cfg,
		     enum seg_log_level *level, struct seg_error *err);
/* Fill unset fields with the defaults. */
int segd_config_defaults(struct segd_settings *cfg);
void segd_config_free(struct segd_settings *cfg);
void segd_config_free_patterns(struct segd_settings *cfg);
/* Do two `detect:` sections say different things (the reload warning)?
 * (config_detect.c) */
bool segd_detect_settings_differ(const struct seg_detect_settings *a,
				 const struct seg_detect_settings *b);

#endif /* SEGD_CONFIG_H */
