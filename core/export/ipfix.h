/* ipfix.h - export flow records to IPFIX collectors over UDP (RFC 7011).
 *
 * One connected, non-blocking UDP socket per collector; every collector
 * gets the same messages. Sending never blocks and never fails the
 * caller: a lost message (collector down: ECONNREFUSED, full socket
 * buffer: EAGAIN) is counted in send_errors. The flow table calls
 * seg_ipfix_add for each record of a pass and seg_ipfix_flush after it.
 */
#ifndef SEGD_IPFIX_H
#define SEGD_IPFIX_H

#include <stddef.h>
#include <stdint.h>
#include "flow_record.h"
#include "model.h"

struct seg_ipfix;

struct seg_ipfix_stats {
	uint64_t messages;     /* IPFIX messages built (each sent to all) */
	uint64_t records;      /* data records in them */
	uint64_t send_errors;  /* sends that failed, summed over collectors */
};

/* collectors: "HOST:PORT", "[IPV6]:PORT"; a host name is resolved once,
 * here. Fails (-EINVAL, -ENOMEM, ...) only on a bad address or no
 * socket; err says which collector and why. */
int seg_ipfix_open(char *const *collectors, size_t n,
		   uint32_t observation_domain, struct seg_ipfix **out,
		   struct seg_error *err);
/* now_ns: CLOCK_REALTIME, as the records' times. Returns 0. */
int seg_ipfix_add(struct seg_ipfix *x, const struct seg_flow_record *r,
		  uint64_t now_ns);
int seg_ipfix_flush(struct seg_ipfix *x, uint64_t now_ns);
void seg_ipfix_stats(const struct seg_ipfix *x, struct seg_ipfix_stats *out);
/* For the flow table: seg_flow_sink_fn over seg_ipfix_add (at the
 * record's time) and seg_flow_pass_fn over seg_ipfix_flush; ctx = x. */
void seg_ipfix_record_sink(void *x, const struct seg_flow_record *r);
void seg_ipfix_on_pass(void *x, uint64_t now_ns);
/* This node's observation domain: a hash of its host name, never 0. */
uint32_t seg_ipfix_node_domain(void);
void seg_ipfix_close(struct seg_ipfix *x);

#endif /* SEGD_IPFIX_H */
