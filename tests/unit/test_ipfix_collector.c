/* test_ipfix_collector.c - what seg_ipfix sends, read back by two real
 * decoders that owe nothing to ours (both in a private network namespace):
 *
 * - Debian's nfdump 1.7.1: nfcapd collects, nfdump -o json reads its file,
 *   every record must come back exactly (addresses, ports or ICMP
 *   type/code, protocol, both directions' packets and bytes - IE 1/2 are
 *   "in", 23/24 "out" - the interface and the direction), and nfcapd must
 *   count no sequence errors. nfdump 1.7.1 does not decode
 *   forwardingStatus (89) or firewallEvent (233) from IPFIX (its
 *   fwd_status stays 0), so:
 * - Wireshark's tshark decodes the same datagrams (written to a pcap) and
 *   must show each record's forwarding status, firewall event, direction
 *   and interface.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "ipfix.h"
#include "ipfix_fixtures.h"

struct rt_case {
	char src[40], dst[40];  /* src is unique: it finds the record again */
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t verdict;
	bool final;
	bool new_flow;          /* first packet after the previous pass */
	uint8_t direction;
	uint8_t tcp_flags;
	uint64_t packets, bytes, reply_packets, reply_bytes;
	uint32_t ifindex;
	uint8_t fwd_status;     /* IE 89 wanted (RFC 7270) */
	uint8_t fw_event;       /* IE 233 wanted */
};

static const struct rt_case rt_cases[] = {
	{ "10.200.0.1", "203.0.113.9", 6, 40001, 443, SEG_FLOW_FORWARDED, false, true,
	  1, 0x1b, 12, 3400, 10, 5000000000ull, 7, 64, 1 },
	{ "203.0.113.66", "10.200.0.2", 17, 40002, 53, SEG_FLOW_DROPPED, false, true,
	  0, 0, 3, 210, 0, 0, 8, 129, 3 },
	{ "10.200.0.3", "10.200.0.1", 6, 40003, 22, SEG_FLOW_AUDIT, true, false,
	  0, 0x11, 1, 60, 1, 52, 9, 64, 2 },
	{ "10.200.0.4", "10.200.0.1", 1, 0, 0, SEG_FLOW_FORWARDED, false, false,
	  1, 0, 5, 420, 5, 420, 12, 64, 5 },
	{ "fd00:200::1", "2001:db8::5", 6, 40004, 8443, SEG_FLOW_FORWARDED, true, false,
	  1, 0x13, 4000000000ull, 6000000000000ull, 3, 180, 10, 64, 2 },
	{ "2001:db8::66", "fd00:200::2", 17, 40005, 123, SEG_FLOW_DROPPED, false, false,
	  0, 0, 1, 76, 0, 0, 11, 129, 3 },
	{ "fd00:200::3", "fd00:200::2", 58, 0, 0, SEG_FLOW_AUDIT, false, true,
	  1, 0, 2, 208, 2, 208, 13, 64, 1 },
};
#define N_RT (sizeof(rt_cases) / sizeof(rt_cases[0]))
#define N_BULK 60       /* more v4 records: several messages */

static char dir[64];

static uint16_t free_udp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* true when someone (nfcapd) holds 127.0.0.1:port */
static bool port_taken(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool taken = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno == EADDRINUSE;

	close(fd);
	return taken;
}

/* bytes waiting in the receive queue of the UDP socket on port */
static long udp_rx_queue(uint16_t port)
{
	FILE *f = fopen("/proc/net/udp", "r");
	char line[512];
	long q = -1;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned lport;
		unsigned long tx, rx;

		if (sscanf(line, " %*d: %*x:%x %*x:%*x %*x %lx:%lx", &lport, &tx, &rx) == 3 &&
		    lport == port)
			q = (long)rx;
	}
	fclose(f);
	return q;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static pid_t start_nfcapd(uint16_t port)
{
	char port_s[16], log[96];
	pid_t pid;

	snprintf(port_s, sizeof(port_s), "%u", port);
	snprintf(log, sizeof(log), "%s/nfcapd.log", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a failed test leaves none */

		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nfcapd", "nfcapd", "-p", port_s, "-b", "127.0.0.1", "-w", dir,
		       "-t", "3600", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port_taken(port); i++) {
		int st;

		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0,
			     "nfcapd exited (%d): is nfdump installed? "
			     "(tools/install-deps.sh); see %s", st, log);
		sleep_ms(50);
	}
	cr_assert(port_taken(port), "nfcapd did not bind 127.0.0.1:%u", port);
	return pid;
}

