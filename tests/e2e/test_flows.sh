#!/usr/bin/env bash
# Flow records with real traffic: the JSON flow log and the IPFIX records
# that Debian's nfcapd collects (read back with nfdump) add up to exactly
# what was sent, per flow and per direction; drops are reported from the
# ring-buffer events and name the endpoint; a flow that ends gets a final
# record with its totals; `segctl flows` filters by verdict and endpoint.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

flowlog="$TOPO_DIR/flows.json"
capdir="$TOPO_DIR/nfcapd"
mkdir -p "$capdir"

setup_shop_pods
# the collector first: segd sends its templates with the first records
ip netns exec "$TOPO_NODE" nfcapd -p 4739 -b 127.0.0.1 -w "$capdir" -t 3600 \
	>"$TOPO_DIR/nfcapd.log" 2>&1 &
nfcapd_pid=$!
wait_listen node "" 4739 udp
setup_shop_segd --flow-log "$flowlog" --flow-interval 1 \
	--ipfix-collector 127.0.0.1:4739 || { fail "setup"; e2e_finish; exit 1; }
check "demo and api-udp policies applied" \
	quiet segctl apply policies/demo.yaml tests/fixtures/e2e/metrics-udp.yaml
web_if=$(in_node cat "/sys/class/net/$(pod_if web)/ifindex")
# followers, started before the traffic: JSON lines of namespace shop's
# drops, and the text form of everything api saw (stopped below; timeout
# only bounds them)
ip netns exec "$TOPO_NODE" timeout 120 env SEGD_SOCKET="$TOPO_SOCK" "$SEGCTL_BIN" \
	flows --follow --verdict deny -n shop -o json >"$TOPO_DIR/follow.json" 2>&1 &
follow_json=$!
ip netns exec "$TOPO_NODE" timeout 120 env SEGD_SOCKET="$TOPO_SOCK" "$SEGCTL_BIN" \
	flows --follow --endpoint api >"$TOPO_DIR/follow.txt" 2>&1 &
follow_txt=$!
# both follow before the traffic starts: a denied datagram of api's (UDP
# port 5002, which no check below counts) reaches both of them
marker() { grep -q '"dst_port": *5002[,}]' "$TOPO_DIR/follow.json" && grep -q ':5002 ' "$TOPO_DIR/follow.txt"; }
send_marker() {
	in_pod api python3 tools/probe.py send udp 203.0.113.10 5002 1 10 >/dev/null
	wait_until 3 marker
}
check "both followers follow (api's denied marker datagram reached them)" wait_until 20 send_marker
api_if=$(in_node cat "/sys/class/net/$(pod_if api)/ifindex")

# allowed: 5 echo requests of 84 IP bytes web -> api, 5 replies
quiet in_pod web ping -c 5 -i 0.2 -W 1 10.200.1.20
# allowed: one TCP connection web -> api:8080 that ends (FIN)
allowed "web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
# denied by rule shop/api-udp#2: 7 datagrams of 100 payload bytes (128 IP)
in_pod api python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(7):
    s.sendto(b"x" * 100, ("203.0.113.10", 5001))'
# a listed outside address: dropped as blocklisted, naming web
printf '203.0.113.10\n' >"$TOPO_DIR/pool.txt"
quiet segctl blocklist load pool "$TOPO_DIR/pool.txt" --category miner
denied "web -> listed 203.0.113.10:443" probe_tcp pod web 203.0.113.10 443
quiet segctl blocklist del pool

# the TCP flow ends 10 s after its FIN (the conntrack lifetime), drop
# flows after a second without drops: wait for their final records
finals() {
	python3 - "$flowlog" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def final(**kw):
    return any(r.get("final") and all(r.get(k) == v for k, v in kw.items()) for r in recs)
sys.exit(0 if final(observer="shop/web", proto="tcp", dst_port=8080)
         and final(observer="shop/api", proto="udp", dst_port=5001)
         and final(observer="shop/web", dst_ip="203.0.113.10", dst_port=443) else 1)
EOF
}
wait_until 30 finals

python3 - "$flowlog" <<'EOF' >"$TOPO_DIR/flowcheck.txt" 2>&1
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
# the log's records of their own kind (detection alerts) say so
alerts = [r for r in lines if r.get("type") == "alert"]
recs = [r for r in lines if "type" not in r]
print("other records", len(lines) - len(recs) - len(alerts),
      "alerts", sorted({(a["kind"], a["name"]) for a in alerts}))
