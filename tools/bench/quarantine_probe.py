#!/usr/bin/env python3
"""quarantine_probe.py - timed UDP traffic and a scan for tools/bench/quarantine.sh
and detect.sh.

  quarantine_probe.py send ADDR PORT SECONDS [SENTLOG]
      one UDP datagram about every 100 us for SECONDS, each carrying the
      CLOCK_REALTIME nanoseconds at which it was sent; with SENTLOG, the
      send time of every datagram the socket took is written there (native
      8-byte integers) when it ends, which is early once SENTLOG.stop exists
      (looked for every ~0.2 s)
  quarantine_probe.py recv PORT LOG SECONDS
      receives them; LOG gets "flowing" when traffic (re)starts and
      "cut T I" when none arrived for 300 ms, T = the send time of the last
      datagram that got through (the cut came after it, before the next),
      I = the mean interval in ns between the datagrams since "flowing"
  quarantine_probe.py scan ADDR FIRST N OUTFILE
      a port scan as a compromised pod runs it: non-blocking TCP connects
      (one SYN each) to ports FIRST..FIRST+N-1 of ADDR, in order, as fast
      as they go; OUTFILE gets "START END", the CLOCK_REALTIME ns before
      the first connect and after the last, and on a second line the ns
      before each connect
  quarantine_probe.py exec T0FILE CMD...
      write CLOCK_REALTIME ns to T0FILE, then execvp CMD (no fork in
      between, so T0 is the moment the command is invoked)

Both ends run in namespaces of one host, so their clocks are the same.
Every loop is bounded by SECONDS.
"""
import array
import os
import socket
import struct
import sys
import time


def send(addr, port, seconds, sentlog=None):
    end = time.monotonic() + seconds
    sent, n = array.array("q"), 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((addr, port))
        while time.monotonic() < end:
            t = time.time_ns()
            try:
                s.send(struct.pack("!Q", t))
                sent.append(t)
            except OSError:
                pass
            time.sleep(0.0001)
            n += 1
            if sentlog and n % 1000 == 0 and os.path.exists(sentlog + ".stop"):
                break
    if sentlog:
        with open(sentlog + ".tmp", "wb") as f:
            sent.tofile(f)
        os.rename(sentlog + ".tmp", sentlog)


def recv(port, log, seconds):
    end = time.monotonic() + seconds
    last_ts, last_seen, flowing, n, first = 0, 0.0, False, 0, 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, \
            open(log, "a", buffering=1) as out:
        s.bind(("0.0.0.0", port))
        s.settimeout(0.02)
        while time.monotonic() < end:
            try:
                data = s.recv(64)
                last_ts = struct.unpack("!Q", data[:8])[0]
                last_seen = time.monotonic()
                n += 1
                if not flowing:
                    flowing, n, first = True, 1, last_ts
                    out.write("flowing\n")
            except socket.timeout:
                pass
            if flowing and time.monotonic() - last_seen > 0.3:
                flowing = False
                # and the mean interval between datagrams in this period
                out.write("cut %d %d\n" % (last_ts, (last_ts - first) // max(n - 1, 1)))


def scan(addr, first, n, out):
    socks, sent = [], []
    start = time.time_ns()
    for port in range(first, first + n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        sent.append(time.time_ns())
        s.connect_ex((addr, port))
        socks.append(s)
    end = time.time_ns()
    with open(out, "w") as f:
        f.write("%d %d\n%s\n" % (start, end, " ".join(map(str, sent))))
    time.sleep(0.2)   # the answers come back before the sockets go
    for s in socks:
        s.close()


def main(argv):
    if len(argv) > 4 and argv[1] == "send":
        send(argv[2], int(argv[3]), float(argv[4]), argv[5] if len(argv) > 5 else None)
    elif len(argv) > 4 and argv[1] == "recv":
        recv(int(argv[2]), argv[3], float(argv[4]))
    elif len(argv) > 5 and argv[1] == "scan":
        scan(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif len(argv) > 3 and argv[1] == "exec":
        with open(argv[2], "w") as f:
            f.write("%d\n" % time.time_ns())
        os.execvp(argv[3], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
