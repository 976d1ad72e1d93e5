/* engine.c - the one path of every change: build a candidate world that
 * shares the unchanged members of the current one, compile it, make the
 * kernel enforce it, and only then commit it to the desired state and the
 * state dir. Any failure before the commit leaves everything as it was.
 * Also: the kernel re-synced from the desired state at start.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"
#include "log.h"

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
	/* what segd_rules holds, which a reload of the config does not change */
	w.max_rules = d->dp ? seg_dp_rule_slots(d->dp) - 1 : d->cfg.max_rules;
	w.names = d->domains.table;
	w.n_names = d->domains.n_table;
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

void segd_policies_changed(struct segd *d)
{
	d->domains.tracked = false;
	if (d->lists_changed)
		d->lists_changed(d->lists_changed_ctx);
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

int segd_attach_endpoint(struct segd *d, struct seg_endpoint *e,
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

int segd_attach_uplink(struct segd *d, const char *ifname, unsigned int idx,
		       struct seg_error *err)
{
	static const enum seg_dp_uplink_hook hooks[] = {
		[SEGD_UPLINK_AUTO] = SEG_DP_UPLINK_AUTO,
		[SEGD_UPLINK_XDP] = SEG_DP_UPLINK_XDP,
		[SEGD_UPLINK_TC] = SEG_DP_UPLINK_TC,
	};
	static const char *const names[] = {
		[SEGD_UPLINK_AUTO] = "the early drop (auto: XDP or tc ingress)",
		[SEGD_UPLINK_XDP] = "XDP", [SEGD_UPLINK_TC] = "tc ingress",
	};
	int ret;

	if (!d->dp)
		return 0;
	ret = seg_dp_attach_uplink(d->dp, idx, hooks[d->cfg.uplink_hook]);
	if (ret)
		return seg_errorf(err, NULL, 0, 0, ret,
				  "attaching %s to uplink %s failed: %s",
				  names[d->cfg.uplink_hook], ifname,
				  strerror(-ret));
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
		ret = segd_attach_endpoint(d, &d->state.world.endpoints[i], err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; d->dp && i < d->state.n_uplinks; i++) {
		unsigned int idx = if_nametoindex(d->state.uplinks[i]);

		if (!idx)
			continue; /* reported by status; may come back later */
		ret = segd_attach_uplink(d, d->state.uplinks[i], idx, err);
		if (ret)
			return ret;
	}
	return 0;
}
