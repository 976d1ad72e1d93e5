#!/usr/bin/env bash
# /metrics with real traffic: counters move by exactly what was sent
# (per verdict, per reason, per rule, bytes included), the live scrape
# passes `promtool check metrics`, other paths are 404, --metrics-addr
# moves or disables the endpoint; the flow log is reopened on SIGHUP.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

# scrape [ADDR]: the exposition text of http://ADDR/metrics (from the node)
scrape() {
	in_node python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=3).read().decode(), end="")' \
		"${1:-127.0.0.1:9470}"
}

# sample TEXT 'name{labels}': its value, 0 when absent
sample() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' <<<"$1"
}

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply tests/fixtures/e2e/metrics-udp.yaml >/dev/null
# a sink on the outside host: no echo, no ICMP unreachable coming back; a
# line in sink.log per datagram it got
sink_log=$TOPO_DIR/sink.log
: >"$sink_log"
topo_bg in_ext timeout 120 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5000))
with open(sys.argv[1], "a", buffering=1) as log:
    while True:
        s.recv(65536)
        log.write("got\n")' "$sink_log"
wait_listen ext "" 5000 udp

out=$(scrape) ; rc=$?
check "GET /metrics on the default 127.0.0.1:9470 answers" [ "$rc" -eq 0 ]
check "promtool check metrics passes on a live scrape" quiet promtool check metrics <<<"$out"
for fam in segd_build_info segd_packets_total segd_bytes_total segd_dropped_packets_total \
	segd_audited_packets_total segd_rule_flows_total segd_blocklist_packets_total \
	segd_map_entries segd_map_capacity segd_events_lost_total segd_flows_active \
	segd_flow_log_lines_total segd_endpoints; do
	check "family $fam has HELP and TYPE" grep -q "^# TYPE $fam " <<<"$out"
