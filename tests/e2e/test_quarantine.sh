#!/usr/bin/env bash
# Emergency quarantine (issue 5) with real traffic: a long-lived TCP
# connection and a UDP stream from a pod are cut; new connections fail both
# ways, whatever policy and blocklist exceptions allow; the forensic peer
# still gets through; the quarantine survives a segd restart, a policy
# re-apply and a re-registration; release restores the policy's verdicts; a
# group quarantined by selector, including an endpoint registered later;
# the audit log records every action with the caller's uid.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

scrape() {
	in_node python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode(), end="")'
}
json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

setup_shop_pods
topo_add_pod web2 10.200.1.11
setup_shop_segd || { fail "setup"; e2e_finish; exit 1; }
serve pod web2 80
serve pod api 9090   # a port no forensic rule names
segctl apply policies/demo.yaml tests/fixtures/e2e/db-udp.yaml >/dev/null
# the outside host is on an exception list: no blocklist may touch it
segctl blocklist load partner tests/fixtures/e2e/exception.txt --category exception >/dev/null

# ---- before: what policy allows and denies -----------------------------------
allowed "before: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
allowed "before: api -> db udp/5432" probe_udp pod api 10.200.1.30 5432
allowed "before: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
allowed "before: api -> outside tcp/443 (policy + exception list)" probe_tcp pod api 203.0.113.10 443
denied "before: outside -> api tcp/8080 (policy denies it)" probe_tcp ext "" 10.200.1.20 8080

# ---- quarantine api while a TCP connection and a UDP stream are live --------
tlog=$TOPO_DIR/tcp.log ulog=$TOPO_DIR/udp.log
topo_bg in_pod api python3 tools/probe.py stream tcp 10.200.1.30 5432 "$tlog" 40
topo_bg in_pod api python3 tools/probe.py stream udp 10.200.1.30 5432 "$ulog" 40
both_streaming() { streaming "$tlog" 0 10 && streaming "$ulog" 0 10; }
check "streams flow before the quarantine" wait_until 10 both_streaming

out=$(segctl quarantine api -n shop --allow 203.0.113.10:8080/tcp \
	--allow '[2001:db8::10]:8080/tcp' --reason "incident 42: miner found")
rc=$?
check "segctl quarantine api exits 0 ($out)" rc_and_match $rc 0 'quarantine 1 endpoint shop/api quarantined' "$out"
nt=$(wc -l <"$tlog") nu=$(wc -l <"$ulog")
# the sleep is the test: both flows live on for 1.5 s, nothing gets through
sleep 1.5
check "live TCP connection cut ($(oks_after "$tlog" "$nt") ok after)" stream_cut "$tlog" "$nt"
check "live UDP stream cut ($(oks_after "$ulog" "$nu") ok after)" stream_cut "$ulog" "$nu"

denied "quarantined: api -> db tcp/5432 (new, policy allows)" probe_tcp pod api 10.200.1.30 5432
denied "quarantined: api -> db udp/5432 (new, policy allows)" probe_udp pod api 10.200.1.30 5432
denied "quarantined: web -> api tcp/8080 (into it, policy allows)" probe_tcp pod web 10.200.1.20 8080
denied "quarantined: web -> api ping" probe_ping pod web 10.200.1.20
denied "quarantined: api -> outside tcp/443 (exception list + policy)" probe_tcp pod api 203.0.113.10 443
allowed "forensic peer: outside -> api tcp/8080 (policy alone denies it)" probe_tcp ext "" 10.200.1.20 8080
allowed "forensic peer over IPv6: outside -> api tcp/8080" probe_tcp ext "" fd00:200::20 8080
denied "IPv6 forensic rule names port 8080 only: outside -> api tcp/9090 over IPv6" probe_tcp ext "" fd00:200::20 9090
denied "forensic rule is tcp only: outside -> api udp/8080" probe_udp ext "" 10.200.1.20 8080
allowed "others unaffected: outside -> web tcp/80" probe_tcp ext "" 10.200.1.10 80
check "drops counted as 'quarantined'" [ "$(reason_packets quarantined)" -gt 0 ]
check "drop events: segctl flows shows api's flows dropped as quarantined" \
	grep -q 'shop/api .*quarantined' <<<"$(segctl flows --verdict deny)"
m=$(scrape)
check "metrics: segd_quarantines 1" grep -qx 'segd_quarantines 1' <<<"$m"
check "metrics: one quarantine action" grep -qx 'segd_quarantine_actions_total{action="quarantine"} 1' <<<"$m"
check "metrics: quarantined drops" grep -q '^segd_dropped_packets_total{reason="quarantined"} [1-9]' <<<"$m"

q=$(segctl get quarantines -o json)
check "get quarantines lists api with its allow rule and reason" \
	[ "$(json_field 'd["items"][0]["target"] + "|" + d["items"][0]["allow"][0] + "|" + d["items"][0]["reason"]' <<<"$q")" = \
	  "endpoint shop/api|203.0.113.10/32:8080/tcp|incident 42: miner found" ]
st=$(segctl status -o json)
check "status counts 1 quarantine, 2 addresses" \
	[ "$(json_field 'str(d["quarantines"]) + "/" + str(d["quarantined_addresses"])' <<<"$st")" = "1/2" ]

