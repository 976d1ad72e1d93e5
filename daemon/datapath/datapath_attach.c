/* datapath_attach.c - segd's programs on interfaces: tc clsact filters on
 * endpoint veths (replaced in place, same handle and priority), XDP on
 * uplinks (libxdp), and the query of what is attached. See datapath.h.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "datapath_int.h"

/* tc filter identity: a restarted segd replaces exactly these */
#define SEG_TC_HANDLE   0x5e9du
#define SEG_TC_PRIORITY 0x5e9du

static int tc_attach_one(uint32_t ifindex, enum bpf_tc_attach_point ap,
			 int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

int seg_dp_attach_endpoint(struct seg_datapath *dp, uint32_t ifindex)
{
	int err;

	err = tc_attach_one(ifindex, BPF_TC_INGRESS,
			    seg_dp_prog_fd(dp, SEG_PROG_TC_FROM_EP));
	if (!err)
		err = tc_attach_one(ifindex, BPF_TC_EGRESS,
				    seg_dp_prog_fd(dp, SEG_PROG_TC_TO_EP));
	if (err)
		seg_log(SEG_LOG_ERROR, "tc attach on ifindex %u: %s", ifindex,
			strerror(-err));
	return err;
}

static int tc_detach_one(uint32_t ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &o);

	return err == -ENOENT ? 0 : err;
}

int seg_dp_detach_endpoint(struct seg_datapath *dp, uint32_t ifindex)
{
	int e1, e2;

	(void)dp;
	e1 = tc_detach_one(ifindex, BPF_TC_INGRESS);
	e2 = tc_detach_one(ifindex, BPF_TC_EGRESS);
	return e1 ? e1 : e2;
}

static uint32_t tc_query_one(uint32_t ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY);

	if (bpf_tc_query(&hook, &o))
		return 0;
	return o.prog_id;
}

/* Our XDP program on ifindex (legacy single program or inside a libxdp
 * dispatcher). Returns it (caller closes mp) or NULL. */
static struct xdp_program *xdp_find_ours(struct seg_datapath *dp,
					 uint32_t ifindex,
					 struct xdp_multiprog **mp_out)
{
	const char *name = bpf_program__name(dp->xdp->progs.uplink);
	struct xdp_multiprog *mp;
	struct xdp_program *p;

	*mp_out = NULL;
	mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	if (!mp || libxdp_get_error(mp))
		return NULL;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), name)) {
			*mp_out = mp;
			return p;
		}
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), name)) {
				*mp_out = mp;
				return p;
			}
		}
	}
	xdp_multiprog__close(mp);
	return NULL;
}

/* The XDP mode for an uplink. A physical NIC runs native XDP in its
 * driver, on the received buffer before any skb exists: no copy, and GRO
 * still happens after XDP_PASS. A veth has no such buffer: its native XDP
 * copies every packet out of the peer's skb into a fresh page and
 * segments GSO packets (measured: outside -> pod TCP at a third of the
 * path's throughput). Generic XDP is cheaper but not free: the kernel
 * copies every skb whose head is not private (a GSO packet from a local
 * veth peer) into fresh pages before the program runs (measured with
 * tools/bench/path_profile.sh: ~7% of all CPU outside -> pod, the program
 * itself <1%). tc ingress runs the same checks on the skb as it is,
 * without that copy: `uplink_hook: auto` (the default) goes there
 * wherever native XDP is not to be had. */
static enum xdp_attach_mode uplink_xdp_mode(uint32_t ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	int fd;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return mode;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mode;
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "veth"))
		mode = XDP_MODE_SKB;
	close(fd);
	return mode;
}

/* native_only: no generic fallback, -EOPNOTSUPP instead (auto) */
static int xdp_attach_uplink(struct seg_datapath *dp, uint32_t ifindex,
			     bool native_only)
{
	enum xdp_attach_mode want = uplink_xdp_mode(ifindex);
	int fd = seg_dp_prog_fd(dp, SEG_PROG_XDP_UPLINK);
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *old, *prog = NULL;
	int err, old_fd = -1;

	if (native_only && want != XDP_MODE_NATIVE)
		return -EOPNOTSUPP;
	old = xdp_find_ours(dp, ifindex, &mp);
	if (old && xdp_multiprog__is_legacy(mp) &&
	    xdp_multiprog__attach_mode(mp) == want) {
		/* a previous segd's program: swap atomically, no gap */
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
		__u32 flags = XDP_FLAGS_REPLACE |
			      (want == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
						      XDP_FLAGS_DRV_MODE);

		old_fd = bpf_prog_get_fd_by_id(xdp_program__id(old));
		if (old_fd < 0) {
			err = -errno;
			goto cleanup;
		}
		ao.old_prog_fd = old_fd;
		err = bpf_xdp_attach((int)ifindex, fd, flags, &ao);
		goto cleanup;
	}
	if (old) {
		/* in a dispatcher, or in the other mode: detach it first */
		err = xdp_program__detach(old, ifindex,
					  xdp_multiprog__attach_mode(mp), 0);
		if (err)
			goto cleanup;
	}
	prog = xdp_program__from_fd(fd);
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		goto cleanup;
	}
	err = xdp_program__attach(prog, ifindex, want, 0);
	if (err && want == XDP_MODE_NATIVE && native_only)
		err = -EOPNOTSUPP;   /* no driver support: the caller goes to tc */
	else if (err && want == XDP_MODE_NATIVE)
		err = xdp_program__attach(prog, ifindex, XDP_MODE_SKB, 0);
