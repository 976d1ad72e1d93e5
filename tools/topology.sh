# shellcheck shell=bash
# topology.sh - a segd "node" made of network namespaces, for the demo and
# the end-to-end tests. Source it; nothing here touches the root
# namespace's interfaces or routes.
#
#   node netns   segd runs here; lo holds 169.254.1.1 (pods' gateway) and
#                fd00:200::1; routes each pod address to its host-side veth
#   pod netns    eth0 = ADDR/32 (+ v6/128), default via 169.254.1.1 / fe80::1
#   ext netns    an outside host (203.0.113.0/24, 2001:db8::/32) behind the
#                node's uplink "up0"
#
# Names carry TOPO_ID so concurrent runs cannot collide; topo_destroy (call
# it from a trap) removes everything this run made.

TOPO_ID=${TOPO_ID:-$(printf '%04x' $((RANDOM % 65536)))}
TOPO_NODE="sg${TOPO_ID}-node"
TOPO_EXT="sg${TOPO_ID}-ext"
TOPO_DIR=${TOPO_DIR:-$(mktemp -d "/tmp/segd-${TOPO_ID}.XXXXXX")}
TOPO_BPFFS="$TOPO_DIR/bpffs"
TOPO_SOCK="$TOPO_DIR/segd.sock"
TOPO_STATE="$TOPO_DIR/state"
# nstat's counter history: the run's own, not /tmp/.nstat.u<uid>
export NSTAT_HISTORY="$TOPO_DIR/nstat.history"
TOPO_PODS=()
TOPO_SEGD_PID=
TOPO_BG_PIDS=()
# python3 through a version manager's shim (pyenv's is a chain of bash
# scripts: ~0.5 s of CPU per call, more than the probe it starts; a probe
# is timed from the moment it is started) resolves to the same interpreter
# each time: its own directory goes first in PATH, as the shim would put it
_topo_py=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null)
if [ -n "$_topo_py" ] && [ "$(readlink -f "$(command -v python3)")" != "$_topo_py" ]; then
	PATH="${_topo_py%/*}:$PATH"
fi
unset _topo_py
: "${SEGD_BIN:=build/segd}" "${SEGCTL_BIN:=build/segctl}"
SEGD_BIN=$(readlink -f "$SEGD_BIN")
SEGCTL_BIN=$(readlink -f "$SEGCTL_BIN")

in_node() { ip netns exec "$TOPO_NODE" "$@"; }
in_ext() { ip netns exec "$TOPO_EXT" "$@"; }
in_pod() { local pod=$1; shift; ip netns exec "sg${TOPO_ID}-$pod" "$@"; }
pod_ns() { echo "sg${TOPO_ID}-$1"; }
# host-side interface of a pod (<= 15 chars)
pod_if() { echo "h${TOPO_ID}${1:0:6}"; }

segctl() { in_node env SEGD_SOCKET="$TOPO_SOCK" "$SEGCTL_BIN" "$@"; }

topo_create_node() {
	mkdir -p "$TOPO_BPFFS" "$TOPO_STATE"
	# a bpffs of our own: ip netns exec remounts /sys, so /sys/fs/bpf is
	# not what segd would see there; mounts under /tmp do propagate
	mount -t bpf bpf "$TOPO_BPFFS"
	ip netns add "$TOPO_NODE"
	in_node ip link set lo up
	in_node ip addr add 169.254.1.1/32 dev lo
	in_node ip -6 addr add fd00:200::1/128 dev lo nodad
	in_node sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip netns add "$TOPO_EXT"
	in_ext ip link set lo up
	ip link add up0 netns "$TOPO_NODE" type veth peer name eth0 netns "$TOPO_EXT"
	in_node ip addr add 203.0.113.1/24 dev up0
	in_node ip -6 addr add 2001:db8::1/64 dev up0 nodad
	in_node ip link set up0 up
	in_ext ip addr add 203.0.113.10/24 dev eth0
	in_ext ip -6 addr add 2001:db8::10/64 dev eth0 nodad
	in_ext ip link set eth0 up
	in_ext ip route add 10.200.0.0/16 via 203.0.113.1
	in_ext ip -6 route add fd00:200::/64 via 2001:db8::1
}