# ---- persistence: restart, re-apply, re-register -------------------------------
topo_stop_segd KILL
topo_start_segd || fail "segd restarts"
segctl apply policies/demo.yaml tests/fixtures/e2e/db-udp.yaml >/dev/null
denied "after restart + re-apply: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
denied "after restart + re-apply: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
allowed "after restart: forensic peer still gets through" probe_tcp ext "" 10.200.1.20 8080
segctl endpoint add api -n shop --ip 10.200.1.20 --ip fd00:200::20 --labels app=api \
	--ifname "$(pod_if api)" >/dev/null
denied "after re-registration: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
denied "after re-registration: api -> db over IPv6" probe_tcp pod api fd00:200::30 5432
segctl endpoint del api -n shop >/dev/null
segctl endpoint add api -n shop --ip 10.200.1.20 --ip fd00:200::20 --labels app=api \
	--ifname "$(pod_if api)" >/dev/null
denied "deleted and registered again: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
denied "deleted and registered again: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
# a restart into an empty bpffs (what a reboot leaves): rebuilt from the state dir
topo_stop_segd TERM
rm -f "$TOPO_BPFFS/segd/segd_quarantine"
topo_start_segd || fail "segd restarts with a fresh quarantine map"
denied "after the map was lost: rebuilt from the state dir, api -> db denied" probe_tcp pod api 10.200.1.30 5432

# ---- release ---------------------------------------------------------------------
out=$(segctl release api -n shop); rc=$?
check "segctl release api exits 0" rc_and_match $rc 0 'released' "$out"
allowed "released: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
allowed "released: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
allowed "released: api -> outside tcp/443" probe_tcp pod api 203.0.113.10 443
denied "released: policy decides again, outside -> api tcp/8080 denied" probe_tcp ext "" 10.200.1.20 8080
denied "released: policy decides again, web -> db denied" probe_tcp pod web 10.200.1.30 5432

# ---- a group by selector, including an endpoint registered later -------------
out=$(segctl quarantine --selector app=web -n shop --reason "web tier"); rc=$?
check "quarantine --selector app=web exits 0" rc_and_match $rc 0 'endpoints shop/web' "$out"
denied "selector: outside -> web tcp/80" probe_tcp ext "" 10.200.1.10 80
denied "selector: web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
allowed "selector: api (other labels) -> db still allowed" probe_tcp pod api 10.200.1.30 5432
segctl endpoint add web2 -n shop --ip 10.200.1.11 --labels app=web,tier=front \
	--ifname "$(pod_if web2)" >/dev/null
denied "selector: web2 registered later is quarantined at once" probe_tcp ext "" 10.200.1.11 80
q=$(segctl get quarantines -o json)
check "selector quarantine covers web and web2" \
	[ "$(json_field '",".join(sorted(d["items"][0]["endpoints"]))' <<<"$q")" = "shop/web,shop/web2" ]
segctl release --selector app=web -n shop >/dev/null
allowed "selector released: outside -> web2 tcp/80" probe_tcp ext "" 10.200.1.11 80
allowed "selector released: outside -> web tcp/80" probe_tcp ext "" 10.200.1.10 80

# ---- an address ----------------------------------------------------------------
segctl quarantine --ip 10.200.1.30 >/dev/null
denied "--ip: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
segctl release --ip 10.200.1.30 >/dev/null
allowed "--ip released: api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432

# ---- usage and errors --------------------------------------------------------
segctl release api -n shop >/dev/null 2>&1; rc=$?
check "release of a target not quarantined exits 1" [ "$rc" -eq 1 ]
segctl quarantine >/dev/null 2>&1; rc=$?
check "quarantine without a target exits 2" [ "$rc" -eq 2 ]
segctl quarantine api -n shop --allow 10.0.0.0/33 >/dev/null 2>&1; rc=$?
check "quarantine with a bad --allow exits 2" [ "$rc" -eq 2 ]
check "status: no quarantine left" [ "$(segctl status -o json | json_field 'd["quarantines"]')" -eq 0 ]

# ---- audit ---------------------------------------------------------------------
audit=$TOPO_STATE/quarantine-audit.log
check "audit log has 6 records (3 quarantines, 3 releases)" [ "$(wc -l <"$audit")" -eq 6 ]
check "audit records carry time, action, target, reason and uid 0" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = [("quarantine", "endpoint shop/api"), ("release", "endpoint shop/api"),
        ("quarantine", "selector shop/app=web"), ("release", "selector shop/app=web"),
        ("quarantine", "ip 10.200.1.30"), ("release", "ip 10.200.1.30")]
assert [(r["action"], r["target"]) for r in recs] == want, recs
assert all(r["uid"] == 0 and r["pid"] > 0 and r["time"].endswith("Z") for r in recs)
assert recs[0]["reason"] == "incident 42: miner found"
assert recs[0]["allow"] == ["203.0.113.10/32:8080/tcp", "[2001:db8::10/128]:8080/tcp"]
' "$audit"
check "audit count in status" [ "$(segctl status -o json | json_field 'd["quarantine_audit_records"]')" -eq 6 ]
check "segd logged the actions" grep -q 'quarantine: quarantine endpoint shop/api (id 1) by uid 0' "$TOPO_DIR/segd.log"

e2e_finish
