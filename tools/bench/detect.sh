#!/usr/bin/env bash
# How fast does segd contain a pod that starts scanning? Side by side with
# an operator's `segctl quarantine` of the same pod, in the same segd.
#
# segd runs with `detect: window: 2s` (the shortest window config_detect.c
# allows, so runs can follow each other quickly; the limits are the
# defaults: 24 distinct ports) and namespace bench set to
# `--on-detect quarantine`. Pod src may reach pod dst on every TCP port and
# sends it a timed UDP stream (quarantine_lib.sh: a datagram every
# ~0.1-0.2 ms carrying its send time). Each run:
#   detection  src scans 40 TCP ports of dst (quarantine_probe.py scan:
#              non-blocking connects, one SYN each, ~1 ms in all); the SYN
#              that makes the ports count cross its limit raises a scan
#              alert, and segd quarantines src.
#              - containment_us of the alert (`segctl alerts -o json`),
#                segd's own: from the crossing packet in the tc hook
#                (bpf_ktime_get_ns) to segd's clock once its quarantine
#                call returned, which is after the map write and after
#                the quarantine was saved in the state dir (two fsyncs)
#              - from outside, independent of segd: the stream's datagrams
#                bracket the moment the cut took effect: the last one that
#                got through (dst's log) and the first one the sender
#                handed to its socket after it (the sender's own log of
#                send times) and that never arrived. Both are timed from
#                the crossing SYN (the scanner's clock before that
#                connect; the SYN is the alert's newest sampled target,
#                the highest scanned port among them), and the first lost
#                also from the scan's start.
#   manual     `segctl quarantine src`, as quarantine.sh times it: from
#              invoking segctl to the last datagram through, and to the
#              first lost.
# After each, the pod is released and the stream flows again; a run ends
# with a pause of window + 1 s, so the kernel's sketches and segd's alert
# merging (one record per kind within a window) start afresh.
#
#   bash tools/bench/detect.sh [RUNS]      (root; default 20)
set -u
cd "$(dirname "$0")/../.." || exit 1
RUNS=${1:-20}
WINDOW=2
SCAN_N=40
. tools/topology.sh
. tools/bench/quarantine_lib.sh

cfg=$TOPO_DIR/segd.yaml
printf 'detect:\n  window: %ss\n' "$WINDOW" >"$cfg"
QB_TCP=1 qb_setup -c "$cfg" || exit 1
segctl namespace set bench --on-detect quarantine >/dev/null || exit 1

# src's newest alert that quarantined it, as "id containment_us kind flows
# port", port: the highest of dst's sampled ports, the crossing one
# (nothing when there is none above id $1)
contained_alert() {
	segctl alerts -o json | python3 -c '
import json, sys
a = [x for x in map(json.loads, filter(str.strip, sys.stdin))
     if x["name"] == "src" and x["id"] > int(sys.argv[1]) and x["quarantine_id"]]
if a:
    x = max(a, key=lambda x: x["id"])
    ports = [int(t["target"].split(":")[1].split("/")[0]) for t in x["targets"]
             if t["target"].startswith("10.200.1.30:") and t["target"].endswith("/tcp")]
    print(x["id"], x["containment_us"], x["kind"], x["flows"], max(ports or [0]))' "$1"
}
has_contained_alert() { [ -n "$(contained_alert "$1")" ]; }

