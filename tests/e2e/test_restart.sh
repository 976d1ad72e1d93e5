#!/usr/bin/env bash
# segd dies or stops: enforcement stays; a new segd adopts it without a gap.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

gen() { segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply policies/demo.yaml >/dev/null
g1=$(gen)

tlog=$TOPO_DIR/tcp.log
topo_bg in_pod web python3 tools/probe.py stream tcp 10.200.1.20 8080 "$tlog" 60
check "stream web -> api flows" wait_until 10 streaming "$tlog" 0

# SIGKILL while traffic flows
topo_stop_segd KILL
n=$(wc -l <"$tlog")
denied "segd dead: web -> db still denied" probe_tcp pod web 10.200.1.30 5432
allowed "segd dead: outside -> web still allowed" probe_tcp ext "" 10.200.1.10 80
# the sleeps are the test: the flow goes on while no segd runs, while a new
# one adopts the pins, and after that (for at least 11 exchanges)
sleep 1

# restart: adopts pinned maps, re-attaches atomically
topo_start_segd || fail "segd restarts"
m=$(wc -l <"$tlog")
sleep 1
wait_until 10 streaming "$tlog" "$m" 10
lost=$(tail -n +$((n+1)) "$tlog" | grep -c '^lost' || true)
oks=$(oks_after "$tlog" "$n")
check "established flow kept flowing across kill+restart ($oks ok, $lost lost)" [ "$lost" -eq 0 -a "$oks" -gt 10 ]
g2=$(gen)
check "restarted segd continued the generation ($g1 -> $g2)" [ "$g2" -gt "$g1" ]
pols=$(segctl get policies)
check "policies restored from the state dir" grep -q shop-api <<<"$pols"
eps=$(segctl get endpoints)
check "endpoints restored from the state dir" grep -q "10.200.1.30" <<<"$eps"
out=$(segctl apply policies/demo.yaml)
check "re-applying demo.yaml after a restart: all 4 unchanged" [ "$(grep -c ' unchanged' <<<"$out")" -eq 4 ]
denied "after restart: web -> db denied" probe_tcp pod web 10.200.1.30 5432
allowed "after restart: api -> db allowed" probe_tcp pod api 10.200.1.30 5432

# SIGTERM: clean stop, enforcement stays in place
topo_stop_segd TERM
check "SIGTERM removed the control socket" [ ! -e "$TOPO_SOCK" ]
denied "segd stopped: web -> db still denied" probe_tcp pod web 10.200.1.30 5432
allowed "segd stopped: web -> api still allowed" probe_tcp pod web 10.200.1.20 8080

e2e_finish
