/* learn_store.h - the learned edges (core/learn/edges.h) on segd's loop:
 * fed by every flow record, outside addresses named from the resolver's
 * answers, loaded from <state_dir>/learned-edges at start, saved there
 * every learn_save_interval seconds when they changed and at stop.
 * d->edges points at them while segd runs (NULL with `learn: false`). */
#ifndef SEGD_LEARN_STORE_H
#define SEGD_LEARN_STORE_H

#include <event2/event.h>

struct segd;
struct seg_flow_export;
struct segd_learn;

#define SEGD_LEARN_FILE "learned-edges"

int segd_learn_start(struct event_base *base, struct segd *d,
		     struct seg_flow_export *flows, struct segd_learn **out);
/* Save now (after `learn reset`); 0 or -errno (logged). */
int segd_learn_save(struct segd *d);
/* Save and free; d->edges is NULL after. */
void segd_learn_stop(struct segd_learn *l);

#endif /* SEGD_LEARN_STORE_H */
