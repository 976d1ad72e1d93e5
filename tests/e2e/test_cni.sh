#!/usr/bin/env bash
# segd-cni chained after Debian's bridge + host-local plugins, called the
# way a container runtime calls them (tests/e2e/cni_exec.py) in the node
# namespace: pods are registered with their labels and addresses, enforced
# from their first packet, checked, removed; ADD fails closed without segd
# unless failOpen is set.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

CNI_PLUGINS=${CNI_PLUGINS:-/usr/lib/cni}
if [ ! -x "$CNI_PLUGINS/bridge" ] || [ ! -x "$CNI_PLUGINS/host-local" ]; then
	fail "containernetworking-plugins not installed ($CNI_PLUGINS/bridge); run tools/install-deps.sh"
	e2e_finish; exit 1
fi
export CNI_PATH="$CNI_PLUGINS:$E2E_ROOT/build"
[ -x build/segd-cni ] || { fail "build/segd-cni missing; run make"; e2e_finish; exit 1; }

topo_create_node
topo_start_segd || { fail "segd start"; e2e_finish; exit 1; }
CACHE="$TOPO_DIR/cni-cache"
BRIDGE="sgb${TOPO_ID}"

# conflist NAME [EXTRA JSON FIELDS OF segd-cni]: bridge + host-local, then segd-cni
conflist() {
	cat >"$TOPO_DIR/$1.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "segtest", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$TOPO_DIR/ipam",
            "ranges": [[{"subnet": "10.201.0.0/24"}]]}},
  {"type": "segd-cni", "socket": "$TOPO_SOCK", "capabilities": {"labels": true}$2}
]}
EOF
	echo "$TOPO_DIR/$1.conflist"
}
NET=$(conflist closed "")
NET_OPEN=$(conflist open ', "failOpen": true')

# cni POD COMMAND CONFLIST [cni_exec options]: run the chain for pod POD
# (netns sg<ID>-POD, K8S_POD_NAME POD-0, or $POD_NAME, in namespace shop)
cni() {
	local pod=$1 cmd=$2 net=$3; shift 3
	in_node python3 tests/e2e/cni_exec.py "$cmd" "$net" "cid-$TOPO_ID-$pod" \
		"/run/netns/$(pod_ns "$pod")" eth0 "$CACHE" \
		--args "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${POD_NAME:-$pod-0}" "$@"
}

new_pod_ns() {
	ip netns add "$(pod_ns "$1")"
	TOPO_PODS+=("$1")
	in_pod "$1" ip link set lo up
}

# field of a JSON document: json_get TEXT PYTHON-EXPR-ON-d
json_get() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

# the policy is there before the pods: they are enforced from their first packet
cat >"$TOPO_DIR/policy.yaml" <<'EOF'
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: web-ingress, namespace: shop}
spec:
  segments:
    client: {selector: {matchLabels: {app: client}}}
  appliesTo: {selector: {matchLabels: {app: web}}}
  ingress:
    - name: from-client
      from: [{segment: client}]
      ports: [{protocol: TCP, port: 80}]
EOF
segctl namespace set shop >/dev/null
check "policy applied before any pod" quiet segctl apply "$TOPO_DIR/policy.yaml"

