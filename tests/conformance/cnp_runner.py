#!/usr/bin/env python3
"""cnp_runner.py - the ClusterNetworkPolicy conformance suite against a
live segd (see run.sh cnp).

  cnp_runner.py --socket SEGD_SOCKET --segctl SEGCTL --agents DIR
                --ifname NS/POD=IFACE... [--only REGEX] [CASE_DIR]

Registers upstream's five namespaces, its eight pod-network pods and the
two nodes of its hostNetwork pods (cnp_model.py) with segd, checks that
every pod reaches every other on every served port before any policy, then runs each upstream test (cases_cnp/*.yaml, format
in cnp_cases.py): applies its manifests, then its subtests in order, each
doing its steps' actions through segctl and then the step's probes (the
agents in the pods, agent.py, all at once). Prints "ok - [cnp] TEST/SUBTEST"
or "not ok - ..." with the probes that went wrong, and
"# cnp-conformance: N passed, M failed".

Probes as in runner.py: a dropped flow times out (PROBE_TIMEOUT); a probe
expected open that timed out is probed once more, longer; one expected
closed that got through is never retried. After each test every policy is
deleted and every namespace label the test changed is put back.
"""
import json
import re
import subprocess
import sys
import time

import yaml

import cnp_cases
import cnp_model as world
import runner

emit = runner.emit

# A policy that selects no pod and has no rule: what a cluster-scoped
# policy is replaced with while segctl cannot delete one (segctl delete
# policy NAME without --namespace looks up namespace "default" before the
# cluster-scoped delete lands).
INERT = """apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: %s}
spec:
  tier: Baseline
  priority: 1000
  subject: {namespaces: {matchLabels: {segd-conformance: deleted}}}
"""


class Policies:
    """Deleting every policy between tests, cluster-scoped ones included."""

    def __init__(self, seg):
        self.seg = seg
        self.inert = False   # cluster-scoped delete missing: replaced instead

    def delete_cluster(self, name):
        rc, err = self.seg.do("delete", "policy", name)
        if rc == 0:
            return 0, ""
        if not self.inert:
            print("# segctl delete policy %s: exit %d (%s); cluster-scoped "
                  "policies are replaced by inert ones (no subject, no rule) "
                  "instead" % (name, rc, err))
            self.inert = True
        rc, _, err = self.seg.apply_text(INERT % name)
        return rc, err

    def delete_all(self):
        rc, out, err = self.seg.run("get", "policies", "-o", "json")
        if rc:
            return rc, err
        for p in json.loads(out).get("items", []):
            if p["namespace"]:
                rc, err = self.seg.do("delete", "policy", p["name"],
                                      "--namespace", p["namespace"])
            elif p["rules"]:
                rc, err = self.delete_cluster(p["name"])
            if rc:
                return rc, "%s/%s: %s" % (p["namespace"], p["name"], err)
        rc, out, err = self.seg.run("get", "policies", "-o", "json")
        left = [p for p in (json.loads(out).get("items", []) if rc == 0 else [])
                if p["namespace"] or p["rules"] or not self.inert]
        if left:
            return 1, "policies left after deleting: %s" % left
        return rc, err


def observe(cluster, probes):
    """probes: [(from, to, combo, expected)] -> {(from, to, combo): result}
    ("ok", "timeout", ...), open ones that timed out probed again."""
    cells = list({(f, t, c) for f, t, c, _ in probes})
    want = {(f, t, c): a for f, t, c, a in probes}
    seen, raw = cluster.probe(cells, runner.PROBE_TIMEOUT)
    again = [cell for cell in cells if want[cell] and seen[cell] is False]
    if again:
        seen2, raw2 = cluster.probe(again, runner.RETRY_TIMEOUT)
        raw.update(raw2)
        cluster.reprobed += len(again)
        cluster.reprobe_answered += sum(1 for v in seen2.values() if v)
    return raw


def short(pod):
    return pod.split("/")[1]