# topo_add_pod NAME IPV4 [IPV6 [HOST_IFNAME]]  (IPV6 may be "")
topo_add_pod() {
	local name=$1 v4=$2 v6=${3:-} ns hif
	ns=$(pod_ns "$name")
	hif=${4:-$(pod_if "$name")}
	ip netns add "$ns"
	# known to topo_destroy from now on: a run stopped halfway leaves nothing
	TOPO_PODS+=("$name")
	ip netns exec "$ns" ip link set lo up
	ip link add "$hif" netns "$TOPO_NODE" type veth peer name eth0 netns "$ns"
	in_node ip link set "$hif" up
	in_node ip -6 addr add fe80::1/64 dev "$hif" nodad
	ip netns exec "$ns" ip addr add "$v4/32" dev eth0
	ip netns exec "$ns" ip link set eth0 up
	ip netns exec "$ns" ip route add 169.254.1.1 dev eth0 scope link
	ip netns exec "$ns" ip route add default via 169.254.1.1 dev eth0
	in_node ip route add "$v4/32" dev "$hif"
	if [ -n "$v6" ]; then
		ip netns exec "$ns" ip -6 addr add "$v6/128" dev eth0 nodad
		ip netns exec "$ns" ip -6 route add default via fe80::1 dev eth0
		in_node ip -6 route add "$v6/128" dev "$hif"
	fi
}

# Start segd in the node; extra args are passed on.
topo_start_segd() {
	# not through in_node: $! must be segd itself, not a subshell
	ip netns exec "$TOPO_NODE" env LIBXDP_BPFFS="$TOPO_BPFFS" "$SEGD_BIN" \
		--socket "$TOPO_SOCK" --bpffs "$TOPO_BPFFS/segd" \
		--state-dir "$TOPO_STATE" "$@" >>"$TOPO_DIR/segd.log" 2>&1 &
	TOPO_SEGD_PID=$!
	# up to 20 s: loading BPF takes long on a busy machine; a segd that
	# dies stops the wait at once
	for _ in $(seq 1 400); do
		[ -S "$TOPO_SOCK" ] && segctl status >/dev/null 2>&1 && return 0
		kill -0 "$TOPO_SEGD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "segd did not start; its log:" >&2
	cat "$TOPO_DIR/segd.log" >&2
	return 1
}

topo_stop_segd() {
	local sig=${1:-TERM}
	[ -n "$TOPO_SEGD_PID" ] || return 0
	kill -"$sig" "$TOPO_SEGD_PID" 2>/dev/null || true
	wait "$TOPO_SEGD_PID" 2>/dev/null || true
	TOPO_SEGD_PID=
}

# Background helpers (servers) that topo_destroy stops.
topo_bg() {
	"$@" >/dev/null 2>&1 &
	TOPO_BG_PIDS+=($!)
}

# topo_fail MSG: a step of the topology that failed (a server that never
# listened); said on stderr here, counted as a failure by tests/e2e/lib.sh
topo_fail() { echo "topology: $*" >&2; }

# ---- waiting ------------------------------------------------------------------
# Never a fixed sleep before something that must have happened: poll for it,
# with a deadline, so a busy machine is only slower, never wrong.

