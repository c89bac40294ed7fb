#!/usr/bin/env bats
# tests/cgroups-v2.bats: resource enforcement on a pure cgroup v2 kernel,
# where every controller is in v2. It runs inside the throwaway test VM
# (make test-vm, part of make test); on a hybrid host it skips.

load helpers

setup() {
	if ! awk '$5 == "/sys/fs/cgroup" && $9 == "cgroup2" { f = 1 } END { exit !f }' /proc/self/mountinfo ||
	   ! grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
		skip "needs a pure cgroup v2 host: runs in the test VM (make test-vm)"
	fi
	setup_bundle
}

cg_dir() { # PID
	echo "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$1/cgroup)"
}

@test "v2: a workload over memory.max is OOM-killed and events reports it" {
	cfg '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(cat "$(cg_dir "$pid")/memory.max")" = 33554432 ]
	timeout 60 "$BERTH" --root "$ROOT" events --interval 30s c1 > "$BATS_TEST_TMPDIR/events" &
	ev=$!
	# events prints its first stats once it has read the OOM count: only
	# then is the limit overrun (an emulated CPU can take seconds to get
	# there, and an OOM before it would be no news).
	for i in $(seq 200); do grep -q '"stats"' "$BATS_TEST_TMPDIR/events" && break; sleep 0.1; done
	run berth exec c1 dd if=/dev/zero of=/dev/null bs=100M count=1
	[ "$status" -eq 137 ]
	for i in $(seq 100); do grep -q '"oom"' "$BATS_TEST_TMPDIR/events" && break; sleep 0.1; done
	kill "$ev" 2>/dev/null || true
	grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events"
	[ "$(awk '$1 == "oom_kill" { print $2 }' "$(cg_dir "$pid")/memory.events")" -ge 1 ]
}

@test "v2: pids.max 10 makes the 11th fork fail" {
	cfg '.linux.resources.pids.limit = 10'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(cat "$(cg_dir "$pid")/pids.max")" = 10 ]
	run berth exec c1 sh -c 'for i in $(seq 12); do sleep 5 & done 2>&1; wait'
	assert_output_contains "Resource temporarily unavailable"
}

@test "v2: cpu.max 10000 100000 throttles a busy workload" {
	cfg '.linux.resources.cpu = {"quota": 10000, "period": 100000}'
	start_sleeper c1 sh -c 'while :; do :; done'
	pid=$(container_pid c1)
	[ "$(cat "$(cg_dir "$pid")/cpu.max")" = "10000 100000" ]
	sleep 1.5
	throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$(cg_dir "$pid")/cpu.stat")
	[ "$throttled" -gt 0 ]
}

@test "v2: an eBPF device rule denies /dev/zero while /dev/null works" {
	cfg '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]'
	run_sh '(head -c1 /dev/zero >/dev/null) 2>/dev/null && echo zero-read || echo zero-denied; echo x > /dev/null && echo null-ok'
	assert_success
	[ "${lines[0]}" = zero-denied ]
	[ "${lines[1]}" = null-ok ]
}

@test "v2: update lowers a running container's pids.max and the next fork fails" {
	cfg '.linux.resources.pids.limit = 100'
	start_sleeper c1
	pid=$(container_pid c1)
	berth update --pids-limit 3 c1
	[ "$(cat "$(cg_dir "$pid")/pids.max")" = 3 ]
	run berth exec c1 sh -c 'for i in 1 2 3 4; do sleep 5 & done 2>&1; wait'
	assert_output_contains "Resource temporarily unavailable"
}

@test "v2: controllers are enabled up the tree" {
	cfg '.linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 50'
	start_sleeper c1
	pid=$(container_pid c1)
	parent=$(dirname "$(cg_dir "$pid")")
	grep -qw memory "$parent/cgroup.subtree_control"
	grep -qw pids "$parent/cgroup.subtree_control"
}