class TestRun:
    """One upstream test: its manifests, its subtests in order, cleanup."""

    def __init__(self, cluster, policies, test):
        self.cluster = cluster
        self.policies = policies
        self.test = test
        self.docs = {d["metadata"]["name"]: d for d in test.docs}
        self.relabelled_ns = set()

    def apply(self, text):
        rc, _, err = self.cluster.segctl.apply_text(text)
        return rc, err

    def start(self):
        rc, err = self.apply(self.test.manifests)
        return ["apply the manifests: exit %d: %s" % (rc, err)] if rc else []

    def actions(self, step):
        notes = []
        seg = self.cluster.segctl

        def check(what, result):
            if result[0]:
                notes.append("%s: exit %d: %s" % (what, result[0], result[1]))
        for ref in step.deletes:
            ns, name = ref.split("/")
            check("delete %s" % ref, seg.do("delete", "policy", name, "--namespace", ns))
        for name, ops in step.patches.items():
            self.docs[name] = cnp_cases.patched(self.docs[name], ops)
            check("apply the patched %s" % name,
                  self.apply(yaml.safe_dump(self.docs[name], sort_keys=False)))
        for ns, labels in step.ns_labels.items():
            self.relabelled_ns.add(ns)
            check("relabel namespace %s" % ns, self.cluster.set_ns(ns, labels))
        return notes

    def subtest(self, sub, probe=True):
        """Do the subtest's steps; probe them unless probe is False (a
        subtest an --only run skips, done for the state it leaves).
        Returns the notes of what went wrong."""
        notes = []
        for i, step in enumerate(sub.steps):
            where = "step %d: " % (i + 1) if len(sub.steps) > 1 else ""
            notes += [where + n for n in self.actions(step)]
            if not probe:
                continue
            raw = observe(self.cluster, step.probes)
            for f, t, combo, allowed in step.probes:
                got = raw[(f, t, combo)]
                if (got == "ok") != allowed or got not in ("ok", "timeout"):
                    notes.append("%s%s -> %s %s: expected %s, got %s"
                                 % (where, short(f), short(t), combo,
                                    "allow" if allowed else "deny",
                                    "allow" if got == "ok" else
                                    "deny (timeout)" if got == "timeout" else got))
        return notes

    def reset(self):
        notes = []
        rc, err = self.policies.delete_all()
        if rc:
            notes.append("cleanup: delete every policy: exit %d: %s" % (rc, err))
        for ns in sorted(self.relabelled_ns):
            rc, err = self.cluster.set_ns(ns, world.ns_labels(ns))
            if rc:
                notes.append("cleanup: labels of %s: exit %d: %s" % (ns, rc, err))
        return notes


def self_check(cluster):
    """Before any policy every pod reaches every pod on every port it
    serves (the hostNetwork ones on their node's address)."""
    probes = [(f, t, c, True) for f in world.PODS for t in world.PODS
              if f != t for c in world.served(t)]
    raw = observe(cluster, probes)
    bad = ["%s -> %s %s: %s" % (short(f), short(t), c, raw[(f, t, c)])
           for f, t, c, _ in probes if raw[(f, t, c)] != "ok"]
    emit(not bad, "[cnp] [self-check] without policies every pod reaches every "
         "pod on %s, the hostNetwork pods (%s) on %s"
         % (", ".join(world.SERVED),
            ", ".join(short(p) for p in sorted(world.HOST_NETWORK)),
            ", ".join(world.HOST_SERVED)), bad[:40])
    return not bad


def run_test(cluster, policies, test, only):
    """(passed, failed) of one test's subtests (those --only selects)."""
    chosen = [s for s in test.subtests if not only or re.search(only, s.title)]
    if not chosen:
        return 0, 0
    run = TestRun(cluster, policies, test)
    passed = failed = 0
    start = run.start()
    for sub in test.subtests:
        if sub not in chosen:
            run.subtest(sub, probe=False)
            continue
        notes = start + run.subtest(sub)
        if sub is chosen[-1]:
            notes += run.reset()
        ok = not notes
        emit(ok, sub.title, notes, sub.needs if not ok else ())
        passed += ok
        failed += not ok
        if sub is chosen[-1]:
            break
    return passed, failed


def main(argv):
    args = runner.parse_args(argv, "cases_cnp")
    tests = cnp_cases.load_dir(args.cases)
    cluster = runner.start_cluster(args, world, "[cnp] ", "cnp-conformance")
    if not cluster:
        return 1
    policies = Policies(cluster.segctl)

    passed = failed = 0
    t0 = time.monotonic()
    if self_check(cluster):
        passed += 1
        for test in tests:
            try:
                p, f = run_test(cluster, policies, test, args.only)
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                emit(False, "[cnp] %s" % test.name, ["the bed broke: %s" % e])
                failed += 1
                break
            passed += p
            failed += f
    else:
        failed += 1
        print("# the bed is broken: no case was run")
    return runner.finish(cluster, "cnp-conformance", "subtests", passed, failed, t0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
