#!/usr/bin/env bats
# tests/vm.bats: the same bundle with and without --vm: output, identity,
# exit codes, streams, memory, the lifecycle of a VM container, failures.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing (make deps)"
	ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no /boot/vmlinuz-* (make deps)"
	setup_bundle
}

# Run the bundle both ways; $c_status/$c_out/$c_err and $v_status/$v_out/$v_err.
both_ways() {
	local d=$BATS_TEST_TMPDIR
	berth run -b "$BUNDLE" "c-$BATS_TEST_NUMBER" >"$d/c.out" 2>"$d/c.err" </dev/null && c_status=0 || c_status=$?
	berth run --vm -b "$BUNDLE" "v-$BATS_TEST_NUMBER" >"$d/v.out" 2>"$d/v.err" </dev/null && v_status=0 || v_status=$?
	c_out=$(cat "$d/c.out") c_err=$(cat "$d/c.err") v_out=$(cat "$d/v.out") v_err=$(cat "$d/v.err")
	echo "container: status $c_status, out [$c_out], err [$c_err]"
	echo "vm:        status $v_status, out [$v_out], err [$v_err]"
}

# Wait (up to 60 s: a VM boots in seconds under TCG) for a line in a file.
wait_for_line() { # LINE FILE
	local i
	for i in $(seq 600); do
		grep -qx "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line \"$1\" in $2: $(cat "$2" 2>&1)" >&2
	return 1
}

# No live qemu of this test's state root (a zombie has no cmdline).
assert_no_qemu() {
	if pgrep -f "qemu-system-x86_64.*$ROOT/" >/dev/null; then
		echo "qemu left running:" >&2
		pgrep -af "qemu-system-x86_64.*$ROOT/" >&2
		return 1
	fi
}

@test "the busybox bundle prints the same output, hostname, uid and cwd with --vm" {
	cfg '.process.user = {"uid": 1000, "gid": 1000} | .process.cwd = "/home/berth"'
	cfg_args sh -c 'echo hello; hostname; id -u; id -g; pwd; echo $HOME; ulimit -n'
	both_ways
	[ "$c_status" -eq 0 ]
	[ "$v_status" -eq 0 ]
	[ "$v_out" = "$c_out" ]
	[ "$(echo "$v_out" | sed -n 3p)" = 1000 ]
	[ "$(echo "$v_out" | sed -n 5p)" = /home/berth ]
	# The example's own script, line by line, but for the mount list.
	cp "$EXAMPLE/config.json" "$BUNDLE/config.json"
	both_ways
	[ "$(echo "$v_out" | sed -n 1,5p)" = "$(echo "$c_out" | sed -n 1,5p)" ]
	assert_no_leftovers "v-$BATS_TEST_NUMBER"
}

@test "bind mounts of directories are the host's directory in both modes; files are said to be skipped" {
	data=$BATS_TEST_TMPDIR/data ro=$BATS_TEST_TMPDIR/ro
	mkdir -p "$data" "$ro"
	echo from-host > "$data/in"
	echo read-only > "$ro/f"
	echo a-file > "$BATS_TEST_TMPDIR/file"
	cfg --arg d "$data" --arg r "$ro" --arg f "$BATS_TEST_TMPDIR/file" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $d, "options": ["rbind", "rw"]},
		{"destination": "/ro", "type": "bind", "source": $r, "options": ["rbind", "ro"]},
		{"destination": "/etc/file", "type": "bind", "source": $f, "options": ["bind", "ro"]}]'
	cfg_args sh -c 'cat /data/in; echo "$0" >> /data/out; cat /ro/f; touch /ro/x 2>/dev/null && echo ro-written || echo ro-refused'
	both_ways
	[ "$c_status" -eq 0 ]
	[ "$v_status" -eq 0 ]
	[ "$v_out" = "$c_out" ]
	[ "$v_out" = "$(printf 'from-host\nread-only\nro-refused')" ]
	# Both wrote to the host's directory.
	[ "$(cat "$data/out")" = "$(printf 'sh\nsh')" ]
	[ ! -e "$ro/x" ]
	# The file cannot be shared with a VM: said on stderr, not silently.
	[[ "$v_err" == *"mounts[$(jq '.mounts | length - 1' "$BUNDLE/config.json")]: \"$BATS_TEST_TMPDIR/file\" is not a directory"* ]]
	# A missing source is an error in both modes.
	cfg --arg d "$BATS_TEST_TMPDIR/missing" '.mounts[-1].source = $d'
	both_ways
	[ "$c_status" -ne 0 ]
	[ "$v_status" -ne 0 ]
	[[ "$v_err" == *"missing"*"No such file or directory"* ]]
	assert_no_qemu
	assert_no_leftovers "v-$BATS_TEST_NUMBER"
}

