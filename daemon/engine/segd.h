/* segd.h - the daemon object (struct segd) and the engine's entry points:
 * desired state -> compile -> enforce -> commit (engine.c), interfaces
 * (links.c). The control protocol's door is control/control.h. */
#ifndef SEGD_SEGD_H
#define SEGD_SEGD_H

#include <stdbool.h>
#include <sys/types.h>
#include <yaml.h>
#include "compiler.h"
#include "config.h"
#include "datapath.h"
#include "state.h"
#include "flow_record.h"
#include "quarantine.h"
#include "domains.h"
#include "detect.h"

struct segd_list;
struct seg_bl_compiled;
struct segd_resolver;
struct seg_flow_export;
struct seg_flow_filter;
struct seg_edges;

struct segd {
	struct segd_settings cfg;
	struct seg_state state;           /* desired state, as persisted */
	struct seg_compiled compiled;     /* what the kernel enforces now */
	struct seg_datapath *dp;          /* NULL: no kernel (tests, -n) */
	struct seg_compile_cache *compile_cache; /* reuse across compiles; may be NULL */
	bool dirty;                       /* state differs from disk */
	struct segd_list *lists;          /* indicator lists (control_blocklist.h) */
	size_t n_lists;
	struct seg_bl_compiled *bl_written; /* what the blocklist maps hold; NULL = unknown */
	struct segd_resolver *resolver;   /* domain lists (resolver.h); may be NULL */
	/* domainNames peers' names and addresses (domains.h) */
	struct segd_domains domains;
	/* called when a list was installed or a policy changed: names to
	 * ask for (set by the resolver) */
	void (*lists_changed)(void *ctx);
	void *lists_changed_ctx;
	struct seg_flow_stats flow_stats; /* flow table and event counters */
	struct seg_flow_export *flow_export; /* flow records (flow_export.h); may be NULL */
	struct seg_edges *edges;          /* learned edges (events/learn_store.h); may be NULL */
	/* set by a request handler (flows --follow) that wants its connection
	 * kept open for a stream of records; the server takes it */
	struct seg_flow_filter *follow;
	/* quarantines (engine/quarantine_sync.c): the records, what
	 * segd_quarantine holds (unknown until the first write), the audit
	 * log's line count and the actions since start */
	struct seg_quarantines quarantines;
	struct seg_quar_entry *quar_written;
	size_t n_quar_written;
	bool quar_written_known;
	uint64_t quar_audit_records;
	uint64_t quar_actions[2];         /* [0] quarantine, [1] release */
	/* detection (engine/detect.c): the recent alerts, `segctl alerts` */
	struct seg_alerts alerts;
	struct {
		uint64_t exempt;          /* alerts of exempt endpoints, dropped */
		uint64_t not_endpoint;    /* alerts of no local endpoint, dropped */
	} detect_stats;
};

/* Who asked (SO_PEERCRED), for the audit trail. */
struct segd_peer {
	pid_t pid;
	uid_t uid;
};

/* One request being handled: its document, its args node, its error. */
struct segd_req {
	yaml_document_t *doc;
	yaml_node_t *args;
	struct seg_error *err;
	const char *payload;    /* raw file bytes after the header (wire.h) */
	size_t payload_len;
	const struct segd_peer *peer;   /* who asked; NULL when not known */
};
const char *segd_arg_str(struct segd_req *r, const char *key);

/* The current world with the node's addresses and settings: handlers swap
 * in their changed arrays and compile it. */
struct seg_world segd_candidate_of(struct segd *d);

/* Quarantines (engine/quarantine_sync.c). Load quarantines.yaml and count the
 * audit log (at start, before the kernel is synced). */
int segd_quarantine_load(struct segd *d, struct seg_error *err);
/* Make segd_quarantine match the quarantines over world w (NULL: the
 * desired state). add_only writes what w adds and deletes nothing: used
 * before a new endpoint reaches the kernel, so it is never enforced
 * unquarantined, not even for a moment. */
int segd_quarantine_sync(struct segd *d, const struct seg_world *w, bool add_only,
			 struct seg_error *err);

/* Detection (detect.c): write the config's counting limits to the kernel
 * and, unless detection is off (*out NULL then), handle segd_alerts on
 * base's loop: alerts are reported to log (may be NULL) as JSON lines. */
struct event_base;
struct seg_flowlog;
struct segd_detect;
int segd_detect_start(struct event_base *base, struct segd *d, struct seg_flowlog *log,
		      struct segd_detect **out);
void segd_detect_stop(struct segd_detect *x);

/* Compile the current state and make the kernel enforce it, attaching
 * programs to every known interface (used at start and on SIGHUP). */
int segd_sync_kernel(struct segd *d, struct seg_error *err);

/* A policy file already in memory, for `apply` (control/control.h). */
struct segd_apply_file {
	const char *name;       /* for messages and the policies' source_file */
	const char *text;
	size_t len;
};

struct seg_link_event;
/* An interface appeared, went or was renamed: attach the programs of the
 * endpoint named after it, or forget its ifindex. *what gets
 * SEGD_LINK_NAMED when an endpoint names the interface and
 * SEGD_LINK_CHANGED when an endpoint's interface changed: then call
 * segd_links_enforce (once for a burst of events) so the maps learn it. */
#define SEGD_LINK_NAMED   1u
#define SEGD_LINK_CHANGED 2u
int segd_link_event(struct segd *d, const struct seg_link_event *ev, unsigned int *what,
		    struct seg_error *err);
int segd_links_enforce(struct segd *d, struct seg_error *err);
/* Look up every endpoint's interface again and enforce what changed. */
int segd_links_resync(struct segd *d, struct seg_error *err);

#endif /* SEGD_SEGD_H */