need = ["time", "verdict", "src_ip", "dst_ip", "proto", "packets", "bytes",
        "reply_packets", "reply_bytes", "source", "destination", "observer"]
bad = [r for r in recs if any(k not in r for k in need)]
print("records", len(recs), "missing-fields", len(bad))

def flow(**kw):
    return [r for r in recs if all(r.get(k) == v for k, v in kw.items())]

def sums(rs):
    return tuple(sum(r[k] for r in rs) for k in
                 ("packets", "bytes", "reply_packets", "reply_bytes"))

icmp = flow(observer="shop/web", proto="icmp", dst_ip="10.200.1.20")
print("icmp-web", sums(icmp), {r["verdict"] for r in icmp},
      {r.get("policy", "")[:13] for r in icmp},
      {r["source"].get("name") for r in icmp}, {r["destination"].get("name") for r in icmp})
icmp_api = flow(observer="shop/api", proto="icmp", src_ip="10.200.1.10")
print("icmp-api", sums(icmp_api), {r["direction"] for r in icmp_api})
tcp = flow(observer="shop/web", proto="tcp", dst_ip="10.200.1.20", dst_port=8080)
fin = [r for r in tcp if r.get("final")]
print("tcp-final", len(fin), fin and fin[0]["total_packets"] == sums(tcp)[0]
      and fin[0]["total_reply_bytes"] == sums(tcp)[3] and sums(tcp)[0] >= 3)
udp = flow(observer="shop/api", proto="udp", dst_port=5001)
print("udp-denied", sums(udp)[:2], {r["verdict"] for r in udp},
      {r.get("drop_reason") for r in udp}, {r.get("policy") for r in udp},
      any(r.get("final") for r in udp))
bl = flow(observer="shop/web", dst_ip="203.0.113.10", dst_port=443)
print("blocklisted", {r["verdict"] for r in bl}, {r.get("drop_reason") for r in bl},
      {r.get("blocklist") for r in bl}, sums(bl)[0] >= 1)
EOF
res=$(cat "$TOPO_DIR/flowcheck.txt")
echo "$res" | sed 's/^/# /'
check "every flow-log record has the required fields" grep -q "missing-fields 0$" <<<"$res"
check "the log holds flow records and alert records only" grep -q "^other records 0 " <<<"$res"
check "flow log: ping web -> api is 5/420 each way, forwarded under shop/shop-web" \
	grep -qF "icmp-web (5, 420, 5, 420) {'forwarded'} {'shop/shop-web'} {'web'} {'api'}" <<<"$res"
check "flow log: api's hook reports the same ping as ingress, 5/420 each way" \
	grep -qF "icmp-api (5, 420, 5, 420) {'ingress'}" <<<"$res"
check "flow log: the ended TCP flow has a final record with its totals" \
	grep -qF "tcp-final 1 True" <<<"$res"
check "flow log: 7 denied datagrams = 7 packets, 896 bytes, dropped by shop/api-udp#2" \
	grep -qF "udp-denied (7, 896) {'dropped'} {'policy-denied'} {'shop/api-udp#2'} True" <<<"$res"
check "flow log: the blocklisted connection is a drop naming web and the list" \
	grep -qF "blocklisted {'dropped'} {'blocklisted'} {'pool'} True" <<<"$res"

# the followers saw the records as they were made: once the last one of
# api's denied datagrams reached both, they are stopped
udp_final() {
	grep '"dst_port": *5001[,}]' "$TOPO_DIR/follow.json" | grep -q '"final": *true' &&
		grep -qE ':5001 .*\(ended\)$' "$TOPO_DIR/follow.txt"
}
wait_until 10 udp_final
kill -TERM "$follow_json" "$follow_txt" 2>/dev/null
wait "$follow_json" "$follow_txt"
res=$(python3 - "$TOPO_DIR/follow.json" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
udp = [r for r in recs if r["proto"] == "udp" and r.get("dst_port") == 5001]
print("verdicts", sorted({r["verdict"] for r in recs}), "udp", sum(r["packets"] for r in udp))
EOF
)
check "flows --follow -o json --verdict deny: only drops, the 7 datagrams among them ($res)" \
	grep -qF "verdicts ['dropped'] udp 7" <<<"$res"
check "flows --follow --endpoint api: text lines of api's flows" \
	grep -qE "dropped +shop/api egress udp 10.200.1.20:[0-9]+ -> 203.0.113.10:5001 " "$TOPO_DIR/follow.txt"
