/* ipfix_encode.c - flow records to IPFIX messages (RFC 7011), no syscalls.
 *
 * Message layout: header (16 bytes), then a template set when the
 * family's template is due (first message, then every 60 s: UDP has no
 * other way to tell a collector that starts late), then one data set.
 * Each template is one table below; adding a field is one line there
 * (plus a case in put_value when the value is new).
 */
#include <string.h>
#include <netinet/in.h>
#include "ipfix_encode.h"

enum value {
	VAL_SRC_ADDR, VAL_DST_ADDR,     /* 4 or 16 bytes by field length */
	VAL_SRC_PORT, VAL_DST_PORT, VAL_PROTO,
	VAL_BYTES, VAL_PACKETS, VAL_REPLY_BYTES, VAL_REPLY_PACKETS,
	VAL_START_MS, VAL_END_MS, VAL_TCP_FLAGS,
	VAL_FORWARDING_STATUS, VAL_FIREWALL_EVENT, VAL_DIRECTION, VAL_IFINDEX,
};

struct field {
	uint16_t ie;
	uint16_t len;
	enum value value;
};

#define COMMON_FIELDS \
	{ SEG_IE_SRC_PORT,          2, VAL_SRC_PORT }, \
	{ SEG_IE_DST_PORT,          2, VAL_DST_PORT }, \
	{ SEG_IE_PROTOCOL,          1, VAL_PROTO }, \
	{ SEG_IE_OCTET_DELTA,       8, VAL_BYTES }, \
	{ SEG_IE_PACKET_DELTA,      8, VAL_PACKETS }, \
	{ SEG_IE_POST_OCTET_DELTA,  8, VAL_REPLY_BYTES }, \
	{ SEG_IE_POST_PACKET_DELTA, 8, VAL_REPLY_PACKETS }, \
	{ SEG_IE_FLOW_START_MS,     8, VAL_START_MS }, \
	{ SEG_IE_FLOW_END_MS,       8, VAL_END_MS }, \
	{ SEG_IE_TCP_FLAGS,         2, VAL_TCP_FLAGS }, \
	{ SEG_IE_FORWARDING_STATUS, 1, VAL_FORWARDING_STATUS }, \
	{ SEG_IE_FIREWALL_EVENT,    1, VAL_FIREWALL_EVENT }, \
	{ SEG_IE_FLOW_DIRECTION,    1, VAL_DIRECTION }, \
	{ SEG_IE_INGRESS_IFINDEX,   4, VAL_IFINDEX }

static const struct field v4_fields[] = {
	{ SEG_IE_SRC_V4, 4, VAL_SRC_ADDR },
	{ SEG_IE_DST_V4, 4, VAL_DST_ADDR },
	COMMON_FIELDS,
};

static const struct field v6_fields[] = {
	{ SEG_IE_SRC_V6, 16, VAL_SRC_ADDR },
	{ SEG_IE_DST_V6, 16, VAL_DST_ADDR },
	COMMON_FIELDS,
};

static const struct template {
	uint16_t id;
	const struct field *fields;
	size_t n;
} templates[SEG_IPFIX_FAMILIES] = {
	[SEG_IPFIX_V4] = { SEG_IPFIX_TEMPLATE_V4, v4_fields,
			   sizeof(v4_fields) / sizeof(v4_fields[0]) },
	[SEG_IPFIX_V6] = { SEG_IPFIX_TEMPLATE_V6, v6_fields,
			   sizeof(v6_fields) / sizeof(v6_fields[0]) },
};

#define HEADER_LEN     16
#define SET_HEADER_LEN 4

