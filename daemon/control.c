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
#include "control.h"
#include "control_report.h"
#include "policy_parse.h"
#include "yaml_util.h"

/* ---- shared steps ---------------------------------------------------------- */

/* Where an apply spends its time, reported back to segctl (and the bench). */
struct phase_times {
	double parse, compile, kernel, report, persist;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct seg_world candidate_of(struct segd *d)
{
	struct seg_world w = d->state.world;

	w.host_ips = d->cfg.node_addrs;
	w.n_host_ips = d->cfg.n_node_addrs;
	return w;
}

/* Compile `w` and, unless dry, make the kernel enforce it. On success the
 * new compilation is in *out (the caller installs or frees it). */
static int compile_and_enforce(struct segd *d, const struct seg_world *w,
			       bool dry, struct seg_compiled *out,
			       struct seg_error *err, struct phase_times *t)
{
	double t0 = now_ms();
	int ret;

	memset(out, 0, sizeof(*out));
	ret = seg_compile(w, out, err);
	if (t)
		t->compile = now_ms() - t0;
	if (ret)
		return ret;
	if (dry || !d->dp)
		return 0;
	t0 = now_ms();
	ret = seg_dp_apply(d->dp, out);
	if (t)
		t->kernel = now_ms() - t0;
	if (ret) {
		seg_compiled_free(out);
		return seg_errorf(err, NULL, 0, 0, ret,
				  "the kernel refused the new maps (%s); nothing "
				  "changed; check `segctl status` and segd's log",
				  strerror(-ret));
	}
	return 0;
}

static void install_compiled(struct segd *d, struct seg_compiled *c)
{
	seg_compiled_free(&d->compiled);
	d->compiled = *c;
	memset(c, 0, sizeof(*c));
}

/* Persist after a commit. The kernel already enforces the new state; a
 * failed write is reported but not rolled back (the next change retries). */
static int persist(struct segd *d, struct seg_error *err)
{
	int ret;

	if (!d->cfg.state_dir)
		return 0;
	ret = seg_state_save(&d->state, d->cfg.state_dir);
	d->dirty = ret != 0;
	if (ret)
		return seg_errorf(err, d->cfg.state_dir, 0, 0, ret,
				  "enforced, but saving state failed (%s); fix the "
				  "state dir or the change is lost on restart",
				  strerror(-ret));
	return 0;
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

		e->ifindex = if_nametoindex(e->ifname);
	}
	w = candidate_of(d);
	ret = compile_and_enforce(d, &w, false, &c, err, NULL);
	if (ret)
		return ret;
	install_compiled(d, &c);
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

/* ---- argument access ------------------------------------------------------- */

const char *segd_arg_str(struct segd_req *r, const char *key)
{
	return yu_scalar(yu_map_get(r->doc, r->args, key));
}

static bool arg_bool(struct segd_req *r, const char *key)
{
	bool v = false;

	yu_bool(yu_map_get(r->doc, r->args, key), &v);
	return v;
}

static const char *arg_ns(struct segd_req *r)
{
	const char *ns = segd_arg_str(r, "namespace");

	return ns && *ns ? ns : "default";
}

static int need(struct segd_req *r, const char *key, const char **out)
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
	struct seg_labels labels = { 0 };
	struct seg_namespace saved = { 0 }, *ns;
	struct seg_compiled c;
	struct seg_world w;
	bool existed;
	int ret;

	if ((ret = need(r, "name", &name)))
		return ret;
	if (text && (ret = seg_labels_parse(text, &labels, r->err)))
		return ret;
	/* keep the old labels to restore if the new ones do not compile */
	ns = seg_state_find_ns(&d->state, name);
	existed = ns != NULL;
	if (existed && (ret = seg_labels_copy(&saved.labels, &ns->labels)))
		goto out;
	if ((ret = seg_state_set_ns(&d->state, name, text ? &labels : NULL)))
		goto out;
	w = candidate_of(d);
	ret = compile_and_enforce(d, &w, false, &c, r->err, NULL);
	if (ret) {
		if (existed)
			seg_state_set_ns(&d->state, name, &saved.labels);
		/* a namespace that did not exist has no endpoints or policies
		 * yet, so leaving it registered cannot change enforcement */
		goto out;
	}
	install_compiled(d, &c);
	ret = persist(d, r->err);
	yu_set_str(out, res, "namespace", name);
	yu_set_str(out, res, "action", existed ? "configured" : "created");
out:
	seg_labels_free(&labels);
	seg_labels_free(&saved.labels);
	return ret;
}

