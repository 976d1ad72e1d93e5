/* control.c - request dispatch and the handlers that change state.
 *
 * Every change follows one path: build a candidate world that shares the
 * unchanged members of the current one, compile it, make the kernel enforce
 * it, and only then commit it to the desired state and the state dir. Any
 * failure before the commit leaves everything as it was.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "segd.h"
#include "control_blocklist.h"
#include "control_explain.h"
#include "control_int.h"
#include "control_report.h"
#include "control_flows.h"
#include "log.h"
#include "policy_parse.h"
#include "yaml_util.h"
#include "link_event.h"

/* ---- shared steps ---------------------------------------------------------- */

double segd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct seg_world segd_candidate_of(struct segd *d)
{
	struct seg_world w = d->state.world;

	w.host_ips = d->cfg.node_addrs;
	w.n_host_ips = d->cfg.n_node_addrs;
	w.cidr_match = d->cfg.cidr_match;
	return w;
}

/* Compile `w` and, unless dry, make the kernel enforce it. On success the
 * new compilation is in *out (the caller installs or frees it). */
int segd_compile_and_enforce(struct segd *d, const struct seg_world *w, bool dry,
			     struct seg_compiled *out, struct seg_error *err,
			     struct segd_phase_times *t)
{
	double t0 = segd_now_ms();
	int ret;

	memset(out, 0, sizeof(*out));
	ret = seg_compile_cached(w, d->compile_cache, out, err);
	if (t)
		t->compile = segd_now_ms() - t0;
	if (ret)
		return ret;
	if (dry || !d->dp)
		return 0;
	t0 = segd_now_ms();
	ret = seg_dp_apply(d->dp, out);
	if (t)
		t->kernel = segd_now_ms() - t0;
	if (ret) {
		seg_compiled_free(out);
		return seg_errorf(err, NULL, 0, 0, ret,
				  "the kernel refused the new maps (%s); nothing "
				  "changed; check `segctl status` and segd's log",
				  strerror(-ret));
	}
	return 0;
}

void segd_install_compiled(struct segd *d, struct seg_compiled *c)
{
	seg_compiled_free(&d->compiled);
	d->compiled = *c;
	memset(c, 0, sizeof(*c));
}

/* Persist after a commit. The kernel already enforces the new state; a
 * failed write is reported but not rolled back (the next change retries
 * everything: d->dirty). */
static int persist_result(struct segd *d, int ret, struct seg_error *err)
{
	d->dirty = ret != 0;
	if (ret)
		return seg_errorf(err, d->cfg.state_dir, 0, 0, ret,
				  "enforced, but saving state failed (%s); fix the "
				  "state dir or the change is lost on restart",
				  strerror(-ret));
	return 0;
}

int segd_persist_main(struct segd *d, struct seg_error *err)
{
	if (!d->cfg.state_dir)
		return 0;
	if (d->dirty)
		return persist_result(d, seg_state_save(&d->state, d->cfg.state_dir), err);
	return persist_result(d, seg_state_save_main(&d->state, d->cfg.state_dir), err);
}

int segd_persist_policy(struct segd *d, const struct seg_policy *p,
			const char *removed_ns, const char *removed_name,
			struct seg_error *err)
{
	if (!d->cfg.state_dir)
		return 0;
	if (d->dirty)
		return persist_result(d, seg_state_save(&d->state, d->cfg.state_dir), err);
	if (p)
		return persist_result(d, seg_state_save_policy(p, d->cfg.state_dir), err);
	return persist_result(d, seg_state_remove_policy(d->cfg.state_dir, removed_ns,
							 removed_name), err);
}

static int attach_endpoint(struct segd *d, struct seg_endpoint *e,
			   struct seg_error *err)
{
	int ret;

	if (!d->dp || !e->ifindex)
		return 0;
	ret = seg_dp_attach_endpoint(d->dp, e->ifindex);
	if (ret)
		return seg_errorf(err, NULL, 0, 0, ret,
				  "attaching to %s (ifindex %u) failed: %s",
				  e->ifname, e->ifindex, strerror(-ret));
	return 0;
}

