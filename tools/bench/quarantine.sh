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
# (The pods, the policy and the stream: quarantine_lib.sh.)
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
. tools/bench/quarantine_lib.sh

# shellcheck disable=SC2119   # segd without extra arguments
qb_setup || exit 1
if [ "$RULES" -gt 0 ]; then
	python3 tools/bench/gen_policy.py endpoints 200 | while read -r ns name ip labels; do
		segctl endpoint add "$name" -n "$ns" --ip "$ip" --labels "$labels" \
			--ifname "x$name" >/dev/null
	done
	python3 tools/bench/gen_policy.py policy "$RULES" >"$TOPO_DIR/big.yaml"
	segctl apply "$TOPO_DIR/big.yaml" >/dev/null || exit 1
fi
qb_stream $((RUNS * 6 + 30)) || exit 1
sleep 0.5   # pacing, not a wait: the flow runs a while before each cut
ncut=0 quar=() polms=()
for i in $(seq 1 "$RUNS"); do
	ncut=$((ncut + 1))
	q=$(qb_cut_ms "$ncut" "$SEGCTL_BIN" quarantine src -n bench --reason bench) ||
		{ echo "run $i: no cut"; cat "$QB_LOG"; exit 1; } >&2
	quar+=("$q")
	qb_resume segctl release src -n bench || { echo "run $i: no resume" >&2; exit 1; }
	sleep 0.2
	ncut=$((ncut + 1))
	p=$(qb_cut_ms "$ncut" "$SEGCTL_BIN" delete policy src-out -n bench) || { echo "run $i: no cut (policy)" >&2; exit 1; }
	polms+=("$p")
	qb_resume segctl apply "$QB_POLICY" || { echo "run $i: no resume (policy)" >&2; exit 1; }
	sleep 0.2
done

gap=$(qb_gap_ms)
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
