#!/usr/bin/env bats
# tests/security.bats: capabilities, no_new_privs, seccomp (actions, errno
# values, argument filters, notify), LSM labels, and the default spec's
# confinement, all observed from inside the container.

load helpers

setup() {
	setup_bundle
}

teardown() {
	teardown_containers
	[ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
}

# A seccomp profile that allows everything except the given rules (JSON array).
seccomp_allow_except() {
	cfg --argjson rules "$1" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": $rules}'
}

# berth's own default profile, as `berth spec` writes it.
default_seccomp() {
	(cd "$BATS_TEST_TMPDIR" && "$BERTH" spec --bundle "$BATS_TEST_TMPDIR" && jq .linux.seccomp config.json)
}

@test "the five capability sets match the config" {
	cfg '.process.user = {"uid": 1000, "gid": 1000}
	     | .process.capabilities = {
		"bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"],
		"effective": ["CAP_NET_BIND_SERVICE"],
		"inheritable": ["CAP_NET_BIND_SERVICE"],
		"permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
		"ambient": ["CAP_NET_BIND_SERVICE"]}'
	run_sh 'grep ^Cap /proc/self/status'
	assert_success
	# As uid 1000, what survives execve is the ambient set (bit 10).
	[[ "$output" =~ CapInh:[[:space:]]+0000000000000400 ]]
	[[ "$output" =~ CapPrm:[[:space:]]+0000000000000400 ]]
	[[ "$output" =~ CapEff:[[:space:]]+0000000000000400 ]]
	[[ "$output" =~ CapBnd:[[:space:]]+0000000000000421 ]]
	[[ "$output" =~ CapAmb:[[:space:]]+0000000000000400 ]]
}

@test "root's capabilities are its bounding set" {
	cfg '.process.capabilities = {"bounding": ["CAP_SYS_ADMIN", "CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_SYS_ADMIN", "CAP_KILL"]}'
	run_sh 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
	assert_success
	# execve gives uid 0 its whole bounding set (no SECBIT_NOROOT), as
	# with runc: the bounding set is what confines root.
	[[ "$output" =~ CapPrm:[[:space:]]+0000000000200020 ]]
	[[ "$output" =~ CapEff:[[:space:]]+0000000000200020 ]]
	[[ "$output" =~ CapBnd:[[:space:]]+0000000000200020 ]]
}

@test "an unknown capability name is an error naming it" {
	cfg '.process.capabilities.effective += ["CAP_NOT_A_THING"]'
	run_sh true
	assert_failure
	assert_output_contains 'unknown capability "CAP_NOT_A_THING"'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "an effective capability outside the permitted set is refused up front" {
	cfg '.process.capabilities.effective += ["CAP_SYS_ADMIN"]'
	run_sh true
	assert_failure
	assert_output_contains "process.capabilities.effective: cap_sys_admin is not in the permitted set"
}

@test "no_new_privs and a seccomp filter are in place" {
	seccomp_allow_except '[]'
	run_sh 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
	assert_success
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]]
	[[ "$output" =~ Seccomp:[[:space:]]+2 ]]
}

@test "ERRNO(EPERM) makes the workload see Operation not permitted" {
	seccomp_allow_except '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]'
	run_sh 'mkdir /tmp/x 2>&1; echo rc=$?'
	assert_output_contains "Operation not permitted"
	assert_output_contains "rc=1"
}

@test "errnoRet chooses the errno" {
	seccomp_allow_except '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]'
	run_sh 'mkdir /tmp/x 2>&1'
	assert_output_contains "Invalid cross-device link"
}

@test "defaultErrnoRet is honoured for syscalls the profile does not list" {
	profile=$(default_seccomp | jq '.syscalls[0].names -= ["mkdir", "mkdirat"]')
	cfg --argjson p "$profile" '.linux.seccomp = $p'
	run_sh 'mkdir /tmp/x 2>&1'
	assert_output_contains "Function not implemented"
	cfg '.linux.seccomp.defaultErrnoRet = 13'
	run_sh 'mkdir /tmp/x 2>&1'
	assert_output_contains "Permission denied"
}

