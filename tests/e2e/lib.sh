# shellcheck shell=bash
# lib.sh - assertions for the end-to-end tests. Source after setting -u.
# Each check prints "ok - ..." or "not ok - ..."; e2e_finish prints the
# counts and returns non-zero when anything failed.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$E2E_ROOT" || exit 1
# shellcheck source=../../tools/topology.sh
. "$E2E_ROOT/tools/topology.sh"

E2E_PASS=0
E2E_FAIL=0

pass() { E2E_PASS=$((E2E_PASS + 1)); echo "ok - $*"; }
fail() { E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok - $*"; }
# a server that never listens (serve, wait_listen) fails the test itself
topo_fail() { fail "$*"; }

# allowed "what" probe args...   (the probe must get through)
allowed() {
	local what=$1; shift
	if "$@"; then pass "allowed: $what"; else fail "allowed: $what (was blocked)"; fi
}

# denied "what" probe args...    (the probe must NOT get through)
denied() {
	local what=$1; shift
	if "$@"; then fail "denied: $what (got through)"; else pass "denied: $what"; fi
}

# check "what" command...        (command must exit 0)
check() {
	local what=$1; shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# holds 'TEST && TEST...': several conditions as one command, for check
# and refute. `check "what" [ A ] && [ B ]` would check A alone and run B
# outside the check, where its failure is lost.
holds() { eval "$1"; }

# refute "what" command...       (command must fail)
refute() {
	local what=$1; shift
	if "$@"; then fail "$what"; else pass "$what"; fi
}

# both CMD1... -- CMD2...: both commands succeed (for wait_until)
both() {
	local a=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	"${a[@]}" && "$@"
}

# quiet command...: run it without output
quiet() { "$@" >/dev/null 2>&1; }

# rc_and_match RC WANT PATTERN TEXT: exit code as wanted and TEXT matches
rc_and_match() {
	[ "$1" -eq "$2" ] && grep -qE -- "$3" <<<"$4"
}

# reload_segd: SIGHUP, and back once segd has gone through the config
# (re-read and re-synced, or rejected: a new "reload: ..." outcome in its log)
reload_segd() {
	local n
	n=$(_reloads)
	kill -HUP "$TOPO_SEGD_PID"
	wait_until 10 _reloads_above "$n"
}
_reloads() { grep -cE "reload: (config re-read|config rejected|re-sync failed)" "$TOPO_DIR/segd.log"; }
_reloads_above() { [ "$(_reloads)" -gt "$1" ]; }

# Streams (tools/probe.py stream): a line per exchange, "ok N" or "lost N".
# oks_after LOG N: how many exchanges after line N said ok
oks_after() { tail -n +$(($2 + 1)) "$1" 2>/dev/null | grep -c '^ok' || true; }
# streaming LOG N [K]: more than K (0) exchanges after line N said ok
streaming() { [ "$(oks_after "$1" "$2")" -gt "${3:-0}" ]; }
# stream_cut LOG N: no exchange after line N said ok, and there were at
# least 3 of them (waited for, bounded: the window was really watched)
stream_cut() {
	wait_until 10 lines_at_least "$1" $(($2 + 3)) && [ "$(oks_after "$1" "$2")" -eq 0 ]
}

# counter value of a reason from `segctl status -o json`
reason_packets() {
	segctl status -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["counters"].get(sys.argv[1], {}).get("packets", 0))' "$1"
}

# The demo node: three pods of a shop app and an outside host.
# setup_shop [SEGD ARGS...]: the node, pods web, api, db in namespace shop,
# segd (with the args), echo servers. In two halves for tests that need
# something running before segd starts.
setup_shop() {
	setup_shop_pods
	setup_shop_segd "$@"
}

setup_shop_pods() {
	topo_create_node
	topo_add_pod web 10.200.1.10 fd00:200::10
	topo_add_pod api 10.200.1.20 fd00:200::20
	topo_add_pod db 10.200.1.30 fd00:200::30
}

setup_shop_segd() {
	topo_start_segd "$@" || return 1
	segctl namespace set shop --labels team=shop >/dev/null
	segctl endpoint add web -n shop --ip 10.200.1.10 --ip fd00:200::10 \
		--labels app=web --ifname "$(pod_if web)" >/dev/null
	segctl endpoint add api -n shop --ip 10.200.1.20 --ip fd00:200::20 \
		--labels app=api --ifname "$(pod_if api)" >/dev/null
	segctl endpoint add db -n shop --ip 10.200.1.30 --ip fd00:200::30 \
		--labels app=db --ifname "$(pod_if db)" >/dev/null
	segctl attach up0 --role uplink >/dev/null
	serve pod web 80 && serve pod api 8080 && serve pod db 5432 &&
		serve ext "" 443 && serve ext "" 80
}

# dns_server HOSTS [DNSMASQ ARGS...]: a DNS server in the ext netns on
# 203.0.113.10:53 answering from the hosts file HOSTS (dnsmasq, as root:
# the test dir is private; SIGHUP to $TOPO_DIR/dnsmasq.pid re-reads it);
# DNS_PID is its pid. Returns once it listens; 1 when dnsmasq is missing
# or never listens (a failure of its own)
dns_server() {
	local hosts=$1; shift
	command -v dnsmasq >/dev/null || { fail "dnsmasq installed (tools/install-deps.sh)"; return 1; }
	in_ext dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address=203.0.113.10 --port=53 --addn-hosts="$hosts" "$@" \
		--user=root --pid-file="$TOPO_DIR/dnsmasq.pid" >"$TOPO_DIR/dnsmasq.log" 2>&1 &
	DNS_PID=$!
	wait_listen ext "" 53 udp
}

# every veth end of the topology, "WHERE WHO DEV": the uplink pair, then
# each pod's pair (for MTU and offload changes along every path)
veth_ends() {
	local p
	echo "node - up0"
	echo "ext - eth0"
	for p in "${TOPO_PODS[@]}"; do
		echo "node - $(pod_if "$p")"
		echo "pod $p eth0"
	done
}
# on_veths CMD ARGS...: CMD DEV ARGS... on every veth end, in its netns
on_veths() {
	local where who dev cmd=$1
	shift
	while read -r where who dev; do
		[ "$who" = - ] && who=""
		_run_in "$where" "$who" $cmd "$dev" "$@" >/dev/null || return 1
	done < <(veth_ends)
}

e2e_finish() {
	echo "# $(basename "$0"): $E2E_PASS passed, $E2E_FAIL failed"
	[ "$E2E_FAIL" -eq 0 ]
}
