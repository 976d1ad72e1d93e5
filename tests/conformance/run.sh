#!/usr/bin/env bash
# The conformance suites against a real segd, real traffic, one topology
# and one segd per suite: a node netns with segd and one netns per pod,
# each pod's agent (agent.py) serving what the suite's model says.
#
#   np   Kubernetes' network policy truth tables (test/e2e/network/netpol):
#        nine pods x/a .. z/c serving TCP and UDP on 80 and 81 (model.py,
#        runner.py, cases/)
#   cnp  kubernetes-sigs/network-policy-api's ClusterNetworkPolicy suite:
#        eight pods in four namespaces serving TCP 80/8080, UDP 53/5353,
#        SCTP 9003/9005, and two hostNetwork pods on two more nodes (a
#        netns each, registered with segctl node set) serving the host
#        ports 34345 .. 34352 (cnp_model.py, cnp_runner.py, cases_cnp/)
#
# README.md in this directory lists the cases. Needs root; build first.
#
#   tests/conformance/run.sh [np|cnp]   every case of a suite (default np)
#   CONFORMANCE_ONLY=REGEX run.sh ...   the cases whose title matches
#   CONFORMANCE_CASES=DIR run.sh ...    case files from DIR instead
#
# Prints "ok - CASE" / "not ok - CASE" and "# conformance: N passed, M
# failed" (np) or "# cnp-conformance: ..." (cnp).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=../../tools/topology.sh
. "$ROOT/tools/topology.sh"

HERE="$ROOT/tests/conformance"
case ${1:-np} in
np) model=model.py runner=runner.py summary=conformance ;;
cnp) model=cnp_model.py runner=cnp_runner.py summary=cnp-conformance ;;
*) echo "usage: $0 [np|cnp]" >&2; exit 2 ;;
esac
# the source tree stays as it is
export PYTHONDONTWRITEBYTECODE=1
AGENTS="$TOPO_DIR/agents"
trap topo_destroy EXIT
trap 'exit 130' INT TERM

# start_agent NETNS NAME PORTS...: a pod's agent (agent.py) in NETNS, its
# socket $AGENTS/NAME.sock; not through topo_bg: its output is kept for a
# failing run
start_agent() {
	local netns=$1 name=$2
	shift 2
	ip netns exec "$netns" python3 "$HERE/agent.py" "$AGENTS/$name.sock" "$@" \
		>>"$TOPO_DIR/agent-$name.log" 2>&1 &
	TOPO_BG_PIDS+=($!)
}

mkdir -p "$AGENTS"
topo_create_node
ifnames=()
i=0
while read -r pod ip ports; do
	name=${pod/\//-}
	# by number: pod names may share their first characters
	topo_add_pod "$name" "$ip" "" "h${TOPO_ID}p$i"
	ifnames+=(--ifname "$pod=h${TOPO_ID}p$i")
	i=$((i + 1))
	# shellcheck disable=SC2086  # ports: one word each
	start_agent "$(pod_ns "$name")" "$name" $ports
done < <(python3 "$HERE/$model" pods)
# the other nodes of the cluster (cnp): each a netns wired as a pod is (its
# own veth from segd's node, ADDR/32, routed through segd's node: reachable
# from the pods like the outside host) but never an endpoint; the agent of
# its hostNetwork pod runs in it, serving on the node's address
i=0
while read -r node ip pod ports; do
	topo_add_pod "$node" "$ip" "" "h${TOPO_ID}n$i"
	i=$((i + 1))
	# shellcheck disable=SC2086  # ports: one word each
	start_agent "$(pod_ns "$node")" "${pod/\//-}" $ports
done < <(python3 "$HERE/$model" hosts)

if ! topo_start_segd; then
	echo "not ok - segd started"
	echo "# $summary: 0 passed, 1 failed"
	exit 1
fi

python3 "$HERE/$runner" --socket "$TOPO_SOCK" --segctl "$SEGCTL_BIN" \
	--agents "$AGENTS" "${ifnames[@]}" ${CONFORMANCE_CASES:+"$CONFORMANCE_CASES"}
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "# segd's log (last lines):"
	tail -n 20 "$TOPO_DIR/segd.log" | sed 's/^/#   /'
	for f in "$TOPO_DIR"/agent-*.log; do
		[ -s "$f" ] && { echo "# $(basename "$f"):"; tail -n 5 "$f" | sed 's/^/#   /'; }
	done
fi
exit "$rc"
