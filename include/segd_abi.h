/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * segd_abi.h - the one contract between the BPF programs and user space.
 *
 * Map names, keys, values, verdicts and drop-reason codes live here and
 * nowhere else. Both sides include this file; sizes are pinned with
 * _Static_assert so a layout change breaks the build, not the datapath.
 *
 * Addresses: every address is 16 bytes. IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d) so one code path and one set of maps serves both
 * families; an IPv4 /N prefix is stored as /(96+N).
 */
#ifndef SEGD_ABI_H
#define SEGD_ABI_H

#if defined(__bpf__)
/* BPF side: types come from the generated vmlinux.h */
#else
#include <linux/types.h>
#endif

/* ---- map names (pinned under <bpffs>/ by name) ------------------------ */
/* Each name is spelled once, below. The BPF side declares each map with
 * the macro itself (bpf/lib/maps.h: `} SEGD_MAP_CONFIG SEC(".maps")`),
 * where it is the bare identifier; in user space it is the string. */
#define SEGD_MAP_STR_(ident)  #ident
#if defined(__bpf__)
#define SEGD_MAP_NAME(ident)  ident
#else
#define SEGD_MAP_NAME(ident)  SEGD_MAP_STR_(ident)
#endif
#define SEGD_MAP_CONFIG     SEGD_MAP_NAME(segd_config)    /* array[1] of segd_config */
#define SEGD_MAP_POLICY     SEGD_MAP_NAME(segd_policy)    /* array_of_maps[2] -> hash policy */
#define SEGD_MAP_IPC_EXACT  SEGD_MAP_NAME(segd_ipc_exact) /* array_of_maps[2] -> hash addr */
#define SEGD_MAP_IPC_LPM    SEGD_MAP_NAME(segd_ipc_lpm)   /* array_of_maps[2] -> lpm prefix */
#define SEGD_MAP_CT         SEGD_MAP_NAME(segd_ct)        /* lru_hash conntrack */
#define SEGD_MAP_FRAG       SEGD_MAP_NAME(segd_frag)      /* lru_hash first-fragment ports */
#define SEGD_MAP_REASONS    SEGD_MAP_NAME(segd_reasons)   /* percpu_array per reason */
#define SEGD_MAP_RULES      SEGD_MAP_NAME(segd_rules)     /* percpu_array per rule id */
#define SEGD_MAP_LHINTS     SEGD_MAP_NAME(segd_lhints)    /* array[2 * eps] of segd_lhint */
#define SEGD_MAP_IFC        SEGD_MAP_NAME(segd_ifc)       /* array[2 * buckets] of segd_ifc */
#define SEGD_MAP_HANDOFF    SEGD_MAP_NAME(segd_handoff)   /* percpu_array[1] of segd_handoff */
#define SEGD_MAP_HANDOFF_FLOW SEGD_MAP_NAME(segd_handoff_flow) /* percpu_array[1] of segd_handoff_flow */
#define SEGD_MAP_XDP_DECIDED SEGD_MAP_NAME(segd_xdp_decided) /* percpu_array[SEGD_XDP_DECIDED_SLOTS] of segd_handoff_flow */

/* ---- program pins ------------------------------------------------------- */
/* The loaded programs are pinned as <bpffs>/progs/<program name>
 * (from_endpoint, to_endpoint, uplink), replacing a previous segd's pins,
 * so `bpftool prog show pinned` works and a later segd finds what is
 * attached. */
#define SEGD_PIN_PROGS_DIR  "progs"

/* ---- capacities ------------------------------------------------------- */
#define SEGD_POLICY_SLOTS        2       /* slot = generation & 1 */
#define SEGD_MAX_POLICY_ENTRIES  524288
#define SEGD_MAX_IPC_EXACT       131072  /* hash, no prealloc */
#define SEGD_MAX_IPC_PREFIXES    524288  /* LPM trie, no prealloc */
#define SEGD_MAX_CT_ENTRIES      262144
#define SEGD_MAX_FRAG_ENTRIES    8192
/* Rule ids are 1..SEGD_MAX_RULES - 1 (0 = the default verdict): the
 * compiler's entry codes hold 20 bits of them. segd_rules, indexed by rule
 * id, is per-CPU: user space sizes it at load time (segd's `max_rules`
 * setting, plus one slot for id 0); the BPF side declares the default. */
#define SEGD_MAX_RULES           1048576
#define SEGD_DEFAULT_MAX_RULES   131072

/* ---- identities -------------------------------------------------------- */
#define SEGD_ID_ANY              0u  /* policy key wildcard; never an address */
#define SEGD_ID_WORLD            1u  /* IPv4 address no other entry claims */
#define SEGD_ID_HOST             2u  /* the node's own addresses */
#define SEGD_ID_WORLD_V6         3u  /* IPv6 address no other entry claims */
#define SEGD_ID_FIRST_ENDPOINT   256u
#define SEGD_ID_LAST_ENDPOINT    0x00ffffffu
#define SEGD_ID_FIRST_CIDR       0x01000000u
#define SEGD_ID_LAST_CIDR        0x01ffffffu

/* ---- generic values ---------------------------------------------------- */
enum segd_dir {
	SEGD_DIR_INGRESS = 0, /* towards the local endpoint */
	SEGD_DIR_EGRESS  = 1, /* away from the local endpoint */
};

enum segd_verdict {
	SEGD_VERDICT_NONE  = 0, /* no entry matched */
	SEGD_VERDICT_ALLOW = 1,
	SEGD_VERDICT_DENY  = 2,
};

/* Why a packet was dropped (or FORWARDED). Index into segd_reasons.
 * X(ID, number, name): the enum (SEGD_REASON_<ID> = number) and the name
 * user space shows (segctl get counters, flow records, metrics) come from
 * this one list. Numbers are the ABI: never move one. Reasons added by
 * other features take the slots after STRATUM; QUARANTINED must not move
 * with them. */
