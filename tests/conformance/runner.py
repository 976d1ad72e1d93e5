#!/usr/bin/env python3
"""runner.py - run the conformance cases against a live segd (see run.sh).

  runner.py --socket SEGD_SOCKET --segctl SEGCTL --agents DIR
            --ifname POD=IFACE... [--only REGEX] [CASE_DIR]

Registers namespaces x, y, z and the nine pods with segd, checks that
every pod reaches every other before any policy, then runs each case:
its steps change policies and labels through segctl, then every pod
probes every other pod on every real-traffic probe at once (the agents in
the pods, agent.py) and the observed matrix is compared with the case's.
Prints "ok - CASE" / "not ok - CASE" (with the truth tables of what went
wrong) and "# conformance: N passed, M failed".

Probes: a dropped flow times out (PROBE_TIMEOUT). A cell expected open
that timed out is probed once more with a longer timeout (a loaded
machine may be slow to answer); a cell expected closed that got through is
never retried: that is a leak. Between cases every policy is deleted and
every label the case changed is put back.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import cases as caselib
import model

PROBE_TIMEOUT = 1.0
RETRY_TIMEOUT = 3.0
AGENT_WAIT = 30.0

NEEDS_NOTE = {
    "named-ports": "needs named ports (segctl endpoint add --port)",
    "ipblock-pods": "needs ipBlock to match pod addresses (policy_cidr_match: all)",
}


class Segctl:
    def __init__(self, binary, sock, workdir):
        self.binary = binary
        self.env = dict(os.environ, SEGD_SOCKET=sock)
        self.workdir = workdir

    def run(self, *args):
        p = subprocess.run([self.binary] + list(args), env=self.env,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr.strip()

    def do(self, *args):
        """(exit code, stderr) of one call"""
        rc, _, err = self.run(*args)
        return rc, err

    def apply_text(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=self.workdir,
                                         delete=False) as f:
            f.write(text)
        try:
            return self.run("apply", f.name)
        finally:
            os.unlink(f.name)


class Cluster:
    """The pods as segd knows them, and their agents. world: the suite's
    model (model.py, cnp_model.py): NAMESPACES, PODS (each has an agent),
    ENDPOINTS (the pods registered as segd's endpoints), NODES (the other
    nodes: name -> (address, labels)), pod_ip, ns_labels, pod_labels,
    port_names."""

    def __init__(self, segctl, ifnames, agents_dir, world=model):
        self.segctl = segctl
        self.world = world
        self.ifnames = ifnames
        self.agents_dir = agents_dir
        self.named_ports = True
        self.conns = {}
        # cells expected open that timed out, and how many answered later
        self.reprobed = self.reprobe_answered = 0

    def register_endpoint(self, pod, labels):
        ns, name = pod.split("/")
        args = ["endpoint", "add", name, "--namespace", ns,
                "--ip", self.world.pod_ip(pod), "--labels", labels,
                "--ifname", self.ifnames[pod]]
        if self.named_ports:
            ports = []
            for p in self.world.port_names():
                ports += ["--port", p]
            rc, _, err = self.segctl.run(*(args + ports))
            if rc != 2:
                return rc, err
            # usage error: this segctl has no --port yet
            self.named_ports = False
            print("# segctl endpoint add has no --port (%s); registering "
                  "pods without named ports" % err.splitlines()[0])
        return self.segctl.do(*args)

    def set_ns(self, ns, labels):
        return self.segctl.do("namespace", "set", ns, "--labels", labels)

    def setup(self):
        for ns in self.world.NAMESPACES:
            rc, err = self.set_ns(ns, self.world.ns_labels(ns))
            if rc:
                raise RuntimeError("namespace set %s: %s" % (ns, err))
        for pod in self.world.ENDPOINTS:
            rc, err = self.register_endpoint(pod, self.world.pod_labels(pod))
            if rc:
                raise RuntimeError("endpoint add %s: %s" % (pod, err))
        for node, (addr, labels) in sorted(self.world.NODES.items()):
            rc, err = self.segctl.do("node", "set", node, "--ip", addr,
                                     "--labels", labels)
            if rc:
                raise RuntimeError("node set %s: %s" % (node, err))
        deadline = time.monotonic() + AGENT_WAIT
        for pod in self.world.PODS:
            path = os.path.join(self.agents_dir, pod.replace("/", "-") + ".sock")
            while not os.path.exists(path):
                if time.monotonic() > deadline:
                    raise RuntimeError("agent of %s never listened (%s)" % (pod, path))
                time.sleep(0.05)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            # a batch takes RETRY_TIMEOUT at most: a silent agent is broken
            s.settimeout(RETRY_TIMEOUT + 10)
            self.conns[pod] = s.makefile("rw")

    def probe(self, cells, timeout):
        """cells: (from, to, combo) -> True / False / None (no verdict)."""
        by_src = {}
        for f, t, combo in cells:
            port, proto = combo.split("/")
            by_src.setdefault(f, []).append(((f, t, combo),
                                             [self.world.pod_ip(t), int(port),
                                              proto.lower()]))
        for f, items in by_src.items():
            req = {"timeout": timeout, "probes": [p for _, p in items]}
            self.conns[f].write(json.dumps(req) + "\n")
            self.conns[f].flush()
        out, raw = {}, {}
        for f, items in by_src.items():
            line = self.conns[f].readline()
            if not line:
                raise RuntimeError("agent of %s went away" % f)
            for (cell, _), res in zip(items, json.loads(line)):
                raw[cell] = res
                out[cell] = True if res == "ok" else False if res == "timeout" else None
        return out, raw


def all_cells(combos):
    return [(f, t, c) for c in combos for f in model.PODS for t in model.PODS
            if f != t]


def observe(cluster, expect):
    """Probe every cell of the expected tables; re-probe open cells that
    timed out once, longer. Returns (observed, raw results)."""
    cells = all_cells([c for c in model.REAL_COMBOS if c in expect])
    seen, raw = cluster.probe(cells, PROBE_TIMEOUT)
    again = [cell for cell in cells
             if expect[cell[2]][cell[:2]] and seen[cell] is False]
    if again:
        seen2, raw2 = cluster.probe(again, RETRY_TIMEOUT)
        seen.update(seen2)
        raw.update(raw2)
        cluster.reprobed += len(again)
        cluster.reprobe_answered += sum(1 for v in seen2.values() if v)
    return seen, raw


def diff_report(expect, seen, raw):
    """Truth tables of the probes that went wrong; probes with the same
    expected and observed tables are shown once."""
    groups = {}
    for combo in model.REAL_COMBOS:
        exp = expect[combo]
        got = {(f, t): seen[(f, t, combo)] for (f, t) in exp}
        if got != exp:
            key = (tuple(sorted(exp.items())), tuple(sorted(got.items())))
            groups.setdefault(key, []).append(combo)
    lines = []
    for (exp, got), combos in groups.items():
        exp, got = dict(exp), dict(got)
        wrong = [cell for cell in exp if got[cell] != exp[cell]]
        lines.append("%s: %d wrong of %d" % (" ".join(combos), len(wrong), len(exp)))
        lines.append("expected:")
        lines += model.render(lambda f, t: model.verdict_char(exp[(f, t)]))
        lines.append("observed:")
        lines += model.render(lambda f, t: model.verdict_char(got[(f, t)]))
        lines.append("comparison ('.' agrees, 'X' wrong):")
        lines += model.render(lambda f, t: "." if got[(f, t)] == exp[(f, t)] else "X")
        odd = sorted({raw[cell + (c,)] for cell in wrong for c in combos}
                     - {"ok", "timeout"})
        if odd:
            lines.append("probe errors: %s" % "; ".join(odd))
    return lines


class CaseRun:
    """One case: its steps, and putting back what it changed."""

    def __init__(self, cluster, case):
        self.cluster = cluster
        self.case = case
        self.relabelled_pods = set()
        self.relabelled_ns = set()
        self.notes = []

    def action(self, what, result, want_ok=True):
        rc, err = result
        if (rc == 0) != want_ok:
            self.notes.append("%s: exit %d%s" % (what, rc, (": " + err) if err else ""))
            return False
        return True

    def do_step(self, step):
        seg = self.cluster.segctl
        raw = step.raw
        if raw.get("delete_all"):
            self.action("delete every policy", delete_all_policies(seg))
        for ref in raw.get("delete") or []:
            ns, name = ref.split("/")
            self.action("delete policy %s" % ref,
                        seg.do("delete", "policy", name, "--namespace", ns))
        if raw.get("refused"):
            rc, _, err = seg.apply_text(caselib.substitute(raw["refused"]))
            if self.action("apply (must be refused)", (rc, err), want_ok=False):
                word = raw.get("refused_with")
                if rc != 1 or (word and word not in err):
                    self.notes.append("apply refused with exit %d, want 1 and "
                                      "a message naming '%s': %s" % (rc, word, err))
        if raw.get("apply"):
            rc, _, err = seg.apply_text(caselib.substitute(raw["apply"]))
            self.action("apply", (rc, err))
        for pod, labels in (raw.get("pod_labels") or {}).items():
            self.relabelled_pods.add(pod)
            self.action("relabel pod %s" % pod,
                        self.cluster.register_endpoint(pod, labels))
        for ns, labels in (raw.get("ns_labels") or {}).items():
            self.relabelled_ns.add(ns)
            self.action("relabel namespace %s" % ns, self.cluster.set_ns(ns, labels))

    def run(self):
        ok = not self.notes
        for i, step in enumerate(self.case.steps):
            before = len(self.notes)
            self.do_step(step)
            seen, raw = observe(self.cluster, step.expect)
            report = diff_report(step.expect, seen, raw)
            if report or len(self.notes) > before:
                ok = False
                title = "step %d%s" % (i + 1, (" (%s)" % step.name) if step.name else "")
                self.notes[before:before] = [title + ":"]
                self.notes += report
        return ok

    def reset(self):
        """Back to the base cluster; a failure here fails the case."""
        ok = self.action("cleanup: delete every policy",
                         delete_all_policies(self.cluster.segctl))
        for pod in sorted(self.relabelled_pods):
            ok &= self.action("cleanup: labels of %s" % pod,
                              self.cluster.register_endpoint(pod, model.pod_labels(pod)))
        for ns in sorted(self.relabelled_ns):
            ok &= self.action("cleanup: labels of namespace %s" % ns,
                              self.cluster.set_ns(ns, model.ns_labels(ns)))
        return ok


def delete_all_policies(seg):
    rc, out, err = seg.run("get", "policies", "-o", "json")
    if rc:
        return rc, err
    for p in json.loads(out).get("items", []):
        rc, _, err = seg.run("delete", "policy", p["name"], "--namespace", p["namespace"])
        if rc:
            return rc, "%s/%s: %s" % (p["namespace"], p["name"], err)
    rc, out, err = seg.run("get", "policies", "-o", "json")
    left = json.loads(out).get("items", []) if rc == 0 else []
    if left:
        return 1, "policies left after deleting: %s" % left
    return rc, err


def emit(ok, title, notes, needs=()):
    print("%s - %s" % ("ok" if ok else "not ok", title))
    if not ok:
        for n in needs:
            print("#   %s" % NEEDS_NOTE[n])
        for line in notes:
            print("#   " + line)
    sys.stdout.flush()


def self_check(cluster):
    """Before any policy, every pod reaches every pod: a bed that fails
    this cannot tell anything about policies."""
    expect = {c: model.truth_table([]) for c in model.REAL_COMBOS}
    seen, raw = observe(cluster, expect)
    report = diff_report(expect, seen, raw)
    emit(not report, "[self-check] without policies every pod reaches every pod "
         "on 80 and 81, TCP and UDP", report)
    return not report


def parse_args(argv, cases_dir):
    """The runners' command line (runner.py, cnp_runner.py)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--segctl", required=True)
    ap.add_argument("--agents", required=True)
    ap.add_argument("--ifname", action="append", default=[])
    ap.add_argument("--only", default=os.environ.get("CONFORMANCE_ONLY", ""))
    ap.add_argument("cases", nargs="?",
                    default=os.path.join(os.path.dirname(__file__), cases_dir))
    return ap.parse_args(argv[1:])


