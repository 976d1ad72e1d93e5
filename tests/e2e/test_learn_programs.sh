#!/usr/bin/env bash
# Learning from real programs' traffic: while segd learns (no policy,
# flow records every second), iperf3 TCP runs both ways between an
# outside host and pod web (-R: web sends on the outside's connection),
# and between pods web (namespace front) and api (namespace back), one of
# them with MTU 9000 on every link and one with GRO/GSO/TSO off; an
# iperf3 UDP run in reverse (web sends to the client's port); curl
# fetches 4 MB from web's HTTP server.
# The learned edges are exactly the servers' ports, opened by the
# clients: no client (ephemeral) port, no edge in the direction the bulk
# of the data went; a UDP stream segd picks up mid-way (pod cache becomes
# an endpoint while it streams to a client) teaches nothing. `segctl
# recommend` holds exactly those rules and two default denies; applied,
# the same runs pass again (exit 0, bytes arrived, the body's sha256),
# nothing of them is dropped, and what was never seen is: a second server
# port, the pod->pod connection the other way round, a peer that never
# used the port, an egress never made.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

CLIENT=203.0.113.10   # the ext host
WEB=10.200.1.10       # front/web: iperf3 on 5201 and 5202, HTTP on 80
API=10.200.1.20       # back/api: iperf3 on 5201
CACHE=10.200.1.30     # back/cache: iperf3 on 5201, an endpoint only mid-stream
FLOWLOG=$TOPO_DIR/flows.json

setup() {
	topo_create_node
	topo_add_pod web "$WEB"
	topo_add_pod api "$API"
	topo_add_pod cache "$CACHE"
	# edges on disk every second: the file is read while segd runs
	printf 'learn_save_interval: 1\n' >"$TOPO_DIR/segd.yaml"
	topo_start_segd -c "$TOPO_DIR/segd.yaml" --flow-interval 1 \
		--flow-log "$FLOWLOG" || return 1
	segctl namespace set front >/dev/null && segctl namespace set back >/dev/null &&
	segctl endpoint add web -n front --ip "$WEB" --ifname "$(pod_if web)" \
		--labels app=web >/dev/null &&
	segctl endpoint add api -n back --ip "$API" --ifname "$(pod_if api)" \
		--labels app=api >/dev/null &&
	segctl attach up0 --role uplink >/dev/null || return 1
	mkdir -p "$TOPO_DIR/www" &&
	head -c $((4 << 20)) /dev/urandom >"$TOPO_DIR/www/blob" || return 1
	topo_bg in_pod web iperf3 -s -p 5201
	topo_bg in_pod web iperf3 -s -p 5202   # never used while learning
	topo_bg in_pod web python3 "$TOPO_TOOLS/probe.py" http 80 "$TOPO_DIR/www"
	topo_bg in_pod api iperf3 -s -p 5201
	topo_bg in_pod cache iperf3 -s -p 5201
	topo_bg in_ext iperf3 -s -p 5201       # web never opens to the outside
	wait_listen pod web 5201 && wait_listen pod web 5202 && wait_listen pod web 80 &&
		wait_listen pod api 5201 && wait_listen pod cache 5201 &&
		wait_listen ext "" 5201
}

# ---- the programs ------------------------------------------------------------
# iperf3 JSON -> "bytes_received mss": what the receiving side counted
# (TCP), what arrived of the datagrams (UDP: sent minus lost), and the
# client's TCP maximum segment size
iperf_result() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print(0, 0); sys.exit()
e = d.get("end", {})
mss = d.get("start", {}).get("tcp_mss_default", 0)
if "sum_received" in e:
    print(e["sum_received"]["bytes"], mss)
else:
    s = e.get("sum", {})
    n, lost = s.get("packets", 0), s.get("lost_packets", 0)
    print(s.get("bytes", 0) * (n - lost) // n if n else 0, mss)'
}

