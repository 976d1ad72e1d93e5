#!/usr/bin/env bash
# tools/segd-k8s-sync fed with recorded kubectl output (tests/fixtures/k8s:
# a `get namespaces,pods,networkpolicies -A -o json` List of a two-node
# Calico cluster, then a `--watch --output-watch-events -o json` stream).
# This node is node-a: its pods are local endpoints on their cali*
# interfaces; node-b's pods are remote endpoints whose addresses carry the
# identity of their labels. Remote pods live in the ext netns behind the
# uplink, so real traffic from their addresses checks the ipcache. (Edited
# from the recording: api-1's container ports carry names, http and
# metrics, and api-allow-web names them, to check named ports end to end.)
# Then Nodes and ClusterNetworkPolicies of the same cluster
# (cluster-cnp.json, watch-cnp.json): nodes as peers of a CNP `nodes` rule,
# with real traffic to the nodes' addresses.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
F=tests/fixtures/k8s
SYNC=(python3 tools/segd-k8s-sync --node node-a --ifname-scheme calico
      --socket "$TOPO_SOCK" --segctl "$SEGCTL_BIN")

topo_create_node
topo_add_pod web1 10.200.4.10 "" cali751425ce827   # shop/web-1
topo_add_pod api1 10.200.4.20 "" calidc9f65f8e42   # shop/api-1
for a in 10.201.0.10 10.201.0.20 10.201.0.40 10.201.0.99; do
	in_ext ip addr add "$a/32" dev eth0
done
in_node ip route add 10.201.0.0/16 via 203.0.113.10 dev up0
topo_start_segd || { fail "segd start"; e2e_finish; exit 1; }
serve pod api1 8080
serve pod api1 9090

# from_remote SRC PORT: TCP from a remote pod's address to api-1
from_remote() { PROBE_SOURCE=$1 probe_tcp ext "" 10.200.4.20 "$2"; }
export PROBE_SOURCE
# ep FIELD NS/NAME: a field of an endpoint in `get endpoints -o json`
ep() {
	segctl get endpoints -o json | python3 -c '
import json, sys
f, key = sys.argv[1], sys.argv[2]
for e in json.load(sys.stdin)["items"]:
    if e["namespace"] + "/" + e["name"] == key:
        v = e[f]
        print(",".join(v) if isinstance(v, list) else
              ",".join("%s=%s" % kv for kv in sorted(v.items())) if isinstance(v, dict) else
              str(v).lower())
        break
else:
    print("absent")' "$1" "$2"
}
verdict() { # FROM TO PORT
	segctl explain --from "$1" --to "$2" --port "$3" -o json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])'
}

# ---- the List ------------------------------------------------------------
out=$("${SYNC[@]}" --prune "$F/cluster.json"); rc=$?
check "sync of cluster.json exits 0" [ "$rc" -eq 0 ]
check "local web-1: on its cali interface" [ "$(ep interface shop/web-1)" = cali751425ce827 ]
check "local web-1: attached" [ "$(ep ifindex shop/web-1)" != 0 ]
check "local api-1: remote false" [ "$(ep remote shop/api-1)" = false ]
check "local api-1: its containers' named ports" \
	[ "$(ep ports shop/api-1)" = "http=8080/TCP,metrics=9090/TCP" ]
check "web-1: no named ports (its container port has no name)" [ -z "$(ep ports shop/web-1)" ]
check "remote web-2: both addresses" [ "$(ep ips shop/web-2)" = "10.201.0.10,fd00:201::10" ]
check "remote web-2: labels" [ "$(ep labels shop/web-2)" = "app=web,pod-template-hash=7d9c6b5f48" ]
check "remote web-2: remote true, no ifindex" \
	[ "$(ep remote shop/web-2)/$(ep ifindex shop/web-2)" = true/0 ]
check "remote web-2 has web-1's identity (same namespace, same labels)" \
	[ "$(ep identity shop/web-2)" = "$(ep identity shop/web-1)" ]
st=$(segctl status)
check "status counts 2 remote endpoints" grep -qE "endpoints: 4 \(2 remote\)" <<<"$st"
refute "status lists no interface for remote endpoints" grep -q "shop/web-2" <<<"$st"
check "get endpoints table marks web-2 (remote)" \
	grep -qE "web-2 .*\(remote\)" <<<"$(segctl get endpoints)"
