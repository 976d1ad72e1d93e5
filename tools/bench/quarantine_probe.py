#!/usr/bin/env python3
"""quarantine_probe.py - timed UDP traffic for tools/bench/quarantine.sh.

  quarantine_probe.py send ADDR PORT SECONDS
      one UDP datagram about every 100 us for SECONDS, each carrying the
      CLOCK_REALTIME nanoseconds at which it was sent
  quarantine_probe.py recv PORT LOG SECONDS
      receives them; LOG gets "flowing" when traffic (re)starts and
      "cut T I" when none arrived for 300 ms, T = the send time of the last
      datagram that got through (the cut came after it, before the next),
      I = the mean interval in ns between the datagrams since "flowing"
  quarantine_probe.py exec T0FILE CMD...
      write CLOCK_REALTIME ns to T0FILE, then execvp CMD (no fork in
      between, so T0 is the moment the command is invoked)

Both ends run in namespaces of one host, so their clocks are the same.
Every loop is bounded by SECONDS.
"""
import os
import socket
import struct
import sys
import time


def send(addr, port, seconds):
    end = time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((addr, port))
        while time.monotonic() < end:
            try:
                s.send(struct.pack("!Q", time.time_ns()))
            except OSError:
                pass
            time.sleep(0.0001)


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


def main(argv):
    if len(argv) > 4 and argv[1] == "send":
        send(argv[2], int(argv[3]), float(argv[4]))
    elif len(argv) > 4 and argv[1] == "recv":
        recv(int(argv[2]), argv[3], float(argv[4]))
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
