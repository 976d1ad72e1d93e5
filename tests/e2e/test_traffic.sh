#!/usr/bin/env bash
# Real programs' traffic passes whole, in every direction, under a policy
# that allows exactly these flows (tests/fixtures/e2e/traffic.yaml), with
# the uplink's early drop where segd puts it (uplink_hook: auto, on this
# veth uplink tc ingress), then as generic and as native XDP:
#   iperf3 TCP both ways, pod <-> outside and pod <-> pod, IPv4 and IPv6;
#   HTTP bodies of 4 MB, GET and PUT, checked by sha256 (curl);
#   UDP, 1400-byte datagrams at 200 Mbit/s, < 1 % loss;
#   MTU 9000 on every link of the path (jumbo pings with DF, 8900-byte UDP);
#   GRO/GSO/TSO off, checksum offload off, and back on.
# Not one packet of it is dropped: every drop reason stays at 0.
# Throughput is printed, never asserted (tools/bench/throughput.sh measures).
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

setup_shop || { fail "setup"; e2e_finish; exit 1; }
segctl apply tests/fixtures/e2e/traffic.yaml >/dev/null ||
	{ fail "apply traffic.yaml"; e2e_finish; exit 1; }

WWW=$TOPO_DIR/www
mkdir -p "$WWW"
head -c $((4 << 20)) /dev/urandom >"$WWW/blob"
BLOB_SHA=$(sha256sum <"$WWW/blob" | cut -d' ' -f1)

for who in "pod web" "pod api" "ext -"; do
	set -- $who
	w=$2; [ "$w" = - ] && w=""
	topo_bg _run_in "$1" "$w" iperf3 -s -p 5201
	topo_bg _run_in "$1" "$w" python3 "$TOPO_TOOLS/probe.py" http 8000 "$WWW"
	wait_listen "$1" "$w" 5201 && wait_listen "$1" "$w" 8000 ||
		{ fail "servers listen in $1 $w"; e2e_finish; exit 1; }
done

# ---- helpers ----------------------------------------------------------------
# iperf3 JSON -> "bytes_sent bytes_received gbit_per_s lost_percent"
iperf_summary() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("0 0 0 100"); sys.exit()
e = d.get("end", {})
if "sum_sent" in e:
    s, r = e["sum_sent"], e["sum_received"]
    print(s["bytes"], r["bytes"], "%.2f" % (r["bits_per_second"] / 1e9), 0)
else:
    s = e.get("sum", {})
    print(s.get("bytes", 0), s.get("bytes", 0),
          "%.2f" % (s.get("bits_per_second", 0) / 1e9),
          "%.3f" % s.get("lost_percent", 100))'
}

# tcp_bulk LABEL WHERE WHO ADDR [iperf3 args]: completes (the result
# exchange too: a dropped 324-byte result message used to hang it) and the
# receiver counted at least 90 % of what the sender wrote (iperf3 stops
# counting at the end with bytes still in flight: at 15 Gbit/s that is
# ~1 % of a 1 s run; TCP delivers all of it or fails, the HTTP bodies'
# sha256 checks integrity)
tcp_bulk() {
	local what=$1 where=$2 who=$3 addr=$4 json sent got gbps _l
	shift 4
	json=$(_run_in "$where" "$who" timeout 30 iperf3 -J -c "$addr" -p 5201 \
		-t "${IPERF_SECONDS:-1}" --connect-timeout 3000 "$@")
	read -r sent got gbps _l < <(iperf_summary <<<"$json")
	if [ "$got" -gt $((1 << 20)) ] && [ "$got" -ge $((sent * 90 / 100)) ]; then
		pass "TCP $what: $gbps Gbit/s, $got of $sent bytes"
	else
		fail "TCP $what: $got of $sent bytes arrived"
	fi
}

