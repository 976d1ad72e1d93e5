#!/usr/bin/env bash
# Domain blocklists: segd resolves the names through a DNS server of the
# test's own (dnsmasq in the outside namespace), blocks what they resolve
# to, and keeps it through a resolver outage.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

command -v dnsmasq >/dev/null || { fail "dnsmasq installed (tools/install-deps.sh)"; e2e_finish; exit 1; }
topo_create_node
topo_add_pod api 10.200.1.20
in_ext ip addr add 203.0.113.20/24 dev eth0
in_ext ip -6 addr add 2001:db8::20/64 dev eth0 nodad
dns_start() {
	in_ext dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=203.0.113.10 --port=53 --pid-file="$TOPO_DIR/dnsmasq.pid" \
		--address=/pool.minexmr.test/203.0.113.20 \
		--address=/pool.minexmr.test/2001:db8::20 \
		--address=/sinkholed.test/127.0.0.1 >"$TOPO_DIR/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	wait_listen ext "" 53 udp
}
dns_start
cfg=$TOPO_DIR/segd.yaml
printf 'resolvers: ["203.0.113.10"]\n' >"$cfg"
topo_start_segd -c "$cfg" || { fail "segd starts"; e2e_finish; exit 1; }
segctl endpoint add api -n shop --ip 10.200.1.20 --labels app=api --ifname "$(pod_if api)" >/dev/null
segctl attach up0 --role uplink >/dev/null
serve ext "" 443
allowed "before: api -> 203.0.113.20:443 (pool)" probe_tcp pod api 203.0.113.20 443

printf '# miner pools\npool.minexmr.test\nsinkholed.test\nnot a domain!\n' >"$TOPO_DIR/pools.txt"
out=$(segctl blocklist load pools "$TOPO_DIR/pools.txt" --category miner --format domains)
check "domain list loads with 2 domains ($out)" grep -q "2 domains" <<<"$out"
resolved() { segctl blocklist list | grep -qE "^pools +miner +drop +0 +2 +2 "; }
wait_until 10 resolved
out=$(segctl blocklist list)
check "both addresses of the pool resolved (A and AAAA), the sinkhole refused" \
	grep -qE "^pools +miner +drop +0 +2 +2 " <<<"$out"
bl_entries() {
	segctl status -o json | python3 -c '
import json, sys
print([m for m in json.load(sys.stdin)["maps"] if m["name"] == "segd_bl_exact"][0]["entries"])'
}
map_holds() { [ "$(bl_entries)" = "$1" ]; }
check "the kernel map holds both resolved addresses" wait_until 10 map_holds 2
check "the sinkholed answer was refused and logged" \
	wait_until 10 grep -q "sinkholed.test resolves to 127.0.0.1" "$TOPO_DIR/segd.log"
denied "resolved pool blocked: api -> 203.0.113.20:443" probe_tcp pod api 203.0.113.20 443
allowed "other outside host still reachable: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443
out=$(segctl blocklist test 2001:db8::20)
check "blocklist test finds the resolved IPv6 address" grep -q "^pools" <<<"$out"

# resolver outage: the list keeps its addresses, also across a reload
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
segctl blocklist load pools "$TOPO_DIR/pools.txt" --category miner --format domains >/dev/null
# the sleep is the test: the reload asks again at once, and segd gives up
# on the dead resolver within 2 attempts of 2 s (resolver.c); the list must
# come through that with its addresses
sleep 5
out=$(segctl blocklist list)
check "outage + reload: addresses kept" grep -qE "^pools +miner +drop +0 +2 +2 " <<<"$out"
denied "outage: pool still blocked" probe_tcp pod api 203.0.113.20 443

e2e_finish
