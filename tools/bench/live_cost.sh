#!/usr/bin/env bash
# What segd costs per packet on live traffic (issue 15, point 4): the same
# forwarding path (outside host -> node -> pod web over veths,
# tools/bench/path_lib.sh) at a fixed offered rate, with and without segd,
# and the CPU time of the path's CPU divided by the packets received.
#
# Traffic (bench_udp_flood from the outside host, 64-byte UDP to web's
# sink on 5201, paced at PPS):
#   a  60,000 source ports, each a flow that keeps sending: established in
#      segd's conntrack once seen; a warm-up pass (every port at least
#      once) comes before each window, so the window is all established
#   b  -n: a new 5-tuple every packet (allowed: a conntrack insert each),
#      tuples never repeated within a run (-s); a warm-up pass fills
#      segd's conntrack table first, so inserts in the window evict as a
#      flood of new flows does
# Configurations, rotated each round: none (no segd program on the path),
# segd (its programs as it attaches them with its default config: tc on
# the pods' veths, `segctl attach up0 --role uplink` on the uplink, which
# on a veth is tc ingress), tc (the pods' tc programs only).
#
# The path's CPU: the sender runs on CPU 0, RPS on up0 moves the receive
# path (forwarding, segd's programs, delivery to the sink) to CPU 1. This
# script and all it starts (segd, perf, the servers) are pinned to CPU 0.
# Over each window, CPU 1's:
#   busy     wall time minus idle and steal (/proc/stat's cpu1 line; its
#            idle is the nohz idle time, which stops at every interrupt,
#            shown in 10 ms units): everything CPU 1 did, other processes
#            of the machine included. Not the cpuidle states' residency:
#            with halt-based idle (haltpoll, a VM) the interrupt and the
#            softirq it runs are served inside the halt and count as idle
#   softirq  time in NET_RX softirqs (perf record of irq:softirq_entry/exit
#            on CPU 1 around the flood): the path's own work, which other
#            processes' CPU time does not enter
# Per packet: (config's time - the same round's none's time) / packets
# received; median and min-max over the rounds.
# segd's programs' own time: after each window with segd on, a pass of
# LIVE_STATS_SECS (1) with kernel.bpf_stats_enabled=1 (restored after; off
# in the windows, where its clock reads would be counted) reads run_cnt
# and run_time_ns of every program pinned in segd's bpffs: ns per run,
# runs per packet. Rest = softirq per packet - programs' per packet: the
# hooks around them (tc's classifier walk, skb handling).
# Loss: received (web's eth0 rx packets) against sent, per window.
#
#   bash tools/bench/live_cost.sh [-r PPS] [ROUNDS] [SECONDS]
#                                 (root; default -r 100000, 5 rounds, 5 s)
#   LIVE_KINDS="a b"   the traffic kinds
#   LIVE_PORTS=60000   (a)'s source ports, its flows (fewer: a working set
#                      that stays in the caches)
#   LIVE_RAW=FILE      keeps the raw lines (tools/bench/live_cost_report.py
#                      FILE --secs SECONDS [--ports N] prints the
#                      tables again)
#   LIVE_PROFILE=DIR   in the first round, one more pass per kind with segd
#                      on: a cycles profile of CPU 1 (perf record), where
#                      the path's time goes by symbol (segd's programs are
#                      bpf_prog_<tag>_<name>), into DIR/profile-KIND-CONFIG.txt
set -u
export LC_ALL=C   # sort and join agree
cd "$(dirname "$0")/../.." || exit 1
RATE=100000
while getopts r: opt; do
	case $opt in
	r) RATE=$OPTARG ;;
	*) echo "usage: live_cost.sh [-r PPS] [ROUNDS] [SECONDS]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
ROUNDS=${1:-5}
SECS=${2:-5}
STATS_SECS=${LIVE_STATS_SECS:-1}
PORTS=${LIVE_PORTS:-60000}
read -ra KINDS <<<"${LIVE_KINDS:-a b}"
for k in "${KINDS[@]}"; do
	case $k in a | b) ;; *) echo "live_cost: unknown kind $k (a b)" >&2; exit 2 ;; esac
done
FLOOD=$(readlink -f "${BUILD:-build}/bench_udp_flood")
[ -x "$FLOOD" ] || { echo "live_cost: build $FLOOD first (make all bench)" >&2; exit 1; }
for tool in perf bpftool jq taskset; do
	command -v "$tool" >/dev/null || { echo "live_cost: $tool missing: tools/install-deps.sh" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "live_cost: needs 2 CPUs (sender on 0, path on 1)" >&2; exit 1; }