refute "flows --follow --endpoint api: nothing of web's" grep -q "shop/web" "$TOPO_DIR/follow.txt"

# segctl flows: the same flows, filtered
out=$(segctl flows --verdict deny -n shop -o json)
check "segctl flows --verdict deny: the denied UDP flow with 7 packets" python3 -c '
import json, sys
f = json.loads(sys.argv[1])["flows"]
ok = [x for x in f if x.get("dst_port") == 5001 and x["packets"] == 7 and x["endpoint"] == "shop/api"]
sys.exit(0 if ok and all(x["verdict"] == "dropped" for x in f) else 1)' "$out"
out=$(segctl flows --verdict allow --endpoint web -o json)
check "segctl flows --verdict allow --endpoint web: the ping, 5/420 each way" python3 -c '
import json, sys
f = json.loads(sys.argv[1])["flows"]
ok = [x for x in f if x["proto"] == "icmp" and x["packets"] == 5 and x["bytes"] == 420
      and x["reply_packets"] == 5 and x["reply_bytes"] == 420]
sys.exit(0 if ok and all(x["endpoint"] == "shop/web" for x in f) else 1)' "$out"
rc_out=$(segctl flows --verdict maybe 2>&1); rc=$?
check "segctl flows --verdict maybe is refused (exit $rc)" rc_and_match "$rc" 1 "allow, deny or audit" "$rc_out"

# /metrics counts what was exported: every record went to the log and to
# IPFIX (the log's other lines are alerts), and the events segd read are
# the events the kernel sent
m=$(in_node python3 -c '
import urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode()
v = {l.split()[0]: float(l.split()[1]) for l in t.splitlines() if l and l[0] != "#"}
alerts = sum(n for k, n in v.items() if k.startswith("segd_alerts_total"))
print(int(v["segd_flow_records_total"]), int(v["segd_flow_log_lines_total"] - alerts),
      int(v["segd_ipfix_records_total"]), int(v["segd_events_sent_total"]),
      int(v["segd_events_read_total"]))')
read -r m_rec m_lines m_ipfix m_sent m_read <<<"$m"
check "metrics: flow records = flow-log lines = IPFIX records ($m_rec/$m_lines/$m_ipfix)" \
	holds '[ "$m_rec" -gt 0 ] && [ "$m_rec" = "$m_lines" ] && [ "$m_rec" = "$m_ipfix" ]'
check "metrics: segd read every event the kernel sent ($m_read of $m_sent)" \
	holds '[ "$m_sent" -ge 9 ] && [ "$m_read" = "$m_sent" ]'

# IPFIX: what nfcapd collected, read back by nfdump; SIGTERM makes it write
# its file, once it has read every datagram
rx_queue_empty() { [ "$(in_node ss -Hlun 'sport = :4739' | awk '{ print $2 }')" = 0 ]; }
wait_until 10 rx_queue_empty
kill -TERM "$nfcapd_pid" 2>/dev/null; wait "$nfcapd_pid" 2>/dev/null
capfile=$(ls "$capdir"/nfcapd.2* 2>/dev/null | head -1)
check "nfcapd wrote a capture file" [ -n "$capfile" ]
nfdump -r "$capfile" -o json >"$TOPO_DIR/nfdump.json" 2>"$TOPO_DIR/nfdump.err"
res=$(python3 - "$TOPO_DIR/nfdump.json" "$web_if" "$api_if" <<'EOF'
import json, sys
text = open(sys.argv[1]).read().strip()
rows = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
web, api = int(sys.argv[2]), int(sys.argv[3])
def pick(**kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
def sums(rs):
    return tuple(sum(r.get(k, 0) for r in rs) for k in ("in_packets", "in_bytes", "out_packets", "out_bytes"))
print("rows", len(rows))
print("icmp", sums(pick(proto=1, src4_addr="10.200.1.10", dst4_addr="10.200.1.20", input_snmp=web)))
print("udp", sums(pick(proto=17, src4_addr="10.200.1.20", dst_port=5001, input_snmp=api))[:2])
EOF
)
echo "$res" | sed 's/^/# /'
check "IPFIX via nfdump: the ping is 5/420 in, 5/420 out on web's interface" \
	grep -qF "icmp (5, 420, 5, 420)" <<<"$res"
check "IPFIX via nfdump: the denied datagrams are 7 packets, 896 bytes" \
	grep -qF "udp (7, 896)" <<<"$res"

e2e_finish
