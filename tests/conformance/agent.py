#!/usr/bin/env python3
"""agent.py - one conformance pod: echo servers and a prober.

  agent.py CONTROL_SOCKET PORT... [PORT/sctp]...

Serves TCP and UDP echo on every PORT (tools/probe.py's servers) and
answers SCTP associations on every PORT/sctp (sctp_raw.py: this kernel
has no SCTP sockets, so INIT and INIT ACK go through raw IP sockets, real
packets all the same), then creates CONTROL_SOCKET (a unix socket: a
path, so it is reachable from any network namespace). The socket exists
only once every server listens, so waiting for it is waiting for the
servers.

The runner sends one JSON line per batch:
  {"timeout": SECONDS, "probes": [["10.200.1.11", 80, "tcp"], ...]}
and gets one JSON line back, a result per probe, in order:
  "ok"       TCP: connected and the line came back; UDP: a datagram
             echoed; SCTP: an INIT was answered by an INIT ACK
  "timeout"  nothing came back in time (a dropped flow looks like this)
  "refused"  a RST, an ICMP port unreachable or an SCTP ABORT: the packets
             got through but nobody served the port (a broken test bed,
             not a verdict)
  "error: ..." anything else
All probes of a batch run at once; a batch takes at most its timeout.
Every wait is bounded; the agent exits on its own after an hour.
"""
import errno
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
import probe  # noqa: E402  (tools/probe.py: the echo servers)
import sctp_raw  # noqa: E402  (this directory: SCTP over raw sockets)

UDP_RESEND = 0.25  # seconds between datagrams of one UDP probe


def classify(err):
    if isinstance(err, socket.timeout):
        return "timeout"
    if getattr(err, "errno", None) in (errno.ECONNREFUSED, errno.ECONNRESET):
        return "refused"
    return "error: %s" % err


def probe_tcp(addr, port, deadline, token):
    left = deadline - time.monotonic()
    try:
        with socket.create_connection((addr, port), timeout=left) as s:
            s.sendall(token)
            got = b""
            while len(got) < len(token):
                s.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = s.recv(4096)
                if not chunk:
                    return "refused"
                got += chunk
            return "ok" if got == token else "error: echo mismatch"
    except OSError as e:
        return classify(e)


def probe_udp(addr, port, deadline, token):
    # resent every UDP_RESEND seconds until the deadline: one lost
    # datagram must not read as a denied flow
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((addr, port))
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return "timeout"
                s.send(token)
                s.settimeout(min(UDP_RESEND, left))
                try:
                    while True:
                        if s.recv(4096) == token:
                            return "ok"
                except socket.timeout:
                    continue
    except OSError as e:
        return classify(e)


def probe_sctp(addr, port, deadline, _token):
    # INIT resent every UDP_RESEND seconds, like a UDP probe
    try:
        return sctp_raw.associate(addr, port, deadline, UDP_RESEND)
    except OSError as e:
        return classify(e)


def run_batch(req):
    deadline = time.monotonic() + float(req["timeout"])
    probes = req["probes"]
    results = [None] * len(probes)

    def one(i, addr, port, proto):
        token = b"%d-%d-%s\n" % (os.getpid(), i, os.urandom(4).hex().encode())
        fn = {"tcp": probe_tcp, "udp": probe_udp, "sctp": probe_sctp}[proto]
        results[i] = fn(addr, int(port), deadline, token)

    threads = [threading.Thread(target=one, args=(i, *p), daemon=True)
               for i, p in enumerate(probes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(deadline - time.monotonic(), 0) + 1.0)
    return [r if r is not None else "error: probe hung" for r in results]


def control(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path + ".tmp"
    srv.bind(tmp)
    srv.listen(16)
    os.rename(tmp, path)  # appears complete, after the servers listen
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rw") as f:
            for line in f:
                f.write(json.dumps(run_batch(json.loads(line))) + "\n")
                f.flush()


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    sctp_ports = set()
    for arg in argv[2:]:
        if arg.endswith("/sctp"):
            sctp_ports.add(int(arg[:-5]))
        else:
            probe.serve_start(int(arg))
    if sctp_ports:
        sctp_raw.serve_start(sctp_ports)
    threading.Thread(target=control, args=(argv[1],), daemon=True).start()
    time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
