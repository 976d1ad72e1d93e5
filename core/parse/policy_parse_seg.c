/* policy_parse_seg.c - segd.io/v1 SegmentPolicy spec (docs/policy.md):
 *
 *   spec:
 *     segments:   {NAME: {selector: S, namespaceSelector: NS}}
 *     appliesTo:  {segment: NAME} | {selector: S, namespaceSelector: NS}
 *     ingress:    [rule]     key present = ingress enforced (default deny)
 *     egress:     [rule]     key present = egress enforced
 *     mode:       enforce | audit   (audit: bool, the older spelling)
 *   rule:  {name, action: allow|deny, from|to: [peer], ports: [port]}
 *   peer:  {segment} | {selector, namespaceSelector} | {cidr, except}
 *          | {entity: world|host|all}
 *
 * Stricter than NetworkPolicy where Kubernetes is surprising: an empty
 * from/to/ports list is an error instead of "everything".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_parse_int.h"
#include "segd_abi.h"

struct segctx {
	const struct pp *c;
	yaml_node_t *segs;       /* spec.segments or NULL */
};

/* selector / namespaceSelector of mapping n (keys already checked). A
 * present namespaceSelector must be a mapping; {} = every namespace. */
static int sel_pair(const struct pp *c, yaml_node_t *n, struct seg_selector *pods,
		    bool *has_ns, struct seg_selector *ns)
{
	yaml_node_t *s = pp_get(c, n, "selector");
	yaml_node_t *nss = pp_get(c, n, "namespaceSelector");
	int ret;

	if (s && (ret = pp_want_map(c, s, "selector (use {} for every "
				    "endpoint)")))
		return ret;
	if (nss && (ret = pp_want_map(c, nss, "namespaceSelector (use {} "
				      "for every namespace)")))
		return ret;
	ret = pp_selector(c, s, "selector", pods);
	if (ret)
		return ret;
	*has_ns = nss != NULL;
	return nss ? pp_selector(c, nss, "namespaceSelector", ns) : 0;
}

static int segment_def(const struct pp *c, yaml_node_t *def,
		       struct seg_selector *pods, bool *has_ns,
		       struct seg_selector *ns)
{
	static const char *const keys[] = { "selector", "namespaceSelector",
					    NULL };
	int ret = pp_keys(c, def, "segment", keys);

	if (ret)
		return ret;
	if (!pp_get(c, def, "selector") && !pp_get(c, def, "namespaceSelector"))
		return pp_err(c, def, "segment needs 'selector' and/or "
			      "'namespaceSelector'; use selector: {} for every "
			      "endpoint");
	return sel_pair(c, def, pods, has_ns, ns);
}

static int check_segments(const struct segctx *x)
{
	const struct pp *c = x->c;
	yaml_node_t *m = x->segs;
	int ret;

	if (!m)
		return 0;
	ret = pp_want_map(c, m, "spec.segments");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     !ret && p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yu_node(c->doc, p->key);
		struct seg_selector a = { 0 }, b = { 0 };
		const char *name, *why;
		bool has_ns;

		ret = pp_want_str(c, k, "segment name", &name);
		if (ret)
			break;
		why = *name ? seg_label_value_problem(name, strlen(name)) : "must not be empty";
		if (why)
			return pp_err(c, k, "invalid segment name '%s': %s",
				      Q(name), why);
		for (yaml_node_pair_t *o = m->data.mapping.pairs.start; o < p; o++)
			if (!strcmp(yu_scalar(yu_node(c->doc, o->key)), name))
				return pp_err(c, k, "segment '%s' is defined "
					      "twice; keep one", Q(name));
		ret = segment_def(c, yu_node(c->doc, p->value), &a, &has_ns, &b);
		seg_selector_free(&a);
		seg_selector_free(&b);
	}
	return ret;
}

/* The definition of the segment named by scalar node ref. */
static int find_segment(const struct segctx *x, yaml_node_t *ref,
			yaml_node_t **def)
{
	const struct pp *c = x->c;
	const char *name, *best = NULL;
	unsigned best_d = 9;
	int ret = pp_want_str(c, ref, "segment", &name);

	if (ret)
		return ret;
	if (x->segs) {
		for (yaml_node_pair_t *p = x->segs->data.mapping.pairs.start;
		     p < x->segs->data.mapping.pairs.top; p++) {
			const char *k = yu_scalar(yu_node(c->doc, p->key));
			unsigned d = pp_edit_distance(name, k);

			if (!strcmp(k, name)) {
				*def = yu_node(c->doc, p->value);
				return 0;
			}
			if (d < best_d && pp_close(name, k)) {
				best_d = d;
				best = k;
			}
		}
	}
	if (best)
		return pp_err(c, ref, "undefined segment '%s'; did you mean "
			      "'%s'?", Q(name), Q(best));
	return pp_err(c, ref, "undefined segment '%s'; define it under "
		      "spec.segments", Q(name));
}

