/* test_ipfix.c - the IPFIX encoder (bytes decoded by ipfix_fixtures.h) and
 * the UDP exporter (real sockets in a private network namespace).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "ipfix.h"
#include "ipfix_fixtures.h"

/* What RFC 7011 + IANA say the templates hold: IE and length in bytes. */
struct ie_len { uint16_t ie, len; };
static const struct ie_len want_common[] = {
	{ 7, 2 }, { 11, 2 }, { 4, 1 }, { 1, 8 }, { 2, 8 }, { 23, 8 }, { 24, 8 },
	{ 152, 8 }, { 153, 8 }, { 6, 2 }, { 89, 1 }, { 233, 1 }, { 61, 1 },
	{ 10, 4 },
};
#define N_COMMON (sizeof(want_common) / sizeof(want_common[0]))

static void check_template(const struct dec_template *t, int family)
{
	struct ie_len want[N_COMMON + 2];

	want[0] = family == 4 ? (struct ie_len){ 8, 4 } : (struct ie_len){ 27, 16 };
	want[1] = family == 4 ? (struct ie_len){ 12, 4 } : (struct ie_len){ 28, 16 };
	memcpy(&want[2], want_common, sizeof(want_common));
	cr_assert_eq(t->id, family == 4 ? 256 : 257, "template id %u", t->id);
	cr_assert_eq(t->n, (int)(N_COMMON + 2), "template has %d fields", t->n);
	for (size_t w = 0; w < N_COMMON + 2; w++) {
		int found = 0;

		for (int i = 0; i < t->n; i++)
			if (t->ie[i] == want[w].ie) {
				found++;
				cr_assert_eq(t->len[i], want[w].len, "IE %u: length %u, want %u",
					     want[w].ie, t->len[i], want[w].len);
			}
		cr_assert_eq(found, 1, "IE %u appears %d times", want[w].ie, found);
	}
}

/* ---- one record, every field -------------------------------------------- */

struct rec_case {
	char name[48];
	char src[40], dst[40];
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t verdict;        /* enum seg_flow_verdict */
	bool final;
	bool new_this_pass;     /* first packet after the previous flush */
	uint8_t direction;
	uint8_t tcp_flags;
	int family;             /* 4 or 6: the template it must use */
	uint8_t fwd_status;     /* IE 89 */
	uint8_t fw_event;       /* IE 233 */
};

static const struct rec_case rec_cases[] = {
	{ "v4 tcp forwarded, new", "10.200.0.1", "203.0.113.9", 6, 40000, 443,
	  SEG_FLOW_FORWARDED, false, true, 1, 0x12, 4, 64, 1 },
	{ "v4 tcp forwarded, update", "10.200.0.1", "203.0.113.9", 6, 40000, 443,
	  SEG_FLOW_FORWARDED, false, false, 1, 0x10, 4, 64, 5 },
	{ "v4 udp forwarded, final", "203.0.113.9", "10.200.0.2", 17, 53, 33000,
	  SEG_FLOW_FORWARDED, true, false, 0, 0, 4, 64, 2 },
	{ "v4 udp new and final at once", "10.200.0.1", "10.200.0.2", 17, 5000, 53,
	  SEG_FLOW_FORWARDED, true, true, 1, 0, 4, 64, 2 },
	{ "v4 icmp dropped", "203.0.113.9", "10.200.0.2", 1, 0, 0,
	  SEG_FLOW_DROPPED, false, true, 0, 0, 4, 129, 3 },
	{ "v4 tcp dropped, final", "10.200.0.1", "203.0.113.66", 6, 41000, 3333,
	  SEG_FLOW_DROPPED, true, false, 1, 0x02, 4, 129, 3 },
	{ "v4 tcp audit, new", "10.200.0.3", "10.200.0.1", 6, 42000, 22,
	  SEG_FLOW_AUDIT, false, true, 0, 0x1b, 4, 64, 1 },
	{ "v4 tcp audit, final", "10.200.0.3", "10.200.0.1", 6, 42000, 22,
	  SEG_FLOW_AUDIT, true, false, 0, 0x11, 4, 64, 2 },
	{ "v6 tcp forwarded, new", "fd00:200::1", "2001:db8::5", 6, 40000, 443,
	  SEG_FLOW_FORWARDED, false, true, 1, 0x02, 6, 64, 1 },
	{ "v6 udp forwarded, update", "2001:db8::5", "fd00:200::2", 17, 123, 123,
	  SEG_FLOW_FORWARDED, false, false, 0, 0, 6, 64, 5 },
	{ "v6 icmpv6 dropped", "2001:db8::66", "fd00:200::2", 58, 0, 0,
	  SEG_FLOW_DROPPED, false, true, 0, 0, 6, 129, 3 },
	{ "v6 udp audit, final", "fd00:200::1", "fd00:200::2", 17, 7000, 8000,
	  SEG_FLOW_AUDIT, true, true, 1, 0, 6, 64, 2 },
	{ "v4 source, v6 destination: v6", "10.200.0.1", "2001:db8::5", 6, 40000, 80,
	  SEG_FLOW_FORWARDED, false, false, 1, 0x18, 6, 64, 5 },
};

