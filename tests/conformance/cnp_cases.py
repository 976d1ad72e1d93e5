"""cnp_cases.py - load and check the ClusterNetworkPolicy case files
(tests/conformance/cases_cnp/*.yaml), one upstream ConformanceTest each:

  test:      upstream's ShortName (CNPAdminTierIngressTCP)
  source:    the upstream Go file and manifest (provenance, not read)
  features:  upstream's SupportedFeatures (informational)
  needs:     optional: what segd must have for the test (see NEEDS)
  manifests: the YAML upstream applies before the first subtest
             (ClusterNetworkPolicy, NetworkPolicy documents)
  subtests:  upstream's t.Run subtests, in order; each has `name`
             (upstream's text, verbatim) and either `steps` or the keys of
             one step directly

Subtests run in order on one cluster, as upstream's do: a policy a subtest
patches stays patched for the next ones. A step's actions, in this order:

  delete:    [ns/name, ...]    delete a NetworkPolicy (upstream's
                                Client.Delete)
  patch:     {POLICY: [op, ...]}  change a policy of the test, as upstream's
                                mutate := cnp.DeepCopy() ... Patch*; the
                                changed document is applied whole. Ops:
                                swap: [PATH, I, J]   swap two list items
                                set: [PATH, VALUE]   set a field
                                insert: [PATH, I, VALUE]  insert a list item
                                PATH is dotted: spec.ingress, spec.egress.5.protocols
  ns_labels: {NAMESPACE: "k=v,..."}  a namespace's new label set
  probes:    ["FROM -> TO PORT/PROTO allow|deny", ...]  upstream's
             PokeServer calls of the step, pods by name

`${pod-name}` in a patch value is that pod's address.
"""
import copy
import os
import re

import yaml

import cnp_model as world

TEST_KEYS = {"test", "source", "features", "needs", "manifests", "subtests"}
STEP_KEYS = {"delete", "patch", "ns_labels", "probes"}
SUBTEST_KEYS = {"name", "needs", "steps"} | STEP_KEYS
NEEDS = {"named-ports"}
OPS = {"swap": 3, "set": 2, "insert": 3}


class Test:
    def __init__(self, raw):
        self.name = raw["test"]
        self.needs = list(raw.get("needs") or [])
        self.manifests = raw["manifests"]
        self.docs = [d for d in yaml.safe_load_all(self.manifests) if d]
        self.subtests = [Subtest(self, s) for s in raw["subtests"]]


class Subtest:
    def __init__(self, test, raw):
        self.name = raw["name"]
        self.title = "[cnp] %s/%s" % (test.name, self.name)
        self.needs = test.needs + list(raw.get("needs") or [])
        steps = raw.get("steps")
        if steps is None:
            steps = [{k: v for k, v in raw.items() if k in STEP_KEYS}]
        elif set(raw) & STEP_KEYS:
            raise ValueError("a subtest has steps or the keys of one step, "
                             "not both")
        self.steps = [Step(s) for s in steps]


class Step:
    def __init__(self, raw):
        unknown = set(raw) - STEP_KEYS
        if unknown:
            raise ValueError("unknown step keys %s" % sorted(unknown))
        self.deletes = list(raw.get("delete") or [])
        self.patches = dict(raw.get("patch") or {})
        self.ns_labels = dict(raw.get("ns_labels") or {})
        self.probes = [world.parse_probe(p) for p in raw.get("probes") or []]
        if not self.probes:
            raise ValueError("a step needs probes")
        seen = {}
        for f, t, combo, allowed in self.probes:
            if seen.setdefault((f, t, combo), allowed) != allowed:
                raise ValueError("%s -> %s %s expected both ways" % (f, t, combo))
        for ns in self.ns_labels:
            if ns not in world.NAMESPACES:
                raise ValueError("ns_labels: '%s' is not a namespace" % ns)
        for ref in self.deletes:
            if "/" not in ref:
                raise ValueError("delete: '%s' is not NAMESPACE/NAME" % ref)


def substitute(value):
    """${pod-name} -> the pod's address, in every string of value."""
    if isinstance(value, str):
        def addr(m):
            if m.group(1) not in world.BY_NAME:
                raise ValueError("${%s} is not a pod" % m.group(1))
            return world.pod_ip(world.BY_NAME[m.group(1)])
        return re.sub(r"\$\{([^}]*)\}", addr, value)
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    return value


def _walk(doc, path):
    """(container, last key) of a dotted path; list indexes are numbers."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = doc
    for k in keys[:-1]:
        node = node[k]
    return node, keys[-1]


def patched(doc, ops):
    """A copy of doc with ops (see above) applied in order."""
    doc = copy.deepcopy(doc)
    for op in ops:
        (name, args), = op.items()
        if name not in OPS or len(args) != OPS[name]:
            raise ValueError("op %s: want one of %s with %s arguments"
                             % (op, sorted(OPS), OPS))
        node, key = _walk(doc, args[0])
        if name == "swap":
            lst, i, j = node[key], args[1], args[2]
            lst[i], lst[j] = lst[j], lst[i]
        elif name == "set":
            node[key] = substitute(copy.deepcopy(args[1]))
        else:
            node[key].insert(args[1], substitute(copy.deepcopy(args[2])))
    return doc


def check_test(test):
    """Every patch applies to the documents as they are at that point."""
    docs = {d["metadata"]["name"]: d for d in test.docs}
    for d in test.docs:
        if d.get("kind") == "ClusterNetworkPolicy" and d["metadata"].get("namespace"):
            raise ValueError("a ClusterNetworkPolicy has no namespace")
    for sub in test.subtests:
        for step in sub.steps:
            for name, ops in step.patches.items():
                if name not in docs:
                    raise ValueError("%s: patch of '%s', not a policy of the "
                                     "test" % (sub.name, name))
                try:
                    docs[name] = patched(docs[name], ops)
                except (KeyError, IndexError, TypeError) as e:
                    raise ValueError("%s: patch of %s: %r" % (sub.name, name, e))


def load_file(path):
    with open(path) as f:
        raw = yaml.safe_load(f)
    try:
        unknown = set(raw) - TEST_KEYS
        if unknown:
            raise ValueError("unknown keys %s" % sorted(unknown))
        test = Test(raw)
        for sub in raw["subtests"]:
            unknown = set(sub) - SUBTEST_KEYS
            if unknown:
                raise ValueError("%s: unknown keys %s" % (sub.get("name"), sorted(unknown)))
        bad = {n for s in test.subtests for n in s.needs} - NEEDS
        if bad:
            raise ValueError("unknown needs %s" % sorted(bad))
        check_test(test)
        return test
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as e:
        raise ValueError("%s: %s" % (path, e))


def load_dir(path):
    tests = [load_file(os.path.join(path, n))
             for n in sorted(os.listdir(path)) if n.endswith(".yaml")]
    titles = [s.title for t in tests for s in t.subtests]
    dups = {t for t in titles if titles.count(t) > 1}
    if dups:
        raise ValueError("subtest titles must be unique: %s" % sorted(dups))
    return tests
