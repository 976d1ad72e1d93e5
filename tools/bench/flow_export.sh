#!/usr/bin/env bash
# What exporting N active flows every 10 s costs segd: N live conntrack
# entries that all move every second (bench_flow_export), segd writing
# the JSON flow log and sending IPFIX to a UDP sink; segd's CPU time
# (utime + stime from /proc) over the window, as a share of one core,
# side by side with the same window and no flows.
#
#   bash tools/bench/flow_export.sh [N] [SECONDS]    (root)
set -u
cd "$(dirname "$0")/../.." || exit 1
N=${1:-100000}
WINDOW=${2:-60}
. tools/topology.sh
trap topo_destroy EXIT

topo_create_node
topo_start_segd --flow-interval 10 --flow-log "$TOPO_DIR/flows.json" \
	--ipfix-collector 127.0.0.1:4739 || exit 1
# the collector: a UDP sink that only reads
topo_bg in_node python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 4739))
while True:
    s.recv(65536)'
wait_listen node "" 4739 udp || exit 1
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$TOPO_SEGD_PID"/stat; }
measure() { # SECONDS: segd's share of one core over that long, in %
	local a b
	a=$(cpu_ticks); sleep "$1"; b=$(cpu_ticks)
	awk -v t=$((b - a)) -v hz="$hz" -v s="$1" 'BEGIN { printf "%.2f", 100 * t / hz / s }'
}

idle=$(measure "$WINDOW")
records() {
	in_node python3 -c '
import urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode()
print([int(float(l.split()[1])) for l in t.splitlines() if l.startswith("segd_flow_records_total ")][0])'
}
first_pass_done() { [ "$(records)" -ge "$1" ]; }
records0=$(records)
in_node "$(readlink -f build/bench_flow_export)" "$TOPO_BPFFS/segd" "$N" $((WINDOW + 25)) &
feeder=$!
# the window starts after the first pass, which sees every flow as new
wait_until 25 first_pass_done $((records0 + N))
busy=$(measure "$WINDOW")
wait "$feeder"
lines=$(cat "$TOPO_DIR"/flows.json* | wc -l)
scan=$(in_node python3 -c '
import urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode()
print(" ".join(l for l in t.splitlines() if l.startswith(("segd_flow_conntrack_scan_seconds", "segd_flow_records_total", "segd_flows_active"))))')
echo "segd CPU, no flows:            $idle % of one core"
echo "segd CPU, $N flows, 10 s passes: $busy % of one core (target < 5 %)"
echo "flow log lines written: $lines; $scan"