ParameterizedTestParameters(ipfix_encode, one_record)
{
	return cr_make_param_array(struct rec_case, rec_cases,
				   sizeof(rec_cases) / sizeof(rec_cases[0]));
}

ParameterizedTest(struct rec_case *c, ipfix_encode, one_record)
{
	struct ipfix_harness *h = harness_new(77);
	struct seg_flow_record r = test_record(c->src, c->dst, c->proto, c->sport, c->dport);
	uint64_t prev_flush = T0 - 3 * SEC;

	r.verdict = c->verdict;
	r.final = c->final;
	r.direction = c->direction;
	r.tcp_flags = c->tcp_flags;
	r.start_ns = c->new_this_pass ? prev_flush + 1000000 : prev_flush - 2 * SEC;
	r.packets = 11; r.bytes = 1111; r.reply_packets = 22; r.reply_bytes = 2222222;
	r.ifindex = 1234567;

	seg_ipfix_encoder_flush(&h->enc, prev_flush);
	cr_assert_eq(h->cap.n, 0, "%s: an empty flush sent %d messages", c->name, h->cap.n);
	seg_ipfix_encoder_add(&h->enc, &r, T0 + 500000000);
	cr_assert_eq(h->cap.n, 0, "%s: sent before the flush", c->name);
	seg_ipfix_encoder_flush(&h->enc, T0 + 700000000);
	cr_assert_eq(h->cap.n, 1, "%s: %d messages", c->name, h->cap.n);

	harness_decode(h, 0);
	cr_assert_eq(h->msg.version, 10, "%s: version %u", c->name, h->msg.version);
	cr_assert_eq(h->msg.export_time, T0 / SEC, "%s: export time %u", c->name, h->msg.export_time);
	cr_assert_eq(h->msg.sequence, 0, "%s: sequence %u", c->name, h->msg.sequence);
	cr_assert_eq(h->msg.domain, 77, "%s: domain %u", c->name, h->msg.domain);
	cr_assert_eq(h->msg.n_templates, 1, "%s: %d templates", c->name, h->msg.n_templates);
	check_template(&h->msg.templates[0], c->family);
	cr_assert_eq(h->msg.n_records, 1, "%s: %d records", c->name, h->msg.n_records);

	const struct dec_record *d = &h->msg.records[0];
	size_t alen = c->family == 4 ? 4 : 16;
	const uint8_t *want_src = c->family == 4 ? &r.src.s6_addr[12] : r.src.s6_addr;
	const uint8_t *want_dst = c->family == 4 ? &r.dst.s6_addr[12] : r.dst.s6_addr;

	cr_assert_eq(d->template_id, c->family == 4 ? 256 : 257, "%s", c->name);
	cr_assert_arr_eq(d->raw[c->family == 4 ? 8 : 27], want_src, alen, "%s: src", c->name);
	cr_assert_arr_eq(d->raw[c->family == 4 ? 12 : 28], want_dst, alen, "%s: dst", c->name);
	cr_assert_eq(d->num[7], c->sport, "%s: sport %lu", c->name, d->num[7]);
	cr_assert_eq(d->num[11], c->dport, "%s: dport %lu", c->name, d->num[11]);
	cr_assert_eq(d->num[4], c->proto, "%s: proto", c->name);
	cr_assert_eq(d->num[2], 11, "%s: packets", c->name);
	cr_assert_eq(d->num[1], 1111, "%s: bytes", c->name);
	cr_assert_eq(d->num[24], 22, "%s: reply packets", c->name);
	cr_assert_eq(d->num[23], 2222222, "%s: reply bytes", c->name);
	cr_assert_eq(d->num[152], r.start_ns / 1000000, "%s: start ms", c->name);
	cr_assert_eq(d->num[153], r.end_ns / 1000000, "%s: end ms", c->name);
	cr_assert_eq(d->num[6], c->tcp_flags, "%s: tcp flags", c->name);
	cr_assert_eq(d->num[89], c->fwd_status, "%s: forwardingStatus %lu", c->name, d->num[89]);
	cr_assert_eq(d->num[233], c->fw_event, "%s: firewallEvent %lu", c->name, d->num[233]);
	cr_assert_eq(d->num[61], c->direction, "%s: flowDirection", c->name);
	cr_assert_eq(d->num[10], 1234567, "%s: ingressInterface", c->name);
	harness_free(h);
}

