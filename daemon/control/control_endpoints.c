/* control_endpoints.c - the handlers of namespaces, endpoints and
 * attach: namespace.set, endpoint.add, endpoint.del, attach. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control_int.h"
#include "log.h"
#include "yaml_util.h"

const char *segd_ns_on_detect_name(const struct seg_namespace *ns)
{
	return ns->on_detect_set ? seg_detect_action_name(ns->on_detect) : "default";
}

int segd_h_namespace_set(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *name, *text = segd_arg_str(r, "labels");
	const char *stratum = segd_arg_str(r, "stratum");
	const char *pmode = segd_arg_str(r, "mode");
	const char *on_detect = segd_arg_str(r, "on-detect");
	enum seg_detect_action detect_action = SEG_DETECT_ALERT;
	enum seg_stratum_mode mode = SEG_STRATUM_DROP;
	enum seg_policy_mode policy_mode = SEG_MODE_ENFORCE;
	struct seg_labels labels = { 0 };
	struct seg_namespace saved = { 0 }, *ns;
	struct seg_compiled c;
	struct seg_world w;
	bool existed;
	int ret;

	if ((ret = segd_arg_need(r, "name", &name)))
		return ret;
	if (text && (ret = seg_labels_parse(text, &labels, r->err)))
		return ret;
	if (stratum && seg_stratum_mode_parse(stratum, &mode))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "--stratum takes drop, audit or off, not '%s'", stratum);
	if (pmode && seg_policy_mode_parse(pmode, &policy_mode))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "--mode takes enforce or audit, not '%s'", pmode);
	/* "default": back to the config's per-kind actions */
	if (on_detect && strcmp(on_detect, "default") &&
	    seg_detect_action_parse(on_detect, true, &detect_action))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--on-detect takes alert, "
				  "quarantine, off or default, not '%s'", on_detect);
	/* keep the old settings to restore if the new ones do not compile */
	ns = seg_state_find_ns(&d->state, name);
	existed = ns != NULL;
	if (existed && (ret = seg_labels_copy(&saved.labels, &ns->labels)))
		goto out;
	saved.stratum = existed ? ns->stratum : SEG_STRATUM_DROP;
	saved.mode = existed ? ns->mode : SEG_MODE_ENFORCE;
	saved.on_detect = existed ? ns->on_detect : SEG_DETECT_ALERT;
	saved.on_detect_set = existed && ns->on_detect_set;
	if ((ret = seg_state_set_ns(&d->state, name, text ? &labels : NULL)))
		goto out;
	ns = seg_state_find_ns(&d->state, name);
	if (stratum)
		ns->stratum = mode;
	if (pmode)
		ns->mode = policy_mode;
	if (on_detect) {
		ns->on_detect = detect_action;
		ns->on_detect_set = strcmp(on_detect, "default") != 0;
	}
	w = segd_candidate_of(d);
	ret = segd_compile_and_enforce(d, &w, false, &c, r->err, NULL);
	if (ret) {
		if (existed) {
			seg_state_set_ns(&d->state, name, &saved.labels);
			ns = seg_state_find_ns(&d->state, name);
			ns->stratum = saved.stratum;
			ns->mode = saved.mode;
			ns->on_detect = saved.on_detect;
			ns->on_detect_set = saved.on_detect_set;
		}
		/* a namespace that did not exist has no endpoints or policies
		 * yet, so leaving it registered cannot change enforcement */
		goto out;
	}
	segd_install_compiled(d, &c);
	ret = segd_persist_main(d, r->err);
	yu_set_str(out, res, "namespace", name);
	yu_set_str(out, res, "action", existed ? "configured" : "created");
	yu_set_str(out, res, "stratum", seg_stratum_mode_name(ns->stratum));
	yu_set_str(out, res, "mode", seg_policy_mode_name(ns->mode));
	yu_set_str(out, res, "on_detect", segd_ns_on_detect_name(ns));
out:
	seg_labels_free(&labels);
	seg_labels_free(&saved.labels);
	return ret;
}

/* --port NAME=NUMBER[/PROTO]... */
static int parse_ports(struct segd_req *r, struct seg_endpoint *ep)
{
	yaml_node_t *ports = yu_map_get(r->doc, r->args, "ports");

	for (size_t i = 0; i < yu_seq_len(ports); i++) {
		const char *t = yu_scalar(yu_seq_at(r->doc, ports, i)), *why;
		struct seg_named_port np;
		int ret;

		if (!t || seg_named_port_parse(t, &np, &why))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "--port '%s': %s", t ? t : "?",
					  t ? why : "expected NAME=NUMBER[/PROTO]");
		ret = seg_endpoint_add_port(ep, &np);
		if (ret == -EEXIST)
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "--port '%s': the endpoint already has a "
					  "port named %s; port names are unique "
					  "per endpoint", t, np.name);
		if (ret)
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "at most %d named ports per endpoint",
					  SEG_MAX_EP_PORTS);
	}
	return 0;
}

