"""sctp_raw.py - the first two packets of an SCTP association over raw IP
sockets, for the conformance agents (agent.py).

This kernel has no SCTP sockets (socket(AF_INET, SOCK_STREAM,
IPPROTO_SCTP) fails with EPROTONOSUPPORT), but a raw IPv4 socket of
protocol 132 sends and receives SCTP packets like any other: real packets
through the pods' veths and segd's hooks. A probe is the association's
opening (RFC 9260 section 5.1): the client sends an INIT, a server that
serves the port answers with an INIT ACK, one that does not with an
ABORT. That is what a policy and conntrack see of an SCTP connection
being set up; nothing after it is sent.

While a raw socket of protocol 132 is open the kernel sends no ICMP
protocol unreachable for SCTP, so the responder here is the only one to
answer.
"""
import os
import random
import socket
import struct
import threading
import time

IPPROTO_SCTP = 132
INIT, INIT_ACK, ABORT = 1, 2, 6
COOKIE = 7  # State Cookie parameter, mandatory in an INIT ACK

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def packet(sport, dport, vtag, chunk_type, body, flags=0):
    """Common header + one chunk, checksum filled in (CRC32c, stored
    little-endian as Linux and the RFC's sample code do)."""
    chunk = struct.pack("!BBH", chunk_type, flags, 4 + len(body)) + body
    chunk += b"\0" * (-len(chunk) % 4)
    pkt = struct.pack("!HHII", sport, dport, vtag, 0) + chunk
    return pkt[:8] + struct.pack("<I", crc32c(pkt)) + pkt[12:]


def init_body(tag, cookie=None):
    # initiate tag, a_rwnd, outbound streams, inbound streams, initial TSN
    body = struct.pack("!IIHHI", tag, 65536, 1, 1, tag)
    if cookie is not None:
        body += struct.pack("!HH", COOKIE, 4 + len(cookie)) + cookie
    return body


def parse(data):
    """An IPv4 datagram from a raw socket -> (src, sport, dport, vtag,
    first chunk type, first chunk body) or None."""
    if len(data) < 20:
        return None
    ihl = (data[0] & 0x0F) * 4
    sctp = data[ihl:]
    if len(sctp) < 16:
        return None
    sport, dport, vtag = struct.unpack("!HHI", sctp[:8])
    ctype, _, clen = struct.unpack("!BBH", sctp[12:16])
    return (socket.inet_ntoa(data[12:16]), sport, dport, vtag, ctype,
            sctp[16:12 + max(clen, 4)])


def raw_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_SCTP)


def associate(addr, port, deadline, resend):
    """Send an INIT to addr:port until an INIT ACK ("ok") or an ABORT
    ("refused") comes back or the deadline passes ("timeout")."""
    tag = random.randint(1, 0xFFFFFFFF)
    sport = random.randint(32768, 60999)
    init = packet(sport, port, 0, INIT, init_body(tag))
    with raw_socket() as s:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            s.sendto(init, (addr, 0))
            until = time.monotonic() + min(resend, left)
            while True:
                wait = until - time.monotonic()
                if wait <= 0:
                    break
                s.settimeout(wait)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    break
                got = parse(data)
                if not got or got[:4] != (addr, port, sport, tag):
                    continue  # another probe's packet, or ours outbound
                if got[4] == INIT_ACK:
                    return "ok"
                if got[4] == ABORT:
                    return "refused"


def serve_start(ports):
    """Answer every INIT: an INIT ACK on the ports in `ports`, an ABORT on
    any other (a real SCTP stack's answer to an unserved port). Returns
    once the raw socket is open; served by a daemon thread."""
    s = raw_socket()

    def loop():
        while True:
            data, _ = s.recvfrom(65536)
            got = parse(data)
            if not got or got[4] != INIT or len(got[5]) < 4:
                continue
            src, sport, dport, _, _, body = got
            peer_tag = struct.unpack("!I", body[:4])[0]
            if dport in ports:
                reply = packet(dport, sport, peer_tag, INIT_ACK,
                               init_body(random.randint(1, 0xFFFFFFFF),
                                         os.urandom(8)))
            else:
                reply = packet(dport, sport, peer_tag, ABORT, b"")
            s.sendto(reply, (src, 0))

    threading.Thread(target=loop, daemon=True).start()
