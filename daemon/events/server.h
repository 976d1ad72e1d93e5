/* server.h - segd's control socket (unix stream, mode 0660, root). It
 * frames requests and responses; what a request means is the handler's
 * (control/), reached only through the callbacks below, so the event
 * sources never call into the control handlers. */
#ifndef SEGD_SERVER_H
#define SEGD_SERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <yaml.h>
#include "segd.h"

/* Called on the loop thread, one request at a time. */
struct seg_server_handler {
	/* Answer req; resp is initialised by the callee. */
	int (*handle)(void *ctx, yaml_document_t *req, const char *payload,
		      size_t payload_len, const struct segd_peer *peer,
		      yaml_document_t *resp);
	/* After the response is queued: true when the callee keeps the
	 * connection (a `flows --follow` stream); may be NULL. */
	bool (*take_over)(void *ctx, struct bufferevent *bev);
	void *ctx;
};

struct seg_server;

/* Listen on path (its directory is created; a stale socket file left by a
 * crash is replaced; a live one is -EADDRINUSE). */
int seg_server_open(struct event_base *base, const struct seg_server_handler *h,
		    const char *path, struct seg_server **out);
void seg_server_close(struct seg_server *srv);

#endif /* SEGD_SERVER_H */