# iperf WHERE WHO ADDR [iperf3 args]: exit 0 and bytes arrived; IPERF_MSS
# is the client's MSS
iperf() {
	local where=$1 who=$2 addr=$3 json rc got
	shift 3
	json=$(_run_in "$where" "$who" timeout 20 iperf3 -J -c "$addr" -t 1 \
		--connect-timeout 2000 "$@"); rc=$?
	read -r got IPERF_MSS < <(iperf_result <<<"$json")
	[ "$rc" -eq 0 ] && [ "$got" -gt 0 ]
}

BLOB_SHA=
fetch_blob() {
	local sum
	sum=$(in_ext curl -sS --max-time 20 "http://$WEB/blob" | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$BLOB_SHA" ]
}

# jumbo: MTU 9000 on every link, and the iperf3 client's MSS says the
# connection used it
jumbo_iperf() {
	on_veths "ip link set mtu 9000 dev" && iperf "$@" && [ "$IPERF_MSS" -gt 1500 ]
	local rc=$?
	on_veths "ip link set mtu 1500 dev" && return $rc
}
# no_offloads: GRO, GSO and TSO off on every link for the run
no_offloads_iperf() {
	on_veths "ethtool -K" gro off gso off tso off && iperf "$@"
	local rc=$?
	on_veths "ethtool -K" gro on gso on tso on && return $rc
}

# Each line: a name, then the run. The same runs while learning and
# under the recommendation.
RUNS=(
	"outside -> web iperf3 tcp/5201|iperf ext '' $WEB"
	"web -> outside on the outside's connection (-R), MTU 9000|jumbo_iperf ext '' $WEB -R"
	"web -> api iperf3 tcp/5201, GRO/GSO/TSO off|no_offloads_iperf pod web $API"
	"api -> web on web's connection (-R)|iperf pod web $API -R"
	"web -> outside iperf3 udp/5201 on the outside's flow (-R)|iperf ext '' $WEB -u -b 50M -l 1400 -R"
	"outside fetches 4 MB from web with curl, sha256 matches|fetch_blob"
)

# run_all PHASE: every run once, each a check of its own
run_all() {
	local line
	for line in "${RUNS[@]}"; do
		check "$1: ${line%%|*}" eval "${line#*|}"
	done
}

# ---- what was learned --------------------------------------------------------
# The edges in the state dir's file (saved every second), one per line:
# "LOCAL DIR PEER PROTO PORT FLOWS"
learned_edges() {
	python3 - "$TOPO_STATE/learned-edges" <<'EOF'
import sys
strings, out = {}, []
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for l in lines:
    f = l.split("\t")
    if f[0] == "s":
        strings[f[1]] = f[2]
    elif f[0] == "e":
        local, d, kind, remote, addr, proto, port, _, _, flows = f[1:11]
        peer = {"1": strings.get(remote, "?"), "2": "host"}.get(kind, addr)
        out.append("%s %s %s %s %s %s" % (strings[local].replace(" ", ":"),
                   "egress" if d == "1" else "ingress", peer.replace(" ", ":"),
                   {"6": "tcp", "17": "udp"}.get(proto, proto), port, flows))
print("\n".join(sorted(out)))
EOF
}
# What the runs are: who opened which server port, and how many
# connections: iperf3 opens a control connection and a data one (TCP) or
# flow (UDP); curl one.
WANT_EDGES=$(sort <<EOF
back:app=api ingress front:app=web tcp 5201 4
front:app=web egress back:app=api tcp 5201 4
front:app=web ingress $CLIENT tcp 5201 5
front:app=web ingress $CLIENT tcp 80 1
front:app=web ingress $CLIENT udp 5201 1
EOF
)
edges_are() { [ "$(learned_edges)" = "$1" ]; }
# learn_stat KEY: segctl status -o json's learn.KEY
learn_stat() {
	segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["learn"][sys.argv[1]])' "$1"
}
double_flows() { awk '{ $6 *= 2; print }'; }

