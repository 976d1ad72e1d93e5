#!/usr/bin/env bash
# Blocklists with real traffic: a listed outside address is dropped in both
# directions even where policy allows it, established flows to it are cut,
# exceptions and audit mode work, lists survive a restart; Stratum logins
# from a pod are cut while ordinary JSON passes.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
F=tests/fixtures/e2e

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply policies/demo.yaml >/dev/null
XMRIG='{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4AdUndXHHZ","pass":"x","agent":"XMRig/6.21.0"}}'
SUBSCRIBE='{"params": ["user.worker", "x"], "id": 2, "method":  "mining.subscribe"}'
ORDINARY='{"id":1,"method":"getblock","params":[]}'

# Stratum: the first payload of an allowed egress flow decides
allowed "api -> outside:443 ordinary JSON" probe_tcp pod api 203.0.113.10 443 "$ORDINARY"
denied "api -> outside:443 XMRig login cut" probe_tcp pod api 203.0.113.10 443 "$XMRIG"
denied "api -> outside:443 mining.subscribe (spaced, reordered) cut" probe_tcp pod api 203.0.113.10 443 "$SUBSCRIBE"
check "stratum-mining drops counted" [ "$(reason_packets stratum-mining)" -gt 0 ]
allowed "api -> outside:443 ordinary JSON still fine afterwards" probe_tcp pod api 203.0.113.10 443 "$ORDINARY"
out=$(segctl namespace set shop --stratum audit)
check "namespace set --stratum audit" grep -q "stratum: audit" <<<"$out"
before=$(reason_packets stratum-audit)
allowed "stratum audit: XMRig login passes" probe_tcp pod api 203.0.113.10 443 "$XMRIG"
check "stratum audit: counted ($before -> $(reason_packets stratum-audit))" [ "$(reason_packets stratum-audit)" -gt "$before" ]
segctl namespace set shop --stratum off >/dev/null
before=$(reason_packets stratum-audit)
allowed "stratum off: XMRig login passes" probe_tcp pod api 203.0.113.10 443 "$XMRIG"
check "stratum off: not counted" [ "$(reason_packets stratum-audit)" -eq "$before" ]
segctl namespace set shop --stratum drop >/dev/null
denied "stratum drop again: XMRig login cut" probe_tcp pod api 203.0.113.10 443 "$XMRIG"
out=$(segctl get namespaces)
check "get namespaces shows the mode" grep -qE "^shop +drop " <<<"$out"

# a long-lived flow to the future C2 address
tlog=$TOPO_DIR/tcp.log
topo_bg in_pod api python3 tools/probe.py stream tcp 203.0.113.10 443 "$tlog" 30
check "stream api -> outside flows before the list" wait_until 10 streaming "$tlog" 0

out=$(segctl blocklist load c2-test $F/c2-test.txt --category c2 2>&1); rc=$?
check "load exits 0" [ "$rc" -eq 0 ]
check "load reports 2 entries ($out)" grep -q "2 entries" <<<"$out"
check "bad line reported with its number" grep -q "line 3: not-an-address" <<<"$out"
check "private range refused with its number" grep -qE "line 4: 10.0.0.0/8: refused" <<<"$out"
# the sleep is the test: the live flow for 1.5 s, nothing gets through
# (2 lines of slack for exchanges under way)
n=$(wc -l <"$tlog"); sleep 1.5
check "established flow to the listed address cut" stream_cut "$tlog" $((n + 2))
denied "egress: api -> listed 203.0.113.10:443 (policy allows it)" probe_tcp pod api 203.0.113.10 443
denied "ingress: listed 203.0.113.10 -> web:80 (policy allows world)" probe_tcp ext "" 10.200.1.10 80
denied "IPv6 ingress: listed 2001:db8::10 -> web:80" probe_tcp ext "" fd00:200::10 80
check "blocklisted drops counted" [ "$(reason_packets blocklisted)" -gt 0 ]
out=$(segctl blocklist list)
check "list shows the list with dropped packets" grep -qE "^c2-test +c2 +drop +2 +0 +0 +[1-9]" <<<"$out"
out=$(segctl blocklist test 203.0.113.10)
check "test names list, entry and line" grep -qE "c2-test +c2 +drop +203.0.113.10(/32)? +2" <<<"$out"
out=$(segctl blocklist test 198.51.100.1)
check "test: unlisted address" grep -q "on no list" <<<"$out"

# an exception overrides every list
segctl blocklist load partner $F/exception.txt --category exception >/dev/null
allowed "exception: api -> 203.0.113.10:443 again" probe_tcp pod api 203.0.113.10 443
segctl blocklist del partner >/dev/null
denied "exception removed: dropped again" probe_tcp pod api 203.0.113.10 443

# audit: counted, never dropped
segctl blocklist load c2-test $F/c2-test.txt --category c2 --action audit >/dev/null
allowed "audit list: api -> 203.0.113.10:443 passes" probe_tcp pod api 203.0.113.10 443
before=$(segctl blocklist list -o json | python3 -c 'import json,sys; print([l for l in json.load(sys.stdin)["items"] if l["name"]=="c2-test"][0]["packets"])')
probe_tcp pod api 203.0.113.10 443 >/dev/null
after=$(segctl blocklist list -o json | python3 -c 'import json,sys; print([l for l in json.load(sys.stdin)["items"] if l["name"]=="c2-test"][0]["packets"])')
check "audit hits counted ($before -> $after)" [ "$after" -gt "$before" ]

# survives a restart
segctl blocklist load c2-test $F/c2-test.txt --category c2 >/dev/null
topo_stop_segd TERM
denied "segd stopped: still dropped" probe_tcp pod api 203.0.113.10 443
topo_start_segd || fail "segd restarts"
out=$(segctl blocklist list)
check "list restored after restart" grep -q "^c2-test" <<<"$out"
denied "after restart: still dropped" probe_tcp pod api 203.0.113.10 443

# expiry and deletion
segctl blocklist load c2-test $F/c2-test.txt --category c2 --expires 1s >/dev/null
listed() { segctl blocklist list | grep -q "^$1"; }
wait_until 15 not listed c2-test
out=$(segctl blocklist list)
refute "expired list no longer listed" grep -q "^c2-test" <<<"$out"
allowed "expired: api -> 203.0.113.10:443 allowed again" probe_tcp pod api 203.0.113.10 443

# real feed samples load as published
out=$(segctl blocklist load firehol tests/fixtures/blocklists/firehol_level1.netset.sample --category custom)
check "FireHOL level1: 0.0.0.0/8 and 10.0.0.0/8 refused, the rest loaded" \
	rc_and_match 0 0 "6 entries.*" "$out"
check "FireHOL level1: refusals name lines 35 and 41" bash -c 'grep -q "line 35" <<<"$0" && grep -q "line 41" <<<"$0"' "$out"
segctl blocklist load feodo tests/fixtures/blocklists/feodo_ipblocklist.csv.sample --category c2 >/dev/null
check "Feodo CSV loads" [ $? -eq 0 ]
err=$(segctl blocklist load certs tests/fixtures/blocklists/sslbl_sslblacklist.csv.sample --category c2 2>&1 >/dev/null); rc=$?
check "SSLBL certificate list refused (exit $rc)" rc_and_match "$rc" 1 "certificate|fingerprint" "$err"
segctl blocklist del firehol >/dev/null && segctl blocklist del feodo >/dev/null
check "lists deleted" [ "$(segctl blocklist list | grep -c -E '^(firehol|feodo)')" -eq 0 ]

e2e_finish