out=$(segctl endpoint add probe-r -n shop --ip 10.201.0.77 --labels app=x --remote)
check "endpoint add --remote says remote" grep -q "registered (id [0-9]*, identity [0-9]*, remote)" <<<"$out"
quiet segctl endpoint del probe-r -n shop
check "remote batch-1: own identity" \
	[ "$(ep identity batch/batch-1)" != "$(ep identity shop/web-1)" ]
check "hostNetwork pod not an endpoint" [ "$(ep name kube-system/kube-proxy-x7k2p)" = absent ]
check "Pending pod without address not an endpoint" [ "$(ep name shop/web-3)" = absent ]
check "Succeeded pod not an endpoint" [ "$(ep name batch/report-28391)" = absent ]
nsl=$(segctl get namespaces -o json)
check "namespace shop labels" grep -q '"env": "prod"' <<<"$nsl"
pol=$(segctl get policies)
check "NetworkPolicies applied" grep -q "api-allow-web" <<<"$pol"
check "explain remote web-2 -> local api-1 tcp/8080 (port: http): allow" \
	[ "$(verdict shop/web-2 shop/api-1 8080/tcp)" = allow ]
check "explain remote batch-1 -> local api-1 tcp/8080: deny" \
	[ "$(verdict batch/batch-1 shop/api-1 8080/tcp)" = deny ]
allowed "remote web-2 (10.201.0.10) -> api-1 tcp/8080" from_remote 10.201.0.10 8080
denied "remote batch-1 (10.201.0.20) -> api-1 tcp/8080" from_remote 10.201.0.20 8080
denied "unknown 10.201.0.99 (world) -> api-1 tcp/8080" from_remote 10.201.0.99 8080
denied "remote web-2 -> api-1 tcp/9090 (port not allowed yet)" from_remote 10.201.0.10 9090
out=$("${SYNC[@]}" "$F/cluster.json"); rc=$?
check "sync of the same List again exits 0" [ "$rc" -eq 0 ]
refute "a new sync of the same List repeats no endpoint or namespace call" \
	grep -qE "^(endpoint|namespace) " <<<"$out"

# ---- the watch stream ------------------------------------------------------
out=$("${SYNC[@]}" <"$F/watch.json"); rc=$?   # stdin, as from a pipe
echo "$out" | sed 's/^/# /'
check "sync of watch.json exits 0" [ "$rc" -eq 0 ]
refute "status-only MODIFIED of web-1 costs no segctl call" grep -q "shop/web-1" <<<"$out"
check "web-2 relabelled app=web-canary" [ "$(ep labels shop/web-2)" = "app=web-canary,pod-template-hash=7d9c6b5f48" ]
denied "relabelled web-2 -> api-1 tcp/8080" from_remote 10.201.0.10 8080
check "explain relabelled web-2 -> api-1: deny" [ "$(verdict shop/web-2 shop/api-1 8080/tcp)" = deny ]
check "web-4: registered once it had an address" [ "$(ep ips shop/web-4)" = 10.201.0.40 ]
allowed "remote web-4 -> api-1 tcp/8080" from_remote 10.201.0.40 8080
allowed "remote web-4 -> api-1 tcp/9090 (policy MODIFIED: port metrics added)" from_remote 10.201.0.40 9090
check "batch-1 deleted when it started terminating" [ "$(ep name batch/batch-1)" = absent ]
check "web-5 took batch-1's address after waiting for its deletion" \
	grep -q "shop/web-5.*waiting" <<<"$out"
check "web-5 holds 10.201.0.20" [ "$(ep ips shop/web-5)" = 10.201.0.20 ]
allowed "10.201.0.20 is now web-5 (app=web): -> api-1 tcp/8080" from_remote 10.201.0.20 8080
check "namespace batch relabelled" grep -q '"tier": "low"' <<<"$(segctl get namespaces -o json)"
refute "legacy-allow-all deleted" grep -q legacy-allow-all <<<"$(segctl get policies)"
check "local db-1 registered before its interface exists" \
	[ "$(ep interface shop/db-1)/$(ep ifindex shop/db-1)" = cali7fd651e3ab8/0 ]
