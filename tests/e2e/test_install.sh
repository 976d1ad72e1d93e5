#!/usr/bin/env bash
# make install into a scratch DESTDIR: every file where it belongs, the
# installed binaries run, the unit passes systemd-analyze verify, the
# installed bash completion completes from the installed segctl, the man
# pages render cleanly and name every option, config key and command the
# installed binaries have, and an existing config is kept on a second
# install.
set -u
. "$(dirname "$0")/lib.sh"
DEST=$(mktemp -d /tmp/segd-install.XXXXXX)
# topo_destroy: no topology here, but lib.sh made its directory
trap 'rm -rf "$DEST"; topo_destroy' EXIT

out=$(make -s install DESTDIR="$DEST" PREFIX=/usr/local 2>&1); rc=$?
check "make install DESTDIR=$DEST exits 0 (rc $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || echo "$out" | tail -20

# mode path: what must be there
while read -r mode path; do
	check "installed $path ($mode)" bash -c "[ -f '$DEST$path' ] && [ \"\$(stat -c %a '$DEST$path')\" = $mode ]"
done <<'LIST'
755 /usr/local/sbin/segd
755 /usr/local/bin/segctl
755 /usr/local/bin/segd-k8s-sync
755 /opt/cni/bin/segd-cni
644 /usr/local/share/man/man8/segd.8
644 /usr/local/share/man/man8/segctl.8
644 /usr/local/share/man/man8/segd-cni.8
644 /usr/local/share/man/man8/segd-k8s-sync.8
644 /usr/local/share/man/man5/segd-policy.5
644 /usr/local/share/bash-completion/completions/segctl
644 /usr/local/lib/systemd/system/segd.service
644 /usr/local/lib/systemd/system/segd-feeds.service
644 /usr/local/lib/systemd/system/segd-feeds.timer
755 /usr/local/lib/segd/fetch-feeds.sh
644 /usr/local/share/doc/segd/kubernetes.md
644 /usr/local/share/doc/segd/observability.md
644 /usr/local/share/doc/segd/operations.md
644 /etc/segd/segd.yaml
LIST

ver=$(cat core/util/version.h | sed -n 's/.*SEGD_VERSION "\(.*\)".*/\1/p')
check "installed segd --version says $ver" bash -c "'$DEST/usr/local/sbin/segd' --version | grep -qF '$ver'"
check "installed segd-cni --version says $ver" bash -c "'$DEST/opt/cni/bin/segd-cni' --version | grep -qF '$ver'"
check "installed segd-cni answers VERSION with 1.0.0" bash -c \
	"echo '{\"cniVersion\":\"1.0.0\"}' | CNI_COMMAND=VERSION '$DEST/opt/cni/bin/segd-cni' | grep -q '\"1.0.0\"'"
check "installed segd accepts the installed config (-n)" quiet \
	"$DEST/usr/local/sbin/segd" -n -c "$DEST/etc/segd/segd.yaml" --state-dir "$DEST/state-check"
sed 's/^# \([a-z_]*:\)/\1/' "$DEST/etc/segd/segd.yaml" >"$DEST/all-keys.yaml"
check "the installed config with its commented keys uncommented is accepted (-n)" quiet \
	"$DEST/usr/local/sbin/segd" -n -c "$DEST/all-keys.yaml" --state-dir "$DEST/state-check"
check "the unit runs segd from PREFIX with the config from SYSCONFDIR" \
	grep -qx 'ExecStart=/usr/local/sbin/segd -c /etc/segd/segd.yaml' \
	"$DEST/usr/local/lib/systemd/system/segd.service"
for m in man8/segd.8 man8/segctl.8 man8/segd-cni.8 man8/segd-k8s-sync.8 man5/segd-policy.5; do
	check "man page $m renders without warnings" bash -c \
		"[ -z \"\$(groff -man -Tutf8 -ww -z '$DEST/usr/local/share/man/$m' 2>&1)\" ]"
done
check "installed segd-k8s-sync --help runs and names --node" bash -c \
	"'$DEST/usr/local/bin/segd-k8s-sync' --help | grep -q -- '--node NODE'"
check "installed segd-k8s-sync without --node is a usage error (exit 2)" bash -c \
	"'$DEST/usr/local/bin/segd-k8s-sync' </dev/null >/dev/null 2>&1; [ \$? -eq 2 ]"

# the man pages cannot drift from the code: every long option of segd's
# usage and option table and every config key is in segd(8), every command
# of segctl --help (with its options) in segctl(8), every key in
# docs/operations.md's Configuration reference, and nothing stale
drift=$(python3 tests/e2e/man_drift.py "$DEST/usr/local/sbin/segd" "$DEST/usr/local/bin/segctl" \
	"$DEST/usr/local/share/man/man8" .); rc=$?
check "man pages and operations.md name every option, config key and command of the code (rc $rc)" [ "$rc" -eq 0 ]
[ -z "$drift" ] || echo "$drift"

