#!/usr/bin/env python3
"""probe.py - traffic for segd's demo and end-to-end tests.

  probe.py serve PORT                 TCP and UDP echo server, IPv4 and IPv6
  probe.py tcp ADDR PORT [PAYLOAD]    one connection, one echoed line: "ok"
                                      (PAYLOAD: the first bytes to send)
  probe.py udp ADDR PORT              one datagram echoed: "ok"
  probe.py stream tcp|udp ADDR PORT LOG [SECONDS]
                                      a line every 20 ms over one long-lived
                                      flow; LOG gets "ok N" / "lost N" per
                                      exchange (bounded: SECONDS, default 60)
  probe.py send udp ADDR PORT COUNT SIZE
                                      COUNT datagrams of SIZE bytes, no reply
  probe.py http PORT DIR              HTTP/1.1 server, IPv4 and IPv6: GET
                                      serves DIR's files, PUT answers with
                                      the sha256 of the body it received

PROBE_SOURCE=ADDR in the environment makes tcp and udp send from that
local address (a host holding several addresses plays several peers).

Every wait is bounded; nothing here talks to addresses it was not given.
"""
import os
import socket
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve_start(port):
    """TCP and UDP echo on port (IPv4 and IPv6), listening when this
    returns; served by daemon threads."""
    def tcp_client(conn):
        with conn:
            conn.settimeout(120)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError:
                return

    def tcp_loop(sock):
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=tcp_client, args=(conn,), daemon=True).start()

    def udp_loop(sock):
        while True:
            data, peer = sock.recvfrom(65536)
            sock.sendto(data, peer)

    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("::", port))
    tcp.listen(64)
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    udp.bind(("::", port))
    threading.Thread(target=udp_loop, args=(udp,), daemon=True).start()
    threading.Thread(target=tcp_loop, args=(tcp,), daemon=True).start()


def serve(port):
    serve_start(port)
    # bounded: a test server never outlives ten minutes
    time.sleep(600)


def tcp_once(addr, port, payload=b"ping\n"):
    src = os.environ.get("PROBE_SOURCE")
    with socket.create_connection((addr, port), timeout=1.5,
                                  source_address=(src, 0) if src else None) as s:
        s.settimeout(1.5)
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got == payload


def udp_once(addr, port):
    src = os.environ.get("PROBE_SOURCE")
    with socket.socket(family(addr), socket.SOCK_DGRAM) as s:
        if src:
            s.bind((src, 0))
        s.settimeout(1.0)
        s.sendto(b"ping", (addr, port))
        data, _ = s.recvfrom(64)
        return data == b"ping"


def stream(proto, addr, port, log, seconds):
    end = time.monotonic() + seconds
    n = 0
    with open(log, "a", buffering=1) as out:
        if proto == "tcp":
            s = socket.create_connection((addr, port), timeout=1.5)
        else:
            s = socket.socket(family(addr), socket.SOCK_DGRAM)
            s.connect((addr, port))
        s.settimeout(0.3)
        out.write("started\n")
        while time.monotonic() < end:
            n += 1
            msg = b"%d\n" % n
            try:
                s.send(msg)
                got = s.recv(64)
                out.write(("ok %d\n" if got == msg else "lost %d\n") % n)
            except socket.timeout:
                out.write("lost %d\n" % n)
            except OSError:
                out.write("lost %d\n" % n)
                time.sleep(0.3)
            time.sleep(0.02)


def send_udp(addr, port, count, size):
    with socket.socket(family(addr), socket.SOCK_DGRAM) as s:
        payload = b"x" * size
        for _ in range(count):
            s.sendto(payload, (addr, port))
            time.sleep(0.001)


def http_serve(port, root):
    import hashlib
    import http.server

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=root, **kw)

        def do_PUT(self):
            left = int(self.headers.get("Content-Length", "0"))
            h = hashlib.sha256()
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
            body = (h.hexdigest() + "\n").encode()
            self.send_response(200 if left == 0 else 400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6
        daemon_threads = True

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    srv = Server(("::", port), Handler)
    # bounded: a test server never outlives ten minutes
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    time.sleep(600)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    try:
        if cmd == "serve":
            serve(int(argv[2]))
        elif cmd == "tcp":
            payload = (argv[4] + "\n").encode() if len(argv) > 4 else b"ping\n"
            print("ok" if tcp_once(argv[2], int(argv[3]), payload) else "bad")
        elif cmd == "udp":
            print("ok" if udp_once(argv[2], int(argv[3])) else "bad")
        elif cmd == "stream":
            secs = float(argv[6]) if len(argv) > 6 else 60.0
            stream(argv[2], argv[3], int(argv[4]), argv[5], secs)
        elif cmd == "send":
            send_udp(argv[3], int(argv[4]), int(argv[5]), int(argv[6]))
        elif cmd == "http":
            http_serve(int(argv[2]), argv[3])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except OSError as e:
        print("failed: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