@test "an argument filter denies only the matching call" {
	# kill(pid, sig): deny SIGUSR1 (10) only.
	seccomp_allow_except '[{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]'
	run_sh 'trap "echo got-usr2" USR2; kill -USR1 $$ 2>&1; kill -0 $$ && echo zero-ok; kill -USR2 $$'
	assert_output_contains "Operation not permitted"
	assert_output_contains "zero-ok"
	assert_output_contains "got-usr2"
}

@test "SCMP_CMP_MASKED_EQ compares under a mask" {
	# deny kill when (sig & 8) == 8: USR1 (10) and USR2 (12), not HUP (1)
	seccomp_allow_except '[{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 8, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]}]'
	run_sh 'trap "echo got-hup" HUP; kill -USR1 $$ 2>&1; kill -USR2 $$ 2>&1; kill -HUP $$; echo end'
	assert_success
	[ "$(echo "$output" | grep -c "Operation not permitted")" -eq 2 ]
	assert_output_contains "got-hup"
}

@test "SCMP_ACT_KILL_PROCESS kills the workload with SIGSYS" {
	seccomp_allow_except '[{"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}]'
	cfg_args uname
	run berth run -b "$BUNDLE" c1
	[ "$status" -eq $((128 + 31)) ]
}

@test "SCMP_ACT_NOTIFY hands the fd to the listener, whose answer reaches the workload" {
	[ -x "$TEST_HELPERS/seccomp-listener" ] || skip "test helper not built (make test builds it)"
	sock=$BATS_TEST_TMPDIR/listener.sock
	"$TEST_HELPERS/seccomp-listener" "$sock" "$BATS_TEST_TMPDIR/notify-state" &
	LISTENER=$!
	for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
	seccomp_allow_except '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]'
	cfg --arg s "$sock" '.linux.seccomp.listenerPath = $s | .linux.seccomp.listenerMetadata = "meta-1"'
	run_sh 'mkdir /tmp/x 2>&1; echo rc=$?'
	# The listener answered EXDEV.
	assert_output_contains "Invalid cross-device link"
	assert_output_contains "rc=1"
	wait "$LISTENER"
	LISTENER=
	state=$(cat "$BATS_TEST_TMPDIR/notify-state")
	[ "$(echo "$state" | jq -r '.fds[0]')" = seccompFd ]
	[ "$(echo "$state" | jq -r .metadata)" = meta-1 ]
	[ "$(echo "$state" | jq -r .state.id)" = "c-$BATS_TEST_NUMBER" ]
	[ "$(echo "$state" | jq -r .pid)" -gt 0 ]
}

@test "SCMP_ACT_NOTIFY without a listenerPath is refused" {
	seccomp_allow_except '[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]'
	run_sh true
	assert_failure
	assert_output_contains "needs a listenerPath"
}

@test "seccomp flags are accepted; an unknown one is refused" {
	seccomp_allow_except '[]'
	cfg '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]'
	run_sh 'grep -c ^Seccomp:.*2 /proc/self/status'
	assert_success
	cfg '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_BOGUS"]'
	run_sh true
	assert_failure
	assert_output_contains 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"'
}

@test "syscall names unknown to libseccomp are skipped" {
	seccomp_allow_except '[{"names": ["no_such_syscall_ever", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]'
	run "$BERTH" --root "$ROOT" --debug run -b "$BUNDLE" c1 2>&1
	assert_output_contains 'syscall "no_such_syscall_ever" unknown to libseccomp, skipped'
}

