#!/usr/bin/env bash
# `segctl explain` against real traffic: for every case of a table, what
# explain says (from the compiled state, without sending anything) must
# agree with what the datapath does to the real flow. And `segctl graph`
# renders with Graphviz and holds the edges policy allows.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
F=tests/fixtures/e2e

setup_shop || { fail "setup"; e2e_finish; exit 1; }
topo_add_pod tool 10.200.2.10 fd00:200::2:10
segctl endpoint add tool -n lab --ip 10.200.2.10 --ip fd00:200::2:10 \
	--labels app=tool --ifname "$(pod_if tool)" >/dev/null
for p in 8080 8300 8443; do serve ext "" "$p"; done
segctl apply policies/demo.yaml $F/explain-extra.yaml >/dev/null
check "policies applied" [ $? -eq 0 ]

# explain_json FROM TO PORT -> "verdict egress.why ingress.why egress.rule ingress.rule"
explain_fields() {
	segctl explain --from "$1" --to "$2" --port "$3" -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["verdict"], d["egress"]["why"], d["ingress"]["why"], d["egress"]["rule"].replace(" ", "_"),
      d["ingress"]["rule"].replace(" ", "_"))'
}

# send WHERE WHO DST PORTSPEC: the real traffic; 0 when it got through
send() {
	local where=$1 who=$2 dst=$3 spec=$4
	case $spec in
	*/tcp) probe_tcp "$where" "$who" "$dst" "${spec%/tcp}" ;;
	*/udp) probe_udp "$where" "$who" "$dst" "${spec%/udp}" ;;
	icmp|icmpv6) probe_ping "$where" "$who" "$dst" ;;
	esac
}

