#!/usr/bin/env bash
# Blocklist prefixes with real traffic: the outside host also speaks from
# 198.51.100.10 (its connections to the pods come from there), and lists
# holding that address by a /24 (the /24 hash), a /16 (the /16 array) or a
# /25 (the LPM trie behind the prefix gate) drop it on the uplink; across
# lists the longest prefix decides; an exception wins; `segctl status`
# shows the /24 hash's keys.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
F=$TOPO_DIR

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply policies/demo.yaml >/dev/null
in_ext ip addr add 198.51.100.10/32 dev eth0
in_ext ip route replace 10.200.0.0/16 via 203.0.113.1 src 198.51.100.10
in_node ip route add 198.51.100.0/24 via 203.0.113.10

list() { # NAME ACTION ENTRY...
	local name=$1 action=$2; shift 2
	printf '%s\n' "$@" >"$F/$name.txt"
	segctl blocklist load "$name" "$F/$name.txt" --category c2 --action "$action" >/dev/null
}
list_packets() {
	segctl blocklist list -o json | python3 -c '
import json, sys
print(sum(l["packets"] for l in json.load(sys.stdin)["items"] if l["name"] == sys.argv[1]))' "$1"
}
in_web() { probe_tcp ext "" 10.200.1.10 80; }

allowed "198.51.100.10 -> web:80 before any list (policy allows the world)" in_web
list nets drop 198.51.100.0/24
before=$(reason_packets blocklisted)
denied "/24 listed: 198.51.100.10 -> web:80 dropped" in_web
check "blocklisted drops counted" [ "$(reason_packets blocklisted)" -gt "$before" ]
out=$(segctl status)
check "status shows the /24 hash with 1 key" grep -qE "^segd_bl_net24 +1 " <<<"$out"
list nets drop 198.51.0.0/16
denied "/16 listed: dropped" in_web
list nets drop 198.48.0.0/12
denied "/12 listed: dropped" in_web
list nets drop 198.51.100.0/25
denied "/25 listed (the trie): dropped" in_web
list nets drop 198.51.100.128/25
allowed "the other /25 listed: passes" in_web

# the longest prefix decides, whichever list holds it
list wide audit 198.51.0.0/16
list nets drop 198.51.100.0/24
denied "drop /24 inside an audit /16: dropped" in_web
segctl blocklist del nets >/dev/null
before=$(list_packets wide)
allowed "the audit /16 alone: passes" in_web
check "the audit /16 counted ($before -> $(list_packets wide))" [ "$(list_packets wide)" -gt "$before" ]
list nets audit 198.51.100.0/24
list wide drop 198.51.0.0/20 198.51.96.0/20
denied "drop /20 around an audit /24: dropped (drop wins)" in_web
list nets drop 198.51.100.0/28
list wide audit 198.51.0.0/16
denied "drop /28 (trie) inside an audit /16: dropped" in_web

# an exception wins over every prefix
list nets drop 198.51.100.0/24
printf '198.51.100.10\n' >"$F/partner.txt"
segctl blocklist load partner "$F/partner.txt" --category exception >/dev/null
allowed "exception inside the listed /24: passes" in_web
segctl blocklist del partner >/dev/null
denied "exception removed: dropped again" in_web

segctl blocklist del nets >/dev/null
segctl blocklist del wide >/dev/null
allowed "lists deleted: passes" in_web
out=$(segctl status)
check "status: the /24 hash is empty again" grep -qE "^segd_bl_net24 +0 " <<<"$out"

e2e_finish
