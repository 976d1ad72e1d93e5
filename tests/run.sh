#!/usr/bin/env bash
# Every test of segd: the layout's one-way rule (tests/layout), unit
# (Criterion), BPF programs (BPF_PROG_TEST_RUN),
# fuzz targets (bounded), end to end (network namespaces, real traffic),
# the Kubernetes network policy and ClusterNetworkPolicy conformance cases
# (namespaces, real traffic).
# `make check` builds first and calls this. Needs root.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${BUILD:-build}
total_pass=0 total_fail=0 failed_suites=()

criterion_counts() { # parse "Synthesis: Tested: N | Passing: P | Failing: F | Crashing: C"
	sed -n 's/.*Synthesis: Tested: \([0-9]*\) | Passing: \([0-9]*\) | Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\2 \3 \4/p' | tail -1
}

run_criterion() { # NAME BIN [JOBS]
	local name=$1 bin=$2 jobs=${3:-1} out p f c
	echo "=== $name"
	out=$("$bin" --jobs "$jobs" 2>&1); rc=$?
	echo "$out" | tail -n 40
	read -r p f c < <(criterion_counts <<<"$out")
	p=${p:-0} f=${f:-0} c=${c:-0}
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f + c))
	if [ "$rc" -ne 0 ] || [ $((f + c)) -gt 0 ] || [ "$p" -eq 0 ]; then
		failed_suites+=("$name"); [ $((f + c)) -eq 0 ] && total_fail=$((total_fail + 1))
	fi
}

run_script() {
	local name=$1; shift
	local out p f
	echo "=== $name"
	out=$("$@" 2>&1); rc=$?
	echo "$out"
	read -r p f < <(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' <<<"$out" | tail -1)
	p=${p:-0} f=${f:-0}
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$rc" -ne 0 ]; then
		failed_suites+=("$name"); [ "$f" -eq 0 ] && total_fail=$((total_fail + 1))
	fi
}

run_script layout python3 tests/layout/rooms.py "$B"
run_criterion unit "$B/test_unit"
# each BPF test loads the programs (the verifier: seconds of one core) in
# a bpffs and maps of its own: one test per core at once
run_criterion bpf "$B/test_bpf" "$(nproc)"
run_script fuzz tests/fuzz/run.sh
# every suite removes the namespaces it made (tools/topology.sh names them
# sg<TOPO_ID>-...): what one leaves is its failure, named
netns_left() { # SUITE
	local left
	left=$(ip netns list 2>/dev/null | awk '$1 ~ /^sg/ { print $1 }' | tr '\n' ' ')
	[ -z "$left" ] && return 0
	echo "$1 left network namespaces behind: $left"
	total_fail=$((total_fail + 1)); failed_suites+=("$1 (cleanup)")
	for ns in $left; do ip netns del "$ns" 2>/dev/null; done
}

run_script e2e tests/e2e/run.sh
netns_left e2e
run_script conformance tests/conformance/run.sh
netns_left conformance
run_script cnp-conformance tests/conformance/run.sh cnp
netns_left cnp-conformance

[ ${#failed_suites[@]} -gt 0 ] && echo "failed suites: ${failed_suites[*]}"
echo "segd: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