/* nfcapd has read every datagram, then SIGTERM makes it write its file */
static void stop_nfcapd(pid_t pid, uint16_t port)
{
	int st;

	for (int i = 0; i < 100 && udp_rx_queue(port) != 0; i++)
		sleep_ms(20);
	sleep_ms(100);
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "nfcapd status %d", st);
}

static void find_capture_file(char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	cr_assert_not_null(d);
	path[0] = '\0';
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "nfcapd.2", 8))
			snprintf(path, len, "%s/%s", dir, e->d_name);
	closedir(d);
	cr_assert(path[0], "nfcapd wrote no file into %s", dir);
}

static char *read_command(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap);

	cr_assert_not_null(p, "%s", cmd);
	while ((got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	buf[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s failed (tools/install-deps.sh installs "
		     "nfdump and tshark)", cmd);
	return buf;
}

/* The value of "key" inside the JSON object [obj, end): a number or the
 * text between quotes, into out. False when the key is not there. */
static bool json_field(const char *obj, const char *end, const char *key,
		       char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\" : ", key);
	p = strstr(obj, pat);
	if (!p || p >= end)
		return false;
	p += strlen(pat);
	if (*p == '"')
		p++;
	while (*p && *p != '"' && *p != ',' && *p != '\n' && n + 1 < len)
		out[n++] = *p++;
	out[n] = '\0';
	return true;
}

static uint64_t json_u64(const char *obj, const char *end, const char *key)
{
	char v[64];

	cr_assert(json_field(obj, end, key, v, sizeof(v)), "no \"%s\" in record", key);
	return strtoull(v, NULL, 10);
}

static void check_row(const char *obj, const char *end, const struct rt_case *c)
{
	bool v4 = !strchr(c->src, ':');
	char v[64];

	cr_assert(json_field(obj, end, v4 ? "dst4_addr" : "dst6_addr", v, sizeof(v)));
	cr_assert_str_eq(v, c->dst, "%s: dst %s", c->src, v);
	if (c->proto == IPPROTO_ICMP || c->proto == IPPROTO_ICMPV6) {
		/* nfdump shows the destination port as ICMP type and code */
		cr_assert_eq(json_u64(obj, end, "icmp_type"), c->dport >> 8, "%s", c->src);
		cr_assert_eq(json_u64(obj, end, "icmp_code"), c->dport & 0xff, "%s", c->src);
	} else {
		cr_assert_eq(json_u64(obj, end, "src_port"), c->sport, "%s", c->src);
		cr_assert_eq(json_u64(obj, end, "dst_port"), c->dport, "%s", c->src);
	}
	cr_assert_eq(json_u64(obj, end, "proto"), c->proto, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "in_packets"), c->packets, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "in_bytes"), c->bytes, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "out_packets"), c->reply_packets, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "out_bytes"), c->reply_bytes, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "input_snmp"), c->ifindex, "%s", c->src);
	cr_assert_eq(json_u64(obj, end, "direction"), c->direction, "%s", c->src);
}

static uint64_t realtime_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * SEC + (uint64_t)now.tv_nsec;
}

/* One pass ended 10 s ago; this pass exports rt_cases, then n_bulk v4
 * records (src 10.200.1.1, packets 1..n_bulk). */
static void export_cases(struct seg_ipfix *x, uint64_t now_ns, int n_bulk)
{
	seg_ipfix_flush(x, now_ns - 10 * SEC);
	for (size_t i = 0; i < N_RT; i++) {
		const struct rt_case *c = &rt_cases[i];
		struct seg_flow_record r = test_record(c->src, c->dst, c->proto,
						       c->sport, c->dport);

		r.start_ns = now_ns - (c->new_flow ? 5 : 20) * SEC;
		r.end_ns = now_ns - SEC;
		r.verdict = c->verdict;
		r.final = c->final;
		r.direction = c->direction;
		r.tcp_flags = c->tcp_flags;
		r.packets = c->packets;
		r.bytes = c->bytes;
		r.reply_packets = c->reply_packets;
		r.reply_bytes = c->reply_bytes;
		r.ifindex = c->ifindex;
		seg_ipfix_add(x, &r, now_ns);
	}
	for (int i = 0; i < n_bulk; i++) {
		struct seg_flow_record r = test_record("10.200.1.1", "10.200.1.2", 17,
						       (uint16_t)(50000 + i), 9);

		r.start_ns = now_ns - 20 * SEC;
		r.end_ns = now_ns - SEC;
		r.packets = (uint64_t)i + 1;
		seg_ipfix_add(x, &r, now_ns);
	}
	seg_ipfix_flush(x, now_ns);
}