topo_add_pod db1 10.200.4.30 "" cali7fd651e3ab8
attached() { [ "$(ep ifindex "$1")" != 0 ]; }
check "db-1 attached when its interface appeared" wait_until 10 attached shop/db-1

# ---- remote endpoints are state: they survive a segd restart ------------------
topo_stop_segd
topo_start_segd || fail "segd restart"
check "after a restart: web-5 still remote" [ "$(ep remote shop/web-5)" = true ]
allowed "after a restart: remote web-5 -> api-1 tcp/8080" from_remote 10.201.0.20 8080

# ---- --prune: a List without web-4 removes it (remote only) -------------------
python3 -c '
import json, sys
l = json.load(open(sys.argv[1]))
l["items"] = [i for i in l["items"] if i["kind"] != "Pod" or i["spec"]["nodeName"] == "node-a"]
print(json.dumps(l))' "$F/cluster.json" >"$TOPO_DIR/local-only.json"
out=$("${SYNC[@]}" --prune "$TOPO_DIR/local-only.json"); rc=$?
check "prune run exits 0" [ "$rc" -eq 0 ]
check "remote endpoints not in the List pruned" [ "$(ep name shop/web-4)" = absent ]
check "local endpoints kept" [ "$(ep name shop/db-1)" = db-1 ]

# ---- Nodes and ClusterNetworkPolicies --------------------------------------------
# cluster-cnp.json: `kubectl get nodes,clusternetworkpolicies -o json` of the
# same cluster (node-c the control plane, node-d without an address yet; a
# v1beta1 Admin guardrail against pods reaching control-plane nodes on the
# API server's port, a v1alpha2 Baseline default deny in audit mode), then
# watch-cnp.json, the events of `kubectl get nodes --watch
# --output-watch-events -o json` and of the same for
# clusternetworkpolicies, interleaved. The nodes' addresses live in ext.
for a in 10.201.255.2 10.201.255.3 10.201.255.4 203.0.113.20; do
	in_ext ip addr add "$a/32" dev eth0
done
serve ext "" 6443
serve ext "" 2379
serve pod web1 8081
# node_of FIELD NAME: a field of a node in `get nodes -o json`, or absent
node_of() {
	segctl get nodes -o json | python3 -c '
import json, sys
f, key = sys.argv[1], sys.argv[2]
n = [i for i in json.load(sys.stdin)["items"] if i["name"] == key]
v = n[0][f] if n else "absent"
print(",".join(v) if isinstance(v, list) else
      ",".join("%s=%s" % kv for kv in sorted(v.items())) if isinstance(v, dict) else v)' "$1" "$2"
}
# cnp_of FIELD NAME: a field of the cluster-scoped policy NAME, or absent
cnp_of() {
	segctl get policies -o json | python3 -c '
import json, sys
f, key = sys.argv[1], sys.argv[2]
p = [i for i in json.load(sys.stdin)["items"] if i["name"] == key and i["namespace"] == ""]
print(p[0][f] if p else "absent")' "$1" "$2"
}
allowed "no ClusterNetworkPolicy yet: web-1 -> node-c 10.201.255.3:6443" probe_tcp pod web1 10.201.255.3 6443
out=$("${SYNC[@]}" --prune "$F/cluster-cnp.json"); rc=$?
echo "$out" | sed 's/^/# /'
check "sync of cluster-cnp.json exits 0" [ "$rc" -eq 0 ]
check "node-b: its InternalIP (both families) and ExternalIP addresses" \
	[ "$(node_of ips node-b)" = "10.201.255.2,fd00:201::ff02,203.0.113.20" ]
check "node-b: its labels" grep -q "kubernetes.io/hostname=node-b,.*topology.kubernetes.io/zone=zone-b" \
	<<<"$(node_of labels node-b)"
check "node-c: the control-plane role label, with its empty value" \
	grep -q "node-role.kubernetes.io/control-plane=," <<<"$(node_of labels node-c)"
check "node-d (no address reported yet) is not a node" [ "$(node_of name node-d)" = absent ]
check "protect-control-plane: ClusterNetworkPolicy, Admin, priority 20" \
	[ "$(cnp_of kind protect-control-plane)/$(cnp_of tier protect-control-plane)/$(cnp_of priority protect-control-plane)" = ClusterNetworkPolicy/Admin/20 ]
