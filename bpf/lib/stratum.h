/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* stratum.h - is the first egress payload of a TCP flow a Stratum (mining
 * pool) login?
 *
 * Plain-text Stratum is newline-terminated JSON-RPC. A client's first
 * message is a login (XMRig: "method":"login") or a subscribe/authorize
 * (Stratum V1: "mining.subscribe", "mining.authorize",
 * "mining.extranonce.subscribe"), keys in any order, optional spaces after
 * ':' and ','. The test, on the first SEGD_STRATUM_SCAN bytes:
 *
 *   optional whitespace, '{', then anywhere: "method" <ws> ':' <ws> '"'
 *   followed by login | mining.subscribe | mining.authorize |
 *   mining.extranonce.subscribe
 *
 * An ordinary JSON-RPC call ({"id":1,"method":"getblock"}) and anything
 * not starting with '{' (HTML, HTTP, TLS) do not match. Stratum V2 and
 * stratum+ssl are encrypted: only addresses and ports help there.
 *
 * Only the tc hook calls this (it has the skb: the payload need not be in
 * the linear part), once per flow. One pass over the bytes as a small
 * state machine in a bpf_loop() callback, so the verifier checks the body
 * once whatever the length.
 */
#ifndef SEGD_BPF_STRATUM_H
#define SEGD_BPF_STRATUM_H

#include "maps.h"
#include "parse.h"

#define SEGD_STRATUM_SCAN 256   /* payload bytes looked at */

/* per-CPU staging buffer: SEGD_STRATUM_SCAN bytes of payload, the rest is
 * slack so the look-ahead of a method name never leaves the value (it is
 * bounded by the loaded length, so stale bytes are never compared) */
struct segd_scratch {
	__u8 b[2 * SEGD_STRATUM_SCAN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_scratch);
} segd_scratch SEC(".maps");

enum { ST_LEAD, ST_SCAN, ST_COLON, ST_VSP };

struct stratum_ctx {
	__u8 *buf;
	__u32 len;
	__u32 state;
	__u32 m;        /* bytes of "method" (with quotes) matched so far */
	__u32 hit;
};

static __always_inline int is_ws(__u8 c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#define SEGD_SM_MASK (2 * SEGD_STRATUM_SCAN - 1)   /* 511, in sm_idx */
/* "method" with its quotes, first byte lowest: 8 bytes, no .rodata */
#define SEGD_PAT_METHOD 0x22646f6874656d22ULL

/* x & SEGD_SM_MASK, kept as an instruction: clang drops a mask it can
 * prove redundant, the verifier cannot, and needs it for the bound */
static __always_inline __u64 sm_idx(__u64 x)
{
	asm volatile("%0 &= 511" : "+r"(x));
	return x;
}

/* buf[at .. at+n) == s (a literal: unrolled into immediates) and inside
 * the loaded bytes */
static __always_inline int st_eq(const __u8 *buf, __u32 len, __u32 at,
				 const char *s, __u32 n)
{
	if (at + n > len)
		return 0;
#pragma unroll
	for (__u32 k = 0; k < n; k++)
		if (buf[sm_idx(at + k)] != (__u8)s[k])
			return 0;
	return 1;
}

/* the value of "method" starts at `at` (after the opening quote) */
static __always_inline int st_is_miner_method(const __u8 *buf, __u32 len,
					      __u32 at)
{
	if (at > SEGD_STRATUM_SCAN)
		return 0;
	if (st_eq(buf, len, at, "login", 5))
		return 1;
	if (!st_eq(buf, len, at, "mining.", 7))
		return 0;
	at += 7;
	return st_eq(buf, len, at, "subscribe", 9) ||
	       st_eq(buf, len, at, "authorize", 9) ||
	       st_eq(buf, len, at, "extranonce.subscribe", 20);
}

static long stratum_step(__u32 i, void *arg)
{
	struct stratum_ctx *c = arg;
	__u8 ch;

	if (i >= c->len || i >= SEGD_STRATUM_SCAN)
		return 1;
	ch = c->buf[sm_idx(i)];
	switch (c->state) {
	case ST_LEAD:
		if (ch == '{')
			c->state = ST_SCAN;
		else if (!is_ws(ch))
			return 1;               /* not JSON: done */
		return 0;
	case ST_COLON:
		if (is_ws(ch))
			return 0;
		if (ch == ':') {
			c->state = ST_VSP;
			return 0;
		}
		break;
	case ST_VSP:
		if (is_ws(ch))
			return 0;
		if (ch == '"' && st_is_miner_method(c->buf, c->len, i + 1)) {
			c->hit = 1;
			return 1;
		}
		break;
	default:
		if (c->m < 8 && ch == (__u8)(SEGD_PAT_METHOD >> (8 * c->m))) {
			if (++c->m == 8) {
				c->state = ST_COLON;
				c->m = 0;
			}
			return 0;
		}
		break;
	}
	/* no match here: look for the next "method", this byte may open it */
	c->state = ST_SCAN;
	c->m = ch == '"' ? 1 : 0;
	return 0;
}

/* 1 when the payload at pl_off (len bytes in the packet) is Stratum. */
static __always_inline int stratum_match(struct __sk_buff *skb, __u32 pl_off,
					 __u32 len)
{
	struct stratum_ctx c = {};
	struct segd_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&segd_scratch, &zero);
	if (!s)
		return 0;
	if (len == 0)
		return 0;
	if (len > SEGD_STRATUM_SCAN)
		len = SEGD_STRATUM_SCAN;
	len = sm_idx(len - 1) + 1;  /* 1..512: a bound the verifier keeps */
	if (bpf_skb_load_bytes(skb, pl_off, s->b, len))
		return 0;
	c.buf = s->b;
	c.len = len;
	c.state = ST_LEAD;
	bpf_loop(SEGD_STRATUM_SCAN, stratum_step, &c, 0);
	return c.hit;
}

#endif /* SEGD_BPF_STRATUM_H */
