"""cases.py - load and check the case files (tests/conformance/cases/*.yaml).

A file holds one upstream context: `context`, `tag` and `cases`. A case:

  it:        upstream's ginkgo It text
  upstream:  the PORT/PROTO probes upstream's test validates (the others
             of a step are derived here from the same policies)
  needs:     optional; features a case depends on that are not everywhere
             yet (named-ports, ipblock-pods), printed when it fails
  steps:     done in order; each does its actions, then checks `expect`

A step's actions, in this order: delete_all (true: delete every policy),
delete ([ns/name, ...]), refused (YAML that apply must refuse; refused_with:
a word the error must contain), apply (YAML: policies created or
replaced), pod_labels ({ns/pod: "k=v,..."}: the pod's new label set),
ns_labels ({ns: "k=v,..."}). `${x/b}` in YAML is pod x/b's address.

expect maps probe keys to rules (model.py): every real-traffic probe
(80/TCP, 81/TCP, 80/UDP, 81/UDP) exactly once; SCTP probes are optional
and run as BPF rows. A case is checked completely before anything runs.
"""
import os
import re

import yaml

import model

CASE_KEYS = {"it", "upstream", "needs", "steps"}
STEP_KEYS = {"name", "delete_all", "delete", "refused", "refused_with",
             "apply", "pod_labels", "ns_labels", "expect"}
NEEDS = {"named-ports", "ipblock-pods"}


class Case:
    def __init__(self, tag, raw):
        self.tag = tag
        self.it = raw["it"]
        self.upstream = list(raw.get("upstream") or [])
        self.needs = list(raw.get("needs") or [])
        self.steps = [Step(s) for s in raw["steps"]]

    @property
    def title(self):
        return "[%s] %s" % (self.tag, self.it)


class Step:
    def __init__(self, raw):
        self.raw = raw
        self.name = raw.get("name", "")
        # combo -> truth table
        self.expect = {}
        for key, rules in raw["expect"].items():
            table = model.truth_table(rules or [])
            for combo in model.expand_combos(key):
                if combo in self.expect:
                    raise ValueError("probe %s is expected twice" % combo)
                self.expect[combo] = table
        missing = [c for c in model.REAL_COMBOS if c not in self.expect]
        if missing:
            raise ValueError("no expectation for %s" % ", ".join(missing))


def substitute(text):
    """${ns/pod} -> the pod's address."""
    def addr(m):
        if m.group(1) not in model.PODS:
            raise ValueError("${%s} is not a pod" % m.group(1))
        return model.pod_ip(m.group(1))
    return re.sub(r"\$\{([^}]*)\}", addr, text)


def check_step(raw):
    unknown = set(raw) - STEP_KEYS
    if unknown:
        raise ValueError("unknown step keys %s" % sorted(unknown))
    if "expect" not in raw:
        raise ValueError("a step needs expect")
    for pod in (raw.get("pod_labels") or {}):
        if pod not in model.PODS:
            raise ValueError("pod_labels: '%s' is not a pod" % pod)
    for ns in (raw.get("ns_labels") or {}):
        if ns not in model.NAMESPACES:
            raise ValueError("ns_labels: '%s' is not a namespace" % ns)
    for text in (raw.get("apply"), raw.get("refused")):
        if text:
            for doc in yaml.safe_load_all(substitute(text)):
                if not (doc or {}).get("metadata", {}).get("namespace"):
                    raise ValueError("every policy names its namespace")


def load_file(path):
    with open(path) as f:
        data = yaml.safe_load(f)
    out = []
    for i, raw in enumerate(data["cases"]):
        where = "%s: case %d (%s)" % (path, i + 1, raw.get("it", "?"))
        try:
            unknown = set(raw) - CASE_KEYS
            if unknown:
                raise ValueError("unknown case keys %s" % sorted(unknown))
            bad = set(raw.get("needs") or []) - NEEDS
            if bad:
                raise ValueError("unknown needs %s" % sorted(bad))
            for c in raw.get("upstream") or []:
                model.expand_combos(c)
            for j, step in enumerate(raw["steps"]):
                try:
                    check_step(step)
                except (ValueError, yaml.YAMLError) as e:
                    raise ValueError("step %d: %s" % (j + 1, e))
            out.append(Case(data["tag"], raw))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError("%s: %s" % (where, e))
    return out


def load_dir(path):
    cases = []
    for name in sorted(os.listdir(path)):
        if name.endswith(".yaml"):
            cases += load_file(os.path.join(path, name))
    titles = [c.title for c in cases]
    dups = {t for t in titles if titles.count(t) > 1}
    if dups:
        raise ValueError("case titles must be unique: %s" % sorted(dups))
    return cases
