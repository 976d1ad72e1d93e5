/* ipfix_encode.h - IPFIX (RFC 7011) message encoding for flow records.
 *
 * Pure: no syscalls. The encoder keeps one pending message per address
 * family and hands each finished message to a sink (ipfix.c sends it to
 * every collector; the tests capture it). All collectors get the same
 * byte stream, so one sequence counter and one template timer serve them
 * all.
 */
#ifndef SEGD_IPFIX_ENCODE_H
#define SEGD_IPFIX_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow_record.h"

#define SEG_IPFIX_VERSION        10
#define SEG_IPFIX_MAX_MESSAGE    1400    /* stays under a 1500-byte MTU */
#define SEG_IPFIX_TEMPLATE_SET   2
#define SEG_IPFIX_TEMPLATE_V4    256
#define SEG_IPFIX_TEMPLATE_V6    257
#define SEG_IPFIX_TEMPLATE_REFRESH_NS (60ull * 1000000000ull)

/* Information elements we send (IANA "IPFIX Information Elements"). */
enum seg_ipfix_ie {
	SEG_IE_OCTET_DELTA        = 1,
	SEG_IE_PACKET_DELTA       = 2,
	SEG_IE_PROTOCOL           = 4,
	SEG_IE_TCP_FLAGS          = 6,
	SEG_IE_SRC_PORT           = 7,
	SEG_IE_SRC_V4             = 8,
	SEG_IE_INGRESS_IFINDEX    = 10,
	SEG_IE_DST_PORT           = 11,
	SEG_IE_DST_V4             = 12,
	SEG_IE_POST_OCTET_DELTA   = 23,  /* nfdump: "out bytes" */
	SEG_IE_POST_PACKET_DELTA  = 24,  /* nfdump: "out packets" */
	SEG_IE_SRC_V6             = 27,
	SEG_IE_DST_V6             = 28,
	SEG_IE_FLOW_DIRECTION     = 61,
	SEG_IE_FORWARDING_STATUS  = 89,
	SEG_IE_FLOW_START_MS      = 152,
	SEG_IE_FLOW_END_MS        = 153,
	SEG_IE_FIREWALL_EVENT     = 233,
};

/* forwardingStatus (RFC 7270 / IANA): 2-bit status, 6-bit reason */
#define SEG_IPFIX_FWD_FORWARDED     64   /* forwarded, unknown reason */
#define SEG_IPFIX_FWD_DROP_ACL_DENY 129  /* dropped, ACL deny */

/* firewallEvent (IANA IE 233) */
#define SEG_IPFIX_FW_CREATED 1
#define SEG_IPFIX_FW_DELETED 2
#define SEG_IPFIX_FW_DENIED  3
#define SEG_IPFIX_FW_UPDATE  5

enum seg_ipfix_family { SEG_IPFIX_V4 = 0, SEG_IPFIX_V6 = 1, SEG_IPFIX_FAMILIES };

/* Receives each finished message; the bytes are valid during the call. */
typedef void (*seg_ipfix_sink)(void *ctx, const uint8_t *msg, size_t len);

struct seg_ipfix_pending {
	uint8_t buf[SEG_IPFIX_MAX_MESSAGE];
	size_t len;             /* 0: no message started */
	size_t data_set_off;    /* where the data set header is */
	uint32_t records;
};

struct seg_ipfix_encoder {
	uint32_t domain;                /* observation domain id */
	uint32_t sequence;              /* data records sent so far, mod 2^32 */
	uint64_t messages, records;     /* handed to the sink */
	uint64_t last_flush_ns;         /* end of the previous pass */
	bool template_sent[SEG_IPFIX_FAMILIES];
	uint64_t template_ns[SEG_IPFIX_FAMILIES]; /* when it last went out */
	struct seg_ipfix_pending pending[SEG_IPFIX_FAMILIES];
	seg_ipfix_sink sink;
	void *sink_ctx;
};

void seg_ipfix_encoder_init(struct seg_ipfix_encoder *e, uint32_t domain,
			    seg_ipfix_sink sink, void *sink_ctx);
/* Append r to its family's message; a full message goes to the sink
 * first. now_ns is CLOCK_REALTIME (export time, template refresh). */
void seg_ipfix_encoder_add(struct seg_ipfix_encoder *e,
			   const struct seg_flow_record *r, uint64_t now_ns);
/* Hand both pending messages (if any) to the sink; marks the end of a
 * flow-table pass (firewallEvent "created" means: started since the
 * previous pass). */
void seg_ipfix_encoder_flush(struct seg_ipfix_encoder *e, uint64_t now_ns);

/* The family a record is exported under: IPv4 when both ends are
 * IPv4-mapped. */
enum seg_ipfix_family seg_ipfix_family_of(const struct seg_flow_record *r);
/* Bytes one data record of that family takes. */
size_t seg_ipfix_record_size(enum seg_ipfix_family f);

#endif /* SEGD_IPFIX_ENCODE_H */
