#!/usr/bin/env bash
# SIGHUP re-reads the config: node_addresses turn the node's own address
# from `world` into `host`, so a rule allowing the world stops matching it.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

node_to_web() { in_node nc -z -w 1 -s 169.254.1.1 10.200.1.10 80 >/dev/null 2>&1; }

topo_create_node
topo_add_pod web 10.200.1.10
cfg=$TOPO_DIR/segd.yaml
printf 'log_level: info\n' >"$cfg"
topo_start_segd -c "$cfg" || { fail "segd starts with -c"; e2e_finish; exit 1; }
segctl endpoint add web -n shop --ip 10.200.1.10 --labels app=web --ifname "$(pod_if web)" >/dev/null
serve pod web 80
segctl apply policies/demo.yaml >/dev/null
allowed "node (169.254.1.1, no node_addresses) -> web tcp/80 as world" node_to_web

printf 'log_level: info\nnode_addresses: [169.254.1.1, fd00:200::1]\n' >"$cfg"
reload_segd
check "segd logged the reload" grep -q "config re-read" "$TOPO_DIR/segd.log"
denied "node (now host) -> web tcp/80: world no longer covers it" node_to_web
allowed "outside host -> web tcp/80 still allowed" probe_tcp ext "" 10.200.1.10 80

printf 'log_level: [\n' >"$cfg"
reload_segd
check "a broken config on reload is refused and reported" grep -q "config rejected, keeping the running one" "$TOPO_DIR/segd.log"
check "segd still answers after a refused reload" quiet segctl status
denied "the running config stays: node still host" node_to_web

# a restart-only key changed: the reload says which, never silently
printf 'log_level: info\nnode_addresses: [169.254.1.1, fd00:200::1]\nflow_interval: 3\nmetrics_addr: off\n' >"$cfg"
reload_segd
check "reload names the restart-only keys that changed" \
	grep -q "reload: metrics_addr, flow_interval changed; these take effect when segd restarts" \
	"$TOPO_DIR/segd.log"

# without CAP_SYS_ADMIN segd could not adopt its pins: it refuses to start
out=$(in_node setpriv --bounding-set=-sys_admin "$SEGD_BIN" --socket "$TOPO_DIR/nocap.sock" \
	--bpffs "$TOPO_BPFFS/nocap" --state-dir "$TOPO_DIR/nocap-state" 2>&1); rc=$?
check "segd without CAP_SYS_ADMIN refuses to start and names it (exit $rc)" \
	rc_and_match "$rc" 1 "missing: CAP_SYS_ADMIN" "$out"
check "and touched nothing" [ ! -e "$TOPO_BPFFS/nocap" ]

e2e_finish
