#!/usr/bin/env bash
# Install the Debian packages segd needs to build, test and run its demo.
# Idempotent: asks apt only for what is missing.
set -euo pipefail

PKGS=(clang llvm libbpf-dev libxdp-dev libmnl-dev libyaml-dev libevent-dev
      libcriterion-dev libelf-dev zlib1g-dev bpftool xdp-tools iproute2
      netcat-openbsd pkg-config make gcc libclang-rt-14-dev iputils-ping
      python3 socat dnsmasq-base nfdump prometheus tshark graphviz
      containernetworking-plugins iperf3 ethtool curl nmap iptables nftables
      conntrack gnuplot-nox)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
		|| missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# prometheus (for promtool) ships a service: keep apt from starting it on
# this node, for the length of the install only
rcd=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	rcd=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' > "$rcd" && chmod +x "$rcd"
	trap 'rm -f "$rcd"' EXIT
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
