/* client.c - talk to segd: write the request, half-close, read the answer. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "args.h"
#include "client.h"
#include "fileio.h"
#include "wire.h"
#include "yaml_util.h"

static int read_all(int fd, int timeout_ms, char **out, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (timeout_ms > 0 && poll(&pfd, 1, timeout_ms) == 0) {
			free(buf);
			return -ETIMEDOUT;
		}
		if (n + 4097 > cap) {
			char *p = realloc(buf, cap = cap * 2 + 16384);

			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Connect and send the request; *fd is the connection, its write side
 * shut down. Returns 0 or a SEGCTL_* code with the reason on err. */
static int send_request(const char *socket_path, yaml_document_t *req,
			const char *payload, size_t payload_len, int *fd_out, FILE *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *text = NULL, prefix[64];
	size_t len = 0;
	int fd, ret;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		fprintf(err, "segctl: socket path too long: %s\n", socket_path);
		return SEGCTL_USAGE;
	}
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(err, "segctl: cannot reach segd at %s: %s; is segd running? "
			"(--socket or SEGD_SOCKET choose another socket)\n",
			socket_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SEGCTL_UNREACHABLE;
	}
	ret = yu_dump(req, &text, &len);
	if (!ret)
		ret = seg_write_all(fd, prefix, (size_t)seg_wire_prefix(prefix, sizeof(prefix), len,
								  payload_len));
	if (!ret)
		ret = seg_write_all(fd, text, len);
	if (!ret && payload_len)
		ret = seg_write_all(fd, payload, payload_len);
	if (!ret && shutdown(fd, SHUT_WR))
		ret = -errno;
	free(text);
	if (ret) {
		fprintf(err, "segctl: talking to segd at %s failed: %s\n",
			socket_path, strerror(-ret));
		close(fd);
		return SEGCTL_UNREACHABLE;
	}
	*fd_out = fd;
	return 0;
}

static int parse_answer(const char *text, size_t len, yaml_document_t *resp, FILE *err)
{
	struct seg_error perr = { 0 };
	char msg[1024];

	if (!yu_load_one(text, len, "segd response", resp, &perr))
		return 0;
	seg_error_format(&perr, msg, sizeof(msg));
	fprintf(err, "segctl: segd sent an answer segctl cannot read: %s\n", msg);
	return SEGCTL_FAILED;
}

int segctl_roundtrip(const char *socket_path, yaml_document_t *req,
		     const char *payload, size_t payload_len,
		     yaml_document_t *resp, int timeout_ms, FILE *err)
{
	char *answer = NULL;
	size_t alen = 0;
	int fd, ret = send_request(socket_path, req, payload, payload_len, &fd, err);

	if (ret)
		return ret;
	ret = read_all(fd, timeout_ms, &answer, &alen);
	close(fd);
	if (ret) {
		fprintf(err, "segctl: talking to segd at %s failed: %s\n",
			socket_path, strerror(-ret));
		return SEGCTL_UNREACHABLE;
	}
	ret = parse_answer(answer, alen, resp, err);
	free(answer);
	return ret;
}

int segctl_stream(const char *socket_path, yaml_document_t *req,
		  segctl_answer_fn on_answer, segctl_line_fn on_line, void *ctx,
		  FILE *err)
{
	size_t n = 0, cap = 65536, answered = 0;
	char *buf = malloc(cap);
	int fd = -1, ret = buf ? send_request(socket_path, req, NULL, 0, &fd, err) :
				 SEGCTL_FAILED;

	while (!ret) {
		ssize_t r;
		char *nl;

		if (n + 4096 > cap) {
			char *p = realloc(buf, cap *= 2);

			if (!p) {
				ret = SEGCTL_FAILED;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;   /* segd went away: the stream is over */
		n += (size_t)r;
		buf[n] = '\0';
		if (!answered) {
			/* the answer is a YAML document ended by "...\n" */
			char *end = strstr(buf, "\n...\n");
			yaml_document_t resp;

			if (!end)
				continue;
			answered = (size_t)(end - buf) + 5;
			ret = parse_answer(buf, (size_t)(end - buf) + 1, &resp, err);
			if (!ret) {
				ret = on_answer(ctx, &resp);
				yaml_document_delete(&resp);
			}
			memmove(buf, buf + answered, n - answered + 1);
			n -= answered;
		}
		while (!ret && (nl = memchr(buf, '\n', n))) {
			size_t len = (size_t)(nl - buf) + 1;

			on_line(ctx, buf, len);
			memmove(buf, buf + len, n - len + 1);
			n -= len;
		}
	}
	if (!ret && !answered) {   /* an error answer has no end marker */
		yaml_document_t resp;

		ret = parse_answer(buf, n, &resp, err);
		if (!ret) {
			ret = on_answer(ctx, &resp);
			yaml_document_delete(&resp);
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