static int applies_to(const struct segctx *x, yaml_node_t *n,
		      struct seg_policy *p)
{
	static const char *const keys[] = { "segment", "selector",
					    "namespaceSelector", NULL };
	const struct pp *c = x->c;
	yaml_node_t *seg, *def;
	int ret;

	if (!n || yu_is_null(n))
		return 0; /* every endpoint of the namespace */
	ret = pp_keys(c, n, "appliesTo", keys);
	if (ret)
		return ret;
	seg = pp_get(c, n, "segment");
	if (seg && (pp_get(c, n, "selector") ||
		    pp_get(c, n, "namespaceSelector")))
		return pp_err(c, n, "appliesTo takes either 'segment' or "
			      "'selector'/'namespaceSelector', not both");
	if (seg) {
		ret = find_segment(x, seg, &def);
		if (ret)
			return ret;
		return sel_pair(c, def, &p->subject, &p->has_subject_ns,
				&p->subject_namespaces);
	}
	if (!pp_get(c, n, "selector") && !pp_get(c, n, "namespaceSelector"))
		return pp_err(c, n, "appliesTo needs 'segment' or 'selector'; "
			      "omit appliesTo to select every endpoint in the "
			      "namespace");
	return sel_pair(c, n, &p->subject, &p->has_subject_ns,
			&p->subject_namespaces);
}

static int seg_peer(const struct segctx *x, yaml_node_t *n, struct seg_peer *p)
{
	static const char *const keys[] = { "segment", "selector",
		"namespaceSelector", "cidr", "except", "entity", NULL };
	static const char *const ents[] = { "world", "host", "all", NULL };
	static const enum seg_peer_kind ent_kinds[] = {
		SEG_PEER_WORLD, SEG_PEER_HOST, SEG_PEER_ALL,
	};
	const struct pp *c = x->c;
	yaml_node_t *seg, *cidr, *ent, *def;
	bool sel;
	size_t i;
	int ret, kinds;

	memset(p, 0, sizeof(*p));
	if (yu_is_null(n))
		return pp_err(c, n, "empty peer; a peer needs one of segment, "
			      "selector, namespaceSelector, cidr or entity");
	ret = pp_keys(c, n, "peer", keys);
	if (ret)
		return ret;
	seg = pp_get(c, n, "segment");
	cidr = pp_get(c, n, "cidr");
	ent = pp_get(c, n, "entity");
	sel = pp_get(c, n, "selector") || pp_get(c, n, "namespaceSelector");
	kinds = !!seg + !!cidr + !!ent + sel;
	if (pp_get(c, n, "except") && !cidr)
		return pp_err(c, pp_key_node(c, n, "except"), "'except' only "
			      "goes with 'cidr'");
	if (kinds != 1)
		return pp_err(c, n, "%s; a peer is one of {segment}, {selector, "
			      "namespaceSelector}, {cidr, except} or {entity} "
			      "- list several peers as separate '-' items",
			      kinds ? "a peer takes only one kind" : "empty peer");
	if (cidr)
		return pp_cidr_peer(c, cidr, pp_get(c, n, "except"), PP_SEG, p);
	if (ent) {
		ret = pp_choice(c, ent, "entity", ents, true,
				"world, host or all", &i);
		if (!ret)
			p->kind = ent_kinds[i];
		return ret;
	}
	p->kind = SEG_PEER_ENDPOINTS;
	if (seg) {
		ret = find_segment(x, seg, &def);
		if (ret)
			return ret;
		n = def;
	}
	return sel_pair(c, n, &p->pods, &p->has_namespaces, &p->namespaces);
}

static int seg_rule(const struct segctx *x, yaml_node_t *n, int dir,
		    struct seg_rule *r)
{
	const struct pp *c = x->c;
	const char *pk = dir == SEGD_DIR_INGRESS ? "from" : "to", *s = "";
	yaml_node_t *v, *peers;
	size_t np;
	int ret;