cleanup:
	if (err && err != -EOPNOTSUPP)
		seg_log(SEG_LOG_ERROR, "xdp attach on ifindex %u: %s",
			ifindex, strerror(-err));
	if (old_fd >= 0)
		close(old_fd);
	xdp_program__close(prog);
	xdp_multiprog__close(mp);
	return err;
}

static int xdp_detach_uplink(struct seg_datapath *dp, uint32_t ifindex)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *p;
	int err;

	p = xdp_find_ours(dp, ifindex, &mp);
	if (!p)
		return 0;
	err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp),
				  0);
	xdp_multiprog__close(mp);
	return err;
}

/* Whether the program with kernel id `id` is the uplink's tc program, of
 * this segd or of one before it (a restart loads new programs: compared
 * by name, not id). */
static bool is_tc_uplink(struct seg_datapath *dp, uint32_t id)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd;
	bool yes;

	if (!id)
		return false;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	yes = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	      !strcmp(info.name, bpf_program__name(dp->tc->progs.uplink_ingress));
	close(fd);
	return yes;
}

/* Our tc filter at ingress of an uplink, when it holds the uplink program
 * (an endpoint's from_endpoint is not ours to take off here). */
static int tc_detach_uplink(struct seg_datapath *dp, uint32_t ifindex)
{
	if (!is_tc_uplink(dp, tc_query_one(ifindex, BPF_TC_INGRESS)))
		return 0;
	return tc_detach_one(ifindex, BPF_TC_INGRESS);
}

int seg_dp_attach_uplink(struct seg_datapath *dp, uint32_t ifindex,
			 enum seg_dp_uplink_hook hook)
{
	bool at_tc = hook == SEG_DP_UPLINK_TC ||
		     (hook == SEG_DP_UPLINK_AUTO &&
		      uplink_xdp_mode(ifindex) != XDP_MODE_NATIVE);
	int err;

	if (!at_tc) {
		err = tc_detach_uplink(dp, ifindex);
		if (!err)
			err = xdp_attach_uplink(dp, ifindex,
						hook == SEG_DP_UPLINK_AUTO);
		if (err != -EOPNOTSUPP)
			return err;
		/* auto, and the driver has no native XDP: tc ingress */
	}
	err = xdp_detach_uplink(dp, ifindex);
	if (!err)
		err = tc_attach_one(ifindex, BPF_TC_INGRESS,
				    seg_dp_prog_fd(dp, SEG_PROG_TC_UPLINK));
	if (err)
		seg_log(SEG_LOG_ERROR, "tc attach on uplink ifindex %u: %s",
			ifindex, strerror(-err));
	return err;
}

int seg_dp_detach_uplink(struct seg_datapath *dp, uint32_t ifindex)
{
	int e1 = xdp_detach_uplink(dp, ifindex);
	int e2 = tc_detach_uplink(dp, ifindex);

	return e1 ? e1 : e2;
}

int seg_dp_query(struct seg_datapath *dp, uint32_t ifindex,
		 struct seg_dp_attachment *out, int max)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *p;
	uint32_t ids[SEG_PROG_COUNT];
	int n = 0;

	ids[SEG_PROG_TC_FROM_EP] = tc_query_one(ifindex, BPF_TC_INGRESS);
	ids[SEG_PROG_TC_TO_EP] = tc_query_one(ifindex, BPF_TC_EGRESS);
	/* one tc ingress slot: an endpoint's program or the uplink's */
	ids[SEG_PROG_TC_UPLINK] = 0;
	if (is_tc_uplink(dp, ids[SEG_PROG_TC_FROM_EP])) {
		ids[SEG_PROG_TC_UPLINK] = ids[SEG_PROG_TC_FROM_EP];
		ids[SEG_PROG_TC_FROM_EP] = 0;
	}
	p = xdp_find_ours(dp, ifindex, &mp);
	ids[SEG_PROG_XDP_UPLINK] = p ? xdp_program__id(p) : 0;
	xdp_multiprog__close(mp);
	for (int i = 0; i < SEG_PROG_COUNT && n < max; i++) {
		if (!ids[i])
			continue;
		out[n].ifindex = ifindex;
		out[n].prog = (enum seg_prog)i;
		out[n].prog_id = ids[i];
		n++;
	}
	return n;
}

static const char *const prog_hook_names[SEG_PROG_COUNT] = {
	[SEG_PROG_TC_FROM_EP] = "tc-ingress(from-endpoint)",
	[SEG_PROG_TC_TO_EP] = "tc-egress(to-endpoint)",
	[SEG_PROG_XDP_UPLINK] = "xdp(uplink)",
	[SEG_PROG_TC_UPLINK] = "tc-ingress(uplink)",
};

const char *seg_dp_prog_hook_name(enum seg_prog prog)
{
	return (unsigned int)prog < SEG_PROG_COUNT ? prog_hook_names[prog] : "?";
}

const char *seg_dp_uplink_hook_name(struct seg_datapath *dp, uint32_t ifindex)
{
	struct seg_dp_attachment att[SEG_PROG_COUNT];
	int n = seg_dp_query(dp, ifindex, att, SEG_PROG_COUNT);

	for (int i = 0; i < n; i++)
		if (att[i].prog == SEG_PROG_XDP_UPLINK || att[i].prog == SEG_PROG_TC_UPLINK)
			return seg_dp_prog_hook_name(att[i].prog);
	return NULL;
}