# The recommendation's rules, one per port: "NS/POLICY DIR PEER PROTO PORT"
rec_rules() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
for doc in d["documents"]:
    m, s = doc["metadata"], doc["spec"]
    for dirn, key in (("ingress", "from"), ("egress", "to")):
        for r in s.get(dirn, []):
            peers = []
            for p in r[key]:
                if "cidr" in p:
                    peers.append(p["cidr"])
                else:
                    ns = p.get("namespaceSelector", {}).get("matchLabels", {})
                    sel = p["selector"]["matchLabels"]
                    peers.append(ns.get("kubernetes.io/metadata.name", m["namespace"]) + ":" +
                                 ",".join("%s=%s" % kv for kv in sorted(sel.items())))
            for peer in peers:
                for port in r.get("ports", [{}]):
                    print("%s/%s %s %s %s %s" % (m["namespace"], m["name"], dirn, peer,
                          port.get("protocol", "any").lower(), port.get("port", "-")))
    # a default deny: every workload, both lists there and empty
    if s.get("ingress") == [] and s.get("egress") == []:
        print("%s/%s deny-both-ways %s" % (m["namespace"], m["name"],
              s.get("appliesTo", "every-workload")))' | sort
}
WANT_RULES=$(sort <<EOF
back/learned-api ingress front:app=web tcp 5201
back/learned-default-deny deny-both-ways every-workload
front/learned-default-deny deny-both-ways every-workload
front/learned-web egress back:app=api tcp 5201
front/learned-web ingress $CLIENT/32 tcp 5201
front/learned-web ingress $CLIENT/32 tcp 80
front/learned-web ingress $CLIENT/32 udp 5201
EOF
)

setup || { fail "setup"; e2e_finish; exit 1; }
BLOB_SHA=$(sha256sum <"$TOPO_DIR/www/blob" | cut -d' ' -f1)

# ---- learn -------------------------------------------------------------------
run_all learning
check "the runs' edges are learned and saved" wait_until 10 edges_are "$WANT_EDGES"
got=$(learned_edges)
echo "$got" | sed 's/^/# learned: /'
check "exactly the servers' ports, opened by the clients, one edge each way of a pod -> pod flow" \
	[ "$got" = "$WANT_EDGES" ]
refute "no edge to or from a client port (32768-60999)" \
	grep -qE ' (3[2-9][0-9]{3}|[45][0-9]{4}|60[0-9]{3}) [0-9]+$' <<<"$got"
refute "no edge towards the client (web egress to the outside, api egress to web)" \
	grep -qE "^front:app=web egress $CLIENT |^back:app=api egress " <<<"$got"
n=$(learn_stat edges)
check "segctl status counts the same $(wc -l <<<"$WANT_EDGES") edges ($n)" \
	[ "$n" -eq "$(wc -l <<<"$WANT_EDGES")" ]
mid=$(learn_stat tcp_midflow_skipped) rep=$(learn_stat reply_first_skipped)
check "no record of the runs skipped (tcp_midflow_skipped $mid, reply_first_skipped $rep)" \
	holds '[ "$mid" -eq 0 ] && [ "$rep" -eq 0 ]'

# ---- picked up mid-way ---------------------------------------------------------
# cache becomes an endpoint while its iperf3 server streams UDP to the
# outside client (-R): the first datagram segd sees goes from cache's
# 5201 to the client's ephemeral port. That is a reply, not an edge
# "cache -> outside udp/<client port>".
in_ext timeout 20 iperf3 -J -c "$CACHE" -u -R -b 20M -l 1400 -t 3 \
	--connect-timeout 2000 >"$TOPO_DIR/midway.json" &
midway=$!
streaming() { [ -n "$(in_pod cache ss -Hun state established '( sport = :5201 )')" ]; }
check "cache streams to the outside before segd knows it" wait_until 5 streaming
segctl endpoint add cache -n back --ip "$CACHE" --ifname "$(pod_if cache)" \
	--labels app=cache >/dev/null
