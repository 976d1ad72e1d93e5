// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* segd_xdp.bpf.c - early drop on the node's uplink (bpf/lib/uplink.h).
 *
 * Loaded multi-buffer capable (xdp.frags: BPF_F_XDP_HAS_FRAGS), so an
 * uplink with segd takes jumbo frames: a frame may continue in fragments,
 * and parse.h reads any header that crosses into one with
 * bpf_xdp_load_bytes and checks lengths against the whole frame.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "uplink.h"

SEC("xdp.frags")
int uplink(struct xdp_md *ctx)
{
	struct segd_buf b = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.len = bpf_xdp_get_buff_len(ctx),
		.segs = 1,
		.hook = SEGD_HOOK_XDP,
	};

	return uplink_pass(&b, ctx->ingress_ifindex) == UPLINK_DROP ?
		       XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
