/* dp_state.c - see dp_state.h */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp_state.h"

void st_init(struct seg_compiled *c)
{
	memset(c, 0, sizeof(*c));
}

void st_free(struct seg_compiled *c)
{
	free(c->exact);
	free(c->prefixes);
	free(c->entries);
	memset(c, 0, sizeof(*c));
}

int st_addr(const char *text, struct segd_addr *out)
{
	struct in_addr a4;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &a4) == 1) {
		out->b[10] = 0xff;
		out->b[11] = 0xff;
		memcpy(out->b + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, text, out->b) == 1 ? 0 : -EINVAL;
}

static int grow(void **v, size_t n, size_t sz)
{
	void *p = realloc(*v, (n + 1) * sz);

	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

int st_exact(struct seg_compiled *c, const char *addr, uint32_t identity,
	     uint32_t ifindex, uint32_t flags, uint32_t endpoint_id)
{
	struct seg_ipc_exact_entry *e;

	if (grow((void **)&c->exact, c->n_exact, sizeof(*e)))
		return -ENOMEM;
	e = &c->exact[c->n_exact];
	memset(e, 0, sizeof(*e));
	if (st_addr(addr, &e->addr))
		return -EINVAL;
	e->value.identity = identity;
	e->value.ifindex = ifindex;
	e->value.flags = flags;
	e->value.endpoint_id = endpoint_id;
	c->n_exact++;
	return 0;
}

int st_prefix(struct seg_compiled *c, const char *cidr, uint32_t identity)
{
	struct seg_ipc_prefix_entry *e;
	struct segd_addr a;
	char buf[64];
	char *slash;
	int plen;

	if (strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	plen = atoi(slash + 1);
	if (st_addr(buf, &a))
		return -EINVAL;
	if (strchr(buf, '.'))
		plen += 96;
	if (grow((void **)&c->prefixes, c->n_prefixes, sizeof(*e)))
		return -ENOMEM;
	e = &c->prefixes[c->n_prefixes];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = (uint32_t)plen;
	memcpy(e->key.addr, a.b, 16);
	e->value.identity = identity;
	c->n_prefixes++;
	return 0;
}

int st_world(struct seg_compiled *c)
{
	int err = st_prefix(c, "0.0.0.0/0", SEGD_ID_WORLD);

	return err ? err : st_prefix(c, "::/0", SEGD_ID_WORLD_V6);
}

int st_rule(struct seg_compiled *c, uint32_t local_id, uint32_t remote_id,
	    int dir, uint8_t proto, int port_kind, uint16_t port,
	    int verdict, uint32_t rule_id)
{
	struct seg_policy_entry *e;

	if (grow((void **)&c->entries, c->n_entries, sizeof(*e)))
		return -ENOMEM;
	e = &c->entries[c->n_entries];
	memset(e, 0, sizeof(*e));
	e->key.local_id = local_id;
	e->key.remote_id = remote_id;
	e->key.dir = (uint8_t)dir;
	e->key.proto = proto;
	e->key.port_kind = (uint8_t)port_kind;
	e->key.port = port;
	e->value.verdict = (uint8_t)verdict;
	e->value.rule_id = rule_id;
	c->n_entries++;
	return 0;
}
