#!/usr/bin/env bash
# segd side by side with what an operator would run instead on the node
# (issue 15), on one topology and one path for every contender: the
# outside host -> node -> pod web over veths (tools/bench/path_lib.sh).
#
# Contenders, one on the path at a time:
#   none             no filter (segd's programs off the path, no rules)
#   iptables-nft     iptables (nf_tables backend): N rules in FORWARD
#                    behind an ESTABLISHED,RELATED accept, policy DROP
#   iptables-legacy  the same rules through iptables-legacy
#   nft-rules        nftables, the same rules one per line
#   nft-set          nftables, one lookup in a concatenated interval set
#                    (addresses . protocol . port, as kube-proxy keys it)
#   segd             N NetworkPolicy ipBlock rules for web (segctl apply),
#                    its programs on the path as segd attaches them with
#                    its default config (segctl attach up0 --role uplink)
#   segd-labels      the same with N label rules instead: N pods of other
#                    nodes (segctl endpoint load, one identity each), a
#                    podSelector rule naming each; the N endpoints stay
#                    registered for segd too (N ascends: each N loads
#                    the next N over the last)
# None of the N rules matches the traffic (tools/bench/gen_policy.py
# peers): each new flow meets all of them before the rules that allow it.
#
# The path: the sender in the outside host is pinned to CPU 0; RPS on the
# node's up0 moves the receive path to CPU 1, so the path, not the sender,
# is the limit (with the flood's AF_PACKET sender, a path that cannot keep
# up pushes back through the socket's send buffer). Pod web holds a UDP
# sink on 5201 that never reads (its datagrams drop at the socket: no ICMP
# port unreachable for each), iperf3 servers (path_lib.sh) and a
# bench_tcp_crr server on TCP 8000 pinned to CPU 1. The server closes
# first, so TIME_WAIT would stay on its side: 60,000 and more sockets a
# (d) window, whose timers fire 60 s later on CPU 1, in the middle of
# some later contender's window (they spread every contender's (a), (b)
# and (d) rounds, none's (d) over 17-27 k connections a second); web's
# namespace keeps none (tcp_max_tw_buckets 0), so each window pays for
# its own connections only.
#
# Traffic kinds (PEERS_KINDS, default "a b c d"), each its own table:
#   a  bench_udp_flood: UDP from 60,000 source ports, never answered, so
#      every packet is "new" to netfilter; received = pod's eth0 rx packets
#   b  bench_udp_flood -n: a new 5-tuple every packet (beyond any table)
#   c  established TCP, iperf3 one stream, outside -> pod and pod ->
#      outside (-R), client on CPU 0, server on CPU 1
#   d  TCP connections per second (bench_tcp_crr, PEERS_CRR_CONC at a
#      time, default 32): connect, one request, reply, close; the outside
#      host's ephemeral ports 1024-65535 with tcp_tw_reuse (its own
#      namespace's sysctls)
# Each kind is a phase of its own at each N: all its rounds, contenders
# rotated each round and each put on the path for that one window, before
# the next kind: windows of (d) right after the floods of the other kinds
# spread far more from round to round than in a phase of their own
# (docs/performance.md, Method). Each phase starts with a window of
# no filter whose figures are thrown away (a phase's first windows read
# low for every contender), and each window once CPU 1 is quiet (quiet
# below). Conntrack is emptied after every window (netfilter's with
# conntrack -F, segd's with segctl conntrack flush). Medians and min-max
# over ROUNDS. Load: wall time of iptables-restore / nft -f each time a
# contender goes on, segctl apply once per N. A policy set past segd's
# max_rules (131,072 unless set) is refused: shown as refused.
# Kernel memory for the N rules, before the traffic of each N: for
# netfilter, the kernel memory the load leaves charged to a fresh memory
# cgroup the loader ran in (nested in ours; /proc/meminfo's SUnreclaim +
# VmallocUsed + Percpu after minus before when there is no cgroup to nest
# in), median of PEERS_MEM_REPS (3) loads; for segd, the bytes_memlock
# of its maps (tools/bench/peers_report.py segd-maps) after segctl apply
# minus before, and after.
#
#   bash tools/bench/peers.sh [ROUNDS] [SECONDS] [N...]
#                             (root; default 5 3 10 1000 10000 100000)
#   PEERS_KINDS="a b c d"  the traffic kinds to run
#   PEERS_CONTENDERS="..."  the contenders to run (default all of them)
#   PEERS_IMG=DIR          where the PNG plots go (default docs/img;
#                          "none": no plots)
#   PEERS_RAW=FILE         keeps the raw lines (KIND N CONTENDER ROUND VALUE;
#                          peers_report.py report FILE draws them again)
# Caveat: iptables-legacy's filter table stays registered in the node's
# namespace once used (flushed, policy ACCEPT, but its hooks stay until
# the namespace goes), so every contender after its first run pays an
# empty table walk too.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${1:-5}
SECS=${2:-3}
NS=("${@:3}")
[ ${#NS[@]} -gt 0 ] || NS=(10 1000 10000 100000)
# ascending: segd-labels' endpoints of one N are loaded over the last N's
mapfile -t NS < <(printf '%s\n' "${NS[@]}" | sort -n -u)
read -ra KINDS <<<"${PEERS_KINDS:-a b c d}"
for k in "${KINDS[@]}"; do
	case $k in a | b | c | d) ;; *) echo "peers: unknown kind $k (a b c d)" >&2; exit 2 ;; esac
