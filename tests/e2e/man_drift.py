#!/usr/bin/env python3
"""man_drift.py SEGD SEGCTL MANDIR SRCDIR - the man pages against the code.

segd.8:   every long option of `segd --help` and of main.c's option table
          is a tag under OPTIONS; every key config.c accepts (and the
          list its "unknown setting" error names) is a tag under
          CONFIGURATION; and no tag names an option or key the code lacks.
operations.md: every such key is a row of its "Configuration reference".
segctl.8: every command of `segctl --help` is a tag under COMMANDS, the
          options of its `segctl COMMAND --help` usage appear in its tags,
          and no tag names a command segctl lacks.
Prints each difference; exits 1 when there is one.
"""
import os
import re
import subprocess
import sys
import tempfile

OPT = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-o)(?![\w-])")


def plain(roff):
    """A roff line as text: no macro name, quotes or font escapes."""
    roff = re.sub(r"^\.[A-Z]+\s*", "", roff)
    roff = re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-").replace('"', "")
    return " ".join(roff.split())


def tags(page, section):
    """The tag lines (after .TP) of one .SH section of a man page."""
    out, cur, after_tp = [], None, False
    for line in open(page):
        line = line.rstrip("\n")
        if line.startswith(".SH"):
            cur = line[3:].strip().strip('"')
            continue
        if cur == section and after_tp and not line.startswith(".\\\""):
            out.append(plain(line))
        after_tp = line.startswith(".TP")
    return out


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True).stdout


def segd_diff(segd, page, src):
    errs = []
    code_opts = set(OPT.findall(run(segd, "--help"))) - {"-o"}
    main_c = open(os.path.join(src, "daemon/main.c")).read()
    code_opts |= {"--" + n for n in re.findall(r'\{ "([a-z-]+)", (?:required|no)_argument', main_c)}
    man_opts = {o for t in tags(page, "OPTIONS") for o in OPT.findall(t)}
    errs += ["segd.8 OPTIONS lacks %s" % o for o in sorted(code_opts - man_opts)]
    errs += ["segd.8 OPTIONS has %s, which segd lacks" % o for o in sorted(man_opts - code_opts)]

    config_c = open(os.path.join(src, "core/parse/config.c")).read()
    code_keys = set(re.findall(r'strcmp\(key, "([a-z_]+)"\)', config_c))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write("no_such_setting: 1\n")
        f.flush()
        msg = subprocess.run([segd, "-n", "-c", f.name], capture_output=True, text=True)
    known = re.search(r"known: ([a-z_, ]+)", msg.stdout + msg.stderr)
    if not known:
        errs.append("segd -n names no known settings for an unknown key: %r" % msg.stderr)
    else:
        listed = {k.strip() for k in known.group(1).split(",") if k.strip()}
        errs += ["segd's error lists '%s', config.c does not accept it" % k
                 for k in sorted(listed - code_keys)]
        errs += ["config.c accepts '%s', segd's error does not list it" % k
                 for k in sorted(code_keys - listed)]
        code_keys |= listed
    man_keys = {t for t in tags(page, "CONFIGURATION") if re.fullmatch(r"[a-z_]+", t)}
    errs += ["segd.8 CONFIGURATION lacks %s" % k for k in sorted(code_keys - man_keys)]
    errs += ["segd.8 CONFIGURATION has %s, which config.c lacks" % k
             for k in sorted(man_keys - code_keys)]
    ops = open(os.path.join(src, "docs/operations.md")).read()
    ref = ops.split("### Configuration reference", 1)[-1].split("\n#", 1)[0]
    doc_keys = set(re.findall(r"^\| `([a-z_]+)` \|", ref, re.M))
    errs += ["docs/operations.md Configuration reference lacks %s" % k
             for k in sorted(code_keys - doc_keys)]
    errs += ["docs/operations.md Configuration reference has %s, which config.c lacks" % k
             for k in sorted(doc_keys - code_keys)]
    return errs


def segctl_commands(segctl):
    """Command words of `segctl --help` ('blocklist list | show NAME' is two)."""
    cmds, on = [], False
    for line in run(segctl, "--help").splitlines():
        if line == "commands:":
            on = True
            continue
        if on and not line.strip():
            break
        if not on or not re.match(r"  [a-z]", line):
            continue
        parts = line.strip().split(" | ")
        first = re.match(r"[a-z][a-z-]*(?: [a-z][a-z-]*)*(?= |$)", parts[0]).group(0)
        cmds.append(first)
        for alt in parts[1:]:
            cmds.append(first.split()[0] + " " + alt.split()[0])
    return list(dict.fromkeys(cmds))


def segctl_diff(segctl, page):
    errs = []
    man = tags(page, "COMMANDS")
    cmds = segctl_commands(segctl)
    if len(cmds) < 10:
        errs.append("only %d commands parsed from segctl --help: %s" % (len(cmds), cmds))
    for cmd in cmds:
        mine = [t for t in man if t == cmd or t.startswith(cmd + " ")]
        if not mine:
            errs.append("segctl.8 COMMANDS lacks '%s'" % cmd)
            continue
        usage = run(segctl, *cmd.split(), "--help").splitlines()[0]
        want = set(OPT.findall(usage)) - {"--help"}
        have = {o for t in mine for o in OPT.findall(t)}
        errs += ["segctl.8 '%s' lacks %s (%s)" % (cmd, o, usage)
                 for o in sorted(want - have)]
    for t in man:
        if not any(t == c or t.startswith(c + " ") for c in cmds):
            errs.append("segctl.8 COMMANDS has '%s', which segctl --help lacks" % t)
    return errs


def main(argv):
    segd, segctl, mandir, src = argv[1:5]
    errs = segd_diff(segd, os.path.join(mandir, "segd.8"), src)
    errs += segctl_diff(segctl, os.path.join(mandir, "segctl.8"))
    for e in errs:
        print("# " + e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
