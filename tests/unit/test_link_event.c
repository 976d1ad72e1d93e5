/* test_link_event.c - netlink link messages as segd reads them, and the
 * interface name patterns. Messages are built with libmnl, as the kernel
 * lays them out. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include "link_event.h"

struct link_msg_case {
	uint16_t type;
	int ifindex;
	unsigned int flags;
	char ifname[24];       /* "" = no IFLA_IFNAME attribute */
	bool truncate;         /* cut the message inside its ifinfomsg */
	int ret;
	enum seg_link_change change;
	bool up;
};

static const struct link_msg_case link_msg_cases[] = {
	{ RTM_NEWLINK, 7, 0, "veth1a2b", false, 0, SEG_LINK_NEW, false },
	{ RTM_NEWLINK, 7, IFF_UP, "cali12345", false, 0, SEG_LINK_NEW, true },
	{ RTM_DELLINK, 9, IFF_UP, "lxc00ff", false, 0, SEG_LINK_DEL, true },
	{ RTM_NEWADDR, 7, 0, "veth1", false, -ENOENT, 0, false },
	{ RTM_NEWLINK, 7, 0, "", false, -EINVAL, 0, false },
	{ RTM_NEWLINK, 0, 0, "veth1", false, -EINVAL, 0, false },
	{ RTM_NEWLINK, 7, 0, "a-name-of-16char", false, -EINVAL, 0, false },
	{ RTM_NEWLINK, 7, 0, "veth1", true, -EINVAL, 0, false },
};

ParameterizedTestParameters(link_event, parse)
{
	return cr_make_param_array(struct link_msg_case, (void *)link_msg_cases,
				   sizeof(link_msg_cases) / sizeof(link_msg_cases[0]));
}

ParameterizedTest(struct link_msg_case *c, link_event, parse)
{
	char buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct seg_link_event ev;
	size_t len;
	int ret;

	nlh->nlmsg_type = c->type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = c->ifindex;
	ifi->ifi_flags = c->flags;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);   /* attributes before the name too */
	if (c->ifname[0])
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->ifname);
	len = nlh->nlmsg_len;
	if (c->truncate)
		nlh->nlmsg_len = len = sizeof(*nlh) + 4;
	ret = seg_link_event_parse(nlh, len, &ev);
	cr_assert_eq(ret, c->ret, "type %u ifindex %d name '%s': got %d, want %d",
		     c->type, c->ifindex, c->ifname, ret, c->ret);
	if (ret)
		return;
	cr_assert_eq(ev.change, c->change);
	cr_assert_eq(ev.ifindex, (uint32_t)c->ifindex);
	cr_assert_str_eq(ev.ifname, c->ifname);
	cr_assert_eq(ev.up, c->up);
}

Test(link_event, several_messages_in_one_read_are_each_whole)
{
	char buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(8)));
	const char *names[] = { "veth0", "cni7" };
	struct nlmsghdr *nlh;
	size_t off = 0;
	int left;

	for (int i = 0; i < 2; i++) {
		struct ifinfomsg *ifi;

		nlh = mnl_nlmsg_put_header(buf + off);
		nlh->nlmsg_type = i ? RTM_DELLINK : RTM_NEWLINK;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_index = 10 + i;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, names[i]);
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	left = (int)off;
	nlh = (struct nlmsghdr *)buf;
	for (int i = 0; i < 2; i++) {
		struct seg_link_event ev;

		cr_assert(mnl_nlmsg_ok(nlh, left));
		cr_assert_eq(seg_link_event_parse(nlh, nlh->nlmsg_len, &ev), 0);
		cr_assert_str_eq(ev.ifname, names[i]);
		cr_assert_eq(ev.ifindex, 10u + (unsigned)i);
		cr_assert_eq(ev.change, i ? SEG_LINK_DEL : SEG_LINK_NEW);
		nlh = mnl_nlmsg_next(nlh, &left);
	}
}

struct pattern_case {
	char name[16];
	bool watched;
};

static const struct pattern_case pattern_cases[] = {
	{ "veth3f2a", true }, { "cali0123abcd", true }, { "lxc_health", true },
	{ "cni0", true }, { "eth0", false }, { "vet", false }, { "up0", false },
	{ "xveth1", false },
};

