/* tcp_crr.c - tools/bench/peers.sh's traffic (d): TCP connections per
 * second, each connect, one request, one short reply, close (netperf's
 * TCP_CRR), so every connection is a new flow to each filter on the way.
 *
 *   bench_tcp_crr server PORT
 *       accepts on PORT (all addresses) with epoll until killed; reads one
 *       request per connection, writes the reply and closes first, so
 *       TIME_WAIT stays on the server's side
 *   bench_tcp_crr client ADDR PORT SECONDS [CONCURRENCY]
 *       CONCURRENCY (default 32) non-blocking connections at a time, each
 *       connect -> request -> reply read to the server's close -> close,
 *       then the next one, for SECONDS; prints "completed failed"
 *       (failed: refused, reset, no port left, a short reply)
 *
 * A client that reuses its ephemeral ports quickly needs the port range
 * and tcp_tw_reuse of its network namespace set (peers.sh does that in
 * the outside host only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_CONC 4096
#define EVENTS 256
#define RETRY_MS 10   /* a slot whose connect failed at once waits this long */

static const char request[] = "GET /crr\n";
static const char reply[] = "200 ok\n";

enum slot_state { SLOT_IDLE, SLOT_CONNECTING, SLOT_READING };

struct slot {
	int fd;
	enum slot_state state;
	size_t got;        /* reply bytes read */
};

struct client {
	int ep;
	struct sockaddr_in to;
	struct slot slots[MAX_CONC];
	int conc;
	unsigned long long completed, failed;
};

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((unsigned short)port) };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* one request in, the reply out, closed: whatever the request held */
static void serve_conn(int fd)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;   /* not here yet: epoll says so again */
	if (n > 0) {
		/* a client that is gone is no error of the server's */
		ssize_t w = write(fd, reply, sizeof(reply) - 1);

		(void)w;
	}
	close(fd);
}

static int run_server(int port)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[EVENTS];
	int lfd, ep, ret = 0;

	lfd = listen_on(port);
	if (lfd < 0)
		return lfd;
	ep = epoll_create1(0);
	ev.data.fd = lfd;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		int n = epoll_wait(ep, evs, EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd != lfd) {
				serve_conn(fd);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				struct epoll_event cev = { .events = EPOLLIN,
							   .data.fd = fd };

				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev))
					close(fd);
			}
		}
	}
out:
	if (ep >= 0)
		close(ep);
	close(lfd);
	return ret;
}

static void slot_close(struct client *c, struct slot *s, int ok)
{
	close(s->fd);
	s->fd = -1;
	s->state = SLOT_IDLE;
	if (ok)
		c->completed++;
	else
		c->failed++;
}

/* a new connection in slot i; an immediate failure leaves it idle */
static void slot_start(struct client *c, int i)
{
	struct slot *s = &c->slots[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)i };

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	s->got = 0;
	s->state = SLOT_IDLE;
	if (s->fd < 0) {
		c->failed++;
		return;
	}
	s->state = SLOT_CONNECTING;
	if ((connect(s->fd, (struct sockaddr *)&c->to, sizeof(c->to)) &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(c->ep, EPOLL_CTL_ADD, s->fd, &ev))
		slot_close(c, s, 0);
}

static void slot_connected(struct client *c, struct slot *s, int i)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err ||
	    write(s->fd, request, sizeof(request) - 1) != sizeof(request) - 1 ||
	    epoll_ctl(c->ep, EPOLL_CTL_MOD, s->fd, &ev)) {
		slot_close(c, s, 0);
		return;
	}
	s->state = SLOT_READING;
}

/* the reply up to the server's close: complete when all of it came */
static void slot_read(struct client *c, struct slot *s)
{
	char buf[512];
	ssize_t n;

	while ((n = read(s->fd, buf, sizeof(buf))) > 0)
		s->got += (size_t)n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	slot_close(c, s, n == 0 && s->got >= sizeof(reply) - 1);
}

static int run_client(struct client *c, double secs)
{
	struct epoll_event evs[EVENTS];
	double end = now_ms() + secs * 1e3, last_retry = 0;

	c->ep = epoll_create1(0);
	if (c->ep < 0)
		return -errno;
	for (int i = 0; i < c->conc; i++)
		slot_start(c, i);
	for (double t = now_ms(); t < end; t = now_ms()) {
		int n = epoll_wait(c->ep, evs, EVENTS, RETRY_MS);

		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			struct slot *s = &c->slots[i];

			if (s->state == SLOT_CONNECTING)
				slot_connected(c, s, i);
			else if (s->state == SLOT_READING)
				slot_read(c, s);
			if (s->state == SLOT_IDLE && now_ms() < end)
				slot_start(c, i);
		}
		/* slots whose connect failed at once (no port left) retry
		 * later, not in a busy loop */
		if (t - last_retry >= RETRY_MS) {
			last_retry = t;
			for (int i = 0; i < c->conc; i++)
				if (c->slots[i].state == SLOT_IDLE)
					slot_start(c, i);
		}
	}
	for (int i = 0; i < c->conc; i++)
		if (c->slots[i].fd >= 0)
			close(c->slots[i].fd);
	close(c->ep);
	printf("%llu %llu\n", c->completed, c->failed);
	return 0;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s server PORT\n"
		"       %s client ADDR PORT SECONDS [CONCURRENCY<=%d]\n",
		prog, prog, MAX_CONC);
	return 2;
}

int main(int argc, char **argv)
{
	static struct client c = { .conc = 32 };
	int port, ret;

	if (argc == 3 && !strcmp(argv[1], "server")) {
		port = atoi(argv[2]);
		if (port < 1 || port > 65535)
			return usage(argv[0]);
		ret = run_server(port);
	} else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client")) {
		port = atoi(argv[3]);
		if (argc == 6)
			c.conc = atoi(argv[5]);
		c.to.sin_family = AF_INET;
		c.to.sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, argv[2], &c.to.sin_addr) != 1 ||
		    port < 1 || port > 65535 || c.conc < 1 || c.conc > MAX_CONC)
			return usage(argv[0]);
		for (int i = 0; i < c.conc; i++)
			c.slots[i].fd = -1;
		ret = run_client(&c, atof(argv[4]));
	} else {
		return usage(argv[0]);
	}
	if (ret) {
		fprintf(stderr, "tcp_crr: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}
