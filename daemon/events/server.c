/* server.c - the control socket on segd's libevent loop.
 *
 * One request per connection: the client writes a YAML document and shuts
 * down its write side; segd answers with one YAML document and closes.
 * Requests are handled on the loop thread, one at a time, so handlers
 * never race each other.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "server.h"
#include "wire.h"
#include "yaml_util.h"

#define MAX_REQUEST (64u << 20) /* a large policy file, with room to spare */

struct seg_server {
	struct seg_server_handler h;
	struct evconnlistener *listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct conn {
	struct seg_server *srv;
	struct segd_peer peer;
	bool reserved;           /* room for the whole request is made */
};

static void conn_free(struct bufferevent *bev, struct conn *c)
{
	bufferevent_free(bev);
	free(c);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	conn_free(bev, arg);
}

static void respond(struct bufferevent *bev, struct conn *c)
{
	const struct seg_server_handler *h = &c->srv->h;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	const char *text = (const char *)evbuffer_pullup(in, -1);
	const char *hdr = NULL, *payload = NULL;
	size_t hdr_len = 0, payload_len = 0;
	yaml_document_t req, resp;
	struct seg_error err = { 0 };
	char *out = NULL, msg[1024];
	size_t out_len = 0;
	int ret;

	ret = seg_wire_split(text ? text : "", len, &hdr, &hdr_len, &payload, &payload_len);
	if (ret)
		seg_errorf(&err, NULL, 0, 0, ret, "not a segd request; "
			   "is segctl from the same release as segd?");
	else
		ret = yu_load_one(hdr, hdr_len, "request", &req, &err);
	if (ret) {
		int top = yu_doc_init_map(&resp);

		seg_error_format(&err, msg, sizeof(msg));
		yu_set_bool(&resp, top, "ok", false);
		yu_set_int(&resp, top, "exit", 2);
		yu_set_str(&resp, top, "error", msg);
	} else {
		h->handle(h->ctx, &req, payload, payload_len, &c->peer, &resp);
		yaml_document_delete(&req);
	}
	ret = yu_dump(&resp, &out, &out_len);
	yaml_document_delete(&resp);
	if (ret) {
		seg_log(SEG_LOG_ERROR, "cannot serialise a response: %s", strerror(-ret));
		conn_free(bev, c);
		return;
	}
	evbuffer_drain(in, len);
	bufferevent_write(bev, out, out_len);
	free(out);
	if (h->take_over && h->take_over(h->ctx, bev)) {
		free(c);   /* the connection is the handler's now */
		return;
	}
	bufferevent_setcb(bev, NULL, on_written, NULL, c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (!c->reserved) {
		/* the first line says how big the request is: one contiguous
		 * buffer for all of it, so making it contiguous copies nothing */
		size_t n = evbuffer_get_length(in), line, hdr, payload;
		const char *head = (const char *)evbuffer_pullup(in, n < 64 ? (ssize_t)n : 64);

		if (head && !seg_wire_first_line(head, n < 64 ? n : 64, &line, &hdr, &payload) &&
		    hdr <= MAX_REQUEST && payload <= MAX_REQUEST) {
			evbuffer_expand(in, line + hdr + payload);
			c->reserved = true;
		}
	}
	if (evbuffer_get_length(in) > MAX_REQUEST) {
		seg_log(SEG_LOG_WARN, "request from pid %d over %u bytes; dropped",
			(int)c->peer.pid, MAX_REQUEST);
		conn_free(bev, c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_EOF) {
		/* the whole request is in: the client shut down its side */
		bufferevent_disable(bev, EV_READ);
		respond(bev, c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(bev, c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	struct event_base *base = evconnlistener_get_base(l);
	struct ucred cred = { 0 };
	socklen_t cl = sizeof(cred);
	struct bufferevent *bev;
	struct conn *c;
	struct timeval tmo = { .tv_sec = 30 };

	(void)sa, (void)socklen;
	c = calloc(1, sizeof(*c));
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c || !bev) {
		free(c);
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
		return;
	}
	c->srv = arg;
	if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
		c->peer.pid = cred.pid;
		c->peer.uid = cred.uid;
	}
	bufferevent_setcb(bev, on_read, NULL, on_event, c);
	bufferevent_set_timeouts(bev, &tmo, &tmo);
	bufferevent_enable(bev, EV_READ);
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

/* A socket file that nobody answers on is a leftover of a crash. */
static int claim_path(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		ret = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		unlink(sa->sun_path);
	close(fd);
	return ret;
}

int seg_server_open(struct event_base *base, const struct seg_server_handler *h,
		    const char *path, struct seg_server **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct seg_server *srv;
	int fd = -1, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->h = *h;
	strcpy(srv->path, path);
	if ((ret = mkdir_parent(path)) || (ret = claim_path(&sa)))
		goto err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0660) ||
	    (geteuid() == 0 && chown(path, 0, 0)) || listen(fd, 64)) {
		ret = -errno;
		goto err;
	}
	srv->listener = evconnlistener_new(base, on_accept, srv,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
					   -1, fd);
	if (!srv->listener) {
		ret = -ENOMEM;
		goto err;
	}
	*out = srv;
	return 0;
err:
	if (fd >= 0)
		close(fd);
	free(srv);
	return ret;
}

void seg_server_close(struct seg_server *srv)
{
	if (!srv)
		return;
	evconnlistener_free(srv->listener);
	unlink(srv->path);
	free(srv);
}
