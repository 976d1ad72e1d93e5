#!/usr/bin/env bash
# From observed traffic to an enforced least-privilege policy, with real
# traffic: a shop (web, api, db in namespace shop, DNS in kube-system, an
# outside client and an outside API host) runs its normal mix while segd
# learns; `segctl recommend` turns the edges into policies, which are
# reviewed (lint, apply --dry-run), staged in audit mode (a flow the
# learning missed passes and shows in audit-report) and promoted; the same
# mix replayed (new connections: held out) passes 100 % and the lateral
# flows nobody made before are denied. Also: what the
# recommendation must not hold (pod addresses, world-open ingress), the
# NetworkPolicy kind, edges kept across a restart, `learn reset`.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

CLIENT=203.0.113.10     # the ext host's own address: the outside client
API_HOST=203.0.113.20   # a second ext address: the outside API

setup() {
	topo_create_node
	topo_add_pod web 10.200.1.10
	topo_add_pod api 10.200.1.20
	topo_add_pod db 10.200.1.30
	topo_add_pod dns 10.200.2.53
	in_ext ip addr add "$API_HOST/24" dev eth0
	topo_start_segd --flow-interval 1 || return 1
	segctl namespace set shop >/dev/null
	segctl namespace set kube-system >/dev/null
	segctl endpoint add web -n shop --ip 10.200.1.10 --ifname "$(pod_if web)" \
		--labels app=web,pod-template-hash=5d4f7c >/dev/null &&
	segctl endpoint add api -n shop --ip 10.200.1.20 --ifname "$(pod_if api)" \
		--labels app=api,tier=backend,pod-template-hash=77aa01 >/dev/null &&
	segctl endpoint add db -n shop --ip 10.200.1.30 --ifname "$(pod_if db)" \
		--labels app=db,statefulset.kubernetes.io/pod-name=db-0 >/dev/null &&
	segctl endpoint add coredns -n kube-system --ip 10.200.2.53 --ifname "$(pod_if dns)" \
		--labels k8s-app=kube-dns >/dev/null &&
	segctl attach up0 --role uplink >/dev/null || return 1
	mkdir -p "$TOPO_DIR/www" &&
	head -c 2000000 /dev/urandom >"$TOPO_DIR/www/catalog.bin" || return 1
	topo_bg in_pod web python3 "$TOPO_TOOLS/probe.py" http 80 "$TOPO_DIR/www"
	wait_listen pod web 80 && serve pod api 8080 && serve pod api 9090 &&
		serve pod db 5432 && serve pod dns 53 && serve ext "" 443 && serve pod web 8443
}

