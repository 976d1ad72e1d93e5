/* resolver.c - domain lists resolved with libevent's evdns (resolver.h). */
#include <errno.h>
#include <event2/dns.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lists.h"
#include "log.h"
#include "resolver.h"

#define TTL_MAX 3600
#define RETRY_AFTER_FAILURE 30
#define MAX_IN_FLIGHT 64

struct segd_resolver {
	struct segd *d;
	struct evdns_base *dns;
	struct event *tick;
	bool dirty;                 /* resolved sets changed since the last write */
	unsigned int in_flight;
	struct segd_resolver_stats st;
};

struct query {
	struct segd_resolver *r;
	char list[64];              /* "" for a policy's domainNames name */
	char *domain;
	bool v4;                    /* an A query (else AAAA) */
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int cmp_domain(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static struct segd_list *list_by_name(struct segd *d, const char *name)
{
	for (size_t i = 0; i < d->n_lists; i++)
		if (!strcmp(d->lists[i].bl.name, name))
			return &d->lists[i];
	return NULL;
}

/* Insert or refresh one address of domain dom; true when the set grew. */
static bool remember(struct segd *d, struct segd_list *l, uint32_t dom,
		     const struct in6_addr *a, int64_t now)
{
	struct segd_resolved *grown;

	for (size_t i = 0; i < l->n_resolved; i++)
		if (l->resolved[i].domain == dom && !memcmp(&l->resolved[i].addr, a, 16)) {
			l->resolved[i].last_seen = now;
			return false;
		}
	if (!segd_list_address_allowed(d, l, a)) {
		char text[64];

		seg_addr_format(a, text, sizeof(text));
		seg_log(SEG_LOG_WARN, "blocklist %s: %s resolves to %s, which must stay "
			"reachable; not blocked", l->bl.name, l->bl.domains[dom], text);
		return false;
	}
	grown = realloc(l->resolved, (l->n_resolved + 1) * sizeof(*grown));
	if (!grown)
		return false;
	l->resolved = grown;
	l->resolved[l->n_resolved++] = (struct segd_resolved){ *a, dom, now };
	return true;
}

/* Addresses of dom (of one family) not seen in an answer for `grace`. */
static bool forget_stale(struct segd_list *l, uint32_t dom, bool v4, int64_t now,
			 unsigned int grace)
{
	size_t kept = 0;
	bool changed = false;

	for (size_t i = 0; i < l->n_resolved; i++) {
		struct segd_resolved *x = &l->resolved[i];
		bool is_v4 = IN6_IS_ADDR_V4MAPPED(&x->addr);

		if (x->domain == dom && is_v4 == v4 && x->last_seen + (int64_t)grace < now) {
			changed = true;
			continue;
		}
		l->resolved[kept++] = *x;
	}
	l->n_resolved = kept;
	return changed;
}

/* An answer's TTL within [dns_min_ttl, TTL_MAX]. */
static int ttl_clamped(const struct segd_resolver *r, int ttl)
{
	if (ttl < (int)r->d->cfg.dns_min_ttl)
		return (int)r->d->cfg.dns_min_ttl;
	return ttl > TTL_MAX ? TTL_MAX : ttl;
}

/* The addresses of an answer, IPv4 mapped, into out (at most max). */
static size_t answer_addresses(char type, int count, const void *addresses,
			       struct in6_addr *out, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < count && n < max; i++) {
		struct in6_addr a = { 0 };

		if (type == DNS_IPv4_A) {
			a.s6_addr[10] = a.s6_addr[11] = 0xff;
			memcpy(&a.s6_addr[12], (const uint32_t *)addresses + i, 4);
		} else if (type == DNS_IPv6_AAAA) {
			a = ((const struct in6_addr *)addresses)[i];
		} else {
			continue;
		}
		out[n++] = a;
	}
	return n;
}

/* An answer for a policy's name: its addresses for the TTL, or on a
 * failure nothing removed and a retry soon. */
static void policy_name_answer(struct segd_resolver *r, struct query *q, int result,
			       char type, int count, int ttl, void *addresses)
{
	struct segd_domain *dn = segd_domain_find(&r->d->domains, q->domain);
	struct in6_addr got[64];
	size_t n = 0;
	int64_t now = now_s();

	if (!dn)
		return; /* no policy uses it any more */
	if (dn->pending)
		dn->pending--;
	if (result != DNS_ERR_NONE && result != DNS_ERR_NOTEXIST) {
		r->st.failures++;
		dn->next_query = now + RETRY_AFTER_FAILURE;
		return;
	}
	r->st.answers++;
	if (result == DNS_ERR_NONE)
		n = answer_addresses(type, count, addresses, got, 64);
	ttl = ttl_clamped(r, ttl);
	/* kept for dns_grace at least: a name answering round-robin must not
	 * cut the connections to the address it returned last time */
	segd_domain_answer(&r->d->domains, dn, q->v4, got, n,
			   ttl > (int)r->d->cfg.dns_grace ? ttl : (int)r->d->cfg.dns_grace, now);
	dn->next_query = now + ttl; /* not the retry set when it was asked */
}

static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	struct query *q = arg;
	struct segd_resolver *r = q->r;
	struct segd_list *l = list_by_name(r->d, q->list);
	char **hit;
	uint32_t dom;
	int64_t now = now_s();
	bool changed = false;

