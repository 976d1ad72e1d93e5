#!/usr/bin/env python3
"""cni_exec.py - run a CNI network configuration list the way a container
runtime (libcni) does, for tests/e2e/test_cni.sh.

  cni_exec.py ADD|DEL|CHECK CONFLIST CONTAINER_ID NETNS IFNAME CACHE_DIR
              [--args K=V;K2=V2] [--cap NAME=JSON]... [--conf-args JSON]

Each plugin of the list gets its own config on stdin: the plugin's object
plus the list's cniVersion and name, runtimeConfig holding the capability
args the plugin asked for ("capabilities": {"labels": true}), and
prevResult (and "args", --conf-args, as runtimes may insert; CNI
conventions). ADD runs the plugins in order, each getting the previous one's
result, and caches the last result in CACHE_DIR; CHECK runs them in order
and DEL in reverse, both with the cached result as prevResult. The
environment carries CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
CNI_ARGS and CNI_PATH (taken from ours). Each plugin's stdout is saved as
CACHE_DIR/<command>-<index>.out. On the first failing plugin, its stdout
is printed and its exit code returned; else the final result is printed.
"""
import json
import os
import subprocess
import sys


def find_plugin(name):
    for d in os.environ.get("CNI_PATH", "").split(":"):
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    sys.exit(f"cni_exec: plugin {name} not found in CNI_PATH")


def plugin_config(conflist, plugin, caps, conf_args, prev):
    conf = dict(plugin)
    if conf_args is not None:
        conf["args"] = conf_args
    conf["cniVersion"] = conflist["cniVersion"]
    conf["name"] = conflist["name"]
    wanted = {k: v for k, v in caps.items() if plugin.get("capabilities", {}).get(k)}
    if wanted:
        conf["runtimeConfig"] = wanted
    if prev is not None:
        conf["prevResult"] = prev
    return conf


def main():
    cmd, conflist_path, cid, netns, ifname, cache = sys.argv[1:7]
    cni_args, caps, conf_args = "", {}, None
    rest = sys.argv[7:]
    while rest:
        opt, val = rest[0], rest[1]
        rest = rest[2:]
        if opt == "--args":
            cni_args = val
        elif opt == "--conf-args":
            conf_args = json.loads(val)
        elif opt == "--cap":
            k, v = val.split("=", 1)
            caps[k] = json.loads(v)
    with open(conflist_path) as f:
        conflist = json.load(f)
    os.makedirs(cache, exist_ok=True)
    cached = os.path.join(cache, f"{conflist['name']}-{cid}-{ifname}.json")
    env = dict(os.environ, CNI_COMMAND=cmd, CNI_CONTAINERID=cid, CNI_NETNS=netns,
               CNI_IFNAME=ifname, CNI_ARGS=cni_args)
    plugins = list(enumerate(conflist["plugins"]))
    prev = None
    if cmd in ("DEL", "CHECK") and os.path.exists(cached):
        with open(cached) as f:
            prev = json.load(f)
    if cmd == "DEL":
        plugins.reverse()
    result = prev
    for i, plugin in plugins:
        conf = plugin_config(conflist, plugin, caps, conf_args, result if cmd == "ADD" else prev)
        p = subprocess.run([find_plugin(plugin["type"])], input=json.dumps(conf).encode(),
                           env=env, capture_output=True, timeout=60)
        with open(os.path.join(cache, f"{cmd}-{i}.out"), "wb") as f:
            f.write(p.stdout)
        sys.stderr.write(p.stderr.decode(errors="replace"))
        if p.returncode != 0:
            sys.stdout.write(p.stdout.decode(errors="replace"))
            return p.returncode
        if cmd == "ADD":
            result = json.loads(p.stdout)
    if cmd == "ADD":
        with open(cached, "w") as f:
            json.dump(result, f)
        print(json.dumps(result))
    elif cmd == "DEL" and os.path.exists(cached):
        os.unlink(cached)
    return 0


if __name__ == "__main__":
    sys.exit(main())