ParameterizedTestParameters(link_event, patterns)
{
	return cr_make_param_array(struct pattern_case, (void *)pattern_cases,
				   sizeof(pattern_cases) / sizeof(pattern_cases[0]));
}

ParameterizedTest(struct pattern_case *c, link_event, patterns)
{
	char *patterns[] = { "veth*", "cali*", "lxc*", "cni*" };

	cr_assert_eq(seg_link_name_watched(patterns, 4, c->name), c->watched,
		     "%s", c->name);
	cr_assert_not(seg_link_name_watched(patterns, 0, c->name));
}

/* ---- segd_link_event on a daemon without a kernel (d.dp NULL) ---------- */
#include "segd.h"
#include "state.h"

static uint32_t exact_ifindex(const struct segd *d, const char *addr)
{
	struct in6_addr a;

	cr_assert_eq(seg_addr_parse(addr, &a), 0);
	for (size_t i = 0; i < d->compiled.n_exact; i++)
		if (!memcmp(&d->compiled.exact[i].addr, &a, 16))
			return d->compiled.exact[i].value.ifindex;
	cr_assert_fail("%s not in the compiled ipcache", addr);
	return 0;
}

struct link_step {
	enum seg_link_change change;
	uint32_t ifindex;
	char ifname[16];
	unsigned int what;      /* SEGD_LINK_* expected */
	uint32_t ep_ifindex;    /* the endpoint's ifindex after the event */
};

Test(link_event, endpoint_follows_its_interface)
{
	static const struct link_step steps[] = {
		{ SEG_LINK_NEW, 12, "veth-other", 0, 0 },            /* not ours */
		{ SEG_LINK_NEW, 12, "veth-a", SEGD_LINK_NAMED | SEGD_LINK_CHANGED, 12 },
		{ SEG_LINK_NEW, 12, "veth-a", SEGD_LINK_NAMED, 12 },  /* flags only */
		{ SEG_LINK_DEL, 12, "veth-a", SEGD_LINK_NAMED | SEGD_LINK_CHANGED, 0 },
		{ SEG_LINK_NEW, 15, "veth-a", SEGD_LINK_NAMED | SEGD_LINK_CHANGED, 15 },
		{ SEG_LINK_NEW, 15, "renamed", SEGD_LINK_CHANGED, 0 }, /* renamed away */
		{ SEG_LINK_DEL, 15, "renamed", 0, 0 },
	};
	struct segd d = { 0 };
	struct seg_endpoint ep = { 0 };

	cr_assert_eq(seg_state_set_ns(&d.state, "k8s", NULL), 0);
	ep.name = strdup("a");
	ep.ns = strdup("k8s");
	ep.endpoint_id = 1;
	ep.n_ips = 1;
	cr_assert_eq(seg_addr_parse("10.200.2.10", &ep.ips[0]), 0);
	snprintf(ep.ifname, sizeof(ep.ifname), "veth-a");
	cr_assert_eq(seg_state_put_ep(&d.state, &ep), 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct link_step *s = &steps[i];
		struct seg_link_event ev = { .change = s->change, .ifindex = s->ifindex };
		struct seg_error err = { 0 };
		unsigned int what = 99;

		snprintf(ev.ifname, sizeof(ev.ifname), "%s", s->ifname);
		cr_assert_eq(segd_link_event(&d, &ev, &what, &err), 0, "step %zu: %s", i,
			     err.msg);
		cr_assert_eq(what, s->what, "step %zu: what %u, want %u", i, what, s->what);
		cr_assert_eq(d.state.world.endpoints[0].ifindex, s->ep_ifindex, "step %zu", i);
		if (s->what & SEGD_LINK_CHANGED) {  /* the maps learn it when enforced */
			cr_assert_eq(segd_links_enforce(&d, &err), 0, "%s", err.msg);
			cr_assert_eq(exact_ifindex(&d, "10.200.2.10"), s->ep_ifindex,
				     "step %zu", i);
		}
	}
	seg_compiled_free(&d.compiled);
	seg_state_free(&d.state);
}
