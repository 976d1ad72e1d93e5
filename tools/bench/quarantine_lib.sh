# shellcheck shell=bash
# quarantine_lib.sh - what the containment benchmarks share (quarantine.sh,
# detect.sh): a node with pods src (10.200.1.10) and dst (10.200.1.30),
# segd enforcing default deny plus src -> dst udp/7000, and src's timed UDP
# stream to dst (quarantine_probe.py send/recv): dst's log says "flowing"
# when traffic (re)starts and "cut T I" once nothing arrived for 300 ms,
# T = the send time (CLOCK_REALTIME ns) of the last datagram that got
# through, I = the mean interval between datagrams. Source it from the
# project root after tools/topology.sh; it sets its own EXIT trap.

QB_PROBE=tools/bench/quarantine_probe.py
QB_NFLOW=1   # "flowing" lines the log should have by now

# qb_setup [SEGD ARGS...]: the node, both pods, segd (with ARGS) and the
# policy ($QB_POLICY); with QB_TCP=1, src may also reach dst on every TCP
# port (what detect.sh's scan needs)
qb_setup() {
	local ports="{protocol: UDP, port: 7000}${QB_TCP:+, {protocol: TCP\}}"
	trap topo_destroy EXIT
	topo_create_node
	topo_add_pod src 10.200.1.10
	topo_add_pod dst 10.200.1.30
	topo_start_segd "$@" || return 1
	segctl namespace set bench >/dev/null
	segctl endpoint add src -n bench --ip 10.200.1.10 --labels app=src \
		--ifname "$(pod_if src)" >/dev/null
	segctl endpoint add dst -n bench --ip 10.200.1.30 --labels app=dst \
		--ifname "$(pod_if dst)" >/dev/null
	QB_POLICY=$TOPO_DIR/bench.yaml
	QB_LOG=$TOPO_DIR/recv.log
	QB_T0F=$TOPO_DIR/t0
	cat >"$QB_POLICY" <<YAML
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: default-deny, namespace: bench}
spec: {ingress: [], egress: []}
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: src-out, namespace: bench}
spec:
  appliesTo: {selector: {matchLabels: {app: src}}}
  egress:
    - to: [{selector: {matchLabels: {app: dst}}}]
      ports: [$ports]
---
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: dst-in, namespace: bench}
spec:
  appliesTo: {selector: {matchLabels: {app: dst}}}
  ingress:
    - from: [{selector: {matchLabels: {app: src}}}]
      ports: [$ports]
YAML
	segctl apply "$QB_POLICY" >/dev/null
}

# qb_stream SECONDS [SENTLOG]: src's stream to dst for SECONDS; returns
# once it flows. With SENTLOG the sender keeps every send time for
# qb_sent_times.
qb_stream() {
	: >"$QB_LOG"
	topo_bg in_pod dst python3 "$QB_PROBE" recv 7000 "$QB_LOG" "$1"
	wait_listen pod dst 7000 udp || return 1
	topo_bg in_pod src python3 "$QB_PROBE" send 10.200.1.30 7000 "$1" ${2:+"$2"}
	qb_wait_line flowing 1 || { echo "no traffic" >&2; return 1; }
}

# qb_sent_times SENTLOG: stop the sender; once it has written SENTLOG
qb_sent_times() {
	touch "$1.stop"
	wait_until 5 test -s "$1"
}

# qb_wait_line WORD N: until the log has N lines starting with WORD (<= 5 s)
qb_has_lines() { [ "$(grep -c "^$1" "$QB_LOG")" -ge "$2" ]; }
qb_wait_line() { wait_until 5 qb_has_lines "$@"; }

# qb_cut_time N: once the log has N cut lines, the N-th cut's T (ns)
qb_cut_time() {
	qb_wait_line cut "$1" || return 1
	grep '^cut' "$QB_LOG" | sed -n "${1}p" | cut -d' ' -f2
}

# qb_exec CMD...: run CMD in the node via the timestamping exec; T0, the
# moment CMD was invoked (ns), in $QB_T0F
qb_exec() {
	in_node env SEGD_SOCKET="$TOPO_SOCK" python3 "$QB_PROBE" exec "$QB_T0F" "$@" >/dev/null
}

# qb_cut_ms N CMD...: qb_exec CMD; ms from T0 to the N-th cut's last
# datagram (run in $(...): the caller counts)
qb_cut_ms() {
	local n=$1 t; shift
	qb_exec "$@" || return 1
	t=$(qb_cut_time "$n") || return 1
	python3 -c 'import sys; print("%.3f" % ((int(sys.argv[2]) - int(sys.argv[1])) / 1e6))' \
		"$(cat "$QB_T0F")" "$t"
}

# qb_resume CMD...: run CMD (a release), then until traffic flows again
qb_resume() {
	"$@" >/dev/null
	QB_NFLOW=$((QB_NFLOW + 1))
	qb_wait_line flowing "$QB_NFLOW"
}

# qb_gap_ms: the mean interval between datagrams over all cuts, in ms
qb_gap_ms() {
	awk '/^cut/ { s += $3; n++ } END { if (n) printf "%.3f", s / n / 1e6 }' "$QB_LOG"
}