done
IMG=${PEERS_IMG:-docs/img}
CRR_CONC=${PEERS_CRR_CONC:-32}
MEM_REPS=${PEERS_MEM_REPS:-3}
FLOOD=$(readlink -f "${BUILD:-build}/bench_udp_flood")
CRR=$(readlink -f "${BUILD:-build}/bench_tcp_crr")
for b in "$FLOOD" "$CRR"; do
	[ -x "$b" ] || { echo "peers: build $b first (make all bench)" >&2; exit 1; }
done
for tool in iptables-nft-restore iptables-legacy-restore nft conntrack iperf3 bpftool; do
	command -v "$tool" >/dev/null || { echo "peers: $tool missing: tools/install-deps.sh" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "peers: needs 2 CPUs (sender on 0, path on 1)" >&2; exit 1; }
. tools/topology.sh
. tools/bench/path_lib.sh
path_setup || exit 1
ALL=(none iptables-nft iptables-legacy nft-rules nft-set segd segd-labels)
read -ra CONTENDERS <<<"${PEERS_CONTENDERS:-${ALL[*]}}"
for c in "${CONTENDERS[@]}"; do
	[[ " ${ALL[*]} " == *" $c "* ]] || { echo "peers: unknown contender $c (${ALL[*]})" >&2; exit 2; }
done
NETFILTER=()
for c in iptables-nft iptables-legacy nft-rules nft-set; do
	[[ " ${CONTENDERS[*]} " == *" $c "* ]] && NETFILTER+=("$c")
done
RES=$TOPO_DIR/results
declare -A SEGD_OK SEGD_LABELS_OK

# RPS to CPU 1, the UDP sink in web (path_lib.sh)
path_flood_setup || exit 1
in_pod web sysctl -qw net.ipv4.tcp_max_tw_buckets=0 || exit 1
topo_bg in_pod web taskset -c 1 "$CRR" server 8000
wait_listen pod web 8000 || exit 1
# these sysctls are per network namespace: the outside host's only
in_ext sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 || exit 1

