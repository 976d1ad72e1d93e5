/* netlink.c - RTNLGRP_LINK on segd's loop (libmnl). Each RTM_NEWLINK or
 * RTM_DELLINK goes to segd_link_event (engine/links.c), which attaches or
 * forgets the endpoint named after the interface at once; the maps learn
 * the changes once every message read so far is handled (a CNI creating
 * many pods costs one compile per burst, and no attach waits for one).
 * A lost message (the
 * socket buffer overflowed: ENOBUFS) is recovered by looking every
 * endpoint's interface up again. Interfaces matching interface_patterns
 * that no endpoint names are logged, so a CNI that creates pods segd was
 * not told about shows up in the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include "link_event.h"
#include "log.h"
#include "netlink.h"

#define RCVBUF_BYTES (4 << 20)   /* a CNI storm of veths fits */

struct segd_links {
	struct segd *d;
	bool changed;           /* an endpoint's interface changed: enforce */
	struct mnl_socket *nl;
	struct event *ev;
};

static void report(const char *what, const char *ifname, const struct seg_error *err,
		   int ret)
{
	char msg[1024];

	if (err->msg[0])
		seg_error_format(err, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s", strerror(-ret));
	seg_log(SEG_LOG_ERROR, "%s %s: %s", what, ifname, msg);
}

static void handle(struct segd_links *l, const struct seg_link_event *ev)
{
	struct seg_error err = { 0 };
	unsigned int what = 0;
	int ret = segd_link_event(l->d, ev, &what, &err);

	if (what & SEGD_LINK_CHANGED)
		l->changed = true;
	if (ret)
		report("interface", ev->ifname, &err, ret);
	else if (what & SEGD_LINK_CHANGED)
		seg_log(SEG_LOG_INFO, "interface %s (ifindex %u) %s", ev->ifname,
			ev->ifindex, ev->change == SEG_LINK_NEW ?
			"appeared: endpoint programs attached" :
			"gone: its endpoint waits for it to come back");
	else if (!(what & SEGD_LINK_NAMED) && ev->change == SEG_LINK_NEW &&
		 seg_link_name_watched(l->d->cfg.interface_patterns,
				       l->d->cfg.n_interface_patterns, ev->ifname))
		seg_log(SEG_LOG_INFO, "interface %s (ifindex %u) matches "
			"interface_patterns but no endpoint names it; it is not "
			"enforced until `segctl endpoint add ... --ifname %s`",
			ev->ifname, ev->ifindex, ev->ifname);
}

static void resync(struct segd_links *l, const char *why)
{
	struct seg_error err = { 0 };
	int ret = segd_links_resync(l->d, &err);

	if (ret)
		report("resync after", why, &err, ret);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct segd_links *l = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	(void)fd, (void)what;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(l->nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS) {
				seg_log(SEG_LOG_WARN, "link events were lost (socket "
					"buffer full); looking every interface up again");
				resync(l, "lost link events");
				continue;
			}
			break; /* EAGAIN: drained */
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct seg_link_event ev;

			if (!seg_link_event_parse(nlh, nlh->nlmsg_len, &ev))
				handle(l, &ev);
		}
	}
	if (l->changed) {
		struct seg_error err = { 0 };
		int ret = segd_links_enforce(l->d, &err);

		l->changed = false;
		if (ret)
			report("enforcing interface changes:", "maps", &err, ret);
	}
}

int segd_links_new(struct event_base *base, struct segd *d, struct segd_links **out)
{
	struct segd_links *l = calloc(1, sizeof(*l));
	int rcvbuf = RCVBUF_BYTES, ret = 0;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->d = d;
	l->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!l->nl || mnl_socket_bind(l->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	/* SO_RCVBUFFORCE needs CAP_NET_ADMIN, which segd has; the plain one
	 * is capped by net.core.rmem_max */
	if (setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	l->ev = event_new(base, mnl_socket_get_fd(l->nl), EV_READ | EV_PERSIST,
			  on_readable, l);
	if (!l->ev || event_add(l->ev, NULL)) {
		ret = -ENOMEM;
		goto fail;
	}
	resync(l, "subscribing to link events");
	*out = l;
	return 0;
fail:
	segd_links_free(l);
	return ret ? ret : -EIO;
}

void segd_links_free(struct segd_links *l)
{
	if (!l)
		return;
	if (l->ev)
		event_free(l->ev);
	if (l->nl)
		mnl_socket_close(l->nl);
	free(l);
}
