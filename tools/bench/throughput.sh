#!/usr/bin/env bash
# Established TCP throughput over the same path with and without segd,
# side by side in one run (iperf3, one stream, ROUNDS rounds of SECONDS).
#
# Topology, configurations (none, tc, tc+xdp, tc+xdp-native, tc+uplink-tc)
# and paths
# (outside->pod, pod->outside, pod->pod, pod<-pod): tools/bench/path_lib.sh.
# Configurations are rotated each round, so drift of the machine spreads
# over all of them. Prints median and min-max Gbit/s per path and
# configuration, the ratio of medians to `none`, and the median (min-max)
# of the per-round ratios: each round's run divided by the same round's
# `none` run on that path, which cancels drift slower than one round.
#
#   bash tools/bench/throughput.sh [ROUNDS] [SECONDS]   (root; default 5, 3)
set -u
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${1:-5}
SECS=${2:-3}
. tools/topology.sh
. tools/bench/path_lib.sh
path_setup || exit 1

# measure ROUND CONFIG PATH: one iperf3 run, its Gbit/s appended to $RES
RES=$TOPO_DIR/results
measure() {
	local args
	read -ra args <<<"$(path_client "$3")"
	# client on CPU 0, server on CPU 1: the same placement every run
	"${args[@]}" -A 0,1 -p 5201 -t "$SECS" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except (ValueError, KeyError):
    print("nan")' | sed "s|^|$1 $2 $3 |" >>"$RES"
}

echo "# iperf3 TCP, 1 stream, $ROUNDS rounds x $SECS s, $(nproc) CPUs, $(uname -r)"
n=${#PATH_CONFIGS[@]}
for r in $(seq 0 $((ROUNDS - 1))); do
	for i in "${!PATH_CONFIGS[@]}"; do
		c=${PATH_CONFIGS[$(((i + r) % n))]}
		path_configure "$c"
		for path in "${PATH_NAMES[@]}"; do
			measure "$r" "$c" "$path"
		done
	done
	echo "# round $((r + 1)) of $ROUNDS done" >&2
done
path_configure tc+xdp

python3 - "$RES" "${PATH_CONFIGS[*]}" "${PATH_NAMES[*]}" <<'PY'
import math, statistics, sys
res, configs, paths = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
runs = {}   # (config, path) -> {round: Gbit/s}
for line in open(res):
    r, c, p, v = line.split()
    if v != "nan":
        runs.setdefault((c, p), {})[r] = float(v)
print("%-14s %-14s %8s %15s %8s %18s %4s" %
      ("path", "config", "median", "min-max", "x none", "per-round x none", "n"))
for p in paths:
    base = runs.get(("none", p), {})
    bmed = statistics.median(base.values()) if base else math.nan
    for c in configs:
        v = runs.get((c, p), {})
        if not v:
            print("%-14s %-14s %8s" % (p, c, "failed"))
            continue
        m = statistics.median(v.values())
        paired = [v[r] / base[r] for r in v if r in base]
        pr = ("%.2fx (%.2f-%.2f)" % (statistics.median(paired), min(paired),
                                     max(paired)) if paired else "-")
        print("%-14s %-14s %8.2f %7.2f-%-7.2f %7.2fx %18s %4d" %
              (p, c, m, min(v.values()), max(v.values()), m / bmed, pr,
               len(v)))
PY
