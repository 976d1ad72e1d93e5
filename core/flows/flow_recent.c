/* flow_recent.c - a ring of the last ended flows (flow_recent.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flow_recent.h"

/* A record with room for its strings; endpoint labels are not kept. */
struct kept {
	struct seg_flow_record r;
	char src_ns[64], src_name[254], src_id[320];
	char dst_ns[64], dst_name[254], dst_id[320];
	char observer[320], policy[320], reason[40], blocklist[128];
};

struct seg_flow_recent {
	struct kept *ring;
	size_t cap, next, n;
};

int seg_flow_recent_new(size_t capacity, struct seg_flow_recent **out)
{
	struct seg_flow_recent *x = calloc(1, sizeof(*x));

	if (!x || !(x->ring = calloc(capacity, sizeof(*x->ring)))) {
		free(x);
		return -ENOMEM;
	}
	x->cap = capacity;
	*out = x;
	return 0;
}

void seg_flow_recent_free(struct seg_flow_recent *x)
{
	if (x)
		free(x->ring);
	free(x);
}

/* Copy s into buf (when set; cut to len - 1 bytes) and point at the copy.
 * Every final record of a pass comes here: no printf. */
static const char *keep(const char *s, char *buf, size_t len)
{
	size_t n;

	if (!s)
		return NULL;
	n = strnlen(s, len - 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static void keep_peer(struct seg_flow_peer *p, char *ns, char *name, char *id)
{
	p->ns = keep(p->ns, ns, 64);
	p->name = keep(p->name, name, 254);
	p->identity = keep(p->identity, id, 320);
	p->labels = NULL;
}

void seg_flow_recent_sink(void *ctx, const struct seg_flow_record *r)
{
	struct seg_flow_recent *x = ctx;
	struct kept *k;

	if (!r->final)
		return;
	k = &x->ring[x->next];
	x->next = (x->next + 1) % x->cap;
	if (x->n < x->cap)
		x->n++;
	k->r = *r;
	/* its texts now live in a slot the ring reuses within an epoch */
	k->r.names_epoch = 0;
	keep_peer(&k->r.source, k->src_ns, k->src_name, k->src_id);
	keep_peer(&k->r.destination, k->dst_ns, k->dst_name, k->dst_id);
	k->r.observer = keep(r->observer, k->observer, sizeof(k->observer));
	k->r.policy = keep(r->policy, k->policy, sizeof(k->policy));
	k->r.drop_reason = keep(r->drop_reason, k->reason, sizeof(k->reason));
	k->r.blocklist = keep(r->blocklist, k->blocklist, sizeof(k->blocklist));
}

void seg_flow_recent_foreach(const struct seg_flow_recent *x, seg_flow_sink_fn fn,
			     void *ctx)
{
	size_t first = (x->next + x->cap - x->n) % x->cap;

	for (size_t i = 0; i < x->n; i++)
		fn(ctx, &x->ring[(first + i) % x->cap].r);
}
