#!/usr/bin/env python3
"""gen_policy.py - synthetic scale inputs for segd's benchmarks.

  gen_policy.py endpoints N          lines "ns name ip labels" for N endpoints
  gen_policy.py policy RULES [SEED] [--change K]
                                     one multi-document SegmentPolicy file with
                                     RULES rules (100 per document); --change K
                                     alters rule K's port (a one-rule change)
  gen_policy.py peers FORMAT N       tools/bench/peers.sh's N rules, none of
                                     which matches its traffic (from
                                     203.0.113.0/24 to 10.200.1.10 UDP 5201,
                                     TCP 5201 and 8000), before the ones that
                                     allow it; FORMAT:
                                     iptables (iptables-restore), nft-rules
                                     (one rule per line), nft-set (one
                                     concatenated set), networkpolicy (N
                                     ipBlock rules for the pod web),
                                     labels (N podSelector rules for web,
                                     each naming one of the N endpoints
                                     of peer-endpoints)
  gen_policy.py peers peer-endpoints N
                                     those N endpoints as a `segctl
                                     endpoint load` file: pods of other
                                     nodes in namespace peers, addresses
                                     from 10.202.0.1 (10.202.0.0/15)

Endpoints: 10 namespaces, 20 apps per namespace (200 label sets), IPv4 in
10.200.0.0/16 (inside the test's namespaces only).
"""
import random
import sys

NAMESPACES = 10
APPS = 20


