#!/usr/bin/env bash
# `segctl lint`: policy files checked with no segd running (positions,
# codes, -o json, exit codes 0/1/2), then the applied state of a running
# segd (endpoints no policy selects, namespaces without default deny,
# world-open admin ports, an allow to a blocklisted address), exit 3
# without segd.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT
F=tests/fixtures/e2e/lint
LINT="$SEGCTL_BIN --socket $TOPO_DIR/none.sock lint"   # file mode: no segd there

# json_has JSON CODE WHERE: a finding of CODE at WHERE
json_has() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if any(f["code"] == sys.argv[2] and f["where"] == sys.argv[3]
                  for f in d["findings"]) else 1)' "$1" "$2" "$3"
}
# json_count JSON [CODE]: how many findings (of CODE)
json_count() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(sum(1 for f in d["findings"] if len(sys.argv) < 3 or f["code"] == sys.argv[2]))' "$@"
}

# ---- file mode: no segd anywhere ----
out=$($LINT $F/clean.yaml 2>&1); rc=$?
check "file: a clean file exits 0 ($rc)" rc_and_match $rc 0 "^0 errors, 0 warnings, 0 info$" "$out"
out=$($LINT policies/demo.yaml 2>&1); rc=$?
check "file: a warning under --fail-on error exits 0 ($rc)" \
	rc_and_match $rc 0 "policies/demo.yaml:39:7 \(http-from-world\)" "$out"
out=$($LINT policies/demo.yaml --fail-on warning 2>&1); rc=$?
check "file: the same warning under --fail-on warning exits 1 ($rc)" \
	rc_and_match $rc 1 "world-ingress " "$out"
out=$($LINT $F/risky.yaml -o json 2>&1); rc=$?
check "file: ssh open to the world is an error, exit 1 ($rc)" [ $rc -eq 1 ]
check "file: world-ingress-admin-port at risky.yaml:8:5" \
	json_has "$out" world-ingress-admin-port "$F/risky.yaml:8:5"
check "file: the allow inside the deny is shadowed, at 12:5" \
	json_has "$out" shadowed-rule "$F/risky.yaml:12:5"
check "file: allow-all egress at 21:5" json_has "$out" allow-all-egress "$F/risky.yaml:21:5"
# an allow-all egress rule enforces nothing: shop has no default deny there
check "file: no default deny for egress, at 3:1" json_has "$out" no-default-deny "$F/risky.yaml:3:1"
check "file: nothing else found ($(json_count "$out"))" [ "$(json_count "$out")" = 4 ]
out=$($LINT $F/bad-port.yaml 2>&1); rc=$?
check "file: port 65536 is out of range at 7:20, exit 1 ($rc)" \
	rc_and_match $rc 1 "port-out-of-range +$F/bad-port.yaml:7:20" "$out"
out=$(printf 'kind: Bogus\n' | $LINT - 2>&1); rc=$?
check "file: stdin that does not parse exits 1 with <stdin>:1:7 ($rc)" \
	rc_and_match $rc 1 "parse-error +<stdin>:1:7" "$out"
out=$(printf 'apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: p}\nspec: {ingress: []}\n' |
	$LINT - -n shop 2>&1)
check "file: -n names the namespace of documents without one" \
	grep -q "namespace shop has no default deny for egress" <<<"$out"
out=$($LINT $F/clean.yaml --fail-on never 2>&1); rc=$?
check "file: --fail-on never is usage, exit 2 ($rc)" rc_and_match $rc 2 "--fail-on takes" "$out"
out=$($LINT $F/no-such-file.yaml 2>&1); rc=$?
check "file: a missing file is usage, exit 2 ($rc)" rc_and_match $rc 2 "cannot read" "$out"

# ---- applied state: a running segd ----
out=$($LINT 2>&1); rc=$?
check "applied: no segd, exit 3 ($rc)" rc_and_match $rc 3 "cannot reach segd" "$out"

topo_create_node
topo_add_pod web 10.200.1.10
topo_add_pod tool 10.200.2.10
topo_start_segd || { fail "segd start"; e2e_finish; exit 1; }
segctl namespace set shop >/dev/null
segctl endpoint add web -n shop --ip 10.200.1.10 --labels app=web \
	--ifname "$(pod_if web)" >/dev/null
segctl endpoint add tool -n lab --ip 10.200.2.10 --labels app=tool \
	--ifname "$(pod_if tool)" >/dev/null
segctl blocklist load c2 $F/c2.txt --category c2 >/dev/null
segctl apply $F/applied.yaml >/dev/null
check "applied: set up" [ $? -eq 0 ]

out=$(segctl lint -o json 2>&1); rc=$?
check "applied: an error exits 1 ($rc)" [ $rc -eq 1 ]
check "applied: ssh from the world, named shop/web#1" \
	json_has "$out" world-ingress-admin-port shop/web#1
check "applied: egress to a blocklisted address, shop/web#2" \
	json_has "$out" allow-to-blocklisted shop/web#2
check "applied: lab's endpoint is selected by no policy" \
	json_has "$out" unselected-endpoint "endpoint lab/tool"
check "applied: lab has no default deny, in both directions" \
	[ "$(json_count "$out" no-default-deny)" = 2 ]
out=$(segctl lint 2>&1)
check "applied: the table names the rule and its name" \
	grep -qE "allow-to-blocklisted +shop/web#2 \(partner\) +allows egress: 198.51.100.0/28 overlaps 198.51.100.5/32, on blocklist c2" <<<"$out"

# fixed: the risky policy goes, lab denies by default
segctl delete policy web -n shop >/dev/null
segctl apply $F/lab-deny.yaml >/dev/null
out=$(segctl lint --fail-on warning 2>&1); rc=$?
check "applied: once fixed nothing is found, exit 0 under --fail-on warning ($rc)" \
	rc_and_match $rc 0 "^0 errors, 0 warnings, 0 info$" "$out"

e2e_finish
