/* quarantine.h - emergency quarantine of compromised workloads (pure: no
 * syscalls, so everything here is unit-tested).
 *
 * A quarantine names its target one of three ways: an endpoint (namespace
 * and name), an address, or a label selector in a namespace. It matches
 * endpoints by that target whenever the map content is computed, so an
 * endpoint registered later under a quarantined name, address or labels is
 * quarantined too. Its forensic allow rules say which peers may still talk
 * to the workload. The kernel side is one hash entry per quarantined local
 * address (segd_quarantine, segd_abi.h).
 */
#ifndef SEGD_QUARANTINE_H
#define SEGD_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model.h"
#include "segd_abi.h"

enum seg_quar_kind {
	SEG_QUAR_ENDPOINT,   /* ns/name */
	SEG_QUAR_IP,         /* one address, endpoint or not */
	SEG_QUAR_SELECTOR,   /* every endpoint in ns carrying all these labels */
};

/* forensic peers: struct seg_quar_allow (model.h) */

struct seg_quarantine {
	uint32_t id;                 /* 1.., never reused while segd's state lives */
	enum seg_quar_kind kind;
	char *ns;                    /* ENDPOINT, SELECTOR */
	char *name;                  /* ENDPOINT */
	struct in6_addr ip;          /* IP (IPv4 mapped) */
	struct seg_labels selector;  /* SELECTOR */
	struct seg_quar_allow allow[SEGD_QUAR_ALLOW];
	size_t n_allow;
	char *reason;                /* "" when none was given */
	int64_t since;               /* unix seconds */
	uint32_t uid, pid;           /* who asked (SO_PEERCRED) */
};

struct seg_quarantines {
	struct seg_quarantine *v;
	size_t n;
	uint32_t next_id;            /* the id the next new quarantine gets */
};

/* One entry of segd_quarantine, as the map must hold it. */
struct seg_quar_entry {
	struct segd_addr addr;
	struct segd_quar_value value;
};

void seg_quarantine_free(struct seg_quarantine *q);
void seg_quarantines_free(struct seg_quarantines *qs);


/* "endpoint", "ip", "selector" */
const char *seg_quar_kind_name(enum seg_quar_kind k);
/* "endpoint NS/NAME", "ip ADDR", "selector NS/k=v,...". */
void seg_quar_target_format(const struct seg_quarantine *q, char *buf, size_t len);
bool seg_quar_same_target(const struct seg_quarantine *a,
			  const struct seg_quarantine *b);
/* Does q cover endpoint e? */
bool seg_quar_matches(const struct seg_quarantine *q, const struct seg_endpoint *e);
/* The quarantine with q's target, or NULL. */
struct seg_quarantine *seg_quarantines_find(struct seg_quarantines *qs,
					    const struct seg_quarantine *q);
/* Add q (taking its contents) or replace the one with the same target
 * (keeping its id). *id gets the id; *replaced whether one was replaced. */
int seg_quarantines_put(struct seg_quarantines *qs, struct seg_quarantine *q,
			uint32_t *id, bool *replaced);
/* Remove entry i (freeing it). */
void seg_quarantines_remove(struct seg_quarantines *qs, size_t i);

/* The content of segd_quarantine for the quarantines qs over world w:
 * one entry per quarantined address (an endpoint's every address, an IP
 * target's address), sorted by address. An address several quarantines
 * cover gets the union of their allow rules (at most SEGD_QUAR_ALLOW; the
 * rest are dropped and *truncated set, so the result is never more open
 * than asked) and the lowest id. */
int seg_quar_entries(const struct seg_quarantines *qs, const struct seg_world *w,
		     struct seg_quar_entry **out, size_t *n, bool *truncated);
void seg_quar_value_fill(const struct seg_quarantine *q, struct segd_quar_value *v);

/* YAML nodes (yaml_util.h): the canonical allow rules as a sequence, and
 * one record as a mapping appended to seq (returns its node id). What the
 * state file holds per quarantine, and `segctl get quarantines` shows. */
#include <yaml.h>
int seg_quar_allow_node(yaml_document_t *d, const struct seg_quarantine *q);
int seg_quar_record_node(yaml_document_t *d, int seq, const struct seg_quarantine *q);

/* quarantines.yaml in the state dir. */
int seg_quarantines_to_yaml(const struct seg_quarantines *qs, char **out);
int seg_quarantines_from_yaml(const char *buf, size_t len, const char *file,
			      struct seg_quarantines *qs, struct seg_error *err);

/* One line of the audit log (JSON, '\n'-terminated, malloc'd): time,
 * action, id, target, reason, allow rules, the endpoints covered now and
 * who asked: actor ("operator" over the control socket, "segd:detect"),
 * uid and pid. */
int seg_quar_audit_line(const char *action, const struct seg_quarantine *q,
			int64_t now, const char *actor, uint32_t uid, uint32_t pid,
			const char *const *endpoints, size_t n_endpoints,
			char **out);

#endif /* SEGD_QUARANTINE_H */
