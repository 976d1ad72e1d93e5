#!/usr/bin/env python3
"""peers_report.py - tools/bench/peers.sh's tables, ratios and plots, and
the kernel memory of segd's maps.

  peers_report.py report RAW [--ns "N..."] [--kinds "a b c d"] [--img DIR]
      tables (markdown), ratios and, with --img, PNG plots (gnuplot) of
      the raw lines peers.sh writes (PEERS_RAW=FILE keeps them, so a run
      can be drawn again). Raw line: KIND N CONTENDER ROUND VALUE, or
      "refused N segd".
  peers_report.py spread RAW [--kind d]
      how far a kind's rounds spread: per N and contender with 4 rounds
      or more, the median and the median absolute deviation of its rounds
      as a share of their median (MAD %), then the median of those MAD %
      over the cells: one figure to compare two runs' noise by
  peers_report.py segd-maps PID
      bytes (bytes_memlock, as `bpftool map show` reports it: the memory
      the kernel holds for the map) of the maps process PID holds whose
      names start with segd_, inner maps of its map-in-maps included;
      prints "BYTES MAPS"
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CONTENDERS = ["none", "iptables-nft", "iptables-legacy", "nft-rules", "nft-set", "segd",
              "segd-labels"]
SEGDS = ["segd", "segd-labels"]
# segd's memory rows: its maps' bytes across segctl apply, and all its
# maps after it
MEM_ROWS = CONTENDERS[1:5] + ["segd-maps", "segd-maps-total", "segd-labels-maps",
                              "segd-labels-maps-total"]
MEM_METHODS = {
    "v1": "kernel memory charged to a fresh memory cgroup (v1 memory.kmem."
          "usage_in_bytes) the load ran in, after it",
    "v2": "kernel memory charged to a fresh memory cgroup (memory.stat "
          "kernel) the load ran in, after it",
    "meminfo": "SUnreclaim + VmallocUsed + Percpu (/proc/meminfo) after the "
               "load minus before, machine-wide",
}
OTHERS = ["nft-set", "iptables-nft", "iptables-legacy", "nft-rules", "none"]

# measure: (title, unit label, scale, number format, file name of its plot)
MEASURES = {
    "a": ("(a) UDP, unreplied flows from 60,000 source ports: received",
          "k packets/s", 1e3, "%.1f", "peers-a"),
    "a-sent": ("(a) sent by the flood", "k packets/s", 1e3, "%.1f", None),
    "b": ("(b) UDP, a new 5-tuple every packet: received",
          "k packets/s", 1e3, "%.1f", "peers-b"),
    "b-sent": ("(b) sent by the flood", "k packets/s", 1e3, "%.1f", None),
    "c-in": ("(c) established TCP, iperf3 outside -> pod", "Gbit/s", 1, "%.2f",
             "peers-c-in"),
    "c-out": ("(c) established TCP, iperf3 pod -> outside (-R)", "Gbit/s", 1,
              "%.2f", "peers-c-out"),
    "d": ("(d) TCP connections (connect, request, reply, close) completed",
          "k connections/s", 1e3, "%.2f", "peers-d"),
    "d-failed": ("(d) connections failed", "connections/s", 1, "%.0f", None),
    "mem": ("kernel memory held for the N rules", "MiB", 1 << 20, "%.2f",
            "peers-mem"),
}
KIND_MEASURES = {"a": ["a", "a-sent"], "b": ["b", "b-sent"],
                 "c": ["c-in", "c-out"], "d": ["d", "d-failed"]}
# the measures ratios are taken of
RATIO_MEASURES = {"a": ["a"], "b": ["b"], "c": ["c-in", "c-out"], "d": ["d"]}


def read_raw(path):
    vals, refused, method = {}, set(), None
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "memmethod":
            method = f[1]
            continue
        if f[0] == "refused":
            refused.add((f[1], f[2]))
            continue
        vals.setdefault((f[0], f[1], f[2]), []).append(float(f[4]))
    return vals, refused, method


class Report:
    def __init__(self, vals, refused, ns):
        self.vals, self.refused, self.ns = vals, refused, ns

    def med(self, m, n, c):
        v = self.vals.get((m, n, c))
        return statistics.median(v) if v else None

    def refused_for(self, n, c):
        """c is one of segd's rows (segd-maps, segd-labels, ...) and that
        segd contender refused N"""
        base = [b for b in SEGDS if c == b or c.startswith(b + "-")]
        return bool(base) and (n, max(base, key=len)) in self.refused

    def cell(self, m, n, c, scale, fmt):
        if self.refused_for(n, c):
            return "refused"
        v = self.vals.get((m, n, c))
        if not v:
            return "-"
        if len(v) == 1:
            return fmt % (v[0] / scale)
        return (fmt + " (" + fmt + "-" + fmt + ")") % (
            statistics.median(v) / scale, min(v) / scale, max(v) / scale)

    def table(self, title, m, rows, scale, fmt):
        print("\n" + title)
        print("| contender | " + " | ".join("N = %s" % n for n in self.ns) + " |")
        print("|---|" + "---|" * len(self.ns))
        for c in rows:
            if any(self.vals.get((m, n, c)) or (n, c) in self.refused for n in self.ns):
                print("| %s | %s |" % (c, " | ".join(
                    self.cell(m, n, c, scale, fmt) for n in self.ns)))

    def ratios(self, m):
        print("\nratios of medians, %s" % MEASURES[m][0])
        print("| ratio | " + " | ".join("N = %s" % n for n in self.ns) + " |")
        print("|---|" + "---|" * len(self.ns))
        mine = [c for c in SEGDS if any(self.med(m, n, c) for n in self.ns)]
        for sc in mine:
            for other in OTHERS:
                row = []
                for n in self.ns:
                    s, o = self.med(m, n, sc), self.med(m, n, other)
                    if (n, sc) in self.refused:
                        row.append("refused")
                    else:
                        row.append("%.2fx" % (s / o) if s is not None and o else "-")
                print("| %s / %s | %s |" % (sc, other, " | ".join(row)))
        # segd's own scaling: its largest N that ran against its smallest
        for sc in mine:
            ran = [n for n in self.ns if self.med(m, n, sc)]
            top = self.ns[-1]
            note = " (%s refuses N = %s)" % (sc, top) if (top, sc) in self.refused else ""
            if len(ran) >= 2:
                hi, lo = ran[-1], ran[0]
                print("\n%s N = %s / N = %s: %.2fx%s" % (
                    sc, hi, lo, self.med(m, hi, sc) / self.med(m, lo, sc), note))
            elif note:
                print("\n%s N = %s / N = %s: refused" % (sc, top, self.ns[0]))


# one style per contender, the same in every plot: segd stands out
STYLES = {
    "none": 'lw 2 dt 2 lc rgb "#808080" pt 6',
    "iptables-nft": 'lw 2 lc rgb "#d62728" pt 5',
    "iptables-legacy": 'lw 2 lc rgb "#ff7f0e" pt 9',
    "nft-rules": 'lw 2 lc rgb "#9467bd" pt 11',
    "nft-set": 'lw 2 lc rgb "#2ca02c" pt 13',
    "segd": 'lw 3 lc rgb "#1f77b4" pt 7',
    "segd-maps": 'lw 3 lc rgb "#1f77b4" pt 7',
    "segd-maps-total": 'lw 2 dt 3 lc rgb "#1f77b4" pt 7',
    "segd-labels": 'lw 3 lc rgb "#17becf" pt 15',
    "segd-labels-maps": 'lw 3 lc rgb "#17becf" pt 15',
    "segd-labels-maps-total": 'lw 2 dt 3 lc rgb "#17becf" pt 15',
}


def log_tics(lo, hi):
    """1-2-5 tics from lo to hi, so a log axis reads without counting"""
    tics, d = [], 10.0 ** math.floor(math.log10(lo))
    while d <= hi:
        tics += [t for t in (d, 2 * d, 5 * d) if lo <= t <= hi]
        d *= 10
    return tics


def plot(rep, m, img_dir, tmp, rows=CONTENDERS):
    title, unit, scale, _, name = MEASURES[m]
    data = os.path.join(tmp, name + ".dat")
    series, ys = [], []
    with open(data, "w") as f:
        for c in rows:
            pts = []
            for n in rep.ns:
                v = rep.vals.get((m, n, c))
                if v and min(v) > 0:   # log scale: nothing at or below 0
                    pts.append((int(n), statistics.median(v) / scale,
                                min(v) / scale, max(v) / scale))
            if not pts:
                continue
            f.write("# %s\n" % c + "".join("%d %g %g %g\n" % p for p in pts) + "\n\n")
            series.append(c)
            ys += [p[2] for p in pts] + [p[3] for p in pts]
    if not series:
        return None
    xs = [int(n) for n in rep.ns]
    out = os.path.join(img_dir, name + ".png")
    plots = ", ".join('"%s" index %d using 1:2:3:4 with yerrorlines %s title "%s"'
                      % (data, i, STYLES[c], c) for i, c in enumerate(series))
    ylo, yhi = min(ys) / 2, max(ys) * 2
    no = [n for n in rep.ns if (n, "segd") in rep.refused]
    refused = "\\nsegd refuses N = %s" % ", ".join(no) if no else ""
    script = "\n".join([
        'set terminal pngcairo size 800,480 font "sans,10"',
        'set output "%s"' % out,
        'set title "%s%s"' % (title.replace('"', "'"), refused),
        "set logscale xy",
        "set xrange [%g:%g]" % (min(xs) / 2, max(xs) * 2),
        "set yrange [%g:%g]" % (ylo, yhi),
        "set ytics (%s)" % ", ".join('"%g" %g' % (t, t) for t in log_tics(ylo, yhi)),
        'set xlabel "N rules"',
        'set ylabel "%s (median, min-max)"' % unit,
        "set xtics (%s)" % ", ".join('"%d" %d' % (x, x) for x in xs),
        "set grid",
        "set key outside right top",
        "plot " + plots, ""])
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if r.returncode:
        print("# gnuplot failed for %s: %s" % (name, r.stderr.strip()), file=sys.stderr)
        return None
    return out


def report(argv):
    path, ns, kinds, img = argv[0], None, "a b c d".split(), None
    i = 1
    while i < len(argv):
        if argv[i] == "--ns":
            ns = argv[i + 1].split()
        elif argv[i] == "--kinds":
            kinds = argv[i + 1].split()
        elif argv[i] == "--img":
            img = argv[i + 1]
        else:
            raise SystemExit("peers_report: unknown argument %s" % argv[i])
        i += 2
    vals, refused, method = read_raw(path)
    if ns is None:
        ns = sorted({k[1] for k in vals} | {n for n, _ in refused}, key=int)
    rep = Report(vals, refused, ns)
    for k in kinds:
        for m in KIND_MEASURES[k]:
            title, unit, scale, fmt, _ = MEASURES[m]
            rep.table("%s, %s: median (min-max)" % (title, unit), m, CONTENDERS, scale, fmt)
        for m in RATIO_MEASURES[k]:
            rep.ratios(m)
    rep.table("time to load the N rules, ms: median (min-max); segd: one segctl apply;"
              " segd-labels-endpoints: one segctl endpoint load of its N endpoints",
              "load", CONTENDERS[1:] + ["segd-labels-endpoints"], 1, "%.0f")
    rep.table("kernel memory held for the N rules, KiB: median (min-max); netfilter: %s;"
              " segd-maps: bytes_memlock of segd's maps after segctl apply minus"
              " before; segd-maps-total: all of them after (segd-labels: the"
              " same for its apply, its N endpoints loaded before)"
              % MEM_METHODS.get(method, "?"),
              "mem", MEM_ROWS, 1024, "%.0f")
    if not img:
        return 0
    if not shutil.which("gnuplot"):
        print("# no gnuplot (tools/install-deps.sh): no plots", file=sys.stderr)
        return 0
    os.makedirs(img, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        outs = [plot(rep, m, img, tmp) for k in kinds for m in RATIO_MEASURES[k]]
        outs.append(plot(rep, "mem", img, tmp, MEM_ROWS))
    print("\nplots: " + " ".join(o for o in outs if o))
    return 0


def spread(argv):
    kind = argv[argv.index("--kind") + 1] if "--kind" in argv else "d"
    vals, _, _ = read_raw(argv[0])
    mads = []
    print("| N | contender | rounds | median | MAD % |\n|---|---|---|---|---|")
    for (m, n, c), v in sorted(vals.items(), key=lambda x: (int(x[0][1]), x[0][2])):
        if m != kind or len(v) < 4:
            continue
        med = statistics.median(v)
        mad = 100 * statistics.median(abs(x - med) for x in v) / med
        mads.append(mad)
        print("| %s | %s | %d | %.1f | %.1f |" % (n, c, len(v), med, mad))
    if not mads:
        print("no %s cell with 4 rounds or more" % kind, file=sys.stderr)
        return 1
    print("\n(%s) median MAD over %d cells: %.1f %%" % (kind, len(mads),
                                                     statistics.median(mads)))
    return 0


def segd_maps(pid):
    ids = set()
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            for line in open(os.path.join(fdinfo, fd)):
                if line.startswith("map_id:"):
                    ids.add(int(line.split()[1]))
        except OSError:
            continue   # an fd closed while we read
    show = subprocess.run(["bpftool", "map", "show", "-j"], capture_output=True,
                          text=True, check=True)
    maps = {m["id"]: m for m in json.loads(show.stdout)}
    todo = list(ids)
    while todo:   # inner maps live in their outer map, not in an fd
        m = maps.get(todo.pop())
        if not m or "of_maps" not in m["type"]:
            continue
        dump = subprocess.run(["bpftool", "map", "dump", "id", str(m["id"]), "-j"],
                              capture_output=True, text=True)
        for e in json.loads(dump.stdout or "[]"):
            v = e.get("value")
            if isinstance(v, list):   # raw bytes: the inner map's id, LE
                v = int.from_bytes(bytes(int(x, 16) for x in v), "little")
            if isinstance(v, int) and v not in ids:
                ids.add(v)
                todo.append(v)
    mine = [maps[i] for i in ids if i in maps and maps[i]["name"].startswith("segd_")]
    print(sum(m.get("bytes_memlock", 0) for m in mine), len(mine))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "report":
        return report(argv[2:])
    if len(argv) >= 3 and argv[1] == "spread":
        return spread(argv[2:])
    if len(argv) == 3 and argv[1] == "segd-maps":
        return segd_maps(int(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