#define SEGD_REASONS(X)                                                       \
	X(FORWARDED,       0, "forwarded")                                    \
	X(POLICY_DENIED,   1, "policy-denied")      /* explicit deny rule */  \
	X(DEFAULT_DENIED,  2, "default-denied")     /* no rule allows */      \
	X(SPOOFED,         3, "spoofed-source")     /* not the endpoint's */  \
	X(MALFORMED_L2,    4, "malformed-l2")                                 \
	X(MALFORMED_L3,    5, "malformed-l3")       /* truncated, bad IHL */  \
	X(MALFORMED_L4,    6, "malformed-l4")                                 \
	X(FRAG_UNTRACKED,  7, "fragment-untracked") /* no first fragment */   \
	X(UNSUPPORTED_L3,  8, "unsupported-l3")     /* not IPv4/IPv6/ARP */   \
	X(NO_STATE,        9, "no-policy-state")    /* no policy loaded */    \
	X(CT_REVOKED,     10, "established-revoked") /* no longer allowed */  \
	X(NOT_ENDPOINT,   11, "not-an-endpoint")    /* foreign address */     \
	X(IPV6_EXT_LIMIT, 12, "ipv6-ext-header-limit")                        \
	X(BLOCKLISTED,    13, "blocklisted")        /* drop blocklist */      \
	X(STRATUM,        14, "stratum-mining")     /* first payload */       \
	X(QUARANTINED,    20, "quarantined")        /* not forensic-allowed */\
	/* Not drops: counted besides FORWARDED, the packet passes (audit     \
	 * blocklist hits are counted per list in segd_bl_stats). */          \
	X(POLICY_AUDIT,   29, "policy-audit")       /* once per flow */       \
	X(STRATUM_AUDIT,  30, "stratum-audit")      /* endpoint in audit */

#define SEGD_REASON_ENUM_(id, num, name) SEGD_REASON_##id = num,
enum segd_reason {
	SEGD_REASONS(SEGD_REASON_ENUM_)
	SEGD_REASON_MAX = 32,
};
#undef SEGD_REASON_ENUM_

