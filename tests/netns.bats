#!/usr/bin/env bats
# tests/netns.bats: container networking: bridge networks with leases,
# published ports, --net modes, linux.netDevices, rootless pasta, cleanup.
#
# Every test makes its own "host" network namespace and runs berth inside
# it, so the machine's interfaces, routes, firewall and sysctls are never
# touched, and no packet leaves the machine. berth enters it with
# `nsenter --net` rather than `ip netns exec`, whose fresh /sys would hide
# the cgroup hierarchies berth needs. Container ids start with "nt-":
# cgroups are named berth/ID whatever the --root, and suites running beside
# this one use c1, c2...

load helpers

setup() {
	setup_bundle
	HOSTNS=berth-nt-$$-$BATS_TEST_NUMBER
	ip netns add "$HOSTNS"
	ip -n "$HOSTNS" link set lo up
	EXTRA_NS=()
	SERVER_PIDS=()
	TEST_USER=""
	# ping in the container needs a raw socket
	cfg '.process.capabilities.bounding += ["CAP_NET_RAW"]
	     | .process.capabilities.effective += ["CAP_NET_RAW"]
	     | .process.capabilities.permitted += ["CAP_NET_RAW"]'
	MACHINE_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)
}

teardown() {
	local id pid ns
	for id in "${CONTAINERS[@]}"; do
		hberth delete --force "$id" >/dev/null 2>&1 || true
	done
	for pid in "${SERVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if [ -n "$TEST_USER" ]; then
		kill_test_user_processes
		userdel "$TEST_USER" 2>/dev/null || true
	fi
	for ns in "${EXTRA_NS[@]}"; do
		ip netns delete "$ns" 2>/dev/null || true
	done
	ip netns delete "$HOSTNS" 2>/dev/null || true
	# The machine's own setting is never changed.
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$MACHINE_FORWARD" ]
}

# berth, and any command, inside the test's host namespace.
hberth() {
	nsenter --net="/run/netns/$HOSTNS" "$BERTH" --root "$ROOT" "$@"
}

in_host() {
	nsenter --net="/run/netns/$HOSTNS" "$@"
}

# A one-line TCP server in the host namespace: answers each connection
# (-ll) or the first one (-l) with TEXT. Started as a plain command, not
# through a function, so that $! is the server itself (nsenter execs it) and
# teardown's kill reaches it; bats' fd 3 is closed, or a server left running
# would keep bats waiting for the end of its output.
host_server() { # PORT TEXT [-l|-ll]
	nsenter --net="/run/netns/$HOSTNS" busybox nc "${3:--ll}" -p "$1" -e echo "$2" \
		</dev/null >/dev/null 2>&1 3>&- &
	SERVER_PIDS+=($!)
	wait_port_in_host "$1"
}

