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
#   segd             N NetworkPolicy ipBlock rules for web (segctl apply),
#                    its programs on the path as it attaches them (tc+xdp)
# None of the N rules matches the flood (tools/bench/gen_policy.py
# peers): each packet meets all of them before the rule that allows it.
#
# Traffic (a): bench_udp_flood in the outside host, pinned to CPU 0, sends
# UDP from 60,000 source ports for SECONDS, unreplied, so every packet is
# "new" to netfilter. Received: pod web's eth0 rx packets over the window.
# Contenders are rotated each round; medians and min-max over ROUNDS.
# Load: wall time of iptables-restore / nft -f per round, segctl apply
# once per N. A policy set past segd's max_rules (262,144 unless set) is
# refused: shown as refused.
#
#   bash tools/bench/peers.sh [ROUNDS] [SECONDS] [N...]
#                             (root; default 5 3 10 1000 10000)
#   PEERS_RAW=FILE keeps the raw lines (kind N contender round value).
# Caveat: iptables-legacy's filter table stays registered in the node's
# namespace once used (flushed, policy ACCEPT, but its hooks stay until
# the namespace goes), so every contender after its first run pays an
# empty table walk too.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROUNDS=${1:-5}
SECS=${2:-3}
NS=("${@:3}")
[ ${#NS[@]} -gt 0 ] || NS=(10 1000 10000)
FLOOD=$(readlink -f "${BUILD:-build}/bench_udp_flood")
[ -x "$FLOOD" ] || { echo "peers: build $FLOOD first (make all bench)" >&2; exit 1; }
for tool in iptables-nft-restore iptables-legacy-restore nft conntrack; do
	command -v "$tool" >/dev/null || { echo "peers: $tool missing: tools/install-deps.sh" >&2; exit 1; }
done
. tools/topology.sh
. tools/bench/path_lib.sh
path_setup || exit 1
CONTENDERS=(none iptables-nft iptables-legacy nft-rules nft-set segd)
RES=$TOPO_DIR/results
declare -A SEGD_OK

ms_since() { echo $(((${EPOCHREALTIME//[!0-9]/} - $1) / 1000)); }

# rules_file N FORMAT: gen_policy.py's rules, generated once per N
rules_file() {
	local f=$TOPO_DIR/$2.$1
	[ -s "$f" ] || python3 tools/bench/gen_policy.py peers "$2" "$1" >"$f"
	echo "$f"
}

# contender_on C N ROUND: C's rules (or programs) on the path; the load
# time of netfilter's rules appended to $RES
contender_on() {
	local t0=${EPOCHREALTIME//[!0-9]/} rc=0
	case $1 in
	none) return 0 ;;
	segd) path_configure tc+xdp; return ;;
	iptables-nft) in_node iptables-nft-restore <"$(rules_file "$2" iptables)" || rc=1 ;;
	iptables-legacy) in_node iptables-legacy-restore <"$(rules_file "$2" iptables)" || rc=1 ;;
	nft-rules | nft-set) in_node nft -f "$(rules_file "$2" "$1")" || rc=1 ;;
	esac
	[ $rc -eq 0 ] && echo "load $2 $1 $3 $(ms_since "$t0")" >>"$RES"
	return $rc
}

contender_off() {
	case $1 in
	segd) path_configure none ;;
	iptables-legacy)
		in_node iptables-legacy -P FORWARD ACCEPT
		in_node iptables-legacy -F FORWARD ;;
	iptables-nft | nft-rules | nft-set) in_node nft flush ruleset ;;
	esac
	in_node conntrack -F >/dev/null 2>&1
	return 0
}

rx_packets() { in_pod web cat /sys/class/net/eth0/statistics/rx_packets; }

# measure N C ROUND: one flood; packets/s received and sent to $RES
measure() {
	local before after sent
	before=$(rx_packets)
	sent=$(in_ext taskset -c 0 "$FLOOD" 203.0.113.10 10.200.1.10 5201 "$SECS")
	sleep 0.2   # the backlogs on the way drain in well under this
	after=$(rx_packets)
	echo "pps $1 $2 $3 $(((after - before) / SECS))" >>"$RES"
	echo "sent $1 $2 $3 $((${sent:-0} / SECS))" >>"$RES"
}

