#!/usr/bin/env python3
"""live_cost_report.py - tools/bench/live_cost.sh's tables (markdown).

  live_cost_report.py RAW [--kinds "a b"] [--secs SECONDS] [--ports N]

Raw lines (LIVE_RAW=FILE keeps them):
  run KIND CONFIG ROUND sent refused received busy_ns softirq_ns
      steal_ns segd_ns wall_ns
  prog KIND CONFIG ROUND NAME runs run_time_ns received sent

Per packet over none: each round's (config - none) time on CPU 1 divided
by the config's packets received; median (min-max) over the rounds.
"""
import argparse
import statistics
from collections import defaultdict

CONFIGS = {
    "segd": "segd (as it attaches itself)",
    "tc": "segd, pods' tc only",
}
KINDS = {
    "a": "(a) established flows: {ports:,} source ports, warmed up",
    "b": "(b) a new flow every packet (-n): a conntrack insert each",
}
# program -> kind -> what BPF_PROG_TEST_RUN measures for it
# (docs/performance.md, "Per packet") and its target in ns (None: none)
TARGETS = {
    "to_endpoint": {
        "a": ("established flow (tc, conntrack hit)", 60),
        "b": ("new flow allowed + conntrack insert (tc), ~230-300 ns", None),
    },
    "uplink_ingress": {
        "a": ("the uplink's conntrack hit (no row of its own)", 60),
        "b": ("new flow allowed, decision", 120),
    },
    "uplink": {
        "a": ("the uplink's conntrack hit (no row of its own)", 60),
        "b": ("new flow allowed, decision (xdp)", 120),
    },
}
SIGNED = "{:+,.0f}"
RUN_FIELDS = ["sent", "refused", "received", "busy", "softirq", "steal",
              "segd", "wall"]
# programs that ran for fewer packets than this (a neighbour solicitation
# from the pod) are left out
MIN_RUNS_PER_PACKET = 0.01


def load(path):
    runs = {}                   # (kind, config, round) -> fields
    progs = defaultdict(list)   # (kind, config, name) -> [(runs, ns, rx)]
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[:1] == ["run"] and len(w) == 4 + len(RUN_FIELDS):
                runs[tuple(w[1:4])] = dict(zip(RUN_FIELDS, map(int, w[4:])))
            elif w[:1] == ["prog"] and len(w) == 9:
                progs[(w[1], w[2], w[4])].append(
                    (int(w[5]), int(w[6]), int(w[7])))
    return runs, progs


def spread(xs, fmt="{:,.0f}"):
    if not xs:
        return "-"
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt.format(m)
    return "%s (%s to %s)" % (fmt.format(m), fmt.format(min(xs)),
                              fmt.format(max(xs)))


def over_none(runs, kind, config, field):
    """per round: (config's field - none's) / config's packets received"""
    out = []
    for (k, c, r), v in runs.items():
        base = runs.get((k, "none", r))
        if k == kind and c == config and base and v["received"]:
            out.append((v[field] - base[field]) / v["received"])
    return out


def per_packet(runs, kind, config, field):
    return [v[field] / v["received"] for (k, c, _), v in runs.items()
            if k == kind and c == config and v["received"]]


def segd_ms_per_s(runs, kind, config):
    return [v["segd"] / v["wall"] * 1e3 for (k, c, _), v in runs.items()
            if k == kind and c == config and v["wall"]]


def loss_line(runs):
    lost = []
    for (k, c, r), v in sorted(runs.items()):
        if v["received"] < v["sent"] or v["refused"]:
            lost.append("%s %s round %s: sent %d, received %d, refused %d"
                        % (k, c, r, v["sent"], v["received"], v["refused"]))
    if not lost:
        return ("No loss: received >= sent in all %d windows and the "
                "sender saw no refusals." % len(runs))
    return "LOSS in %d of %d windows: %s." % (len(lost), len(runs),
                                             "; ".join(lost))


def kind_table(runs, progs, kind, secs, ports):
    print("\n### %s\n" % KINDS[kind].format(ports=ports))
    rates = [v["received"] / secs for (k, _, _), v in runs.items()
             if k == kind]
    print("| config | CPU 1 busy, ns/packet | NET_RX softirq, ns/packet "
          "| segd's programs, ns/packet | rest, ns/packet | segd daemon "
          "(CPU 0), ms CPU/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("| none (the path itself) | %s | %s | - | - | %s |" % (
        spread(per_packet(runs, kind, "none", "busy")),
        spread(per_packet(runs, kind, "none", "softirq")),
        spread(segd_ms_per_s(runs, kind, "none"), "{:.1f}")))
    checks = []
    for config, label in CONFIGS.items():
        soft = over_none(runs, kind, config, "softirq")
        if not soft:
            continue
        names = sorted(n for (k, c, n), xs in progs.items()
                       if k == kind and c == config and statistics.median(
                           cnt / rx if rx else 0 for cnt, _, rx in xs)
                       >= MIN_RUNS_PER_PACKET)
        by_round = defaultdict(float)   # pass -> programs' ns per packet
        for n in names:
            for i, (cnt, ns, rx) in enumerate(progs[(kind, config, n)]):
                by_round[i] += ns / rx if rx else 0
        prog_pp = list(by_round.values())
        prog_med = statistics.median(prog_pp) if prog_pp else None
        rest = ("%+.0f" % (statistics.median(soft) - prog_med)
                if prog_med is not None else "-")
        print("| %s | %s | %s | %s | %s | %s |" % (
            label, spread(over_none(runs, kind, config, "busy"), SIGNED),
            spread(soft, SIGNED), spread(prog_pp), rest,
            spread(segd_ms_per_s(runs, kind, config), "{:.1f}")))
        for n in names:
            checks.append((config, n, progs[(kind, config, n)]))
    print("\nsegd's programs (bpf_stats, a pass after each window):\n")
    print("| config | program | runs/packet | ns/run | BPF_PROG_TEST_RUN "
          "counterpart | target | held |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for config, n, xs in checks:
        per_run = [ns / cnt for cnt, ns, _ in xs if cnt]
        rpp = [cnt / rx for cnt, _, rx in xs if rx]
        what, target = TARGETS.get(n, {}).get(kind, ("", None))
        held = "-"
        if target and per_run:
            held = "yes" if statistics.median(per_run) <= target else "no"
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            CONFIGS[config], n, spread(rpp, "{:.2f}"), spread(per_run),
            what, "≤ %d ns" % target if target else "-", held))
    print("\nReceived: %s packets/s." % spread(rates))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--kinds", default="a b")
    ap.add_argument("--secs", type=float, default=5, help="window length")
    ap.add_argument("--ports", type=int, default=60000, help="(a)'s flows")
    a = ap.parse_args()
    runs, progs = load(a.raw)
    print("\n## Per packet on live traffic\n")
    print(loss_line(runs))
    print("Columns: CPU 1 busy = wall - idle - steal over the window "
          "(/proc/stat, 10 ms units; other processes on CPU 1 included); "
          "NET_RX softirq = "
          "time in the network receive softirq on CPU 1 (the path's work "
          "only); both per packet received, segd's configs as the "
          "difference to the same round's none; rest = softirq - "
          "programs (hooks, skb handling around them); median (min to "
          "max) over the rounds.")
    for kind in a.kinds.split():
        if any(k == kind for k, _, _ in runs):
            kind_table(runs, progs, kind, a.secs, a.ports)


if __name__ == "__main__":
    main()
