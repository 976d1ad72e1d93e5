/* link_event.c - parse netlink link messages (see link_event.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "link_event.h"

static int name_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **name = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = a;
	return MNL_CB_OK;
}

int seg_link_event_parse(const void *msg, size_t len, struct seg_link_event *out)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *name = NULL;
	const struct ifinfomsg *ifi;

	memset(out, 0, sizeof(*out));
	/* mnl_nlmsg_ok compares the length as an int: a length of 2^31 or
	 * more passes it (found by tests/fuzz/fuzz_link_event.c) */
	if (len < sizeof(*nlh) || len > INT32_MAX || nlh->nlmsg_len > len ||
	    !mnl_nlmsg_ok(nlh, (int)len))
		return -EINVAL;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -ENOENT;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EINVAL;
	ifi = mnl_nlmsg_get_payload(nlh);
	/* attributes up to nlmsg_len exactly: mnl_attr_parse would walk to the
	 * aligned end of the message, past a buffer of nlmsg_len bytes (found
	 * by tests/fuzz/fuzz_link_event.c) */
	if (ifi->ifi_index <= 0 ||
	    mnl_attr_parse_payload((const char *)ifi + MNL_ALIGN(sizeof(*ifi)),
				   nlh->nlmsg_len - mnl_nlmsg_size(MNL_ALIGN(sizeof(*ifi))),
				   name_attr, &name) < 0 || !name)
		return -EINVAL;
	if (strlen(mnl_attr_get_str(name)) >= sizeof(out->ifname))
		return -EINVAL;
	out->change = nlh->nlmsg_type == RTM_NEWLINK ? SEG_LINK_NEW : SEG_LINK_DEL;
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->up = ifi->ifi_flags & IFF_UP;
	snprintf(out->ifname, sizeof(out->ifname), "%s", mnl_attr_get_str(name));
	return 0;
}

bool seg_link_name_watched(char *const *patterns, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!fnmatch(patterns[i], ifname, 0))
			return true;
	return false;
}
