#!/usr/bin/env bash
# Enforcement with real TCP, UDP and ICMP, IPv4 and IPv6, between pod
# namespaces and an outside host, under policies/demo.yaml.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop || { fail "setup"; e2e_finish; exit 1; }

# before any policy: nothing selects the pods, so all is allowed
allowed "no policy: web -> db tcp/5432" probe_tcp pod web 10.200.1.30 5432
allowed "no policy: db -> outside tcp/443" probe_tcp pod db 203.0.113.10 443

out=$(segctl apply policies/demo.yaml) ; rc=$?
check "apply demo.yaml exits 0" [ "$rc" -eq 0 ]
check "apply reports created policies" grep -q "segmentpolicy.segd.io/shop-web created" <<<"$out"

# allowed flows (each also proves replies pass back through conntrack)
allowed "outside -> web tcp/80" probe_tcp ext "" 10.200.1.10 80
allowed "web -> api tcp/8080" probe_tcp pod web 10.200.1.20 8080
allowed "api -> db tcp/5432" probe_tcp pod api 10.200.1.30 5432
allowed "api -> outside tcp/443" probe_tcp pod api 203.0.113.10 443
allowed "web -> api ping" probe_ping pod web 10.200.1.20
allowed "IPv6 web -> api tcp/8080" probe_tcp pod web fd00:200::20 8080
allowed "IPv6 api -> db tcp/5432" probe_tcp pod api fd00:200::30 5432
allowed "IPv6 web -> api ping" probe_ping pod web fd00:200::20
allowed "IPv6 outside -> web tcp/80" probe_tcp ext "" fd00:200::10 80

# denied flows
denied "web -> db tcp/5432" probe_tcp pod web 10.200.1.30 5432
denied "db -> outside tcp/443" probe_tcp pod db 203.0.113.10 443
denied "outside -> api tcp/8080" probe_tcp ext "" 10.200.1.20 8080
denied "web -> outside tcp/80" probe_tcp pod web 203.0.113.10 80
denied "api -> web tcp/80 (reverse of an allowed pair)" probe_tcp pod api 10.200.1.10 80
denied "db -> api tcp/8080 (new flow against an allowed reply direction)" probe_tcp pod db 10.200.1.20 8080
denied "web -> api udp/8080 (port allowed for TCP only)" probe_udp pod web 10.200.1.20 8080
denied "api -> db udp/5432" probe_udp pod api 10.200.1.30 5432
denied "web -> db ping" probe_ping pod web 10.200.1.30
denied "outside -> db ping" probe_ping ext "" 10.200.1.30
denied "IPv6 web -> db tcp/5432" probe_tcp pod web fd00:200::30 5432
denied "IPv6 db -> outside tcp/443" probe_tcp pod db 2001:db8::10 443
denied "IPv6 outside -> api tcp/8080" probe_tcp ext "" fd00:200::20 8080

# anti-spoofing: web may only send from its own addresses
in_pod web ip addr add 10.200.1.99/32 dev eth0
before=$(reason_packets spoofed-source)
denied "web pinging api from a spoofed source" quiet in_pod web ping -c 1 -W 1 -I 10.200.1.99 10.200.1.20
after=$(reason_packets spoofed-source)
check "spoofed-source counter grew ($before -> $after)" [ "$after" -gt "$before" ]

# per-flow counters are exact: 5 echo requests of 84 bytes (IP header
# included) and their 5 replies, on one flow
quiet in_pod web ping -c 5 -i 0.2 -W 1 10.200.1.20
segctl flows --endpoint web -o json | python3 -c '
import json, sys
flows = json.load(sys.stdin)["flows"]
hit = [f for f in flows if f["proto"] == "icmp" and f["dst_ip"] == "10.200.1.20"
       and f["packets"] == 5 and f["bytes"] == 420
       and f["reply_packets"] == 5 and f["reply_bytes"] == 420
       and f["rule"].startswith("shop/shop-web#")]
sys.exit(0 if hit else 1)'
check "flows: ping web -> api counted 5/420 each way under shop-web's rule" [ $? -eq 0 ]
out=$(segctl flows -n shop)
check "flows table lists the web -> api tcp flow" grep -qE "shop/web +egress +tcp +10.200.1.10:[0-9]+ +10.200.1.20:8080" <<<"$out"

# counters and status
denied_pkts=$(reason_packets default-denied)
check "default-denied counter counts drops ($denied_pkts)" [ "$denied_pkts" -gt 0 ]
st=$(segctl status)
check "status lists tc programs on web's interface" grep -q "$(pod_if web).*tc-ingress" <<<"$st"
# uplink_hook: auto puts the early drop at tc ingress on a veth uplink
check "status lists the uplink's early drop" grep -q "up0.*tc-ingress(uplink)" <<<"$st"

e2e_finish
