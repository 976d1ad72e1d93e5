/* ipfix_fixtures.h - what the IPFIX tests share (static inline: every
 * tests/unit file goes into one binary): an IPFIX decoder written from
 * RFC 7011 independently of the encoder (it learns the layout from the
 * template set in the bytes, never from the encoder's tables), a sink
 * that captures messages, a record builder, and a private network
 * namespace with lo up.
 */
#ifndef SEGD_TEST_IPFIX_FIXTURES_H
#define SEGD_TEST_IPFIX_FIXTURES_H

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipfix_encode.h"

/* ---- decoder ------------------------------------------------------------ */

#define DEC_MAX_FIELDS 32
#define DEC_MAX_RECORDS 64
#define DEC_MAX_IE 256

struct dec_template {
	uint16_t id;
	int n;
	uint16_t ie[DEC_MAX_FIELDS], len[DEC_MAX_FIELDS];
};

struct dec_record {
	uint16_t template_id;
	bool has[DEC_MAX_IE];
	uint64_t num[DEC_MAX_IE];       /* numbers, big-endian decoded */
	uint8_t raw[DEC_MAX_IE][16];    /* the bytes (addresses) */
};

struct dec_msg {
	uint16_t version, length;
	uint32_t export_time, sequence, domain;
	int n_templates;
	struct dec_template templates[4];
	int n_records;
	struct dec_record records[DEC_MAX_RECORDS];
};

static inline uint64_t dec_be(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* Templates persist across messages (a collector keeps them), so the
 * caller passes the ones learnt so far in known/n_known. Asserts that the
 * message is well formed. */
static inline void dec_message(const uint8_t *p, size_t len, struct dec_msg *m,
			       struct dec_template *known, int *n_known)
{
	size_t off = 16;

	memset(m, 0, sizeof(*m));
	cr_assert_geq(len, 16, "message shorter than a header");
	m->version = (uint16_t)dec_be(p, 2);
	m->length = (uint16_t)dec_be(p + 2, 2);
	m->export_time = (uint32_t)dec_be(p + 4, 4);
	m->sequence = (uint32_t)dec_be(p + 8, 4);
	m->domain = (uint32_t)dec_be(p + 12, 4);
	cr_assert_eq(m->length, len, "header length %u, datagram %zu", m->length, len);
	while (off < len) {
		cr_assert_leq(off + 4, len, "set header past the end");
		uint16_t set_id = (uint16_t)dec_be(p + off, 2);
		uint16_t set_len = (uint16_t)dec_be(p + off + 2, 2);
		size_t end = off + set_len, q = off + 4;

		cr_assert_geq(set_len, 4, "set length %u", set_len);
		cr_assert_leq(end, len, "set of %u bytes past the end", set_len);
		if (set_id == 2) {
			while (q + 4 <= end) {
				struct dec_template *t = &m->templates[m->n_templates++];

				t->id = (uint16_t)dec_be(p + q, 2);
				t->n = (int)dec_be(p + q + 2, 2);
				cr_assert_leq(t->n, DEC_MAX_FIELDS);
				q += 4;
				for (int i = 0; i < t->n; i++, q += 4) {
					cr_assert_leq(q + 4, end, "template past its set");
					t->ie[i] = (uint16_t)dec_be(p + q, 2);
					cr_assert_eq(t->ie[i] & 0x8000, 0,
						     "no enterprise elements expected");
					t->len[i] = (uint16_t)dec_be(p + q + 2, 2);
				}
				int k = 0;
				while (k < *n_known && known[k].id != t->id)
					k++;
				known[k] = *t;
				if (k == *n_known)
					(*n_known)++;
			}
		} else {
			cr_assert_geq(set_id, 256, "data set id %u", set_id);
			const struct dec_template *t = NULL;

			for (int k = 0; k < *n_known; k++)
				if (known[k].id == set_id)
					t = &known[k];
			cr_assert_not_null(t, "data set %u before its template", set_id);
			size_t rec_len = 0;
			for (int i = 0; i < t->n; i++)
				rec_len += t->len[i];
			while (q + rec_len <= end) {
				struct dec_record *r = &m->records[m->n_records++];

				cr_assert_leq(m->n_records, DEC_MAX_RECORDS);
				r->template_id = set_id;
				for (int i = 0; i < t->n; i++) {
					r->has[t->ie[i]] = true;
					if (t->len[i] <= 8)
						r->num[t->ie[i]] = dec_be(p + q, t->len[i]);
					memcpy(r->raw[t->ie[i]], p + q,
					       t->len[i] <= 16 ? t->len[i] : 16);
					q += t->len[i];
				}
			}
			cr_assert_lt(end - q, 4, "padding of %zu bytes", end - q);
		}
		off = end;
	}
}

/* ---- capture sink ------------------------------------------------------- */

#define CAP_MAX 512

struct capture {
	int n;
	size_t len[CAP_MAX];
	uint8_t *msg[CAP_MAX];
};

static inline void capture_sink(void *ctx, const uint8_t *msg, size_t len)
{
	struct capture *c = ctx;

	cr_assert_lt(c->n, CAP_MAX);
	c->msg[c->n] = malloc(len);
	memcpy(c->msg[c->n], msg, len);
	c->len[c->n++] = len;
}

static inline void capture_free(struct capture *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->msg[i]);
	c->n = 0;
}

