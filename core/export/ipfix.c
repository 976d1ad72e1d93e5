/* ipfix.c - the UDP side of the IPFIX exporter (encoding: ipfix_encode.c). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hostport.h"
#include "ipfix.h"
#include "ipfix_encode.h"

struct seg_ipfix {
	struct seg_ipfix_encoder enc;
	int *fds;
	size_t n_fds;
	uint64_t send_errors;
};

/* Split "host:port" / "[v6]:port" into host and port (copied into bufs). */
static int split_host_port(const char *text, char *host, size_t host_len,
			   char *port, size_t port_len)
{
	const char *p;

	if (seg_split_host_port(text, host, host_len, &p) || strlen(p) >= port_len)
		return -EINVAL;
	strcpy(port, p);
	return 0;
}

static int open_collector(const char *text, int *fd_out, struct seg_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256], port[16];
	int fd = -1, ret, gai;

	if (split_host_port(text, host, sizeof(host), port, sizeof(port)))
		return seg_errorf(err, "", 0, 0, EINVAL,
				  "ipfix collector \"%s\": not HOST:PORT; write "
				  "it as 10.0.0.5:4739 or [2001:db8::5]:4739", text);
	gai = getaddrinfo(host, port, &hints, &ai);
	if (gai)
		return seg_errorf(err, "", 0, 0, EINVAL,
				  "ipfix collector \"%s\": %s; check the host name "
				  "and port", text, gai_strerror(gai));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = seg_errorf(err, "", 0, 0, errno,
				 "ipfix collector \"%s\": socket: %s", text,
				 strerror(errno));
		goto out;
	}
	/* connected: send() picks the peer, and ICMP errors come back as
	 * ECONNREFUSED on a later send, which we count */
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		ret = seg_errorf(err, "", 0, 0, errno,
				 "ipfix collector \"%s\": connect: %s", text,
				 strerror(errno));
		close(fd);
		goto out;
	}
	*fd_out = fd;
	ret = 0;
out:
	freeaddrinfo(ai);
	return ret;
}

static void send_to_collectors(void *ctx, const uint8_t *msg, size_t len)
{
	struct seg_ipfix *x = ctx;

	for (size_t i = 0; i < x->n_fds; i++)
		if (send(x->fds[i], msg, len, MSG_DONTWAIT) != (ssize_t)len)
			x->send_errors++;
}

int seg_ipfix_open(char *const *collectors, size_t n,
		   uint32_t observation_domain, struct seg_ipfix **out,
		   struct seg_error *err)
{
	struct seg_ipfix *x = calloc(1, sizeof(*x));
	int ret = 0;

	if (!x || !(x->fds = calloc(n ? n : 1, sizeof(int)))) {
		ret = seg_errorf(err, "", 0, 0, ENOMEM, "ipfix: out of memory");
		goto fail;
	}
	seg_ipfix_encoder_init(&x->enc, observation_domain, send_to_collectors, x);
	for (; x->n_fds < n; x->n_fds++) {
		ret = open_collector(collectors[x->n_fds], &x->fds[x->n_fds], err);
		if (ret)
			goto fail;
	}
	*out = x;
	return 0;
fail:
	seg_ipfix_close(x);
	return ret;
}

int seg_ipfix_add(struct seg_ipfix *x, const struct seg_flow_record *r,
		  uint64_t now_ns)
{
	seg_ipfix_encoder_add(&x->enc, r, now_ns);
	return 0;
}

int seg_ipfix_flush(struct seg_ipfix *x, uint64_t now_ns)
{
	seg_ipfix_encoder_flush(&x->enc, now_ns);
	return 0;
}

void seg_ipfix_stats(const struct seg_ipfix *x, struct seg_ipfix_stats *out)
{
	out->messages = x->enc.messages;
	out->records = x->enc.records;
	out->send_errors = x->send_errors;
}

void seg_ipfix_close(struct seg_ipfix *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_fds; i++)
		close(x->fds[i]);
	free(x->fds);
	free(x);
}

void seg_ipfix_record_sink(void *x, const struct seg_flow_record *r)
{
	seg_ipfix_add(x, r, r->time_ns);
}

void seg_ipfix_on_pass(void *x, uint64_t now_ns)
{
	seg_ipfix_flush(x, now_ns);
}

uint32_t seg_ipfix_node_domain(void)
{
	char host[256] = "";
	uint32_t h = 2166136261u;   /* FNV-1a */

	gethostname(host, sizeof(host) - 1);
	for (const char *p = host; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h ? h : 1;
}
