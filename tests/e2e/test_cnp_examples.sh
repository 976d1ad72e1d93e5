#!/usr/bin/env bash
# The ClusterNetworkPolicy examples of docs/policy.md and segd-policy(5),
# policies/cnp-*.yaml, applied as shipped with the traffic the docs say
# they make: Baseline isolation that a namespace's NetworkPolicy replaces,
# an Admin Deny into a sensitive namespace, an Admin Pass for namespaces
# that manage themselves, an egress allow-list by domain name (dnsmasq in
# the outside namespace answers the names). Every policies/cnp-*.yaml
# must be applied here, so a new example comes with its traffic.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
D=$TOPO_DIR

setup_shop_pods
in_ext ip addr add 203.0.113.40/24 dev eth0     # api.partner.example
in_ext ip addr add 203.0.113.50/24 dev eth0     # elsewhere.example
printf '203.0.113.40 api.partner.example\n203.0.113.50 elsewhere.example\n' >"$D/hosts"
dns_server "$D/hosts" || { fail "dnsmasq listens"; e2e_finish; exit 1; }
topo_add_pod pay 10.200.2.10     # namespace payments
topo_add_pod pay2 10.200.2.11
printf 'resolvers: ["203.0.113.10"]\n' >"$D/segd.yaml"
setup_shop_segd -c "$D/segd.yaml" || { fail "setup"; e2e_finish; exit 1; }
segctl namespace set payments --labels team=payments >/dev/null
for p in pay:10.200.2.10 pay2:10.200.2.11; do
	segctl endpoint add "${p%%:*}" -n payments --ip "${p#*:}" --labels app=pay \
		--ifname "$(pod_if "${p%%:*}")" >/dev/null
done
serve pod pay 9000 && serve pod pay2 9000 || fail "serve pay"

APPLIED=" "
example() { # FILE: apply policies/FILE as shipped
	segctl apply "policies/$1" >/dev/null && APPLIED+="$1 "
}
np() { # NS NAME POD-LABEL SPEC-REST: a NetworkPolicy of the test's own
	printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: %s}\nspec:\n  podSelector: {matchLabels: {%s}}\n%s\n' \
		"$2" "$1" "$3" "$4" >"$D/np-$2.yaml"
	segctl apply "$D/np-$2.yaml" >/dev/null
}

# --- Baseline: pods accept no pod until their namespace says so ---------------
check "cnp-baseline-isolate-namespaces.yaml applies" example cnp-baseline-isolate-namespaces.yaml
denied "Baseline Deny: api -> web (same namespace too)" probe_tcp pod api 10.200.1.10 80
denied "Baseline Deny: pay -> web" probe_tcp pod pay 10.200.1.10 80
denied "Baseline Deny: pay -> pay2" probe_tcp pod pay 10.200.2.11 9000
allowed "the outside is not a pod: ext -> web" probe_tcp ext "" 10.200.1.10 80
check "shop's owner opens the namespace: policies/k8s-allow-same-namespace.yaml" \
	quiet segctl apply -n shop policies/k8s-allow-same-namespace.yaml
allowed "shop's NetworkPolicy decides: api -> web" probe_tcp pod api 10.200.1.10 80
denied "... and keeps other namespaces out: pay -> web" probe_tcp pod pay 10.200.1.10 80
denied "payments is still isolated by Baseline: pay -> pay2" probe_tcp pod pay 10.200.2.11 9000
segctl delete policy allow-same-namespace -n shop >/dev/null
segctl delete policy baseline-isolate-namespaces >/dev/null
allowed "both deleted: pay -> web" probe_tcp pod pay 10.200.1.10 80

# --- Admin Deny: nobody from another namespace reaches payments ------------------
np payments allow-all "app: pay" "  ingress: [{}]"
check "cnp-admin-deny-sensitive-namespace.yaml applies" example cnp-admin-deny-sensitive-namespace.yaml
denied "Admin Deny beats payments' allow-all: api -> pay" probe_tcp pod api 10.200.2.10 9000
denied "... UDP too: web -> pay" probe_udp pod web 10.200.2.10 9000
allowed "payments' own pods still talk: pay2 -> pay" probe_tcp pod pay2 10.200.2.10 9000
allowed "the outside is not a namespace: ext -> pay" probe_tcp ext "" 10.200.2.10 9000

