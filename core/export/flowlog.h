/* flowlog.h - the JSON flow log: one flow record (flow_record.h) per line,
 * in a file rotated by size, or on stdout.
 *
 * seg_flow_record_json is pure (tests call it directly); the rest writes
 * files. A line is written with one write(2) on an O_APPEND descriptor, so
 * a file never holds part of a line, and rotation happens between lines.
 */
#ifndef SEGD_FLOWLOG_H
#define SEGD_FLOWLOG_H

#include <stddef.h>
#include <stdint.h>
#include "flow_record.h"
#include "timetext.h"
#include "model.h"

/* One record as one JSON line ('\n' included) into buf. Returns the bytes
 * written (without a terminating NUL; one is added when room is left) or
 * -ENOSPC when buf is too small, -ENOMEM.
 *
 * Fields, in this order; those in [] only when they apply:
 *   time                 RFC 3339 UTC with milliseconds
 *   verdict              "forwarded" | "dropped" | "audit"
 *   src_ip [src_port] dst_ip [dst_port]
 *                        dotted IPv4 for IPv4-mapped addresses; ports for
 *                        tcp, udp, sctp and udplite only
 *   proto                "tcp" "udp" "icmp" "icmpv6" "sctp", else the number
 *                        as a string ("47")
 *   packets bytes        original direction (IP bytes), delta
 *   [reply_packets reply_bytes]  not on dropped records (no reply side)
 *   [tcp_flags]          TCP only, flags seen in either direction, as
 *                        names joined by '|' in header order:
 *                        "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR"; absent when none
 *   direction            "ingress" | "egress" (of the first packet, seen
 *                        from the observing endpoint)
 *   source destination   {[namespace, name, labels {k: v}], identity}
 *   [observer] [policy] [drop_reason] [blocklist]
 *   [start] [end]        RFC 3339, first and last packet
 *   [final]              true on the last record of a flow, else absent
 */
int seg_flow_record_json(const struct seg_flow_record *r, char *buf, size_t len);


struct seg_flowlog;

struct seg_flowlog_stats {
	uint64_t lines;          /* lines written whole */
	uint64_t bytes;          /* their bytes */
	uint64_t rotations;      /* size rotations done by segd */
	uint64_t write_errors;   /* records lost: no room, write or
				  * rotation failed */
};

/* Open the log: path "-" = stdout (never rotated), else the file is opened
 * O_APPEND (created 0640) and rotated when the next line would take it
 * past max_bytes: FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, then a
 * new FILE. keep 0: the full file is removed. max_bytes 0: never rotated.
 * A line longer than max_bytes alone still goes in (into a fresh file). */
int seg_flowlog_open(const char *path, uint64_t max_bytes, unsigned int keep,
		     struct seg_flowlog **out, struct seg_error *err);
/* Append one record. 0, or -errno (also counted in write_errors). */
/* Gather lines in memory from now on; they reach the file at
 * seg_flowlog_flush (after each flow pass), when the buffer is full,
 * before a rotation and at close. Unbuffered (the default), each line is
 * one write(2). Either way a file only ever holds whole lines. */
int seg_flowlog_buffer(struct seg_flowlog *fl);
int seg_flowlog_flush(struct seg_flowlog *fl);
/* seg_flow_pass_fn (flow_export.h) over seg_flowlog_flush: ctx is the log */
void seg_flowlog_on_pass(void *ctx, uint64_t now_ns);
/* seg_flow_sink_fn (flowtab.h) over seg_flowlog_write: ctx is the log */
void seg_flowlog_sink(void *ctx, const struct seg_flow_record *r);
int seg_flowlog_write(struct seg_flowlog *fl, const struct seg_flow_record *r);
/* Append one line of another kind ('\n'-terminated, n bytes), e.g. an
 * alert record: rotated, buffered and counted as records are. */
int seg_flowlog_write_line(struct seg_flowlog *fl, const char *line, size_t n);
/* Close and open the path again (after an outside logrotate moved it;
 * segd calls it on SIGHUP). No-op for stdout. */
int seg_flowlog_reopen(struct seg_flowlog *fl);
void seg_flowlog_stats(const struct seg_flowlog *fl, struct seg_flowlog_stats *out);
void seg_flowlog_close(struct seg_flowlog *fl);

#endif /* SEGD_FLOWLOG_H */