int segd_sync_kernel(struct segd *d, struct seg_error *err)
{
	struct seg_world w;
	struct seg_compiled c;
	int ret;

	/* interfaces may have been renumbered across a reboot */
	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		struct seg_endpoint *e = &d->state.world.endpoints[i];

		e->ifindex = e->remote ? 0 : if_nametoindex(e->ifname);
	}
	/* quarantines first: nothing gets attached before they hold */
	ret = segd_quarantine_sync(d, NULL, false, err);
	if (ret)
		return ret;
	w = segd_candidate_of(d);
	ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);
	if (ret)
		return ret;
	segd_install_compiled(d, &c);
	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		ret = attach_endpoint(d, &d->state.world.endpoints[i], err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; d->dp && i < d->state.n_uplinks; i++) {
		unsigned int idx = if_nametoindex(d->state.uplinks[i]);

		if (!idx)
			continue; /* reported by status; may come back later */
		ret = seg_dp_attach_uplink(d->dp, idx);
		if (ret)
			return seg_errorf(err, NULL, 0, 0, ret,
					  "attaching XDP to uplink %s failed: %s",
					  d->state.uplinks[i], strerror(-ret));
	}
	return 0;
}

/* An interface came, went or was renamed (netlink.c). Programs go on
 * now and the maps learn the ifindex at segd_links_enforce: until then the
 * programs find no local address for the interface and drop (fail closed),
 * so no packet passes unenforced in between, and a burst of interfaces is
 * attached at once and compiled once. */
int segd_link_event(struct segd *d, const struct seg_link_event *ev, unsigned int *what,
		    struct seg_error *err)
{
	bool changed = false;
	int ret = 0;

	*what = 0;
	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		struct seg_endpoint *e = &d->state.world.endpoints[i];
		bool named = !e->remote && !strcmp(e->ifname, ev->ifname);

		if (named)
			*what |= SEGD_LINK_NAMED;
		if (ev->change == SEG_LINK_NEW && named && e->ifindex != ev->ifindex) {
			e->ifindex = ev->ifindex;
			changed = true;
			if (!ret)
				ret = attach_endpoint(d, e, err);
		} else if (e->ifindex == ev->ifindex && ev->ifindex &&
			   (ev->change == SEG_LINK_DEL || !named)) {
			/* gone (the kernel took its filters along) or renamed
			 * away from the endpoint's name */
			if (ev->change == SEG_LINK_NEW && d->dp)
				seg_dp_detach_endpoint(d->dp, e->ifindex);
			e->ifindex = 0;
			changed = true;
		}
	}
	if (changed)
		*what |= SEGD_LINK_CHANGED;
	return ret;
}

int segd_links_enforce(struct segd *d, struct seg_error *err)
{
	struct seg_world w = segd_candidate_of(d);
	struct seg_compiled c;
	int ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);

	if (!ret)
		segd_install_compiled(d, &c);
	return ret;
}

/* Every endpoint's interface looked up by name again: after a lost netlink
 * message (ENOBUFS) or when the watch starts. */
int segd_links_resync(struct segd *d, struct seg_error *err)
{
	unsigned int all = 0;
	int ret = 0;

	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		struct seg_endpoint *e = &d->state.world.endpoints[i];
		struct seg_link_event ev = { .change = SEG_LINK_NEW };
		unsigned int what;
		int r;

		if (e->remote || !e->ifname[0])
			continue;
		ev.ifindex = if_nametoindex(e->ifname);
		snprintf(ev.ifname, sizeof(ev.ifname), "%s", e->ifname);
		if (!ev.ifindex) {
			if (!e->ifindex)
				continue;
			ev.change = SEG_LINK_DEL;
			ev.ifindex = e->ifindex;
		}
		r = segd_link_event(d, &ev, &what, err);
		all |= what;
		if (r && !ret)
			ret = r;
	}
	if (all & SEGD_LINK_CHANGED) {
		int r = segd_links_enforce(d, ret ? NULL : err);

		ret = ret ? ret : r;
	}
	return ret;
}

/* ---- argument access ------------------------------------------------------- */

const char *segd_arg_str(struct segd_req *r, const char *key)
{
	return yu_scalar(yu_map_get(r->doc, r->args, key));
}