wait_port_in_host() {
	local i
	for i in $(seq 1 50); do
		in_host ss -ltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

lease_ip() { # CONTAINER
	hberth net ls --format json | jq -r --arg c "$1" '.[].leases[] | select(.container == $c) | .ip'
}

run_net() { # ID SCRIPT [berth run options...]
	local id=$1 script=$2
	shift 2
	cfg_args sh -c "$script"
	run hberth run "$@" -b "$BUNDLE" "$id"
}

start_net() { # ID SCRIPT [berth run options...]
	local id=$1 script=$2
	shift 2
	cfg_args sh -c "$script"
	track "$id"
	hberth run -d "$@" -b "$BUNDLE" "$id"
}

nft_elements() { # MAP: the host ports published there, one per line
	in_host nft -j list map ip berth "$1" 2>/dev/null |
		jq -r '.nftables[] | select(.map) | .map.elem // [] | .[] | .[0]' 2>/dev/null || true
}

@test "two containers on one bridge ping each other and talk TCP" {
	start_net nt-c1 'nc -l -p 5000 > /tmp/got; sleep 1000' --net bridge
	start_net nt-c2 'sleep 1000' --net bridge
	ip1=$(lease_ip nt-c1)
	ip2=$(lease_ip nt-c2)
	[ -n "$ip1" ] && [ -n "$ip2" ] && [ "$ip1" != "$ip2" ]
	run hberth exec nt-c2 ping -c3 -W3 "$ip1"
	assert_success
	run hberth exec nt-c1 ping -c3 -W3 "$ip2"
	assert_success
	run hberth exec nt-c2 sh -c "echo data-over-tcp | nc $ip1 5000"
	assert_success
	for i in $(seq 1 50); do
		run hberth exec nt-c1 cat /tmp/got
		[ "$output" = data-over-tcp ] && break
		sleep 0.1
	done
	[ "$output" = data-over-tcp ]
	# eth0 with the lease's address, MTU of the bridge, default route
	run hberth exec nt-c1 sh -c 'ip -4 -o addr show eth0; cat /sys/class/net/eth0/mtu; ip route show default'
	assert_output_contains "$ip1/24"
	[ "${lines[1]}" = "$(in_host ip -o link show berth0 | sed 's/.* mtu \([0-9]*\).*/\1/')" ]
	assert_output_contains "default via 10.89.0.1 dev eth0"
	# nothing was asked to be published: berth made no nftables table
	[ -z "$(in_host nft list tables)" ]
}

@test "the container's /etc files come from the state directory, not the image" {
	cfg '.hostname = "box1"'
	run_net nt-c1 'cat /etc/hostname; grep box1 /etc/hosts; grep -c nameserver /etc/resolv.conf; grep -c " /etc/hosts " /proc/self/mountinfo' --net bridge
	assert_success
	[ "${lines[0]}" = box1 ]
	[[ "${lines[1]}" =~ ^10\.89\.0\.[0-9]+[[:space:]]box1$ ]]
	[ "${lines[3]}" = 1 ]
	# the image's files are empty mount points, never written
	[ ! -s "$BUNDLE/rootfs/etc/hosts" ]
	[ "$(cat "$BUNDLE/rootfs/etc/hostname")" != box1 ] || [ ! -s "$BUNDLE/rootfs/etc/hostname" ]
}

@test "a container reaches a server on the bridge address of its host" {
	hberth net create berth0
	host_server 6000 hello-from-host
	run_net nt-c1 'nc 10.89.0.1 6000' --net bridge
	assert_success
	[ "${lines[-1]}" = hello-from-host ]
}

@test "a published port reaches the container's server, from outside and from the host" {
	# A client namespace behind the test host, as another machine would be.
	CLIENT=$HOSTNS-client
	EXTRA_NS+=("$CLIENT")
	ip netns add "$CLIENT"
	ip -n "$HOSTNS" link add up0 type veth peer name down0 netns "$CLIENT"
	ip -n "$HOSTNS" addr add 192.168.77.1/24 dev up0
	ip -n "$HOSTNS" link set up0 up
	ip -n "$CLIENT" addr add 192.168.77.2/24 dev down0
	ip -n "$CLIENT" link set down0 up
	ip -n "$CLIENT" link set lo up
	[ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = 0 ]
	start_net nt-c1 'while true; do nc -l -p 8000 -e echo hello-published; done' --net bridge -p 8080:8000
	ip=$(lease_ip nt-c1)
	for i in $(seq 1 50); do
		hberth exec nt-c1 netstat -ltn | grep -q ':8000 ' && break
		sleep 0.1
	done
	run ip netns exec "$CLIENT" busybox nc -w 3 192.168.77.1 8080 </dev/null
	assert_success
	[ "$output" = hello-published ]
	run in_host busybox nc -w 3 192.168.77.1 8080 </dev/null
	[ "$output" = hello-published ]
	# the publication is an element of berth's map, and forwarding was
	# turned on in this namespace only because a port was published
	[ "$(nft_elements publish_tcp)" = 8080 ]
	in_host nft list map ip berth publish_tcp | grep -q "8080 : $ip . 8000"
	[ "$(in_host cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
}

@test "after delete the veth, the lease and the published ports are gone" {
	start_net nt-c1 'sleep 1000' --net bridge -p 8081:81 -p 5353:53/udp
	veth=$(hberth net ls --format json | jq -r '.[].leases[0].veth')
	in_host ip link show "$veth"
	[ "$(nft_elements publish_tcp)" = 8081 ]
	[ "$(nft_elements publish_udp)" = 5353 ]
	hberth delete --force nt-c1
	run in_host ip link show "$veth"
	assert_failure
	[ "$(hberth net ls --format json | jq '.[0].leases | length')" = 0 ]
	[ -z "$(nft_elements publish_tcp)" ]
	[ -z "$(nft_elements publish_udp)" ]
	assert_no_leftovers nt-c1
	# the bridge stays until net rm
	in_host ip link show berth0
	hberth net rm berth0
	run in_host ip link show berth0
	assert_failure
	[ "$(hberth net ls --format json)" = "[]" ]
}

@test "a crash of berth during create: delete --force reclaims the lease and the ports" {
	# A createRuntime hook runs in berth once the network is set up: it
	# kills berth there, as a crash would.
	cfg '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $PPID"]}]'
	run_net nt-c1 'sleep 1000' --net bridge -p 8082:82
	assert_failure
	track nt-c1
	[ "$(hberth net ls --format json | jq -r '.[0].leases[0].container')" = nt-c1 ]
	[ "$(nft_elements publish_tcp)" = 8082 ]
	hberth delete --force nt-c1
	[ "$(hberth net ls --format json | jq '.[0].leases | length')" = 0 ]
	[ -z "$(nft_elements publish_tcp)" ]
	[ -z "$(in_host ip -o link show type veth)" ]
	[ ! -e "$ROOT/nt-c1" ]
}

@test "a lease whose container is gone is reclaimed by the next container" {
	start_net nt-c1 'sleep 1000' --net bridge -p 8083:83
	ip=$(lease_ip nt-c1)
	# the container and its state vanish without berth: a crash, a reboot
	# of /run by hand (a reboot would take the cgroups too: this test
	# removes the ones it orphans)
	orphans=$(jq -r '.cgroupPath | fromjson | [.v2.path, .v1[].path] | .[]' "$ROOT/nt-c1/state.json")
	kill -9 "$(hberth state nt-c1 | jq -r .pid)"
	sleep 0.2
	rm -rf --one-file-system "$ROOT/nt-c1"
	for d in $orphans; do
		for i in $(seq 50); do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	[ "$(hberth net ls --format json | jq '.[0].leases[0].stale')" = true ]
	start_net nt-c2 'sleep 1000' --net bridge -p 8083:83
	[ "$(lease_ip nt-c2)" = "$ip" ]
	[ "$(hberth net ls --format json | jq '.[0].leases | length')" = 1 ]
	in_host nft list map ip berth publish_tcp | grep -q "8083 : $ip . 83"
}

@test "20 parallel run -d get 20 distinct addresses" {
	cfg_args sleep 1000
	for i in $(seq 1 20); do
		track "nt-p$i"
		hberth run -d --net bridge -b "$BUNDLE" "nt-p$i" &
	done
	wait
	[ "$(hberth net ls --format json | jq '.[0].leases | length')" = 20 ]
	[ "$(hberth net ls --format json | jq -r '.[0].leases[].ip' | sort -u | wc -l)" = 20 ]
	[ "$(in_host ip -o link show master berth0 | wc -l)" = 20 ]
	# and each container has the address of its lease
	for i in 1 7 20; do
		run hberth exec "nt-p$i" ip -4 -o addr show eth0
		assert_output_contains "$(lease_ip "nt-p$i")/24"
	done
}

@test "--net none: only lo, even when the config has no network namespace" {
	cfg '.linux.namespaces |= map(select(.type != "network"))'
	run_net nt-c1 'ls /sys/class/net' --net none
	assert_success
	[ "$output" = lo ]
}

@test "--net host shares the host's namespace" {
	in_host ip link add hv0 type veth peer name hv1
	cfg '.mounts |= map(select(.type != "sysfs"))'
	run_net nt-c1 'ip -o link show hv0 >/dev/null && echo host' --net host
	assert_success
	[ "${lines[-1]}" = host ]
}

@test "--net ns:PATH joins a namespace, and so does the config's path" {
	PEER=$HOSTNS-peer
	EXTRA_NS+=("$PEER")
	ip netns add "$PEER"
	ip -n "$PEER" link add pj0 type veth peer name pj1
	run_net nt-c1 'ls /sys/class/net | tr "\n" " "' --net ns:/run/netns/$PEER
	assert_success
	assert_output_contains pj0
	assert_output_contains pj1
	cfg --arg p "/run/netns/$PEER" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	run_net nt-c2 'ls /sys/class/net | tr "\n" " "'
	assert_success
	assert_output_contains pj0
}

@test "linux.netDevices moves a veth end in, renamed, and back on delete" {
	in_host ip link add nd0 type veth peer name nd1
	in_host ip addr add 10.77.0.1/24 dev nd0
	in_host ip link set nd0 up
	in_host ip link set nd1 up
	cfg '.linux.netDevices = {"nd0": {"name": "ctr0"}}'
	# the foreground run holds the namespace until it has returned the device
	run_net nt-c1 'ip -4 -o addr show ctr0; cat /sys/class/net/ctr0/operstate; ls /sys/class/net | grep -c nd0 || true'
	assert_success
	assert_output_contains "10.77.0.1/24"
	[ "${lines[1]}" = up ]
	[ "${lines[2]}" = 0 ]
	in_host ip -4 -o addr show nd0 | grep -q "10.77.0.1/24"
	# detached: delete --force returns it before the namespace dies
	start_net nt-c2 'sleep 1000'
	run in_host ip link show nd0
	assert_failure
	hberth delete --force nt-c2
	in_host ip -4 -o addr show nd0 | grep -q "10.77.0.1/24"
	# a name that does not exist on the host is refused before anything
	cfg '.linux.netDevices = {"nope0": {}}'
	run_net nt-c3 true
	assert_failure
	assert_output_contains 'interface "nope0" does not exist'
	assert_no_leftovers nt-c3
}

@test "bad input: overlapping subnet, exhausted pool, unknown network, port taken" {
	# a route of the host covers the default subnet: refused, nothing made
	in_host ip link add ov0 type veth peer name ov1
	in_host ip addr add 10.89.0.0/16 dev ov0
	in_host ip link set ov0 up
	run_net nt-c1 true --net bridge
	assert_failure
	assert_output_contains 'subnet 10.89.0.0/24 of network "berth0" overlaps the route 10.89.0.0/16 dev ov0'
	assert_no_leftovers nt-c1
	run in_host ip link show berth0
	assert_failure
	run hberth net create other --subnet 10.89.5.0/24
	assert_failure
	assert_output_contains "overlaps the route"

	# a /30 holds the gateway and one container
	hberth net create tiny --subnet 10.90.0.0/30
	run hberth net create tiny2 --subnet 10.90.0.0/29
	assert_failure
	assert_output_contains 'subnet 10.90.0.0/29 of network "tiny2" overlaps'
	start_net nt-c2 'sleep 1000' --net bridge:tiny -p 8084:84
	run_net nt-c3 true --net bridge:tiny
	assert_failure
	assert_output_contains 'network "tiny" (10.90.0.0/30) has no free address'
	assert_no_leftovers nt-c3

	run_net nt-c4 true --net bridge:nope
	assert_failure
	assert_output_contains 'network "nope" does not exist'
	assert_no_leftovers nt-c4

	hberth net create wide --subnet 10.91.0.0/24
	run_net nt-c5 true --net bridge:wide -p 8084:84
	assert_failure
	assert_output_contains 'port 8084/tcp is already published by container "nt-c2"'
	assert_no_leftovers nt-c5
	[ "$(hberth net ls --format json | jq '[.[].leases[]] | length')" = 1 ]
	[ "$(in_host ip -o link show type veth master tiny | wc -l)" = 1 ]
	[ -z "$(in_host ip -o link show master wide)" ]

	run hberth net rm tiny
	assert_failure
	assert_output_contains 'network "tiny" is in use by nt-c2'
	run hberth run --net bogus -b "$BUNDLE" nt-c6
	assert_failure
	assert_output_contains 'expected bridge[:NAME], none, host, ns:PATH, pasta or slirp4netns'
	run hberth run --net none -p 80 -b "$BUNDLE" nt-c7
	assert_failure
	assert_output_contains 'publishing ports needs --net bridge, pasta or slirp4netns'
}

@test "org.berth.net and org.berth.publish annotations, for engines" {
	cfg '.annotations["org.berth.net"] = "bridge" | .annotations["org.berth.publish"] = "8085:85"'
	start_net nt-c1 'sleep 1000'
	[ -n "$(lease_ip nt-c1)" ]
	[ "$(nft_elements publish_tcp)" = 8085 ]
}

# ---- rootless ----

# Only the processes of the user this test created (pasta, slirp4netns).
kill_test_user_processes() {
	local pid
	for pid in $(pgrep -u "$TEST_USER" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
}

# A user made for this test: rootless berth maps only itself.
setup_rootless() {
	command -v pasta >/dev/null || skip "pasta (Debian package passt) is not installed"
	TEST_USER=berthtest-net$BATS_TEST_NUMBER
	useradd -M -N -s /bin/sh -d / "$TEST_USER"
	uid=$(id -u "$TEST_USER")
	gid=$(id -g "$TEST_USER")
	cfg --argjson u "$uid" --argjson g "$gid" '
	     .linux.namespaces += [{"type": "user"}]
	     | .linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}]
	     | .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}]
	     | del(.linux.resources)
	     | .mounts |= map(select(.type != "sysfs" and .type != "cgroup" and .type != "mqueue"))
	     | .mounts |= map(if .type == "devpts" then .options |= map(select(. != "gid=5")) else . end)'
	chown -R "$uid:$gid" "$BUNDLE"
	make_traversable "$BUNDLE"
	UROOT=$BATS_TEST_TMPDIR/urun
	mkdir -p "$UROOT"
	chown "$uid:$gid" "$UROOT"
	# pasta copies the host's address and default route: give the test
	# host an outward interface, and a server on another address.
	in_host ip link add ext0 type veth peer name ext1
	in_host ip addr add 10.200.0.1/24 dev ext0
	in_host ip addr add 10.201.0.1/32 dev ext1
	in_host ip link set ext0 up
	in_host ip link set ext1 up
	in_host ip route add default via 10.200.0.254
}

