# shellcheck shell=bash
# path_lib.sh - the one topology the path benchmarks share (throughput.sh,
# path_profile.sh): an outside host behind the node's uplink up0, pods web
# and api behind veths, iperf3 servers on port 5201 in both pods. segd
# enforces tests/fixtures/e2e/traffic.yaml (default deny, these flows
# allowed), so every packet goes through conntrack. Source it from the
# project root after tools/topology.sh; it sets its own EXIT trap.
#
# path_configure CONFIG takes segd's programs off the path and puts back
# the ones CONFIG names, so every configuration shares the same path:
#   none          no segd program on the path
#   tc            segd's tc programs on the pods' veths (all enforcement)
#   tc+xdp        and the uplink's early drop as segd attaches it
#                 (segctl attach; uplink_hook: auto: native XDP on a NIC,
#                 tc ingress on this veth; generic XDP before issue 15)
#   tc+xdp-generic the XDP program in generic (skb) mode on the veth
#                 uplink: segd's choice there before uplink_hook: auto
#   tc+xdp-native the same program in native (driver) mode on the veth
#                 uplink: what segd avoids there
#   tc+uplink-tc  the uplink's early drop at tc ingress instead of XDP
#                 (config uplink_hook: tc): no copy of non-linear skbs
# path_client PATH prints the iperf3 client command of a path:
#   outside->pod, pod->outside (up0 and the pod's veth), pod->pod, pod<-pod.
# path_flood_setup readies the path for bench_udp_flood from the outside
# host (peers.sh, live_cost.sh): RPS on up0 to CPU 1 and a UDP sink in web;
# path_sink_rx prints the packets web's eth0 has received.

PATH_CONFIGS=(none tc tc+xdp tc+xdp-generic tc+xdp-native tc+uplink-tc)
PATH_NAMES=("outside->pod" "pod->outside" "pod->pod" "pod<-pod")

path_setup() {
	local p name v4 v6
	trap topo_destroy EXIT
	topo_create_node
	topo_add_pod web 10.200.1.10 fd00:200::10
	topo_add_pod api 10.200.1.20 fd00:200::20
	topo_start_segd || return 1
	segctl namespace set shop >/dev/null
	for p in web:10.200.1.10:fd00:200::10 api:10.200.1.20:fd00:200::20; do
		IFS=: read -r name v4 v6 <<<"$p"
		segctl endpoint add "$name" -n shop --ip "$v4" --ip "$v6" \
			--labels "app=$name" --ifname "$(pod_if "$name")" >/dev/null
	done
	segctl apply tests/fixtures/e2e/traffic.yaml >/dev/null || return 1
	PATH_PROGS=$TOPO_BPFFS/segd/progs
	for p in web api; do
		topo_bg in_pod "$p" iperf3 -s -p 5201
	done
	for p in web api; do
		wait_listen pod "$p" 5201 || return 1
	done
}

PATH_TC_PREF=24221   # segd's tc filter priority and handle, 0x5e9d

_path_tc_off() {
	local p
	for p in web api; do
		in_node tc filter del dev "$(pod_if "$p")" ingress pref $PATH_TC_PREF
		in_node tc filter del dev "$(pod_if "$p")" egress pref $PATH_TC_PREF
	done
}
_path_tc_on() {
	local p
	for p in web api; do
		in_node tc filter replace dev "$(pod_if "$p")" ingress \
			pref $PATH_TC_PREF handle 0x5e9d bpf direct-action \
			object-pinned "$PATH_PROGS/from_endpoint"
		in_node tc filter replace dev "$(pod_if "$p")" egress \
			pref $PATH_TC_PREF handle 0x5e9d bpf direct-action \
			object-pinned "$PATH_PROGS/to_endpoint"
	done
}

path_configure() {
	_path_tc_off 2>/dev/null
	in_node ip link set up0 xdpgeneric off 2>/dev/null
	in_node ip link set up0 xdpdrv off 2>/dev/null
	in_node tc filter del dev up0 ingress pref $PATH_TC_PREF 2>/dev/null
	case $1 in
	none) ;;
	tc) _path_tc_on ;;
	tc+xdp) _path_tc_on; segctl attach up0 --role uplink >/dev/null ;;
	tc+xdp-generic)
		_path_tc_on
		in_node ip link set up0 xdpgeneric pinned "$PATH_PROGS/uplink" ;;
	tc+xdp-native)
		_path_tc_on
		in_node ip link set up0 xdpdrv pinned "$PATH_PROGS/uplink" ;;
	tc+uplink-tc)
		_path_tc_on
		in_node tc qdisc add dev up0 clsact 2>/dev/null
		in_node tc filter replace dev up0 ingress pref $PATH_TC_PREF \
			handle 0x5e9d bpf direct-action \
			object-pinned "$PATH_PROGS/uplink_ingress" ;;
	*) echo "path_configure: unknown configuration $1" >&2; return 2 ;;
	esac
}

path_client() {
	case $1 in
	outside-\>pod) echo in_ext iperf3 -c 10.200.1.10 ;;
	pod-\>outside) echo in_ext iperf3 -c 10.200.1.10 -R ;;
	pod-\>pod) echo in_pod web iperf3 -c 10.200.1.20 ;;
	pod\<-pod) echo in_pod web iperf3 -c 10.200.1.20 -R ;;
	*) echo "path_client: unknown path $1" >&2; return 2 ;;
	esac
}

# The sender runs on CPU 0; RPS sends up0's receive work (forwarding,
# segd's programs, delivery to the pod) to CPU 1, so the path has CPU 1 to
# itself. The sink in web: UDP 5201 bound, the smallest buffer, never read
# (its datagrams drop at the socket: no ICMP port unreachable for each).
# Sets UP0_MAC, the frames' next hop.
path_flood_setup() {
	in_node sh -c 'echo 2 > /sys/class/net/up0/queues/rx-0/rps_cpus' || return 1
	UP0_MAC=$(in_node cat /sys/class/net/up0/address)
	topo_bg in_pod web python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
s.bind(("0.0.0.0", 5201))
time.sleep(1e9)'
	wait_listen pod web 5201 udp
}

path_sink_rx() { in_pod web cat /sys/class/net/eth0/statistics/rx_packets; }
# CPU 1's idle (idle + iowait) and steal ticks so far, USER_HZ units
cpu1_ticks() { awk '$1 == "cpu1" { printf "%.0f %.0f\n", $5 + $6, $9 }' /proc/stat; }