# ---- the mix -----------------------------------------------------------------
# Each line: a name, then the probe. All of them are normal traffic.
WANT_SUM=
fetch_catalog() {   # the outside client downloads 2 MB from web with curl
	local sum
	sum=$(in_ext curl -sS --max-time 20 "http://10.200.1.10/catalog.bin" | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$WANT_SUM" ]
}
MIX=(
	"client -> web http/80 (curl, 2 MB)|fetch_catalog"
	"web -> api tcp/8080|probe_tcp pod web 10.200.1.20 8080"
	"api -> db tcp/5432|probe_tcp pod api 10.200.1.30 5432"
	"api -> outside API tcp/443|probe_tcp pod api $API_HOST 443"
	"web -> dns udp/53|probe_udp pod web 10.200.2.53 53"
	"api -> dns udp/53|probe_udp pod api 10.200.2.53 53"
)
# Flows the shop never makes: after the policy they must be denied.
LATERAL=(
	"web -> db tcp/5432 (skips the api)|probe_tcp pod web 10.200.1.30 5432"
	"db -> outside tcp/443 (exfiltration)|probe_tcp pod db $API_HOST 443"
	"api -> web tcp/80 (backwards)|probe_tcp pod api 10.200.1.10 80"
	"web -> api tcp/9090 (a new port)|probe_tcp pod web 10.200.1.20 9090"
	"client -> web tcp/8443 (a new port from outside)|probe_tcp ext '' 10.200.1.10 8443"
	"web -> outside API tcp/443 (api's peer, not web's)|probe_tcp pod web $API_HOST 443"
	"dns -> db tcp/5432|probe_tcp pod dns 10.200.1.30 5432"
	"db -> dns udp/53 (never asked)|probe_udp pod db 10.200.2.53 53"
)

run_mix() {   # run_mix ROUNDS: every flow of the mix ROUNDS times; sets MIX_OK, MIX_N
	local rounds=$1 line name cmd
	MIX_OK=0 MIX_N=0
	for _ in $(seq 1 "$rounds"); do
		for line in "${MIX[@]}"; do
			name=${line%%|*} cmd=${line#*|}
			MIX_N=$((MIX_N + 1))
			if eval "$cmd"; then MIX_OK=$((MIX_OK + 1)); else echo "# mix: $name failed"; fi
		done
	done
}

learned_edges() {
	segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["learn"].get("edges", -1))'
}
edges_at_least() { [ "$(learned_edges)" -ge "$1" ]; }
# metric_is NAME VALUE: segd's /metrics (its default address, in the node) says so
metric_is() { in_node curl -s --max-time 2 http://127.0.0.1:9470/metrics | grep -qx "$1 $2"; }

setup || { fail "setup"; e2e_finish; exit 1; }
WANT_SUM=$(sha256sum <"$TOPO_DIR/www/catalog.bin" | cut -d' ' -f1)

# ---- learn -------------------------------------------------------------------
run_mix 2
check "the mix runs with no policy ($MIX_OK/$MIX_N)" [ "$MIX_OK" -eq "$MIX_N" ]
# web in 80 and egress 8080, 53; api in 8080 and egress 5432, 443, 53;
# db in 5432; dns in 53 from web and from api: 10 edges
check "segd learns the mix's 10 edges (flow records every second)" wait_until 15 edges_at_least 10
FLOWS=$(segctl recommend -n shop -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["edges"])')
check "no edge from replies or client ports: exactly 10" [ "$(learned_edges)" -eq 10 ]

# ---- recommend ---------------------------------------------------------------
segctl recommend -n shop -n kube-system >"$TOPO_DIR/rec.yaml"; rc=$?
check "recommend exits 0" [ "$rc" -eq 0 ]
rec=$(cat "$TOPO_DIR/rec.yaml")
refute "no pod address in the recommendation" grep -q '10\.200\.' <<<"$rec"
refute "no world-open ingress (0.0.0.0/0, ::/0, entity world)" grep -qE '0\.0\.0\.0/0|::/0|entity: world' <<<"$rec"
refute "no rollout labels (pod-template-hash, statefulset pod name)" grep -qE 'pod-template-hash|pod-name' <<<"$rec"
check "the observed outside client, exactly" grep -q -- "- cidr: \"$CLIENT/32\"" <<<"$rec"
check "the outside API host, exactly" grep -q -- "- cidr: \"$API_HOST/32\"" <<<"$rec"
check "DNS by label across namespaces" grep -q 'kubernetes.io/metadata.name: "kube-system"' <<<"$rec"
check "each rule says what it was learned from" grep -qE '# learned from [0-9]+ flows?, [0-9]+ bytes, first seen 20[0-9-]+T' <<<"$rec"
segctl recommend -n shop -n kube-system >"$TOPO_DIR/rec2.yaml"
check "the same edges give the same bytes" cmp -s "$TOPO_DIR/rec.yaml" "$TOPO_DIR/rec2.yaml"
RULES=$(grep -c '^    - name: ' "$TOPO_DIR/rec.yaml")
POLS=$(grep -c '^kind: SegmentPolicy' "$TOPO_DIR/rec.yaml")
out=$(segctl recommend -n shop -o json); rc=$?
check "-o json: the documents and the counts" rc_and_match "$rc" 0 '"documents": \[' "$out"
segctl recommend -n shop -n kube-system --kind NetworkPolicy >"$TOPO_DIR/rec-np.yaml"
out=$(segctl apply --dry-run "$TOPO_DIR/rec-np.yaml" 2>&1); rc=$?
check "the NetworkPolicy kind is valid input (apply --dry-run)" rc_and_match "$rc" 0 "created" "$out"
out=$(segctl recommend --since nonsense 2>&1); rc=$?
check "a bad --since is refused with a hint (exit 1)" rc_and_match "$rc" 1 "90s, 30m" "$out"

# ---- review, stage, report, promote -----------------------------------------------
out=$(segctl lint "$TOPO_DIR/rec.yaml" 2>&1); rc=$?
check "lint: no error in the recommendation (no segd needed)" [ "$rc" -eq 0 ]
out=$(segctl apply --dry-run "$TOPO_DIR/rec.yaml" 2>&1); rc=$?
check "apply --dry-run shows what would be created" rc_and_match "$rc" 0 "learned-web.*created" "$out"
out=$(segctl apply --mode audit "$TOPO_DIR/rec.yaml" 2>&1); rc=$?
check "apply --mode audit stages the recommendation" rc_and_match "$rc" 0 "staged" "$out"
# a flow the learning window missed (a nightly job): staged policies let
# it pass and report it
allowed "staged: a flow the learning missed, web -> api tcp/9090" probe_tcp pod web 10.200.1.20 9090
missed_reported() {
	segctl audit-report -n shop -o json | python3 -c '
import json, sys
sys.exit(not any(f["source"] == "shop/web" and f["destination"] == "shop/api" and f["port"] == 9090
                 for g in json.load(sys.stdin)["groups"] if "learned" in g["policy"]
                 for f in g["distinct_flows"]))'
}
check "audit-report shows the missed flow under the staged policies" wait_until 15 missed_reported
promoted=0 promote_failed=0
while read -r name ns; do
	if segctl promote "$name" -n "$ns" >/dev/null; then promoted=$((promoted + 1)); else promote_failed=1; fi
done < <(awk '/^  name: /{n=$2} /^  namespace: /{print n, $2}' "$TOPO_DIR/rec.yaml")
check "promote enforces every staged policy ($promoted)" \
	holds '[ "$promote_failed" -eq 0 ] && [ "$promoted" -eq "$POLS" ]'
run_mix 3
check "the held-out mix replays without a drop ($MIX_OK/$MIX_N)" [ "$MIX_OK" -eq "$MIX_N" ]
REPLAY="$MIX_OK/$MIX_N"
# at once: a denied probe waits for its timeout
pids=()
for i in "${!LATERAL[@]}"; do
	( eval "${LATERAL[$i]#*|}"; echo $? >"$TOPO_DIR/lateral.$i" ) &
	pids+=($!)
done
wait "${pids[@]}"
denied_n=0
for i in "${!LATERAL[@]}"; do
	name=${LATERAL[$i]%%|*}
	if [ "$(cat "$TOPO_DIR/lateral.$i")" = 0 ]; then fail "denied: $name (got through)"
	else pass "denied: $name"; denied_n=$((denied_n + 1)); fi
done
echo "# figures: $FLOWS edges of shop, $POLS policies with $RULES rules recommended," \
	"replay $REPLAY passed, lateral $denied_n/${#LATERAL[@]} denied," \
	"memory $(segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["learn"]["memory_bytes"])') bytes"

check "/metrics: segd_learn_edges" wait_until 5 metric_is segd_learn_edges "$(learned_edges)"

# ---- kept across a restart, reset -----------------------------------------------
before=$(learned_edges)
topo_stop_segd TERM
check "the edges are saved in the state dir at stop" grep -q '^e	' "$TOPO_STATE/learned-edges"
topo_start_segd --flow-interval 1
check "a restarted segd has the same edges ($before)" [ "$(learned_edges)" -eq "$before" ]
out=$(segctl learn reset -n kube-system); rc=$?
check "learn reset -n kube-system forgets that namespace's workloads' edges" \
	rc_and_match "$rc" 0 "forgotten: 2 " "$out"
out=$(segctl learn reset); rc=$?
check "learn reset forgets the rest" rc_and_match "$rc" 0 "\(0 kept\)" "$out"
check "policy-audit.log: the staging, the promotions and both resets" python3 -c '
import json, sys
acts = [json.loads(l)["action"] for l in open(sys.argv[1])]
sys.exit(not (acts.count("stage") == int(sys.argv[2]) and acts.count("promote") == int(sys.argv[2])
              and acts.count("learn-reset") == 2))' "$TOPO_STATE/policy-audit.log" "$POLS"
# on disk at once (flows conntrack still holds are learned again when
# their next records come: reset forgets the past, not the present)
check "a reset rewrites the state dir's file at once" not grep -q '^e	' "$TOPO_STATE/learned-edges"

e2e_finish