check "default (v1alpha2): Baseline, audit mode from its segd.io/mode annotation" \
	[ "$(cnp_of tier default)/$(cnp_of mode default)" = Baseline/audit ]
denied "Admin Deny to control-plane nodes: web-1 -> node-c:6443" probe_tcp pod web1 10.201.255.3 6443
allowed "a worker is not one: web-1 -> node-b:6443" probe_tcp pod web1 10.201.255.2 6443
allowed "nor is its ExternalIP: web-1 -> 203.0.113.20:6443" probe_tcp pod web1 203.0.113.20 6443
allowed "the guard names 6443 only: web-1 -> node-c:2379" probe_tcp pod web1 10.201.255.3 2379
a0=$(reason_packets policy-audit)
allowed "Baseline Deny in audit mode lets api-1 -> web-1 tcp/8081 through" probe_tcp pod api1 10.200.4.10 8081
check "... and reports it as audit (policy-audit counter)" [ "$(reason_packets policy-audit)" -gt "$a0" ]
out=$("${SYNC[@]}" "$F/cluster-cnp.json"); rc=$?
check "a new sync of the same List exits 0" [ "$rc" -eq 0 ]
refute "it repeats no node call (seeded from get nodes)" grep -q "^node " <<<"$out"

printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: shared-name, namespace: default}\nspec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}\n' \
	>"$TOPO_DIR/shared-name.yaml"
quiet segctl apply "$TOPO_DIR/shared-name.yaml"
out=$("${SYNC[@]}" <"$F/watch-cnp.json"); rc=$?
echo "$out" | sed 's/^/# /'
check "sync of watch-cnp.json exits 0" [ "$rc" -eq 0 ]
check "node-b's heartbeat (status only) costs no call: one node-b call, its relabel" \
	[ "$(grep -c "^node node-b" <<<"$out")" -eq 1 ]
denied "node-b relabelled control-plane: web-1 -> node-b:6443" probe_tcp pod web1 10.201.255.2 6443
denied "... through its ExternalIP too" probe_tcp pod web1 203.0.113.20 6443
check "node-c DELETED: node del" [ "$(node_of name node-c)" = absent ]
allowed "node-c gone: web-1 -> 10.201.255.3:6443" probe_tcp pod web1 10.201.255.3 6443
check "node-d registered once it reported an address" [ "$(node_of ips node-d)" = 10.201.255.4 ]
denied "protect-control-plane MODIFIED to cover 2379-2380: web-1 -> node-b:2379" \
	probe_tcp pod web1 10.201.255.2 2379
check "the policy's status update costs no call: one apply of protect-control-plane" \
	[ "$(grep -c "^clusternetworkpolicy protect-control-plane" <<<"$out")" -eq 1 ]
check "default DELETED: the cluster-scoped policy is gone" [ "$(cnp_of kind default)" = absent ]
check "a DELETED ClusterNetworkPolicy segd never held leaves default/shared-name alone" \
	grep -qE "^default +shared-name " <<<"$(segctl get policies)"

# a restarted sync, given the nodes as segd holds them, calls nothing;
# --prune drops nodes only after a List that holds Nodes
python3 -c '
import json, sys
l, w = json.load(open(sys.argv[1])), sys.argv[2]
dec, txt, i, last = json.JSONDecoder(), open(w).read(), 0, {}
while txt[i:].strip():
    while txt[i].isspace():
        i += 1
    v, i = dec.raw_decode(txt, i)
    if v["object"]["kind"] == "Node":
        last[v["object"]["metadata"]["name"]] = v
l["items"] = [i for i in l["items"] if i["kind"] == "Node" and i["metadata"]["name"] == "node-a"]
l["items"] += [v["object"] for v in last.values() if v["type"] != "DELETED"]
json.dump(l, open(sys.argv[3], "w"))
l["items"] = l["items"][:1]
json.dump(l, open(sys.argv[4], "w"))' "$F/cluster-cnp.json" "$F/watch-cnp.json" \
	"$TOPO_DIR/nodes-now.json" "$TOPO_DIR/node-a-only.json"