# case_ WANT WHY_REGEX WHERE WHO FROM TO DST PORTSPEC
#   WANT: allow|deny; WHY_REGEX matches "egress.why ingress.why egress.rule ingress.rule"
case_() {
	local want=$1 why=$2 where=$3 who=$4 from=$5 to=$6 dst=$7 spec=$8 got v rest sent passes
	got=$(explain_fields "$from" "$to" "$spec")
	v=${got%% *}; rest=${got#* }
	if send "$where" "$who" "$dst" "$spec"; then sent=allow; else sent=deny; fi
	passes=$v; [ "$v" = audit ] && passes=allow   # audit: passes, reported
	check "explain $from -> $to $spec says $want ($got)" [ "$v" = "$want" ]
	check "explain $from -> $to $spec: $why" grep -qE -- "$why" <<<"$rest"
	check "traffic $from -> $to $spec agrees with explain ($v, traffic: $sent)" [ "$passes" = "$sent" ]
}

#     want  why (egress-why ingress-why egress-rule ingress-rule)                  where who  from        to            dst           port
case_ allow "^rule rule shop/shop-web#2 shop/shop-api#1$"                          pod web  shop/web    shop/api      10.200.1.20   8080/tcp
case_ allow "^rule rule shop/shop-web#2 shop/shop-api#1$"                          pod web  10.200.1.10 10.200.1.20   10.200.1.20   icmp
case_ deny  "^default-deny default-deny default_deny default_deny$"                 pod web  shop/web    shop/db       10.200.1.30   5432/tcp
case_ allow "^rule rule shop/shop-api#2 shop/db#1$"                                pod api  shop/api    shop/db       10.200.1.30   5432/tcp
case_ deny  "^default-deny default-deny default_deny default_deny$"                 pod api  shop/api    shop/web      10.200.1.10   80/tcp
case_ deny  "^default-deny default-deny"                                           pod web  shop/web    shop/api      10.200.1.20   8080/udp
case_ deny  "^default-deny default-deny"                                           pod web  shop/web    shop/db       10.200.1.30   icmp
case_ allow "^no-local-endpoint rule no_local_endpoint shop/shop-web#1$"           ext ""   203.0.113.10 shop/web     10.200.1.10   80/tcp
case_ deny  "^no-local-endpoint default-deny"                                      ext ""   203.0.113.10 shop/api     10.200.1.20   8080/tcp
case_ allow "^rule no-local-endpoint shop/shop-api#3 "                             pod api  shop/api    203.0.113.10  203.0.113.10  443/tcp
case_ deny  "^default-deny no-local-endpoint"                                      pod db   shop/db     203.0.113.10  203.0.113.10  443/tcp
case_ deny  "^rule no-local-endpoint shop/api-ranges#1 "                           pod api  shop/api    203.0.113.10  203.0.113.10  8443/tcp
case_ allow "^rule no-local-endpoint shop/api-ranges#2 "                           pod api  shop/api    203.0.113.10  203.0.113.10  8080/tcp
case_ allow "^rule no-local-endpoint shop/api-ranges#2 "                           pod api  shop/api    203.0.113.10  203.0.113.10  8300/tcp
case_ allow "^not-enforced no-local-endpoint not_enforced "                        pod tool lab/tool    203.0.113.10  203.0.113.10  443/tcp
case_ deny  "^not-enforced default-deny not_enforced default_deny$"                 pod tool lab/tool    shop/web      10.200.1.10   80/tcp
case_ allow "^rule rule shop/shop-web#2 shop/shop-api#1$"                          pod web  shop/web    shop/api      fd00:200::20  8080/tcp
case_ deny  "^default-deny no-local-endpoint"                                      pod db   shop/db     2001:db8::10  2001:db8::10  443/tcp
case_ allow "^rule rule shop/shop-web#2 shop/shop-api#1$"                          pod web  shop/web    fd00:200::20  fd00:200::20  icmpv6
case_ deny  "^default-deny default-deny"                                           pod web  fd00:200::10 shop/db      fd00:200::30  icmpv6

# an IPv6 peer makes an endpoint end use its IPv6 address
out=$(segctl explain --from web -n shop --to 2001:db8::10 --port 443/tcp -o json)
check "endpoint end takes the peer's family" grep -q '"address": *"fd00:200::10"' <<<"$out"

# an endpoint's address is named as the endpoint
out=$(segctl explain --from 10.200.1.10 --to 10.200.1.20 --port icmp -o json)
check "an address is named by its endpoint" grep -q '"endpoint": *"shop/web"' <<<"$out"

# table output names both halves
out=$(segctl explain --from shop/web --to shop/api --port 8080/tcp)
check "table: verdict line" grep -qE "^allow: 10.200.1.10 \(shop/web\) -> 10.200.1.20 \(shop/api\) 8080/tcp" <<<"$out"
check "table: egress half names the rule" grep -qE "^  egress +at .*allow, shop/shop-web#2" <<<"$out"
check "table: ingress half names the rule" grep -qE "^  ingress +at .*allow, shop/shop-api#1" <<<"$out"

# blocklisted: the list decides before policy
segctl blocklist load c2-test $F/c2-test.txt --category c2 >/dev/null
case_ deny  "^blocklisted no-local-endpoint blocklisted_by_c2-test "               pod api  shop/api    203.0.113.10  203.0.113.10  443/tcp
case_ deny  "^no-local-endpoint blocklisted .* blocklisted_by_c2-test$"            ext ""   203.0.113.10 shop/web     10.200.1.10   80/tcp
segctl blocklist load c2-test $F/c2-test.txt --category c2 --action audit >/dev/null
case_ audit "^rule no-local-endpoint shop/shop-api#3 "                             pod api  shop/api    203.0.113.10  203.0.113.10  443/tcp
out=$(segctl explain --from shop/api --to 203.0.113.10 --port 443/tcp)
check "table: audit list named" grep -q "on audit list c2-test" <<<"$out"
segctl blocklist del c2-test >/dev/null
case_ allow "^rule no-local-endpoint shop/shop-api#3 "                             pod api  shop/api    203.0.113.10  203.0.113.10  443/tcp

# usage errors exit 2, unknown endpoints 1
segctl explain --from shop/web --to shop/api >/dev/null 2>&1
check "explain without --port exits 2" [ $? -eq 2 ]
segctl explain --from shop/web --to shop/api --port 80/foo >/dev/null 2>&1
check "explain with an unknown protocol exits 2" [ $? -eq 2 ]
err=$(segctl explain --from shop/nope --to shop/api --port 80/tcp 2>&1); rc=$?
check "explain with an unknown endpoint exits 1 and says so" rc_and_match "$rc" 1 "shop/nope" "$err"

# graph: Graphviz renders it, and the allowed and observed edges are there
# (a web -> api flow of just now: the table's are many probes old, and a
# flow pass deletes a closed TCP flow from conntrack 10 s after its FIN)
allowed "web -> api tcp/8080 just before the graph" probe_tcp pod web 10.200.1.20 8080
dot_out=$(segctl graph); rc=$?
check "graph exits 0" [ "$rc" -eq 0 ]
svg=$(dot -Tsvg <<<"$dot_out" 2>&1); rc=$?
check "dot -Tsvg accepts the graph" [ "$rc" -eq 0 ]
check "svg produced" grep -q "<svg" <<<"$svg"
web_id=$(segctl get endpoints -o json | python3 -c '
import json, sys
print([e["identity"] for e in json.load(sys.stdin)["items"] if e["name"] == "web"][0])')
api_id=$(segctl get endpoints -o json | python3 -c '
import json, sys
print([e["identity"] for e in json.load(sys.stdin)["items"] if e["name"] == "api"][0])')
check "graph: web -> api edge with tcp/8080 and observed flows" \
	grep -qE "\"id$web_id\" -> \"id$api_id\" \[label=\"[^\"]*tcp/8080[^\"]*[0-9]+ flows?," <<<"$dot_out"
check "graph: web -> api edge rendered in the svg" grep -q "id${web_id}&#45;&gt;id${api_id}" <<<"$svg"
check "graph: world -> web tcp/80" grep -qE "\"id1\" -> \"id$web_id\" \[label=\"tcp/80" <<<"$dot_out"
out=$(segctl graph -n lab)
check "graph -n lab keeps lab's segment only" bash -c '! grep -q "shop\\\\napp=api" <<<"$1" && grep -q "lab\\\\napp=tool" <<<"$1"' _ "$out"
segctl graph -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["dot"].startswith("digraph") else 1)'
check "graph -o json carries the dot text" [ $? -eq 0 ]

# --- ClusterNetworkPolicy tiers: explain names the tier, the policy, the rule
# (and its name) and the action that decided, the Admin Pass passed on the way
# and what isolates an endpoint; the traffic agrees
cnp_doc() { # NAME TIER PRIORITY SUBJECT RULES: one ClusterNetworkPolicy
	printf -- '---\napiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n'
	printf 'metadata: {name: %s}\nspec:\n  tier: %s\n  priority: %s\n  subject:\n%s\n%s\n' \
		"$@"
}
ns_is() { printf 'namespaces: {matchLabels: {kubernetes.io/metadata.name: %s}}' "$1"; }
{
	cnp_doc tool-probe Admin 5 "    pods:
      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
      podSelector: {matchLabels: {app: db}}" "  ingress:
  - name: from-tool
    action: Accept
    from: [{$(ns_is lab)}]
    protocols: [{tcp: {destinationPort: {number: 5432}}}]"
	cnp_doc shop-self Admin 20 "    $(ns_is shop)" "  ingress:
  - name: within-shop
    action: Pass
    from: [{$(ns_is shop)}]"
	cnp_doc lab-floor Baseline 10 "    $(ns_is lab)" "  egress:
  - name: no-outside
    action: Deny
    to: [{networks: [203.0.113.0/24]}]"
} >"$TOPO_DIR/cnp.yaml"
serve pod tool 9000 || fail "serve tool"
allowed "before the ClusterNetworkPolicies: tool -> ext tcp/443" probe_tcp pod tool 203.0.113.10 443
segctl apply "$TOPO_DIR/cnp.yaml" >/dev/null
check "ClusterNetworkPolicies applied" [ $? -eq 0 ]

# trace FROM TO PORT HALF -> "verdict tier action decided_by rule_name passed_by isolated_by"
trace() {
	segctl explain --from "$1" --to "$2" --port "$3" -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
h = d[sys.argv[1]]
print(h["verdict"], h["tier"], h["action"], h["decided_by"].replace(" ", "_"),
      h.get("rule_name", "-"), ",".join(h["passed_by"]) or "-",
      ",".join(h.get("isolated_by", [])) or "-")' "$4"
}

# cnp_case WANT TRACE HALF WHERE WHO FROM TO DST PORTSPEC
cnp_case() {
	local want=$1 tr=$2 half=$3 where=$4 who=$5 from=$6 to=$7 dst=$8 spec=$9 got sent
	got=$(trace "$from" "$to" "$spec" "$half")
	if send "$where" "$who" "$dst" "$spec"; then sent=allow; else sent=deny; fi
	check "explain $from -> $to $spec, $half: $tr ($got)" [ "$got" = "$tr" ]
	check "traffic $from -> $to $spec: $want (traffic: $sent)" [ "$sent" = "$want" ]
}

#        want  trace: verdict tier action decided_by rule_name passed_by isolated_by         half    where who  from         to           dst          port
cnp_case allow "allow Admin Accept admin/tool-probe#1 from-tool - -"                         ingress pod tool lab/tool     shop/db      10.200.1.30  5432/tcp
cnp_case allow "allow NetworkPolicy Allow shop/shop-api#1 from-web admin/shop-self#1 -"      ingress pod web  shop/web     shop/api     10.200.1.20  8080/tcp
cnp_case deny  "deny NetworkPolicy Deny default_deny - admin/shop-self#1 shop/shop-default-deny,shop/shop-web" \
                                                                                             ingress pod api  shop/api     shop/web     10.200.1.10  80/tcp
cnp_case deny  "deny Baseline Deny baseline/lab-floor#1 no-outside - -"                      egress  pod tool lab/tool     203.0.113.10 203.0.113.10 443/tcp
cnp_case allow "allow none Allow default_allow - - -"                                        ingress ext ""   203.0.113.10 lab/tool     10.200.2.10  9000/tcp

out=$(segctl explain --from shop/web --to shop/api --port 8080/tcp)
check "table: passed by the Admin Pass, decided by the NetworkPolicy rule" \
	grep -qE "^ +passed by admin/shop-self#1, decided by shop/shop-api#1 \(rule \"from-web\"\): NetworkPolicy tier, Allow$" <<<"$out"
out=$(segctl explain --from lab/tool --to shop/db --port 5432/tcp)
check "table: the ingress half names the Admin rule" \
	grep -qE "^  ingress +at .*allow, admin/tool-probe#1 " <<<"$out"
check "table: decided by the Admin rule, its name, tier and action" \
	grep -qE "^ +decided by admin/tool-probe#1 \(rule \"from-tool\"\): Admin tier, Accept$" <<<"$out"
out=$(segctl explain --from shop/api --to shop/web --port 80/tcp)
check "table: a default deny names what isolates web" \
	grep -qE "^ +passed by admin/shop-self#1, decided by default deny: NetworkPolicy tier, Deny; isolated by shop/shop-default-deny, shop/shop-web$" <<<"$out"

# the flow the Admin rule accepted is named by its tier in segctl flows
allowed "tool -> db tcp/5432 (Admin Accept) for the flow table" probe_tcp pod tool 10.200.1.30 5432
out=$(segctl flows --endpoint db -n shop -o json)
check "flows: the Admin rule is admin/tool-probe#1, rule_name from-tool" python3 -c '
import json, sys
fl = [f for f in json.loads(sys.argv[1])["flows"] if f["src_ip"] == "10.200.2.10" and f.get("dst_port") == 5432]
sys.exit(0 if fl and all(f["rule"] == "admin/tool-probe#1" and f.get("rule_name") == "from-tool" for f in fl) else 1)' "$out"
# and in the rule metrics (/metrics on the node's default 127.0.0.1:9470)
out=$(in_node python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode(), end="")')
check "metrics: flows the Admin rule accepted, by tier and rule name" \
	grep -qE '^segd_rule_flows_total\{policy="admin/tool-probe",rule="1",rule_name="from-tool"\} [1-9]' <<<"$out"
check "metrics: packets the Baseline rule denied" \
	grep -qE '^segd_rule_packets_total\{policy="baseline/lab-floor",rule="1",rule_name="no-outside"\} [1-9]' <<<"$out"
refute "metrics: no policy label without its tier" grep -q 'policy="/' <<<"$out"

e2e_finish
