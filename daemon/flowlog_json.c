/* flowlog_json.c - a flow record as one JSON line (pure: no syscalls). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "flow_names.h"
#include "flowlog.h"
#include "segd_abi.h"
#include "yaml_util.h"

void seg_rfc3339_ms(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	unsigned int ms = (unsigned int)(ns % 1000000000ull / 1000000u);
	struct tm tm;
	char day[32];

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(day, sizeof(day), "1970-01-01T00:00:00");
	snprintf(buf, len, "%s.%03uZ", day, ms);
}

static const char *verdict_name(uint8_t v)
{
	switch (v) {
	case SEG_FLOW_FORWARDED: return "forwarded";
	case SEG_FLOW_DROPPED: return "dropped";
	case SEG_FLOW_AUDIT: return "audit";
	default: return "unknown";
	}
}


static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

/* ,"key":"value" */
static void str_field(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	yu_json_string(f, value);
}

static void time_field(FILE *f, const char *key, uint64_t ns)
{
	char t[40];

	seg_rfc3339_ms(ns, t, sizeof(t));
	fprintf(f, ",\"%s\":\"%s\"", key, t);
}

static void tcp_flags(FILE *f, uint8_t flags)
{
	static const char *const names[8] = {
		"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR",
	};
	const char *sep = "";

	fputs(",\"tcp_flags\":\"", f);
	for (int i = 0; i < 8; i++) {
		if (!(flags & (1u << i)))
			continue;
		fprintf(f, "%s%s", sep, names[i]);
		sep = "|";
	}
	fputc('"', f);
}

static void peer(FILE *f, const char *key, const struct seg_flow_peer *p)
{
	fprintf(f, ",\"%s\":{", key);
	if (p->ns) {
		fputs("\"namespace\":", f);
		yu_json_string(f, p->ns);
		fputc(',', f);
	}
	if (p->name) {
		fputs("\"name\":", f);
		yu_json_string(f, p->name);
		fputc(',', f);
	}
	if (p->labels) {
		fputs("\"labels\":{", f);
		for (size_t i = 0; i < p->labels->n; i++) {
			if (i)
				fputc(',', f);
			yu_json_string(f, p->labels->v[i].key);
			fputc(':', f);
			yu_json_string(f, p->labels->v[i].value);
		}
		fputs("},", f);
	}
	fputs("\"identity\":", f);
	yu_json_string(f, p->identity ? p->identity : "unknown");
	fputc('}', f);
}

static void write_record(FILE *f, const struct seg_flow_record *r)
{
	const struct { const char *key, *value; } optional[] = {
		{ "observer", r->observer }, { "policy", r->policy },
		{ "drop_reason", r->drop_reason }, { "blocklist", r->blocklist },
	};
	char src[64], dst[64], num[8], now[40];

	seg_addr_format(&r->src, src, sizeof(src));
	seg_addr_format(&r->dst, dst, sizeof(dst));
	seg_rfc3339_ms(r->time_ns, now, sizeof(now));
	fprintf(f, "{\"time\":\"%s\"", now);
	fprintf(f, ",\"verdict\":\"%s\",\"src_ip\":\"%s\"", verdict_name(r->verdict), src);
	if (has_ports(r->proto))
		fprintf(f, ",\"src_port\":%u", r->sport);
	fprintf(f, ",\"dst_ip\":\"%s\"", dst);
	if (has_ports(r->proto))
		fprintf(f, ",\"dst_port\":%u", r->dport);
	fprintf(f, ",\"proto\":\"%s\"", seg_proto_name(r->proto, num, sizeof(num)));
	fprintf(f, ",\"packets\":%llu,\"bytes\":%llu",
		(unsigned long long)r->packets, (unsigned long long)r->bytes);
	/* drops too: an established flow cut by a policy change is dropped
	 * both ways */
	fprintf(f, ",\"reply_packets\":%llu,\"reply_bytes\":%llu",
		(unsigned long long)r->reply_packets,
		(unsigned long long)r->reply_bytes);
	if (r->proto == IPPROTO_TCP && r->tcp_flags)
		tcp_flags(f, r->tcp_flags);
	fprintf(f, ",\"direction\":\"%s\"",
		r->direction == SEGD_DIR_EGRESS ? "egress" : "ingress");
	peer(f, "source", &r->source);
	peer(f, "destination", &r->destination);
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (optional[i].value)
			str_field(f, optional[i].key, optional[i].value);
	if (r->start_ns)
		time_field(f, "start", r->start_ns);
	if (r->end_ns)
		time_field(f, "end", r->end_ns);
	if (r->final)   /* and the flow's final counts */
		fprintf(f, ",\"final\":true,\"total_packets\":%llu,\"total_bytes\":%llu,"
			"\"total_reply_packets\":%llu,\"total_reply_bytes\":%llu",
			(unsigned long long)r->total_packets,
			(unsigned long long)r->total_bytes,
			(unsigned long long)r->total_reply_packets,
			(unsigned long long)r->total_reply_bytes);
	fputs("}\n", f);
}

int seg_flow_record_json(const struct seg_flow_record *r, char *buf, size_t len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	int ret;

	if (!f)
		return -ENOMEM;
	write_record(f, r);
	if (fclose(f) || !text) {
		free(text);
		return -ENOMEM;
	}
	if (n > len || n > (size_t)INT32_MAX) {
		ret = -ENOSPC;
	} else {
		memcpy(buf, text, n);
		if (n < len)
			buf[n] = '\0';
		ret = (int)n;
	}
	free(text);
	return ret;
}