/* ---- message splitting and sequence numbers ----------------------------- */

struct split_case {
	char name[32];
	char src[40], dst[40];
	int count;
};

static const struct split_case split_cases[] = {
	{ "v4 x1", "10.0.0.1", "10.0.0.2", 1 },
	{ "v4 x18", "10.0.0.1", "10.0.0.2", 18 },
	{ "v4 x19", "10.0.0.1", "10.0.0.2", 19 },
	{ "v4 x20", "10.0.0.1", "10.0.0.2", 20 },
	{ "v4 x100", "10.0.0.1", "10.0.0.2", 100 },
	{ "v6 x13", "fd00::1", "fd00::2", 13 },
	{ "v6 x14", "fd00::1", "fd00::2", 14 },
	{ "v6 x15", "fd00::1", "fd00::2", 15 },
	{ "v6 x1000", "fd00::1", "fd00::2", 1000 },
};

ParameterizedTestParameters(ipfix_encode, split)
{
	return cr_make_param_array(struct split_case, split_cases,
				   sizeof(split_cases) / sizeof(split_cases[0]));
}

ParameterizedTest(struct split_case *c, ipfix_encode, split)
{
	struct ipfix_harness *h = harness_new(1);
	int seen = 0;
	struct seg_flow_record r = test_record(c->src, c->dst, 17, 1, 2);

	for (int i = 0; i < c->count; i++) {
		r.sport = (uint16_t)i;  /* record i carries i */
		seg_ipfix_encoder_add(&h->enc, &r, T0);
	}
	seg_ipfix_encoder_flush(&h->enc, T0);
	cr_assert_geq(h->cap.n, 1);
	for (int k = 0; k < h->cap.n; k++) {
		harness_decode(h, k);
		cr_assert_leq(h->cap.len[k], 1400, "%s: message %d is %zu bytes",
			      c->name, k, h->cap.len[k]);
		cr_assert_eq(h->msg.sequence, (uint32_t)seen, "%s: message %d sequence %u, want %d",
			     c->name, k, h->msg.sequence, seen);
		cr_assert_eq(h->msg.n_templates, k == 0, "%s: message %d has %d templates",
			     c->name, k, h->msg.n_templates);
		size_t rec_len = 0;
		for (int i = 0; i < h->known[0].n; i++)
			rec_len += h->known[0].len[i];
		if (k < h->cap.n - 1)
			cr_assert_gt(h->cap.len[k] + rec_len, 1400,
				     "%s: message %d (%zu bytes) had room for another record",
				     c->name, k, h->cap.len[k]);
		for (int i = 0; i < h->msg.n_records; i++)
			cr_assert_eq(h->msg.records[i].num[7], (uint64_t)(seen + i),
				     "%s: records out of order", c->name);
		seen += h->msg.n_records;
	}
	cr_assert_eq(seen, c->count, "%s: %d records arrived", c->name, seen);
	cr_assert_eq(h->enc.records, (uint64_t)c->count);
	cr_assert_eq(h->enc.messages, (uint64_t)h->cap.n);
	harness_free(h);
}

