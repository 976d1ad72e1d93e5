#!/usr/bin/env bash
# The Kubernetes network policy conformance cases (upstream's
# test/e2e/network/netpol truth tables) against a real segd: a node netns
# with segd, nine pod netns (x/a .. z/c) each serving TCP and UDP on 80 and
# 81, real traffic. One topology and one segd for every case.
# README.md in this directory lists the cases. Needs root; build first.
#
#   tests/conformance/run.sh            every case
#   CONFORMANCE_ONLY=REGEX run.sh       the cases whose title matches
#
# Prints "ok - CASE" / "not ok - CASE" and "# conformance: N passed, M failed".
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../../tools/topology.sh
. "$ROOT/tools/topology.sh"

HERE="$ROOT/tests/conformance"
# the source tree stays as it is
export PYTHONDONTWRITEBYTECODE=1
AGENTS="$TOPO_DIR/agents"
trap topo_destroy EXIT
trap 'exit 130' INT TERM

mkdir -p "$AGENTS"
topo_create_node
ifnames=()
while read -r pod ip; do
	name=${pod/\//-}
	topo_add_pod "$name" "$ip"
	ifnames+=(--ifname "$pod=$(pod_if "$name")")
	# not through topo_bg: its output is kept for a failing run
	ip netns exec "$(pod_ns "$name")" python3 "$HERE/agent.py" \
		"$AGENTS/$name.sock" 80 81 >>"$TOPO_DIR/agent-$name.log" 2>&1 &
	TOPO_BG_PIDS+=($!)
done < <(python3 "$HERE/model.py" pods)

if ! topo_start_segd; then
	echo "not ok - segd started"
	echo "# conformance: 0 passed, 1 failed"
	exit 1
fi

python3 "$HERE/runner.py" --socket "$TOPO_SOCK" --segctl "$SEGCTL_BIN" \
	--agents "$AGENTS" "${ifnames[@]}"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "# segd's log (last lines):"
	tail -n 20 "$TOPO_DIR/segd.log" | sed 's/^/#   /'
	for f in "$TOPO_DIR"/agent-*.log; do
		[ -s "$f" ] && { echo "# $(basename "$f"):"; tail -n 5 "$f" | sed 's/^/#   /'; }
	done
fi
exit "$rc"
