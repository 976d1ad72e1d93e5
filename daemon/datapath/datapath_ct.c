/* datapath_ct.c - what the kernel reports back: the one conntrack walker
 * (segd_ct, in batches) and the rings (segd_events, segd_alerts). Flow
 * export, detection and the flows/graph requests read the kernel through
 * these only.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath_int.h"

#define CT_BATCH 4096

/* Expired entries: the datapath already treats them as gone; deleting
 * them frees LRU room for live flows. One that was refreshed between our
 * read and the delete starts over as a new flow. */
static void delete_keys(int fd, struct segd_ct_key *keys, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;

	if (n && bpf_map_delete_batch(fd, keys, &count, &opts))
		for (__u32 i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &keys[i]);
}

int seg_dp_ct_foreach(struct seg_datapath *dp, seg_dp_ct_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = seg_dp_map_fd(dp, SEGD_MAP_CT);
	struct segd_ct_key batch, *keys, *del;
	struct segd_ct_value *values;
	void *in = NULL;
	int ret = 0;

	if (fd < 0)
		return fd;
	keys = malloc(CT_BATCH * sizeof(*keys));
	del = malloc(CT_BATCH * sizeof(*del));
	values = malloc(CT_BATCH * sizeof(*values));
	if (!keys || !del || !values) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 n = CT_BATCH, n_del = 0;
		int err = bpf_map_lookup_batch(fd, in, &batch, keys, values, &n, &opts);

		if (err && errno != ENOENT) {
			ret = -errno;
			break;
		}
		for (__u32 i = 0; i < n && !ret; i++) {
			int r = fn(ctx, &keys[i], &values[i]);

			if (r < 0)
				ret = r;
			else if (r == 1)
				del[n_del++] = keys[i];
		}
		delete_keys(fd, del, n_del);
		if (ret || err)
			break;   /* err: ENOENT, the last batch */
		in = &batch;
	}
out:
	free(keys);
	free(del);
	free(values);
	return ret;
}

struct seg_dp_events {
	struct ring_buffer *ring;
	size_t rec_size;
	seg_dp_event_fn fn;
	void *ctx;
};

static int on_ring_event(void *ctx, void *data, size_t len)
{
	struct seg_dp_events *e = ctx;

	if (len >= e->rec_size)
		e->fn(e->ctx, data);
	return 0;
}

int seg_dp_events_open(struct seg_datapath *dp, const char *map, size_t rec_size,
		       seg_dp_event_fn fn, void *ctx, struct seg_dp_events **out)
{
	int fd = seg_dp_map_fd(dp, map);
	struct seg_dp_events *e;

	if (fd < 0)
		return -ENOENT;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->rec_size = rec_size;
	e->fn = fn;
	e->ctx = ctx;
	e->ring = ring_buffer__new(fd, on_ring_event, e, NULL);
	if (!e->ring) {
		int ret = -errno;

		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

int seg_dp_events_fd(struct seg_dp_events *e)
{
	return ring_buffer__epoll_fd(e->ring);
}

void seg_dp_events_consume(struct seg_dp_events *e)
{
	ring_buffer__consume(e->ring);
}

void seg_dp_events_close(struct seg_dp_events *e)
{
	if (!e)
		return;
	ring_buffer__free(e->ring);
	free(e);
}