#define SEGD_REASON_FITS_(id, num, name) \
	_Static_assert(num < SEGD_REASON_MAX, "reason " #id " past SEGD_REASON_MAX");
SEGD_REASONS(SEGD_REASON_FITS_)
#undef SEGD_REASON_FITS_

#if !defined(__bpf__)
/* The name of a reason, NULL for a number that names none. */
static inline const char *segd_reason_name(unsigned int reason)
{
#define SEGD_REASON_NAME_(id, num, name) [num] = name,
	static const char *const names[SEGD_REASON_MAX] = {
		SEGD_REASONS(SEGD_REASON_NAME_)
	};
#undef SEGD_REASON_NAME_
	return reason < SEGD_REASON_MAX ? names[reason] : NULL;
}
#endif

/* ---- segd_config ------------------------------------------------------- */
struct segd_config {
	__u32 policy_gen;   /* bumped by user space after filling slot gen&1 */
	__u32 flags;        /* SEGD_CFG_*: every writer keeps the bits it
			     * does not own (read-modify-write) */
};
_Static_assert(sizeof(struct segd_config) == 8, "segd_config size");

/* ---- address / ipcache ------------------------------------------------- */
struct segd_addr {
	__u8 b[16];
};
_Static_assert(sizeof(struct segd_addr) == 16, "segd_addr size");

/* Flags on an ipcache value. ENFORCE_* and HINT_* are per direction:
 * bit (x << dir). Hints let the datapath skip lookups that cannot hit. */
#define SEGD_EPF_LOCAL            (1u << 0) /* endpoint on this node */
#define SEGD_EPF_ENFORCE_INGRESS  (1u << 1)
#define SEGD_EPF_ENFORCE_EGRESS   (1u << 2)
#define SEGD_EPF_ENFORCE(dir)     (1u << (1 + (dir)))
#define SEGD_EPF_HINT_BLOCK(dir)  (1u << (3 + (dir))) /* has port-block keys */
#define SEGD_EPF_HINT_ANYREM(dir) (1u << (5 + (dir))) /* has remote=ANY keys */
/* Probe hints (core/image/policy_image.c, OR'd into every exact ipcache
 * value): which probe kinds of the lookup chain have a key for this local
 * identity, per direction and remote kind (0 = specific, 1 = ANY). Only
 * honoured with SEGD_EPF_PROBES_VALID: a state without them probes all. */
#define SEGD_EPF_PROBES_VALID     (1u << 7)
#define SEGD_PROBE_EXACT    0    /* (proto, EXACT, port) */
#define SEGD_PROBE_BLOCK    1    /* (proto, BLOCK, port & 0xff00) */
#define SEGD_PROBE_PROTO    2    /* (proto != 0, ANY, 0) */
#define SEGD_PROBE_ALLPROTO 3    /* (0, ANY, 0) */
#define SEGD_EPF_PROBE(dir, anyrem, kind) \
	(1u << (8 + (dir) * 8 + (anyrem) * 4 + (kind)))
/* Remote-ANY protocol hints, derived likewise: which protocol classes the
 * remote=ANY keys with proto != 0 of this local identity use, per
 * direction ("allow udp/53 to anywhere" is in nearly every egress policy:
 * without them a TCP packet probes (L, *, tcp, ...) for it). The proto-0
 * probe is not affected. */
#define SEGD_PCLASS_TCP     0
#define SEGD_PCLASS_UDP     1
#define SEGD_PCLASS_OTHER   2
#define SEGD_EPF_ANYREM_PROTO(dir, pclass) (1u << (24 + (dir) * 3 + (pclass)))
/* derived with the probe hints: one validity bit */
#define SEGD_EPF_ANYREM_PROTO_VALID        SEGD_EPF_PROBES_VALID

/* Stratum detection (first egress TCP payload of a flow, bpf/lib/stratum.h) on
 * a local endpoint, set by the compiler from the namespace setting: with
 * neither bit the flow is dropped (SEGD_REASON_STRATUM) and its conntrack
 * entry removed; AUDIT counts it (segd_reasons[SEGD_REASON_STRATUM_AUDIT])
 * and lets it pass; OFF does not look at payloads at all. */
#define SEGD_EPF_STRATUM_AUDIT   (1u << 30)
#define SEGD_EPF_STRATUM_OFF     (1u << 31)

/* Remote-specific probe hints per local endpoint (segd_lhints, from
 * core/image/policy_image.c), finer than SEGD_EPF_PROBE(dir, 0, kind):
 * which probe kinds have a key for this local identity AND a remote
 * identity of a given bucket: world identities in bucket 0 (denied flows
 * often go to the world, which few policies name), CIDR identities in
 * 1..3 and the others in 4..7, by hash. A clear bit skips the probe; a
 * missing entry, or one of another generation, means "probe as before".
 * Indexed slot * SEGD_LHINT_EPS + endpoint_id (from the local address's
 * exact ipcache value); ids 0 and >= SEGD_LHINT_EPS have no entry. */
#define SEGD_LHINT_EPS           65536
#define SEGD_LHINT_BUCKETS       8
#define SEGD_LHF_VALID           (1u << 0)
#define SEGD_LH_PROBE(dir, kind, bucket) \
	(1ull << ((dir) * 32 + (kind) * 8 + (bucket)))

struct segd_lhint {
	__u32 gen;          /* policy generation this entry belongs to */
	__u32 flags;        /* SEGD_LHF_* */
	__u64 probes;       /* SEGD_LH_PROBE bits */
};
_Static_assert(sizeof(struct segd_lhint) == 16, "lhint size");

/* The bucket of a remote identity (see above). Shared by both sides. */
static inline __attribute__((always_inline))
__u32 segd_lh_bucket(__u32 remote_id)
{
	__u32 h = remote_id * 0x9e3779b1u;

	if (remote_id == SEGD_ID_WORLD || remote_id == SEGD_ID_WORLD_V6)
		return 0;
	if (remote_id >= SEGD_ID_FIRST_CIDR)
		return 1 + (__u32)(((__u64)h * 3) >> 32);
	return 4 + (h >> 30);
}

struct segd_ipcache_value {
	__u32 identity;
	__u32 ifindex;      /* host-side interface of a local endpoint, else 0 */
	__u32 flags;        /* SEGD_EPF_* */
	__u32 endpoint_id;  /* 0 when not a local endpoint */
};
_Static_assert(sizeof(struct segd_ipcache_value) == 16, "ipcache value size");

/* The local addresses of one endpoint interface (segd_ifc, from
 * core/image/ifc_image.c): EVERY address whose exact ipcache value has
 * SEGD_EPF_LOCAL and this ifindex, with that value, so the tc hooks check
 * spoofing and not-endpoint with an array lookup and a few compares.
 * Indexed slot * SEGD_IFC_BUCKETS + (ifindex & (SEGD_IFC_BUCKETS - 1));
 * honoured only when valid, of the packet's generation and ifindex, else
 * (bucket shared, over SEGD_IFC_ADDRS addresses, stale) the exact ipcache
 * answers. Written like segd_lhints: once no packet can read the slot. */
#define SEGD_IFC_BUCKETS   4096
#define SEGD_IFC_ADDRS     8       /* = SEG_MAX_EP_IPS (asserted in model.h) */
#define SEGD_IFCF_VALID    (1u << 0)

struct segd_ifc_addr {
	struct segd_addr addr;
	struct segd_ipcache_value val;   /* as in the exact ipcache */
};
_Static_assert(sizeof(struct segd_ifc_addr) == 32, "ifc addr size");

struct segd_ifc {
	__u32 gen;          /* policy generation this entry belongs to */
	__u32 flags;        /* SEGD_IFCF_* */
	__u32 ifindex;
	__u32 n;            /* addresses in a[] (<= SEGD_IFC_ADDRS) */
	struct segd_ifc_addr a[SEGD_IFC_ADDRS];
	__u32 pad[12];      /* 320 bytes: header + a[0] share a cache line */
};
_Static_assert(sizeof(struct segd_ifc) == 320, "ifc size");

/* LPM key for segd_ipc_lpm inner maps; prefixlen counts over addr (0..128) */
struct segd_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct segd_lpm_key) == 20, "lpm key size");

/* ---- policy ------------------------------------------------------------ */
/* port_kind: how `port` is matched. A range is compiled into EXACT ports at
 * its ragged ends and BLOCK entries (port & 0xff00) for whole 256-port
 * blocks, so lookups are a fixed chain of hash probes:
 *   (L,R,proto,EXACT,port) (L,R,proto,BLOCK,port&0xff00) (L,R,proto,ANY,0)
 *   (L,R,0,ANY,0), then the same four with R = SEGD_ID_ANY.
 * The first hit decides. The compiler materialises the intersection of every
 * overlapping deny and allow as a deny, so first-hit == deny-beats-allow. */
enum segd_port_kind {
	SEGD_PORT_EXACT = 0,
	SEGD_PORT_BLOCK = 1,
	SEGD_PORT_ANY   = 2,
};
#define SEGD_PORT_BLOCK_MASK 0xff00u
#define SEGD_PROTO_ANY       0

struct segd_policy_key {
	__u32 local_id;
	__u32 remote_id;    /* SEGD_ID_ANY = any remote */
	__u16 port;         /* host byte order */
	__u8  proto;        /* IPPROTO_*, 0 = any */
	__u8  dir;          /* enum segd_dir */
	__u8  port_kind;    /* enum segd_port_kind */
	__u8  pad[3];
};
_Static_assert(sizeof(struct segd_policy_key) == 16, "policy key size");