reply_skipped() { [ "$(learn_stat reply_first_skipped)" -gt 0 ]; }
check "the stream's datagrams, first seen from cache's 5201, are skipped as replies" \
	wait_until 5 reply_skipped
wait "$midway"; rc=$?
read -r got _ < <(iperf_result <"$TOPO_DIR/midway.json")
check "the mid-way stream completes (exit $rc, $got bytes)" \
	holds '[ "$rc" -eq 0 ] && [ "$got" -gt 0 ]'
got=$(learned_edges)
refute "no edge of cache: not its client's port, not the reply's direction" \
	grep -q "app=cache" <<<"$got"
check "the edges are still exactly the runs'" [ "$got" = "$WANT_EDGES" ]

# ---- recommend ---------------------------------------------------------------
rec=$(segctl recommend -o json); rc=$?
check "recommend -o json exits 0" [ "$rc" -eq 0 ]
rules=$(rec_rules <<<"$rec")
echo "$rules" | sed 's/^/# recommended: /'
check "the recommendation: exactly those ports and peers, and a default deny per namespace" \
	[ "$rules" = "$WANT_RULES" ]
segctl recommend >"$TOPO_DIR/rec.yaml"
out=$(segctl apply "$TOPO_DIR/rec.yaml" 2>&1); rc=$?
check "segctl apply of the recommendation" rc_and_match "$rc" 0 "learned-default-deny" "$out"

# ---- the same programs, enforced ---------------------------------------------------
run_all enforced

# Never seen, so dropped: each iperf3 fails, and the flow log has the drop.
# "name|WHERE|WHO|SRC|DST|PORT"
DENIED=(
	"outside -> web tcp/5202 (a port never used)|ext||$CLIENT|$WEB|5202"
	"api -> web tcp/5201 (pod -> pod the other way round)|pod|api|$API|$WEB|5201"
	"outside -> api tcp/5201 (a peer that never used it)|ext||$CLIENT|$API|5201"
	"web -> outside tcp/5201 (web never opened to the outside)|pod|web|$WEB|$CLIENT|5201"
)
# drops_in_log: "SRC DST PORT" of every dropped record of the flow log
drops_in_log() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["verdict"] == "dropped":
        print(r["src_ip"], r["dst_ip"], r.get("dst_port", "-"))' "$FLOWLOG" | sort -u
}
dropped_in_log() { grep -qx "$1" <<<"$(drops_in_log)"; }
pids=()
for i in "${!DENIED[@]}"; do
	IFS='|' read -r _ where who _ dst port <<<"${DENIED[$i]}"
	( iperf "$where" "$who" "$dst" -p "$port"; echo $? >"$TOPO_DIR/denied.$i" ) &
	pids+=($!)
done
wait "${pids[@]}"
want_drops=
for i in "${!DENIED[@]}"; do
	IFS='|' read -r name _ _ src dst port <<<"${DENIED[$i]}"
	want_drops+="$src $dst $port"$'\n'
	if [ "$(cat "$TOPO_DIR/denied.$i")" = 0 ]; then
		fail "denied: $name (got through)"
	else
		check "denied: $name, a drop in the flow log" wait_until 5 dropped_in_log "$src $dst $port"
	fi
done
drops=$(drops_in_log)
check "nothing of the enforced runs was dropped: the only drops are those ($(wc -l <<<"$drops"))" \
	[ "$drops" = "$(sort -u <<<"${want_drops%$'\n'}")" ]

# the enforced runs taught the same edges once more, the drops nothing:
# every edge has twice its flows
check "the same edges after the enforced runs, each with twice its flows" \
	wait_until 10 edges_are "$(double_flows <<<"$WANT_EDGES")"
learned_edges | sed 's/^/# learned in the end: /'

e2e_finish
