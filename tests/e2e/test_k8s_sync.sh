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

# ---- bad input is an error, not a half-read -------------------------------------
head -c 500 "$F/cluster.json" >"$TOPO_DIR/cut.json"
"${SYNC[@]}" "$TOPO_DIR/cut.json" >/dev/null 2>"$TOPO_DIR/cut.err"; rc=$?
check "truncated input: exit 1 and says so" \
	rc_and_match "$rc" 1 "ends inside a JSON value" "$(cat "$TOPO_DIR/cut.err")"

e2e_finish