sentlog=$TOPO_DIR/sent.bin scanf=$TOPO_DIR/scan.txt
qb_stream $((RUNS * (WINDOW + 5) + 30)) "$sentlog" || exit 1
sleep 0.5   # pacing, not a wait: the flow runs a while before each cut
# per run, all ns (CLOCK_REALTIME) but containment_us: "containment_us
# crossing-SYN scan-start scan-end last-through" and "T0 last-through"
ncut=0 last_id=0 det=() man=() kinds=() flows=()
for i in $(seq 1 "$RUNS"); do
	ncut=$((ncut + 1)) first=$((1024 + i * SCAN_N % 60000))
	in_pod src python3 "$QB_PROBE" scan 10.200.1.30 "$first" "$SCAN_N" "$scanf" ||
		{ echo "run $i: the scan did not run" >&2; exit 1; }
	{ read -r s0 s1; read -r -a sent; } <"$scanf"
	t=$(qb_cut_time "$ncut") ||
		{ echo "run $i: the scan did not cut src's stream"; segctl alerts; exit 1; } >&2
	wait_until 5 has_contained_alert "$last_id" ||
		{ echo "run $i: no alert that quarantined src"; segctl alerts; exit 1; } >&2
	read -r last_id us kind fl port <<<"$(contained_alert "$last_id")"
	k=$((port - first))
	if [ "$k" -lt 0 ] || [ "$k" -ge "$SCAN_N" ]; then
		echo "run $i: the crossing port $port is not one scanned" >&2; exit 1
	fi
	det+=("$us,${sent[$k]},$s0,$s1,$t") kinds+=("$kind") flows+=("$fl")
	qb_resume segctl release src -n bench || { echo "run $i: no resume" >&2; exit 1; }
	sleep 0.2
	ncut=$((ncut + 1))
	if ! qb_exec "$SEGCTL_BIN" quarantine src -n bench --reason bench ||
		! t=$(qb_cut_time "$ncut"); then
		echo "run $i: no cut (segctl quarantine)" >&2; exit 1
	fi
	man+=("$(cat "$QB_T0F"),$t")
	qb_resume segctl release src -n bench || { echo "run $i: no resume (manual)" >&2; exit 1; }
	sleep $((WINDOW + 1))   # not a wait: the window must pass (see above)
done
qb_sent_times "$sentlog" || { echo "the sender did not write its log" >&2; exit 1; }

python3 - "${det[*]}" "${man[*]}" "${kinds[*]}" "${flows[*]}" "$sentlog" \
	"$RUNS" "$WINDOW" "$SCAN_N" <<'PY'
import array, bisect, collections, os, statistics, sys
det = [[int(v) for v in r.split(",")] for r in sys.argv[1].split()]
man = [[int(v) for v in r.split(",")] for r in sys.argv[2].split()]
kinds = collections.Counter(sys.argv[3].split())
flows = statistics.median(int(x) for x in sys.argv[4].split())
sent = array.array("q")
with open(sys.argv[5], "rb") as f:
    sent.fromfile(f, os.path.getsize(sys.argv[5]) // sent.itemsize)
def lost(t):   # the first datagram sent after the last one through
    return sent[bisect.bisect_right(sent, t)]
ms = lambda a, b: (b - a) / 1e6
rows = [
    ("detection", None),
    ("  segd's containment_us: crossing -> in the kernel map ", [d[0] / 1e3 for d in det]),
    ("  crossing SYN sent -> last datagram through", [ms(d[1], d[4]) for d in det]),
    ("  crossing SYN sent -> first datagram lost", [ms(d[1], lost(d[4])) for d in det]),
    ("  scan start -> first datagram lost", [ms(d[2], lost(d[4])) for d in det]),
    ("  the scan: before first -> after last connect", [ms(d[2], d[3]) for d in det]),
    ("manual", None),
    ("  segctl quarantine invoked -> last datagram through", [ms(m[0], m[1]) for m in man]),
    ("  segctl quarantine invoked -> first datagram lost", [ms(m[0], lost(m[1])) for m in man]),
    ("last datagram through -> first lost (resolution)",
     [ms(t, lost(t)) for t in [d[4] for d in det] + [m[1] for m in man]]),
]
print("detection -> quarantine vs segctl quarantine, %s runs; pod src scans %s TCP ports "
      "of dst\n(window %ss, default limits), its UDP stream to dst timed; ms:"
      % (sys.argv[6], sys.argv[8], sys.argv[7]))
print("%-58s %8s %8s %8s" % ("", "median", "min", "max"))
med = {}
for name, v in rows:
    if v is None:
        print(name)
        continue
    med[name] = statistics.median(v)
    print("%-58s %8.3f %8.3f %8.3f" % (name, med[name], min(v), max(v)))
print("ratio manual / detection, first datagram lost (medians): %.1fx; manual (last "
      "through,\nas quarantine.sh) / segd's containment_us: %.1fx"
      % (med[rows[8][0]] / med[rows[3][0]], med[rows[7][0]] / med[rows[1][0]]))
print("alerts: %s; new flows counted at the crossing: median %d"
      % (", ".join("%s %d" % kv for kv in sorted(kinds.items())), flows))
PY
