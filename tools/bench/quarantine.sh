#!/usr/bin/env bash
# How fast does `segctl quarantine` cut an ongoing flow? Side by side with
# the other way to cut it, a policy change (`segctl delete policy`, which
# recompiles, flips the generation and revokes the flow's conntrack entry).
#
# Method: pod src sends a UDP datagram to pod dst about every 100 us, each
# carrying its send time (CLOCK_REALTIME; all namespaces share the clock).
# dst logs "cut T" when nothing arrived for 300 ms, T = the send time of
# the last datagram that got through. T0 is taken in the node namespace by
# the process that then execs segctl (tools/bench/quarantine_probe.py exec),
# so segctl's own start-up, the socket round trip and segd's work are all
# inside T - T0. The first dropped datagram was sent after T and at most
# one interval (~0.1-0.2 ms, printed) later, so T - T0 is the latency to
# within one interval. Each of RUNS rounds: quarantine, measure, release,
# wait until traffic flows again; then delete the policy, measure, re-apply.
#
# With RULES > 0, 200 more endpoints (no interfaces) and a generated
# policy of RULES rules are loaded first: a policy change then recompiles
# all of it, a quarantine still writes two map entries.
#
#   bash tools/bench/quarantine.sh [RUNS] [RULES]   (root; default 20, 0)
set -u
cd "$(dirname "$0")/../.." || exit 1
RUNS=${1:-20}
RULES=${2:-0}
. tools/topology.sh
trap topo_destroy EXIT
P=tools/bench/quarantine_probe.py

topo_create_node
topo_add_pod src 10.200.1.10
topo_add_pod dst 10.200.1.30
topo_start_segd || exit 1
segctl namespace set bench >/dev/null
segctl endpoint add src -n bench --ip 10.200.1.10 --labels app=src \
	--ifname "$(pod_if src)" >/dev/null
segctl endpoint add dst -n bench --ip 10.200.1.30 --labels app=dst \
	--ifname "$(pod_if dst)" >/dev/null
pol=$TOPO_DIR/bench.yaml
cat >"$pol" <<'YAML'
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: default-deny, namespace: bench}
spec: {ingress: [], egress: []}
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: src-out, namespace: bench}
spec:
  appliesTo: {selector: {matchLabels: {app: src}}}
  egress:
    - to: [{selector: {matchLabels: {app: dst}}}]
      ports: [{protocol: UDP, port: 7000}]
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: dst-in, namespace: bench}
spec:
  appliesTo: {selector: {matchLabels: {app: dst}}}
  ingress:
    - from: [{selector: {matchLabels: {app: src}}}]
      ports: [{protocol: UDP, port: 7000}]
YAML
segctl apply "$pol" >/dev/null || exit 1
if [ "$RULES" -gt 0 ]; then
	python3 tools/bench/gen_policy.py endpoints 200 | while read -r ns name ip labels; do
		segctl endpoint add "$name" -n "$ns" --ip "$ip" --labels "$labels" \
			--ifname "x$name" >/dev/null
	done
	python3 tools/bench/gen_policy.py policy "$RULES" >"$TOPO_DIR/big.yaml"
	segctl apply "$TOPO_DIR/big.yaml" >/dev/null || exit 1
fi

log=$TOPO_DIR/recv.log t0f=$TOPO_DIR/t0
: >"$log"
budget=$((RUNS * 6 + 30))
topo_bg in_pod dst python3 "$P" recv 7000 "$log" "$budget"
wait_listen pod dst 7000 udp || exit 1
topo_bg in_pod src python3 "$P" send 10.200.1.30 7000 "$budget"

# wait_line WORD N: until the log has N lines starting with WORD (<= 5 s)
has_lines() { [ "$(grep -c "^$1" "$log")" -ge "$2" ]; }
wait_line() { wait_until 5 has_lines "$@"; }

# cut_ms N CMD...: run CMD in the node via the timestamping exec; the
# latency in ms from T0 to the last datagram that got through, from the
# N-th cut line (run in $(...): the caller counts)
ncut=0 nflow=1
cut_ms() {
	local n=$1; shift
	in_node env SEGD_SOCKET="$TOPO_SOCK" python3 "$P" exec "$t0f" "$@" >/dev/null || return 1
	wait_line cut "$n" || return 1
	python3 -c 'import sys; t0=int(open(sys.argv[1]).read()); t=int(sys.argv[2]); print("%.3f" % ((t - t0) / 1e6))' \
		"$t0f" "$(grep '^cut' "$log" | sed -n "${n}p" | cut -d' ' -f2)"
}
resume() {
	"$@" >/dev/null
	nflow=$((nflow + 1))
	wait_line flowing "$nflow"
}

wait_line flowing 1 || { echo "no traffic" >&2; exit 1; }
sleep 0.5   # pacing, not a wait: the flow runs a while before each cut
quar=() polms=()
for i in $(seq 1 "$RUNS"); do
	ncut=$((ncut + 1))
	q=$(cut_ms "$ncut" "$SEGCTL_BIN" quarantine src -n bench --reason bench) ||
		{ echo "run $i: no cut"; cat "$log"; exit 1; } >&2
	quar+=("$q")
	resume segctl release src -n bench || { echo "run $i: no resume" >&2; exit 1; }
	sleep 0.2
	ncut=$((ncut + 1))
	p=$(cut_ms "$ncut" "$SEGCTL_BIN" delete policy src-out -n bench) || { echo "run $i: no cut (policy)" >&2; exit 1; }
	polms+=("$p")
	resume segctl apply "$pol" || { echo "run $i: no resume (policy)" >&2; exit 1; }
	sleep 0.2
done

gap=$(awk '/^cut/ { s += $3; n++ } END { if (n) printf "%.3f", s / n / 1e6 }' "$log")
python3 - "${quar[*]}" "${polms[*]}" "$RUNS" "$gap" "$RULES" <<'PY'
import statistics, sys
q = sorted(float(x) for x in sys.argv[1].split())
p = sorted(float(x) for x in sys.argv[2].split())
def pct(v, f):
    return v[min(len(v) - 1, int(round(f * (len(v) - 1))))]
print("cut an ongoing UDP flow (~5-10k datagrams/s), %s runs, %s extra policy rules; "
      "ms from invoking segctl to the last datagram that got through:" % (sys.argv[3], sys.argv[5]))
print("%-34s %8s %8s %8s %8s" % ("", "median", "p90", "min", "max"))
print("%-34s %8.2f %8.2f %8.2f %8.2f" % ("segctl quarantine", statistics.median(q), pct(q, .9), q[0], q[-1]))
print("%-34s %8.2f %8.2f %8.2f %8.2f" % ("segctl delete policy (recompile)", statistics.median(p), pct(p, .9), p[0], p[-1]))
print("ratio policy/quarantine (median): %.1fx" % (statistics.median(p) / statistics.median(q)))
print("resolution: the first drop came within one send interval (mean %s ms) after that" % sys.argv[4])
PY