# CPU 1 is the path's: this shell and everything it starts go to CPU 0
taskset -pc 0 $$ >/dev/null || exit 1
. tools/topology.sh
. tools/bench/path_lib.sh
path_setup || exit 1
path_flood_setup || exit 1
STATS0=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$STATS0"; topo_destroy' EXIT
CONFIGS=(none segd tc)
RES=$TOPO_DIR/results
PERF_DATA=$TOPO_DIR/softirq.data
HZ=$(getconf CLK_TCK)
CT_ENTRIES=262144   # SEGD_MAX_CT_ENTRIES: what (b)'s warm-up fills
NEXT_TUPLE=0        # (b): the first tuple of the next flood

config_on() {
	case $1 in
	none) path_configure none ;;
	segd) path_configure tc+xdp ;;   # segctl attach: segd's default hook
	tc) path_configure tc ;;
	esac
}

# secs_for PACKETS: seconds to offer PACKETS at RATE, 1 at least
secs_for() { awk -v p="$1" -v r="$RATE" 'BEGIN { s = p / r; printf "%.2f", s < 1 ? 1 : s }'; }

# flood KIND SECONDS [COMMAND...]: one paced flood of KIND, started by
# COMMAND (perf record) when given; FLOOD_OUT="sent refused". Not in a
# subshell: (b) moves NEXT_TUPLE on.
flood() {
	local kind=$1 secs=$2 args=() ports=$PORTS sent
	shift 2
	[ "$kind" = b ] && args=(-n -s "$NEXT_TUPLE") ports=
	FLOOD_OUT=$("$@" ip netns exec "$TOPO_EXT" taskset -c 0 "$FLOOD" -i eth0 \
		-m "$UP0_MAC" -r "$RATE" "${args[@]}" 203.0.113.10 10.200.1.10 \
		5201 "$secs" ${ports:+"$ports"})
	sent=${FLOOD_OUT%% *}
	[ "$kind" = b ] && NEXT_TUPLE=$((NEXT_TUPLE + ${sent:-0}))
	return 0
}

# segd's own CPU time in clock ticks (user + system)
segd_ticks() { awk '{ printf "%.0f\n", $14 + $15 }' "/proc/$TOPO_SEGD_PID/stat"; }

# the NET_RX softirq time (ns) perf recorded on CPU 1
softirq_ns() {
	perf script -i "$PERF_DATA" --ns 2>/dev/null | awk '
	{ for (i = 1; i < NF; i++) if ($(i + 1) ~ /^irq:softirq_(entry|exit):$/) break
	  split($i, t, /[.:]/); ns = t[1] * 1e9 + t[2]
	  if ($(i + 1) == "irq:softirq_entry:") start = ns
	  else if (start) { sum += ns - start; start = 0 } }
	END { printf "%.0f\n", sum }'
}