static int parse_endpoint(struct segd_req *r, struct seg_endpoint *ep)
{
	const char *name, *ifname = "", *labels = segd_arg_str(r, "labels");
	yaml_node_t *ips = yu_map_get(r->doc, r->args, "ips");
	int ret;

	ep->remote = segd_arg_bool(r, "remote");
	if ((ret = segd_arg_need(r, "name", &name)) ||
	    (!ep->remote && (ret = segd_arg_need(r, "ifname", &ifname))))
		return ret;
	if (ep->remote && segd_arg_str(r, "ifname"))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "a remote endpoint has no interface on this node; "
				  "give --ifname or --remote, not both");
	if (strlen(ifname) >= sizeof(ep->ifname))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "interface name '%s' is longer than %zu characters",
				  ifname, sizeof(ep->ifname) - 1);
	if (yu_seq_len(ips) == 0)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "an endpoint needs at least one --ip");
	if (yu_seq_len(ips) > SEG_MAX_EP_IPS)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "at most %d addresses per endpoint", SEG_MAX_EP_IPS);
	ep->name = strdup(name);
	ep->ns = strdup(segd_arg_ns(r));
	if (!ep->name || !ep->ns)
		return -ENOMEM;
	snprintf(ep->ifname, sizeof(ep->ifname), "%s", ifname);
	for (size_t i = 0; i < yu_seq_len(ips); i++) {
		const char *a = yu_scalar(yu_seq_at(r->doc, ips, i));

		if (!a || seg_addr_parse(a, &ep->ips[ep->n_ips]))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "'%s' is not an IPv4 or IPv6 address",
					  a ? a : "?");
		ep->n_ips++;
	}
	if (labels && (ret = seg_labels_parse(labels, &ep->labels, r->err)))
		return ret;
	if ((ret = parse_ports(r, ep)))
		return ret;
	return 0;
}

int segd_h_endpoint_add(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct segd_register_counts counts;
	struct seg_endpoint ep = { 0 }, *cur;
	char *ns = NULL, *name = NULL;
	int ret;

	if ((ret = parse_endpoint(r, &ep)))
		goto out;
	/* the state takes ep's contents */
	ns = strdup(ep.ns);
	name = strdup(ep.name);
	if (!ns || !name) {
		ret = -ENOMEM;
		goto out;
	}
	ret = segd_endpoints_register(d, &ep, 1, &counts, r->err);
	cur = seg_state_find_ep(&d->state, ns, name);
	if (!cur) /* refused: nothing registered under the name */
		goto out;
	yu_set_str(out, res, "endpoint", cur->name);
	yu_set_str(out, res, "namespace", cur->ns);
	yu_set_uint(out, res, "id", cur->endpoint_id);
	yu_set_uint(out, res, "identity",
		    cur->n_ips ? seg_compiled_identity_of(&d->compiled, &cur->ips[0]) : 0);
	yu_set_str(out, res, "interface", cur->ifname);
	yu_set_bool(out, res, "attached", cur->ifindex != 0);
	yu_set_bool(out, res, "remote", cur->remote);
out:
	free(ns);
	free(name);
	seg_endpoint_free(&ep);
	return ret;
}

int segd_h_endpoint_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *name, *ns = segd_arg_ns(r);
	struct seg_endpoint *e, *arr;
	struct seg_compiled c;
	struct seg_world w;
	uint32_t ifindex;
	size_t n, idx;
	int ret;

	if ((ret = segd_arg_need(r, "name", &name)))
		return ret;
	e = seg_state_find_ep(&d->state, ns, name);
	if (!e)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT,
				  "endpoint %s/%s not found; see `segctl get endpoints`",
				  ns, name);
	n = d->state.world.n_endpoints;
	idx = (size_t)(e - d->state.world.endpoints);
	arr = calloc(n, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	memcpy(arr, d->state.world.endpoints, n * sizeof(*arr));
	arr[idx] = arr[n - 1];
	w = segd_candidate_of(d);
	w.endpoints = arr;
	w.n_endpoints = n - 1;
	ret = segd_compile_and_enforce(d, &w, false, &c, r->err, NULL);
	free(arr);
	if (ret)
		return ret;
	segd_install_compiled(d, &c);
	ifindex = e->ifindex;
	seg_state_del_ep(&d->state, ns, name);
	/* its interface no longer belongs to an endpoint: take our programs
	 * off it (the maps no longer list its addresses either way) */
	if (d->dp && ifindex)
		seg_dp_detach_endpoint(d->dp, ifindex);
	ret = segd_persist_main(d, r->err);
	yu_set_str(out, res, "endpoint", name);
	yu_set_str(out, res, "namespace", ns);
	yu_set_str(out, res, "action", "deleted");
	return ret;
}

int segd_h_attach(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *ifname, *role, *hook;
	unsigned int idx;
	int ret;

	if ((ret = segd_arg_need(r, "ifname", &ifname)) || (ret = segd_arg_need(r, "role", &role)))
		return ret;
	if (strcmp(role, "uplink"))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "unknown role '%s'; the only role is 'uplink' "
				  "(endpoint interfaces attach with `endpoint add`)", role);
	idx = if_nametoindex(ifname);
	if (!idx)
		return seg_errorf(r->err, NULL, 0, 0, -ENODEV,
				  "no interface '%s' in segd's network namespace",
				  ifname);
	if ((ret = segd_attach_uplink(d, ifname, idx, r->err)))
		return ret;
	if ((ret = seg_state_add_uplink(&d->state, ifname)))
		return seg_errorf(r->err, NULL, 0, 0, ret, "too many uplinks");
	ret = segd_persist_main(d, r->err);
	yu_set_str(out, res, "interface", ifname);
	yu_set_str(out, res, "role", "uplink");
	yu_set_uint(out, res, "ifindex", idx);
	/* auto picks the hook per driver: say which one holds the program */
	hook = seg_dp_uplink_hook_name(d->dp, idx);
	yu_set_str(out, res, "hook", hook ? hook : "none");
	return ret;
}