static void put_be(uint8_t *p, uint64_t v, size_t len)
{
	for (size_t i = len; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

size_t seg_ipfix_record_size(enum seg_ipfix_family f)
{
	size_t n = 0;

	for (size_t i = 0; i < templates[f].n; i++)
		n += templates[f].fields[i].len;
	return n;
}

static size_t template_set_size(enum seg_ipfix_family f)
{
	/* set header, template record header (id, count), 4 bytes a field */
	return SET_HEADER_LEN + 4 + 4 * templates[f].n;
}

enum seg_ipfix_family seg_ipfix_family_of(const struct seg_flow_record *r)
{
	return IN6_IS_ADDR_V4MAPPED(&r->src) && IN6_IS_ADDR_V4MAPPED(&r->dst)
		? SEG_IPFIX_V4 : SEG_IPFIX_V6;
}

void seg_ipfix_encoder_init(struct seg_ipfix_encoder *e, uint32_t domain,
			    seg_ipfix_sink sink, void *sink_ctx)
{
	memset(e, 0, sizeof(*e));
	e->domain = domain;
	e->sink = sink;
	e->sink_ctx = sink_ctx;
}

static uint8_t firewall_event(const struct seg_ipfix_encoder *e,
			      const struct seg_flow_record *r)
{
	if (r->verdict == SEG_FLOW_DROPPED)
		return SEG_IPFIX_FW_DENIED;
	if (r->final)
		return SEG_IPFIX_FW_DELETED;
	/* The flow table reports every live flow once a pass, so a flow that
	 * started after the previous pass has had no record before. */
	return r->start_ns > e->last_flush_ns ? SEG_IPFIX_FW_CREATED
					     : SEG_IPFIX_FW_UPDATE;
}

static void put_value(uint8_t *p, const struct field *f,
		      const struct seg_ipfix_encoder *e,
		      const struct seg_flow_record *r)
{
	uint64_t v = 0;

	switch (f->value) {
	case VAL_SRC_ADDR:
		memcpy(p, f->len == 4 ? &r->src.s6_addr[12] : r->src.s6_addr, f->len);
		return;
	case VAL_DST_ADDR:
		memcpy(p, f->len == 4 ? &r->dst.s6_addr[12] : r->dst.s6_addr, f->len);
		return;
	case VAL_SRC_PORT:      v = r->sport; break;
	case VAL_DST_PORT:      v = r->dport; break;
	case VAL_PROTO:         v = r->proto; break;
	case VAL_BYTES:         v = r->bytes; break;
	case VAL_PACKETS:       v = r->packets; break;
	case VAL_REPLY_BYTES:   v = r->reply_bytes; break;
	case VAL_REPLY_PACKETS: v = r->reply_packets; break;
	case VAL_START_MS:      v = r->start_ns / 1000000; break;
	case VAL_END_MS:        v = r->end_ns / 1000000; break;
	case VAL_TCP_FLAGS:     v = r->tcp_flags; break;
	case VAL_FORWARDING_STATUS:
		v = r->verdict == SEG_FLOW_DROPPED ? SEG_IPFIX_FWD_DROP_ACL_DENY
						   : SEG_IPFIX_FWD_FORWARDED;
		break;
	case VAL_FIREWALL_EVENT: v = firewall_event(e, r); break;
	case VAL_DIRECTION:     v = r->direction; break;
	case VAL_IFINDEX:       v = r->ifindex; break;
	}
	put_be(p, v, f->len);
}

static size_t put_template_set(uint8_t *p, enum seg_ipfix_family f)
{
	const struct template *t = &templates[f];
	size_t len = template_set_size(f);

	put_be(p, SEG_IPFIX_TEMPLATE_SET, 2);
	put_be(p + 2, len, 2);
	put_be(p + 4, t->id, 2);
	put_be(p + 6, t->n, 2);
	p += 8;
	for (size_t i = 0; i < t->n; i++, p += 4) {
		put_be(p, t->fields[i].ie, 2);
		put_be(p + 2, t->fields[i].len, 2);
	}
	return len;
}

/* Close the message: fill in lengths, export time and sequence number,
 * hand it to the sink, and count its records into the sequence. */
static void send_pending(struct seg_ipfix_encoder *e, enum seg_ipfix_family f,
			 uint64_t now_ns)
{
	struct seg_ipfix_pending *m = &e->pending[f];

	if (!m->len)
		return;
	put_be(m->buf, SEG_IPFIX_VERSION, 2);
	put_be(m->buf + 2, m->len, 2);
	put_be(m->buf + 4, now_ns / 1000000000ull, 4);
	put_be(m->buf + 8, e->sequence, 4);
	put_be(m->buf + 12, e->domain, 4);
	put_be(m->buf + m->data_set_off + 2, m->len - m->data_set_off, 2);
	e->sink(e->sink_ctx, m->buf, m->len);
	e->sequence += m->records;   /* RFC 7011 §3.1: data records only */
	e->records += m->records;
	e->messages++;
	m->len = 0;
	m->records = 0;
}

static void start_message(struct seg_ipfix_encoder *e, enum seg_ipfix_family f,
			  uint64_t now_ns)
{
	struct seg_ipfix_pending *m = &e->pending[f];

	m->len = HEADER_LEN;
	if (!e->template_sent[f] ||
	    now_ns - e->template_ns[f] >= SEG_IPFIX_TEMPLATE_REFRESH_NS) {
		m->len += put_template_set(m->buf + m->len, f);
		e->template_sent[f] = true;
		e->template_ns[f] = now_ns;
	}
	m->data_set_off = m->len;
	put_be(m->buf + m->len, templates[f].id, 2);
	m->len += SET_HEADER_LEN;
	m->records = 0;
}

void seg_ipfix_encoder_add(struct seg_ipfix_encoder *e,
			   const struct seg_flow_record *r, uint64_t now_ns)
{
	enum seg_ipfix_family f = seg_ipfix_family_of(r);
	struct seg_ipfix_pending *m = &e->pending[f];
	const struct template *t = &templates[f];
	size_t size = seg_ipfix_record_size(f);

	if (m->len && m->len + size > SEG_IPFIX_MAX_MESSAGE)
		send_pending(e, f, now_ns);
	if (!m->len)
		start_message(e, f, now_ns);
	for (size_t i = 0; i < t->n; i++) {
		put_value(m->buf + m->len, &t->fields[i], e, r);
		m->len += t->fields[i].len;
	}
	m->records++;
}

void seg_ipfix_encoder_flush(struct seg_ipfix_encoder *e, uint64_t now_ns)
{
	for (int f = 0; f < SEG_IPFIX_FAMILIES; f++)
		send_pending(e, (enum seg_ipfix_family)f, now_ns);
	e->last_flush_ns = now_ns;
}