out=$("${SYNC[@]}" --prune "$TOPO_DIR/nodes-now.json"); rc=$?
check "restarted sync with the nodes as they are: exit 0, no call" [ "$rc/$out" = 0/ ]
quiet segctl node set manual-1 --ip 10.201.255.9 --labels role=lab
out=$("${SYNC[@]}" --prune "$TOPO_DIR/local-only.json"); rc=$?
check "prune after a List without Nodes exits 0" [ "$rc" -eq 0 ]
check "... keeps every node" [ "$(node_of name node-b)/$(node_of name manual-1)" = node-b/manual-1 ]
out=$("${SYNC[@]}" --prune "$TOPO_DIR/node-a-only.json"); rc=$?
check "prune after a List of node-a alone exits 0" [ "$rc" -eq 0 ]
check "... deletes the nodes it did not name, set by hand or not" \
	[ "$(node_of name node-b)/$(node_of name node-d)/$(node_of name manual-1)" = absent/absent/absent ]
check "... keeps node-a" [ "$(node_of name node-a)" = node-a ]
allowed "node-b pruned: web-1 -> 10.201.255.2:6443" probe_tcp pod web1 10.201.255.2 6443

# ---- many pods of other nodes: one endpoint load --------------------------------
# bulk_list N [CLASH]: a List of N pods on node-c (10.201.100.x ...), one
# with a named port; CLASH: the last one on web-1's address
bulk_list() {
	python3 - "$@" <<'PY'
import json, sys
n, clash = int(sys.argv[1]), len(sys.argv) > 2
pods = []
for i in range(n):
    ip = "10.200.4.10" if clash and i == n - 1 else "10.201.%d.%d" % (100 + i // 250, 1 + i % 250)
    pods.append({"kind": "Pod", "metadata": {"name": "bulk-%d" % i, "namespace": "batch",
                 "labels": {"app": "bulk", "idx": str(i)}},
                 "spec": {"nodeName": "node-c", "containers": [{"name": "c", "ports":
                          [{"name": "http", "containerPort": 8080}] if i == 0 else []}]},
                 "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
print(json.dumps({"kind": "List", "items": pods}))
PY
}
bulk_list 200 >"$TOPO_DIR/bulk.json"
out=$("${SYNC[@]}" "$TOPO_DIR/bulk.json"); rc=$?
check "a List of 200 remote pods exits 0 ($rc)" [ "$rc" -eq 0 ]
check "... sent in one endpoint load: $(head -1 <<<"$out")" \
	grep -q "^200 remote endpoints in one load: ok (200 endpoints loaded: 200 added" <<<"$out"
check "... with their labels" [ "$(ep labels batch/bulk-199)" = app=bulk,idx=199 ]
check "... and named ports" [ "$(ep ports batch/bulk-0)" = http=8080/TCP ]
check "... as remote endpoints" [ "$(ep remote batch/bulk-7)" = true ]
out=$("${SYNC[@]}" "$TOPO_DIR/bulk.json"); rc=$?
check "the same List again: nothing to send, exit 0 ($rc)" \
	rc_and_match "$rc" 0 "^$" "$out"
bulk_list 240 clash >"$TOPO_DIR/bulk-clash.json"
out=$("${SYNC[@]}" "$TOPO_DIR/bulk-clash.json"); rc=$?
check "a load refused for one taken address goes one at a time, exit 1 ($rc)" \
	rc_and_match "$rc" 1 "^40 remote endpoints in one load: refused .*claimed by both.*; one at a time" "$out"
check "... the others registered" [ "$(ep ips batch/bulk-238)" = 10.201.100.239 ]
check "... the one on a taken address waits" \
	grep -q "^endpoint batch/bulk-239 remote 10.200.4.10: FAILED: its address is still held" <<<"$out"
check "... web-1 keeps its address" [ "$(ep ips shop/web-1)" = 10.200.4.10 ]

# ---- bad input is an error, not a half-read -------------------------------------
head -c 500 "$F/cluster.json" >"$TOPO_DIR/cut.json"
"${SYNC[@]}" "$TOPO_DIR/cut.json" >/dev/null 2>"$TOPO_DIR/cut.err"; rc=$?
check "truncated input: exit 1 and says so" \
	rc_and_match "$rc" 1 "ends inside a JSON value" "$(cat "$TOPO_DIR/cut.err")"

e2e_finish
