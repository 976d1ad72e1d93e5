/* server.h - segd's control socket (unix stream, mode 0660, root). */
#ifndef SEGD_SERVER_H
#define SEGD_SERVER_H

#include <event2/event.h>
#include "segd.h"

struct seg_server;

/* Listen on path (its directory is created; a stale socket file left by a
 * crash is replaced; a live one is -EADDRINUSE). */
int seg_server_open(struct event_base *base, struct segd *d, const char *path,
		    struct seg_server **out);
void seg_server_close(struct seg_server *srv);

#endif /* SEGD_SERVER_H */
