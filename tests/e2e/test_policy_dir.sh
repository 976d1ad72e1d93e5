#!/usr/bin/env bash
# The policy directory (--policy-dir) written exactly as the kubelet
# updates a mounted ConfigMap: data in a timestamped directory, "..data"
# a symlink to it renamed over in one step, one symlink per key into
# ..data. With real traffic: a swap applies the new policy, a bad file
# keeps the last good one (and is reported with file:line:col), removing
# a key removes its policy (a cluster-scoped ClusterNetworkPolicy too);
# policies applied with segctl are not touched.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

CM="$TOPO_DIR/configmap"
SRC="$TOPO_DIR/src"
mkdir -p "$CM" "$SRC"

# cm_update KEY...: publish $SRC/KEY for each KEY as the kubelet's atomic
# writer does; keys not named go away. In one process, like the kubelet:
# segd applies a round 150 ms after the last change, and a step of its own
# per command could be further apart than that on a busy machine
cm_update() {
	python3 - "$CM" "$SRC" "$@" <<'PY'
import os, random, shutil, sys, time
cm, src, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
data = os.path.join(cm, "..data")
ts = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime()) + str(random.randrange(10**9))
old = os.readlink(data) if os.path.islink(data) else None
os.mkdir(os.path.join(cm, ts))
for k in keys:
    shutil.copy(os.path.join(src, k), os.path.join(cm, ts, k))
os.symlink(ts, os.path.join(cm, "..data_tmp"))
os.rename(os.path.join(cm, "..data_tmp"), data)           # rename(2): the swap
for k in keys:
    if not os.path.islink(os.path.join(cm, k)):
        os.symlink(os.path.join("..data", k), os.path.join(cm, k))
for k in os.listdir(cm):                                   # keys no longer in the payload
    if not k.startswith(".") and not os.path.exists(os.path.join(data, k)):
        os.unlink(os.path.join(cm, k))
if old:
    shutil.rmtree(os.path.join(cm, old))
PY
}

# rounds: how many times segd went through the directory (applied or not)
rounds() { grep -cE "policy_dir: .*(files, policies|nothing applied)" "$TOPO_DIR/segd.log"; }
rounds_above() { [ "$(rounds)" -gt "$1" ]; }
wait_round() { wait_until 10 rounds_above "$1"; } # more than $1 rounds happened

# b accepts TCP from a on PORT only
b_ingress() {
	cat <<YAML
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: b-ingress, namespace: cm}
spec:
  segments:
    a: {selector: {matchLabels: {app: a}}}
    b: {selector: {matchLabels: {app: b}}}
  appliesTo: {segment: b}
  ingress:
    - from: [{segment: a}]
      ports: [{protocol: TCP, port: $1}]
YAML
}
b_ingress 8080 >"$SRC/allow.yaml"

topo_create_node
topo_add_pod a 10.200.3.10
topo_add_pod b 10.200.3.20
cm_update allow.yaml
topo_start_segd --policy-dir "$CM" || { fail "segd start"; e2e_finish; exit 1; }
segctl namespace set cm >/dev/null
segctl endpoint add a -n cm --ip 10.200.3.10 --labels app=a --ifname "$(pod_if a)" >/dev/null
segctl endpoint add b -n cm --ip 10.200.3.20 --labels app=b --ifname "$(pod_if b)" >/dev/null
serve pod b 8080
serve pod b 9090
check "segctl apply of a policy from elsewhere" quiet segctl apply policies/default-deny-all.yaml -n other

check "first round at start applied allow.yaml" grep -q "b-ingress" <<<"$(segctl get policies)"
allowed "v1: a -> b tcp/8080" probe_tcp pod a 10.200.3.20 8080
denied "v1: a -> b tcp/9090" probe_tcp pod a 10.200.3.20 9090

# a swap: the new data replaces the old one
n=$(rounds)
b_ingress 9090 >"$SRC/allow.yaml"
cm_update allow.yaml
check "swap to v2 seen" wait_round "$n"
check "one update with its several steps is one round" [ "$(rounds)" -eq $((n + 1)) ]
allowed "v2: a -> b tcp/9090" probe_tcp pod a 10.200.3.20 9090
denied "v2: a -> b tcp/8080" probe_tcp pod a 10.200.3.20 8080

# a bad file: nothing of the update applies, not even the good file's change
n=$(rounds)
b_ingress 8080 >"$SRC/allow.yaml"
printf 'apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: broken, namespace: cm}\nspec:\n  appliesTo: {segment: nowhere}\n  ingress: [{from: [{segment: nowhere}], ports: [{protocol: TCP, port: 99999}]}]\n' >"$SRC/bad.yaml"
cm_update allow.yaml bad.yaml
check "bad update seen" wait_round "$n"
check "bad file reported with file:line:col" \
	grep -qE "policy_dir: $CM/bad.yaml:[0-9]+:[0-9]+: .*nothing applied" "$TOPO_DIR/segd.log"