done
counts=$(segctl status -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("%d/%d/%d" % (d["endpoints"], d["policies"], d["namespaces"]))')
got="$(sample "$out" segd_endpoints)/$(sample "$out" segd_policies)/$(sample "$out" segd_namespaces)"
check "endpoints/policies/namespaces as segctl status says ($got, $counts)" \
	holds '[ "$got" = "$counts" ] && [ "${got%%/*}" = 3 ]'
check "map capacity of segd_ct is the ABI's" [ "$(sample "$out" 'segd_map_capacity{map="segd_ct"}')" -eq 262144 ]
code=$(in_node python3 -c '
import urllib.request, urllib.error
try:
    urllib.request.urlopen("http://127.0.0.1:9470/other", timeout=3)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)')
check "another path is 404 (got $code)" [ "$code" = 404 ]

# N allowed datagrams (one flow) and M denied ones of SIZE payload bytes.
# Reason counters see the Ethernet frame (14 + 20 + 8 + SIZE), rule
# counters the IP packet (20 + 8 + SIZE); an allowed flow is decided once,
# every denied datagram is a decision of its own.
N=7 M=5 SIZE=100
FRAME=$((14 + 20 + 8 + SIZE)) IPLEN=$((20 + 8 + SIZE))
R1='{policy="shop/api-udp",rule="1",rule_name="udp-allowed"}' R2='{policy="shop/api-udp",rule="2",rule_name="udp-denied"}'
R0='{policy="default",rule="0"}'
series=("segd_packets_total{verdict=\"forwarded\"}" "segd_bytes_total{verdict=\"forwarded\"}"
	"segd_packets_total{verdict=\"dropped\"}" "segd_bytes_total{verdict=\"dropped\"}"
	"segd_dropped_packets_total{reason=\"policy-denied\"}"
	"segd_dropped_bytes_total{reason=\"policy-denied\"}"
	"segd_rule_flows_total$R1" "segd_rule_packets_total$R1" "segd_rule_bytes_total$R1"
	"segd_rule_flows_total$R2" "segd_rule_packets_total$R2" "segd_rule_bytes_total$R2"
	"segd_rule_flows_total$R0" "segd_packets_total{verdict=\"audit\"}")
want=($N $((N * FRAME)) $M $((M * FRAME)) $M $((M * FRAME))
      1 1 $IPLEN $M $M $((M * IPLEN)) 0 0)
# ARP or IPv6 neighbour traffic of the pod also counts as forwarded; the
# neighbours are warm once a datagram reached the sink, and a round with
# stray packets is run again (at most 3 rounds: a wrong count fails every one)
in_pod api python3 tools/probe.py send udp 203.0.113.10 5000 1 "$SIZE" >/dev/null
wait_until 10 lines_at_least "$sink_log" 1
# counted: every series moved by at least what was sent (the counters only
# grow; packets are counted as the kernel gets to them), then exactly
counted() {
	local i
	after=$(scrape)
	for i in "${!series[@]}"; do
		[ $(( $(sample "$after" "${series[$i]}") - $(sample "$before" "${series[$i]}") )) \
			-ge "${want[$i]}" ] || return 1
	done
}
for round in 1 2 3; do
	before=$(scrape)
	in_pod api python3 tools/probe.py send udp 203.0.113.10 5000 "$N" "$SIZE" >/dev/null
	in_pod api python3 tools/probe.py send udp 203.0.113.10 5001 "$M" "$SIZE" >/dev/null
	wait_until 10 counted
	bad=()
	for i in "${!series[@]}"; do
		d=$(( $(sample "$after" "${series[$i]}") - $(sample "$before" "${series[$i]}") ))
		[ "$d" -eq "${want[$i]}" ] || bad+=("${series[$i]}: +$d, want +${want[$i]}")
	done
	[ "${#bad[@]}" -eq 0 ] && break
	printf '# round %s: %s\n' "$round" "${bad[@]}"
done
check "deltas exact: forwarded/dropped/policy-denied/rules, packets and bytes (round $round)" \
	[ "${#bad[@]}" -eq 0 ]
check "promtool check metrics passes after traffic" quiet promtool check metrics <<<"$after"

# a blocklist shows up with its labels and counts its drops
segctl blocklist load c2-test tests/fixtures/e2e/c2-test.txt --category c2 >/dev/null
in_pod api python3 tools/probe.py send udp 203.0.113.10 5000 3 "$SIZE" >/dev/null
bl_drops() {
	out=$(scrape)
	[ "$(sample "$out" 'segd_blocklist_packets_total{list="c2-test",category="c2",action="drop"}')" -ge 3 ]
}
wait_until 10 bl_drops
check "blocklist c2-test counted 3 drops" \
	[ "$(sample "$out" 'segd_blocklist_packets_total{list="c2-test",category="c2",action="drop"}')" -eq 3 ]
check "blocklist bytes are IP bytes" \
	[ "$(sample "$out" 'segd_blocklist_bytes_total{list="c2-test",category="c2",action="drop"}')" -eq $((3 * IPLEN)) ]
denied_before=$(sample "$out" 'segd_dropped_packets_total{reason="policy-denied"}')

# --metrics-addr moves it, off disables it; the flow log reopens on SIGHUP
topo_stop_segd TERM
topo_start_segd --metrics-addr "[::1]:9471" --flow-log "$TOPO_DIR/flows.json" ||
	fail "segd restarts with --metrics-addr [::1]:9471"
out=$(scrape "[::1]:9471"); rc=$?
check "served on [::1]:9471" [ "$rc" -eq 0 ]
check "counters survive a segd restart (they are the kernel's)" \
	[ "$(sample "$out" 'segd_dropped_packets_total{reason="policy-denied"}')" -eq "$denied_before" ]
refute "nothing on the default address then" quiet scrape
check "flow log created 0640" [ "$(stat -c %a "$TOPO_DIR/flows.json" 2>/dev/null)" = 640 ]
mv "$TOPO_DIR/flows.json" "$TOPO_DIR/flows.json.1"
reload_segd
check "SIGHUP reopens the flow log at its path" [ -f "$TOPO_DIR/flows.json" ]
topo_stop_segd TERM
topo_start_segd --metrics-addr off || fail "segd restarts with --metrics-addr off"
refute "--metrics-addr off: nothing served" quiet scrape
check "segd runs on with /metrics off" quiet segctl status
e2e_finish