# ---- ADD -----------------------------------------------------------------------
new_pod_ns web
new_pod_ns client
web_res=$(cni web ADD "$NET" --cap 'labels={"app": "web", "tier": "front"}'); rc=$?
check "ADD web through bridge + segd-cni exits 0 (rc $rc)" [ "$rc" -eq 0 ]
check "segd-cni passes the bridge plugin's result on unchanged" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(a != b or not a.get("ips"))' "$CACHE/ADD-0.out" "$CACHE/ADD-1.out"
# client's labels come as CNI-conventions args, a list of key/value pairs,
# with its named container ports (the pod spec's form)
client_res=$(cni client ADD "$NET" \
	--conf-args '{"cni": {"labels": [{"key": "app", "value": "client"}],
		"ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 22}]}}'); rc=$?
check "ADD client exits 0 (rc $rc)" [ "$rc" -eq 0 ]

web_ip=$(json_get "$web_res" 'd["ips"][0]["address"].split("/")[0]')
client_ip=$(json_get "$client_res" 'd["ips"][0]["address"].split("/")[0]')
web_veth=$(json_get "$web_res" '[i["name"] for i in d["interfaces"] if not i.get("sandbox") and i["name"] != "'"$BRIDGE"'"][0]')
client_veth=$(json_get "$client_res" '[i["name"] for i in d["interfaces"] if not i.get("sandbox") and i["name"] != "'"$BRIDGE"'"][0]')
check "host veths are bridge ports ($web_veth, $client_veth in $BRIDGE)" \
	bash -c "ip netns exec $TOPO_NODE ip -o link show master $BRIDGE | grep -q '$web_veth@' &&
		 ip netns exec $TOPO_NODE ip -o link show master $BRIDGE | grep -q '$client_veth@'"

eps=$(segctl get endpoints -o json)
# endpoint_is NAME IP VETH LABELS-JSON: segd's record matches exactly
endpoint_is() {
	python3 -c '
import json, sys
eps = json.loads(sys.argv[1])["items"]
name, ip, veth, labels = sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
e = [e for e in eps if e["namespace"] == "shop" and e["name"] == name]
sys.exit(not (len(e) == 1 and e[0]["ips"] == [ip] and e[0]["interface"] == veth
              and e[0]["labels"] == labels and e[0]["ifindex"] > 0))' "$eps" "$@"
}
check "segd holds shop/web-0: $web_ip on $web_veth, app=web tier=front" \
	endpoint_is web-0 "$web_ip" "$web_veth" '{"app": "web", "tier": "front"}'
check "segd holds shop/client-0: $client_ip on $client_veth, app=client" \
	endpoint_is client-0 "$client_ip" "$client_veth" '{"app": "client"}'
check "shop/client-0 has its named port http=8080/TCP (the unnamed one skipped)" python3 -c '
import json, sys
e = [e for e in json.loads(sys.argv[1])["items"] if e["name"] == "client-0"]
sys.exit(e[0]["ports"] != ["http=8080/TCP"])' "$eps"
st=$(segctl status -o json)
check "segd's tc programs are on both host veths" python3 -c '
import json, sys
st = json.loads(sys.argv[1])
got = {i["interface"]: len(i["programs"]) for i in st["interfaces"]}
sys.exit(not (got.get(sys.argv[2]) == 2 and got.get(sys.argv[3]) == 2))' "$st" "$web_veth" "$client_veth"

# ---- enforcement through the bridge, from the first packet ---------------------
serve pod web 80
serve pod web 8080
before=$(reason_packets default-denied)
denied "client's first connection: client -> web tcp/8080 (not allowed)" \
	probe_tcp pod client "$web_ip" 8080
after=$(reason_packets default-denied)
check "segd dropped it on the bridged veth (default-denied $before -> $after)" [ "$after" -gt "$before" ]
allowed "client -> web tcp/80 (allowed by web-ingress)" probe_tcp pod client "$web_ip" 80
allowed "web -> client ping (web's egress is open, replies pass)" probe_ping pod web "$client_ip"
denied "client -> web ping (not allowed)" probe_ping pod client "$web_ip"

# ---- CHECK -----------------------------------------------------------------------
out=$(cni web CHECK "$NET"); rc=$?
check "CHECK web exits 0 (rc $rc)" [ "$rc" -eq 0 ]

# ---- DEL -------------------------------------------------------------------------
out=$(cni client DEL "$NET"); rc=$?
check "DEL client exits 0 (rc $rc)" [ "$rc" -eq 0 ]
check "shop/client-0 is gone from segctl get endpoints" \
	bash -c "! SEGD_SOCKET=$TOPO_SOCK ip netns exec $TOPO_NODE $SEGCTL_BIN get endpoints | grep -q client-0"
check "segd reports no interface for client-0 any more" python3 -c '
import json, sys
st = json.loads(sys.argv[1])
sys.exit(any(i.get("endpoint") == "shop/client-0" for i in st["interfaces"]))' "$(segctl status -o json)"
check "the bridge plugin removed client's veth after segd-cni" bash -c "! ip netns exec $TOPO_NODE ip link show $client_veth >/dev/null 2>&1"
out=$(cni client DEL "$NET"); rc=$?
check "DEL of a pod segd no longer knows succeeds (rc $rc)" [ "$rc" -eq 0 ]

# web-0 re-created in a new sandbox before the old one's DEL (as a
# StatefulSet does): the old DEL must leave the new registration alone
new_pod_ns web2
web2_res=$(POD_NAME=web-0 cni web2 ADD "$NET" --cap 'labels={"app": "web"}'); rc=$?
check "ADD of a new sandbox for shop/web-0 exits 0 (rc $rc)" [ "$rc" -eq 0 ]
web2_ip=$(json_get "$web2_res" 'd["ips"][0]["address"].split("/")[0]')
web2_veth=$(json_get "$web2_res" '[i["name"] for i in d["interfaces"] if not i.get("sandbox") and i["name"] != "'"$BRIDGE"'"][0]')
out=$(cni web DEL "$NET"); rc=$?
check "DEL of the old web-0 sandbox exits 0 (rc $rc)" [ "$rc" -eq 0 ]
eps=$(segctl get endpoints -o json)
check "... and shop/web-0 stays registered on the new sandbox's $web2_veth" \
	endpoint_is web-0 "$web2_ip" "$web2_veth" '{"app": "web"}'
out=$(POD_NAME=web-0 cni web2 CHECK "$NET"); rc=$?
check "CHECK of the new sandbox exits 0 (rc $rc)" [ "$rc" -eq 0 ]

segctl endpoint del web-0 -n shop >/dev/null
out=$(POD_NAME=web-0 cni web2 CHECK "$NET"); rc=$?
check "CHECK fails once segd lost the pod (rc $rc, code 101)" \
	bash -c "[ $rc -ne 0 ] && [ \"\$(python3 -c 'import json,sys; print(json.load(sys.stdin)[\"code\"])' <<<'$out')\" = 101 ]"

# ---- segd down: fail closed, or open when configured ------------------------------
topo_stop_segd
new_pod_ns late
out=$(cni late ADD "$NET"); rc=$?
check "ADD without segd fails (rc $rc)" [ "$rc" -ne 0 ]
check "... with a CNI error: code 11, msg, details" python3 -c '
import json, sys
e = json.loads(sys.argv[1])
sys.exit(not (e["code"] == 11 and "segd" in e["msg"] and e["details"]))' "$out"
new_pod_ns late2
out=$(cni late2 ADD "$NET_OPEN" 2>/dev/null); rc=$?
check "ADD without segd and failOpen: true passes (rc $rc)" [ "$rc" -eq 0 ]
check "... and its result is the bridge plugin's" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(a != b)' "$CACHE/ADD-0.out" "$CACHE/ADD-1.out"

e2e_finish