def start_cluster(args, world, tag, summary):
    """The suite's namespaces and pods registered with segd and their
    agents reached; None, said as a failed case and summary, if not."""
    ifnames = dict(x.split("=", 1) for x in args.ifname)
    cluster = Cluster(Segctl(args.segctl, args.socket, args.agents), ifnames,
                      args.agents, world)
    try:
        cluster.setup()
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        emit(False, tag + "[setup] namespaces, pods and agents", [str(e)])
        print("# %s: 0 passed, 1 failed" % summary)
        return None
    return cluster


def finish(cluster, summary, what, passed, failed, t0):
    """The summary lines; the exit code."""
    print("# %d %s in %.0f s; %d open cells timed out and were probed "
          "again, %d then answered" % (passed + failed, what, time.monotonic() - t0,
                                       cluster.reprobed, cluster.reprobe_answered))
    print("# %s: %d passed, %d failed" % (summary, passed, failed))
    return 0 if failed == 0 else 1


def main(argv):
    args = parse_args(argv, "cases")
    all_cases = caselib.load_dir(args.cases)
    if args.only:
        all_cases = [c for c in all_cases if re.search(args.only, c.title)]
    cluster = start_cluster(args, model, "", "conformance")
    if not cluster:
        return 1

    passed = failed = 0
    t0 = time.monotonic()
    if self_check(cluster):
        passed += 1
        broken = None
        for case in all_cases:
            if broken:
                emit(False, case.title, ["not run: " + broken])
                failed += 1
                continue
            run = CaseRun(cluster, case)
            try:
                ok = run.run()
                ok = run.reset() and ok
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                broken = "the bed broke in an earlier case (%s)" % e
                ok = False
                run.notes.append(str(e))
            emit(ok, case.title, run.notes, case.needs if not ok else ())
            passed += ok
            failed += not ok
    else:
        failed += 1
        print("# the bed is broken: no case was run")
    return finish(cluster, "conformance", "cases", passed, failed, t0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
