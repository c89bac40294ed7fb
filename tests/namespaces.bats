#!/usr/bin/env bats
# tests/namespaces.bats: new and joined namespaces of every type, as the
# workload sees them from inside.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_containers
	[ -z "${NETNS:-}" ] || ip netns delete "$NETNS" 2>/dev/null || true
}

ns_inode() { # PID TYPE
	stat -L -c %i "/proc/$1/ns/$2"
}

@test "each new namespace differs from the host's" {
	cfg '.linux.namespaces += [{"type": "time"}]'
	start_sleeper c1
	pid=$(container_pid c1)
	for t in pid net mnt ipc uts cgroup; do
		[ "$(ns_inode "$pid" $t)" != "$(ns_inode $$ $t)" ]
	done
	# A new time namespace applies from execve on.
	[ "$(ns_inode "$pid" time)" != "$(ns_inode $$ time)" ]
}

@test "without a namespace entry the host's is shared" {
	cfg '.linux.namespaces |= map(select(.type != "network" and .type != "ipc"))'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(ns_inode "$pid" net)" = "$(ns_inode $$ net)" ]
	[ "$(ns_inode "$pid" ipc)" = "$(ns_inode $$ ipc)" ]
}

@test "pid namespace: the workload is pid 1 and sees only its own processes" {
	run_sh 'echo $$; ps -o pid= | wc -l'
	assert_success
	[ "${lines[0]}" = 1 ]
	# sh, ps and wc: the host's processes are not visible
	[ "${lines[1]}" -le 4 ]
}

@test "uts namespace: hostname and domainname from the config" {
	cfg '.hostname = "box1" | .domainname = "example.org"'
	run_sh 'hostname; cat /proc/sys/kernel/domainname'
	assert_success
	[ "${lines[0]}" = box1 ]
	[ "${lines[1]}" = example.org ]
	[ "$(hostname)" != box1 ]
}

@test "hostname without a uts namespace is refused" {
	cfg '.linux.namespaces |= map(select(.type != "uts"))'
	run_sh true
	assert_failure
	assert_output_contains "uts namespace"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "network namespace: only lo, and it is up" {
	cfg '.process.capabilities.bounding += ["CAP_NET_RAW"] | .process.capabilities.effective += ["CAP_NET_RAW"] | .process.capabilities.permitted += ["CAP_NET_RAW"]'
	run_sh 'ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok'
	assert_success
	[ "${lines[0]}" = lo ]
	# IFF_UP | IFF_LOOPBACK | IFF_RUNNING...: the up bit is set
	[ $(( ${lines[1]} & 1 )) -eq 1 ]
	[ "${lines[2]}" = ping-ok ]
}

@test "network namespace joined by path" {
	NETNS=berth-test-$$-$BATS_TEST_NUMBER
	ip netns add "$NETNS"
	ip -n "$NETNS" link add bt0 type veth peer name bt1
	cfg --arg p "/run/netns/$NETNS" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(ns_inode "$pid" net)" = "$(stat -L -c %i /run/netns/$NETNS)" ]
	run nsenter -t "$pid" -n ip -o link show bt0
	assert_success
}

@test "a path that is not a namespace of that type is refused" {
	cfg '.linux.namespaces |= map(if .type == "network" then .path = "/proc/self/ns/ipc" else . end)'
	run_sh true
	assert_failure
	assert_output_contains "is not a network namespace"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "pid namespace joined from another container sees its processes" {
	start_sleeper a1 sleep 1000
	apid=$(container_pid a1)
	cfg --arg p "/proc/$apid/ns/pid" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)'
	run_sh 'ps -o args= | grep -c "^sleep 1000"'
	assert_success
	[ "${lines[-1]}" = 1 ]
}

@test "ipc namespace: the host's SysV objects are not visible" {
	key=$(ipcmk -Q | awk '{print $NF}')
	run_sh 'ipcs -q | grep -c 0x || true'
	ipcrm -q "$key"
	assert_success
	[ "${lines[-1]}" = 0 ]
}

@test "cgroup namespace: the container's cgroup is its root" {
	run_sh 'cat /proc/self/cgroup'
	assert_success
	assert_output_contains "0::/"
	[[ "$output" != *berth* ]]
}

@test "mount namespace: the container's mounts stay inside" {
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(ns_inode "$pid" mnt)" != "$(ns_inode $$ mnt)" ]
	! grep -q "$BUNDLE/rootfs" /proc/self/mountinfo
}

@test "user namespace: root inside maps to the configured host ids" {
	cfg '.linux.namespaces += [{"type": "user"}]
	     | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .mounts |= map(if .type == "sysfs" then {"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "ro", "nosuid", "noexec", "nodev"]} else . end)
	     | .mounts |= map(select(.type != "cgroup"))'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	make_traversable "$BUNDLE"
	run_sh 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map'
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[2]}" =~ ^\ +0\ +100000\ +65536$ ]]
}

@test "user namespace: files the workload creates belong to the mapped host ids" {
	cfg '.linux.namespaces += [{"type": "user"}]
	     | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .root.readonly = false
	     | .mounts |= map(select(.type != "sysfs" and .type != "cgroup"))'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	make_traversable "$BUNDLE"
	run_sh 'touch /made-inside'
	assert_success
	[ "$(stat -c %u:%g "$BUNDLE/rootfs/made-inside")" = 100000:100000 ]
}

@test "a new user namespace without mappings is refused" {
	cfg '.linux.namespaces += [{"type": "user"}]'
	run_sh true
	assert_failure
	assert_output_contains "mappings"
}

@test "time namespace: boottime and monotonic offsets apply to the workload" {
	cfg '.linux.namespaces += [{"type": "time"}]
	     | .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}, "monotonic": {"secs": 3600, "nanosecs": 0}}'
	host_up=$(cut -d. -f1 /proc/uptime)
	run_sh 'cut -d. -f1 /proc/uptime'
	assert_success
	inside=${lines[-1]}
	[ "$inside" -ge $((host_up + 86400)) ]
	[ "$inside" -le $((host_up + 86400 + 60)) ]
}

@test "time offsets without a new time namespace are refused" {
	cfg '.linux.timeOffsets = {"boottime": {"secs": 10, "nanosecs": 0}}'
	run_sh true
	assert_failure
	assert_output_contains "time namespace"
}

@test "an unknown namespace type is refused" {
	cfg '.linux.namespaces += [{"type": "bogus"}]'
	run_sh true
	assert_failure
	assert_output_contains 'unknown namespace type "bogus"'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}