/* An encoder whose messages are captured, and their decoding. */
struct ipfix_harness {
	struct seg_ipfix_encoder enc;
	struct capture cap;
	struct dec_template known[4];
	int n_known;
	struct dec_msg msg;     /* the message harness_decode read last */
};

static inline struct ipfix_harness *harness_new(uint32_t domain)
{
	struct ipfix_harness *h = calloc(1, sizeof(*h));

	cr_assert_not_null(h);
	seg_ipfix_encoder_init(&h->enc, domain, capture_sink, &h->cap);
	return h;
}

/* decode captured message k (in order: templates carry over) into h->msg */
static inline const struct dec_msg *harness_decode(struct ipfix_harness *h, int k)
{
	cr_assert_lt(k, h->cap.n, "message %d of %d", k, h->cap.n);
	dec_message(h->cap.msg[k], h->cap.len[k], &h->msg, h->known, &h->n_known);
	return &h->msg;
}

static inline void harness_free(struct ipfix_harness *h)
{
	capture_free(&h->cap);
	free(h);
}

/* ---- records ------------------------------------------------------------ */

#define SEC 1000000000ull
#define T0 (1790000000ull * SEC)   /* a CLOCK_REALTIME in 2026 */

/* "10.0.0.1" becomes IPv4-mapped, "fd00::1" stays IPv6 */
static inline void test_addr(const char *text, struct in6_addr *a)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, text, &v4) == 1) {
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &v4, 4);
		return;
	}
	cr_assert_eq(inet_pton(AF_INET6, text, a), 1, "bad address %s", text);
}

static inline struct seg_flow_record test_record(const char *src, const char *dst,
						 uint8_t proto, uint16_t sport,
						 uint16_t dport)
{
	struct seg_flow_record r = {
		.time_ns = T0, .start_ns = T0 - 5 * SEC + 123000000,
		.end_ns = T0 - SEC + 456000000, .proto = proto,
		.sport = sport, .dport = dport, .packets = 10, .bytes = 1000,
		.reply_packets = 7, .reply_bytes = 7000, .ifindex = 42,
		.source.identity = "world", .destination.identity = "world",
	};

	test_addr(src, &r.src);
	test_addr(dst, &r.dst);
	return r;
}

/* ---- a network namespace of the test's own ------------------------------ */

/* Criterion runs each test in its own process: unshare it into a fresh
 * network namespace (only lo, down) and bring lo up. Needs root. */
static inline void private_netns_with_lo(void)
{
	struct ifreq ifr = { 0 };
	int fd;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s (run as root)",
		     strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "lo up: %s", strerror(errno));
	close(fd);
}

#endif