ms_since() { echo $(((${EPOCHREALTIME//[!0-9]/} - $1) / 1000)); }

# Kernel memory that a load leaves behind (see the header). With a memory
# cgroup of our own to nest in, the loader runs in a fresh child of it
# and the kernel memory charged there (rules, sets, x_tables blobs: all
# allocated with accounting) is read once the loader has exited, then the
# child goes (its charges fall back to our cgroup, where they would have
# been). Without one: /proc/meminfo, machine-wide, noisy on a busy machine.
MEMCG='' MEMCG_KIND=meminfo
memcg_find() {
	local p
	p=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
	if [ -n "$p" ] && [ -r "/sys/fs/cgroup/memory$p/memory.kmem.usage_in_bytes" ]; then
		MEMCG=/sys/fs/cgroup/memory$p MEMCG_KIND=v1
		return
	fi
	p=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	if [ -n "$p" ] && grep -qw memory "/sys/fs/cgroup$p/cgroup.subtree_control" 2>/dev/null; then
		MEMCG=/sys/fs/cgroup$p MEMCG_KIND=v2
	fi
}
memcg_find
echo "memmethod $MEMCG_KIND" >"$RES"
MEMCG_CHILD=
# the loader in the child is in the node's namespace: gone with it
trap 'topo_destroy; [ -n "$MEMCG_CHILD" ] && sleep 0.2 && rmdir "$MEMCG_CHILD"' EXIT

# kmem [CGROUP]: kernel memory charged to CGROUP, or the machine's
kmem() {
	case $MEMCG_KIND in
	v1) cat "$1/memory.kmem.usage_in_bytes" ;;
	v2) awk '$1 == "kernel" { print $2 }' "$1/memory.stat" ;;
	*) awk '/^(SUnreclaim|VmallocUsed|Percpu):/ { s += $2 } END { print s * 1024 }' /proc/meminfo ;;
	esac
}

# rules_file N FORMAT: gen_policy.py's rules, generated once per N
rules_file() {
	local f=$TOPO_DIR/$2.$1
	[ -s "$f" ] || python3 tools/bench/gen_policy.py peers "$2" "$1" >"$f"
	echo "$f"
}

# load_rules C N: netfilter contender C's N rules into the node
load_rules() {
	case $1 in
	iptables-nft) in_node iptables-nft-restore <"$(rules_file "$2" iptables)" ;;
	iptables-legacy) in_node iptables-legacy-restore <"$(rules_file "$2" iptables)" ;;
	nft-rules | nft-set) in_node nft -f "$(rules_file "$2" "$1")" ;;
	esac
}

# contender_on C N ROUND: C's rules (or programs) on the path; the load
# time of netfilter's rules appended to $RES
contender_on() {
	local t0=${EPOCHREALTIME//[!0-9]/}
	case $1 in
	none) return 0 ;;
	segd) path_configure tc+xdp; return ;;
	segd-labels)
		quiet_apply "$(rules_file "$2" labels)" && path_configure tc+xdp
		return ;;
	esac
	load_rules "$1" "$2" || return 1
	echo "load $2 $1 $3 $(ms_since "$t0")" >>"$RES"
}

# empty_conntrack CONTENDER: netfilter's conntrack emptied, and segd's
# when segd was on the path: a flood leaves tens of thousands of entries
# whose final records segd's next flow pass would make in the middle of
# the next window (segd's CPU, not the path's), as netfilter's would be
# looked up and expired there without the flush
empty_conntrack() {
	in_node conntrack -F >/dev/null 2>&1
	case $1 in
	segd | segd-labels)
		segctl conntrack flush >/dev/null ||
			echo "# segctl conntrack flush failed: segd's table stays" >&2 ;;
	esac
	return 0
}

contender_off() {
	case $1 in
	segd) path_configure none ;;
	segd-labels)
		path_configure none
		quiet_apply "$(rules_file "$2" networkpolicy)" ;;
	iptables-legacy)
		in_node iptables-legacy -P FORWARD ACCEPT
		in_node iptables-legacy -F FORWARD ;;
	iptables-nft | nft-rules | nft-set) in_node nft flush ruleset ;;
	esac
	empty_conntrack "$1"
	return 0
}

# mem_netfilter N: each netfilter contender's kernel memory for N rules
mem_netfilter() {
	local rep c m0 m1 ok f
	# the files first, outside the window (and the cgroup)
	for f in iptables nft-rules nft-set; do rules_file "$1" "$f" >/dev/null; done
	for rep in $(seq 0 $((MEM_REPS - 1))); do
		for c in "${NETFILTER[@]}"; do
			if [ -n "$MEMCG" ]; then
				MEMCG_CHILD=$MEMCG/segd-peers.$$
				mkdir "$MEMCG_CHILD" || return 1
				m0=$(kmem "$MEMCG_CHILD")
				(echo "$BASHPID" >"$MEMCG_CHILD/cgroup.procs" && load_rules "$c" "$1")
				ok=$?
				sleep 0.5   # RCU callbacks of the commit
				m1=$(kmem "$MEMCG_CHILD")
				rmdir "$MEMCG_CHILD"
				MEMCG_CHILD=
			else
				sleep 1   # what the last flush freed goes after a grace period
				m0=$(kmem)
				load_rules "$c" "$1"
				ok=$?
				sleep 1
				m1=$(kmem)
			fi
			[ $ok = 0 ] && echo "mem $1 $c $rep $((m1 - m0))" >>"$RES"
			contender_off "$c" "$1"
		done
	done
}

