/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* detect.h - count what an endpoint's new flows reach, raise alerts.
 *
 * Called by the endpoint's tc hook for a packet it sends that was decided
 * afresh (p->new_flow: conntrack had no entry), whatever the verdict; an
 * established packet never gets here. Per endpoint (segd_detect, an LRU
 * hash by endpoint id) three 256-bit sketches over two epochs count the
 * distinct destination ports, destination hosts and denied workload
 * targets of the last window; a count that reaches its limit
 * (segd_detect_config) sends one segd_alert per kind and epoch to
 * segd_alerts. No lock and no fetching atomics (they need -mcpu=v3,
 * whose code the verifier explores in more states than the hooks can
 * afford): CPUs racing on one endpoint may lose a bit or fire a kind
 * twice; the alert moves by a target or repeats, and user space merges
 * repeats.
 */
#ifndef SEGD_BPF_DETECT_H
#define SEGD_BPF_DETECT_H

#include "maps.h"
#include "parse.h"
#include "events.h"

static __always_inline __u32 detect_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 detect_addr_hash(const struct segd_addr *a)
{
	const __u32 *w = (const __u32 *)a->b;   /* segd_addr is 4-aligned */

	return detect_mix(w[0] ^ detect_mix(w[1] ^ detect_mix(w[2] ^
			  detect_mix(w[3]))));
}

/* Set the bit of hash h in sketch sk; the window's count (bits set in
 * either epoch) when the bit is new to the current epoch, else 0. */
static __always_inline __u32 sketch_add(struct segd_detect_state *st,
					int sk, __u32 h)
{
	__u32 bit = h >> 24;                 /* SEGD_DETECT_BITS == 256 */
	__u32 w = (bit >> 6) & (SEGD_DETECT_WORDS - 1);
	__u64 m = 1ull << (bit & 63);

	if (st->cur[sk][w] & m)
		return 0;
	st->cur[sk][w] |= m;
	__sync_fetch_and_add(&st->cur_bits[sk], 1);
	if (!(st->prev[sk][w] & m))
		__sync_fetch_and_add(&st->union_bits[sk], 1);
	return st->union_bits[sk];
}

/* Make st's current epoch ep: the current one becomes the previous one
 * when ep follows it, else both are forgotten. */
static __always_inline void detect_rotate(struct segd_detect_state *st,
					  __u64 ep)
{
	__u64 old = st->epoch;
	int next = ep == old + 1;

	if (old == ep)
		return;
	st->epoch = ep;
	for (int sk = 0; sk < SEGD_SK_MAX; sk++) {
		for (int w = 0; w < SEGD_DETECT_WORDS; w++) {
			st->prev[sk][w] = next ? st->cur[sk][w] : 0;
			st->cur[sk][w] = 0;
		}
		st->union_bits[sk] = next ? st->cur_bits[sk] : 0;
		st->cur_bits[sk] = 0;
	}
	st->first_ns[1] = next ? st->first_ns[0] : 0;
	st->flows[1] = next ? st->flows[0] : 0;
	st->denied[1] = next ? st->denied[0] : 0;
	st->first_ns[0] = 0;
	st->flows[0] = 0;
	st->denied[0] = 0;
	st->fired = 0;
}

/* the destination port, or an ICMP message's type and code */
static __always_inline __u16 detect_port(const struct segd_pkt *p)
{
	if (p->has_ports)
		return p->dport;
	if (p->proto == IPPROTO_ICMP_ || p->proto == IPPROTO_ICMPV6_)
		return (__u16)((__u16)p->icmp_type << 8 | p->icmp_code);
	return 0;
}

static __always_inline void detect_target(const struct segd_pkt *p, int denied,
					  struct segd_detect_target *t)
{
	t->addr = p->daddr;
	t->port = detect_port(p);
	t->proto = p->proto;
	t->denied = denied;
}

/* The flow in p (denied or not) raised kind (sketch: the sketch that
 * crossed): one alert per kind and epoch. Targets are written in place,
 * not copied through the stack: the hook that calls in has little left. */
static __always_inline void detect_fire(struct segd_detect_state *st,
					const struct segd_pkt *p, int denied,
					__u32 kind, __u32 sketch)
{
	struct segd_alert *a;
	__u32 n;

	if (st->fired & (1u << kind))
		return;
	a = bpf_ringbuf_reserve(&segd_alerts, sizeof(*a), 0);
	if (!a) {   /* not marked fired: the next flow tries again */
		ev_stat(SEGD_EVS_ALERT_LOST);
		return;
	}
	st->fired |= 1u << kind;
	a->kind = kind;
	a->sketch = sketch;
	detect_target(p, denied, &a->target);
	a->ts_ns = bpf_ktime_get_ns();   /* precise: containment is timed from it */
	a->first_ns = st->first_ns[1] ? st->first_ns[1] : st->first_ns[0];
	a->laddr = p->saddr;
	a->endpoint_id = p->ev_endpoint;
	/* a Stratum login is a miner alert with no list */
	a->list_id = kind == SEGD_ALERT_MINER || kind == SEGD_ALERT_C2 ?
		     p->bl_list : 0;
	a->flows = st->flows[0] + st->flows[1];
	a->denied = st->denied[0] + st->denied[1];
	a->bits[SEGD_SK_PORTS] = (__u16)st->union_bits[SEGD_SK_PORTS];
	a->bits[SEGD_SK_HOSTS] = (__u16)st->union_bits[SEGD_SK_HOSTS];
	a->bits[SEGD_SK_DENIED] = (__u16)st->union_bits[SEGD_SK_DENIED];
	n = st->next_sample;
	a->n_sample = n < SEGD_DETECT_SAMPLES ? n : SEGD_DETECT_SAMPLES;
	a->pad = 0;
	__builtin_memcpy(a->sample, st->sample, sizeof(a->sample));
	bpf_ringbuf_submit(a, 0);
}