/* segd_policy_value.flags */
/* verdict is ALLOW, but a policy in audit mode (or the default deny of a
 * namespace or policy in audit mode) would deny the flow: it passes, its
 * conntrack entry carries SEGD_CTF_AUDIT and it is reported as "audit".
 * The compiler only sets it where no enforced policy denies. */
#define SEGD_POLF_AUDIT  (1u << 0)

struct segd_policy_value {
	__u8  verdict;      /* enum segd_verdict */
	__u8  flags;        /* SEGD_POLF_* */
	__u16 pad;
	__u32 rule_id;      /* index into segd_rules and the daemon's rule table */
};
_Static_assert(sizeof(struct segd_policy_value) == 8, "policy value size");

/* ---- conntrack --------------------------------------------------------- */
/* Keyed from the local endpoint's point of view, so both hooks of an
 * endpoint (and the uplink, for replies) find the same entry, and two local
 * endpoints talking to each other get one entry each: both sides' policy
 * is enforced. For ICMP echo, lport = rport = echo id. */
struct segd_ct_key {
	struct segd_addr local;
	struct segd_addr remote;
	__u16 lport;        /* host byte order */
	__u16 rport;
	__u8  proto;
	__u8  pad[3];
};
_Static_assert(sizeof(struct segd_ct_key) == 40, "ct key size");

#define SEGD_CT_ORIG  0
#define SEGD_CT_REPLY 1

struct segd_ct_value {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 packets[2];   /* [SEGD_CT_ORIG], [SEGD_CT_REPLY] */
	__u64 bytes[2];     /* IP header + payload */
	__u32 policy_gen;   /* generation the verdict was taken under */
	__u32 rule_id;
	__u32 remote_id;
	__u8  origin_dir;   /* enum segd_dir of the first packet */
	__u8  tcp_flags[2]; /* TCP flags seen per direction */
	__u8  flags;        /* SEGD_CTF_* (was padding: 0 on older entries) */
};
/* the flow's first egress payload has been looked at (Stratum test) */
#define SEGD_CTF_PAYLOAD_SEEN  (1u << 0)
/* the flow was let through by an audit decision (SEGD_POLF_AUDIT) */
#define SEGD_CTF_AUDIT         (1u << 1)
/* a policy change revoked the flow (policy_gen says which): a tombstone
 * that drops the flow's packets, from either side, until it expires or a
 * TCP SYN opens a new connection on the tuple. Deleting the entry instead
 * would let the peer's next packet open it again as a new flow wherever
 * that direction is not enforced. */
#define SEGD_CTF_REVOKED       (1u << 2)
_Static_assert(sizeof(struct segd_ct_value) == 64, "ct value size");

/* The tc uplink's handoff of a packet it has judged to the endpoint hook
 * on the same CPU, one slot per CPU (BPF only; bpf/lib/handoff.h): an
 * established packet it accounted, or a new flow's decision, which
 * segd_handoff_flow holds. */
struct segd_handoff {
	__u32 tag;       /* armed tag (SEGD_HANDOFF_TAG_MASK; 0 = none),
			  * | SEGD_HANDOFF_NEW for a new flow's decision */
	__u32 ifindex;   /* the uplink that armed it (skb->ingress_ifindex) */
};
_Static_assert(sizeof(struct segd_handoff) == 8, "handoff size");
/* The tag in skb->tc_index: 16 bits, bit 0 always set, bit 1 set for a
 * new flow's decision. The slot's tag also has SEGD_HANDOFF_NEW for one:
 * outside the 16 bits, so an endpoint program that predates it never
 * matches (a segd upgrade's programs meet the old ones). */
#define SEGD_HANDOFF_TAG_MASK  0xffffu
#define SEGD_HANDOFF_TAG_NEW   0x2u
#define SEGD_HANDOFF_NEW       0x10000u
_Static_assert((SEGD_HANDOFF_NEW & SEGD_HANDOFF_TAG_MASK) == 0,
	       "an old endpoint program must never match a new flow's tag");
/* the decision, bound to the conntrack key of the packet it was taken
 * for: a packet rewritten on its way never matches it */
struct segd_handoff_flow {
	struct segd_ct_key key;
	__u32 policy_gen;   /* generation the uplink decided under */
	__u32 rule_id;
	__u32 remote_id;
	__u32 pad;
};
_Static_assert(sizeof(struct segd_handoff_flow) == 56, "handoff flow size");
/* segd_xdp_decided: the XDP uplink's plain allows, a per-CPU cache
 * indexed by segd_xdp_decided_slot (why: bpf/lib/handoff.h) */
#define SEGD_XDP_DECIDED_SLOTS 64u
_Static_assert((SEGD_XDP_DECIDED_SLOTS & (SEGD_XDP_DECIDED_SLOTS - 1)) == 0,
	       "the slot is a hash masked by SEGD_XDP_DECIDED_SLOTS - 1");
/* of a conntrack key: ports, the remote address's last two words */
static inline __attribute__((always_inline))
__u32 segd_xdp_decided_slot(__u16 lport, __u16 rport, __u32 remote2,
			    __u32 remote3)
{
	__u32 h = ((__u32)lport << 16 | rport) ^ remote3 ^ remote2;

	h ^= h >> 16;
	h ^= h >> 8;
	return h & (SEGD_XDP_DECIDED_SLOTS - 1);
}

/* Lifetimes in seconds since last packet. */
#define SEGD_CT_TCP_LIFETIME      21600
#define SEGD_CT_TCP_SYN_LIFETIME  60
#define SEGD_CT_TCP_CLOSE_LIFETIME 10
#define SEGD_CT_UDP_LIFETIME      60
#define SEGD_CT_ICMP_LIFETIME     30
#define SEGD_CT_OTHER_LIFETIME    60