static int parse_endpoint(struct segd_req *r, struct seg_endpoint *ep)
{
	const char *name, *ifname, *labels = segd_arg_str(r, "labels");
	yaml_node_t *ips = yu_map_get(r->doc, r->args, "ips");
	int ret;

	if ((ret = need(r, "name", &name)) || (ret = need(r, "ifname", &ifname)))
		return ret;
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
	ep->ns = strdup(arg_ns(r));
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
	ep->ifindex = if_nametoindex(ep->ifname);
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
	w = candidate_of(d);
	w.endpoints = arr;
	w.n_endpoints = cur ? n : n + 1;
	ret = compile_and_enforce(d, &w, false, &c, r->err, NULL);
	if (ret)
		goto out;
	install_compiled(d, &c);
	if ((ret = seg_state_put_ep(&d->state, &ep)))
		goto out;
	cur = seg_state_find_ep(&d->state, arr[slot].ns, arr[slot].name);
	ret = attach_endpoint(d, cur, r->err);
	if (!ret)
		ret = persist(d, r->err);
	yu_set_str(out, res, "endpoint", cur->name);
	yu_set_str(out, res, "namespace", cur->ns);
	yu_set_uint(out, res, "id", cur->endpoint_id);
	yu_set_uint(out, res, "identity",
		    cur->n_ips ? seg_compiled_identity_of(&d->compiled, &cur->ips[0]) : 0);
	yu_set_str(out, res, "interface", cur->ifname);
	yu_set_bool(out, res, "attached", cur->ifindex != 0);
out:
	free(arr);
	seg_endpoint_free(&ep);
	return ret;
}

static int h_endpoint_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *name, *ns = arg_ns(r);
	struct seg_endpoint *e, *arr;
	struct seg_compiled c;
	struct seg_world w;
	uint32_t ifindex;
	size_t n, idx;
	int ret;

	if ((ret = need(r, "name", &name)))
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
	w = candidate_of(d);
	w.endpoints = arr;
	w.n_endpoints = n - 1;
	ret = compile_and_enforce(d, &w, false, &c, r->err, NULL);
	free(arr);
	if (ret)
		return ret;
	install_compiled(d, &c);
	ifindex = e->ifindex;
	seg_state_del_ep(&d->state, ns, name);
	/* its interface no longer belongs to an endpoint: take our programs
	 * off it (the maps no longer list its addresses either way) */
	if (d->dp && ifindex)
		seg_dp_detach_endpoint(d->dp, ifindex);
	ret = persist(d, r->err);
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

	if ((ret = need(r, "ifname", &ifname)) || (ret = need(r, "role", &role)))
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
	ret = persist(d, r->err);
	yu_set_str(out, res, "interface", ifname);
	yu_set_str(out, res, "role", "uplink");
	yu_set_uint(out, res, "ifindex", idx);
	return ret;
}

/* ---- policies ------------------------------------------------------------------ */

static const char *kind_name(const struct seg_policy *p)
{
	return p->kind == SEG_KIND_K8S ? "networkpolicy.networking.k8s.io"
				       : "segmentpolicy.segd.io";
}

/* Parse every file of the call; any error rejects the whole call. */
static int parse_files(struct segd_req *r, struct seg_policy **out, size_t *n_out)
{
	yaml_node_t *files = yu_map_get(r->doc, r->args, "files");
	const char *ns = segd_arg_str(r, "namespace");
	struct seg_policy *all = NULL;
	size_t n_all = 0;
	int ret = 0;

	if (yu_seq_len(files) == 0)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "no files to apply");
	for (size_t i = 0; i < yu_seq_len(files); i++) {
		yaml_node_t *f = yu_seq_at(r->doc, files, i);
		const char *name = yu_scalar(yu_map_get(r->doc, f, "name"));
		yaml_node_t *content = yu_map_get(r->doc, f, "content");
		struct seg_policy *p = NULL, *grown;
		size_t np = 0;

		if (!name || !yu_scalar(content)) {
			ret = seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					 "file entry %zu needs name and content", i);
			goto err;
		}
		ret = seg_policy_parse(yu_scalar(content), content->data.scalar.length,
				       name, ns && *ns ? ns : NULL, &p, &np, r->err);
		if (ret)
			goto err;
		grown = realloc(all, (n_all + np) * sizeof(*all));
		if (!grown && np) {
			seg_policies_free(p, np);
			ret = -ENOMEM;
			goto err;
		}
		all = grown;
		memcpy(all + n_all, p, np * sizeof(*p));
		n_all += np;
		free(p);
	}
	/* the same policy twice in one call is ambiguous */
	for (size_t i = 0; i < n_all; i++)
		for (size_t j = i + 1; j < n_all; j++)
			if (!strcmp(all[i].ns, all[j].ns) &&
			    !strcmp(all[i].name, all[j].name)) {
				ret = seg_errorf(r->err, all[j].source_file,
						 all[j].line, all[j].col, -EINVAL,
						 "policy %s/%s is defined twice in this "
						 "call (also at %s:%d); keep one",
						 all[j].ns, all[j].name,
						 all[i].source_file ? all[i].source_file : "?",
						 all[i].line);
				goto err;
			}
	*out = all;
	*n_out = n_all;
	return 0;
err:
	seg_policies_free(all, n_all);
	return ret;
}

