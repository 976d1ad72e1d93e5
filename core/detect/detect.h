/* detect.h - detection of a compromised workload (pure: no syscalls).
 *
 * The datapath counts, per local endpoint, what its new flows reach
 * (segd_abi.h, "detection") and raises a segd_alert when a count crosses
 * its limit. This module holds what user space knows about it: the
 * settings (config `detect:` section, per-namespace `--on-detect`), the
 * limits the kernel gets, the kinds' MITRE ATT&CK techniques, and the
 * alert records `segctl alerts`, the JSON flow log and /metrics show.
 */
#ifndef SEGD_DETECT_H
#define SEGD_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <linux/types.h>
#include "segd_abi.h"
#include "quarantine.h"

/* What segd does when a kind fires: enum seg_detect_action (model.h). */
const char *seg_detect_action_name(enum seg_detect_action a);
/* "alert", "quarantine" (and "off" when allow_off) */
int seg_detect_action_parse(const char *s, bool allow_off,
			    enum seg_detect_action *out);

#define SEG_DETECT_MAX_EXEMPT 16

/* The config file's `detect:` section (docs/detection.md):
 *   detect:
 *     enabled: true
 *     window: 10s                 # a count covers the last 5..10 s
 *     scan_ports: 24              # distinct destination ports
 *     scan_hosts: 32              # distinct destination addresses
 *     lateral_targets: 8          # distinct denied workload targets
 *     new_destination_after: 24h  # learning period per identity; 0 = off
 *     actions: { scan: quarantine, lateral: alert, miner: quarantine, ... }
 *     quarantine_allow: ["10.0.0.5/32:22/tcp"]   # forensic peers
 *     exempt: ["app=prometheus", "k8s-app=kube-dns"]  # label selectors
 */
struct seg_detect_settings {
	bool off;                              /* enabled: false */
	unsigned int window_s;
	unsigned int scan_ports;
	unsigned int scan_hosts;
	unsigned int lateral_targets;
	unsigned int new_dest_after_s;         /* 0: no new-destination alerts */
	enum seg_detect_action action[SEGD_ALERT_KIND_MAX];
	struct seg_quar_allow quarantine_allow[SEGD_QUAR_ALLOW];
	size_t n_quarantine_allow;
	char *exempt[SEG_DETECT_MAX_EXEMPT];   /* "k=v,..." selectors */
	size_t n_exempt;
};

#define SEG_DETECT_DEFAULT_WINDOW_S        10
#define SEG_DETECT_DEFAULT_SCAN_PORTS      24
#define SEG_DETECT_DEFAULT_SCAN_HOSTS      32
#define SEG_DETECT_DEFAULT_LATERAL         8
#define SEG_DETECT_DEFAULT_NEW_DEST_AFTER  86400

/* The defaults: every kind alerts, none quarantines. */
void seg_detect_defaults(struct seg_detect_settings *s);
void seg_detect_settings_free(struct seg_detect_settings *s);

/* The bits a sketch of SEGD_DETECT_BITS bits holds on average after n
 * distinct targets (linear counting), so a distinct-count limit becomes
 * the kernel's bit limit; and back, the distinct count a bit count
 * estimates. */
uint16_t seg_detect_bits_for(unsigned int distinct);
unsigned int seg_detect_distinct_of(unsigned int bits);

/* The kernel's segd_detect_config for s. */
void seg_detect_config_image(const struct seg_detect_settings *s,
			     struct segd_detect_config *out);

/* MITRE ATT&CK technique of a kind: id ("T1046") and name. */
const char *seg_detect_technique(enum segd_alert_kind k);
const char *seg_detect_technique_name(enum segd_alert_kind k);

/* ---- alert records ------------------------------------------------------ */
#define SEG_ALERT_NAME_MAX 256
#define SEG_ALERT_LABELS_MAX 1024

struct seg_alert {
	uint64_t id;                         /* 1.., in order raised */
	enum segd_alert_kind kind;
	char shape[16];                      /* scan: vertical|horizontal|block;
					      * miner: stratum|list; else "" */
	char ns[SEG_ALERT_NAME_MAX];         /* the workload */
	char name[SEG_ALERT_NAME_MAX];
	char labels[SEG_ALERT_LABELS_MAX];   /* "k=v,..." sorted */
	struct in6_addr addr;                /* its address that sent it */
	char list[SEG_ALERT_NAME_MAX];       /* miner/c2 from a list: its name */
	char domain[SEG_ALERT_NAME_MAX];     /* new-destination: the name the
					      * resolver knew for it, or "" */
	int64_t first_ms, last_ms;           /* unix ms: first and last packet */
	uint32_t flows, denied;              /* new flows in the window, dropped */
	uint32_t ports, hosts, denied_targets; /* distinct, estimated */
	struct segd_detect_target sample[SEGD_DETECT_SAMPLES];
	size_t n_sample;
	uint32_t raised;                     /* kernel alerts merged into it */
	char action[32];                     /* "alert", "quarantine", "exempt",
					      * "quarantine-failed" */
	uint32_t quarantine_id;              /* when quarantined */
	uint32_t contain_us;                 /* the crossing packet (kernel
					      * clock) to the quarantine in the
					      * kernel; 0 when none was put */
};

/* Fill the kernel-derived fields of a (kind, shape, counts, samples) from
 * ev; mono_to_unix_ms turns its CLOCK_MONOTONIC ns into unix ms
 * (offset = unix_ms - mono_ms at the time of reading). */
void seg_alert_from_kernel(struct seg_alert *a, const struct segd_alert *ev,
			   const struct seg_detect_settings *s,
			   int64_t mono_to_unix_ms);

/* "10.0.0.2:22/tcp", "[fd00::2]:53/udp"; ICMP "10.0.0.2/icmp" (its port
 * field holds type << 8 | code, not a port). */
void seg_detect_target_format(const struct segd_detect_target *t, char *buf, size_t len);

/* One line for segd's log: "scan (T1046 vertical) by shop/web ...". */
void seg_alert_summary(const struct seg_alert *a, char *buf, size_t len);

/* The alert as one JSON object (no newline): the flow log's
 * {"type":"alert",...} record and `segctl alerts -o json` share it.
 * Returns 0 or -ENOMEM; *out is malloc'd. */
int seg_alert_json(const struct seg_alert *a, char **out, size_t *len);

/* ---- the recent alerts ------------------------------------------------- */
/* A bounded ring of the last alerts. An alert of the same endpoint address
 * and kind within `merge_ms` of the last one updates it (counts, last
 * time, samples) instead of adding one: the kernel raises once per epoch
 * while a scan goes on. */
#define SEG_ALERTS_KEEP 1024

struct seg_alerts {
	struct seg_alert *v;                 /* ring of SEG_ALERTS_KEEP */
	size_t head, n;                      /* oldest at head */
	uint64_t next_id;
	uint64_t total[SEGD_ALERT_KIND_MAX]; /* raised since start, per kind */
};

int seg_alerts_init(struct seg_alerts *as);
void seg_alerts_free(struct seg_alerts *as);
/* Add a or merge it into the last alert of its endpoint and kind. *merged
 * says which; the stored record (with its id) is returned in *stored. */
int seg_alerts_add(struct seg_alerts *as, const struct seg_alert *a,
		   int64_t merge_ms, struct seg_alert **stored, bool *merged);
/* The i-th alert from the oldest (i < as->n). */
const struct seg_alert *seg_alerts_at(const struct seg_alerts *as, size_t i);

#endif /* SEGD_DETECT_H */