# segd_measure_apply N CONTENDER FORMAT: policy peers replaced by
# gen_policy.py's FORMAT rules; the apply's time and the bytes of segd's
# maps across it recorded as CONTENDER's; 1 (and "refused") if refused
segd_measure_apply() {
	local t0 ms out b0 b1 maps
	segctl delete policy peers -n shop >/dev/null 2>&1
	sleep 1
	read -r b0 _ < <(python3 tools/bench/peers_report.py segd-maps "$TOPO_SEGD_PID")
	t0=${EPOCHREALTIME//[!0-9]/}
	if ! out=$(segctl apply "$(rules_file "$1" "$3")" 2>&1); then
		echo "# $2 refuses N = $1: $(echo "$out" | tail -1)"
		echo "refused $1 $2" >>"$RES"
		segctl delete policy peers -n shop >/dev/null 2>&1
		return 1
	fi
	ms=$(ms_since "$t0")
	sleep 1   # the apply's grace period, old inner maps freed
	read -r b1 maps < <(python3 tools/bench/peers_report.py segd-maps "$TOPO_SEGD_PID")
	{
		echo "load $1 $2 0 $ms"
		echo "mem $1 $2-maps 0 $((b1 - b0))"
		echo "mem $1 $2-maps-total 0 $b1"
	} >>"$RES"
	echo "# $2 N = $1: apply $ms ms, $maps maps, $b1 bytes" >&2
}

# segd_apply N: the N ipBlock rules (contender segd)
segd_apply() { segd_measure_apply "$1" segd networkpolicy; }

quiet_apply() { segctl apply "$1" >/dev/null; }

# segd_labels_prepare N: the N endpoints of other nodes loaded (one
# segctl endpoint load), then the N label rules applied in place of the
# ipBlock ones; 1 if refused. segd_apply puts the ipBlock ones back after.
segd_labels_prepare() {
	local t0 out
	t0=${EPOCHREALTIME//[!0-9]/}
	if ! out=$(segctl endpoint load "$(rules_file "$1" peer-endpoints)" 2>&1); then
		echo "# segd refuses the $1 endpoints: $(echo "$out" | tail -1)"
		echo "refused $1 segd-labels" >>"$RES"
		return 1
	fi
	echo "load $1 segd-labels-endpoints 0 $(ms_since "$t0")" >>"$RES"
	segd_measure_apply "$1" segd-labels labels
}

# flood KIND N C ROUND [-n]: one flood; packets/s received and sent
flood() {
	local before after sent refused
	before=$(path_sink_rx)
	read -r sent refused < <(in_ext taskset -c 0 "$FLOOD" -i eth0 -m "$UP0_MAC" \
		${5:+"$5"} 203.0.113.10 10.200.1.10 5201 "$SECS")
	sleep 0.2   # the backlogs on the way drain in well under this
	after=$(path_sink_rx)
	[ "${refused:-0}" = 0 ] || echo "# $1 $2 $3: the sender saw $refused refusals" >&2
	echo "$1 $2 $3 $4 $(((after - before) / SECS))" >>"$RES"
	echo "$1-sent $2 $3 $4 $((${sent:-0} / SECS))" >>"$RES"
}

# tcp_bulk KIND N C ROUND PATH: one iperf3 run, Gbit/s received
tcp_bulk() {
	local args gbit
	read -ra args <<<"$(path_client "$5")"
	# args[0] is in_ext, a function: the timeout goes inside it
	gbit=$("${args[0]}" timeout $((SECS + 15)) "${args[@]:1}" -A 0,1 -p 5201 \
		-t "$SECS" -J 2>/dev/null |
		python3 -c 'import json, sys
try: print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except (ValueError, KeyError): print("nan")')
	if [ "$gbit" = nan ]; then
		echo "# $1 N = $2 $3: iperf3 failed" >&2
		return
	fi
	echo "$1 $2 $3 $4 $gbit" >>"$RES"
}

# crr N C ROUND: connections per second completed and failed
crr() {
	local completed failed
	read -r completed failed < <(in_ext timeout $((SECS + 15)) taskset -c 0 "$CRR" \
		client 10.200.1.10 8000 "$SECS" "$CRR_CONC")
	if [ -z "${completed:-}" ]; then
		echo "# d N = $1 $2: bench_tcp_crr failed" >&2
		return
	fi
	echo "d $1 $2 $3 $((completed / SECS))" >>"$RES"
	echo "d-failed $1 $2 $3 $((failed / SECS))" >>"$RES"
}

# quiet: before a window, wait (10 s at most) until CPU 1, the path's,
# idles 90 % of half a second. What a contender's removal or the last
# window leaves behind (netfilter's deferred rule and conntrack frees,
# RCU callbacks, timers, segd's flush) then runs before the window, not
# inside the next contender's.
quiet() {
	local i a b hz
	hz=$(getconf CLK_TCK)
	for i in $(seq 20); do
		read -r a _ < <(cpu1_ticks)
		sleep 0.5
		read -r b _ < <(cpu1_ticks)
		[ $((b - a)) -ge $((hz * 45 / 100)) ] && return 0
	done
	echo "# $1 N = $2 $3: CPU 1 still busy after 10 s" >&2
}

measure() {   # KIND N C ROUND
	quiet "$@"
	case $1 in
	a) flood a "$2" "$3" "$4" ;;
	b) flood b "$2" "$3" "$4" -n ;;
	c) tcp_bulk c-in "$2" "$3" "$4" "outside->pod"
	   tcp_bulk c-out "$2" "$3" "$4" "pod->outside" ;;
	d) crr "$2" "$3" "$4" ;;
	esac
}

