#!/usr/bin/env bats
# tests/devices.bats: the default devices and /dev symlinks, linux.devices,
# and the device cgroup that lets only allowed devices be opened.

load helpers

setup() {
	setup_bundle
}

add_caps() {
	local c
	for c in "$@"; do
		cfg --arg c "$c" '.process.capabilities.bounding += [$c] | .process.capabilities.effective += [$c] | .process.capabilities.permitted += [$c]'
	done
}

@test "the default devices exist with their numbers and modes" {
	run_sh 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done'
	assert_success
	[ "${lines[0]}" = "/dev/null character special file 1:3 666" ]
	[ "${lines[1]}" = "/dev/zero character special file 1:5 666" ]
	[ "${lines[2]}" = "/dev/full character special file 1:7 666" ]
	[ "${lines[3]}" = "/dev/random character special file 1:8 666" ]
	[ "${lines[4]}" = "/dev/urandom character special file 1:9 666" ]
	[ "${lines[5]}" = "/dev/tty character special file 5:0 666" ]
}

@test "the default devices work" {
	run_sh 'echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 | tr -d " " && head -c 8 /dev/urandom | wc -c'
	assert_success
	[ "${lines[0]}" = 00000000 ]
	[ "${lines[1]}" = 8 ]
}

@test "the /dev symlinks point into /proc and to the devpts ptmx" {
	run_sh 'for l in fd stdin stdout stderr ptmx; do echo "$l $(readlink /dev/$l)"; done'
	assert_success
	[ "${lines[0]}" = "fd /proc/self/fd" ]
	[ "${lines[1]}" = "stdin /proc/self/fd/0" ]
	[ "${lines[2]}" = "stdout /proc/self/fd/1" ]
	[ "${lines[3]}" = "stderr /proc/self/fd/2" ]
	[ "${lines[4]}" = "ptmx pts/ptmx" ]
}

@test "linux.devices creates nodes with mode and owner" {
	cfg '.linux.devices = [
		{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 1000},
		{"path": "/dev/sub/myzero", "type": "c", "major": 1, "minor": 5},
		{"path": "/dev/myfifo", "type": "p"}]'
	run_sh 'stat -c "%n %F %t:%T %a %u:%g" /dev/mynull /dev/sub/myzero; stat -c "%F" /dev/myfifo; head -c2 /dev/sub/myzero | wc -c'
	assert_success
	[ "${lines[0]}" = "/dev/mynull character special file 1:3 640 1000:1000" ]
	[ "${lines[1]}" = "/dev/sub/myzero character special file 1:5 666 0:0" ]
	[ "${lines[2]}" = "fifo" ]
	[ "${lines[3]}" = 2 ]
}

@test "linux.devices outside /dev is refused" {
	cfg '.linux.devices = [{"path": "/etc/evil", "type": "c", "major": 1, "minor": 3}]'
	run_sh true
	assert_failure
	assert_output_contains 'linux.devices[0].path: "/etc/evil" is not under /dev'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "the device cgroup denies a device the config does not allow" {
	add_caps CAP_MKNOD
	# 10:200 is /dev/net/tun, which opens without privileges, but is not
	# among the allowed devices.
	run_sh 'mknod /dev/tun2 c 10 200 && ( (: < /dev/tun2) 2>/dev/null && echo opened || echo denied); head -c1 /dev/zero | wc -c'
	assert_success
	[ "${lines[0]}" = denied ]
	[ "${lines[1]}" = 1 ]
}

@test "a device listed in linux.devices is allowed by the device cgroup" {
	cfg '.linux.devices = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]'
	run_sh ': < /dev/net/tun && echo opened'
	assert_success
	[ "$output" = opened ]
}

@test "a bind-mounted /dev keeps the host's nodes" {
	cfg '.mounts |= map(select(.destination | startswith("/dev") | not))
	     | .mounts += [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind", "nosuid", "noexec"]}]
	     | del(.linux.resources.devices)'
	run_sh 'test -e /dev/kvm -o -e /dev/vda && echo host-dev'
	assert_success
	[ "$output" = host-dev ]
}

@test "a device rule after the deny-all refines the default devices" {
	cfg '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "r"}]'
	run_sh '(head -c1 /dev/zero >/dev/null) 2>/dev/null && echo zero-read || echo zero-denied; echo x > /dev/null && echo null-ok'
	assert_success
	[ "${lines[0]}" = zero-denied ]
	[ "${lines[1]}" = null-ok ]
}
