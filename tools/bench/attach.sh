#!/usr/bin/env bash
# attach.sh - time from a veth appearing to segd's programs on it. segd
# runs in a private node namespace with N endpoints registered before
# their interfaces exist; bench_attach_latency creates each veth through
# netlink and polls for the tc filters (see tools/bench/attach_latency.c).
set -u
cd "$(dirname "$0")/../.." || exit 1
N=${N:-50}
B=${BUILD:-build}
. tools/topology.sh
trap topo_destroy EXIT
topo_create_node >/dev/null
topo_start_segd || exit 1
prefix="ba${TOPO_ID}"
for i in $(seq 0 $((N - 1))); do
	segctl endpoint add "b$i" -n bench --ip "10.200.$((10 + i / 250)).$((1 + i % 250))" \
		--labels app=b --ifname "$prefix$i" >/dev/null || exit 1
done
# back to back (churn), then with segd idle when each veth appears; each
# run ends with a burst of N
in_node "$(readlink -f "$B/bench_attach_latency")" "$prefix" "$N" 0
sleep 0.5   # a pause between the runs, not a wait: the first one polled
            # until segd's programs were on every veth
in_node "$(readlink -f "$B/bench_attach_latency")" "$prefix" "$N" 50