if command -v systemd-analyze >/dev/null; then
	# verify the installed unit with its binaries pointed into DESTDIR
	mkdir -p "$DEST/verify"
	sed "s|/usr/local/sbin/segd|$DEST/usr/local/sbin/segd|g" \
		"$DEST/usr/local/lib/systemd/system/segd.service" >"$DEST/verify/segd.service"
	v=$(systemd-analyze verify --man=no "$DEST/verify/segd.service" 2>&1); rc=$?
	check "systemd-analyze verify segd.service: clean (rc $rc)" [ "$rc" -eq 0 -a -z "$v" ]
	[ -z "$v" ] || echo "$v" | sed 's/^/# /'
else
	echo "# skip: systemd-analyze not installed; segd.service not verified"
fi

# the installed completion asks the installed segctl (segctl __complete)
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _segctl
		 echo "${COMPREPLY[*]}"' _ "$DEST/usr/local/share/bash-completion/completions/segctl" "$@"
}
check "completion: segctl bl -> blocklist" [ "$(comp "$DEST/usr/local/bin/segctl" bl)" = blocklist ]
check "completion: segctl get '' -> the kinds" \
	[ "$(comp "$DEST/usr/local/bin/segctl" get '')" = "policies endpoints namespaces nodes" ]
check "completion: segctl endpoint add web --i -> --ip --ifname" \
	[ "$(comp "$DEST/usr/local/bin/segctl" endpoint add web --i)" = "--ip --ifname" ]
check "completion: segctl apply <file> completes file names" bash -c \
	"[ \"\$(cd '$DEST/etc/segd' && $(declare -f comp); DEST='$DEST' comp '$DEST/usr/local/bin/segctl' apply segd.y)\" = segd.yaml ]"
check "completion: is registered for segctl" bash -c \
	". '$DEST/usr/local/share/bash-completion/completions/segctl'; complete -p segctl | grep -q _segctl"

# every command in segctl's help is offered by completion (no drift)
help_words=$("$DEST/usr/local/bin/segctl" --help | sed -n 's/^  \([a-z-]\+\).*/\1/p' | sort -u | tr '\n' ' ')
comp_words=$("$DEST/usr/local/bin/segctl" __complete '' | sort -u | tr '\n' ' ')
check "completion offers every command of segctl --help ($comp_words)" [ "$help_words" = "$comp_words" ]

# docs/kubernetes.md: its manifests and conflist are well-formed, the
# DaemonSet asks for exactly the capabilities segd.service keeps
check "docs/kubernetes.md: YAML and JSON blocks parse; DaemonSet caps = unit's" python3 -c '
import json, re, sys, yaml
text = open(sys.argv[1]).read()
docs = [d for b in re.findall(r"```yaml\n(.*?)```", text, re.S) for d in yaml.safe_load_all(b)]
for b in re.findall(r"```json\n(.*?)```", text, re.S):
    conf = json.loads(b)
    assert conf["plugins"][-1]["type"] == "segd-cni"
ds = [d for d in docs if d and d["kind"] == "DaemonSet"][0]["spec"]["template"]["spec"]
assert ds["hostNetwork"] and not ds.get("hostPID")
c = ds["containers"][0]
caps = sorted(c["securityContext"]["capabilities"]["add"])
unit = open(sys.argv[2]).read()
want = sorted(x[4:] for x in re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split())
assert caps == want, (caps, want)
assert c["livenessProbe"]["exec"]["command"][-1] == "status"
mounts = {m["mountPath"] for m in c["volumeMounts"]}
assert {"/sys/fs/bpf", "/run/segd", "/var/lib/segd"} <= mounts
' "$DEST/usr/local/share/doc/segd/kubernetes.md" "$DEST/usr/local/lib/systemd/system/segd.service"

# a second install keeps an edited config
echo "log_level: debug" >>"$DEST/etc/segd/segd.yaml"
make -s install DESTDIR="$DEST" PREFIX=/usr/local >/dev/null 2>&1
check "a second make install keeps the edited /etc/segd/segd.yaml" \
	grep -qx "log_level: debug" "$DEST/etc/segd/segd.yaml"

# other locations
out=$(make -s install DESTDIR="$DEST/alt" PREFIX=/usr CNI_BIN_DIR=/usr/libexec/cni 2>&1); rc=$?
check "PREFIX=/usr CNI_BIN_DIR=/usr/libexec/cni install (rc $rc)" bash -c \
	"[ $rc -eq 0 ] && [ -x '$DEST/alt/usr/sbin/segd' ] && [ -x '$DEST/alt/usr/libexec/cni/segd-cni' ]"
check "... and the unit then runs /usr/sbin/segd" \
	grep -qx 'ExecStart=/usr/sbin/segd -c /etc/segd/segd.yaml' "$DEST/alt/usr/lib/systemd/system/segd.service"

e2e_finish