def endpoints(n):
    for i in range(n):
        ns = "ns%d" % (i % NAMESPACES)
        app = "a%d" % ((i // NAMESPACES) % APPS)
        ip = "10.200.%d.%d" % (10 + i // 250, 1 + i % 250)
        print("%s ep%d %s app=%s,tier=t%d" % (ns, i, ip, app, (i // NAMESPACES) % APPS % 3))


def policy(rules, seed, change):
    rnd = random.Random(seed)
    per_doc = 100
    out = []
    for doc in range(0, rules, per_doc):
        ns = "ns%d" % ((doc // per_doc) % NAMESPACES)
        out.append("---\napiVersion: segd.io/v1\nkind: SegmentPolicy\n"
                   "metadata: {name: bench-%d, namespace: %s}\nspec:\n"
                   "  appliesTo: {selector: {matchLabels: {app: a%d}}}\n"
                   "  ingress:\n" % (doc // per_doc, ns, (doc // per_doc) % APPS))
        for r in range(doc, min(doc + per_doc, rules)):
            port = 1000 + rnd.randrange(20000)
            if r == change:
                port = 40000 + r % 1000
            kind = rnd.random()
            if kind < 0.85:
                peer = "{selector: {matchLabels: {app: a%d}}, namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ns%d}}}" % (
                    rnd.randrange(APPS), rnd.randrange(NAMESPACES))
            elif kind < 0.97:
                peer = "{cidr: 203.0.%d.0/24}" % rnd.randrange(256)
            else:
                peer = "{entity: world}"
            action = "deny" if rnd.random() < 0.02 else "allow"
            out.append("    - {action: %s, from: [%s], ports: [{protocol: TCP, port: %d}]}\n"
                       % (action, peer, port))
    sys.stdout.write("".join(out))


# peers.sh's path: the flood's sources, its pod and port; TCP to the same
# pod: iperf3 (5201) and bench_tcp_crr (8000)
PEER_SRC, PEER_DST, PEER_PORT = "203.0.113.0/24", "10.200.1.10", 5201
PEER_TCP_PORTS = (5201, 8000)
PEER_MAX = 131070   # distinct /32s in 198.18.0.0/15 (RFC 2544 benchmarking)


def peer_addr(i):
    i += 1
    return "198.%d.%d.%d" % (18 + (i >> 16), (i >> 8) & 255, i & 255)


def peers(fmt, n):
    if n > PEER_MAX:
        raise SystemExit("peers: at most %d rules" % PEER_MAX)
    srcs = [peer_addr(i) + "/32" for i in range(n)] + [PEER_SRC]
    out = []
    if fmt == "iptables":
        out.append("*filter\n:FORWARD DROP [0:0]\n"
                   "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
        out += ["-A FORWARD -s %s -d %s/32 -p udp -m udp --dport %d -j ACCEPT\n"
                % (s, PEER_DST, PEER_PORT) for s in srcs]
        out.append("-A FORWARD -s %s -d %s/32 -p tcp -m multiport --dports %s -j ACCEPT\n"
                   % (PEER_SRC, PEER_DST, ",".join(map(str, PEER_TCP_PORTS))))
        out.append("COMMIT\n")
    elif fmt in ("nft-rules", "nft-set"):
        out.append("table ip peers {\n")
        if fmt == "nft-set":
            # keyed as kube-proxy's nftables mode keys its services:
            # protocol and port in one lookup
            out.append("  set allowed {\n    type ipv4_addr . ipv4_addr . inet_proto . inet_service\n"
                       "    flags interval\n    elements = {\n")
            out += ["      %s . %s . udp . %d,\n" % (s, PEER_DST, PEER_PORT) for s in srcs]
            out += ["      %s . %s . tcp . %d,\n" % (PEER_SRC, PEER_DST, p)
                    for p in PEER_TCP_PORTS]
            out.append("    }\n  }\n")
        out.append("  chain forward {\n"
                   "    type filter hook forward priority filter; policy drop;\n"
                   "    ct state established,related accept\n")
        if fmt == "nft-set":
            out.append("    ip saddr . ip daddr . meta l4proto . th dport @allowed accept\n")
        else:
            out += ["    ip saddr %s ip daddr %s udp dport %d accept\n"
                    % (s, PEER_DST, PEER_PORT) for s in srcs]
            out.append("    ip saddr %s ip daddr %s tcp dport { %s } accept\n"
                       % (PEER_SRC, PEER_DST, ", ".join(map(str, PEER_TCP_PORTS))))
        out.append("  }\n}\n")
    elif fmt == "networkpolicy":
        # the allows of the flood and of TCP 5201 and 8000 are
        # tests/fixtures/e2e/traffic.yaml's
        out.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: peers, namespace: shop}\nspec:\n"
                   "  podSelector: {matchLabels: {app: web}}\n"
                   "  policyTypes: [Ingress]\n  ingress:\n")
        out += ["    - from: [{ipBlock: {cidr: %s}}]\n"
                "      ports: [{protocol: UDP, port: %d}]\n" % (s, PEER_PORT)
                for s in srcs[:-1]]
    elif fmt == "labels":
        out.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: peers, namespace: shop}\nspec:\n"
                   "  podSelector: {matchLabels: {app: web}}\n"
                   "  policyTypes: [Ingress]\n  ingress:\n")
        out += ["    - from: [{namespaceSelector: {matchLabels: "
                "{kubernetes.io/metadata.name: peers}}, podSelector: "
                "{matchLabels: {peer: p%d}}}]\n"
                "      ports: [{protocol: UDP, port: %d}]\n" % (i, PEER_PORT)
                for i in range(n)]
    elif fmt == "peer-endpoints":
        out.append("endpoints:\n")
        out += ["- {name: peer-%d, namespace: peers, ips: [10.%d.%d.%d], "
                "labels: {app: peer, peer: p%d}, remote: true}\n"
                % (i, 202 + ((i + 1) >> 16), ((i + 1) >> 8) & 255, (i + 1) & 255, i)
                for i in range(n)]
    else:
        raise SystemExit("peers: unknown format %s" % fmt)
    sys.stdout.write("".join(out))


def main(argv):
    if len(argv) >= 3 and argv[1] == "endpoints":
        endpoints(int(argv[2]))
    elif len(argv) >= 4 and argv[1] == "peers":
        peers(argv[2], int(argv[3]))
    elif len(argv) >= 3 and argv[1] == "policy":
        change = -1
        if "--change" in argv:
            change = int(argv[argv.index("--change") + 1])
            argv = argv[:argv.index("--change")]
        seed = int(argv[3]) if len(argv) > 3 else 1
        policy(int(argv[2]), seed, change)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
