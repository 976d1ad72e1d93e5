#!/usr/bin/env bash
# apply.sh - time `segctl apply` end to end (parse, compile, fill and swap the
# BPF maps, persist) for 10 rules and for 10,000 rules over 1,000 endpoints,
# and a one-rule change of the large policy. Runs segd in a private node
# namespace with its own bpffs. Prints milliseconds, median of RUNS.
set -u
cd "$(dirname "$0")/../.." || exit 1
RUNS=${RUNS:-5}
. tools/topology.sh
trap topo_destroy EXIT
topo_create_node >/dev/null
topo_start_segd || exit 1

ms_now() { date +%s%N; }
time_apply() { # file -> us of one segctl apply; segd's phases to $TOPO_DIR/phases
	local t0 t1
	t0=$(ms_now)
	segctl apply -o json "$1" >"$TOPO_DIR/last.json" || { echo "apply $1 failed" >&2; exit 1; }
	t1=$(ms_now)
	python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timing_us"]; print(" ".join("%s %.1f" % (k, v/1000) for k, v in t.items()))' \
		"$TOPO_DIR/last.json" >>"$TOPO_DIR/phases.$2"
	echo $(((t1 - t0) / 1000))
}
phases() { tail -1 "$TOPO_DIR/phases.$1"; }
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'; }

echo "registering 1000 endpoints..."
python3 tools/bench/gen_policy.py endpoints 1000 | while read -r ns name ip labels; do
	segctl endpoint add "$name" -n "$ns" --ip "$ip" --labels "$labels" --ifname "x$name" >/dev/null
done
python3 tools/bench/gen_policy.py policy 10 >"$TOPO_DIR/p10.yaml"
python3 tools/bench/gen_policy.py policy 10000 >"$TOPO_DIR/p10k.yaml"
python3 tools/bench/gen_policy.py policy 10000 1 --change 5000 >"$TOPO_DIR/p10k-b.yaml"
python3 tools/bench/gen_policy.py policy 10000 1 --change 5001 >"$TOPO_DIR/p10k-c.yaml"

small=$(for _ in $(seq "$RUNS"); do
	segctl delete policy bench-0 -n ns0 >/dev/null 2>&1
	time_apply "$TOPO_DIR/p10.yaml" small; done | median)
segctl delete policy bench-0 -n ns0 >/dev/null
large=$(for _ in $(seq "$RUNS"); do
	for i in $(seq 0 99); do segctl delete policy "bench-$i" -n "ns$((i % 10))" >/dev/null 2>&1; done
	time_apply "$TOPO_DIR/p10k.yaml" large; done | median)
entries=$(segctl status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_entries"])')
change=$(for i in $(seq "$RUNS"); do
	[ $((i % 2)) -eq 1 ] && f=p10k-b.yaml || f=p10k-c.yaml
	time_apply "$TOPO_DIR/$f" change; done | median)

printf '%-52s %10s\n' "segctl apply (median of $RUNS, wall clock)" "ms"
printf '%-52s %10s   %s\n' "10 rules, 1000 endpoints registered" "$small" "$(phases small)"
printf '%-52s %10s   %s\n' "10000 rules / 1000 endpoints ($entries entries)" "$large" "$(phases large)"
printf '%-52s %10s   %s\n' "one-rule change of the 10000-rule policy" "$change" "$(phases change)"
echo "(phases: segd's own ms for the last run: parse, compile, kernel maps, report, persist)"
