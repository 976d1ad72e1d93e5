/* explain.c - would a flow pass, and which policy and rule decide it.
 *
 * Mirrors bpf/lib/pipeline.h for a new flow, per hook whose local address is
 * an endpoint: blocklists on the remote address first, then the identity
 * of the remote (exact ipcache, longest prefix, world) and the fixed probe
 * chain of bpf/lib/policy.h over the compiled policy entries. Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "compiler.h"
#include "explain.h"
#include "flow_names.h"

/* ---- blocklists: the first drop list wins, else an audit list is noted ---- */

struct bl_pick {
	const struct seg_explain_lists *l;
	int drop_plen, audit_plen;
	size_t drop, audit;
};

/* The datapath asks the exact hash, then the longest prefix; a drop list
 * beats an audit list on the same key, and the compiler leaves out audit
 * entries inside a drop prefix: so any drop hit drops, and the list named
 * is the one with the longest entry (first list on a tie). */
static void bl_hit(void *p, size_t i, const struct seg_bl_entry *e, bool excepted)
{
	struct bl_pick *b = p;
	const struct seg_blocklist *l = &b->l->lists[i];

	if (excepted || (b->l->exception && b->l->exception[i]))
		return;
	if (l->action == SEGD_BL_AUDIT) {
		if (e->cidr.plen > b->audit_plen) {
			b->audit_plen = e->cidr.plen;
			b->audit = i;
		}
	} else if (e->cidr.plen > b->drop_plen) {  /* unknown action: drop */
		b->drop_plen = e->cidr.plen;
		b->drop = i;
	}
}

static void bl_check(const struct seg_explain_lists *l, struct seg_explain_half *h)
{
	struct bl_pick b = { .l = l, .drop_plen = -1, .audit_plen = -1 };

	if (!l || !l->n_lists)
		return;
	seg_blocklists_test(l->lists, l->n_lists, l->exceptions, l->n_exceptions,
			    &h->remote, bl_hit, &b);
	if (b.drop_plen >= 0)
		snprintf(h->list, sizeof(h->list), "%s", l->lists[b.drop].name);
	else if (b.audit_plen >= 0)
		snprintf(h->audit_list, sizeof(h->audit_list), "%s", l->lists[b.audit].name);
}

bool seg_explain_blocklist(const struct seg_explain_lists *l, const struct in6_addr *remote,
			   char *list, size_t len)
{
	struct seg_explain_half h = { .remote = *remote };

	bl_check(l, &h);
	snprintf(list, len, "%s", h.list);
	return h.list[0] != '\0';
}

static void decide(const struct seg_compiled *c, const struct seg_explain_lists *l,
		   struct seg_explain_half *h, uint8_t proto, uint16_t port)
{
	const struct seg_policy_entry *e;

	bl_check(l, h);
	if (h->list[0]) {
		h->verdict = SEG_EXPLAIN_DENY;
		h->why = SEG_WHY_BLOCKLISTED;
		snprintf(h->rule, sizeof(h->rule), "blocklisted by %s", h->list);
		return;
	}
	h->remote_id = seg_compiled_identity_of(c, &h->remote);
	if (!(h->lflags & SEGD_EPF_ENFORCE(h->dir))) {
		h->verdict = SEG_EXPLAIN_ALLOW;
		h->why = SEG_WHY_NOT_ENFORCED;
		snprintf(h->rule, sizeof(h->rule), "not enforced");
	} else if ((e = seg_compiled_chain(c, h->local_id, h->lflags, h->remote_id,
					   h->dir, proto, port, &h->key, &h->probe))) {
		h->why = SEG_WHY_RULE;
		h->rule_id = e->value.rule_id;
		/* DENY, or a corrupt NONE entry: the datapath fails closed */
		h->verdict = e->value.verdict != SEGD_VERDICT_ALLOW ? SEG_EXPLAIN_DENY :
			     e->value.flags & SEGD_POLF_AUDIT ? SEG_EXPLAIN_AUDIT :
			     SEG_EXPLAIN_ALLOW;
		h->polf = e->value.flags;
		if (h->rule_id)
			seg_rule_text(c, h->rule_id, h->rule, sizeof(h->rule));
		else    /* an entry of a tier's default (compiler_tiers.c) */
			snprintf(h->rule, sizeof(h->rule), "default %s",
				 h->verdict == SEG_EXPLAIN_DENY ? "deny" : "allow");
	} else {
		h->verdict = SEG_EXPLAIN_DENY;
		h->why = SEG_WHY_DEFAULT_DENY;
		snprintf(h->rule, sizeof(h->rule), "default deny");
	}
	if (h->audit_list[0] && h->verdict == SEG_EXPLAIN_ALLOW)
		h->verdict = SEG_EXPLAIN_AUDIT;   /* passes, counted on the list */
}