# wait_until TIMEOUT_S CMD...: run CMD until it succeeds (0) or TIMEOUT_S
# seconds (may be fractional) have passed (1); CMD runs at least once
wait_until() {
	local end
	end=$(_topo_us_after "$1"); shift
	until "$@"; do
		[ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# not CMD...: CMD failed (for wait_until: until something is gone)
not() { ! "$@"; }

# lines_at_least FILE N: FILE has N lines or more (a missing file has none)
lines_at_least() { [ "$(lines "$1")" -ge "$2" ]; }
lines() { wc -l 2>/dev/null <"$1" || echo 0; }   # FILE: its lines, 0 when missing

# microseconds since the epoch, S seconds from now
_topo_us_after() {
	local s=$1 us=${EPOCHREALTIME//[!0-9]/} int frac
	int=${s%%.*} frac=${s#"$int"}
	frac=${frac#.}000000
	echo $((us + ${int:-0} * 1000000 + 10#${frac:0:6}))
}

# _listening WHERE WHO PORT tcp|udp: a socket listens (TCP) or is bound
# (UDP) on PORT there, on any address
_listening() {
	local flags=-Hltn
	[ "$4" = udp ] && flags=-Hlun
	[ -n "$(_run_in "$1" "$2" ss "$flags" "sport = :$3" 2>/dev/null)" ]
}

# wait_listen WHERE WHO PORT [tcp|udp]: until a server listens on PORT in a
# pod / the ext host / the node (WHERE WHO as for the probes), at most
# TOPO_LISTEN_TIMEOUT (10) seconds; a server that never listens is a
# failure of its own (topo_fail), not a mystery in the probe after it
wait_listen() {
	local where=$1 who=$2 port=$3 proto=${4:-tcp} t=${TOPO_LISTEN_TIMEOUT:-10}
	wait_until "$t" _listening "$where" "$who" "$port" "$proto" && return 0
	topo_fail "nothing listens on $proto/$port in $where${who:+ $who} after $t s"
	return 1
}

# _topo_del_ns NETNS: its processes killed, its name removed; a removal
# that fails is retried (a process entering it as we list them) and then
# said on stderr, never silently left behind
_topo_del_ns() {
	local pids try err
	for try in 1 2 3; do
		[ -e "/run/netns/$1" ] || return 0
		pids=$(ip netns pids "$1" 2>/dev/null)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		err=$(ip netns del "$1" 2>&1) && return 0
		sleep 0.2
	done
	echo "topology: could not remove network namespace $1: $err" >&2
	return 1
}

topo_destroy() {
	local p
	for p in "${TOPO_BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	topo_stop_segd KILL
	# whatever still runs inside our namespaces (servers, streams) goes too
	for p in "${TOPO_PODS[@]}"; do _topo_del_ns "$(pod_ns "$p")"; done
	_topo_del_ns "$TOPO_EXT"
	_topo_del_ns "$TOPO_NODE"
	umount "$TOPO_BPFFS" 2>/dev/null || true
	rm -rf "$TOPO_DIR"
}

# ---- traffic ----------------------------------------------------------------
# Each probe exits 0 when the traffic got through. Bounded by timeouts.

# tcp_ok SRC_NETNS_CMD... -- use: tcp_ok pod web 10.200.1.20 8080
_run_in() {
	local where=$1 who=$2; shift 2
	case $where in
	pod) in_pod "$who" "$@" ;;
	ext) in_ext "$@" ;;
	node) in_node "$@" ;;
	esac
}

# What decides a probe are probe.py's socket timeouts (1.5 s to connect
# and for the echo, 1 s for a UDP echo), counted once it runs; the outer
# timeout (PROBE_HANG, 10 s) only stops a probe that hangs, and counts the
# interpreter's start too, which on a busy machine alone can take seconds.
PROBE_HANG=${PROBE_HANG:-10}

# probe_tcp WHERE WHO ADDR PORT: full connect and one echoed line
probe_tcp() { # WHERE WHO ADDR PORT [PAYLOAD]
	local out
	out=$(_run_in "$1" "$2" timeout "$PROBE_HANG" python3 "$TOPO_TOOLS/probe.py" tcp "$3" "$4" ${5:+"$5"} 2>/dev/null) || return 1
	[ "$out" = ok ]
}

probe_udp() {
	local out
	out=$(_run_in "$1" "$2" timeout "$PROBE_HANG" python3 "$TOPO_TOOLS/probe.py" udp "$3" "$4" 2>/dev/null) || return 1
	[ "$out" = ok ]
}

probe_ping() {
	local fam=-4
	case $3 in *:*) fam=-6 ;; esac
	_run_in "$1" "$2" ping "$fam" -c 1 -W 1 "$3" >/dev/null 2>&1
}

# echo servers (TCP and UDP) on PORT in a pod / the ext host; returns once
# both listen (1 and a topo_fail when they do not)
serve() {
	local where=$1 who=$2 port=$3
	topo_bg _run_in "$where" "$who" python3 "$TOPO_TOOLS/probe.py" serve "$port"
	wait_listen "$where" "$who" "$port" tcp && wait_listen "$where" "$who" "$port" udp
}

TOPO_TOOLS=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