static __always_inline struct segd_detect_state *detect_state(__u32 ep_id)
{
	struct segd_detect_state *st = bpf_map_lookup_elem(&segd_detect, &ep_id);
	__u32 zero = 0;

	if (st)
		return st;
	st = bpf_map_lookup_elem(&segd_detect_zero, &zero);
	if (!st)
		return NULL;
	bpf_map_update_elem(&segd_detect, &ep_id, st, BPF_NOEXIST);
	return bpf_map_lookup_elem(&segd_detect, &ep_id);
}

/* The endpoint's state with its epoch brought to now (and the epoch's
 * first flow timed), or NULL when detection is off or the endpoint is not
 * known; *cfgw: the config's limits and flags (segd_detect_config.word). */
static __always_inline struct segd_detect_state *
detect_begin(__u32 ep_id, __u64 *cfgw)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	const struct segd_detect_config *cfg;
	struct segd_detect_state *st;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&segd_detect_cfg, &zero);
	if (!cfg || !(cfg->flags & SEGD_DCF_ON) || !cfg->epoch_ns || !ep_id)
		return NULL;
	*cfgw = cfg->word;
	st = detect_state(ep_id);
	if (!st)
		return NULL;
	detect_rotate(st, now / cfg->epoch_ns);
	if (!st->first_ns[0])
		st->first_ns[0] = now;
	return st;
}

/* a verdict of policy, not of the state of segd or of a list */
static __always_inline int detect_refused(__u32 reason)
{
	return reason == SEGD_REASON_POLICY_DENIED ||
	       reason == SEGD_REASON_DEFAULT_DENIED;
}

/* what detect_count returns: kind << 8 | sketch, with DETECT_FRESH while
 * counting (the target was new to a sketch) */
#define DETECT_FRESH (1u << 16)

/* Count hash h in sketch sk; what (above) with the alert it raises when
 * the count reaches the limit in cfgw. An earlier sketch's alert wins,
 * unless its kind fired this epoch: a scan going on must not hide a
 * lateral count that reaches its own limit. */
static __always_inline __u32 detect_sketch(struct segd_detect_state *st,
					   int sk, __u32 h, __u64 cfgw,
					   __u32 what, __u32 kind)
{
	__u32 limit = (__u32)(cfgw >> (16 * sk)) & 0xffff;
	__u32 n = sketch_add(st, sk, h);

	if (!n)
		return what;
	what |= DETECT_FRESH;
	if (limit && n >= limit && !(what & 0xff00) &&
	    !(st->fired & (1u << kind)))
		what |= kind << 8 | (__u32)sk;
	return what;
}

/* A new flow the endpoint opened (egress, p->new_flow), decided with
 * reason: FORWARDED, or why it was dropped; returns what alert to raise
 * (kind << 8 | sketch, detect_alert), 0 for none. A global function: the
 * verifier checks it once, not once per path of the hook that calls it
 * (inlined, the hook's states multiplied past the verifier's limit), and
 * the alert is raised by another so that neither frame, added to the
 * hook's, passes the 512-byte stack: few values are kept live here. */
__noinline int detect_count(const struct segd_pkt *p, __u32 reason)
{
	struct segd_detect_state *st;
	__u64 cfgw = 0;
	__u32 hp, hh, hd, what = 0;
	int denied = reason != SEGD_REASON_FORWARDED;

	if (!p)   /* a global function's pointer may be NULL to the verifier */
		return 0;
	st = detect_begin(p->ev_endpoint, &cfgw);
	if (!st)
		return 0;
	__sync_fetch_and_add(&st->flows[0], 1);
	if (denied)
		__sync_fetch_and_add(&st->denied[0], 1);
	hp = detect_mix((__u32)p->proto << 16 | detect_port(p));
	hh = detect_addr_hash(&p->daddr);
	/* refused by policy, and the remote is a workload: lateral */
	hd = detect_refused(reason) && p->ev_remote >= SEGD_ID_FIRST_ENDPOINT &&
	     p->ev_remote <= SEGD_ID_LAST_ENDPOINT ? detect_mix(hh ^ hp) : 0;
	what = detect_sketch(st, SEGD_SK_PORTS, hp, cfgw, what, SEGD_ALERT_SCAN);
	what = detect_sketch(st, SEGD_SK_HOSTS, hh, cfgw, what, SEGD_ALERT_SCAN);
	if (hd)
		what = detect_sketch(st, SEGD_SK_DENIED, hd, cfgw, what,
				     SEGD_ALERT_LATERAL);
	if (what & DETECT_FRESH) {   /* a distinct target: keep it as evidence */
		__u32 i = st->next_sample;

		__sync_fetch_and_add(&st->next_sample, 1);
		detect_target(p, denied,
			      &st->sample[i & (SEGD_DETECT_SAMPLES - 1)]);
	}
	what &= 0xffff;
	/* One alert per packet, the most specific; a kind that crossed with
	 * it fires with the endpoint's next distinct target. */
	if (p->bl_category == SEGD_BL_MINER && (cfgw >> 48 & SEGD_DCF_MINER))
		what = SEGD_ALERT_MINER << 8;
	else if (p->bl_category == SEGD_BL_C2 && (cfgw >> 48 & SEGD_DCF_C2))
		what = SEGD_ALERT_C2 << 8;
	if (st->fired & (1u << (what >> 8)))
		return 0;
	return (int)what;
}

