#!/usr/bin/env bash
# Detection of new destinations (issue 14): once a workload identity has
# been learned for `new_destination_after`, a flow to an outside address
# it never reached (by address or by domain name) raises `new-destination`
# (T1105, Ingress Tool Transfer: what a compromised pod does first is
# fetch its tools). The same address on another port, a replica of the
# same identity, and an identity still in its learning period raise
# nothing.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
alerts_of() {
	segctl alerts -o json | python3 -c '
import json, sys
items = [json.loads(l) for l in sys.stdin if l.strip()]
print(json.dumps([a for a in items if a["name"] == sys.argv[1] and a["kind"] == "new-destination"]))' "$1"
}
count_of() { alerts_of "$1" | json 'len(d)'; }
has_new_dest() { [ "$(count_of "$1")" -ge 1 ]; }
# connect POD ADDR PORT: one TCP connection, closed at once
connect() { in_pod "$1" python3 -c '
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()' "$2" "$3"; }
# learned ADDR: what segd learned for shop names the address
learned() { segctl recommend -n shop 2>/dev/null | grep -qF "$1"; }

cfg=$TOPO_DIR/segd.yaml
setup_shop_pods
topo_add_pod web2 10.200.1.11
topo_add_pod fresh 10.200.1.12
mkdir -p "$TOPO_DIR"
printf 'flow_interval: 1\ndetect:\n  new_destination_after: 2s\n' >"$cfg"
setup_shop_segd -c "$cfg" || { fail "setup"; e2e_finish; exit 1; }
segctl endpoint add web2 -n shop --ip 10.200.1.11 --labels app=web \
	--ifname "$(pod_if web2)" >/dev/null
segctl endpoint add fresh -n shop --ip 10.200.1.12 --labels app=fresh \
	--ifname "$(pod_if fresh)" >/dev/null
in_ext ip addr add 203.0.113.20/24 dev eth0
serve ext "" 8443

check "web reaches its usual outside peer 203.0.113.10:443" connect web 203.0.113.10 443
check "the edge is learned" wait_until 5 learned 203.0.113.10
sleep 2.5   # the learning period (2 s) of app=web is over
check "web -> 203.0.113.10:80 (known address, new port)" connect web 203.0.113.10 80
check "web2 (a replica: same identity) -> 203.0.113.10:443" connect web2 203.0.113.10 443
check "fresh (an identity still learning) -> 203.0.113.20:443" connect fresh 203.0.113.20 443
sleep 2.5   # two flow passes: records of all three are in
check "a known address on a new port: no alert" [ "$(count_of web)" = 0 ]
check "a replica of a learned identity: no alert" [ "$(count_of web2)" = 0 ]
check "an identity in its learning period: no alert" [ "$(count_of fresh)" = 0 ]

check "web -> 203.0.113.20:8443, never seen for app=web" connect web 203.0.113.20 8443
check "new-destination alert for web" wait_until 5 has_new_dest web
a=$(alerts_of web)
check "technique T1105" [ "$(json 'd[0]["technique"]' <<<"$a")" = T1105 ]
check "the target is the new address and port" \
	[ "$(json 'd[0]["targets"][0]["target"]' <<<"$a")" = "203.0.113.20:8443/tcp" ]
check "action alert (the default)" [ "$(json 'd[0]["action"]' <<<"$a")" = alert ]
check "web -> 203.0.113.20:8443 again: the same destination alerts once" connect web 203.0.113.20 8443
sleep 2.5
check "still one new-destination alert for web" [ "$(count_of web)" = 1 ]
e2e_finish
