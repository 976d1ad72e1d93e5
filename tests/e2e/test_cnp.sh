#!/usr/bin/env bash
# ClusterNetworkPolicy with real traffic: each action (Accept, Deny, Pass),
# the tiers' order (Admin -> NetworkPolicy -> Baseline -> allow),
# priorities and their change cutting an established flow, networks as
# egress peers, audit mode. The API's user stories, in the shop topology
# plus a pod in a `payments` namespace.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
D=$TOPO_DIR

setup_shop_pods
topo_add_pod pay 10.200.2.10
setup_shop_segd || { fail "setup"; e2e_finish; exit 1; }
segctl namespace set payments --labels team=payments >/dev/null
segctl endpoint add pay -n payments --ip 10.200.2.10 --labels app=pay \
	--ifname "$(pod_if pay)" >/dev/null
serve pod pay 9000 || fail "serve pay"

cnp() { # NAME TIER PRIORITY SUBJECT-YAML RULES-YAML [ANNOTATIONS]: a CNP file
	cat >"$D/$1.yaml" <<EOF
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: $1
${6:-}
spec:
  tier: $2
  priority: $3
  subject:
$4
$5
EOF
	echo "$D/$1.yaml"
}
all_ns="    namespaces: {}"
ns_sel() { printf '    namespaces:\n      matchLabels: {%s}\n' "$1"; }
pods_sel() { printf '    pods:\n      namespaceSelector: {}\n      podSelector:\n        matchLabels: {%s}\n' "$1"; }
apply() { segctl apply "$@" >/dev/null; }
np() { # NS NAME POD-LABEL SPEC-REST: apply a NetworkPolicy selecting POD-LABEL
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: %s}\nspec:\n  podSelector: {matchLabels: {%s}}\n%s\n' \
		"$2" "$1" "$3" "$4" >"$D/np-$2.yaml"
	apply "$D/np-$2.yaml"
}
del() { for p in "$@"; do segctl delete policy "$p" >/dev/null; done; }

allowed "no policy: api -> web" probe_tcp pod api 10.200.1.10 80
allowed "no policy: pay -> api" probe_tcp pod pay 10.200.1.20 8080