static int h_apply(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_policy *incoming = NULL, *arr = NULL;
	size_t n_in = 0, n_old = d->state.world.n_policies, n_arr;
	bool dry = arg_bool(r, "dry_run");
	struct seg_compiled c = { 0 };
	struct phase_times t = { 0 };
	struct seg_world w;
	double t0 = now_ms();
	int ret, seq, tm;

	if ((ret = parse_files(r, &incoming, &n_in)))
		return ret;
	t.parse = now_ms() - t0;
	arr = calloc(n_old + n_in, sizeof(*arr));
	if (!arr) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(arr, d->state.world.policies, n_old * sizeof(*arr));
	n_arr = n_old;
	for (size_t i = 0; i < n_in; i++) {
		struct seg_policy *old = seg_state_find_policy(&d->state,
					incoming[i].ns, incoming[i].name);

		if (old)
			arr[old - d->state.world.policies] = incoming[i];
		else
			arr[n_arr++] = incoming[i];
	}
	w = candidate_of(d);
	w.policies = arr;
	w.n_policies = n_arr;
	ret = compile_and_enforce(d, &w, dry, &c, r->err, &t);
	if (ret)
		goto out;

	t0 = now_ms();
	seq = yu_add_seq(out);
	yu_set(out, res, "policies", seq);
	for (size_t i = 0; i < n_in; i++) {
		struct seg_policy *old = seg_state_find_policy(&d->state,
					incoming[i].ns, incoming[i].name);
		int m = yu_add_map(out);
		const char *action = !old ? "created" :
			(old->source && incoming[i].source &&
			 !strcmp(old->source, incoming[i].source)) ? "unchanged" :
			"configured";

		yu_append(out, seq, m);
		yu_set_str(out, m, "kind", kind_name(&incoming[i]));
		yu_set_str(out, m, "namespace", incoming[i].ns);
		yu_set_str(out, m, "name", incoming[i].name);
		yu_set_str(out, m, "action", action);
	}
	yu_set_bool(out, res, "dry_run", dry);
	ret = segd_report_diff(&d->compiled, &c, &w, out, res);
	t.report = now_ms() - t0;
	if (ret || dry) {
		seg_compiled_free(&c);
		goto timing;
	}
	install_compiled(d, &c);
	/* commit: incoming policies move into the state */
	for (size_t i = 0; i < n_in; i++)
		seg_state_put_policy(&d->state, &incoming[i]);
	n_in = 0;
	t0 = now_ms();
	ret = persist(d, r->err);
	t.persist = now_ms() - t0;
timing:
	tm = yu_add_map(out);
	yu_set(out, res, "timing_us", tm);
	yu_set_uint(out, tm, "parse", (uint64_t)(t.parse * 1000));
	yu_set_uint(out, tm, "compile", (uint64_t)(t.compile * 1000));
	yu_set_uint(out, tm, "kernel", (uint64_t)(t.kernel * 1000));
	yu_set_uint(out, tm, "report", (uint64_t)(t.report * 1000));
	yu_set_uint(out, tm, "persist", (uint64_t)(t.persist * 1000));
out:
	free(arr);
	seg_policies_free(incoming, n_in);
	return ret;
}

static int h_policy_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *name, *ns = arg_ns(r);
	struct seg_policy *p, *arr;
	struct seg_compiled c;
	struct seg_world w;
	size_t n, idx;
	int ret;

	if ((ret = need(r, "name", &name)))
		return ret;
	p = seg_state_find_policy(&d->state, ns, name);
	if (!p)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT,
				  "policy %s/%s not found; see `segctl get policies`",
				  ns, name);
	n = d->state.world.n_policies;
	idx = (size_t)(p - d->state.world.policies);
	arr = calloc(n, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	memcpy(arr, d->state.world.policies, idx * sizeof(*arr));
	memcpy(arr + idx, p + 1, (n - idx - 1) * sizeof(*arr));
	w = candidate_of(d);
	w.policies = arr;
	w.n_policies = n - 1;
	ret = compile_and_enforce(d, &w, false, &c, r->err, NULL);
	free(arr);
	if (ret)
		return ret;
	install_compiled(d, &c);
	yu_set_str(out, res, "kind", kind_name(p));
	yu_set_str(out, res, "namespace", ns);
	yu_set_str(out, res, "name", name);
	yu_set_str(out, res, "action", "deleted");
	seg_state_del_policy(&d->state, ns, name);
	return persist(d, r->err);
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
	{ "apply", h_apply },
	{ "policy.delete", h_policy_del },
	{ "get", segd_h_get },
	{ "status", segd_h_status },
};

int segd_handle(struct segd *d, yaml_document_t *req,
		const struct segd_peer *peer, yaml_document_t *resp)
{
	struct seg_error err = { 0 };
	struct segd_req r = { .doc = req, .err = &err };
	yaml_node_t *root = yu_root(req);
	const char *cmd = yu_scalar(yu_map_get(req, root, "command"));
	int top = yu_doc_init_map(resp), res, ret = -EINVAL, exit_code = 2;
	char msg[1024];

	(void)peer; /* recorded by the quarantine audit log */
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