echo "# peers: UDP flood from 60,000 source ports, outside -> pod, $ROUNDS rounds x $SECS s, N = ${NS[*]}, $(nproc) CPUs, $(uname -r)"
path_configure none
for n in "${NS[@]}"; do
	SEGD_OK[$n]=1
	t0=${EPOCHREALTIME//[!0-9]/}
	if out=$(segctl apply "$(rules_file "$n" networkpolicy)" 2>&1); then
		echo "load $n segd 0 $(ms_since "$t0")" >>"$RES"
	else
		SEGD_OK[$n]=0
		echo "# segd refuses N = $n: $(echo "$out" | tail -1)"
		echo "refused $n segd" >>"$RES"
		segctl delete policy peers -n shop >/dev/null 2>&1
	fi
	nc=${#CONTENDERS[@]}
	for r in $(seq 0 $((ROUNDS - 1))); do
		for i in "${!CONTENDERS[@]}"; do
			c=${CONTENDERS[$(((i + r) % nc))]}
			[ "$c" = segd ] && [ "${SEGD_OK[$n]}" = 0 ] && continue
			if contender_on "$c" "$n" "$r"; then
				measure "$n" "$c" "$r"
			else
				echo "# $c failed to load N = $n" >&2
			fi
			contender_off "$c"
		done
		echo "# N = $n: round $((r + 1)) of $ROUNDS done" >&2
	done
done
path_configure tc+xdp
# the raw lines too, when asked: PEERS_RAW=FILE
[ -n "${PEERS_RAW:-}" ] && cp "$RES" "$PEERS_RAW"

python3 - "$RES" "${CONTENDERS[*]}" "${NS[*]}" <<'PY'
import statistics, sys
res, contenders, ns = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
vals = {}   # (kind, N, contender) -> [values]
refused = set()
for line in open(res):
    f = line.split()
    if f[0] == "refused":
        refused.add((f[1], f[2]))
        continue
    vals.setdefault((f[0], f[1], f[2]), []).append(int(f[4]))

def med(kind, n, c):
    v = vals.get((kind, n, c))
    return statistics.median(v) if v else None

def cell(kind, n, c, scale, fmt):
    if (n, c) in refused:
        return "refused"
    v = vals.get((kind, n, c))
    if not v:
        return "-"
    return fmt % (statistics.median(v) / scale, min(v) / scale, max(v) / scale)

def table(title, kind, scale, fmt):
    print("\n" + title)
    print("| contender | " + " | ".join("N = %s" % n for n in ns) + " |")
    print("|---|" + "---|" * len(ns))
    for c in contenders:
        if any(vals.get((kind, n, c)) or (n, c) in refused for n in ns):
            print("| %s | %s |" % (c, " | ".join(cell(kind, n, c, scale, fmt) for n in ns)))

KPPS = "%.1f (%.1f-%.1f)"   # rule lists fall to ~1 k packets/s at 100,000
table("received, k packets/s: median (min-max)", "pps", 1e3, KPPS)
table("sent by the flood, k packets/s: median (min-max)", "sent", 1e3, KPPS)
print("\nratios of medians (received)")
print("| ratio | " + " | ".join("N = %s" % n for n in ns) + " |")
print("|---|" + "---|" * len(ns))
for other in ("nft-set", "iptables-nft", "iptables-legacy", "nft-rules", "none"):
    row = []
    for n in ns:
        s, o = med("pps", n, "segd"), med("pps", n, other)
        row.append("%.2fx" % (s / o) if s is not None and o else "-")
    print("| segd / %s | %s |" % (other, " | ".join(row)))
table("load time of the N rules, ms: median (min-max); segd: one segctl apply",
      "load", 1, "%.0f (%.0f-%.0f)")
PY