static int cmp_exact(const void *key, const void *elem)
{
	return memcmp(key, &((const struct seg_ipc_exact_entry *)elem)->addr, 16);
}

void seg_explain_flow(const struct seg_compiled *c,
		      const struct seg_explain_lists *lists,
		      const struct in6_addr *src, const struct in6_addr *dst,
		      uint8_t proto, uint16_t port, struct seg_explain *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = SEG_EXPLAIN_ALLOW;
	for (int dir = 0; dir < 2; dir++) {
		struct seg_explain_half *h = &out->half[dir];
		const struct seg_ipc_exact_entry *e;

		h->dir = dir;
		h->local = dir == SEGD_DIR_EGRESS ? *src : *dst;
		h->remote = dir == SEGD_DIR_EGRESS ? *dst : *src;
		e = c->n_exact ? bsearch(&h->local, c->exact, c->n_exact,
					 sizeof(*c->exact), cmp_exact) : NULL;
		if (!e || !(e->value.flags & SEGD_EPF_LOCAL)) {
			/* no tc hook sees it; the uplink's XDP passes it too */
			h->why = SEG_WHY_NO_HOOK;
			h->local_id = seg_compiled_identity_of(c, &h->local);
			snprintf(h->rule, sizeof(h->rule), "no local endpoint");
			continue;
		}
		h->local_id = e->value.identity;
		h->lflags = e->value.flags;
		decide(c, lists, h, proto, port);
		if (h->verdict > out->verdict)
			out->verdict = h->verdict;
	}
}

void seg_explain_flow_tiers(const struct seg_world *world, uint8_t proto,
			    uint16_t port, struct seg_explain *x)
{
	for (int dir = 0; dir < 2; dir++) {
		struct seg_explain_half *h = &x->half[dir];
		struct seg_error err = { 0 };

		h->traced = false;
		if (h->why != SEG_WHY_RULE && h->why != SEG_WHY_DEFAULT_DENY &&
		    h->why != SEG_WHY_NOT_ENFORCED)
			continue;
		/* an audit verdict: name what the audit-mode policy would do */
		h->traced = !seg_explain_tiers(world, h->local_id, h->remote_id, dir,
					       proto, port, h->polf & SEGD_POLF_AUDIT,
					       h->why == SEG_WHY_RULE ? h->rule_id : 0,
					       &h->trace, &err);
	}
}

/* ---- names and parsing ---------------------------------------------------------- */

const char *seg_explain_verdict_name(enum seg_explain_verdict v)
{
	return v == SEG_EXPLAIN_DENY ? "deny" : v == SEG_EXPLAIN_AUDIT ? "audit" : "allow";
}

const char *seg_explain_why_name(enum seg_explain_why w)
{
	switch (w) {
	case SEG_WHY_RULE: return "rule";
	case SEG_WHY_DEFAULT_DENY: return "default-deny";
	case SEG_WHY_NOT_ENFORCED: return "not-enforced";
	case SEG_WHY_BLOCKLISTED: return "blocklisted";
	case SEG_WHY_NO_HOOK: return "no-local-endpoint";
	}
	return "?";
}

const char *seg_explain_port_kind_name(const struct segd_policy_key *k)
{
	if (k->port_kind == SEGD_PORT_EXACT)
		return "exact";
	if (k->port_kind == SEGD_PORT_BLOCK)
		return "block";
	return k->proto ? "any-port" : "any-proto";
}