bool segd_arg_bool(struct segd_req *r, const char *key)
{
	bool v = false;

	yu_bool(yu_map_get(r->doc, r->args, key), &v);
	return v;
}

const char *segd_arg_ns(struct segd_req *r)
{
	const char *ns = segd_arg_str(r, "namespace");

	return ns && *ns ? ns : "default";
}

int segd_arg_need(struct segd_req *r, const char *key, const char **out)
{
	*out = segd_arg_str(r, key);
	if (!*out || !**out)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "missing argument '%s'", key);
	return 0;
}

/* ---- namespaces and endpoints ------------------------------------------------ */

static int h_namespace_set(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *name, *text = segd_arg_str(r, "labels");
	const char *stratum = segd_arg_str(r, "stratum");
	const char *pmode = segd_arg_str(r, "mode");
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
	/* keep the old settings to restore if the new ones do not compile */
	ns = seg_state_find_ns(&d->state, name);
	existed = ns != NULL;
	if (existed && (ret = seg_labels_copy(&saved.labels, &ns->labels)))
		goto out;
	saved.stratum = existed ? ns->stratum : SEG_STRATUM_DROP;
	saved.mode = existed ? ns->mode : SEG_MODE_ENFORCE;
	if ((ret = seg_state_set_ns(&d->state, name, text ? &labels : NULL)))
		goto out;
	ns = seg_state_find_ns(&d->state, name);
	if (stratum)
		ns->stratum = mode;
	if (pmode)
		ns->mode = policy_mode;
	w = segd_candidate_of(d);
	ret = segd_compile_and_enforce(d, &w, false, &c, r->err, NULL);
	if (ret) {
		if (existed) {
			seg_state_set_ns(&d->state, name, &saved.labels);
			ns = seg_state_find_ns(&d->state, name);
			ns->stratum = saved.stratum;
			ns->mode = saved.mode;
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
	ep->ifindex = ep->remote ? 0 : if_nametoindex(ep->ifname);
	return 0;
}

static int h_endpoint_add(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_endpoint ep = { 0 }, *cur;
	struct seg_endpoint *arr = NULL;
	struct seg_compiled c;
	struct seg_world w;
	size_t n, slot;
	int ret;

	if ((ret = parse_endpoint(r, &ep)))
		goto out;
	if (!seg_state_find_ns(&d->state, ep.ns) &&
	    (ret = seg_state_set_ns(&d->state, ep.ns, NULL)))
		goto out;
	/* candidate endpoint list: the current one with ep added or replaced */
	n = d->state.world.n_endpoints;
	arr = calloc(n + 1, sizeof(*arr));
	if (!arr) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(arr, d->state.world.endpoints, n * sizeof(*arr));
	cur = seg_state_find_ep(&d->state, ep.ns, ep.name);
	slot = cur ? (size_t)(cur - d->state.world.endpoints) : n;
	/* the id the state will keep for it, so the maps carry the same one */
	ep.endpoint_id = cur ? cur->endpoint_id : seg_state_free_endpoint_id(&d->state);
	arr[slot] = ep;
	w = segd_candidate_of(d);
	w.endpoints = arr;
	w.n_endpoints = cur ? n : n + 1;
	/* a quarantined name, address or label set is cut off before the
	 * new registration reaches the kernel */
	ret = segd_quarantine_sync(d, &w, true, r->err);
	if (ret)
		goto out;
	ret = segd_compile_and_enforce(d, &w, false, &c, r->err, NULL);
	if (ret)
		goto out;
	segd_install_compiled(d, &c);
	if ((ret = seg_state_put_ep(&d->state, &ep)))
		goto out;
	cur = seg_state_find_ep(&d->state, arr[slot].ns, arr[slot].name);
	ret = attach_endpoint(d, cur, r->err);
	if (!ret)
		ret = segd_persist_main(d, r->err);
	yu_set_str(out, res, "endpoint", cur->name);
	yu_set_str(out, res, "namespace", cur->ns);
	yu_set_uint(out, res, "id", cur->endpoint_id);
	yu_set_uint(out, res, "identity",
		    cur->n_ips ? seg_compiled_identity_of(&d->compiled, &cur->ips[0]) : 0);
	yu_set_str(out, res, "interface", cur->ifname);
	yu_set_bool(out, res, "attached", cur->ifindex != 0);
	yu_set_bool(out, res, "remote", cur->remote);
out:
	free(arr);
	seg_endpoint_free(&ep);
	return ret;
}

static int h_endpoint_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
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

static int h_attach(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *ifname, *role;
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
	if (d->dp && (ret = seg_dp_attach_uplink(d->dp, idx)))
		return seg_errorf(r->err, NULL, 0, 0, ret,
				  "attaching XDP to %s failed: %s", ifname,
				  strerror(-ret));
	if ((ret = seg_state_add_uplink(&d->state, ifname)))
		return seg_errorf(r->err, NULL, 0, 0, ret, "too many uplinks");
	ret = segd_persist_main(d, r->err);
	yu_set_str(out, res, "interface", ifname);
	yu_set_str(out, res, "role", "uplink");
	yu_set_uint(out, res, "ifindex", idx);
	return ret;
}

/* ---- dispatch ------------------------------------------------------------------- */

typedef int (*handler_fn)(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

static const struct {
	const char *name;
	handler_fn fn;
} handlers[] = {
	{ "namespace.set", h_namespace_set },
	{ "endpoint.add", h_endpoint_add },
	{ "endpoint.del", h_endpoint_del },
	{ "attach", h_attach },
	{ "apply", segd_h_apply },
	{ "policy.delete", segd_h_policy_delete },
	{ "get", segd_h_get },
	{ "status", segd_h_status },
	{ "flows", segd_h_flows },
	{ "blocklist.load", segd_h_blocklist_load },
	{ "blocklist.list", segd_h_blocklist_list },
	{ "blocklist.show", segd_h_blocklist_show },
	{ "blocklist.del", segd_h_blocklist_del },
	{ "blocklist.test", segd_h_blocklist_test },
	{ "explain", segd_h_explain },
	{ "graph", segd_h_graph },
	{ "quarantine", segd_h_quarantine },
	{ "release", segd_h_release },
};

/* Endpoints and namespaces may have changed what a quarantine covers
 * (a name re-registered, new labels): drop what no longer matches. A
 * no-op diff when nothing changed. */
static void sync_quarantines_after(struct segd *d)
{
	struct seg_error err = { 0 };
	char msg[1024];

	if (!d->dp || segd_quarantine_sync(d, NULL, false, &err) == 0)
		return;
	seg_error_format(&err, msg, sizeof(msg));
	seg_log(SEG_LOG_ERROR, "quarantine: cannot update the kernel map: %s", msg);
}

int segd_handle(struct segd *d, yaml_document_t *req, const char *payload,
		size_t payload_len, const struct segd_peer *peer,
		yaml_document_t *resp)
{
	struct seg_error err = { 0 };
	struct segd_req r = { .doc = req, .err = &err, .payload = payload,
			      .payload_len = payload_len, .peer = peer };
	yaml_node_t *root = yu_root(req);
	const char *cmd = yu_scalar(yu_map_get(req, root, "command"));
	int top = yu_doc_init_map(resp), res, ret = -EINVAL, exit_code = 2;
	char msg[1024];

	if (top < 0)
		return top;
	res = yu_add_map(resp);
	r.args = yu_map_get(req, root, "args");
	if (!cmd) {
		seg_errorf(&err, NULL, 0, 0, -EINVAL, "request has no command");
		goto done;
	}
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
		if (strcmp(handlers[i].name, cmd))
			continue;
		ret = handlers[i].fn(d, &r, resp, res);
		exit_code = ret ? 1 : 0;
		if (!ret)
			sync_quarantines_after(d);
		goto done;
	}
	seg_errorf(&err, NULL, 0, 0, -EINVAL,
		   "unknown command '%s'; is segctl newer than segd?", cmd);
done:
	yu_set_bool(resp, top, "ok", ret == 0);
	yu_set_int(resp, top, "exit", exit_code);
	if (ret) {
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg), "%s", strerror(-ret));
		seg_error_format(&err, msg, sizeof(msg));
		yu_set_str(resp, top, "error", msg);
	}
	return yu_set(resp, top, "result", res);
}