@test "hooks in a VM: the runtime namespace's on the host, in order, with qemu's pid; the others said to be skipped" {
	log=$BATS_TEST_TMPDIR/hooks
	mkdir -p "$log"
	# Each hook appends its kind, the state's status, and whether the
	# state's pid is qemu's.
	cat > "$BATS_TEST_TMPDIR/record" <<'SCRIPT'
#!/bin/sh
state=$(cat)
pid=$(echo "$state" | jq -r .pid)
what=other
[ "$pid" -gt 0 ] && tr '\0' ' ' < /proc/$pid/cmdline | grep -q '^qemu-system' && what=qemu
echo "$1 $(echo "$state" | jq -r .status) $what" >> "$2/order"
SCRIPT
	chmod +x "$BATS_TEST_TMPDIR/record"
	for kind in prestart createRuntime createContainer startContainer poststart poststop; do
		cfg --arg r "$BATS_TEST_TMPDIR/record" --arg k "$kind" --arg l "$log" \
			'.hooks[$k] += [{"path": $r, "args": ["record", $k, $l]}]'
	done
	# (long enough for qemu to be there when poststart looks)
	cfg_args sleep 2
	run berth run --vm -b "$BUNDLE" v1
	assert_success
	assert_output_contains "hooks.createContainer and hooks.startContainer are not run in a VM"
	[ "$(cat "$log/order")" = "$(printf '%s\n' 'prestart creating qemu' 'createRuntime creating qemu' \
		'poststart running qemu' 'poststop stopped other')" ]
	# A failing prestart hook fails the create and stops the VM.
	cfg '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}'
	run berth run --vm -b "$BUNDLE" v2
	assert_failure
	assert_no_leftovers v2
	assert_no_qemu
}

@test "exit codes 0, 7, 127 and a signal are the same in both modes" {
	for script in 'exit 0' 'exit 7' 'no-such-command'; do
		cfg_args sh -c "$script"
		both_ways
		[ "$v_status" -eq "$c_status" ]
	done
	[ "$v_status" -eq 127 ]
	# Without a pid namespace the shell is not an init and can die by a signal.
	cfg '.linux.namespaces |= map(select(.type != "pid"))'
	cfg_args sh -c 'kill -TERM $$; sleep 5'
	both_ways
	[ "$c_status" -eq 143 ]
	[ "$v_status" -eq 143 ]
}

@test "a missing executable fails the same way in both modes" {
	cfg_args /bin/no-such-binary
	both_ways
	[ "$v_status" -eq "$c_status" ]
	[ "$v_status" -ne 0 ]
	[[ "$v_err" == *'exec: "/bin/no-such-binary": no such file or directory'* ]]
	assert_no_qemu
}

@test "stdout and stderr arrive on their streams with no kernel noise" {
	cfg_args sh -c 'echo out; echo err >&2; echo out2'
	run --separate-stderr berth run --vm -b "$BUNDLE" v1
	assert_success
	[ "$output" = "$(printf 'out\nout2')" ]
	[ "$stderr" = err ]
}

@test "stdin is forwarded to the workload" {
	cfg_args sh -c 'wc -l; cat /dev/null'
	run bash -c "printf 'a\nb\nc\n' | '$BERTH' --root '$ROOT' run --vm -b '$BUNDLE' v1"
	assert_success
	[ "$(echo "$output" | tr -d ' ')" = 3 ]
}

@test "a config asking for 128 MiB shows about 128 MiB of MemTotal in the guest" {
	cfg '.linux.resources.memory.limit = 134217728'
	cfg_args sh -c "awk '/^MemTotal/ { print \$2 }' /proc/meminfo"
	run berth run --vm -b "$BUNDLE" v1
	assert_success
	echo "MemTotal: $output kB"
	[ "$output" -ge $((112 * 1024)) ]
	[ "$output" -le $((136 * 1024)) ]
}

@test "a terminal: the workload has a tty of the host terminal's size" {
	command -v script >/dev/null || skip "script (util-linux) missing"
	cfg '.process.terminal = true'
	cfg_args sh -c 'test -t 0 && test -t 1 && stty size; exit 3'
	run script -qec "stty rows 33 cols 101; $BERTH --root $ROOT run --vm -b $BUNDLE v1" /dev/null
	[ "$status" -eq 3 ]
	assert_output_contains "33 101"
}

