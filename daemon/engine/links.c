/* links.c - interfaces coming and going (netlink.c): endpoints get their
 * programs at once, the maps learn the ifindex in one compile per burst.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "link_event.h"
#include "log.h"

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
				ret = segd_attach_endpoint(d, e, err);
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