# --- Baseline: every namespace isolated unless it says otherwise --------------
f=$(cnp isolate Baseline 10 "$all_ns" "  ingress:
  - name: no-pods
    action: Deny
    from: [{namespaces: {}}]")
apply "$f"
check "baseline isolation applied" [ $? -eq 0 ]
denied "baseline Deny: api -> web" probe_tcp pod api 10.200.1.10 80
denied "baseline Deny: pay -> api" probe_tcp pod pay 10.200.1.20 8080
allowed "baseline Deny from namespaces leaves the outside: ext -> web" probe_tcp ext "" 10.200.1.10 80
# a NetworkPolicy selecting web takes it out of the Baseline tier (ingress)
np shop web-from-api "app: web" "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]"
allowed "NetworkPolicy tier decides for web: api -> web" probe_tcp pod api 10.200.1.10 80
denied "... and its default deny, not Baseline's: db -> web" probe_tcp pod db 10.200.1.10 80
denied "... the outside too (NetworkPolicy isolation): ext -> web" probe_tcp ext "" 10.200.1.10 80
denied "api is still under Baseline: pay -> api" probe_tcp pod pay 10.200.1.20 8080
segctl delete policy web-from-api -n shop >/dev/null
del isolate
allowed "baseline deleted: api -> web" probe_tcp pod api 10.200.1.10 80

# --- Admin Deny: nobody reaches payments, whatever its own policies say ----------
np payments allow-all "app: pay" "  ingress: [{}]"
f=$(cnp protect-payments Admin 10 "$(ns_sel "team: payments")" "  ingress:
  - name: no-other-namespace
    action: Deny
    from:
    - namespaces:
        matchExpressions: [{key: team, operator: NotIn, values: [payments]}]")
apply "$f"
denied "admin Deny beats the namespace's allow-all: api -> pay" probe_tcp pod api 10.200.2.10 9000
denied "... UDP too: web -> pay" probe_udp pod web 10.200.2.10 9000
allowed "admin Deny names pods only: ext -> pay" probe_tcp ext "" 10.200.2.10 9000
allowed "admin Deny leaves shop alone: api -> web" probe_tcp pod api 10.200.1.10 80

# --- Pass: shop manages itself; everyone else is denied by a lower Admin rule ----
f=$(cnp shop-self Admin 5 "$(ns_sel "team: shop")" "  ingress:
  - name: shop-passes
    action: Pass
    from: [{namespaces: {matchLabels: {team: shop}}}]")
f2=$(cnp shop-closed Admin 20 "$(ns_sel "team: shop")" "  ingress:
  - name: nobody-else
    action: Deny
    from: [{namespaces: {}}]")
apply "$f" "$f2"
allowed "Pass skips the rest of Admin: api -> web (no NetworkPolicy: allowed)" probe_tcp pod api 10.200.1.10 80
denied "the lower-priority Admin Deny: pay -> web" probe_tcp pod pay 10.200.1.10 80
np shop db-from-api "app: db" "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]"
allowed "passed to the NetworkPolicy tier, which allows: api -> db" probe_tcp pod api 10.200.1.30 5432
denied "passed to the NetworkPolicy tier, which denies: web -> db" probe_tcp pod web 10.200.1.30 5432
del shop-self shop-closed
segctl delete policy db-from-api -n shop >/dev/null

# --- Admin Accept is final for its direction (the NetworkPolicy deny does not apply)
np shop db-closed "app: db" "  policyTypes: [Ingress]"
denied "NetworkPolicy isolates db: api -> db" probe_tcp pod api 10.200.1.30 5432
f=$(cnp db-clients Admin 50 "$(pods_sel "app: db")" "  ingress:
  - name: api-to-db
    action: Accept
    from:
    - pods:
        namespaceSelector: {matchLabels: {team: shop}}
        podSelector: {matchLabels: {app: api}}
    protocols:
    - tcp: {destinationPort: {number: 5432}}")
apply "$f"
allowed "admin Accept beats the NetworkPolicy isolation: api -> db" probe_tcp pod api 10.200.1.30 5432
denied "... only for its peer: web -> db" probe_tcp pod web 10.200.1.30 5432
denied "... only for its port: api -> db udp" probe_udp pod api 10.200.1.30 5432
del db-clients
segctl delete policy db-closed -n shop >/dev/null

# --- priorities: the lower number goes first; a change cuts established flows -----
f=$(cnp api-web-ok Admin 20 "$(pods_sel "app: web")" "  ingress:
  - action: Accept
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: api}}}}]")
f2=$(cnp api-web-no Admin 30 "$(pods_sel "app: web")" "  ingress:
  - action: Deny
    from: [{namespaces: {}}]")
apply "$f" "$f2"
allowed "priority 20 Accept before priority 30 Deny: api -> web" probe_tcp pod api 10.200.1.10 80
denied "priority 30 Deny for the others: db -> web" probe_tcp pod db 10.200.1.10 80
tlog=$D/stream.log
topo_bg in_pod api python3 tools/probe.py stream tcp 10.200.1.10 80 "$tlog" 30
check "TCP stream api -> web flows" wait_until 10 streaming "$tlog" 0
sed -i 's/priority: 30/priority: 10/' "$D/api-web-no.yaml"
apply "$D/api-web-no.yaml"
n=$(wc -l <"$tlog")
# the sleep is the test: the flow lives on for 1.5 s, nothing gets through
sleep 1.5
check "the Deny moved to priority 10 cuts the established flow" stream_cut "$tlog" $((n + 2))
denied "priority 10 Deny before priority 20 Accept: api -> web" probe_tcp pod api 10.200.1.10 80
del api-web-ok api-web-no
allowed "both deleted: api -> web" probe_tcp pod api 10.200.1.10 80

# --- networks: an egress guardrail to an outside address ----------------------------
f=$(cnp no-ext-https Admin 40 "$all_ns" "  egress:
  - name: no-https-out
    action: Deny
    to: [{networks: [203.0.113.10/32]}]
    protocols:
    - tcp: {destinationPort: {number: 443}}")
apply "$f"
denied "egress Deny to a network: web -> ext:443" probe_tcp pod web 203.0.113.10 443
allowed "... another port passes: web -> ext:80" probe_tcp pod web 203.0.113.10 80
allowed "... replies of an inbound flow pass: ext -> web" probe_tcp ext "" 10.200.1.10 80
# audit mode: the same policy staged, nothing dropped
f=$(cnp no-ext-https Admin 40 "$all_ns" "  egress:
  - name: no-https-out
    action: Deny
    to: [{networks: [203.0.113.10/32]}]
    protocols:
    - tcp: {destinationPort: {number: 443}}" "  annotations: {segd.io/mode: audit}")
apply "$f"
a0=$(reason_packets policy-audit)
allowed "the same Deny in audit mode drops nothing: web -> ext:443" probe_tcp pod web 203.0.113.10 443
check "... and reports what it would drop (policy-audit counter)" \
	[ "$(reason_packets policy-audit)" -gt "$a0" ]
check "... get policies shows it in audit mode" python3 -c '
import json, sys
p = [i for i in json.load(sys.stdin)["items"] if i["name"] == "no-ext-https"]
assert p and p[0]["mode"] == "audit", p' <<<"$(segctl get policies -o json)"
del no-ext-https

# --- nodes: an egress peer by node labels (`segctl node set`) ----------------------
segctl node set infra-1 --ip 203.0.113.10 --labels role=infra >/dev/null
check "node set infra-1 (the outside host's address)" [ $? -eq 0 ]
f=$(cnp no-infra Admin 45 "$all_ns" "  egress:
  - name: no-infra-nodes
    action: Deny
    to: [{nodes: {matchLabels: {role: infra}}}]")
apply "$f"
denied "egress Deny to nodes role=infra: web -> 203.0.113.10:80" probe_tcp pod web 203.0.113.10 80
segctl node set infra-1 --ip 203.0.113.10 --labels role=web >/dev/null
allowed "the node relabelled, the peer no longer selects it: web -> 203.0.113.10:80" probe_tcp pod web 203.0.113.10 80
segctl node del infra-1 >/dev/null
del no-infra

# --- a restart keeps cluster-scoped policies (state dir) -----------------------------
topo_stop_segd TERM
topo_start_segd || fail "segd restarts"
denied "after a restart the Admin Deny still holds: api -> pay" probe_tcp pod api 10.200.2.10 9000
out=$(segctl get policies -o json)
check "after a restart protect-payments is listed, Admin tier, priority 10" python3 -c '
import json, sys
p = [i for i in json.load(sys.stdin)["items"] if i["name"] == "protect-payments"]
assert len(p) == 1 and p[0]["kind"] == "ClusterNetworkPolicy", p
assert p[0]["tier"] == "Admin" and p[0]["priority"] == 10 and p[0]["namespace"] == "", p
' <<<"$out"

# --- the whole stack deleted: nothing left over -----------------------------------
del protect-payments
segctl delete policy allow-all -n payments >/dev/null
allowed "everything deleted: api -> pay" probe_tcp pod api 10.200.2.10 9000
out=$(segctl get policies -o json)
check "no policy left" python3 -c 'import json,sys; sys.exit(1 if json.load(sys.stdin)["items"] else 0)' <<<"$out"
e2e_finish