/* How long an entry lives after its last packet, in seconds: the datapath
 * treats an older entry as gone, segd reports its flow as ended. tcp_flags
 * is the OR of both directions' segd_ct_value.tcp_flags (raw TCP flags). */
static inline __attribute__((always_inline))
__u32 segd_ct_lifetime_s(__u8 proto, __u8 tcp_flags)
{
	switch (proto) {
	case 6:   /* TCP */
		if (tcp_flags & (0x01 | 0x04))    /* FIN, RST */
			return SEGD_CT_TCP_CLOSE_LIFETIME;
		if (!(tcp_flags & 0x10))          /* no ACK yet: handshake */
			return SEGD_CT_TCP_SYN_LIFETIME;
		return SEGD_CT_TCP_LIFETIME;
	case 17:  /* UDP */
		return SEGD_CT_UDP_LIFETIME;
	case 1:   /* ICMP */
	case 58:  /* ICMPv6 */
		return SEGD_CT_ICMP_LIFETIME;
	}
	return SEGD_CT_OTHER_LIFETIME;
}

/* ---- fragments ----------------------------------------------------------- */
/* A first fragment records its ports; later fragments of the same datagram
 * reuse them. A non-first fragment with no record is dropped. */
struct segd_frag_key {
	struct segd_addr saddr;
	struct segd_addr daddr;
	__u32 id;           /* IPv4 id (16 bit) or IPv6 fragment id */
	__u8  proto;
	__u8  pad[3];
};
_Static_assert(sizeof(struct segd_frag_key) == 40, "frag key size");

struct segd_frag_value {
	__u16 sport;
	__u16 dport;
	__u32 pad;
};
_Static_assert(sizeof(struct segd_frag_value) == 8, "frag value size");

/* ---- counters (per-CPU; user space sums) --------------------------------- */
struct segd_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct segd_counter) == 16, "counter size");

struct segd_rule_counter {
	__u64 flows;        /* new flows decided by this rule */
	__u64 packets;      /* packets of those first decisions */
	__u64 bytes;
};
_Static_assert(sizeof(struct segd_rule_counter) == 24, "rule counter size");

/* ---- blocklists: miner pools, C2 servers, custom ----------------------- */
/* Checked on the remote address of every flow decision (new flows and
 * flows re-validated after a generation change), before policy, at every
 * hook. A blocklist change bumps the generation, so established flows to a
 * newly listed address are re-checked at their next packet. */
#define SEGD_MAP_BL_EXACT    SEGD_MAP_NAME(segd_bl_exact)  /* hash: segd_addr -> segd_bl_value */
#define SEGD_MAP_BL_LPM      SEGD_MAP_NAME(segd_bl_lpm)    /* lpm: segd_lpm_key -> segd_bl_value */
#define SEGD_MAP_BL_EXCEPT   SEGD_MAP_NAME(segd_bl_except) /* lpm: segd_lpm_key -> __u32 (1) */
#define SEGD_MAP_BL_STATS    SEGD_MAP_NAME(segd_bl_stats)  /* percpu_array[SEGD_MAX_BLOCKLISTS] */
#define SEGD_MAP_BL_NET24    SEGD_MAP_NAME(segd_bl_net24)  /* hash: __u32 /24 -> segd_bl_value */
#define SEGD_MAP_BL_NET16    SEGD_MAP_NAME(segd_bl_net16)  /* array[65536]: /16 -> segd_bl_value */

#define SEGD_MAX_BLOCKLISTS   256      /* list ids 1..255; 0 = none */
#define SEGD_MAX_BL_EXACT     2097152  /* single addresses */
#define SEGD_MAX_BL_PREFIXES  262144
#define SEGD_MAX_BL_EXCEPT    16384
/* /24 networks covered by IPv4 /17../24 prefixes (a /17 takes 128) */
#define SEGD_MAX_BL_NET24     1048576
#define SEGD_BL_NET16_SLOTS   65536

/* segd_config.flags: which blocklist maps hold entries (skip empty ones) */
#define SEGD_CFG_BL_EXACT     (1u << 0)
#define SEGD_CFG_BL_PREFIXES  (1u << 1)
#define SEGD_CFG_BL_EXCEPT    (1u << 2)
/* segd_bl_pfx16 is exact for what segd_bl_lpm holds (see below); without
 * this bit (older writer, adopted maps) the trie is asked unconditionally */
#define SEGD_CFG_BL_PFXGATE   (1u << 3)
/* segd_bl_net24 and segd_bl_net16 hold the IPv4 prefixes of segd_bl_lpm up
 * to /24, expanded, and the prefix gate leaves them out (see below);
 * without this bit (older writer) the gate covers every prefix */
#define SEGD_CFG_BL_NET24     (1u << 4)

/* Prefix gate: 2 x 65,536 bits; the blocklist trie is asked only when
 * the address's bit is set. Bit i < 65536: IPv4 addresses whose /16 is i
 * (a << 8 | b), set for every /16 a prefix covers (with SEGD_CFG_BL_NET24
 * not for IPv4 prefixes up to /24: the net24/net16 views answer those).
 * Bit segd_bl_gate6(): other addresses, by a hash of their first 32 bits;
 * a prefix sets the bit of every /32 it covers (all of them below /16).
 * Bits are set before the prefixes that need them are inserted and
 * cleared only after those are deleted. */
#define SEGD_MAP_BL_GATE      SEGD_MAP_NAME(segd_bl_pfx16)  /* array[2048] of __u64 */
#define SEGD_BL_GATE_V6       65536u
#define SEGD_BL_GATE_BITS     131072u
#define SEGD_BL_GATE_WORDS    (SEGD_BL_GATE_BITS / 64)

/* the gate bit of a non-IPv4 address from its first 32 bits (as loaded
 * from the address bytes: host-endian word; both sides load it the same
 * way on the same machine) */
