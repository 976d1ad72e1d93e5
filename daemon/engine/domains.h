/* domains.h - the domain names of ClusterNetworkPolicy `domainNames`
 * peers and the addresses they resolve to: what the compiler reads as
 * the world's name table (seg_world.names).
 *
 * The resolver (events/resolver.c) asks for every name the policies use
 * and hands the answers here. An address seen in an answer stays for its
 * TTL or dns_grace, whichever is longer, after the last answer that
 * carried it (a name answering round-robin keeps its connections); a
 * failed query (timeout, SERVFAIL) removes nothing, so a resolver outage
 * never takes an allowed destination away. A name no policy uses any
 * more is forgotten once the policies change. When what a name resolves to
 * changes, the world is compiled again and enforced.
 */
#ifndef SEGD_DOMAINS_H
#define SEGD_DOMAINS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct segd;
struct seg_error;
struct seg_name_addrs;

struct segd_domain_addr {
	struct in6_addr addr;   /* IPv4 mapped */
	int64_t expires;        /* seconds: last answer carrying it + its TTL */
};

struct segd_domain {
	char *name;
	struct segd_domain_addr *addrs;
	size_t n_addrs;
	int64_t next_query;     /* seconds; 0: ask now */
	uint8_t pending;        /* queries in flight */
};

struct segd_domains {
	struct segd_domain *v;  /* sorted by name */
	size_t n;
	/* what the world reads: rebuilt from v when an address set changed
	 * and the kernel took the new compilation */
	struct seg_name_addrs *table;
	size_t n_table;
	bool changed;           /* v differs from table */
	bool tracked;           /* v holds the policies' names (cleared by
				 * segd_policies_changed) */
};

/* Follow the policies of d's desired state, unless tracked since they
 * last changed: add the names they use (to be asked at once), forget the
 * ones no policy uses. 0 or -ENOMEM (tried again at the next call). */
int segd_domains_track(struct segd *d);
struct segd_domain *segd_domain_find(struct segd_domains *ds, const char *name);
/* A successful answer for one family of dn: n addresses, kept `keep`
 * seconds. It refreshes what it carries and drops that family's addresses
 * whose time ran out; ds->changed says the set changed. */
void segd_domain_answer(struct segd_domains *ds, struct segd_domain *dn, bool v4,
			const struct in6_addr *addrs, size_t n, int keep, int64_t now);
/* Compile the world with the changed table and enforce it; the table is
 * kept only when the kernel took it (else ds->changed stays for a retry). */
int segd_domains_enforce(struct segd *d, struct seg_error *err);
void segd_domains_free(struct segd_domains *ds);

#endif /* SEGD_DOMAINS_H */
