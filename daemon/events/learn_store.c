/* learn_store.c - learned edges on segd's loop (learn_store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edges.h"
#include "flow_export.h"
#include "learn_store.h"
#include "log.h"
#include "segd.h"
#include "state.h"

struct segd_learn {
	struct segd *d;
	struct event *timer;
};

/* The domain name an outside address was last resolved from, if any
 * name a policy uses resolved to it. */
static bool name_address(void *ctx, const struct in6_addr *a, char *buf, size_t len)
{
	const struct segd_domains *ds = &((struct segd *)ctx)->domains;

	for (size_t i = 0; i < ds->n; i++)
		for (size_t j = 0; j < ds->v[i].n_addrs; j++)
			if (!memcmp(&ds->v[i].addrs[j].addr, a, sizeof(*a))) {
				snprintf(buf, len, "%s", ds->v[i].name);
				return true;
			}
	return false;
}

static void path_of(const struct segd *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", d->cfg.state_dir, SEGD_LEARN_FILE);
}

int segd_learn_save(struct segd *d)
{
	char path[4096], *text;
	size_t len;
	int ret;

	if (!d->edges || !d->cfg.state_dir)
		return 0;
	path_of(d, path, sizeof(path));
	ret = seg_edges_save(d->edges, &text, &len);
	if (!ret) {
		ret = seg_write_file_atomic(path, text, len, 0600);
		free(text);
	}
	if (ret)
		seg_log(SEG_LOG_WARN, "learn: cannot save %s: %s (kept in memory, tried "
			"again at the next save)", path, strerror(-ret));
	return ret;
}

static void load(struct segd *d)
{
	struct seg_error err = { 0 };
	char path[4096], *text;
	size_t len;
	int ret;

	if (!d->cfg.state_dir)
		return;
	path_of(d, path, sizeof(path));
	ret = seg_read_file(path, &text, &len);
	if (ret == -ENOENT)
		return;
	if (!ret) {
		ret = seg_edges_load(d->edges, text, len, &err);
		free(text);
	}
	if (ret)
		seg_log(SEG_LOG_WARN, "learn: %s:%d: %s; learning goes on from what was "
			"read (the file is rewritten at the next save)", path, err.line,
			*err.msg ? err.msg : strerror(-ret));
	else
		seg_log(SEG_LOG_INFO, "learn: %zu edges from %s", seg_edges_count(d->edges),
			path);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct segd_learn *l = arg;

	(void)fd, (void)what;
	if (seg_edges_dirty(l->d->edges))
		segd_learn_save(l->d);
}

int segd_learn_start(struct event_base *base, struct segd *d,
		     struct seg_flow_export *flows, struct segd_learn **out)
{
	struct timeval every = { .tv_sec = d->cfg.learn_save_interval };
	struct segd_learn *l;
	int ret;

	*out = NULL;
	if (d->cfg.learn_off)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->d = d;
	ret = seg_edges_new(d->cfg.learn_max_edges, &d->edges);
	if (ret)
		goto fail;
	seg_edges_set_namer(d->edges, name_address, d);
	load(d);
	l->timer = event_new(base, -1, EV_PERSIST, on_timer, l);
	if (!l->timer || event_add(l->timer, &every)) {
		ret = -ENOMEM;
		goto fail;
	}
	/* last: once the table holds the sink, the edges live until stop */
	ret = seg_flow_export_add_sink(flows, seg_edges_sink, d->edges);
	if (ret)
		goto fail;
	*out = l;
	return 0;
fail:
	segd_learn_stop(l);
	return ret;
}

void segd_learn_stop(struct segd_learn *l)
{
	if (!l)
		return;
	if (l->d->edges && seg_edges_dirty(l->d->edges))
		segd_learn_save(l->d);
	if (l->timer)
		event_free(l->timer);
	seg_edges_free(l->d->edges);
	l->d->edges = NULL;
	free(l);
}
