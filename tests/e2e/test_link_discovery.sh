#!/usr/bin/env bash
# Interface discovery: an endpoint registered before its interface exists
# is enforced from the first packet its pod sends once the veth appears
# (segd follows netlink link events); when the veth goes, the endpoint
# stays registered with ifindex 0 and is enforced again when it comes back.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

LATE_IP=10.200.2.10
PEER_IP=10.200.2.20

topo_create_node
topo_add_pod peer "$PEER_IP"
topo_start_segd || { fail "segd start"; e2e_finish; exit 1; }
serve pod peer 8080
segctl namespace set k8s --labels team=k8s >/dev/null
segctl endpoint add peer -n k8s --ip "$PEER_IP" --labels app=peer \
	--ifname "$(pod_if peer)" >/dev/null

# late may only open TCP 8080 to peer; peer itself is not selected by any
# policy, so only late's own programs can drop what late sends
cat >"$TOPO_DIR/late.yaml" <<'YAML'
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: late-egress, namespace: k8s}
spec:
  segments:
    late: {selector: {matchLabels: {app: late}}}
    peer: {selector: {matchLabels: {app: peer}}}
  appliesTo: {segment: late}
  egress:
    - to: [{segment: peer}]
      ports: [{protocol: TCP, port: 8080}]
YAML
check "apply late-egress" quiet segctl apply "$TOPO_DIR/late.yaml"

hif=$(pod_if late)
out=$(segctl endpoint add late -n k8s --ip "$LATE_IP" --labels app=late --ifname "$hif" -o json)
check "endpoint registered before its interface exists: not attached" \
	grep -q '"attached": false' <<<"$out"

# ifindex of an endpoint from `get endpoints -o json`
ep_ifindex() {
	segctl get endpoints -o json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    if e["name"] == sys.argv[1]:
        print(e["ifindex"])' "$1"
}
# segd saw the endpoint's interface go: ifindex 0
detached() { [ "$(ep_ifindex "$1")" = 0 ]; }

# The pod as a CNI makes it: veth in the node, peer moved into the pod's
# netns, addresses, up. The first packet late sends is a ping to peer
# right after its link is up: it must already be dropped.
make_late() {
	local ns
	ns=$(pod_ns late)
	ip netns add "$ns" 2>/dev/null
	ip netns exec "$ns" ip link set lo up
	if [ "${MOVE_IN:-}" ]; then
		# as the bridge plugin does: both ends made in the pod's netns,
		# the host end moved out (segd sees it when it arrives)
		ip netns exec "$ns" ip link add "$hif" type veth peer name eth0
		ip netns exec "$ns" ip link set "$hif" netns "$TOPO_NODE"
	else
		ip link add "$hif" netns "$TOPO_NODE" type veth peer name eth0 netns "$ns"
	fi
	in_node ip link set "$hif" up
	in_node ip route replace "$LATE_IP/32" dev "$hif"
	ip netns exec "$ns" ip addr add "$LATE_IP/32" dev eth0
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip route add 169.254.1.1 dev eth0 scope link
	ip netns exec "$ns" ip route add default via 169.254.1.1 dev eth0
}
TOPO_PODS+=(late)

# create_and_probe WHEN: make the pod, its first packet is a denied ping
# (dropped by its own program), then an allowed connection; the endpoint
# follows the interface's ifindex
create_and_probe() {
	local when=$1 before after idx
	before=$(reason_packets default-denied)
	make_late
	denied "$when: first packet after the veth appeared: late -> peer ping" \
		probe_ping pod late "$PEER_IP"
	after=$(reason_packets default-denied)
	check "$when: the first ping was dropped by late's program (default-denied $before -> $after)" \
		[ "$after" -gt "$before" ]
	allowed "$when: first connection late -> peer tcp/8080" probe_tcp pod late "$PEER_IP" 8080
	idx=$(in_node cat "/sys/class/net/$hif/ifindex")
	check "$when: get endpoints shows late on ifindex $idx" [ "$(ep_ifindex late)" = "$idx" ]
	check "$when: segd logged the attachment" \
		grep -q "interface $hif (ifindex $idx) appeared" "$TOPO_DIR/segd.log"
}

create_and_probe "new pod"
check "status lists tc programs on late's interface" grep -q "$hif.*tc-ingress" <<<"$(segctl status)"

# the veth goes (pod deleted): the endpoint stays, ifindex back to 0
in_node ip link del "$hif"
check "after the veth is gone: endpoint kept with ifindex 0" wait_until 10 detached late
check "policy still there" grep -q late-egress <<<"$(segctl get policies)"

# and comes back (pod re-created, new ifindex): enforced again at once
ip netns del "$(pod_ns late)"
wait_until 10 detached late
create_and_probe "re-created pod"

# the host end made in the pod's netns and moved into the node
ip netns del "$(pod_ns late)"
wait_until 10 detached late
MOVE_IN=1 create_and_probe "host end moved in"

# an interface matching interface_patterns that no endpoint names is logged
in_node ip link add veth9x type veth peer name veth9y
check "unclaimed veth* interface logged" \
	wait_until 10 grep -q "veth9x .*no endpoint names it" "$TOPO_DIR/segd.log"

e2e_finish
