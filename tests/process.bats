#!/usr/bin/env bats
# tests/process.bats: what the process section of the config does to the
# workload, read from /proc/self inside the container.

load helpers

setup() {
	setup_bundle
}

# Run a process directly (no shell in between) and capture its output.
run_args() {
	cfg_args "$@"
	run berth run -b "$BUNDLE" "c-$BATS_TEST_NUMBER"
}

@test "args and env reach the process exactly" {
	cfg '.process.env = ["A=1", "B=two words", "PATH=/bin"]'
	start_sleeper c1 sleep 1000
	pid=$(container_pid c1)
	[ "$(tr '\0' '\n' < /proc/$pid/environ)" = "$(printf 'A=1\nB=two words\nPATH=/bin')" ]
	run_args echo "one arg" two
	[ "$output" = "one arg two" ]
}

@test "the executable is found through the config's PATH" {
	mkdir -p "$BUNDLE/rootfs/opt/tools"
	printf '#!/bin/sh\necho tool-ran\n' > "$BUNDLE/rootfs/opt/tools/mytool"
	chmod +x "$BUNDLE/rootfs/opt/tools/mytool"
	cfg '.process.env = ["PATH=/opt/tools:/bin"]'
	run_args mytool
	assert_success
	[ "$output" = tool-ran ]
}

@test "cwd is the working directory, created when missing" {
	cfg '.process.cwd = "/work/dir"'
	run_args pwd
	assert_success
	[ "$output" = /work/dir ]
}

