#!/usr/bin/env bash
# Where the CPU goes on the throughput paths: one iperf3 run per
# configuration and path (tools/bench/path_lib.sh) under `perf record -a
# -g` (cpu-clock, both CPUs), then the share of all samples spent in
# segd's parts, inclusive of what they call:
#   idle         the CPUs waiting, from /proc/stat over the run (the path
#                is bound by one CPU, the sender's, when this is near 50 %)
#   tc progs     cls_bpf_classify: segd's tc programs on the pods' veths
#                (and on the uplink, in tc+uplink-tc)
#   uplink xdp   do_xdp_generic / veth_xdp_rcv_skb: the uplink program in
#                generic / native mode with the kernel's work around it
#   xdp copy     skb_pp_cow_data: the copy of a non-linear skb into pages
#                that XDP on an skb needs (generic and veth native mode)
#   xdp prog     the uplink program itself
# The throughput column is one run, for orientation; ratios come from
# tools/bench/throughput.sh.
#
#   bash tools/bench/path_profile.sh [SECONDS] [CONFIG...]   (root)
set -u
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-5}
shift 2>/dev/null
command -v perf >/dev/null || {
	apt-get update -q >/dev/null && apt-get install -y -q linux-perf >/dev/null
} || { echo "path_profile: needs perf (apt-get install linux-perf)" >&2; exit 1; }
. tools/topology.sh
. tools/bench/path_lib.sh
CONFIGS=("$@")
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=("${PATH_CONFIGS[@]}")
PATHS=("outside->pod" "pod->outside")
path_setup || exit 1

# idle_ticks: idle + iowait jiffies and all jiffies, summed over CPUs
idle_ticks() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# share PERFDATA REGEX: summed inclusive share (%) of the symbols matching
share() {
	perf report -i "$1" --children --sort sym --stdio -g none 2>/dev/null |
		awk -v re="$2" '$0 !~ /^#/ && $4 ~ re { s += $1 } END { printf "%.1f", s }'
}

printf "%-14s %-14s %7s %6s %9s %11s %9s %9s\n" path config Gbit/s idle% \
	"tc progs%" "uplink xdp%" "xdp copy%" "xdp prog%"
for c in "${CONFIGS[@]}"; do
	path_configure "$c" || exit 1
	for path in "${PATHS[@]}"; do
		read -ra client <<<"$(path_client "$path")"
		data=$TOPO_DIR/perf.data
		perf record -q -e cpu-clock -F 2999 -a -g -o "$data" -- \
			sleep "$((SECS - 1))" >/dev/null 2>&1 &
		rec=$!
		read -r i0 t0 < <(idle_ticks)
		gbit=$("${client[@]}" -A 0,1 -p 5201 -t "$SECS" -J 2>/dev/null |
			python3 -c 'import json, sys
try: print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except (ValueError, KeyError): print("nan")')
		read -r i1 t1 < <(idle_ticks)
		wait "$rec"
		idle=$(awk -v i=$((i1 - i0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", t ? 100 * i / t : 0 }')
		printf "%-14s %-14s %7s %6s %9s %11s %9s %9s\n" "$path" "$c" "$gbit" \
			"$idle" \
			"$(share "$data" '^cls_bpf_classify$')" \
			"$(share "$data" '^(do_xdp_generic|veth_xdp_rcv_skb)$')" \
			"$(share "$data" '^skb_pp_cow_data$')" \
			"$(share "$data" '_uplink$')"
	done
done
