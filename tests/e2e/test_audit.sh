#!/usr/bin/env bash
# Audit mode with real traffic: a namespace in audit mode passes what the
# same policy in enforce mode drops; a policy in audit mode next to an
# enforced one leaves the enforced drops in place; back to enforce drops
# again. Per policy: spec.mode of a SegmentPolicy and the annotation
# segd.io/mode of a NetworkPolicy.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop || { fail "setup"; e2e_finish; exit 1; }

# db accepts tcp/5432 from api only (enforced ingress on db)
cp tests/fixtures/e2e/db-from-api.yaml "$TOPO_DIR/db.yaml"
# the same with the annotation: this one policy in audit mode
sed 's/metadata: {name: db-from-api, namespace: shop}/metadata: {name: db-from-api, namespace: shop, annotations: {segd.io\/mode: audit}}/' \
	"$TOPO_DIR/db.yaml" >"$TOPO_DIR/db-audit.yaml"
# audit-mode SegmentPolicy: web may only talk to api; db refuses api too
cat >"$TOPO_DIR/audit.yaml" <<'EOF'
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: tighten, namespace: shop}
spec:
  mode: audit
  segments:
    api: {selector: {matchLabels: {app: api}}}
  appliesTo: {selector: {matchLabels: {app: web}}}
  egress:
    - to: [{segment: api}]
      ports: [{protocol: TCP, port: 8080}]
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: db-lockdown, namespace: shop}
spec:
  mode: audit
  appliesTo: {selector: {matchLabels: {app: db}}}
  ingress:
    - {action: deny, from: [{selector: {matchLabels: {app: api}}}]}
    - {}
EOF

quiet segctl apply "$TOPO_DIR/db.yaml"
check "apply db-from-api" [ $? -eq 0 ]
allowed "enforce: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
denied "enforce: web -> db tcp/5432" probe_tcp pod web 10.200.1.30 5432

# ---- the namespace in audit mode ---------------------------------------------
out=$(segctl namespace set shop --mode audit); rc=$?
check "namespace set --mode audit exits 0 and says so" rc_and_match "$rc" 0 "mode: audit" "$out"
before=$(reason_packets policy-audit)
allowed "namespace audit: web -> db tcp/5432 passes" probe_tcp pod web 10.200.1.30 5432
after=$(reason_packets policy-audit)
# once per new flow, at db's ingress (the only enforced direction; web's
# egress is not selected by any policy, so it is simply allowed)
check "policy-audit counts the audited flow once ($before -> $after)" \
	[ $((after - before)) -eq 1 ]
out=$(segctl flows --verdict audit --endpoint db -o json)
check "segctl flows: the web -> db connection has verdict audit" python3 -c '
import json, sys
f = json.loads(sys.argv[1])["flows"]
sys.exit(0 if any(x.get("dst_port") == 5432 and x["dst_ip"] == "10.200.1.30"
                  and x["drop_reason"] == "policy-audit" for x in f) else 1)' "$out"
allowed "namespace audit: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
out=$(segctl get namespaces)
check "get namespaces: MODE column shows audit" grep -qE "^shop +[a-z]+ +audit " <<<"$out"
check "get namespaces: default stays enforce" grep -qE "^default +[a-z]+ +enforce " <<<"$out"
out=$(segctl get policies)
check "get policies: db-from-api audit by its namespace" grep -qE "db-from-api .* audit\(ns\) " <<<"$out"
out=$(segctl get policies -o json)
check "get policies -o json: mode audit from the namespace" python3 -c '
import json, sys
p = [i for i in json.load(sys.stdin)["items"] if i["name"] == "db-from-api"][0]
sys.exit(0 if p["mode"] == "audit" and p["mode_from"] == "namespace" else 1)' <<<"$out"

# the mode survives a restart (state dir)
topo_stop_segd
topo_start_segd || fail "segd restart"
out=$(segctl get namespaces -o json)
check "namespace mode persisted across a restart" python3 -c '
import json, sys
ns = {i["name"]: i["mode"] for i in json.load(sys.stdin)["items"]}
sys.exit(0 if ns.get("shop") == "audit" else 1)' <<<"$out"
allowed "after restart: web -> db tcp/5432 still passes" probe_tcp pod web 10.200.1.30 5432

out=$(segctl namespace set shop --mode enforce); rc=$?
check "namespace set --mode enforce exits 0" rc_and_match "$rc" 0 "mode: enforce" "$out"
denied "back to enforce: web -> db tcp/5432 dropped again" probe_tcp pod web 10.200.1.30 5432
allowed "back to enforce: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
out=$(segctl namespace set shop --mode dryrun 2>&1); rc=$?
check "namespace set --mode dryrun is refused" rc_and_match "$rc" 1 "--mode takes enforce or audit" "$out"

# ---- one policy in audit mode (annotation) -------------------------------------
quiet segctl apply "$TOPO_DIR/db-audit.yaml"
check "apply db-from-api with segd.io/mode: audit" [ $? -eq 0 ]
allowed "policy audit: web -> db tcp/5432 passes" probe_tcp pod web 10.200.1.30 5432
out=$(segctl get policies)
check "get policies: db-from-api audit (its own)" grep -qE "db-from-api .* audit " <<<"$out"
quiet segctl apply "$TOPO_DIR/db.yaml"
denied "annotation removed: web -> db tcp/5432 dropped" probe_tcp pod web 10.200.1.30 5432

# ---- audit policies next to the enforced one ----------------------------------
quiet segctl apply "$TOPO_DIR/audit.yaml"
check "apply the audit-mode SegmentPolicies" [ $? -eq 0 ]
allowed "audit deny inside an enforced allow: api -> db tcp/5432 passes" probe_tcp pod api 10.200.1.30 5432
denied "enforced policy still drops web -> db tcp/5432" probe_tcp pod web 10.200.1.30 5432
allowed "audit-only egress: web -> outside tcp/443 passes" probe_tcp pod web 203.0.113.10 443
allowed "audit-only egress: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
out=$(segctl get endpoints)
check "web is enforcing egress (its default is the audit entry)" grep -qE "^shop +web .* egress " <<<"$out"
# the same policy enforced drops what audit let through
sed 's/mode: audit/mode: enforce/' "$TOPO_DIR/audit.yaml" >"$TOPO_DIR/enforced.yaml"
quiet segctl apply "$TOPO_DIR/enforced.yaml"
denied "tighten enforced: web -> outside tcp/443" probe_tcp pod web 203.0.113.10 443
denied "db-lockdown enforced: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
allowed "tighten enforced: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080

# a bad mode is an error at file:line:col and changes nothing
sed 's/mode: enforce/mode: Audit/' "$TOPO_DIR/enforced.yaml" >"$TOPO_DIR/bad.yaml"
out=$(segctl apply "$TOPO_DIR/bad.yaml" 2>&1); rc=$?
check "mode: Audit refused at file:line:col" rc_and_match "$rc" 1 "bad.yaml:5:9: mode must be enforce or audit" "$out"
denied "after the refused apply: web -> outside tcp/443 still dropped" probe_tcp pod web 203.0.113.10 443

e2e_finish
