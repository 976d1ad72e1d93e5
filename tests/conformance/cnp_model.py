"""cnp_model.py - the ClusterNetworkPolicy conformance cluster.

Upstream's base manifests (kubernetes-sigs/network-policy-api,
conformance/base/manifests.yaml): five namespaces
network-policy-conformance-<house> labelled conformance-house=<house>, a
StatefulSet of two pods in each (labelled conformance-house=<house> by the
template, statefulset.kubernetes.io/pod-name=<pod> by the StatefulSet
controller), every pod serving TCP 80 (container port `web`), TCP 8080,
UDP 53 (container port `dns`), UDP 5353, SCTP 9003 and SCTP 9005; but the
centaurs are `hostNetwork: true` pods serving the suite's HostNetworkPorts
(34345 .. 34352 by default) on their node's address, one on each of two
nodes (their host ports keep them apart) labelled kubernetes.io/os=linux.

Here: the same names and labels; pod addresses 10.200.<41+house>.<10+replica>
(IPv4 only, like a single-stack run), each an endpoint of segd's node. The
two other nodes are netns of their own behind a veth of segd's node,
registered with `segctl node set`; centaur-<r> runs in node-<r+1>'s netns
and its address is the node's, 198.51.100.<11+r>. Probes and case files
name a pod by its name alone (`harry-potter-0`): pod names are unique
across namespaces.

  python3 cnp_model.py pods    prints "NS/POD ADDR AGENT_ARGS..." per pod
                               that is an endpoint of segd's node (run.sh)
  python3 cnp_model.py hosts   prints "NODE ADDR NS/POD AGENT_ARGS..." per
                               other node and the hostNetwork pod on it
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

# hostNetwork pods -> the node each runs on; the other nodes: name ->
# (address, labels). segd's own node (the pods' node) is not registered:
# no probe goes to it.
HOST_NETWORK = {NS_PREFIX + "forbidden-forrest/centaur-0": "node-1",
                NS_PREFIX + "forbidden-forrest/centaur-1": "node-2"}
NODES = {"node-1": ("198.51.100.11", "kubernetes.io/os=linux"),
         "node-2": ("198.51.100.12", "kubernetes.io/os=linux")}
# the pods segd enforces on (a hostNetwork pod is its node)
ENDPOINTS = tuple(p for p in PODS if p not in HOST_NETWORK)

# what every pod serves; real traffic on all of them (SCTP over raw sockets)
SERVED = ("80/TCP", "8080/TCP", "53/UDP", "5353/UDP", "9003/SCTP", "9005/SCTP")
# what a hostNetwork pod serves: upstream's HostNetworkPorts [0] .. [7] are
# 34345 .. 34352; the centaurs serve [0], [1] on TCP, [2], [4] on UDP
# ([3], [5] are agnhost netexec's HTTP ports, never probed), [6], [7] on SCTP
HOST_NETWORK_PORTS = tuple(range(34345, 34353))
HOST_SERVED = tuple("%d/%s" % (HOST_NETWORK_PORTS[i], proto) for i, proto in
                    ((0, "TCP"), (1, "TCP"), (2, "UDP"), (4, "UDP"),
                     (6, "SCTP"), (7, "SCTP")))
PROBE_RE = re.compile(r"^(\S+) -> (\S+) (\d+/(?:TCP|UDP|SCTP)) (allow|deny)$")


def house(ns):
    return ns[len(NS_PREFIX):]


def served(pod):
    return HOST_SERVED if pod in HOST_NETWORK else SERVED


def pod_ip(pod):
    if pod in HOST_NETWORK:
        return NODES[HOST_NETWORK[pod]][0]
    ns, name = pod.split("/")
    return "10.200.%d.%d" % (41 + HOUSES.index(house(ns)),
                             10 + int(name.rsplit("-", 1)[1]))


def ns_labels(ns):
    return "conformance-house=%s" % house(ns)


def pod_labels(pod):
    """The template's label and the one the StatefulSet controller adds
    (statefulset.kubernetes.io/pod-name, which some policies select)."""
    return "%s,statefulset.kubernetes.io/pod-name=%s" % (
        ns_labels(pod.split("/")[0]), pod.split("/")[1])


def port_names():
    """The container ports upstream names (web, dns)."""
    return ["web=80/TCP", "dns=53/UDP"]


def agent_args(pod):
    """agent.py's ports: TCP and UDP echo on the TCP and UDP ports (a
    superset of upstream's containers: no probe asks for the other
    protocol), raw SCTP on the SCTP ports."""
    ports = []
    for combo in served(pod):
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
    if m.group(3) not in served(BY_NAME[m.group(2)]):
        raise ValueError("%s is not served by %s (%s)"
                         % (m.group(3), m.group(2),
                            ", ".join(served(BY_NAME[m.group(2)]))))
    return BY_NAME[m.group(1)], BY_NAME[m.group(2)], m.group(3), m.group(4) == "allow"


if __name__ == "__main__":
    if sys.argv[1:] == ["pods"]:
        for pod in ENDPOINTS:
            print(pod, pod_ip(pod), *agent_args(pod))
        sys.exit(0)
    if sys.argv[1:] == ["hosts"]:
        for pod, node in sorted(HOST_NETWORK.items()):
            print(node, NODES[node][0], pod, *agent_args(pod))
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
