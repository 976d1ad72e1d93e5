#!/usr/bin/env bash
# ClusterNetworkPolicy domainNames with real traffic: segd asks a DNS
# server of the test's own (dnsmasq in the outside namespace) for the
# names of an egress allow-list, allows what they resolve to, follows a
# name that moves, keeps its addresses through a resolver outage, and
# forgets a name no policy uses.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
D=$TOPO_DIR

setup_shop_pods
for a in 203.0.113.20 203.0.113.30; do in_ext ip addr add $a/24 dev eth0; done
in_ext ip -6 addr add 2001:db8::20/64 dev eth0 nodad
hosts() { printf '%s api.partner.test\n2001:db8::20 api.partner.test\n' "$1" >"$D/hosts"; }
hosts 203.0.113.20
# answers from the hosts file, TTL 1 s; SIGHUP re-reads it
dns_server "$D/hosts" --local-ttl=1 || { fail "dnsmasq listens"; e2e_finish; exit 1; }
# ask again every 2 s; an address no answer carries goes 2 s later
printf 'resolvers: ["203.0.113.10"]\ndns_min_ttl: 2\ndns_grace: 2\n' >"$D/segd.yaml"
setup_shop_segd -c "$D/segd.yaml" || { fail "setup"; e2e_finish; exit 1; }
allowed "no policy: api -> 203.0.113.30:443" probe_tcp pod api 203.0.113.30 443

cat >"$D/partner.yaml" <<'EOF'
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata:
  name: shop-egress
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels: {team: shop}
  egress:
  - name: partner-api
    action: Accept
    to:
    - domainNames: [api.partner.test, "*.cdn.partner.test"]
  - name: nothing-else-outside
    action: Deny
    to:
    - networks: [203.0.113.0/24, 2001:db8::/32]
EOF
segctl apply "$D/partner.yaml" >/dev/null
check "the allow-list by domain applies" [ $? -eq 0 ]
resolved_to() { # NAME ADDRESSES (comma separated, sorted as segd shows them)
	segctl status -o json | python3 -c '
import json, sys
st = json.load(sys.stdin)
got = {n["name"]: ",".join(n["addresses"]) for n in st["domain_names"]}
sys.exit(0 if got.get(sys.argv[1]) == sys.argv[2] else 1)' "$1" "$2"
}
# enforced DST VERDICT: segd's compiled state (what explain reads, written
# to the datapath before it) gives api -> DST:443 VERDICT; status shows an
# answer at once, the policy is compiled with it at the resolver's next tick
enforced() {
	[ "$(segctl explain --from shop/api --to "$1" --port 443/tcp -o json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["verdict"])')" = "$2" ]
}
check "api.partner.test resolved, A and AAAA, and enforced" wait_until 10 \
	both resolved_to api.partner.test "203.0.113.20,2001:db8::20" -- enforced 203.0.113.20 allow
out=$(segctl status)
check "status shows the names and what they resolve to" \
	grep -qE "^api.partner.test +203.0.113.20,2001:db8::20" <<<"$out"
allowed "Accept by domain: api -> api.partner.test (203.0.113.20:443)" probe_tcp pod api 203.0.113.20 443
allowed "Accept by domain, IPv6: api -> [2001:db8::20]:443" probe_tcp pod api 2001:db8::20 443
denied "not on the list: api -> 203.0.113.30:443" probe_tcp pod api 203.0.113.30 443
denied "not on the list: api -> the DNS server's own address, 203.0.113.10:443" \
	probe_tcp pod api 203.0.113.10 443
allowed "pods of other namespaces are not subjects: ext -> web" probe_tcp ext "" 10.200.1.10 80

# the name moves: the new address is allowed, the old one goes after grace
hosts 203.0.113.30
kill -HUP "$(cat "$D/dnsmasq.pid")"
check "the moved name follows the new answer, enforced" wait_until 15 \
	both resolved_to api.partner.test "203.0.113.30,2001:db8::20" -- enforced 203.0.113.20 deny
allowed "after the move: api -> 203.0.113.30:443" probe_tcp pod api 203.0.113.30 443
denied "after the move: api -> the old address 203.0.113.20:443" probe_tcp pod api 203.0.113.20 443

# resolver outage: every query fails, the addresses stay
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
# the sleep is the test: the name is asked every 2 s, each query gives up
# after 2 attempts of 2 s (resolver.c); its addresses must outlive that
sleep 7
check "through a resolver outage the name keeps its addresses" \
	resolved_to api.partner.test "203.0.113.30,2001:db8::20"
allowed "resolver down: api -> 203.0.113.30:443 still allowed" probe_tcp pod api 203.0.113.30 443

# a name no policy uses is forgotten; deleting the policy opens the rest
segctl delete policy shop-egress >/dev/null
no_names() { [ "$(segctl status -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["domain_names"]))')" = 0 ]; }
check "the deleted policy's name is forgotten" wait_until 5 no_names
allowed "policy deleted: api -> 203.0.113.20:443" probe_tcp pod api 203.0.113.20 443
e2e_finish