	r->in_flight--;
	if (!q->list[0]) {
		policy_name_answer(r, q, result, type, count, ttl, addresses);
		goto out;
	}
	if (!l || !l->bl.n_domains)
		goto out;
	hit = bsearch(q->domain, l->bl.domains, l->bl.n_domains, sizeof(char *), cmp_domain);
	if (!hit)
		goto out; /* the list was reloaded without this domain */
	dom = (uint32_t)(hit - l->bl.domains);
	if (l->pending[dom])
		l->pending[dom]--;
	if (result != DNS_ERR_NONE && result != DNS_ERR_NOTEXIST) {
		/* outage: keep every address, ask again soon */
		r->st.failures++;
		l->next_query[dom] = now + RETRY_AFTER_FAILURE;
		goto out;
	}
	r->st.answers++;
	if (result == DNS_ERR_NONE) {
		struct in6_addr got[64];
		size_t n = answer_addresses(type, count, addresses, got, 64);

		for (size_t i = 0; i < n; i++)
			changed |= remember(r->d, l, dom, &got[i], now);
	}
	/* an answer without an address counts too: the name moved away */
	changed |= forget_stale(l, dom, q->v4, now, r->d->cfg.dns_grace);
	ttl = ttl_clamped(r, ttl);
	l->next_query[dom] = now + ttl; /* not the retry set when it was asked */
	r->dirty |= changed;
out:
	free(q->domain);
	free(q);
}

/* Ask for name's A and AAAA records; list is "" for a policy's name. */
static void ask(struct segd_resolver *r, const char *list, const char *name,
		uint8_t *pending)
{
	for (int fam = 0; fam < 2; fam++) {
		struct query *q = calloc(1, sizeof(*q));
		struct evdns_request *req;

		if (!q || !(q->domain = strdup(name))) {
			free(q);
			return;
		}
		q->r = r;
		q->v4 = fam == 0;
		snprintf(q->list, sizeof(q->list), "%s", list);
		req = fam ? evdns_base_resolve_ipv6(r->dns, q->domain, DNS_QUERY_NO_SEARCH,
						    on_answer, q)
			  : evdns_base_resolve_ipv4(r->dns, q->domain, DNS_QUERY_NO_SEARCH,
						    on_answer, q);
		if (!req) {
			free(q->domain);
			free(q);
			continue;
		}
		r->in_flight++;
		r->st.queries++;
		(*pending)++;
	}
}

/* The names of ClusterNetworkPolicy domainNames peers: follow the
 * policies, ask what is due, enforce what the answers changed. */