Test(ipfix_encode, sequence_counts_data_records_of_both_families)
{
	struct ipfix_harness *h = harness_new(9);
	struct seg_flow_record v4 = test_record("10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct seg_flow_record v6 = test_record("fd00::1", "fd00::2", 6, 1, 2);
	const uint32_t want_seq[] = { 0, 2, 3, 0xfffffffeu, 0 };
	const int want_records[] = { 2, 1, 1, 2, 1 };

	seg_ipfix_encoder_add(&h->enc, &v4, T0);
	seg_ipfix_encoder_add(&h->enc, &v6, T0);
	seg_ipfix_encoder_add(&h->enc, &v4, T0);
	seg_ipfix_encoder_flush(&h->enc, T0);        /* v4 (2), v6 (1) */
	seg_ipfix_encoder_add(&h->enc, &v6, T0 + SEC);
	seg_ipfix_encoder_flush(&h->enc, T0 + SEC);  /* v6 (1) */
	h->enc.sequence = 0xfffffffeu;               /* wraps modulo 2^32 */
	seg_ipfix_encoder_add(&h->enc, &v4, T0 + 2 * SEC);
	seg_ipfix_encoder_add(&h->enc, &v4, T0 + 2 * SEC);
	seg_ipfix_encoder_flush(&h->enc, T0 + 2 * SEC);
	seg_ipfix_encoder_add(&h->enc, &v4, T0 + 3 * SEC);
	seg_ipfix_encoder_flush(&h->enc, T0 + 3 * SEC);
	cr_assert_eq(h->cap.n, 5, "%d messages", h->cap.n);
	for (int k = 0; k < h->cap.n; k++) {
		harness_decode(h, k);
		cr_assert_eq(h->msg.sequence, want_seq[k], "message %d: sequence %u, want %u",
			     k, h->msg.sequence, want_seq[k]);
		cr_assert_eq(h->msg.n_records, want_records[k], "message %d: %d records",
			     k, h->msg.n_records);
	}
	harness_free(h);
}

/* ---- template refresh (RFC 7011 §8.4) ----------------------------------- */

struct refresh_case {
	char name[48];
	int steps;
	int family[8];          /* 4 or 6: one record of it, then a flush */
	int at_s[8];            /* seconds after T0 */
	bool template[8];       /* that message carries its template */
};

static const struct refresh_case refresh_cases[] = {
	{ "v4: first, then every 60 s", 8,
	  { 4, 4, 4, 4, 4, 4, 4, 4 }, { 0, 1, 59, 60, 61, 119, 120, 600 },
	  { 1, 0, 0, 1, 0, 0, 1, 1 } },
	{ "families keep their own clock", 6,
	  { 4, 6, 4, 6, 6, 4 }, { 0, 30, 60, 60, 90, 100 },
	  { 1, 1, 1, 0, 1, 0 } },
	{ "v6 first at a late time", 3,
	  { 6, 6, 6 }, { 1000, 1059, 1060 }, { 1, 0, 1 } },
};

ParameterizedTestParameters(ipfix_encode, template_refresh)
{
	return cr_make_param_array(struct refresh_case, refresh_cases,
				   sizeof(refresh_cases) / sizeof(refresh_cases[0]));
}

ParameterizedTest(struct refresh_case *c, ipfix_encode, template_refresh)
{
	struct ipfix_harness *h = harness_new(9);
	struct seg_flow_record v4 = test_record("10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct seg_flow_record v6 = test_record("fd00::1", "fd00::2", 6, 1, 2);

	for (int i = 0; i < c->steps; i++) {
		uint64_t now = T0 + (uint64_t)c->at_s[i] * SEC;

		seg_ipfix_encoder_add(&h->enc, c->family[i] == 4 ? &v4 : &v6, now);
		seg_ipfix_encoder_flush(&h->enc, now);
		cr_assert_eq(h->cap.n, i + 1);
		harness_decode(h, i);
		cr_assert_eq(h->msg.n_templates, c->template[i],
			     "%s: step %d (v%d at +%d s): %d templates",
			     c->name, i, c->family[i], c->at_s[i], h->msg.n_templates);
		if (h->msg.n_templates)
			check_template(&h->msg.templates[0], c->family[i]);
		cr_assert_eq(h->msg.n_records, 1);
	}
	harness_free(h);
}

/* ---- the UDP exporter ---------------------------------------------------- */

struct bad_collector_case {
	char text[48];
};

static const struct bad_collector_case bad_collectors[] = {
	{ "127.0.0.1" }, { "127.0.0.1:" }, { ":4739" }, { "::1:4739" },
	{ "[::1]4739" }, { "[::1:4739" }, { "127.0.0.1:http" }, { "300.1.1.1:4739" },
};

ParameterizedTestParameters(ipfix_udp, bad_collector)
{
	return cr_make_param_array(struct bad_collector_case, bad_collectors,
				   sizeof(bad_collectors) / sizeof(bad_collectors[0]));
}

ParameterizedTest(struct bad_collector_case *c, ipfix_udp, bad_collector)
{
	char *list[] = { "127.0.0.1:4739", c->text };
	struct seg_ipfix *x = NULL;
	struct seg_error err = { 0 };

	private_netns_with_lo();   /* no DNS: a bad name fails fast */
	cr_assert_eq(seg_ipfix_open(list, 2, 1, &x, &err), -EINVAL, "%s accepted", c->text);
	cr_assert_null(x);
	cr_assert_not_null(strstr(err.msg, c->text), "error names the collector: %s", err.msg);
}

/* A UDP socket bound to loopback:port (0: any free one); its "HOST:PORT"
 * in text. */
static int udp_receiver(int family, uint16_t port, char *text, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	}
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
			  sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	if (family == AF_INET)
		snprintf(text, len, "127.0.0.1:%u",
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	else
		snprintf(text, len, "[::1]:%u",
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return fd;
}

/* the next datagram on fd within 1 s, decoded; false when none came */
static bool receive_message(int fd, struct dec_msg *m, struct dec_template *known,
			    int *n_known)
{
	static uint8_t buf[2048];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return false;
	n = recv(fd, buf, sizeof(buf), 0);
	cr_assert_gt(n, 0);
	dec_message(buf, (size_t)n, m, known, n_known);
	return true;
}

Test(ipfix_udp, every_collector_gets_every_message)
{
	static struct dec_msg m;
	char a[64], b[64];
	int fa, fb;
	struct seg_ipfix *x = NULL;
	struct seg_error err = { 0 };
	struct seg_ipfix_stats st;
	struct seg_flow_record v4 = test_record("10.0.0.1", "10.0.0.2", 6, 1000, 80);
	struct seg_flow_record v6 = test_record("fd00::1", "fd00::2", 17, 2000, 53);

	private_netns_with_lo();
	fa = udp_receiver(AF_INET, 0, a, sizeof(a));
	fb = udp_receiver(AF_INET6, 0, b, sizeof(b));
	char *list[] = { a, b };
	cr_assert_eq(seg_ipfix_open(list, 2, 5, &x, &err), 0, "%s", err.msg);
	cr_assert_eq(seg_ipfix_add(x, &v4, T0), 0);
	cr_assert_eq(seg_ipfix_add(x, &v6, T0), 0);
	cr_assert_eq(seg_ipfix_flush(x, T0), 0);
	for (int c = 0; c < 2; c++) {
		struct dec_template known[4];
		int n_known = 0, fd = c ? fb : fa;

		cr_assert(receive_message(fd, &m, known, &n_known), "collector %d: v4", c);
		cr_assert_eq(m.n_records, 1);
		cr_assert_eq(m.records[0].template_id, 256);
		cr_assert_eq(m.records[0].num[11], 80);
		cr_assert_eq(m.domain, 5);
		cr_assert(receive_message(fd, &m, known, &n_known), "collector %d: v6", c);
		cr_assert_eq(m.records[0].template_id, 257);
		cr_assert_eq(m.records[0].num[11], 53);
		cr_assert_eq(m.sequence, 1);
	}
	seg_ipfix_stats(x, &st);
	cr_assert_eq(st.messages, 2);
	cr_assert_eq(st.records, 2);
	cr_assert_eq(st.send_errors, 0);
	seg_ipfix_close(x);
	close(fa);
	close(fb);
}

/* The next datagram on fd within wait_ms: 1 if it holds a template set,
 * 0 if not, -1 if none came. */
static int next_has_template(int fd, int wait_ms)
{
	uint8_t buf[2048];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, wait_ms) != 1)
		return -1;
	n = recv(fd, buf, sizeof(buf), 0);
	cr_assert_geq(n, 20);
	return buf[16] == 0 && buf[17] == 2;    /* the first set's id */
}

Test(ipfix_udp, collector_down_is_counted_and_gets_templates_when_up)
{
	int fd;
	char text[64];
	struct seg_ipfix *x = NULL;
	struct seg_error err = { 0 };
	struct seg_ipfix_stats st;
	struct seg_flow_record r = test_record("10.0.0.1", "10.0.0.2", 6, 1000, 80);
	uint16_t port;

	private_netns_with_lo();
	fd = udp_receiver(AF_INET, 0, text, sizeof(text));
	close(fd);      /* nobody listens on that port now */
	port = (uint16_t)atoi(strchr(text, ':') + 1);
	char *list[] = { text };
	cr_assert_eq(seg_ipfix_open(list, 1, 5, &x, &err), 0, "%s", err.msg);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(seg_ipfix_add(x, &r, T0 + (uint64_t)i * SEC), 0);
		cr_assert_eq(seg_ipfix_flush(x, T0 + (uint64_t)i * SEC), 0);
	}
	seg_ipfix_stats(x, &st);
	cr_assert_eq(st.messages, 3);
	/* the port-unreachable one send draws makes the next send fail */
	cr_assert_geq(st.send_errors, 1, "send errors %lu", st.send_errors);

	/* the collector comes up: data at once, its template at the refresh */
	fd = udp_receiver(AF_INET, port, text, sizeof(text));
	int got = 0;
	for (int i = 10; i < 13; i++) {   /* a stale error may eat the first */
		seg_ipfix_add(x, &r, T0 + (uint64_t)i * SEC);
		seg_ipfix_flush(x, T0 + (uint64_t)i * SEC);
		int t = next_has_template(fd, 200);
		cr_assert_neq(t, 1, "template before the refresh");
		got += t == 0;
	}
	cr_assert_geq(got, 2, "%d of 3 messages arrived", got);
	seg_ipfix_add(x, &r, T0 + 60 * SEC);
	seg_ipfix_flush(x, T0 + 60 * SEC);
	cr_assert_eq(next_has_template(fd, 1000), 1, "no template at the 60 s refresh");
	seg_ipfix_close(x);
	close(fd);
}