Test(ipfix_collector, nfcapd_round_trip, .timeout = 60)
{
	char path[384], cmd[512], collector[32];
	struct seg_ipfix *x = NULL;
	struct seg_error err = { 0 };
	struct seg_ipfix_stats st;
	uint16_t port;
	int rows = 0, bulk = 0;
	pid_t pid;

	private_netns_with_lo();
	strcpy(dir, "/tmp/segd-ipfix-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	port = free_udp_port();
	pid = start_nfcapd(port);

	snprintf(collector, sizeof(collector), "127.0.0.1:%u", port);
	char *list[] = { collector };
	cr_assert_eq(seg_ipfix_open(list, 1, 4242, &x, &err), 0, "%s", err.msg);
	export_cases(x, realtime_ns(), N_BULK);
	seg_ipfix_stats(x, &st);
	cr_assert_gt(st.messages, 3, "%lu messages: the bulk should split", st.messages);
	cr_assert_eq(st.send_errors, 0);
	seg_ipfix_close(x);
	stop_nfcapd(pid, port);

	find_capture_file(path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "nfdump -r %s -o json", path);
	char *out = read_command(cmd);
	for (const char *obj = strchr(out, '{'); obj; obj = strchr(obj + 1, '{')) {
		const char *end = strchr(obj, '}');
		char src[64];

		rows++;
		cr_assert(json_field(obj, end, "src4_addr", src, sizeof(src)) ||
			  json_field(obj, end, "src6_addr", src, sizeof(src)));
		if (!strcmp(src, "10.200.1.1")) {
			uint64_t sport = json_u64(obj, end, "src_port");

			cr_assert_eq(json_u64(obj, end, "in_packets"), sport - 50000 + 1);
			bulk++;
			continue;
		}
		size_t i = 0;
		while (i < N_RT && strcmp(rt_cases[i].src, src))
			i++;
		cr_assert_lt(i, N_RT, "unexpected record from %s", src);
		check_row(obj, end, &rt_cases[i]);
	}
	cr_assert_eq(rows, (int)N_RT + N_BULK, "nfdump shows %d records:\n%s", rows, out);
	cr_assert_eq(bulk, N_BULK);
	free(out);

	/* nfcapd checks our sequence numbers against the records it got */
	snprintf(cmd, sizeof(cmd), "cat %s/nfcapd.log", dir);
	out = read_command(cmd);
	cr_assert_not_null(strstr(out, "Sequence Errors: 0,"), "nfcapd says:\n%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- Wireshark's decoder: the fields nfdump 1.7.1 drops ----------------- */

static void put16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }
static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

/* A pcap (LINKTYPE_IPV4) of the datagrams, as if sent 127.0.0.1 -> port */
static void write_pcap(const char *path, uint8_t **msg, size_t *len, int n,
		       uint16_t port)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	put32(f, 0xa1b2c3d4); put16(f, 2); put16(f, 4);
	put32(f, 0); put32(f, 0); put32(f, 65535); put32(f, 228);
	for (int i = 0; i < n; i++) {
		uint8_t h[28] = { 0x45, 0 };
		size_t total = len[i] + 28;

		h[2] = (uint8_t)(total >> 8); h[3] = (uint8_t)total;
		h[8] = 64; h[9] = 17;
		h[12] = 127; h[15] = 1; h[16] = 127; h[19] = 1;
		h[20] = 0x12; h[21] = 0x34;                 /* source port */
		h[22] = (uint8_t)(port >> 8); h[23] = (uint8_t)port;
		h[24] = (uint8_t)((len[i] + 8) >> 8); h[25] = (uint8_t)(len[i] + 8);
		put32(f, (uint32_t)i); put32(f, 0);
		put32(f, (uint32_t)total); put32(f, (uint32_t)total);
		fwrite(h, 1, sizeof(h), f);
		fwrite(msg[i], 1, len[i], f);
	}
	cr_assert_eq(fclose(f), 0);
}

Test(ipfix_collector, tshark_reads_forwarding_status_and_firewall_event, .timeout = 60)
{
	char text[64], pcap[64], cmd[512];
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct seg_ipfix *x = NULL;
	struct seg_error err = { 0 };
	struct capture cap = { 0 };
	uint8_t buf[2048];
	ssize_t n;
	int fd;

	private_netns_with_lo();
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(sin.sin_port));
	char *list[] = { text };
	cr_assert_eq(seg_ipfix_open(list, 1, 4242, &x, &err), 0, "%s", err.msg);
	export_cases(x, realtime_ns(), 0);
	seg_ipfix_close(x);
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		capture_sink(&cap, buf, (size_t)n);
	cr_assert_eq(cap.n, 2, "%d datagrams: want one v4, one v6", cap.n);

	strcpy(pcap, "/tmp/segd-ipfix-XXXXXX");
	cr_assert_geq(mkstemp(pcap), 0);
	write_pcap(pcap, cap.msg, cap.len, cap.n, ntohs(sin.sin_port));
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r %s -d udp.port==%u,cflow -T fields -E separator='|' "
		 "-e cflow.srcaddr -e cflow.srcaddrv6 -e cflow.forwarding_status "
		 "-e cflow.forwarding_status_forward_code "
		 "-e cflow.forwarding_status_drop_code -e cflow.firewall_event "
		 "-e cflow.direction -e cflow.inputint "
		 "2>/dev/null", pcap, ntohs(sin.sin_port));
	char *out = read_command(cmd), *line = out, *next;
	int rows = 0;

	/* One line a datagram, each column a comma list with one entry a
	 * record. Wireshark splits forwardingStatus into the 2-bit status and
	 * a reason code field per status (forward or drop), so each record
	 * takes the next code from the list its status names. */
	for (; *line; line = next) {
		char *col[8], *list_of[8][DEC_MAX_RECORDS], *rest = line;
		int k = 0, count[8], next_fwd = 0, next_drop = 0;

		next = strchr(line, '\n');
		cr_assert_not_null(next);
		*next++ = '\0';
		while (k < 8 && (col[k] = strsep(&rest, "|")))
			k++;
		cr_assert_eq(k, 8, "tshark line: %s", line);
		for (k = 0; k < 8; k++) {
			count[k] = 0;
			while (col[k] && *col[k] && count[k] < DEC_MAX_RECORDS &&
			       (list_of[k][count[k]] = strsep(&col[k], ",")))
				count[k]++;
		}
		for (int r = 0; r < count[2]; r++, rows++) {
			const struct rt_case *c = &rt_cases[rows];
			const char *src = count[0] ? list_of[0][r] : list_of[1][r];
			unsigned long status = strtoul(list_of[2][r], NULL, 0), code;

			cr_assert_lt(rows, (int)N_RT);
			cr_assert_str_eq(src, c->src, "record %d", rows);
			if (status == 1) {
				cr_assert_lt(next_fwd, count[3]);
				code = strtoul(list_of[3][next_fwd++], NULL, 0);
			} else {
				cr_assert_lt(next_drop, count[4]);
				code = strtoul(list_of[4][next_drop++], NULL, 0);
			}
			cr_assert_eq(status << 6 | code, c->fwd_status,
				     "%s: forwardingStatus %lu, want %u", c->src,
				     status << 6 | code, c->fwd_status);
			cr_assert_eq(strtoul(list_of[5][r], NULL, 0), c->fw_event,
				     "%s: firewallEvent %s, want %u", c->src,
				     list_of[5][r], c->fw_event);
			cr_assert_eq(strtoul(list_of[6][r], NULL, 0), c->direction,
				     "%s: direction %s", c->src, list_of[6][r]);
			cr_assert_eq(strtoul(list_of[7][r], NULL, 0), c->ifindex,
				     "%s: ifindex %s", c->src, list_of[7][r]);
		}
	}
	cr_assert_eq(rows, (int)N_RT, "tshark shows %d records:\n%s", rows, out);
	free(out);
	capture_free(&cap);
	unlink(pcap);
	close(fd);
}
