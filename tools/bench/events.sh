#!/usr/bin/env bash
# A flood of denied packets against a running segd: does every event the
# kernel asked for get counted (sent, rate-limited, ring full), does segd
# read all that were sent, and does it stay responsive? Side by side:
# `segctl status` latency with no flood and during the flood.
#
#   bash tools/bench/events.sh [SECONDS]      (root; build/bench_events)
set -u
cd "$(dirname "$0")/../.." || exit 1
SECONDS_FLOOD=${1:-10}
. tools/topology.sh
trap topo_destroy EXIT

topo_create_node
topo_add_pod web 10.200.1.10 fd00:200::10
topo_add_pod db 10.200.1.30 fd00:200::30
topo_start_segd --flow-interval 1 || exit 1
segctl namespace set shop >/dev/null
segctl endpoint add web -n shop --ip 10.200.1.10 --labels app=web \
	--ifname "$(pod_if web)" >/dev/null
segctl endpoint add db -n shop --ip 10.200.1.30 --labels app=db \
	--ifname "$(pod_if db)" >/dev/null
segctl apply policies/demo.yaml >/dev/null
web_if=$(in_node cat "/sys/class/net/$(pod_if web)/ifindex")

# status_latency N: median and max ms of N `segctl status` calls
status_latency() {
	local i t0 t1 all=()
	for i in $(seq 1 "$1"); do
		t0=$(date +%s%N); segctl status >/dev/null; t1=$(date +%s%N)
		all+=($(( (t1 - t0) / 1000 )))
		sleep 0.05
	done
	printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "median %.1f ms, max %.1f ms over %d calls", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR }'
}

metric() { # NAME: its value from segd's /metrics
	in_node python3 -c '
import sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode()
print(sum(float(l.split()[-1]) for l in t.splitlines() if l.split(" ")[0] == sys.argv[1]))' "$1"
}

# for wait_until (shellcheck sees no call because the script ends in exit)
# shellcheck disable=SC2317
sent_above() { awk -v a="$1" -v b="$(metric segd_events_sent_total)" 'BEGIN { exit !(b > a) }'; }
# shellcheck disable=SC2317
all_read() { [ "$(metric segd_events_read_total)" = "$(metric segd_events_sent_total)" ]; }

echo "segctl status, quiet:        $(status_latency 20)"
sent0=$(metric segd_events_sent_total)
in_node "$(readlink -f build/bench_events)" "$TOPO_BPFFS/segd" "$web_if" 10.200.1.10 \
	10.200.1.30 5432 "$SECONDS_FLOOD" >"$TOPO_DIR/flood.txt" 2>&1 &
flood=$!
wait_until 10 sent_above "$sent0"   # the flood is on
echo "segctl status, under flood:  $(status_latency 20)"
wait "$flood"; rc=$?
cat "$TOPO_DIR/flood.txt"
wait_until 10 all_read   # segd read the ring (bounded: what it did not read shows below)
echo "segd: events sent $(metric segd_events_sent_total), read $(metric segd_events_read_total)," \
	"lost (counted) $(metric segd_events_lost_total)"
echo "segd RSS after the flood: $(awk '/VmRSS/ { print $2 / 1024 " MB" }' /proc/"$TOPO_SEGD_PID"/status)"
exit "$rc"
