/* flowlog_json.c - a flow record as one JSON line (pure: no syscalls). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "flow_names.h"
#include "flowlog.h"
#include "json_escape.h"
#include "timetext.h"
#include "segd_abi.h"


static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

/* A bounded writer straight into the caller's buffer: a pass of 100,000
 * records makes 100,000 lines, so no stdio stream, no allocation. */
struct jw {
	char *buf;
	size_t len, n;      /* n may pass len: the line did not fit */
};

static void put(struct jw *w, const char *s, size_t k)
{
	if (w->n + k <= w->len)
		memcpy(w->buf + w->n, s, k);
	w->n += k;
}

static void lit(struct jw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void chr(struct jw *w, char c)
{
	put(w, &c, 1);
}

static void u64(struct jw *w, uint64_t v)
{
	char d[20];
	size_t k = 0;

	do {
		d[sizeof(d) - 1 - k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, d + sizeof(d) - k, k);
}

static void str(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	chr(w, '"');
	for (; *p; p++) {
		char esc[6];
		size_t k = seg_json_escape(*p, esc);

		if (!k)
			continue;
		put(w, (const char *)run, (size_t)(p - run));
		put(w, esc, k);
		run = p + 1;
	}
	put(w, (const char *)run, (size_t)(p - run));
	chr(w, '"');
}

/* ,"key":"value" */
static void str_field(struct jw *w, const char *key, const char *value)
{
	chr(w, ',');
	str(w, key);
	chr(w, ':');
	str(w, value);
}

/* ,"key":N */
static void num_field(struct jw *w, const char *key, uint64_t v)
{
	chr(w, ',');
	str(w, key);
	chr(w, ':');
	u64(w, v);
}

static void time_field(struct jw *w, const char *key, uint64_t ns)
{
	char t[40];

	seg_rfc3339_ms(ns, t, sizeof(t));
	str_field(w, key, t);
}

static void tcp_flags(struct jw *w, uint8_t flags)
{
	static const char *const names[8] = {
		"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
	};
	const char *sep = "";

	lit(w, ",\"tcp_flags\":\"");
	for (int i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		lit(w, sep);
		lit(w, names[i]);
		sep = "|";
	}
	chr(w, '"');
}

static void peer(struct jw *w, const char *key, const struct seg_flow_peer *p)
{
	chr(w, ',');
	str(w, key);
	lit(w, ":{");
	if (p->ns) {
		lit(w, "\"namespace\":");
		str(w, p->ns);
		chr(w, ',');
	}
	if (p->name) {
		lit(w, "\"name\":");
		str(w, p->name);
		chr(w, ',');
	}
	if (p->labels) {
		lit(w, "\"labels\":{");
		for (size_t i = 0; i < p->labels->n; i++) {
			if (i)
				chr(w, ',');
			str(w, p->labels->v[i].key);
			chr(w, ':');
			str(w, p->labels->v[i].value);
		}
		lit(w, "},");
	}
	lit(w, "\"identity\":");
	str(w, p->identity ? p->identity : "unknown");
	chr(w, '}');
}

static void write_record(struct jw *w, const struct seg_flow_record *r)
{
	const struct { const char *key, *value; } optional[] = {
		{ "observer", r->observer }, { "policy", r->policy },
		{ "rule_name", r->rule_name },
		{ "drop_reason", r->drop_reason }, { "blocklist", r->blocklist },
	};
	char src[64], dst[64], num[8], now[40];

	seg_addr_format(&r->src, src, sizeof(src));
	seg_addr_format(&r->dst, dst, sizeof(dst));
	seg_rfc3339_ms(r->time_ns, now, sizeof(now));
	lit(w, "{\"time\":");
	str(w, now);
	str_field(w, "verdict", seg_flow_verdict_name(r->verdict));
	str_field(w, "src_ip", src);
	if (has_ports(r->proto))
		num_field(w, "src_port", r->sport);
	str_field(w, "dst_ip", dst);
	if (has_ports(r->proto))
		num_field(w, "dst_port", r->dport);
	str_field(w, "proto", seg_proto_name(r->proto, num, sizeof(num)));
	num_field(w, "packets", r->packets);
	num_field(w, "bytes", r->bytes);
	/* drops too: an established flow cut by a policy change is dropped
	 * both ways */
	num_field(w, "reply_packets", r->reply_packets);
	num_field(w, "reply_bytes", r->reply_bytes);
	if (r->proto == IPPROTO_TCP && r->tcp_flags)
		tcp_flags(w, r->tcp_flags);
	str_field(w, "direction", r->direction == SEGD_DIR_EGRESS ? "egress" : "ingress");
	peer(w, "source", &r->source);
	peer(w, "destination", &r->destination);
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (optional[i].value)
			str_field(w, optional[i].key, optional[i].value);
	if (r->start_ns)
		time_field(w, "start", r->start_ns);
	if (r->end_ns)
		time_field(w, "end", r->end_ns);
	if (r->final) {   /* and the flow's final counts */
		lit(w, ",\"final\":true");
		num_field(w, "total_packets", r->total_packets);
		num_field(w, "total_bytes", r->total_bytes);
		num_field(w, "total_reply_packets", r->total_reply_packets);
		num_field(w, "total_reply_bytes", r->total_reply_bytes);
	}
	lit(w, "}\n");
}

int seg_flow_record_json(const struct seg_flow_record *r, char *buf, size_t len)
{
	struct jw w = { buf, len, 0 };

	write_record(&w, r);
	if (w.n > len || w.n > (size_t)INT32_MAX)
		return -ENOSPC;
	if (w.n < len)
		buf[w.n] = '\0';
	return (int)w.n;
}
