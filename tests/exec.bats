#!/usr/bin/env bats
# tests/exec.bats: exec joins every namespace and the cgroup of a running
# container and applies the process's settings; foreground and detached.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	setup_bundle
	start_sleeper c1
	PID=$(container_pid c1)
}

ns_of() { # PID TYPE
	readlink "/proc/$1/ns/$2"
}

@test "exec runs in every namespace of the container" {
	cfg '.linux.namespaces += [{"type": "time"}]'
	berth exec -d --pid-file "$BATS_TEST_TMPDIR/p" c1 sleep 100
	epid=$(cat "$BATS_TEST_TMPDIR/p")
	for t in pid net mnt ipc uts cgroup; do
		[ "$(ns_of "$epid" $t)" = "$(ns_of "$PID" $t)" ]
	done
}

@test "exec sees the container's root, hostname and processes" {
	run berth exec c1 sh -c 'hostname; cat /etc/hostname; ps -o args | grep -c "^sleep 1000"'
	assert_success
	[ "${lines[0]}" = berth-example ]
	[ "${lines[1]}" = berth ]
	[ "${lines[2]}" = 1 ]
}

@test "exec joins the container's cgroup" {
	berth exec -d --pid-file "$BATS_TEST_TMPDIR/p" c1 sleep 100
	epid=$(cat "$BATS_TEST_TMPDIR/p")
	berth ps --format json c1 | jq -e --argjson p "$epid" 'index($p) != null'
	[ "$(grep '^0::' /proc/$epid/cgroup)" = "$(grep '^0::' /proc/$PID/cgroup)" ]
}

@test "exec exits with the process's status" {
	run berth exec c1 sh -c 'exit 9'
	[ "$status" -eq 9 ]
	run berth exec c1 sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "a missing command gives 127, a non-executable one 126" {
	run -127 berth exec c1 no-such-command
	assert_output_contains 'executable file not found in $PATH'
	run -126 berth exec c1 /etc/passwd
	assert_output_contains "permission denied"
}

@test "--user, --env, --cwd and --additional-gids" {
	run berth exec -u 1000:1000 -g 29 -e FOO=bar -e PATH=/bin:/usr/bin --cwd /tmp c1 sh -c 'id -u; id -g; id -G; pwd; echo $FOO'
	assert_success
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[ "${lines[2]}" = "1000 29" ]
	[ "${lines[3]}" = /tmp ]
	[ "${lines[4]}" = bar ]
}

@test "exec keeps the config's capabilities, no_new_privs and seccomp" {
	run berth exec c1 grep -E '^(CapEff|NoNewPrivs)' /proc/self/status
	assert_success
	[[ "$output" =~ CapEff:[[:space:]]+0000000020000420 ]]
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]]
	run berth exec --cap CAP_CHOWN c1 grep CapEff /proc/self/status
	[[ "$output" =~ CapEff:[[:space:]]+0000000020000421 ]]
}

@test "exec applies the container's seccomp profile" {
	berth delete --force c1
	cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	start_sleeper c2
	run berth exec c2 sh -c 'grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1'
	[[ "$output" =~ Seccomp:[[:space:]]+2 ]]
	assert_output_contains "Operation not permitted"
}

@test "--process runs a whole process object" {
	cat > "$BATS_TEST_TMPDIR/proc.json" <<'EOF'
{"args": ["sh", "-c", "echo $X; id -u; ulimit -n"], "env": ["X=from-file", "PATH=/bin"], "cwd": "/",
 "user": {"uid": 2, "gid": 2}, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 77}]}
EOF
	run berth exec --process "$BATS_TEST_TMPDIR/proc.json" c1
	assert_success
	[ "${lines[0]}" = from-file ]
	[ "${lines[1]}" = 2 ]
	[ "${lines[2]}" = 77 ]
}

@test "a bad --process file names the field" {
	echo '{"args": [1], "cwd": "/"}' > "$BATS_TEST_TMPDIR/proc.json"
	run berth exec --process "$BATS_TEST_TMPDIR/proc.json" c1
	assert_failure
	assert_output_contains "proc.json: args[0]: expected a string"
}

@test "--detach returns at once and writes the pid file" {
	berth exec -d --pid-file "$BATS_TEST_TMPDIR/p" c1 sleep 100
	epid=$(cat "$BATS_TEST_TMPDIR/p")
	kill -0 "$epid"
	[ "$(tr '\0' ' ' < /proc/$epid/cmdline)" = "sleep 100 " ]
}

@test "signals reach a foreground exec's process" {
	"$BERTH" --root "$ROOT" exec c1 sh -c 'trap "exit 33" USR1; while :; do sleep 0.1; done' &
	runner=$!
	sleep 0.5
	kill -USR1 "$runner"
	wait "$runner" || status=$?
	[ "$status" -eq 33 ]
}

@test "exec into a stopped container fails" {
	berth kill c1 KILL
	wait_status c1 stopped
	run berth exec c1 true
	assert_failure
	assert_output_contains "cannot exec in a stopped container"
}

@test "exec into a paused container fails" {
	berth pause c1
	run berth exec c1 true
	berth resume c1
	assert_failure
	assert_output_contains "cannot exec in a paused container"
}

@test "exec in a user namespace joins it first" {
	berth delete --force c1
	cfg '.linux.namespaces += [{"type": "user"}]
	     | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	     | .mounts |= map(select(.type != "sysfs"))'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	make_traversable "$BUNDLE"
	start_sleeper c3
	run berth exec c3 sh -c 'id -u; cat /proc/self/uid_map'
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +100000\ +65536$ ]]
}

@test "no fd of berth reaches the exec'd process" {
	run berth exec c1 ls /proc/self/fd
	assert_success
	[ "$(echo $output)" = "0 1 2 3" ]
}