uberth() {
	nsenter --net="/run/netns/$HOSTNS" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env -u XDG_RUNTIME_DIR "$BERTH" --root "$UROOT" "$@"
}

@test "rootless --net pasta reaches a server in its host, and publishes a port" {
	setup_rootless
	host_server 7000 hello-rootless -l
	# The client keeps its side open: Debian 12's pasta (2023-03-09) loses
	# a connection whose container side shuts down writing before the
	# server answers (it replays the answer forever).
	cfg_args sh -c 'ip -4 -o addr show eth0 >/dev/null && sleep 2 | nc 10.201.0.1 7000'
	run timeout 20 nsenter --net="/run/netns/$HOSTNS" setpriv --reuid="$uid" --regid="$gid" \
		--clear-groups env -u XDG_RUNTIME_DIR "$BERTH" --root "$UROOT" run --net pasta -b "$BUNDLE" nt-r1
	assert_success
	[ "${lines[-1]}" = hello-rootless ]

	cfg_args sh -c 'nc -l -p 7070 -e echo hello-from-rootless; sleep 1000'
	uberth run -d --net pasta -p 9090:7070 -b "$BUNDLE" nt-r2
	helper=$(jq -r .netHelperPid "$UROOT/nt-r2/state.json")
	[[ "$(ps -o args= -p "$helper")" == pasta* ]]
	for i in $(seq 1 50); do
		run timeout 10 nsenter --net="/run/netns/$HOSTNS" sh -c 'sleep 1 | busybox nc 127.0.0.1 9090'
		[ "$output" = hello-from-rootless ] && break
		sleep 0.1
	done
	[ "$output" = hello-from-rootless ]
	uberth delete --force nt-r2
	# the helper went with the container
	for i in $(seq 1 20); do
		kill -0 "$helper" 2>/dev/null || break
		sleep 0.1
	done
	run kill -0 "$helper"
	assert_failure
	[ ! -e "$UROOT/nt-r2" ]
}

