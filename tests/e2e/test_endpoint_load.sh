#!/usr/bin/env bash
# `segctl endpoint load FILE...`: many endpoints registered in one step,
# all or none. Pods of this node (their interfaces attached) and of other
# nodes (remote: their addresses carry their labels' identity) from one
# file, enforced at once by label policies, named ports included; a file
# with one bad entry changes nothing; `get endpoints -o yaml` loads back
# as it is; 20,000 remote endpoints and a label rule for each in one load
# and one apply, the traffic still decided.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop_pods
if ! topo_start_segd; then fail "segd started"; e2e_finish; exit 1; fi
segctl attach up0 --role uplink >/dev/null
serve pod web 80 && serve pod api 8080 && serve pod db 5432 || { e2e_finish; exit 1; }

# the outside host 203.0.113.10 plays a pod of another node (app=partner)
cat >"$TOPO_DIR/eps.yaml" <<YAML
# the shop's pods and a partner pod elsewhere in the cluster
endpoints:
- {name: web, namespace: shop, ips: [10.200.1.10, "fd00:200::10"], labels: {app: web},
   interface: $(pod_if web), ports: [http=80]}
- {name: api, namespace: shop, ips: [10.200.1.20, "fd00:200::20"], labels: {app: api},
   interface: $(pod_if api)}
- {name: db, namespace: shop, ips: [10.200.1.30, "fd00:200::30"], labels: {app: db},
   interface: $(pod_if db)}
- {name: partner, namespace: partners, ips: [203.0.113.10], labels: {app: partner},
   remote: true}
YAML
cat >"$TOPO_DIR/policy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: api}}
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: partners}}
          podSelector: {matchLabels: {app: partner}}
      ports: [{port: http}]
YAML
check "policy applied before its endpoints exist" quiet segctl apply "$TOPO_DIR/policy.yaml"
out=$(segctl endpoint load "$TOPO_DIR/eps.yaml" 2>&1)
check "4 endpoints in one load, 3 attached: $out" \
	grep -q "^4 endpoints loaded: 4 added, 0 replaced, 3 attached (4 registered)$" <<<"$out"
allowed "api -> web tcp/80 (label peer, named port)" probe_tcp pod api 10.200.1.10 80
allowed "api -> web tcp/80 over v6" probe_tcp pod api fd00:200::10 80
denied "db -> web tcp/80 (no rule)" probe_tcp pod db 10.200.1.10 80
allowed "partner pod of another node -> web tcp/80 (remote endpoint's labels)" \
	probe_tcp ext "" 10.200.1.10 80
check "web's programs attached" grep -q "web.*ingress" <<<"$(segctl get endpoints)"

# all or none: the second file's bad address keeps the first file out too
printf -- '- {name: cache, namespace: shop, ips: [10.200.1.40], remote: true}\n' \
	>"$TOPO_DIR/ok.yaml"
printf -- '- {name: x, namespace: shop, ips: [10.200.1.41], remote: true}\n- {name: y, namespace: shop,\n   ips: [10.200.1.300], remote: true}\n' \
	>"$TOPO_DIR/bad.yaml"
out=$(segctl endpoint load "$TOPO_DIR/ok.yaml" "$TOPO_DIR/bad.yaml" 2>&1); rc=$?
check "a bad entry fails the load with its file:line:col, exit 1 ($rc): $out" \
	rc_and_match $rc 1 "bad.yaml:3:10: '10.200.1.300' is not an address" "$out"
check "... and registers nothing, not even the good file's" \
	not grep -qE "cache|^ *shop +x " <<<"$(segctl get endpoints)"
check "... still 4 endpoints" grep -q "endpoints: 4 " <<<"$(segctl status)"
out=$(segctl endpoint load "$TOPO_DIR/missing.yaml" 2>&1); rc=$?
check "a missing file: exit 2 with its name ($rc)" rc_and_match $rc 2 "missing.yaml" "$out"

# what `get endpoints -o yaml` prints loads back unchanged
segctl get endpoints -o yaml >"$TOPO_DIR/got.yaml"
out=$(segctl endpoint load "$TOPO_DIR/got.yaml" 2>&1)
check "get endpoints -o yaml loads back: $out" \
	grep -q "^4 endpoints loaded: 0 added, 4 replaced, 3 attached" <<<"$out"
segctl get endpoints -o yaml >"$TOPO_DIR/got2.yaml"
check "... ids, identities and labels unchanged" cmp -s "$TOPO_DIR/got.yaml" "$TOPO_DIR/got2.yaml"
allowed "api -> web tcp/80 after the reload" probe_tcp pod api 10.200.1.10 80
allowed "partner -> web tcp/80 after the reload" probe_tcp ext "" 10.200.1.10 80
denied "db -> web tcp/80 after the reload" probe_tcp pod db 10.200.1.10 80

# at scale: 20,000 pods of other nodes and a label rule for each
python3 tools/bench/gen_policy.py peers peer-endpoints 20000 >"$TOPO_DIR/many.yaml"
out=$(segctl endpoint load "$TOPO_DIR/many.yaml" 2>&1)
check "20,000 remote endpoints in one load: $out" \
	grep -q "^20000 endpoints loaded: 20000 added, 0 replaced, 0 attached (20004 registered)$" <<<"$out"
python3 tools/bench/gen_policy.py peers labels 20000 >"$TOPO_DIR/labels.yaml"
check "20,000 label rules, one per endpoint, applied" quiet segctl apply "$TOPO_DIR/labels.yaml"
check "identities: one per label set" grep -q "identities: 2000[4-9]" <<<"$(segctl status)"
allowed "partner -> web tcp/80 among 20,000 remote endpoints" probe_tcp ext "" 10.200.1.10 80
denied "db -> web tcp/80 among 20,000 remote endpoints" probe_tcp pod db 10.200.1.10 80
check "the state dir holds all 20,000" [ "$(grep -c '^- name: peer-' "$TOPO_STATE/state.yaml")" -eq 20000 ]
e2e_finish
