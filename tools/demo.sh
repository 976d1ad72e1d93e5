#!/usr/bin/env bash
# demo.sh - a segd node made of network namespaces: a web/api/db shop and an
# outside host, policies/demo.yaml enforced in the kernel, live traffic
# allowed and denied, and the counters that saw it. `make demo` runs it.
# Everything is torn down on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, BPF)" >&2
	exit 1
fi
. tools/topology.sh
trap 'echo; echo "tearing the demo node down"; topo_destroy' EXIT
trap 'exit 130' INT TERM

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '\n'; bold "== $*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
segctl_show() { printf '$ segctl %s\n' "$*"; segctl "$@"; }

say "building the node: namespaces for web, api, db and an outside host"
topo_create_node
topo_add_pod web 10.200.1.10 fd00:200::10
topo_add_pod api 10.200.1.20 fd00:200::20
topo_add_pod db 10.200.1.30 fd00:200::30
serve pod web 80 && serve pod api 8080 && serve pod db 5432 &&
	serve ext "" 443 && serve ext "" 80 || exit 1
echo "web 10.200.1.10  api 10.200.1.20  db 10.200.1.30  outside 203.0.113.10"

say "starting segd in the node (maps pinned under $TOPO_BPFFS/segd)"
topo_start_segd --flow-interval 1 --flow-log "$TOPO_DIR/flows.json" || exit 1
segctl_show namespace set shop --labels team=shop
for p in web:10.200.1.10:fd00:200::10 api:10.200.1.20:fd00:200::20 db:10.200.1.30:fd00:200::30; do
	name=${p%%:*} rest=${p#*:}
	segctl_show endpoint add "$name" --namespace shop --ip "${rest%%:*}" \
		--ip "${rest#*:}" --labels "app=$name" --ifname "$(pod_if "$name")"
done
segctl_show attach up0 --role uplink

say "the policy (policies/demo.yaml), first as a dry run"
segctl_show apply --dry-run policies/demo.yaml
segctl_show apply policies/demo.yaml
segctl_show get policies
segctl_show get endpoints

say "live traffic"
matrix() {
	local verdict
	printf '%-34s %-10s %s\n' "FLOW" "EXPECTED" "RESULT"
	while IFS='|' read -r label expect kind where who addr port; do
		case $kind in
		tcp) probe_tcp "$where" "$who" "$addr" "$port" ;;
		udp) probe_udp "$where" "$who" "$addr" "$port" ;;
		ping) probe_ping "$where" "$who" "$addr" ;;
		esac && verdict=allowed || verdict=denied
		printf '%-34s %-10s %s\n' "$label" "$expect" \
			"$([ "$verdict" = "$expect" ] && echo "$verdict" || echo "$verdict  <-- unexpected")"
	done <<'EOF_MATRIX'
outside -> web   tcp/80|allowed|tcp|ext||10.200.1.10|80
web     -> api   tcp/8080|allowed|tcp|pod|web|10.200.1.20|8080
web     -> api   ping|allowed|ping|pod|web|10.200.1.20|
api     -> db    tcp/5432|allowed|tcp|pod|api|10.200.1.30|5432
api     -> outside tcp/443|allowed|tcp|pod|api|203.0.113.10|443
web     -> api   tcp/8080 (IPv6)|allowed|tcp|pod|web|fd00:200::20|8080
web     -> db    tcp/5432|denied|tcp|pod|web|10.200.1.30|5432
db      -> outside tcp/443|denied|tcp|pod|db|203.0.113.10|443
outside -> api   tcp/8080|denied|tcp|ext||10.200.1.20|8080
api     -> web   tcp/80|denied|tcp|pod|api|10.200.1.10|80
web     -> api   udp/8080|denied|udp|pod|web|10.200.1.20|8080
outside -> db    ping|denied|ping|ext||10.200.1.30|
EOF_MATRIX
}
matrix
flowlog_lines=$(lines "$TOPO_DIR/flows.json")

say "that traffic raised no alert: detection counts every new flow (docs/detection.md)"
segctl_show alerts

say "a compromised pod: api scans db with nmap, segd detects and contains it"
segctl_show namespace set shop --on-detect quarantine
printf '$ ip netns exec %s nmap -sS -p 1-100 10.200.1.30\n' "$(pod_ns api)"
in_pod api nmap -n -Pn -T5 --max-retries 0 -sS -p 1-100 10.200.1.30 2>&1 | tail -n 2
sleep 0.5
segctl_show alerts
segctl_show get quarantines
probe_tcp pod api 10.200.1.30 5432 && echo "api -> db tcp/5432: allowed  <-- unexpected" ||
	echo "api -> db tcp/5432: denied now (quarantined; the policy allows it)"
segctl_show release api -n shop
segctl_show namespace set shop --on-detect default

say "why was web -> db denied? (explain walks the compiled policy, sends nothing)"
segctl_show explain --from shop/web --to shop/db --port 5432/tcp -n shop || true

say "flows and counters seen by the datapath (flow records every second here)"
# a flow pass after the traffic has written its records
wait_until 10 lines_at_least "$TOPO_DIR/flows.json" $((flowlog_lines + 1))
segctl_show flows --verdict deny -n shop 2>/dev/null || true
segctl_show flows --verdict allow -n shop 2>/dev/null || true
segctl_show status
say "the same as JSON flow records ($TOPO_DIR/flows.json), the last three"
tail -n 3 "$TOPO_DIR/flows.json" 2>/dev/null || true
say "and as Prometheus metrics (127.0.0.1:9470 inside the node), the drops"
in_node python3 -c '
import urllib.request
t = urllib.request.urlopen("http://127.0.0.1:9470/metrics", timeout=3).read().decode()
print("\n".join(l for l in t.splitlines() if l.startswith("segd_dropped_packets_total") and not l.endswith(" 0")))' || true

if [ -t 0 ] && [ -z "${CI:-}" ]; then
	say "the node stays up: try it (Enter or Ctrl-C ends the demo)"
	cat <<EOF_HELP
  ip netns exec $(pod_ns web) ping 10.200.1.30          # denied
  ip netns exec $TOPO_NODE env SEGD_SOCKET=$TOPO_SOCK $SEGCTL_BIN status
EOF_HELP
	read -r _ || true
fi