echo "# peers: kinds ${KINDS[*]}, outside -> pod web, $ROUNDS rounds x $SECS s, N = ${NS[*]}, sender on CPU 0, RPS to CPU 1, $(nproc) CPUs, $(uname -r), $(date -u '+%F %H:%M UTC')"
path_configure none
# warm_up KIND: a window of no filter, its figures thrown away
warm_up() {
	local RES=/dev/null
	measure "$1" 0 none warm-up
}
for n in "${NS[@]}"; do
	mem_netfilter "$n"
	SEGD_OK[$n]=1 SEGD_LABELS_OK[$n]=1
	if [[ " ${CONTENDERS[*]} " == *" segd-labels "* ]]; then
		segd_labels_prepare "$n" || SEGD_LABELS_OK[$n]=0
	fi
	segd_apply "$n" || SEGD_OK[$n]=0
	nc=${#CONTENDERS[@]}
	for k in "${KINDS[@]}"; do
		warm_up "$k"
		for r in $(seq 0 $((ROUNDS - 1))); do
			for i in "${!CONTENDERS[@]}"; do
				c=${CONTENDERS[$(((i + r) % nc))]}
				[ "$c" = segd ] && [ "${SEGD_OK[$n]}" = 0 ] && continue
				[ "$c" = segd-labels ] && [ "${SEGD_LABELS_OK[$n]}" = 0 ] && continue
				if contender_on "$c" "$n" "$r"; then
					measure "$k" "$n" "$c" "$r"
				else
					echo "# $c failed to load N = $n" >&2
				fi
				contender_off "$c" "$n"
			done
			echo "# N = $n, kind $k: round $((r + 1)) of $ROUNDS done ($(date -u +%H:%M:%S))" >&2
		done
	done
done
path_configure tc+xdp
[ -n "${PEERS_RAW:-}" ] && cp "$RES" "$PEERS_RAW"

img_args=()
[ "$IMG" = none ] || img_args=(--img "$IMG")
python3 tools/bench/peers_report.py report "$RES" --ns "${NS[*]}" \
	--kinds "${KINDS[*]}" "${img_args[@]}"