# window KIND CONFIG ROUND: one measured window, a "run" line into $RES
window() {
	local rx0 rx1 i0 s0 i1 s1 t0 t1 g0 g1 sent refused wall tick
	rx0=$(path_sink_rx)
	g0=$(segd_ticks)
	read -r i0 s0 < <(cpu1_ticks)
	t0=${EPOCHREALTIME//[!0-9]/}
	flood "$1" "$SECS" perf record -q -C 1 \
		-e irq:softirq_entry --filter 'vec == 3' \
		-e irq:softirq_exit --filter 'vec == 3' -o "$PERF_DATA" --
	read -r sent refused <<<"$FLOOD_OUT"
	sleep 0.2   # the backlogs on the way drain in well under this
	t1=${EPOCHREALTIME//[!0-9]/}
	read -r i1 s1 < <(cpu1_ticks)
	g1=$(segd_ticks)
	rx1=$(path_sink_rx)
	wall=$(((t1 - t0) * 1000)) tick=$((1000000000 / HZ))
	# run KIND CONFIG ROUND sent refused received busy_ns softirq_ns
	#     steal_ns segd_ns wall_ns
	echo "run $1 $2 $3 ${sent:-0} ${refused:-0} $((rx1 - rx0))" \
		"$((wall - (i1 - i0 + s1 - s0) * tick)) $(softirq_ns)" \
		"$(((s1 - s0) * tick)) $(((g1 - g0) * tick)) $wall" >>"$RES"
}

# "name run_cnt run_time_ns" of each program pinned in segd's bpffs
prog_stats() {
	local p
	for p in "$PATH_PROGS"/*; do
		bpftool prog show pinned "$p" -j |
			jq -r --arg n "${p##*/}" '"\($n) \(.run_cnt // 0) \(.run_time_ns // 0)"'
	done
}

# stats_pass KIND CONFIG ROUND: the programs' run counts and time over a
# pass with bpf_stats on; a "prog" line per program that ran
stats_pass() {
	local rx0 rx1 sent before after
	before=$TOPO_DIR/stats.0 after=$TOPO_DIR/stats.1
	sysctl -qw kernel.bpf_stats_enabled=1 || return 1
	prog_stats | sort >"$before"
	rx0=$(path_sink_rx)
	flood "$1" "$STATS_SECS"
	sent=${FLOOD_OUT%% *}
	sleep 0.2
	rx1=$(path_sink_rx)
	prog_stats | sort >"$after"
	sysctl -qw kernel.bpf_stats_enabled="$STATS0"
	# prog KIND CONFIG ROUND NAME runs run_time_ns received sent
	join "$before" "$after" | awk -v pre="prog $1 $2 $3" -v rx=$((rx1 - rx0)) \
		-v sent="${sent:-0}" '$4 > $2 {
		printf "%s %s %.0f %.0f %s %s\n", pre, $1, $4 - $2, $5 - $3, rx, sent }' >>"$RES"
}

# profile_pass KIND CONFIG: CPU 1's cycles by symbol over a pass
profile_pass() {
	local data=$TOPO_DIR/cycles.data out=$LIVE_PROFILE/profile-$1-$2.txt
	mkdir -p "$LIVE_PROFILE" || return 1
	flood "$1" "$STATS_SECS" perf record -q -C 1 -e cycles -F 10000 -o "$data" --
	{
		echo "# live_cost profile: kind $1, config $2, $RATE packets/s, CPU 1, $(uname -r), $(date -u '+%F %H:%M UTC')"
		perf report -i "$data" --stdio --sort sym --percent-limit 0.5 2>/dev/null |
			grep -v '^$'
	} >"$out"
	echo "# profile of $1 / $2: $out" >&2
}

# measure KIND CONFIG ROUND: warm-up, the window, the programs' pass
measure() {
	local warm
	case $1 in
	a) warm=$(secs_for $((PORTS * 3 / 2))) ;;
	b) warm=$(secs_for $((CT_ENTRIES * 11 / 10))) ;;
	esac
	flood "$1" "$warm"
	sleep 0.2
	window "$@"
	[ "$2" = none ] || stats_pass "$@"
	if [ -n "${LIVE_PROFILE:-}" ] && [ "$3" = 0 ]; then
		profile_pass "$1" "$2"
	fi
}

# what `segctl attach up0 --role uplink` puts on a veth with this build
config_on segd
if in_node ip -d link show up0 | grep -q 'prog/xdp'; then
	UPLINK_HOOK="XDP ($(in_node ip -d link show up0 | grep -o 'xdp[a-z]*' | head -1))"
elif in_node tc filter show dev up0 ingress | grep -q uplink_ingress; then
	UPLINK_HOOK="tc ingress (uplink_ingress)"
else
	UPLINK_HOOK="nothing"
fi
config_on none

echo "# live_cost: kinds ${KINDS[*]} ((a): $PORTS flows), outside -> pod web, $RATE packets/s offered," \
	"$ROUNDS rounds x $SECS s, sender on CPU 0, RPS to CPU 1, $(getconf _NPROCESSORS_ONLN) CPUs," \
	"$(uname -r), $(date -u '+%F %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# segd's uplink hook on up0 (a veth): $UPLINK_HOOK"
[ "$STATS0" = 0 ] || echo "# kernel.bpf_stats_enabled was $STATS0 before the run: the windows include its cost"
nc=${#CONFIGS[@]}
for r in $(seq 0 $((ROUNDS - 1))); do
	for i in "${!CONFIGS[@]}"; do
		c=${CONFIGS[$(((i + r) % nc))]}
		config_on "$c" || { echo "# $c failed to attach" >&2; continue; }
		for k in "${KINDS[@]}"; do
			measure "$k" "$c" "$r"
		done
	done
	config_on none
	echo "# round $((r + 1)) of $ROUNDS done ($(date -u +%H:%M:%S))" >&2
done
config_on segd
[ -n "${LIVE_RAW:-}" ] && cp "$RES" "$LIVE_RAW"
python3 tools/bench/live_cost_report.py "$RES" --kinds "${KINDS[*]}" --secs "$SECS" \
	--ports "$PORTS"