# udp_rate LABEL WHERE WHO ADDR LEN RATE [iperf3 args]: < 1 % lost
udp_rate() {
	local what=$1 where=$2 who=$3 addr=$4 len=$5 rate=$6 json _s got gbps lost
	shift 6
	json=$(_run_in "$where" "$who" timeout 30 iperf3 -J -u -c "$addr" -p 5201 \
		-t 2 -l "$len" -b "$rate" --connect-timeout 3000 "$@")
	read -r _s got gbps lost < <(iperf_summary <<<"$json")
	if [ "$got" -gt 0 ] && python3 -c "import sys; sys.exit(not float('$lost') < 1.0)"; then
		pass "UDP $what ($len-byte datagrams at $rate): $lost % lost"
	else
		fail "UDP $what ($len-byte datagrams at $rate): $lost % lost, $got bytes"
	fi
}

url() { case $1 in *:*) echo "http://[$1]:8000/$2" ;; *) echo "http://$1:8000/$2" ;; esac; }

# http_get LABEL WHERE WHO ADDR: the 4 MB body arrives whole
http_get() {
	local sum
	sum=$(_run_in "$2" "$3" curl -sS --max-time 30 "$(url "$4" blob)" | sha256sum | cut -d' ' -f1)
	check "HTTP GET 4 MB $1: sha256 matches" [ "$sum" = "$BLOB_SHA" ]
}

# http_put LABEL WHERE WHO ADDR: the server hashed all 4 MB we sent
http_put() {
	local sum
	sum=$(_run_in "$2" "$3" curl -sS --max-time 30 -T "$WWW/blob" "$(url "$4" up)")
	check "HTTP PUT 4 MB $1: sha256 matches" [ "$sum" = "$BLOB_SHA" ]
}

# TCP segments (first sends and retransmissions) the stacks of ext and web sent
tcp_segs_sent() {
	{ in_ext nstat -asz TcpOutSegs TcpRetransSegs
	  in_pod web nstat -asz TcpOutSegs TcpRetransSegs; } |
		awk '/^Tcp/ {n += $2} END {print n + 0}'
}
# counted_as_on_the_wire LABEL tcp_bulk-ARGS...: during one bulk run
# between ext and web, segd's forwarded counter moves by the segments the
# two TCP stacks sent (within 1 % + 50 for ND and stray packets): a GSO or
# GRO packet counts the segments it carries, not 1
counted_as_on_the_wire() {
	local what=$1 f0 s0 f1 s1 df ds
	shift
	f0=$(reason_packets forwarded); s0=$(tcp_segs_sent)
	tcp_bulk "$what" "$@"
	f1=$(reason_packets forwarded); s1=$(tcp_segs_sent)
	df=$((f1 - f0)) ds=$((s1 - s0))
	check "$what: segd counted $df packets, the stacks sent $ds segments" \
		holds '[ "$ds" -gt 1000 ] && [ $((df > ds ? df - ds : ds - df)) -le $((ds / 100 + 50)) ]'
}

