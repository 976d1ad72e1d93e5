#!/usr/bin/env bash
# Rule ids past 16 bits on real traffic: NetworkPolicies of 100,000 and
# 131,070 ipBlock /32 rules (tools/bench/gen_policy.py peers networkpolicy:
# UDP 5201 to pod web from 198.18.0.0/15, one address a rule) apply, the
# LAST rule's address gets through under its own rule id (explain, flows,
# the per-rule counter) while an address of no rule is dropped; and a segd
# started with a smaller max_rules resizes its pinned rule counters and
# refuses a policy past it, saying what to do.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

PEER_NET=198.18.0.0/15
UNLISTED=198.19.255.255          # in the net, after gen_policy's last address
# peer_addr I: the address of rule I (1-based), as gen_policy.py numbers them
peer_addr() { echo "198.$((18 + ($1 >> 16))).$((($1 >> 8) & 255)).$(($1 & 255))"; }
peers_file() {
	local f=$TOPO_DIR/peers.$1
	[ -s "$f" ] || python3 tools/bench/gen_policy.py peers networkpolicy "$1" >"$f"
	echo "$f"
}
from_peer() { PROBE_SOURCE=$1 probe_udp ext "" 10.200.1.10 5201; }
scrape() {
	in_node python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=10).read().decode(), end="")'
}
rule_flows() { # RULE: segd_rule_flows_total of shop/peers#RULE
	scrape | awk -v k="segd_rule_flows_total{policy=\"shop/peers\",rule=\"$1\"}" \
		'$1 == k { v = $2 } END { print v + 0 }'
}
slots() { in_node bpftool map show pinned "$TOPO_BPFFS/segd/segd_rules" | grep -o 'max_entries [0-9]*'; }

topo_create_node
topo_add_pod web 10.200.1.10 fd00:200::10
in_node ip route add "$PEER_NET" via 203.0.113.10 dev up0
in_ext ip addr add "$UNLISTED/32" dev eth0
topo_start_segd || { fail "segd start"; e2e_finish; exit 1; }
segctl endpoint add web -n shop --ip 10.200.1.10 --ip fd00:200::10 \
	--labels app=web --ifname "$(pod_if web)" >/dev/null
segctl attach up0 --role uplink >/dev/null
serve pod web 5201
check "segd_rules has the default max_rules + 1 slots ($(slots))" \
	[ "$(slots)" = "max_entries 131073" ]

for n in 100000 131070; do
	if [ "$n" -gt 131072 ] || [ "$n" = 131070 ]; then
		# past the default with the other policies' rules: a larger
		# max_rules, the pinned counters resized, the state kept
		echo "max_rules: 262144" >"$TOPO_DIR/segd-big.yaml"
		topo_stop_segd
		topo_start_segd -c "$TOPO_DIR/segd-big.yaml" ||
			{ fail "segd restart with max_rules 262144"; e2e_finish; exit 1; }
		check "max_rules 262144: segd_rules resized to 262145 slots ($(slots))" \
			[ "$(slots)" = "max_entries 262145" ]
	fi
	last=$(peer_addr "$n")
	in_ext ip addr add "$last/32" dev eth0
	in_ext ip addr add "$(peer_addr 1)/32" dev eth0 2>/dev/null
	f=$(peers_file "$n")
	t0=${EPOCHREALTIME//[!0-9]/}
	out=$(segctl apply "$f" 2>&1); rc=$?
	ms=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
	check "apply $n ipBlock rules exits 0 ($ms ms): $(tail -1 <<<"$out")" [ "$rc" -eq 0 ]
	entries=$(segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_entries"])')
	check "$n rules compile to $n policy entries ($entries)" [ "$entries" -eq "$n" ]
	allowed "UDP from the last rule's address $last (rule $n)" from_peer "$last"
	allowed "UDP from the first rule's address" from_peer "$(peer_addr 1)"
	denied "UDP from $UNLISTED, which no rule lists" from_peer "$UNLISTED"
	out=$(segctl explain --from "$last" --to shop/web --port 5201/udp)
	check "explain names rule id $n: shop/peers#$n" \
		grep -qE "allow, shop/peers#$n \(rule id $n;" <<<"$out"
	out=$(segctl explain --from "$UNLISTED" --to shop/web --port 5201/udp)
	check "explain: $UNLISTED default-denied" grep -qE "^deny:" <<<"$out"
	segctl flows --endpoint web -o json | python3 -c '
import json, sys
last, n = sys.argv[1], sys.argv[2]
flows = json.load(sys.stdin)["flows"]
sys.exit(0 if any(f["src_ip"] == last and f["rule"] == "shop/peers#" + n
                  for f in flows) else 1)' "$last" "$n"
	check "flows: the flow from $last is under shop/peers#$n" [ $? -eq 0 ]
	check "the counter of rule $n counted its flow" [ "$(rule_flows "$n")" -eq 1 ]
done

# a smaller max_rules: the pinned segd_rules is replaced at the start, a
# policy past it refused with what to do, one within it enforced
segctl delete policy peers -n shop >/dev/null
topo_stop_segd
echo "max_rules: 1000" >"$TOPO_DIR/segd.yaml"
topo_start_segd -c "$TOPO_DIR/segd.yaml" || { fail "segd restart"; e2e_finish; exit 1; }
check "max_rules 1000: segd_rules resized to 1001 slots ($(slots))" \
	[ "$(slots)" = "max_entries 1001" ]
out=$(segctl apply "$(peers_file 100000)" 2>&1); rc=$?
check "100000 rules past max_rules 1000 refused (exit $rc)" [ "$rc" -eq 1 ]
check "the refusal says what, where and what to do: $out" grep -qE \
	"100000 policy rules exceed max_rules 1000 .*shop/peers with 100000 rules.*raise max_rules" <<<"$out"
out=$(segctl apply "$(peers_file 1000)" 2>&1); rc=$?
check "1000 rules within max_rules apply" [ "$rc" -eq 0 ]
in_ext ip addr add "$(peer_addr 1000)/32" dev eth0
allowed "UDP from rule 1000's address" from_peer "$(peer_addr 1000)"
denied "UDP from $UNLISTED still dropped" from_peer "$UNLISTED"

e2e_finish
