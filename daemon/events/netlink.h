/* netlink.h - interface discovery: segd follows RTNLGRP_LINK on its loop
 * and attaches an endpoint's programs the moment its interface appears. */
#ifndef SEGD_NETLINK_H
#define SEGD_NETLINK_H

#include <event2/event.h>
#include "segd.h"

struct segd_links;

/* Subscribe, then look up every endpoint's interface once (one that
 * appeared before the subscription is not missed). */
int segd_links_new(struct event_base *base, struct segd *d, struct segd_links **out);
void segd_links_free(struct segd_links *l);

#endif /* SEGD_NETLINK_H */
