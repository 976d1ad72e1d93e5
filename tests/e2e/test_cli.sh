#!/usr/bin/env bash
# segctl's stable interface: exit codes, -o json, --help, errors.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

# not reachable: exit 3
SEGD_SOCKET=$TOPO_DIR/none.sock "$SEGCTL_BIN" status >/dev/null 2>&1
check "segd not reachable exits 3" [ $? -eq 3 ]
"$SEGCTL_BIN" frobnicate >/dev/null 2>&1
check "unknown command exits 2" [ $? -eq 2 ]
"$SEGCTL_BIN" endpoint add x --ip 10.200.9.9 >/dev/null 2>&1
check "missing --ifname exits 2" [ $? -eq 2 ]
"$SEGCTL_BIN" alerts shop >/dev/null 2>&1
check "alerts with an argument exits 2" [ $? -eq 2 ]
"$SEGCTL_BIN" alerts --verdict deny >/dev/null 2>&1
check "alerts --verdict (not an alerts option) exits 2" [ $? -eq 2 ]
for c in "namespace set" "endpoint add" "endpoint del" attach apply "delete policy" get status alerts; do
	# shellcheck disable=SC2086
	out=$("$SEGCTL_BIN" $c --help); rc=$?
	check "segctl $c --help" rc_and_match "$rc" 0 "^usage: segctl" "$out"
done
"$SEGD_BIN" --help >/dev/null
check "segd --help" [ $? -eq 0 ]

# segd -n checks the config
cfg=$TOPO_DIR/segd.yaml
# segd_n TEXT: segd -n over a config of a socket and TEXT (printf %b);
# what it printed in $err, its exit code returned
segd_n() {
	printf 'socket: %s\n%b' "$TOPO_SOCK" "$1" >"$cfg"
	err=$("$SEGD_BIN" -n -c "$cfg" --state-dir "$TOPO_DIR/empty" 2>&1)
}
segd_n 'node_addresses: [169.254.1.1]\n'
check "segd -n accepts a good config" [ $? -eq 0 ]
segd_n 'node_adresses: [1.2.3.4]\n'; rc=$?
check "segd -n rejects an unknown key with file:line:col ($err)" rc_and_match "$rc" 1 "segd.yaml:2:1: unknown setting .node_adresses." "$err"
segd_n 'detect:\n  window: 20s\n  actions: { scan: quarantine }\n  exempt: ["app=prometheus"]\n'
check "segd -n accepts a detect: section" [ $? -eq 0 ]
segd_n 'detect:\n  scan_ports: 1000\n'; rc=$?
check "segd -n rejects a detect limit past the sketch with file:line:col ($err)" rc_and_match "$rc" 1 "segd.yaml:3:15: detect scan_ports is a count" "$err"

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply policies/demo.yaml >/dev/null

for what in policies endpoints namespaces; do
	segctl get "$what" -o json | python3 -m json.tool >/dev/null
	check "get $what -o json is valid JSON" [ "${PIPESTATUS[0]}" -eq 0 ]
done
segctl status -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d["generation"], int) and d["generation"] > 0
assert any(m["capacity"] > 0 for m in d["maps"])
assert any("uplink" in p["hook"] for i in d["interfaces"] for p in i["programs"])
'
check "status -o json: generation, map usage, attached programs" [ $? -eq 0 ]
out=$(segctl get endpoints)
check "get endpoints table shows enforcement" grep -q "web .*ingress,egress" <<<"$out"
segctl get policies -o yaml | grep -q "name: shop-web"
check "get policies -o yaml" [ $? -eq 0 ]

err=$(segctl apply tests/fixtures/e2e/invalid-second-doc.yaml 2>&1 >/dev/null); rc=$?
check "rejected apply exits 1" [ "$rc" -eq 1 ]
check "rejected apply says file:line:col" grep -qE "invalid-second-doc.yaml:[0-9]+:[0-9]+" <<<"$err"
# ClusterNetworkPolicy (both API versions) is taken and enforced
gen0=$(segctl status -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["generation"])')
segctl apply tests/fixtures/policies/valid/cluster-network-policy.yaml >/dev/null
check "ClusterNetworkPolicy apply exits 0" [ $? -eq 0 ]
gen1=$(segctl status -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["generation"])')
check "... and a new generation is in force ($gen0 -> $gen1)" [ "$gen1" -gt "$gen0" ]
out=$(segctl get policies)
check "get policies table: TIER and PRIORITY after KIND" \
	grep -qE "^NAMESPACE +NAME +KIND +TIER +PRIORITY +TYPES +RULES +MODE +FILE" <<<"$out"
check "get policies table: an Admin ClusterNetworkPolicy with its priority" \
	grep -qE " protect-payments +ClusterNetworkPolicy +Admin +10 +Ingress,Egress " <<<"$out"
check "get policies table: a Baseline ClusterNetworkPolicy with its priority" \
	grep -qE " default-isolation +ClusterNetworkPolicy +Baseline +500 " <<<"$out"
check "get policies table: a SegmentPolicy sits in the NetworkPolicy tier, no priority" \
	grep -qE "^shop +shop-web +SegmentPolicy +NetworkPolicy +- +" <<<"$out"
# alerts: none raised here; the filters and formats still answer
out=$(segctl alerts); rc=$?
check "alerts with none raised: exit 0, says so" rc_and_match "$rc" 0 "^No alerts\.$" "$out"
out=$(segctl alerts -n shop -o json); rc=$?
check "alerts -n shop -o json: exit 0, no lines" [ "$rc:$out" = "0:" ]
out=$(segctl alerts --namespace=shop -o yaml); rc=$?
check "alerts --namespace=shop -o yaml: exit 0" [ "$rc" -eq 0 ]
in_node timeout 1 env SEGD_SOCKET="$TOPO_SOCK" "$SEGCTL_BIN" alerts --follow >"$TOPO_DIR/follow.out" 2>&1; rc=$?
check "alerts --follow keeps asking until interrupted (rc $rc)" [ "$rc" -eq 124 ]
check "alerts --follow printed the current (empty) list" grep -q "^No alerts\.$" "$TOPO_DIR/follow.out"
# namespace set --on-detect: kept, shown, refused when unknown, cleared
out=$(segctl namespace set shop --on-detect quarantine)
check "namespace set --on-detect quarantine ($out)" grep -q "on-detect: quarantine" <<<"$out"
check "get namespaces: ON-DETECT column" grep -qE "^shop +[a-z]+ +[a-z]+ +quarantine " <<<"$(segctl get namespaces)"
check "get namespaces -o json: on_detect" grep -q '"on_detect": "quarantine"' <<<"$(segctl get namespaces -o json)"
err=$(segctl namespace set shop --on-detect nuke 2>&1); rc=$?
check "namespace set --on-detect nuke exits 1 ($err)" rc_and_match "$rc" 1 "--on-detect takes alert, quarantine, off or default" "$err"
out=$(segctl namespace set shop --on-detect default)
check "namespace set --on-detect default goes back to the config's ($out)" grep -q "on-detect: default" <<<"$out"

segctl delete policy nosuch -n shop >/dev/null 2>&1
check "deleting an unknown policy exits 1" [ $? -eq 1 ]
segctl endpoint del web -n shop >/dev/null
out=$(segctl status)
check "endpoint del detaches its programs" bash -c '! grep -q "web .*tc-" <<<"$0"' "$out"

e2e_finish