@test "bad seccomp input is an error naming it, and leaves nothing" {
	seccomp_allow_except '[{"names": ["mkdir"], "action": "SCMP_ACT_BOGUS"}]'
	run_sh true
	assert_failure
	assert_output_contains 'linux.seccomp.syscalls[0].action: unknown seccomp action "SCMP_ACT_BOGUS"'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
	seccomp_allow_except '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]'
	run_sh true
	assert_failure
	assert_output_contains "linux.seccomp.syscalls[0].args[0].index: must be at most 5"
	seccomp_allow_except '[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": "EPERM"}]'
	run_sh true
	assert_failure
	assert_output_contains "linux.seccomp.syscalls[0].errnoRet: expected an integer"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "the default spec blocks mount, unshare, kexec, modules, ptrace and the clock; a shell works" {
	profile=$(default_seccomp)
	cfg --argjson p "$profile" '.linux.seccomp = $p'
	run_sh 'mount -t tmpfs none /tmp 2>&1; unshare -n true 2>&1; date -s 2000.01.01-00:00 2>&1;
		echo "year $(date +%Y)"; ls / >/dev/null && echo ls-ok; sleep 0.01 & wait && echo wait-ok'
	assert_output_contains "mount: permission denied"
	assert_output_contains "unshare(0x40000000): Operation not permitted"
	assert_output_contains "can't set date: Operation not permitted"
	[[ "$output" != *"year 2000"* ]]
	assert_output_contains "ls-ok"
	assert_output_contains "wait-ok"
}

@test "the default profile denies the dangerous calls with EPERM" {
	[ -x "$TEST_HELPERS/syscall-probe" ] || skip "test helper not built (make test builds it)"
	cp "$TEST_HELPERS/syscall-probe" "$BUNDLE/rootfs/bin/"
	profile=$(default_seccomp)
	cfg --argjson p "$profile" '.linux.seccomp = $p'
	cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_TIME", "CAP_SYS_PTRACE", "CAP_SYS_BOOT"]
	     | .process.capabilities.effective = .process.capabilities.bounding
	     | .process.capabilities.permitted = .process.capabilities.bounding'
	# Even with the capabilities, seccomp says no.
	run_sh 'syscall-probe mount unshare kexec_load init_module ptrace settimeofday clock_settime reboot setns bpf'
	assert_success
	for s in mount unshare kexec_load init_module ptrace settimeofday clock_settime reboot setns bpf; do
		[[ "$output" == *"$s: Operation not permitted"* ]]
	done
}

@test "apparmorProfile and selinuxLabel on a host without that LSM are clear errors" {
	if grep -q Y /sys/module/apparmor/parameters/enabled 2>/dev/null || [ -e /sys/fs/selinux/enforce ]; then
		skip "this host has AppArmor or SELinux: the labels would apply"
	fi
	cfg '.process.apparmorProfile = "berth-default"'
	run_sh true
	assert_failure
	assert_output_contains "process.apparmorProfile: AppArmor is not enabled on this host"
	cfg 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	run_sh true
	assert_failure
	assert_output_contains "process.selinuxLabel: SELinux is not enabled on this host"
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "an AppArmor profile is applied to the workload" {
	grep -q Y /sys/module/apparmor/parameters/enabled 2>/dev/null ||
		skip "AppArmor is not enabled on this host (no /sys/module/apparmor)"
	cfg '.process.apparmorProfile = "unconfined"'
	run_sh 'cat /proc/self/attr/current'
	assert_success
	assert_output_contains unconfined
}

@test "a SELinux label is applied to the workload" {
	[ -e /sys/fs/selinux/enforce ] || skip "SELinux is not enabled on this host (no selinuxfs)"
	label=$(cat /proc/self/attr/current)
	cfg --arg l "$label" '.process.selinuxLabel = $l'
	run_sh 'cat /proc/self/attr/current'
	assert_success
	[ "$output" = "$label" ]
}

@test "the seccomp compiled filter is cached and never confused between profiles" {
	seccomp_allow_except '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]'
	run "$BERTH" --root "$ROOT" --debug run -b "$BUNDLE" c1 2>&1
	[ "$(ls "$ROOT/seccomp-cache" | wc -l)" -eq 1 ]
	cfg_args sh -c 'mkdir /tmp/x'
	run "$BERTH" --root "$ROOT" --debug run -b "$BUNDLE" c2 2>&1
	assert_output_contains "compiled filter from the cache"
	assert_output_contains "Operation not permitted"
	# A different profile: its own entry, its own behaviour.
	cfg '.linux.seccomp.syscalls[0].errnoRet = 18'
	run berth run -b "$BUNDLE" c3
	assert_output_contains "Invalid cross-device link"
	[ "$(ls "$ROOT/seccomp-cache" | wc -l)" -eq 2 ]
}

@test "a corrupted cache entry is compiled again, not trusted" {
	seccomp_allow_except '[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]'
	cfg_args sh -c 'mkdir /tmp/x'
	berth run -b "$BUNDLE" c1 || true
	entry=$(ls "$ROOT/seccomp-cache/"*)
	head -c 100 /dev/urandom > "$entry"
	run "$BERTH" --root "$ROOT" --debug run -b "$BUNDLE" c2 2>&1
	[[ "$output" != *"from the cache"* ]]
	assert_output_contains "Operation not permitted"
}
