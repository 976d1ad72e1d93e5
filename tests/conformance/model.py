"""model.py - the conformance cluster and its truth tables.

Upstream's model (kubernetes test/e2e/network/netpol/model.go): namespaces
x, y, z labelled ns=<name>, pods a, b, c labelled pod=<name>, each serving
ports 80 and 81 with the port names serve-<port>-<protocol>. Here the pods
are IPv4 only, like upstream's single-stack runs.

A truth table maps (from, to) pod pairs to allowed (True) / denied (False).
Expectations are written as upstream writes them: start from "everything
allowed" (NewReachability(..., true)) and apply rules in order, each
"FROM -> TO allow|deny" where FROM and TO are `all`, a namespace (`x`) or
a pod (`x/a`) - upstream's ExpectPeer / ExpectAllIngress /
ExpectAllEgress / Expect. Pairs of a pod with itself are loopback, which
upstream ignores (ignoreLoopback): they are never probed or compared.

  python3 model.py pods   prints "x/a 10.200.1.11 80 81" per pod: its
                          address and agent.py's ports (for run.sh)
  python3 model.py hosts  prints nothing: no hostNetwork pods, no other
                          node (cnp_model.py has some)
"""
import re
import sys

NAMESPACES = ("x", "y", "z")
POD_NAMES = ("a", "b", "c")
PODS = tuple("%s/%s" % (ns, p) for ns in NAMESPACES for p in POD_NAMES)
# every pod is an endpoint of segd's node; no other node
ENDPOINTS = PODS
NODES = {}
PORTS = (80, 81)

# what real traffic can probe here; SCTP runs as BPF rows instead
REAL_COMBOS = ("80/TCP", "81/TCP", "80/UDP", "81/UDP")
SCTP_COMBOS = ("80/SCTP", "81/SCTP")
ALL_COMBOS = REAL_COMBOS + SCTP_COMBOS

RULE_RE = re.compile(r"^(\S+) -> (\S+) (allow|deny)$")


def pod_ip(pod):
    ns, name = pod.split("/")
    return "10.200.%d.%d" % (NAMESPACES.index(ns) + 1,
                             POD_NAMES.index(name) + 11)


def ns_labels(ns):
    return "ns=%s" % ns


def pod_labels(pod):
    return "pod=%s" % pod.split("/")[1]


def port_names():
    """name=port/PROTO of every port a pod serves (upstream's PortName)."""
    return ["serve-%d-%s=%d/%s" % (port, proto.lower(), port, proto)
            for port in PORTS for proto in ("TCP", "UDP")]


def expand_combos(key):
    """'all' | 'TCP' | 'UDP' | 'SCTP' | '80/TCP' ..., space separated."""
    out = []
    for tok in key.split():
        if tok == "all":
            out += REAL_COMBOS
        elif tok in ("TCP", "UDP", "SCTP"):
            out += ["%d/%s" % (p, tok) for p in PORTS]
        elif tok in ALL_COMBOS:
            out.append(tok)
        else:
            raise ValueError("unknown probe '%s' (use all, TCP, UDP, SCTP "
                             "or PORT/PROTO of %s)" % (tok, ", ".join(ALL_COMBOS)))
    return out


def matches(pattern, pod):
    if pattern == "all":
        return True
    if "/" in pattern:
        return pattern == pod
    return pod.split("/")[0] == pattern


def check_pattern(pattern):
    if pattern == "all" or pattern in NAMESPACES or pattern in PODS:
        return
    raise ValueError("'%s' is not all, a namespace (%s) or a pod (%s)"
                     % (pattern, ", ".join(NAMESPACES), ", ".join(PODS)))


def parse_rule(text):
    m = RULE_RE.match(text.strip())
    if not m:
        raise ValueError("rule '%s' is not 'FROM -> TO allow|deny'" % text)
    check_pattern(m.group(1))
    check_pattern(m.group(2))
    return m.group(1), m.group(2), m.group(3) == "allow"


def truth_table(rules):
    table = {(f, t): True for f in PODS for t in PODS if f != t}
    for src, dst, allowed in (parse_rule(r) for r in rules):
        for f, t in table:
            if matches(src, f) and matches(dst, t):
                table[(f, t)] = allowed
    return table


def render(cell):
    """Rows of a 9x9 table, rows = from, columns = to; cell(f, t) -> char."""
    lines = ["-    " + " ".join("%-3s" % t for t in PODS)]
    for f in PODS:
        lines.append("%-4s " % f + " ".join(
            "%-3s" % ("-" if f == t else cell(f, t)) for t in PODS))
    return [line.rstrip() for line in lines]


def verdict_char(v):
    # upstream's truth tables: '.' connected, 'X' not; '?' no verdict
    return "." if v is True else "X" if v is False else "?"


if __name__ == "__main__":
    if sys.argv[1:] == ["pods"]:
        for pod in PODS:
            print(pod, pod_ip(pod), *PORTS)
        sys.exit(0)
    if sys.argv[1:] == ["hosts"]:
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