@test "rootless --net slirp4netns reaches a server in its host, and publishes a port" {
	setup_rootless
	command -v slirp4netns >/dev/null || skip "slirp4netns is not installed"
	host_server 7000 hello-slirp -l
	cfg_args sh -c 'sleep 1 | nc 10.201.0.1 7000'
	run timeout 20 nsenter --net="/run/netns/$HOSTNS" setpriv --reuid="$uid" --regid="$gid" \
		--clear-groups env -u XDG_RUNTIME_DIR "$BERTH" --root "$UROOT" run --net slirp4netns -b "$BUNDLE" nt-s1
	assert_success
	[ "${lines[-1]}" = hello-slirp ]

	cfg_args sh -c 'nc -l -p 7070 -e echo hello-from-slirp; sleep 1000'
	uberth run -d --net slirp4netns -p 9191:7070 -b "$BUNDLE" nt-s2
	helper=$(jq -r .netHelperPid "$UROOT/nt-s2/state.json")
	run timeout 10 nsenter --net="/run/netns/$HOSTNS" sh -c 'sleep 1 | busybox nc 127.0.0.1 9191'
	[ "$output" = hello-from-slirp ]
	uberth delete --force nt-s2
	run ps -o stat= -p "$helper"
	[ -z "$output" ] || [[ "$output" == Z* ]]
}

@test "rootless --net bridge is refused with the alternatives" {
	setup_rootless
	run uberth run --net bridge -b "$BUNDLE" nt-r1
	assert_failure
	assert_output_contains "--net bridge needs root: a rootless container can use --net pasta or slirp4netns"
}
