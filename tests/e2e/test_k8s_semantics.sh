#!/usr/bin/env bash
# Kubernetes' semantics with real traffic: an ipBlock selects the pods inside
# it (policy_cidr_match: all, the default) or only addresses of no endpoint
# (outside); a named port resolves per destination pod, from the names the
# endpoint was registered with, follows a re-registration and survives a
# restart.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop || { fail "setup"; e2e_finish; exit 1; }
serve pod api 8081
serve pod db 5433

# re-register db with the named ports given
db_ports() {
	local p args=()
	for p in "$@"; do args+=(--port "$p"); done
	segctl endpoint add db -n shop --ip 10.200.1.30 --ip fd00:200::30 \
		--labels app=db --ifname "$(pod_if db)" "${args[@]}" >/dev/null
}

# web may reach 10.200.1.16/29 (api at .20; db at .30 is outside it) and
# any pod's port named pg; api takes only its port named http
segctl apply - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 10.200.1.16/29}}]
  - ports: [{port: pg}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: http}]
EOF
check "policies applied" grep -q api-in <<<"$(segctl get policies)"

# ---- ipBlock selects pods ------------------------------------------------------
denied "web -> api tcp/8081: api has no port named http yet" probe_tcp pod web 10.200.1.20 8081
segctl endpoint add api -n shop --ip 10.200.1.20 --ip fd00:200::20 --labels app=api \
	--port http=8081 --ifname "$(pod_if api)" >/dev/null
allowed "web -> api tcp/8081: in web's ipBlock, api's port http" probe_tcp pod web 10.200.1.20 8081
denied "web -> api tcp/8080: not api's port http" probe_tcp pod web 10.200.1.20 8080
denied "web -> db tcp/5432: db outside the block, no port named pg" probe_tcp pod web 10.200.1.30 5432

# ---- named ports at egress, per destination pod ------------------------------
db_ports pg=5432
allowed "web -> db tcp/5432: db's port pg" probe_tcp pod web 10.200.1.30 5432
denied "web -> db tcp/5433" probe_tcp pod web 10.200.1.30 5433
denied "web -> db udp/5432: pg is TCP" probe_udp pod web 10.200.1.30 5432
db_ports pg=5433
allowed "db re-registered with pg=5433: web -> db tcp/5433" probe_tcp pod web 10.200.1.30 5433
denied "db re-registered with pg=5433: web -> db tcp/5432" probe_tcp pod web 10.200.1.30 5432
check "get endpoints shows db's named port" \
	grep -q '"pg=5433/TCP"' <<<"$(segctl get endpoints -o json)"

# ---- the other choice: CIDRs only outside; named ports kept across restart -------
cfg=$TOPO_DIR/outside.yaml
echo "policy_cidr_match: outside" >"$cfg"
topo_stop_segd
topo_start_segd -c "$cfg" || { fail "segd restarts with policy_cidr_match: outside"; e2e_finish; exit 1; }
denied "policy_cidr_match outside: web -> api tcp/8081 (api no longer in the block)" \
	probe_tcp pod web 10.200.1.20 8081
allowed "after the restart: web -> db tcp/5433 (named port kept in the state)" \
	probe_tcp pod web 10.200.1.30 5433
echo "policy_cidr_match: sideways" >"$cfg"
err=$("$SEGD_BIN" -n -c "$cfg" --state-dir "$TOPO_STATE" 2>&1); rc=$?
check "a bad policy_cidr_match is refused with its position (rc $rc)" \
	rc_and_match "$rc" 1 "outside.yaml:1:20: policy_cidr_match 'sideways'" "$err"

e2e_finish