drops_before=$(segctl status -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(sum(v["packets"] for k, v in c.items() if k != "forwarded"))')

# ---- default links: MTU 1500, offloads as the kernel sets them -------------
for fam in 10.200.1.10 fd00:200::10; do
	counted_as_on_the_wire "outside -> web ($fam)" ext "" "$fam"
	counted_as_on_the_wire "web -> outside, reverse ($fam)" ext "" "$fam" -R
done
for fam in 10.200.1.20 fd00:200::20; do
	tcp_bulk "web -> api ($fam)" pod web "$fam"
	tcp_bulk "api -> web, reverse ($fam)" pod web "$fam" -R
done
tcp_bulk "web opens to outside (203.0.113.10)" pod web 203.0.113.10
tcp_bulk "outside -> web on web's connection (2001:db8::10)" pod web 2001:db8::10 -R

udp_rate "outside -> web" ext "" 10.200.1.10 1400 200M
udp_rate "web -> outside" ext "" 10.200.1.10 1400 200M -R
udp_rate "web -> api" pod web 10.200.1.20 1400 200M
udp_rate "api -> web (v6)" pod web fd00:200::20 1400 200M -R

http_get "web -> outside (v4)" ext "" 10.200.1.10
http_get "web -> outside (v6)" ext "" fd00:200::10
http_put "outside -> web" ext "" 10.200.1.10
http_get "api -> web" pod web 10.200.1.20
http_put "web -> api (v6)" pod web fd00:200::20
http_get "outside -> web (web fetches)" pod web 203.0.113.10

# ---- MTU 9000 on every link ------------------------------------------------
# Three times: with the uplink's program where segd puts it on a veth (tc
# ingress), as generic XDP, and in native (driver) mode as on a NIC, where
# only an xdp.frags program lets the driver take an MTU above a page.
uplink_mode() {
	local x
	x=$(in_node ip -d link show up0 | grep -o 'xdp[a-z]*' | head -1)
	echo "${x:-$(in_node tc filter show dev up0 ingress | grep -q 'uplink_ingress' && echo tc)}"
}
for mode in segd generic native; do
	if [ $mode = generic ]; then
		in_node tc filter del dev up0 ingress pref 24221
		check "uplink program attached as generic XDP" in_node ip link set up0 \
			xdpgeneric pinned "$TOPO_BPFFS/segd/progs/uplink"
	elif [ $mode = native ]; then
		in_node ip link set up0 xdpgeneric off
		check "uplink program attached in native mode" in_node ip link set up0 \
			xdpdrv pinned "$TOPO_BPFFS/segd/progs/uplink"
	fi
	check "MTU 9000 on every link (uplink: $(uplink_mode))" \
		on_veths "ip link set mtu 9000 dev"
	check "jumbo ping outside -> web, DF, 9000-byte packets ($mode)" \
		quiet in_ext ping -4 -c 2 -W 2 -M do -s 8972 10.200.1.10
	check "jumbo ping outside -> web (v6), 9000-byte packets ($mode)" \
		quiet in_ext ping -6 -c 2 -W 2 -M do -s 8952 fd00:200::10
	frags_before=$(in_ext nstat -az IpFragCreates | awk '/IpFragCreates/ {print $2}')
	udp_rate "outside -> web, one 8928-byte frame each ($mode)" ext "" 10.200.1.10 8900 200M
	frags_after=$(in_ext nstat -az IpFragCreates | awk '/IpFragCreates/ {print $2}')
	check "8900-byte datagrams left unfragmented ($frags_before -> $frags_after)" \
		[ "${frags_before:-x}" = "${frags_after:-y}" ]
	tcp_bulk "outside -> web, MTU 9000 ($mode)" ext "" 10.200.1.10
	tcp_bulk "web -> outside, MTU 9000 ($mode)" ext "" 10.200.1.10 -R
	http_get "web -> outside, MTU 9000 ($mode)" ext "" 10.200.1.10
	if [ $mode = segd ]; then  # pod <-> pod: no uplink on the path
		tcp_bulk "web -> api, MTU 9000 (v6)" pod web fd00:200::20
		tcp_bulk "api -> web, MTU 9000" pod web 10.200.1.20 -R
	fi
	check "back to MTU 1500 ($mode)" on_veths "ip link set mtu 1500 dev"
done
in_node ip link set up0 xdpdrv off
out=$(segctl attach up0 --role uplink)
# uplink_hook auto on a veth: tc ingress, and segctl says so
check "segd attaches its uplink program again, names the hook: $out" \
	grep -q "^uplink/up0 attached (tc-ingress(uplink), ifindex [0-9]*)$" <<<"$out"

# ---- offloads off and back on ----------------------------------------------
for feat in "gro off gso off tso off" "tx off rx off"; do
	check "ethtool -K $feat on every veth" on_veths "ethtool -K" $feat
	tcp_bulk "outside -> web, $feat" ext "" 10.200.1.10
	tcp_bulk "web -> outside, $feat" ext "" fd00:200::10 -R
	tcp_bulk "web -> api, $feat" pod web 10.200.1.20
	http_get "web -> outside, $feat" ext "" 10.200.1.10
	http_put "web -> api, $feat" pod web 10.200.1.20
	check "ethtool -K ${feat//off/on} on every veth" on_veths "ethtool -K" ${feat//off/on}
done
tcp_bulk "outside -> web, offloads back on" ext "" 10.200.1.10 -R

# ---- nothing was dropped -----------------------------------------------------
drops=$(segctl status -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(" ".join("%s=%d" % (k, v["packets"]) for k, v in sorted(c.items())
               if k != "forwarded" and v["packets"]))')
drops_after=$(segctl status -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)["counters"]
print(sum(v["packets"] for k, v in c.items() if k != "forwarded"))')
check "no packet of it dropped, malformed-* included (${drops:-none})" \
	[ "$drops_after" -eq "$drops_before" ]
fwd=$(reason_packets forwarded)
check "forwarded counts the segments ($fwd packets)" [ "$fwd" -gt 100000 ]

# ---- where the uplink's early drop runs (config uplink_hook) ----------------
# tc: the program on the skb as it is, no copy of non-linear packets (XDP
# on a veth makes one), jumbo frames and GSO packets pass whole; xdp: XDP
# wherever it is, generic on this veth. Each drops a denied new flow itself.
for hook in tc xdp; do
	printf 'uplink_hook: %s\n' $hook >"$TOPO_DIR/segd-$hook.yaml"
	topo_stop_segd
	check "segd restarts with uplink_hook: $hook" \
		topo_start_segd -c "$TOPO_DIR/segd-$hook.yaml"
	st=$(segctl status)
	if [ $hook = tc ]; then
		check "status lists tc-ingress(uplink) on up0" grep -q "up0.*tc-ingress(uplink)" <<<"$st"
		refute "no XDP left on up0" grep -q "xdp" <<<"$(in_node ip -d link show up0)"
	else
		check "generic XDP on up0 (a veth)" grep -q "xdpgeneric" <<<"$(in_node ip -d link show up0)"
		check "status lists xdp(uplink) on up0" grep -q "up0.*xdp(uplink)" <<<"$st"
		refute "the uplink's tc program is gone" grep -q "tc-ingress(uplink)" <<<"$st"
	fi
	check "MTU 9000 on every link (uplink_hook: $hook)" on_veths "ip link set mtu 9000 dev"
	tcp_bulk "outside -> web, uplink_hook: $hook, MTU 9000" ext "" 10.200.1.10
	tcp_bulk "web -> outside, uplink_hook: $hook, MTU 9000 (v6)" ext "" fd00:200::10 -R
	http_get "web -> outside, uplink_hook: $hook" ext "" 10.200.1.10
	check "back to MTU 1500 (uplink_hook: $hook)" on_veths "ip link set mtu 1500 dev"
	# web's own hook taken off (segd puts it back when it restarts), so
	# only the uplink can drop this
	in_node tc filter del dev "$(pod_if web)" egress pref 24221
	dd_before=$(reason_packets default-denied)
	denied "outside -> web tcp/80 (not in the policy), dropped at the uplink ($hook)" \
		probe_tcp ext "" 10.200.1.10 80
	dd_after=$(reason_packets default-denied)
	check "the uplink ($hook) counted it as default-denied ($dd_before -> $dd_after)" \
		[ "$dd_after" -gt "$dd_before" ]
done
topo_stop_segd
check "segd restarts with the default uplink hook" topo_start_segd
check "auto on a veth uplink: tc ingress" grep -q "up0.*tc-ingress(uplink)" <<<"$(segctl status)"
refute "auto on a veth uplink: no generic XDP" grep -q "xdp" <<<"$(in_node ip -d link show up0)"
tcp_bulk "outside -> web, uplink_hook: auto" ext "" 10.200.1.10

e2e_finish