@test "user uid, gid and additional gids" {
	cfg '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [100, 29]}'
	run_args sh -c 'grep -E "^(Uid|Gid|Groups):" /proc/self/status'
	assert_success
	[[ "${lines[0]}" =~ ^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[[ "${lines[1]}" =~ ^Gid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[[ "${lines[2]}" =~ ^Groups:[[:space:]]+29\ 100[[:space:]]*$ ]]
}

@test "root without additional gids has no supplementary groups" {
	run_args sh -c 'grep ^Groups: /proc/self/status'
	assert_success
	[[ "$output" =~ ^Groups:[[:space:]]*$ ]]
}

@test "umask applies, 0022 by default" {
	run_args sh -c umask
	[ "$output" = 0022 ]
	cfg '.process.user.umask = 63'
	run_args sh -c umask
	[ "$output" = 0077 ]
}

@test "rlimits are set, soft and hard" {
	cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]'
	run_args sh -c 'grep -E "Max (open files|core file size)" /proc/self/limits'
	assert_success
	[[ "$output" =~ Max\ core\ file\ size[[:space:]]+0[[:space:]]+0 ]]
	[[ "$output" =~ Max\ open\ files[[:space:]]+100[[:space:]]+200 ]]
}

@test "raising a hard rlimit without CAP_SYS_RESOURCE fails clearly" {
	if grep -q '^CapEff:.*' /proc/self/status && capsh --has-p=cap_sys_resource 2>/dev/null; then
		skip "this machine grants CAP_SYS_RESOURCE: the limit can be raised"
	fi
	hard=$(ulimit -Hn)
	cfg --argjson h $((hard + 1)) '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": $h}]'
	run_args true
	assert_failure
	assert_output_contains "setrlimit RLIMIT_NOFILE (raising a hard limit needs CAP_SYS_RESOURCE)"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "oomScoreAdj is written" {
	cfg '.process.oomScoreAdj = 500'
	run_args cat /proc/self/oom_score_adj
	assert_success
	[ "$output" = 500 ]
}

@test "noNewPrivileges sets NoNewPrivs" {
	run_args grep NoNewPrivs /proc/self/status
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]]
	cfg '.process.noNewPrivileges = false'
	run_args grep NoNewPrivs /proc/self/status
	[[ "$output" =~ NoNewPrivs:[[:space:]]+0 ]]
}

@test "capabilities of the config are the process's" {
	cfg '.process.capabilities = {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
	run_args grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)' /proc/self/status
	assert_success
	# CAP_CHOWN = bit 0, CAP_KILL = bit 5
	[[ "$output" =~ CapInh:[[:space:]]+0000000000000000 ]]
	[[ "$output" =~ CapPrm:[[:space:]]+0000000000000020 ]]
	[[ "$output" =~ CapEff:[[:space:]]+0000000000000020 ]]
	[[ "$output" =~ CapBnd:[[:space:]]+0000000000000021 ]]
	[[ "$output" =~ CapAmb:[[:space:]]+0000000000000000 ]]
}

@test "namespaced sysctls are set inside, never on the host" {
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	want=$((1 - host_fwd))
	cfg --arg v "$want" '.linux.sysctl = {"net.ipv4.ip_forward": $v, "kernel.shmmni": "1234"}'
	run_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni'
	assert_success
	[ "${lines[0]}" = "$want" ]
	[ "${lines[1]}" = 1234 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "a sysctl that is not namespaced is refused" {
	cfg '.linux.sysctl = {"kernel.panic": "1"}'
	run_args true
	assert_failure
	assert_output_contains '"kernel.panic" is not namespaced'
}

@test "a network sysctl without a network namespace is refused" {
	cfg '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	run_args true
	assert_failure
	assert_output_contains "requires a new network namespace"
}

@test "personality LINUX32 makes uname report a 32-bit machine" {
	cfg '.linux.personality = {"domain": "LINUX32"}'
	run_args uname -m
	assert_success
	[[ "$output" =~ ^i[3-6]86$ ]]
}

@test "the scheduler policy and nice value apply" {
	cfg '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
	run_args sh -c 'grep ^policy /proc/self/sched; cut -d" " -f19 /proc/self/stat'
	assert_success
	[[ "${lines[0]}" =~ policy[[:space:]]+:[[:space:]]+3 ]]
	[ "${lines[1]}" = 7 ]
}

@test "the I/O priority applies" {
	cfg '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}'
	run_args ionice -p 1
	assert_success
	[[ "$output" == idle* ]]
}

@test "execCPUAffinity: initial before exec, final after start" {
	[ "$(nproc)" -ge 2 ] || skip "needs two CPUs"
	cfg '.process.execCPUAffinity = {"initial": "1", "final": "0-1"}'
	cfg_args sleep 1000
	track c1
	berth create -b "$BUNDLE" c1
	pid=$(container_pid c1)
	[[ "$(grep Cpus_allowed_list /proc/$pid/status)" =~ Cpus_allowed_list:[[:space:]]+1$ ]]
	berth start c1
	[[ "$(grep Cpus_allowed_list /proc/$pid/status)" =~ Cpus_allowed_list:[[:space:]]+0-1$ ]]
}

@test "--preserve-fds passes fds 3..3+N-1 and nothing above" {
	echo preserved > "$BATS_TEST_TMPDIR/f3"
	cfg_args sh -c 'cat <&3; ls /proc/self/fd | sort -n | tr "\n" " "'
	# (bats itself uses fd 3: open ours in a child shell)
	run bash -c 'exec 3< "$1" 5< "$1"; exec "$2" --root "$3" run --preserve-fds 1 -b "$4" c1' \
		_ "$BATS_TEST_TMPDIR/f3" "$BERTH" "$ROOT" "$BUNDLE"
	assert_success
	[ "${lines[0]}" = preserved ]
	# 0-2, 3, and ls's own directory fd; never 5
	[[ "${lines[1]}" != *" 5 "* ]]
}

@test "no fd of the caller leaks into the container without --preserve-fds" {
	exec 7< /etc/hostname
	run_args ls /proc/self/fd
	exec 7<&-
	assert_success
	[[ " $(echo $output) " != *" 7 "* ]]
}

@test "--preserve-fds with an fd that is not open is refused" {
	run berth run --preserve-fds 40 -b "$BUNDLE" c1
	assert_failure
	assert_output_contains "--preserve-fds 40: fd"
	assert_no_leftovers c1
}