static inline __attribute__((always_inline))
__u32 segd_bl_gate6(__u32 first_word)
{
	return SEGD_BL_GATE_V6 + ((first_word * 0x9e3779b1u) >> 16);
}

/* The IPv4 views of the trie's prefixes up to /24, so that feed prefixes
 * cost hash and array probes instead of a trie walk:
 * - segd_bl_net24 (hash): prefixes /17../24 expanded to the /24s they
 *   cover. Key: the /24 of a.b.c.d as a << 16 | b << 8 | c; value: the
 *   longest of those prefixes covering it.
 * - segd_bl_net16 (array): prefixes /0../16 painted onto the /16s they
 *   cover. Index: a << 8 | b; value: the longest of those covering it,
 *   list_id 0 for none.
 * Asked, with SEGD_CFG_BL_NET24, for an IPv4 address that missed
 * segd_bl_exact and whose prefix gate bit is clear (net24 first, net16 on
 * a miss: any /17../24 match is longer). With that bit the gate is set
 * only for the /16s that hold a prefix the views cannot answer for (IPv4
 * /25../31, IPv6 prefixes covering IPv4-mapped space); there the trie
 * gives the exact answer. */
static inline __attribute__((always_inline))
__u32 segd_bl_net24_key(const __u8 *v4)
{
	return (__u32)v4[0] << 16 | (__u32)v4[1] << 8 | v4[2];
}

enum segd_bl_action {
	SEGD_BL_DROP  = 1,
	SEGD_BL_AUDIT = 2,   /* count (and report), never drop */
};

enum segd_bl_category {
	SEGD_BL_MINER  = 1,
	SEGD_BL_C2     = 2,
	SEGD_BL_CUSTOM = 3,
};

struct segd_bl_value {
	__u16 list_id;       /* index into segd_bl_stats */
	__u8  action;        /* enum segd_bl_action */
	__u8  category;      /* enum segd_bl_category */
};
_Static_assert(sizeof(struct segd_bl_value) == 4, "bl value size");

/* ---- events: drops and audit decisions, to segd through a ring buffer --- */
/* One event per dropped packet (and per flow passed by an audit
 * decision), at most SEGD_EV_PER_SEC per endpoint, CPU and second; the
 * rest, and those that find the ring full, are counted in segd_ev_stats.
 * The counters stay exact whatever happens to events. */
#define SEGD_MAP_EVENTS      SEGD_MAP_NAME(segd_events)    /* ringbuf */
#define SEGD_MAP_EV_RATE     SEGD_MAP_NAME(segd_ev_rate)   /* percpu_array[SEGD_EV_BUCKETS] of segd_ev_rate */
#define SEGD_MAP_EV_STATS    SEGD_MAP_NAME(segd_ev_stats)  /* percpu_array[SEGD_EVS_MAX] of __u64 */

#define SEGD_EVENTS_RING_BYTES (2u << 20) /* 26,000 events; segd maps it read-only
					    * twice (wrap-around), so it shows as 4 MB
					    * of its RSS */
#define SEGD_EV_BUCKETS        65536   /* indexed by the local endpoint id, or
					* the interface when it is not known */
#define SEGD_EV_PER_SEC        1000

enum segd_ev_stat {
	SEGD_EVS_SENT = 0,          /* reached the ring */
	SEGD_EVS_RATE_LIMITED = 1,  /* suppressed by the per-endpoint limit */
	SEGD_EVS_RING_FULL = 2,     /* the ring had no room */
	SEGD_EVS_ALERT_LOST = 3,    /* segd_alerts had no room for an alert */
	SEGD_EVS_MAX = 4,
};

enum segd_event_type {
	SEGD_EV_DROP = 1,           /* packet dropped; reason says why */
	SEGD_EV_AUDIT = 2,          /* new flow passed by an audit decision */
};

enum segd_hook {
	SEGD_HOOK_TC = 0,           /* an endpoint's veth, both directions */
	SEGD_HOOK_XDP = 1,          /* the uplink's early drop, XDP */
	SEGD_HOOK_TC_UPLINK = 2,    /* the same early drop at the uplink's tc
				     * ingress (config uplink_hook: tc) */
};

struct segd_ev_rate {
	__u64 window_ns;    /* start of the current one-second window */
	__u32 sent;         /* events sent in it */
	__u32 pad;
};
_Static_assert(sizeof(struct segd_ev_rate) == 16, "ev rate size");

struct segd_event {
	__u64 ts_ns;            /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	struct segd_addr saddr; /* as in the packet */
	struct segd_addr daddr;
	__u16 sport;            /* host order; 0 without ports */
	__u16 dport;            /* ICMP/ICMPv6: type << 8 | code */
	__u8  proto;
	__u8  type;             /* enum segd_event_type */
	__u8  reason;           /* enum segd_reason */
	__u8  dir;              /* enum segd_dir, relative to the local endpoint */
	__u8  hook;             /* enum segd_hook */
	__u8  tcp_flags;
	__u16 pad16;
	__u32 ifindex;
	__u32 endpoint_id;      /* local endpoint, 0 = not known */
	__u32 rule_id;          /* rule that decided, 0 = default / none */
	__u32 remote_id;        /* identity of the remote address, 0 = not looked up */
	__u32 bytes;            /* IP header + payload */
	__u32 pad;
};
_Static_assert(sizeof(struct segd_event) == 80, "event size");

/* ---- quarantine: emergency isolation of a compromised workload ---------- */
/* Checked at every hook as soon as the local address is known, before
 * anything that could let a packet through, so established flows are cut
 * at their next packet. A packet of a quarantined address is dropped
 * (SEGD_REASON_QUARANTINED) unless it matches one of the entry's forensic
 * allow rules; then it passes at once. Written in place, not per
 * generation; asked only while SEGD_CFG_QUARANTINE is set. */