/* Raise what detect_count or detect_refused_in returned (kind << 8 |
 * sketch) for the endpoint ep_id that sent p. */
__noinline int detect_alert(const struct segd_pkt *p, __u32 ep_id, __u32 reason,
			    int what)
{
	struct segd_detect_state *st;

	if (!p || !ep_id)
		return 0;
	st = bpf_map_lookup_elem(&segd_detect, &ep_id);
	if (st)
		detect_fire(st, p, reason != SEGD_REASON_FORWARDED,
			    ((__u32)what >> 8) & 0xff, what & 0xff);
	return 0;
}

/* The local endpoint that sent p (its endpoint id), 0 when the source is
 * not one: the exact ipcache of the current generation's slot. */
static __always_inline __u32 detect_source_endpoint(const struct segd_pkt *p)
{
	struct segd_ipcache_value *iv;
	struct segd_config *cfg;
	__u32 slot = 0;
	void *exact;

	cfg = bpf_map_lookup_elem(&segd_config, &slot);
	if (!cfg)
		return 0;
	slot = *(volatile __u32 *)&cfg->policy_gen & 1;
	exact = bpf_map_lookup_elem(&segd_ipc_exact, &slot);
	if (!exact)
		return 0;
	iv = bpf_map_lookup_elem(exact, &p->saddr);
	return iv && (iv->flags & SEGD_EPF_LOCAL) ? iv->endpoint_id : 0;
}

/* A new flow into a local endpoint that its policy refused (ingress,
 * p->new_flow): when another local endpoint sent it, a lateral attempt of
 * that one, counted in its denied sketch (its egress hook saw the flow
 * allowed: only the target's ingress policy refuses it). Returns the
 * sender's endpoint id << 16 | what to raise (detect_alert), 0 for none. */
__noinline int detect_refused_in(const struct segd_pkt *p, __u32 reason)
{
	struct segd_detect_state *st;
	__u64 cfgw = 0;
	__u32 ep, what;

	if (!p || !detect_refused(reason))
		return 0;
	ep = detect_source_endpoint(p);
	st = detect_begin(ep, &cfgw);
	if (!st || ep > 0x7fff)   /* the return value holds 15 bits of it */
		return 0;
	__sync_fetch_and_add(&st->denied[0], 1);
	what = detect_sketch(st, SEGD_SK_DENIED,
			     detect_mix(detect_addr_hash(&p->daddr) ^
					detect_mix((__u32)p->proto << 16 |
						   detect_port(p))),
			     cfgw, 0, SEGD_ALERT_LATERAL);
	if (what & DETECT_FRESH) {
		__u32 i = st->next_sample;

		__sync_fetch_and_add(&st->next_sample, 1);
		detect_target(p, 1, &st->sample[i & (SEGD_DETECT_SAMPLES - 1)]);
	}
	what &= 0xffff;
	if (!what || (st->fired & (1u << (what >> 8))))
		return 0;
	return (int)(ep << 16 | what);
}

/* The endpoint's flow opened with a Stratum login (dropped or, in audit
 * mode, let through): a miner alert. Global, as detect_new_flow. */
__noinline int detect_stratum(const struct segd_pkt *p, int dropped)
{
	struct segd_detect_state *st;
	__u64 cfgw = 0;

	if (!p)
		return 0;
	st = detect_begin(p->ev_endpoint, &cfgw);
	if (!st || !(cfgw >> 48 & SEGD_DCF_MINER))
		return 0;
	detect_fire(st, p, dropped, SEGD_ALERT_MINER, 0);
	return 0;
}

_Static_assert((SEGD_DETECT_SAMPLES & (SEGD_DETECT_SAMPLES - 1)) == 0,
	       "samples are indexed by a mask");
_Static_assert((SEGD_DETECT_WORDS & (SEGD_DETECT_WORDS - 1)) == 0,
	       "sketch words are indexed by a mask");

#endif /* SEGD_BPF_DETECT_H */