static void policy_names_tick(struct segd_resolver *r, int64_t now)
{
	struct segd *d = r->d;
	struct seg_error err = { 0 };

	if (segd_domains_track(d))
		seg_log(SEG_LOG_WARN, "out of memory following the policies' domain names");
	for (size_t i = 0; i < d->domains.n && r->in_flight < MAX_IN_FLIGHT; i++) {
		struct segd_domain *dn = &d->domains.v[i];

		if (dn->pending || dn->next_query > now)
			continue;
		dn->next_query = now + RETRY_AFTER_FAILURE; /* until answered */
		ask(r, "", dn->name, &dn->pending);
	}
	if (segd_domains_enforce(d, &err))
		seg_log(SEG_LOG_WARN, "enforcing resolved domain names failed: %s; "
			"retrying", err.msg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct segd_resolver *r = arg;
	struct segd *d = r->d;
	int64_t now = now_s();
	size_t n_addr = 0;

	(void)fd, (void)what;
	for (size_t i = 0; i < d->n_lists; i++) {
		struct segd_list *l = &d->lists[i];

		n_addr += l->n_resolved;
		for (uint32_t k = 0; k < l->bl.n_domains && r->in_flight < MAX_IN_FLIGHT; k++) {
			if (l->pending[k] || l->next_query[k] > now)
				continue;
			l->next_query[k] = now + RETRY_AFTER_FAILURE; /* until answered */
			ask(r, l->bl.name, l->bl.domains[k], &l->pending[k]);
		}
	}
	policy_names_tick(r, now);
	for (size_t i = 0; i < d->domains.n; i++)
		n_addr += d->domains.v[i].n_addrs;
	r->st.addresses = n_addr;
	if (r->dirty) {
		struct seg_error err = { 0 };

		if (segd_blocklists_rewrite(d, &err))
			seg_log(SEG_LOG_WARN, "writing resolved addresses failed: %s; "
				"retrying", err.msg);
		else
			r->dirty = false;
	}
}

/* A list was installed: ask for its names now, not at the next tick. */
static void lists_changed(void *ctx)
{
	segd_resolver_kick(ctx);
}

int segd_resolver_new(struct event_base *base, struct segd *d, struct segd_resolver **out)
{
	struct segd_resolver *r = calloc(1, sizeof(*r));
	struct timeval every = { .tv_sec = 1 };
	int ret = -ENOMEM;

	if (!r)
		return -ENOMEM;
	r->d = d;
	r->dns = evdns_base_new(base, d->cfg.n_resolvers ? 0 :
				EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (!r->dns) {
		ret = -EIO;
		goto err;
	}
	for (size_t i = 0; i < d->cfg.n_resolvers; i++)
		if (evdns_base_nameserver_ip_add(r->dns, d->cfg.resolvers[i])) {
			seg_log(SEG_LOG_ERROR, "resolver '%s' is not IP or IP:PORT",
				d->cfg.resolvers[i]);
			ret = -EINVAL;
			goto err;
		}
	evdns_base_set_option(r->dns, "timeout:", "2");
	evdns_base_set_option(r->dns, "attempts:", "2");
	r->tick = event_new(base, -1, EV_PERSIST, on_tick, r);
	if (!r->tick || event_add(r->tick, &every))
		goto err;
	d->lists_changed = lists_changed;
	d->lists_changed_ctx = r;
	*out = r;
	return 0;
err:
	segd_resolver_free(r);
	return ret;
}

void segd_resolver_free(struct segd_resolver *r)
{
	if (!r)
		return;
	if (r->d && r->d->lists_changed_ctx == r) {
		r->d->lists_changed = NULL;
		r->d->lists_changed_ctx = NULL;
	}
	if (r->tick)
		event_free(r->tick);
	if (r->dns)
		evdns_base_free(r->dns, 1); /* fails pending requests: callbacks free */
	free(r);
}

void segd_resolver_kick(struct segd_resolver *r)
{
	if (r)
		on_tick(-1, 0, r);
}

void segd_resolver_stats(const struct segd_resolver *r, struct segd_resolver_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (r)
		*s = r->st;
}
