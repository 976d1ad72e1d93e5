/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* maps.h - every map the segd programs share. Names are SEGD_MAP_* from
 * segd_abi.h, all pinned by name so two objects (tc, xdp) and successive
 * segd processes share one set.
 *
 * segd_policy / segd_ipc_exact / segd_ipc_lpm are two-slot map-in-maps:
 * user space builds a fresh inner map per apply (BPF_F_NO_PREALLOC keeps
 * that cheap), stores it in slot (gen+1)&1 and only then bumps
 * segd_config.policy_gen. See policy.h for the reader side.
 */
#ifndef SEGD_BPF_MAPS_H
#define SEGD_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "segd_abi.h"

/* inner map templates (never instantiated on their own). Sizes, not BTF
 * types: clang emits the pointee types of these as forward declarations. */
struct segd_policy_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_POLICY_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct segd_policy_key));
	__uint(value_size, sizeof(struct segd_policy_value));
};

struct segd_exact_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_IPC_EXACT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct segd_addr));
	__uint(value_size, sizeof(struct segd_ipcache_value));
};

struct segd_lpm_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEGD_MAX_IPC_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(key_size, sizeof(struct segd_lpm_key));
	__uint(value_size, sizeof(struct segd_ipcache_value));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SEGD_POLICY_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct segd_policy_inner);
} SEGD_MAP_POLICY SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SEGD_POLICY_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct segd_exact_inner);
} SEGD_MAP_IPC_EXACT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SEGD_POLICY_SLOTS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct segd_lpm_inner);
} SEGD_MAP_IPC_LPM SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEGD_MAX_CT_ENTRIES);
	__type(key, struct segd_ct_key);
	__type(value, struct segd_ct_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_CT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEGD_MAX_FRAG_ENTRIES);
	__type(key, struct segd_frag_key);
	__type(value, struct segd_frag_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_FRAG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_REASON_MAX);
	__type(key, __u32);
	__type(value, struct segd_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_REASONS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_DEFAULT_MAX_RULES + 1);
	__type(key, __u32);
	__type(value, struct segd_rule_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_RULES SEC(".maps");

/* remote-specific probe hints per (slot, local endpoint id); see
 * segd_abi.h. An array: the lookup is inlined, no hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEGD_POLICY_SLOTS * SEGD_LHINT_EPS);
	__type(key, __u32);
	__type(value, struct segd_lhint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_LHINTS SEC(".maps");

/* the local addresses of each endpoint interface per slot; see segd_abi.h.
 * An array: the lookup is inlined, no hash. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEGD_POLICY_SLOTS * SEGD_IFC_BUCKETS);
	__type(key, __u32);
	__type(value, struct segd_ifc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_IFC SEC(".maps");

/* what the tc uplink hands to the endpoint hook (handoff.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_handoff);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_HANDOFF SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_handoff_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_HANDOFF_FLOW SEC(".maps");

/* what the XDP uplink decided for new flows, for the endpoint hook */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_XDP_DECIDED_SLOTS);
	__type(key, __u32);
	__type(value, struct segd_handoff_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_XDP_DECIDED SEC(".maps");

/* ---- blocklists (segd_abi.h; reader side in blocklist_check.h) ------------------
 * Written in place by user space (seg_dp_blocklists_write): new and
 * changed keys first, stale keys after. Which ones hold entries is in
 * segd_config.flags (SEGD_CFG_BL_*), so an empty map costs nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_BL_EXACT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_addr);
	__type(value, struct segd_bl_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_EXACT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEGD_MAX_BL_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_lpm_key);
	__type(value, struct segd_bl_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_LPM SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEGD_MAX_BL_EXCEPT);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_lpm_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_EXCEPT SEC(".maps");

/* the prefix gate of segd_bl_lpm (segd_abi.h), honoured with
 * SEGD_CFG_BL_PFXGATE */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEGD_BL_GATE_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_GATE SEC(".maps");

/* IPv4 /17../24 prefixes by /24 (segd_abi.h), with SEGD_CFG_BL_NET24 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_BL_NET24);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct segd_bl_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_NET24 SEC(".maps");

/* IPv4 /0../16 prefixes by /16 (segd_abi.h), with SEGD_CFG_BL_NET24 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEGD_BL_NET16_SLOTS);
	__type(key, __u32);
	__type(value, struct segd_bl_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_NET16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_MAX_BLOCKLISTS);
	__type(key, __u32);
	__type(value, struct segd_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_BL_STATS SEC(".maps");

/* ---- events (segd_abi.h, "events"; bpf/lib/events.h) ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SEGD_EVENTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_EVENTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_EV_BUCKETS);
	__type(key, __u32);
	__type(value, struct segd_ev_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_EV_RATE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEGD_EVS_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_EV_STATS SEC(".maps");

/* ---- quarantine (segd_abi.h; reader side in quarantine_check.h) -----------------
 * Written in place by user space; asked only while SEGD_CFG_QUARANTINE is
 * set. Not preallocated: a replaced value is freed after an RCU grace
 * period, so a packet never reads an allow list half rewritten. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_QUARANTINED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_addr);
	__type(value, struct segd_quar_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_QUARANTINE SEC(".maps");

/* ---- detection (segd_abi.h, "detection"; bpf/lib/detect.h) ---- */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEGD_MAX_DETECT_EPS);
	__type(key, __u32);
	__type(value, struct segd_detect_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_DETECT SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_detect_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_DETECT_CFG SEC(".maps");

/* a blank state to insert from (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_detect_state);
} SEGD_MAP_DETECT_ZERO SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SEGD_ALERTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} SEGD_MAP_ALERTS SEC(".maps");

#endif /* SEGD_BPF_MAPS_H */
