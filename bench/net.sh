#!/bin/bash
# bench/net.sh: TCP throughput between two berth containers on a bridge
# network, against the floor of two plain network namespaces joined by one
# veth pair, in one run; prints MB/s for each and the ratio.
#   bench/net.sh [--seconds N] [--berth PATH]
# Everything happens inside a network namespace the script makes: the
# machine's interfaces, routes and firewall are never touched. iperf3 runs
# from the host's file system inside each container's network namespace
# (nsenter --net), so the busybox image needs no iperf3 and both sides
# measure the same program over the path under test: veth, bridge, veth
# against a single veth.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
berth=$here/build/berth seconds=5
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--berth) berth=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--berth PATH]" >&2; exit 2 ;;
	esac
done
for tool in iperf3 jq nsenter ip; do
	command -v "$tool" >/dev/null || { echo "net.sh: $tool missing (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "net.sh: run as root" >&2; exit 1; }
# A private mount namespace: whatever a container mounts stays in it.
if [ -z "${BERTH_NET_BENCH_INNER:-}" ]; then
	BERTH_NET_BENCH_INNER=1 exec unshare -m --propagation private "$0" "$@"
fi

tag=$$
hostns=berth-bench-$tag nsa=berth-bench-a-$tag nsb=berth-bench-b-$tag
work=$(mktemp -d /tmp/berth-net-bench.XXXXXX)
hb() { nsenter --net="/run/netns/$hostns" "$berth" --root "$work/state" "$@"; }
cleanup() {
	hb delete --force bench-a >/dev/null 2>&1 || true
	hb delete --force bench-b >/dev/null 2>&1 || true
	for ns in "$hostns" "$nsa" "$nsb"; do ip netns delete "$ns" 2>/dev/null || true; done
	findmnt -R "$work" >/dev/null 2>&1 && { echo "mounts left under $work" >&2; return; }
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# iperf3 client against a server in another namespace; prints MB/s.
measure() { # SERVER-NETNS-FILE CLIENT-NETNS-FILE SERVER-ADDRESS
	local json
	nsenter --net="$1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local server=$!
	for _ in $(seq 1 50); do
		nsenter --net="$1" ss -ltn 'sport = :5201' | grep -q LISTEN && break
		sleep 0.1
	done
	json=$(nsenter --net="$2" iperf3 -c "$3" -p 5201 -t "$seconds" -J)
	wait "$server" || true
	jq -r '.end.sum_received.bits_per_second / 8 / 1000000 | . * 10 | round / 10' <<<"$json"
}

ip netns add "$hostns"
ip -n "$hostns" link set lo up

# the containers: the example bundle, sleeping, on the default bridge network
"$here/tests/fixtures/make-rootfs.sh" "$work/bundle/rootfs" >/dev/null
jq '.process.args = ["sleep", "1000000"]' "$here/config.json.example" > "$work/bundle/config.json"
hb run -d --net bridge -b "$work/bundle" bench-a
hb run -d --net bridge -b "$work/bundle" bench-b
ip_a=$(hb net ls --format json | jq -r '.[].leases[] | select(.container == "bench-a") | .ip')
pid_a=$(hb state bench-a | jq -r .pid)
pid_b=$(hb state bench-b | jq -r .pid)

# the floor: two namespaces, one veth pair, nothing else
ip netns add "$nsa"
ip netns add "$nsb"
ip -n "$nsa" link add fl0 type veth peer name fl1 netns "$nsb"
ip -n "$nsa" addr add 10.99.0.1/24 dev fl0
ip -n "$nsb" addr add 10.99.0.2/24 dev fl1
for ns in "$nsa" "$nsb"; do ip -n "$ns" link set lo up; done
ip -n "$nsa" link set fl0 up
ip -n "$nsb" link set fl1 up

echo "TCP throughput, iperf3 -t $seconds, one stream ($(nproc) cores; $(uname -r))"
bridge=$(measure "/proc/$pid_a/ns/net" "/proc/$pid_b/ns/net" "$ip_a")
floor=$(measure "/run/netns/$nsa" "/run/netns/$nsb" 10.99.0.1)
printf '  %-44s %10s MB/s\n' "berth: container -> container over berth0" "$bridge"
printf '  %-44s %10s MB/s\n' "floor: netns -> netns over one veth pair" "$floor"
awk -v b="$bridge" -v f="$floor" 'BEGIN { printf "  bridge / floor: %.2f\n", b / f }'