refute "broken policy not there" grep -q broken <<<"$(segctl get policies)"
allowed "after the bad update: v2 still in force: a -> b tcp/9090" probe_tcp pod a 10.200.3.20 9090
denied "after the bad update: a -> b tcp/8080 still denied" probe_tcp pod a 10.200.3.20 8080

# fixed: allow.yaml (v2 again) plus a second key restricting a's egress
n=$(rounds)
b_ingress 9090 >"$SRC/allow.yaml"
cat >"$SRC/a-egress.yaml" <<'YAML'
apiVersion: segd.io/v1
kind: SegmentPolicy
metadata: {name: a-egress, namespace: cm}
spec:
  segments:
    a: {selector: {matchLabels: {app: a}}}
    b: {selector: {matchLabels: {app: b}}}
  appliesTo: {segment: a}
  egress:
    - to: [{segment: b}]
      ports: [{protocol: TCP, port: 8080}]
YAML
cm_update allow.yaml a-egress.yaml
check "update with a second key seen" wait_round "$n"
check "a-egress applied" grep -q "a-egress" <<<"$(segctl get policies)"
denied "with a-egress: a -> b tcp/9090 (a may only send to 8080)" probe_tcp pod a 10.200.3.20 9090

# the key goes: its policy goes, the other key's and segctl's stay
n=$(rounds)
cm_update allow.yaml
check "key removal seen" wait_round "$n"
pol=$(segctl get policies)
refute "a-egress removed with its key" grep -q "a-egress" <<<"$pol"
check "b-ingress stays" grep -q "b-ingress" <<<"$pol"
check "policy applied with segctl stays" grep -q "other" <<<"$pol"
allowed "a-egress gone: a -> b tcp/9090 again" probe_tcp pod a 10.200.3.20 9090

# a ClusterNetworkPolicy key (cluster-scoped: no namespace): applied,
# changed, and deleted with its key like the namespaced kinds
cnp_key() { # ACTION PORT
	cat <<YAML
apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: cm-guard}
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {matchLabels: {kubernetes.io/metadata.name: cm}}
  ingress:
  - name: a-$2
    action: $1
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}}]
    protocols: [{tcp: {destinationPort: {number: $2}}}]
YAML
}
# cnp_json FIELD: a field of cm-guard in `get policies -o json`, or absent
cnp_json() {
	segctl get policies -o json | python3 -c '
import json, sys
p = [i for i in json.load(sys.stdin)["items"] if i["name"] == "cm-guard"]
print(p[0][sys.argv[1]] if p else "absent")' "$1"
}
n=$(rounds)
cnp_key Deny 9090 >"$SRC/cnp.yaml"
cm_update allow.yaml cnp.yaml
check "ClusterNetworkPolicy key seen" wait_round "$n"
check "cm-guard applied as a ClusterNetworkPolicy" [ "$(cnp_json kind)" = ClusterNetworkPolicy ]
check "cm-guard has no namespace" [ "$(cnp_json namespace)" = "" ]
refute "cm-guard not removed by the round that applied it" \
	grep -q "policy (cluster)/cm-guard removed" "$TOPO_DIR/segd.log"
denied "Admin Deny from the directory: a -> b tcp/9090 (b-ingress allows it)" \
	probe_tcp pod a 10.200.3.20 9090
n=$(rounds)
cnp_key Accept 8080 >"$SRC/cnp.yaml"
cm_update allow.yaml cnp.yaml
check "changed ClusterNetworkPolicy key seen" wait_round "$n"
allowed "changed to Admin Accept 8080: a -> b tcp/8080 (b-ingress alone denies it)" \
	probe_tcp pod a 10.200.3.20 8080
allowed "the Deny of 9090 is gone: a -> b tcp/9090" probe_tcp pod a 10.200.3.20 9090
n=$(rounds)
cm_update allow.yaml
check "ClusterNetworkPolicy key removal seen" wait_round "$n"
check "cm-guard deleted with its key" [ "$(cnp_json kind)" = absent ]
check "the removal is logged as cluster-scoped" \
	grep -q "policy (cluster)/cm-guard removed: no file" "$TOPO_DIR/segd.log"
denied "cm-guard gone: a -> b tcp/8080 denied again by b-ingress" probe_tcp pod a 10.200.3.20 8080
check "b-ingress stays after the ClusterNetworkPolicy went" grep -q "b-ingress" <<<"$(segctl get policies)"

# every key gone: the directory's policies go, segctl's stays
n=$(rounds)
rm -f "$CM/allow.yaml"
check "last key removal seen" wait_round "$n"
pol=$(segctl get policies)
refute "b-ingress removed" grep -q "b-ingress" <<<"$pol"
check "policy applied with segctl still stays" grep -q "other" <<<"$pol"
allowed "no policy on b: a -> b tcp/8080" probe_tcp pod a 10.200.3.20 8080

e2e_finish