# --- Admin Pass: shop manages itself, past a cluster guardrail --------------------
cat >"$D/guardrail.yaml" <<'YAML'
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: guardrail}
spec:
  tier: Admin
  priority: 50
  subject: {namespaces: {}}
  ingress:
  - {name: no-pods, action: Deny, from: [{namespaces: {}}]}
YAML
segctl apply "$D/guardrail.yaml" >/dev/null
denied "a guardrail at Admin priority 50: api -> web" probe_tcp pod api 10.200.1.10 80
segctl namespace set shop --labels team=shop,self-managed=true >/dev/null
check "cnp-admin-pass-self-managed.yaml applies" example cnp-admin-pass-self-managed.yaml
allowed "Pass at priority 5 skips the guardrail, no NetworkPolicy: api -> web" probe_tcp pod api 10.200.1.10 80
np shop db-from-api "app: db" "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]"
allowed "shop's NetworkPolicy decides: api -> db" probe_tcp pod api 10.200.1.30 5432
denied "shop's NetworkPolicy decides: web -> db" probe_tcp pod web 10.200.1.30 5432
denied "payments' ingress is still payments' Admin rules: api -> pay" probe_tcp pod api 10.200.2.10 9000
denied "namespaces not labelled self-managed keep the guardrail: pay -> pay2" \
	probe_tcp pod pay 10.200.2.11 9000
for p in guardrail self-managed-namespaces deny-into-payments; do segctl delete policy $p >/dev/null; done
segctl delete policy db-from-api -n shop >/dev/null
segctl delete policy allow-all -n payments >/dev/null
segctl namespace set shop --labels team=shop >/dev/null
allowed "all deleted: api -> pay" probe_tcp pod api 10.200.2.10 9000

# --- egress allow-list by domain ---------------------------------------------------
segctl namespace set shop --labels team=shop,egress=allow-list >/dev/null
allowed "before the allow-list: api -> elsewhere.example (203.0.113.50:443)" probe_tcp pod api 203.0.113.50 443
check "cnp-admin-egress-domain-allowlist.yaml applies" example cnp-admin-egress-domain-allowlist.yaml
resolved() { # NAME ADDRESS
	segctl status -o json | python3 -c '
import json, sys
got = {n["name"]: n["addresses"] for n in json.load(sys.stdin)["domain_names"]}
sys.exit(0 if sys.argv[2] in got.get(sys.argv[1], []) else 1)' "$1" "$2"
}
# and enforces it: status shows an answer at once, the policy is compiled
# with it (explain reads the compiled state) at the resolver's next tick
enforced() {
	[ "$(segctl explain --from shop/api --to "$1" --port 443/tcp -o json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["verdict"])')" = "$2" ]
}
check "segd resolved api.partner.example and enforces it" wait_until 10 \
	both resolved api.partner.example 203.0.113.40 -- enforced 203.0.113.40 allow
allowed "on the list: api -> api.partner.example:443" probe_tcp pod api 203.0.113.40 443
denied "... HTTPS only: api -> api.partner.example:80" probe_tcp pod api 203.0.113.40 80
denied "not on the list: api -> elsewhere.example:443" probe_tcp pod api 203.0.113.50 443
denied "0.0.0.0/0 holds the pods too: api -> web" probe_tcp pod api 10.200.1.10 80
allowed "namespaces without the label are not subjects: pay -> elsewhere.example:443" \
	probe_tcp pod pay 203.0.113.50 443
segctl delete policy egress-allow-list >/dev/null
allowed "deleted: api -> elsewhere.example:443" probe_tcp pod api 203.0.113.50 443

# --- every shipped example has its steps above, and docs/policy.md shows it ---------
for f in policies/cnp-*.yaml; do
	check "example $(basename "$f") applied by this test" grep -q " $(basename "$f") " <<<"$APPLIED"
	check "docs/policy.md shows $(basename "$f") as it is" python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
while lines and lines[0].startswith("#"):
    lines.pop(0)
sys.exit(0 if "```yaml\n" + "\n".join(lines).strip() + "\n```" in open("docs/policy.md").read() else 1)' "$f"
done
e2e_finish
