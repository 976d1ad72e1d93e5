/* flow_names.c - names for the parts of a flow (flow_names.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow_names.h"
#include "flow_record.h"
#include "name_index.h"

static int addr_cmp(const void *key, const void *entry)
{
	return memcmp(key, &((const struct seg_ipc_exact_entry *)entry)->addr,
		      sizeof(struct segd_addr));
}

const struct seg_endpoint *seg_endpoint_by_id(const struct seg_view *v, uint32_t id)
{
	const struct seg_endpoint *ep;

	if (v->index &&
	    seg_name_index_endpoint_id(v->index, v->world, v->compiled, id, &ep) != -ENOMEM)
		return ep;
	for (size_t i = 0; id && i < v->world->n_endpoints; i++)
		if (v->world->endpoints[i].endpoint_id == id)
			return &v->world->endpoints[i];
	return NULL;
}

const struct seg_endpoint *seg_endpoint_by_ifindex(const struct seg_view *v,
						   uint32_t ifindex)
{
	const struct seg_endpoint *ep;

	if (v->index &&
	    seg_name_index_ifindex(v->index, v->world, v->compiled, ifindex, &ep) != -ENOMEM)
		return ep;
	for (size_t i = 0; ifindex && i < v->world->n_endpoints; i++)
		if (v->world->endpoints[i].ifindex == ifindex)
			return &v->world->endpoints[i];
	return NULL;
}

const struct seg_endpoint *seg_endpoint_by_addr(const struct seg_view *v,
						const struct segd_addr *a)
{
	/* the compiled exact ipcache is sorted by address */
	const struct seg_ipc_exact_entry *e = bsearch(a, v->compiled->exact,
						      v->compiled->n_exact,
						      sizeof(*e), addr_cmp);

	return e ? seg_endpoint_by_id(v, e->value.endpoint_id) : NULL;
}

const struct seg_rule_ref *seg_rule_ref_of(const struct seg_compiled *c,
					   uint32_t rule_id)
{
	/* rule ids count from 1 in table order (fill_rules) */
	if (rule_id && rule_id <= c->n_rules && c->rules[rule_id - 1].rule_id == rule_id)
		return &c->rules[rule_id - 1];
	for (size_t i = 0; rule_id && i < c->n_rules; i++)
		if (c->rules[i].rule_id == rule_id)
			return &c->rules[i];
	return NULL;
}

bool seg_rule_name(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len)
{
	const struct seg_rule_ref *r = seg_rule_ref_of(c, rule_id);

	if (r)
		seg_rule_label(r->kind, r->tier, r->policy_ns, r->policy_name,
			       r->rule_index, buf, len);
	return r != NULL;
}

void seg_rule_text(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		   size_t len)
{
	if (!seg_rule_name(c, rule_id, buf, len))
		snprintf(buf, len, "%s", rule_id ? "?" : "not-enforced");
}

static const struct seg_ipc_prefix_entry *prefix_by_identity(const struct seg_compiled *c,
							     uint32_t id)
{
	for (size_t i = 0; i < c->n_prefixes; i++)
		if (c->prefixes[i].value.identity == id)
			return &c->prefixes[i];
	return NULL;
}

void seg_identity_name(const struct seg_view *v, uint32_t id, char *buf, size_t len)
{
	const struct seg_ipc_prefix_entry *p;

	switch (id) {
	case SEGD_ID_WORLD:
	case SEGD_ID_WORLD_V6:
		snprintf(buf, len, "world");
		return;
	case SEGD_ID_HOST:
		snprintf(buf, len, "host");
		return;
	}
	/* without memory for the index: the scan */
	if (!v->index ||
	    seg_name_index_prefix(v->index, v->world, v->compiled, id, &p) == -ENOMEM)
		p = prefix_by_identity(v->compiled, id);
	if (p) {
		struct seg_cidr c;
		char text[64];

		memcpy(&c.addr, p->key.addr, sizeof(c.addr));
		c.plen = (uint8_t)p->key.prefixlen;
		seg_cidr_format(&c, text, sizeof(text));
		snprintf(buf, len, "cidr:%s", text);
		return;
	}
	snprintf(buf, len, "identity:%u", id);
}

static const char *const verdict_names[] = {
	[SEG_FLOW_FORWARDED] = "forwarded",
	[SEG_FLOW_DROPPED] = "dropped",
	[SEG_FLOW_AUDIT] = "audit",
};

const char *seg_flow_verdict_name(uint8_t v)
{
	return v < sizeof(verdict_names) / sizeof(verdict_names[0]) ?
	       verdict_names[v] : "?";
}

/* What `--verdict` asks for: allow|forwarded, deny|dropped, audit. */
int seg_flow_verdict_parse(const char *s)
{
	if (!strcmp(s, "allow") || !strcmp(s, "forwarded"))
		return SEG_FLOW_FORWARDED;
	if (!strcmp(s, "deny") || !strcmp(s, "dropped"))
		return SEG_FLOW_DROPPED;
	if (!strcmp(s, "audit"))
		return SEG_FLOW_AUDIT;
	return -EINVAL;
}
