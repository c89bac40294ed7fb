#!/usr/bin/env bats
# tests/cgroups.bats: the container's cgroup on this host: created in v2 and
# in each v1 hierarchy a hybrid host binds controllers to, the process
# inside, limits enforced, freeze, kill, ps, update, events, cleanup.
# Enforcement on a pure v2 kernel: tests/cgroups-v2.bats (in the test VM).

load helpers

setup() {
	setup_bundle
	V2=$(cgroup2_root)
}

# The directory of a process's cgroup in the hierarchy of controller $2
# ("" for cgroup v2).
cgroup_dir() { # PID CONTROLLER
	local pid=$1 ctrl=$2 mnt path
	if [ -z "$ctrl" ]; then
		path=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
		echo "$V2$path"
		return
	fi
	mnt=$(awk -v c="$ctrl" '$9 == "cgroup" { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $5 }' /proc/self/mountinfo | head -1)
	[ -n "$mnt" ] || return 1
	path=$(awk -F: -v c="$ctrl" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' /proc/$pid/cgroup)
	echo "$mnt$path"
}

v1_has() { # CONTROLLER
	awk -v c="$1" '$9 == "cgroup" && $NF ~ ("(^|,)" c "(,|$)") { f = 1 } END { exit !f }' /proc/self/mountinfo
}

v2_has() { # CONTROLLER
	grep -qw "$1" "$V2/cgroup.controllers"
}

@test "the cgroup exists in v2 and each v1 hierarchy, with the process inside" {
	start_sleeper c1
	pid=$(container_pid c1)
	dir=$(cgroup_dir "$pid" "")
	# berth/ID-HASH under a --root (ids are unique per root only)
	[[ "$dir" == */berth/c1-* ]]
	grep -qx "$pid" "$dir/cgroup.procs"
	for c in memory pids cpu; do
		v1_has $c || continue
		dir=$(cgroup_dir "$pid" $c)
		[[ "$dir" == */berth/c1-* ]]
		grep -qx "$pid" "$dir/cgroup.procs"
	done
}

@test "an absolute cgroupsPath is taken from each hierarchy's root" {
	cfg --arg p "/berth-test-$$/abs" '.linux.cgroupsPath = $p'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(sed -n 's/^0:://p' /proc/$pid/cgroup)" = "/berth-test-$$/abs" ]
	berth delete --force c1
	[ ! -e "$V2/berth-test-$$" ]
}

@test "a cgroupsPath that climbs out is refused" {
	cfg '.linux.cgroupsPath = "../../escape"'
	run_sh true
	assert_failure
	assert_output_contains "cgroupsPath"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "limits land in the hierarchy that has each controller" {
	cfg '.linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 42 | .linux.resources.cpu.shares = 512'
	start_sleeper c1
	pid=$(container_pid c1)
	if v2_has pids; then
		[ "$(cat "$(cgroup_dir "$pid" "")/pids.max")" = 42 ]
	else
		[ "$(cat "$(cgroup_dir "$pid" pids)/pids.max")" = 42 ]
	fi
	if v2_has memory; then
		[ "$(cat "$(cgroup_dir "$pid" "")/memory.max")" = 67108864 ]
	else
		[ "$(cat "$(cgroup_dir "$pid" memory)/memory.limit_in_bytes")" = 67108864 ]
	fi
	if ! v2_has cpu && v1_has cpu; then
		[ "$(cat "$(cgroup_dir "$pid" cpu)/cpu.shares")" = 512 ]
	fi
}

@test "podman's default pids limit works on this host" {
	cfg '.linux.resources = {"pids": {"limit": 2048}}'
	run_sh 'echo ok'
	assert_success
	[ "$output" = ok ]
}

@test "the pids limit makes the 11th process fail" {
	cfg '.linux.resources.pids.limit = 10'
	run_sh 'for i in $(seq 15); do sleep 5 & done 2>&1; wait'
	assert_output_contains "Resource temporarily unavailable"
}

@test "a workload over its memory limit is OOM-killed" {
	cfg '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	# dd allocates and fills one 100 MB buffer
	cfg_args dd if=/dev/zero of=/dev/null bs=100M count=1
	run berth run -b "$BUNDLE" c1
	# SIGKILL from the OOM killer
	[ "$status" -eq 137 ]
}

@test "a hugetlb limit lands in cgroup v2" {
	v2_has hugetlb || skip "no hugetlb controller in cgroup v2 here"
	cfg '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(cat "$(cgroup_dir "$pid" "")/hugetlb.2MB.max")" = 4194304 ]
}

@test "a limit for a controller this host has nowhere fails naming it" {
	v2_has rdma || v1_has rdma && skip "this host has the rdma controller"
	cfg '.linux.resources.rdma = {"mlx5_0": {"hcaHandles": 3}}'
	run_sh true
	assert_failure
	assert_output_contains "the rdma controller is not available on this host"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "pause freezes every process; resume thaws" {
	start_sleeper c1 sh -c 'sleep 1000 & exec sleep 1000'
	pid=$(container_pid c1)
	dir=$(cgroup_dir "$pid" "")
	berth pause c1
	grep -qx "frozen 1" "$dir/cgroup.events"
	[ "$(status_of c1)" = paused ]
	for p in $(cat "$dir/cgroup.procs"); do
		[ "$(awk '{print $3}' /proc/$p/stat)" = S ] || grep -q frozen /proc/$p/wchan 2>/dev/null || true
	done
	berth resume c1
	grep -qx "frozen 0" "$dir/cgroup.events"
	[ "$(status_of c1)" = running ]
}

@test "pause of a stopped container fails; resume of a running one fails" {
	start_sleeper c1
	run berth resume c1
	assert_failure
	assert_output_contains "not paused"
	berth kill c1 KILL
	wait_status c1 stopped
	run berth pause c1
	assert_failure
}

@test "kill --all reaps a forking workload" {
	start_sleeper c1 sh -c 'while :; do sleep 1000 & sleep 0.05; done'
	sleep 0.5
	[ "$(berth ps --format json c1 | jq length)" -gt 3 ]
	berth kill --all c1 KILL
	wait_status c1 stopped
	for i in $(seq 50); do [ "$(berth ps --format json c1 | jq length)" = 0 ] && break; sleep 0.1; done
	[ "$(berth ps --format json c1 | jq length)" = 0 ]
}

@test "ps lists every process of the container" {
	start_sleeper c1 sh -c 'sleep 1000 & sleep 1000 & exec sleep 1000'
	sleep 0.3
	pid=$(container_pid c1)
	want=$(sort -n "$(cgroup_dir "$pid" "")/cgroup.procs" | tr '\n' ' ')
	[ "$(berth ps --format json c1 | jq -r 'sort | map(tostring) | join(" ")') " = "$want" ]
	[ "$(berth ps --format json c1 | jq length)" -eq 3 ]
	run berth ps c1
	assert_success
	[[ "${lines[0]}" == *PID* ]]
}

@test "update changes a running container's limits, and they hold" {
	start_sleeper c1
	pid=$(container_pid c1)
	berth update --pids-limit 5 c1
	if v2_has pids; then f=$(cgroup_dir "$pid" "")/pids.max; else f=$(cgroup_dir "$pid" pids)/pids.max; fi
	[ "$(cat "$f")" = 5 ]
	run berth exec c1 sh -c 'for i in 1 2 3 4 5 6 7; do sleep 5 & done 2>&1; wait'
	assert_output_contains "Resource temporarily unavailable"
	echo '{"pids": {"limit": 100}}' > "$BATS_TEST_TMPDIR/r.json"
	berth update -r "$BATS_TEST_TMPDIR/r.json" c1
	[ "$(cat "$f")" = 100 ]
}

@test "update rejects bad input naming it" {
	start_sleeper c1
	run berth update --memory lots c1
	assert_failure
	assert_output_contains '--memory: invalid value "lots"'
	echo '{"memory": {"limit": "x"}}' > "$BATS_TEST_TMPDIR/r.json"
	run berth update -r "$BATS_TEST_TMPDIR/r.json" c1
	assert_failure
	assert_output_contains "memory.limit: expected an integer"
	run berth update c1
	assert_failure
	assert_output_contains "nothing to update"
}

@test "events --stats reports usage in runc's shape" {
	cfg '.linux.resources.pids.limit = 50'
	start_sleeper c1
	run berth events --stats c1
	assert_success
	echo "$output" | jq -e '.type == "stats" and .id == "c1"'
	echo "$output" | jq -e '.data.pids.current >= 1 and .data.pids.limit == 50'
	echo "$output" | jq -e '.data.memory.usage.usage > 0'
	echo "$output" | jq -e '.data.cpu.usage.total > 0'
}

@test "events reports an OOM kill" {
	cfg '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	start_sleeper c1 sh -c 'sleep 1; dd if=/dev/zero of=/dev/null bs=100M count=1; sleep 1000'
	timeout 20 "$BERTH" --root "$ROOT" events --interval 10s c1 > "$BATS_TEST_TMPDIR/events" &
	ev=$!
	for i in $(seq 100); do grep -q '"oom"' "$BATS_TEST_TMPDIR/events" && break; sleep 0.1; done
	kill "$ev" 2>/dev/null || true
	grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events"
}

@test "every hierarchy's cgroup is gone after delete" {
	start_sleeper c1
	pid=$(container_pid c1)
	dirs=$(cgroup_dir "$pid" ""; for c in memory pids cpu cpuset devices blkio; do v1_has $c && cgroup_dir "$pid" $c; done)
	berth delete --force c1
	for d in $dirs; do
		[ ! -e "$d" ] || { echo "left: $d" >&2; false; }
	done
}
