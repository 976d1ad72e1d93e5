#!/usr/bin/env bash
# Every benchmark, each printing its cases side by side with ratios.
# `make bench` builds them and runs this (root: BPF and namespaces).
# Numbers are for reading, never pass/fail: docs/performance.md has ours.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
echo "== compiler (pure user space)"; "$B/bench_compile"
echo; echo "== blocklist load (pure user space)"; "$B/bench_blocklist_load"
echo; echo "== IPFIX export, 100,000 records (encoder vs encoder + UDP)"; "$B/bench_ipfix"
echo; echo "== learned edges and recommend, 100,000 edges (pure user space)"; "$B/bench_learn"
echo; echo "== flow-table pass, 60,000 flows: names by scan vs index (pure user space)"; "$B/bench_flow_names"
echo; echo "== datapath per packet (BPF_PROG_TEST_RUN)"; "$B/bench_datapath"
echo; echo "== blocklist check per packet, 10 vs 1M entries"; "$B/bench_blocklist_dp"
if [ -x "$B/bench_apply_kernel" ]; then
	echo; echo "== writing compiled state to the kernel"; "$B/bench_apply_kernel"
fi
echo; echo "== segctl apply end to end (segd in a namespace)"; bash tools/bench/apply.sh
echo; echo "== interface appears -> segd's programs on it (netlink)"; bash tools/bench/attach.sh
echo; echo "== quarantine check per packet (BPF_PROG_TEST_RUN)"; "$B/bench_quarantine_dp"
echo; echo "== segctl quarantine end to end: time to cut an ongoing flow"; bash tools/bench/quarantine.sh 20
echo; echo "== detection per packet, off vs on (BPF_PROG_TEST_RUN)"; "$B/bench_detect_dp"
echo; echo "== detection -> quarantine of a scanning pod vs segctl quarantine"; bash tools/bench/detect.sh 20
echo; echo "== established TCP throughput with and without segd (iperf3)"; bash tools/bench/throughput.sh
echo; echo "== side by side with netfilter: UDP flood, N rules (segd, iptables, nftables)"; bash tools/bench/peers.sh
echo; echo "== per packet on live traffic: CPU time of the path with and without segd, fixed rate"; bash tools/bench/live_cost.sh
