#!/usr/bin/env bash
# Staging with real traffic (docs/policy.md "Staging"): review with
# apply --dry-run, apply --mode audit, the flows the staged policies would
# drop in audit-report (table and json, each flow counted once), the mark
# kept across a segd restart, promote: the same flows dropped, the allowed
# ones passing; every step in policy-audit.log.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop --flow-interval 1 || { fail "setup"; e2e_finish; exit 1; }

# what a review would bring: db only from api (misses web -> db, which the
# pods use), api refuses web by a named deny rule
cp tests/fixtures/e2e/db-from-api.yaml "$TOPO_DIR/p.yaml"
cat >>"$TOPO_DIR/p.yaml" <<'EOF'
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: api-guard, namespace: shop}
spec:
  appliesTo: {selector: {matchLabels: {app: api}}}
  ingress:
    - {name: no-web, action: deny, from: [{selector: {matchLabels: {app: web}}}]}
    - {}
EOF

# ---- review and stage -------------------------------------------------------------
out=$(segctl apply --dry-run "$TOPO_DIR/p.yaml"); rc=$?
check "dry-run: both policies created, per rule the entries" \
	rc_and_match "$rc" 0 "db-from-api created \(dry run\)" "$out"
check "dry-run: the rule changes are listed, with the rule's name" \
	grep -qE '^  \+ shop/api-guard rule 1 "no-web" \(ingress deny\): [0-9]+ entries' <<<"$out"
out=$(segctl apply --mode audit "$TOPO_DIR/p.yaml"); rc=$?
check "apply --mode audit: both staged" [ "$rc.$(grep -c 'created \[audit, staged\]' <<<"$out")" = 0.2 ]
out=$(segctl apply --mode enforce "$TOPO_DIR/p.yaml" 2>&1); rc=$?
check "apply --mode enforce is refused, saying what to do" rc_and_match "$rc" 1 "without --mode the documents apply as written" "$out"
out=$(segctl get policies)
check "get policies: MODE audit(staged)" grep -qE "db-from-api .* audit\(staged\) " <<<"$out"
check "get policies -o json: staged" python3 -c '
import json, sys
p = {i["name"]: i for i in json.load(sys.stdin)["items"]}
sys.exit(0 if all(p[n]["staged"] and p[n]["mode"] == "audit" for n in ("db-from-api", "api-guard")) else 1)' \
	< <(segctl get policies -o json)

# ---- real traffic: passes, reported ---------------------------------------------------
for i in 1 2 3; do
	allowed "staged: web -> db tcp/5432 passes ($i)" probe_tcp pod web 10.200.1.30 5432
done
allowed "staged: web -> api tcp/8080 passes" probe_tcp pod web 10.200.1.20 8080
allowed "staged: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432

# report_has POLICY RULE SRC DST PORT FLOWS: a group with that flow, counted FLOWS times
report_has() {
	segctl audit-report -o json | python3 -c '
import json, sys
pol, rule, src, dst, port, flows = sys.argv[1:]
for g in json.load(sys.stdin)["groups"]:
    if g["policy"] != pol or g["rule"] != rule:
        continue
    for f in g["distinct_flows"]:
        if (f["source"], f["destination"], f["protocol"], f["port"]) == (src, dst, "tcp", int(port)):
            sys.exit(0 if f["flows"] == int(flows) and g["flows"] >= int(flows) and f["packets"] > 0 else 1)
sys.exit(1)' "$@"
}
check "audit-report -o json: web -> db 5432 under db-from-api's default deny, 3 flows" \
	wait_until 15 report_has shop/db-from-api "" shop/web shop/db 5432 3
check "audit-report -o json: web -> api 8080 under shop/api-guard#1" \
	wait_until 15 report_has shop/api-guard "shop/api-guard#1" shop/web shop/api 8080 1
out=$(segctl audit-report)
check "audit-report table: the default deny group" grep -q "^shop/db-from-api (default deny) (namespace shop): 3 flows" <<<"$out"
check "audit-report table: the rule with its name" grep -q '^shop/api-guard#1 "no-web" (namespace shop)' <<<"$out"
check "audit-report table: the flow with the source's labels" \
	grep -qE "^  shop/web \(app=web\) +shop/db +tcp/5432 +3 " <<<"$out"
refute "audit-report table: api -> db (allowed) is not there" grep -q "shop/api (app=api)" <<<"$out"
out=$(segctl audit-report --namespace default -o json)
check "audit-report --namespace default: nothing" python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)["groups"]))' <<<"$out"
out=$(segctl audit-report --since 10m -o json)
check "audit-report --since 10m: both groups" python3 -c 'import json,sys; sys.exit(len(json.load(sys.stdin)["groups"]) != 2)' <<<"$out"

# ---- the mark survives a restart --------------------------------------------------------
topo_stop_segd
topo_start_segd --flow-interval 1 || fail "segd restart"
check "after restart: still audit(staged)" grep -qE "api-guard .* audit\(staged\) " <<<"$(segctl get policies)"
allowed "after restart: web -> db tcp/5432 still passes" probe_tcp pod web 10.200.1.30 5432

# ---- promote ------------------------------------------------------------------------------
out=$(segctl promote db-from-api --namespace shop); rc=$?
check "promote db-from-api" rc_and_match "$rc" 0 "promoted: enforced now" "$out"
denied "promoted: web -> db tcp/5432 dropped" probe_tcp pod web 10.200.1.30 5432
allowed "promoted: api -> db tcp/5432 still passes" probe_tcp pod api 10.200.1.30 5432
out=$(segctl promote db-from-api -n shop 2>&1); rc=$?
check "promote again: refused, enforced already" rc_and_match "$rc" 1 "enforced already" "$out"
out=$(segctl promote nope 2>&1); rc=$?
check "promote of an unknown policy: not found, what to do" rc_and_match "$rc" 1 "not found; see .segctl get policies" "$out"
quiet segctl promote api-guard -n shop
check "promote api-guard" [ $? -eq 0 ]
denied "promoted: web -> api tcp/8080 dropped by no-web" probe_tcp pod web 10.200.1.20 8080
allowed "promoted: db -> api tcp/8080 passes" probe_tcp pod db 10.200.1.20 8080
out=$(segctl get policies -o json)
check "get policies: both enforced, not staged" python3 -c '
import json, sys
p = {i["name"]: i for i in json.load(sys.stdin)["items"]}
sys.exit(0 if all(not p[n]["staged"] and p[n]["mode"] == "enforce" for n in ("db-from-api", "api-guard")) else 1)' <<<"$out"
out=$(segctl apply "$TOPO_DIR/p.yaml")
check "the file applied as written is what promote made: both unchanged" \
	[ "$(grep -c ' unchanged' <<<"$out")" -eq 2 ]

# ---- audit log ------------------------------------------------------------------------------
log=$TOPO_STATE/policy-audit.log
check "policy-audit.log: 2 stage and 2 promote lines with the caller's uid" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
acts = [(l["action"], l["namespace"], l["name"], l["mode"], l["uid"]) for l in lines]
want = [("stage", "shop", "db-from-api", "audit", 0), ("stage", "shop", "api-guard", "audit", 0),
        ("promote", "shop", "db-from-api", "enforce", 0), ("promote", "shop", "api-guard", "enforce", 0)]
sys.exit(0 if acts == want and all(l["time"].endswith("Z") for l in lines) else 1)' "$log"

e2e_finish