	r->action = SEG_ACTION_ALLOW;
	if ((ret = pp_rule_start(c, n, dir, "ports", r)))
		return ret;
	if (yu_is_null(n))
		return pp_err(c, n, "empty rule; write {} for a rule that "
			      "matches every peer and port");
	v = pp_get(c, n, "name");
	if (v && (ret = pp_want_str(c, v, "rule name", &s)))
		return ret;
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q < 0x20 || q - s >= 128)
			return pp_err(c, v, "rule name must be at most 128 "
				      "printable characters");
	if (!(r->name = strdup(s)))
		return pp_nomem(c);
	v = pp_get(c, n, "action");
	if (v) {
		ret = pp_want_str(c, v, "action", &s);
		if (ret)
			return ret;
		if (!strcasecmp(s, "deny"))
			r->action = SEG_ACTION_DENY;
		else if (strcasecmp(s, "allow"))
			return pp_err(c, v, "unknown action '%s'; use allow or "
				      "deny", Q(s));
	}
	peers = pp_get(c, n, pk);
	if (!peers) {
		r->all_peers = true;
	} else {
		if (yu_is_null(peers) || (yu_is_seq(peers) && !yu_seq_len(peers)))
			return pp_err(c, peers, "'%s' is empty; omit '%s' to "
				      "match every peer, or list peers", pk, pk);
		ret = pp_want_seq(c, peers, pk);
		if (ret)
			return ret;
		np = yu_seq_len(peers);
		if (!(r->peers = pp_calloc(np, sizeof(*r->peers))))
			return pp_nomem(c);
		for (size_t i = 0; i < np; i++) {
			r->n_peers++;
			ret = seg_peer(x, yu_seq_at(c->doc, peers, i), &r->peers[i]);
			if (ret)
				return ret;
		}
	}
	return pp_ports(c, pp_get(c, n, "ports"), PP_SEG, r);
}

/* spec.mode (enforce | audit); spec.audit (bool) is its older spelling.
 * Where the annotation segd.io/mode says it too, they must agree. */
static int seg_mode(const struct pp *c, yaml_node_t *spec, struct seg_policy *p)
{
	yaml_node_t *m = pp_get(c, spec, "mode"), *a = pp_get(c, spec, "audit");
	enum seg_policy_mode mode = p->audit ? SEG_MODE_AUDIT : SEG_MODE_ENFORCE;
	const char *s;
	bool audit;
	int ret;

	if (m) {
		if ((ret = pp_want_str(c, m, "spec.mode", &s)))
			return ret;
		if (seg_policy_mode_parse(s, &mode))
			return pp_err(c, m, "mode must be enforce or audit, not "
				      "'%s'", Q(s));
		if (c->mode_note && (mode == SEG_MODE_AUDIT) != p->audit)
			return pp_err(c, m, "spec.mode %s contradicts the "
				      "annotation " PP_MODE_ANNOTATION " (line "
				      "%d); keep one of them",
				      seg_policy_mode_name(mode),
				      yu_line(c->mode_note));
	}
	if (a) {
		if (yu_bool(a, &audit))
			return pp_err(c, a, "audit must be true or false");
		if ((m || c->mode_note) && audit != (mode == SEG_MODE_AUDIT))
			return pp_err(c, a, "audit: %s contradicts mode %s; "
				      "write only mode: enforce|audit",
				      audit ? "true" : "false",
				      seg_policy_mode_name(mode));
		if (audit)
			mode = SEG_MODE_AUDIT;
	}
	p->audit = mode == SEG_MODE_AUDIT;
	return 0;
}

int pp_seg_spec(const struct pp *c, yaml_node_t *spec, struct seg_policy *p)
{
	static const char *const keys[] = { "segments", "appliesTo", "ingress",
					    "egress", "mode", "audit", NULL };
	static const char *const dname[2] = { "ingress", "egress" };
	struct segctx x = { .c = c };
	yaml_node_t *lists[2];
	int ret;

	ret = pp_keys(c, spec, "SegmentPolicy spec", keys);
	if (ret)
		return ret;
	x.segs = pp_get(c, spec, "segments");
	if (x.segs && yu_is_null(x.segs))
		x.segs = NULL;
	ret = check_segments(&x);
	if (ret)
		return ret;
	ret = applies_to(&x, pp_get(c, spec, "appliesTo"), p);
	if (ret)
		return ret;
	ret = seg_mode(c, spec, p);
	if (ret)
		return ret;
	for (int d = 0; d < 2; d++) {
		lists[d] = pp_get(c, spec, dname[d]);
		p->enforce[d] = pp_key_node(c, spec, dname[d]) != NULL;
		if (lists[d] && !yu_is_null(lists[d]) &&
		    (ret = pp_want_seq(c, lists[d], dname[d])))
			return ret;
	}
	p->rules = pp_calloc(yu_seq_len(lists[0]) + yu_seq_len(lists[1]),
			     sizeof(*p->rules));
	if (!p->rules)
		return pp_nomem(c);
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < yu_seq_len(lists[d]); i++) {
			p->n_rules++;
			ret = seg_rule(&x, yu_seq_at(c->doc, lists[d], i), d,
				       &p->rules[p->n_rules - 1]);
			if (ret)
				return ret;
		}
	}
	return 0;
}
