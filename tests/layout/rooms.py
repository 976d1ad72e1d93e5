#!/usr/bin/env python3
"""The architecture's one-way rule, checked on what the build produced.

Every object under build/core and build/daemon is read with nm: a file
that calls a function defined in another file depends on it. Two checks,
TAP output:
  * between rooms (folders): the dependencies form no circle, so data
    flows one way (parse -> model -> compile -> image -> datapath, and
    control -> events -> engine -> datapath in the daemon);
  * inside each room: no two files call each other, directly or round a
    longer circle.
A circle is printed with one symbol per step, so the call to move is named.
"""
import collections
import glob
import os
import subprocess
import sys

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRC":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            used.add(f[1])
    return defined, used


def find_circle(edges):
    """One circle of the graph {node: {node: symbol}} as a node list, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, {})):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def describe(circle, edges):
    return " -> ".join("%s (%s)" % (a, edges[a][b]) for a, b in zip(circle, circle[1:])) \
        + " -> " + circle[-1]


objs = sorted(glob.glob(os.path.join(BUILD, "core", "**", "*.o"), recursive=True) +
              glob.glob(os.path.join(BUILD, "daemon", "**", "*.o"), recursive=True))
if not objs:
    print("not ok 1 - no objects under %s/core and %s/daemon: build first" % (BUILD, BUILD))
    sys.exit(1)
owner, uses = {}, {}
for o in objs:
    d, u = symbols(o)
    name = os.path.relpath(o, BUILD)[:-2]
    uses[name] = u
    for s in d:
        owner[s] = name

rooms, files = collections.defaultdict(dict), collections.defaultdict(lambda: collections.defaultdict(dict))
for name, used in uses.items():
    for s in sorted(used):
        to = owner.get(s)
        if not to or to == name:
            continue
        ra, rb = os.path.dirname(name), os.path.dirname(to)
        if ra != rb:
            rooms[ra].setdefault(rb, s)
        else:
            files[ra][name].setdefault(to, s)

fails = 0
n = 0
circle = find_circle(rooms)
n += 1
if circle:
    fails += 1
    print("not ok %d - rooms call each other in a circle: %s" % (n, describe(circle, rooms)))
else:
    print("ok %d - no circle between the %d rooms" % (n, len({os.path.dirname(x) for x in uses})))
for room in sorted({os.path.dirname(x) for x in uses}):
    n += 1
    circle = find_circle(files[room])
    if circle:
        fails += 1
        print("not ok %d - %s: files call each other in a circle: %s"
              % (n, room, describe(circle, files[room])))
    else:
        print("ok %d - %s: no circle between its files" % (n, room))
print("# rooms.py: %d passed, %d failed" % (n - fails, fails))
sys.exit(1 if fails else 0)
