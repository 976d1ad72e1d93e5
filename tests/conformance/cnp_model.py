"""cnp_model.py - the ClusterNetworkPolicy conformance cluster.

Upstream's base manifests (kubernetes-sigs/network-policy-api,
conformance/base/manifests.yaml): five namespaces
network-policy-conformance-<house> labelled conformance-house=<house>,
a StatefulSet of two pods in each (pods labelled conformance-house=<house>),
every pod serving TCP 80 (container port `web`), TCP 8080, UDP 53
(container port `dns`), UDP 5353, SCTP 9003 and SCTP 9005.

Here: the same names and labels; pod addresses 10.200.<41+house>.<10+replica>
(IPv4 only, like a single-stack run). Probes and case files name a pod by
its name alone (`harry-potter-0`): pod names are unique across namespaces.

  python3 cnp_model.py pods   prints "NS/POD ADDR AGENT_ARGS..." per pod
                              (for run.sh)
"""
import re
import sys

HOUSES = ("gryffindor", "slytherin", "hufflepuff", "ravenclaw",
          "forbidden-forrest")
STATEFULSETS = ("harry-potter", "draco-malfoy", "cedric-diggory",
                "luna-lovegood", "centaur")
NS_PREFIX = "network-policy-conformance-"
NAMESPACES = tuple(NS_PREFIX + h for h in HOUSES)
PODS = tuple("%s/%s-%d" % (NS_PREFIX + h, s, i)
             for h, s in zip(HOUSES, STATEFULSETS) for i in (0, 1))
BY_NAME = {p.split("/")[1]: p for p in PODS}

# what every pod serves; real traffic on all of them (SCTP over raw sockets)
SERVED = ("80/TCP", "8080/TCP", "53/UDP", "5353/UDP", "9003/SCTP", "9005/SCTP")
PROBE_RE = re.compile(r"^(\S+) -> (\S+) (\d+/(?:TCP|UDP|SCTP)) (allow|deny)$")


def house(ns):
    return ns[len(NS_PREFIX):]


def pod_ip(pod):
    ns, name = pod.split("/")
    return "10.200.%d.%d" % (41 + HOUSES.index(house(ns)),
                             10 + int(name.rsplit("-", 1)[1]))


def ns_labels(ns):
    return "conformance-house=%s" % house(ns)


def pod_labels(pod):
    return ns_labels(pod.split("/")[0])


def port_names():
    """The container ports upstream names (web, dns)."""
    return ["web=80/TCP", "dns=53/UDP"]


def agent_args():
    """agent.py's ports: TCP and UDP echo on the TCP and UDP ports (a
    superset of upstream's containers: no probe asks for the other
    protocol), raw SCTP on the SCTP ports."""
    ports = []
    for combo in SERVED:
        port, proto = combo.split("/")
        ports.append(port + "/sctp" if proto == "SCTP" else port)
    return ports


def parse_probe(text):
    """'FROM -> TO PORT/PROTO allow|deny' (pod names) ->
    (from pod, to pod, 'PORT/PROTO', allowed)."""
    m = PROBE_RE.match(text.strip())
    if not m:
        raise ValueError("probe '%s' is not 'FROM -> TO PORT/PROTO allow|deny'"
                         % text)
    for name in (m.group(1), m.group(2)):
        if name not in BY_NAME:
            raise ValueError("'%s' is not a pod (%s)" % (name, ", ".join(BY_NAME)))
    if m.group(3) not in SERVED:
        raise ValueError("%s is not served by the pods (%s)"
                         % (m.group(3), ", ".join(SERVED)))
    return BY_NAME[m.group(1)], BY_NAME[m.group(2)], m.group(3), m.group(4) == "allow"


if __name__ == "__main__":
    if sys.argv[1:] == ["pods"]:
        for pod in PODS:
            print(pod, pod_ip(pod), *agent_args())
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
