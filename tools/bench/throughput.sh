#!/usr/bin/env bash
# Established TCP throughput over the same path with and without segd,
# side by side in one run (iperf3, one stream, ROUNDS rounds of SECONDS).
#
# One topology (tools/topology.sh): an outside host behind the node's
# uplink up0, pods web and api behind veths. segd enforces the policy of
# tests/fixtures/e2e/traffic.yaml (default deny, these flows allowed), so
# every packet goes through conntrack. The programs are taken off and put
# back between measurements, so every configuration shares the path:
#
#   none          no segd program on the path
#   tc            segd's tc programs on the pods' veths (all enforcement)
#   tc+xdp        and its XDP program on the uplink, in the mode segd
#                 picks (generic on a veth, native on a NIC)
#   tc+xdp-native the same program in native (driver) mode on the veth
#                 uplink: what segd avoids there (it copies every packet)
#
# Paths: outside -> pod and pod -> outside (up0 and the pod's veth), pod ->
# pod and back (two pod veths). Configurations are rotated each round, so
# drift of the machine spreads over all of them. Prints median and min-max
# Gbit/s per path and configuration and the ratio of medians to `none`.
#
#   bash tools/bench/throughput.sh [ROUNDS] [SECONDS]   (root; default 5, 3)
set -u
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${1:-5}
SECS=${2:-3}
. tools/topology.sh
trap topo_destroy EXIT

topo_create_node
topo_add_pod web 10.200.1.10 fd00:200::10
topo_add_pod api 10.200.1.20 fd00:200::20
topo_start_segd || exit 1
segctl namespace set shop >/dev/null
for p in web:10.200.1.10:fd00:200::10 api:10.200.1.20:fd00:200::20; do
	IFS=: read -r name v4 v6 <<<"$p"
	segctl endpoint add "$name" -n shop --ip "$v4" --ip "$v6" \
		--labels "app=$name" --ifname "$(pod_if "$name")" >/dev/null
done
segctl apply tests/fixtures/e2e/traffic.yaml >/dev/null || exit 1
PROGS=$TOPO_BPFFS/segd/progs
TC_PREF=24221   # segd's tc filter priority and handle, 0x5e9d

for p in web api; do
	topo_bg in_pod "$p" iperf3 -s -p 5201
done
for p in web api; do
	wait_listen pod "$p" 5201 || exit 1
done

tc_off() {
	local p
	for p in web api; do
		in_node tc filter del dev "$(pod_if "$p")" ingress pref $TC_PREF
		in_node tc filter del dev "$(pod_if "$p")" egress pref $TC_PREF
	done
}
tc_on() {
	local p
	for p in web api; do
		in_node tc filter replace dev "$(pod_if "$p")" ingress pref $TC_PREF \
			handle 0x5e9d bpf direct-action object-pinned "$PROGS/from_endpoint"
		in_node tc filter replace dev "$(pod_if "$p")" egress pref $TC_PREF \
			handle 0x5e9d bpf direct-action object-pinned "$PROGS/to_endpoint"
	done
}
xdp_off() { in_node ip link set up0 xdpgeneric off; in_node ip link set up0 xdpdrv off; }

configure() {
	tc_off 2>/dev/null; xdp_off 2>/dev/null
	case $1 in
	none) ;;
	tc) tc_on ;;
	tc+xdp) tc_on; segctl attach up0 --role uplink >/dev/null ;;
	tc+xdp-native) tc_on; in_node ip link set up0 xdpdrv pinned "$PROGS/uplink" ;;
	esac
}

# measure CONFIG PATH: one iperf3 run, its Gbit/s appended to $RES
RES=$TOPO_DIR/results
measure() {
	local args
	case $2 in
	outside-\>pod) args=(in_ext iperf3 -c 10.200.1.10) ;;
	pod-\>outside) args=(in_ext iperf3 -c 10.200.1.10 -R) ;;
	pod-\>pod) args=(in_pod web iperf3 -c 10.200.1.20) ;;
	pod\<-pod) args=(in_pod web iperf3 -c 10.200.1.20 -R) ;;
	esac
	# client on CPU 0, server on CPU 1: the same placement every run
	"${args[@]}" -A 0,1 -p 5201 -t "$SECS" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except (ValueError, KeyError):
    print("nan")' | sed "s|^|$1 $2 |" >>"$RES"
}

CONFIGS=(none tc tc+xdp tc+xdp-native)
PATHS=("outside->pod" "pod->outside" "pod->pod" "pod<-pod")
echo "# iperf3 TCP, 1 stream, $ROUNDS rounds x $SECS s, $(nproc) CPUs, $(uname -r)"
for r in $(seq 0 $((ROUNDS - 1))); do
	for i in "${!CONFIGS[@]}"; do
		c=${CONFIGS[$(((i + r) % ${#CONFIGS[@]}))]}
		configure "$c"
		for path in "${PATHS[@]}"; do
			measure "$c" "$path"
		done
	done
	echo "# round $((r + 1)) of $ROUNDS done" >&2
done
configure tc+xdp

python3 - "$RES" "${CONFIGS[*]}" "${PATHS[*]}" <<'PY'
import statistics, sys
res, configs, paths = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
runs = {}
for line in open(res):
    c, p, v = line.split()
    if v != "nan":
        runs.setdefault((c, p), []).append(float(v))
print("%-14s %-14s %8s %15s %9s %4s" % ("path", "config", "median", "min-max", "x none", "n"))
for p in paths:
    base = statistics.median(runs.get(("none", p), [float("nan")]))
    for c in configs:
        v = runs.get((c, p), [])
        if not v:
            print("%-14s %-14s %8s" % (p, c, "failed"))
            continue
        m = statistics.median(v)
        print("%-14s %-14s %8.2f %7.2f-%-7.2f %8.2fx %4d" %
              (p, c, m, min(v), max(v), m / base, len(v)))
PY