#define SEGD_MAP_QUARANTINE   SEGD_MAP_NAME(segd_quarantine) /* hash: segd_addr -> segd_quar_value */
#define SEGD_MAX_QUARANTINED  4096     /* quarantined local addresses */
#define SEGD_QUAR_ALLOW       8        /* forensic allow rules per address */

/* segd_config.flags: segd_quarantine holds at least one entry */
#define SEGD_CFG_QUARANTINE   (1u << 5)   /* bit 4 is SEGD_CFG_BL_NET24 */

/* One forensic allow rule: remote address in net/mask, and when port is
 * not 0 the local OR the remote port equals it (the service port, whichever
 * side opened the flow: the check runs before conntrack), and when proto is
 * not 0 the protocol equals it. net is masked by user space. */
struct segd_quar_allow {
	struct segd_addr net;
	struct segd_addr mask;
	__u16 port;         /* host byte order; 0 = any */
	__u8  proto;        /* IPPROTO_*; 0 = any */
	__u8  pad[5];
};
_Static_assert(sizeof(struct segd_quar_allow) == 40, "quar allow size");

struct segd_quar_value {
	__u32 quarantine_id;    /* segd's quarantine record (segctl get quarantines) */
	__u32 n_allow;          /* rules used in allow[] (<= SEGD_QUAR_ALLOW) */
	struct segd_quar_allow allow[SEGD_QUAR_ALLOW];
};
_Static_assert(sizeof(struct segd_quar_value) == 328, "quar value size");

/* ---- detection: what a compromised workload does, counted per endpoint --- */
/* Counted at the endpoint's tc hook on every new flow it opens (egress
 * conntrack miss: allowed, denied or blocklisted). Per local endpoint,
 * three sketches of SEGD_DETECT_BITS bits hold what the window (two
 * epochs: the current and the one before) saw: destination ports,
 * destination hosts, denied targets that are workloads. A count is the
 * bits set (linear counting: user space turns a distinct count into
 * bits, segd_detect_config.limit). At the limit, or on a miner, C2 or
 * Stratum flow, one segd_alert goes out: at most one per kind, endpoint
 * and epoch. No lock: racing CPUs may lose a bit or repeat an alert
 * (user space merges repeats). */
#define SEGD_MAP_DETECT      SEGD_MAP_NAME(segd_detect)     /* lru_hash: __u32 endpoint id -> segd_detect_state */
#define SEGD_MAP_DETECT_CFG  SEGD_MAP_NAME(segd_detect_cfg) /* array[1] of segd_detect_config */
#define SEGD_MAP_DETECT_ZERO SEGD_MAP_NAME(segd_detect_zero) /* percpu_array[1]: a blank state to insert */
#define SEGD_MAP_ALERTS      SEGD_MAP_NAME(segd_alerts)     /* ringbuf of segd_alert */

#define SEGD_MAX_DETECT_EPS   4096     /* endpoints with state at once (LRU) */
#define SEGD_DETECT_WORDS     4        /* u64 words per sketch */
#define SEGD_DETECT_BITS      (SEGD_DETECT_WORDS * 64)
#define SEGD_DETECT_SAMPLES   8        /* last distinct targets kept */
#define SEGD_ALERTS_RING_BYTES (256u << 10)

/* X(ID, number, name): alert kinds. NEW_DEST is raised by user space from
 * the flows it keeps; the others by the datapath. */
#define SEGD_ALERT_KINDS(X)                                                   \
	X(SCAN,      1, "scan")            /* many ports or many hosts */     \
	X(LATERAL,   2, "lateral")         /* denied attempts to workloads */ \
	X(NEW_DEST,  3, "new-destination") /* outside peer never seen */      \
	X(MINER,     4, "miner")           /* miner pool list or Stratum */   \
	X(C2,        5, "c2")              /* C2 list */

#define SEGD_ALERT_ENUM_(id, num, name) SEGD_ALERT_##id = num,
enum segd_alert_kind {
	SEGD_ALERTS_NONE_ = 0,
	SEGD_ALERT_KINDS(SEGD_ALERT_ENUM_)
	SEGD_ALERT_KIND_MAX = 8,
};
#undef SEGD_ALERT_ENUM_

static inline __attribute__((always_inline))
const char *segd_alert_kind_name(__u32 kind)
{
#define SEGD_ALERT_NAME_(id, num, name) [num] = name,
	static const char *const names[SEGD_ALERT_KIND_MAX] = {
		SEGD_ALERT_KINDS(SEGD_ALERT_NAME_)
	};
#undef SEGD_ALERT_NAME_
	return kind < SEGD_ALERT_KIND_MAX ? names[kind] : NULL;
}

enum segd_detect_sketch {
	SEGD_SK_PORTS  = 0,   /* (proto, destination port) */
	SEGD_SK_HOSTS  = 1,   /* destination address */
	SEGD_SK_DENIED = 2,   /* denied (address, proto, port), remote a workload */
	SEGD_SK_MAX    = 3,
};

/* segd_detect_config.flags */
#define SEGD_DCF_ON           (1u << 0)   /* count at all */
#define SEGD_DCF_MINER        (1u << 1)   /* alert on miner lists and Stratum */
#define SEGD_DCF_C2           (1u << 2)   /* alert on C2 lists */

struct segd_detect_config {
	__u64 epoch_ns;             /* half the window */
	union {
		struct {
			__u16 limit[SEGD_SK_MAX]; /* bits that raise the alert; 0 = never */
			__u16 flags;              /* SEGD_DCF_* */
		};
		__u64 word;         /* all of it in one load (bpf/lib/detect.h) */
	};
};
_Static_assert(sizeof(struct segd_detect_config) == 16, "detect config size");
_Static_assert(SEGD_SK_MAX == 3, "segd_detect_config.word: three limits and the flags");

