/* resolver.h - domain blocklists (miner pool names, C2 host names) and
 * ClusterNetworkPolicy domainNames (engine/domains.h) turned into
 * addresses with libevent's asynchronous DNS.
 *
 * Every domain of every list and every name of a policy is asked for A
 * and AAAA records; the answer's TTL (clamped to dns_min_ttl .. 1 h) says
 * when to ask again. An address stays in
 * its list until a successful answer has not returned it for dns_grace
 * seconds: a resolver outage (timeouts, SERVFAIL) never empties a list.
 * Resolved addresses pass the same safety check as listed ones (a pool
 * name sinkholed to 0.0.0.0 or 127.0.0.1 is refused). Changes are batched
 * and written to the maps once a second at most.
 */
#ifndef SEGD_RESOLVER_H
#define SEGD_RESOLVER_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include "lists.h"

int segd_resolver_new(struct event_base *base, struct segd *d,
		      struct segd_resolver **out);
void segd_resolver_free(struct segd_resolver *r);

/* Lists were loaded or replaced, or policies changed: ask for their
 * names now. */
void segd_resolver_kick(struct segd_resolver *r);

struct segd_resolver_stats {
	uint64_t queries, answers, failures, addresses;
};
void segd_resolver_stats(const struct segd_resolver *r, struct segd_resolver_stats *s);

#endif /* SEGD_RESOLVER_H */
