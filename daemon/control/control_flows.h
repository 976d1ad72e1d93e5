/* control_flows.h - the `flows` request: conntrack entries as flows. */
#ifndef SEGD_CONTROL_FLOWS_H
#define SEGD_CONTROL_FLOWS_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <yaml.h>
#include "segd.h"

/* Call fn for every conntrack entry (reads the pinned map, changes
 * nothing). 0, or -errno with err filled (no datapath, map unreadable). */
typedef void (*segd_ct_fn)(void *ctx, const struct segd_ct_key *k,
			   const struct segd_ct_value *v);
int segd_ct_foreach(struct segd *d, segd_ct_fn fn, void *ctx, struct seg_error *err);
int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* `conntrack flush`: end every flow now (final records, entries deleted),
 * keeping revocation tombstones; answers flushed and kept. */
int segd_h_conntrack_flush(struct segd *d, struct segd_req *r, yaml_document_t *out,
			   int res);
/* After the answer to `flows --follow` is queued on bev: end the YAML
 * document and hand bev to the flow exporter, which streams new records.
 * True when it took bev; false when no follow was asked or it failed. */
bool segd_flows_take_follower(struct segd *d, struct bufferevent *bev);

#endif /* SEGD_CONTROL_FLOWS_H */