struct segd_detect_target {
	struct segd_addr addr;
	__u16 port;                 /* host order; ICMP: type << 8 | code */
	__u8  proto;
	__u8  denied;               /* 1: the flow was dropped */
};
_Static_assert(sizeof(struct segd_detect_target) == 20, "detect target size");

/* Per endpoint. [0] is the current epoch, [1] the one before. */
struct segd_detect_state {
	__u64 epoch;                /* the current epoch (now / epoch_ns) */
	__u64 first_ns[2];          /* first new flow counted in the epoch */
	__u32 flows[2];             /* new flows counted in the epoch */
	__u32 denied[2];            /* of them, dropped */
	__u32 fired;                /* bit per alert kind raised this epoch */
	__u32 next_sample;          /* sample[next_sample % SAMPLES] is next */
	__u32 cur_bits[SEGD_SK_MAX];   /* bits set in cur */
	__u32 union_bits[SEGD_SK_MAX]; /* bits set in cur | prev: the count */
	__u64 cur[SEGD_SK_MAX][SEGD_DETECT_WORDS];
	__u64 prev[SEGD_SK_MAX][SEGD_DETECT_WORDS];
	struct segd_detect_target sample[SEGD_DETECT_SAMPLES];
};
_Static_assert(sizeof(struct segd_detect_state) ==
	       48 + 2 * 4 * SEGD_SK_MAX +
	       2 * 8 * SEGD_SK_MAX * SEGD_DETECT_WORDS +
	       SEGD_DETECT_SAMPLES * sizeof(struct segd_detect_target),
	       "detect state: header, sketches, samples");

struct segd_alert {
	__u64 ts_ns;                /* the packet that raised it (CLOCK_MONOTONIC) */
	__u64 first_ns;             /* first new flow of the window */
	struct segd_addr laddr;     /* the local endpoint's address */
	struct segd_detect_target target; /* the flow that raised it */
	__u32 endpoint_id;
	__u8  kind;                 /* enum segd_alert_kind */
	__u8  sketch;               /* SCAN: SEGD_SK_PORTS or _HOSTS that crossed */
	__u16 list_id;              /* MINER, C2 from a list: the list; 0 = Stratum */
	__u32 flows;                /* new flows in the window */
	__u32 denied;
	__u16 bits[SEGD_SK_MAX];    /* union counts */
	__u16 n_sample;
	__u32 pad;
	struct segd_detect_target sample[SEGD_DETECT_SAMPLES];
};
_Static_assert(sizeof(struct segd_alert) == 80 +
	       SEGD_DETECT_SAMPLES * sizeof(struct segd_detect_target),
	       "alert size");

/* ---- size relations ------------------------------------------------------ */
/* What the layouts above rely on, checked by the compiler on both sides. */
_Static_assert(SEGD_POLICY_SLOTS == 2, "slot = generation & 1");
_Static_assert(SEGD_ID_LAST_ENDPOINT < SEGD_ID_FIRST_CIDR &&
	       SEGD_ID_FIRST_ENDPOINT > SEGD_ID_WORLD_V6, "identity ranges overlap");
_Static_assert(SEGD_DEFAULT_MAX_RULES < SEGD_MAX_RULES,
	       "segd_rules' default size (max rules + 1) holds valid rule ids only");
_Static_assert(SEGD_LHINT_BUCKETS <= 8 && SEGD_PROBE_ALLPROTO < 4,
	       "SEGD_LH_PROBE: 8 bits per probe kind, 4 kinds per direction");
_Static_assert((SEGD_IFC_BUCKETS & (SEGD_IFC_BUCKETS - 1)) == 0,
	       "segd_ifc is indexed by ifindex & (SEGD_IFC_BUCKETS - 1)");
_Static_assert(SEGD_IFC_ADDRS * sizeof(struct segd_ifc_addr) + 16 + 48 ==
	       sizeof(struct segd_ifc), "segd_ifc: header, a[], pad");
_Static_assert((SEGD_EPF_PROBE(1, 1, SEGD_PROBE_ALLPROTO) <
		SEGD_EPF_ANYREM_PROTO(0, 0)) &&
	       (SEGD_EPF_ANYREM_PROTO(1, SEGD_PCLASS_OTHER) < SEGD_EPF_STRATUM_AUDIT) &&
	       (SEGD_EPF_HINT_ANYREM(1) < SEGD_EPF_PROBES_VALID) &&
	       (SEGD_EPF_PROBES_VALID < SEGD_EPF_PROBE(0, 0, 0)),
	       "SEGD_EPF_* bits overlap");
_Static_assert(SEGD_MAX_BLOCKLISTS <= 65536, "segd_bl_value.list_id is 16 bits");
_Static_assert(SEGD_BL_GATE_WORDS * 64 == SEGD_BL_GATE_BITS &&
	       SEGD_BL_GATE_V6 + 65536 == SEGD_BL_GATE_BITS,
	       "prefix gate: IPv4 /16 bits, then 65536 hashed bits");
_Static_assert(SEGD_BL_NET16_SLOTS == 65536, "segd_bl_net16 has one slot per /16");
_Static_assert(SEGD_CFG_BL_NET24 < SEGD_CFG_QUARANTINE, "SEGD_CFG_* bits overlap");
_Static_assert(SEGD_EVS_ALERT_LOST < SEGD_EVS_MAX, "segd_ev_stats too small");
_Static_assert((SEGD_EVENTS_RING_BYTES & (SEGD_EVENTS_RING_BYTES - 1)) == 0,
	       "a ring buffer is a power of two bytes");
_Static_assert((SEGD_EV_BUCKETS & (SEGD_EV_BUCKETS - 1)) == 0,
	       "events.h masks the bucket with SEGD_EV_BUCKETS - 1");
_Static_assert(SEGD_QUAR_ALLOW * sizeof(struct segd_quar_allow) + 8 ==
	       sizeof(struct segd_quar_value), "segd_quar_value: header, allow[]");

#endif /* SEGD_ABI_H */