@test "create, start, state, kill and delete a VM container" {
	cfg_args sh -c 'trap "exit 3" TERM; echo up; while :; do sleep 0.1; done'
	track v1
	berth create --vm -b "$BUNDLE" v1 >"$BATS_TEST_TMPDIR/out"
	[ "$(status_of v1)" = created ]
	pid=$(container_pid v1)
	[[ "$(tr '\0' ' ' < /proc/$pid/cmdline)" == qemu-system-x86_64* ]]
	accel=$(berth state v1 | jq -r .vmAccel)
	[[ "$accel" == tcg || "$accel" == kvm ]]
	[ "$(jq -r .vmAccel "$ROOT/v1/state.json")" = "$accel" ]
	berth start v1
	[ "$(status_of v1)" = running ]
	# The signal is ignored until the shell (pid 1 of its namespace) traps it.
	wait_for_line up "$BATS_TEST_TMPDIR/out"
	berth kill v1 TERM
	wait_status v1 stopped
	berth delete v1
	assert_no_leftovers v1
	assert_no_qemu
}

@test "run -d through the org.berth.vm annotation; delete --force stops the VM" {
	cfg '.annotations["org.berth.vm"] = "true"'
	cfg_args sleep 1000
	track v1
	berth run -d -b "$BUNDLE" v1 </dev/null >/dev/null
	[ "$(status_of v1)" = running ]
	[ "$(berth state v1 | jq -r '.vmAccel')" != null ]
	run berth exec v1 true
	assert_failure
	assert_output_contains 'VM'
	run berth kill v1 KILL
	assert_success
	wait_status v1 stopped
	berth delete --force v1
	assert_no_leftovers v1
	assert_no_qemu
}

@test "a create killed while its VM boots leaves qemu for delete, which stops it" {
	cfg_args sleep 1000
	"$BERTH" --root "$ROOT" create --vm -b "$BUNDLE" v1 >/dev/null 2>&1 &
	creator=$!
	# qemu is recorded as soon as it runs, long before the guest is up.
	for i in $(seq 300); do
		qemu=$(jq -r '.pid // 0' "$ROOT/v1/state.json" 2>/dev/null || echo 0)
		[ "${qemu:-0}" -gt 0 ] && break
		sleep 0.05
	done
	[ "$qemu" -gt 0 ]
	[ "$(jq -r .status "$ROOT/v1/state.json")" = creating ]
	kill -9 "$creator"
	wait "$creator" || true
	[[ "$(tr '\0' ' ' < /proc/$qemu/cmdline)" == qemu-system-x86_64* ]]
	# The creator is gone: the container counts as stopped, and a plain
	# delete kills what it left.
	[ "$(status_of v1)" = stopped ]
	berth delete v1
	[ ! -e "/proc/$qemu" ] || [ "$(awk '{ print $3 }' /proc/$qemu/stat)" = Z ]
	assert_no_leftovers v1
	assert_no_qemu
}

@test "kill of a foreground VM reaches the workload" {
	cfg_args sh -c 'trap "echo got TERM; exit 4" TERM; echo up; while :; do sleep 0.1; done'
	berth run --vm -b "$BUNDLE" v1 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	runner=$!
	wait_for_line up "$BATS_TEST_TMPDIR/out"
	berth kill v1 TERM
	wait $runner && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 4 ]
	grep -q "got TERM" "$BATS_TEST_TMPDIR/out"
	assert_no_leftovers v1
	assert_no_qemu
}

@test "a bad kernel path is a clear error and leaves nothing behind" {
	run berth run --vm --vm-kernel /no/such/vmlinuz -b "$BUNDLE" v1
	assert_failure
	assert_output_contains '/no/such/vmlinuz'
	assert_output_contains 'No such file or directory'
	run berth run --vm --vm-kernel /etc/hostname -b "$BUNDLE" v1
	assert_failure
	assert_output_contains 'not a Linux kernel image'
	assert_no_leftovers v1
}

@test "a guest kernel panic is a VM failure, never exit 0" {
	# An init the kernel cannot find: it panics.
	cfg '.annotations["org.berth.vm.kernel-args"] = "rdinit=/no-such-init"'
	run berth run --vm -b "$BUNDLE" v1
	assert_failure
	assert_output_contains 'panic'
	assert_no_leftovers v1
	assert_no_qemu
}

@test "--vm-accel kvm is an error when KVM is not usable, never a silent fallback" {
	run berth run --vm --vm-accel kvm -b "$BUNDLE" v1
	if [ "$status" -ne 0 ]; then
		assert_output_contains 'KVM is not usable'
	fi
	run berth run --vm --vm-accel bogus -b "$BUNDLE" v1
	assert_failure
	assert_output_contains 'expected auto, kvm or tcg'
	assert_no_leftovers v1
}
