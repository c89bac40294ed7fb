#!/usr/bin/env bats
# tests/terminal.bats: process.terminal: a pty from the container's devpts,
# handed to --console-socket as conmon expects, or relayed by a foreground
# berth run with raw mode and the window size.

load helpers

setup() {
	setup_bundle
	cfg '.process.terminal = true'
}

teardown() {
	teardown_containers
	[ -z "${RECEIVER:-}" ] || kill "$RECEIVER" 2>/dev/null || true
}

start_receiver() { # [INPUT]
	[ -x "$TEST_HELPERS/console-receiver" ] || skip "test helper not built (make test builds it)"
	SOCK=$BATS_TEST_TMPDIR/console.sock
	"$TEST_HELPERS/console-receiver" "$SOCK" "$BATS_TEST_TMPDIR/console.out" "$@" &
	RECEIVER=$!
	for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.05; done
}

@test "--console-socket receives the pty master, named, sized by consoleSize" {
	start_receiver
	cfg '.process.consoleSize = {"height": 33, "width": 111}'
	cfg_args sh -c 'tty; stty size; echo done'
	track c1
	berth create --console-socket "$SOCK" -b "$BUNDLE" c1
	berth start c1
	wait "$RECEIVER"
	RECEIVER=
	head -1 "$BATS_TEST_TMPDIR/console.out" | grep -E '^name=/dev/pts/[0-9]+ rows=33 cols=111$'
	grep -q '^/dev/pts/0' "$BATS_TEST_TMPDIR/console.out"
	grep -q '^33 111' "$BATS_TEST_TMPDIR/console.out"
	grep -q done "$BATS_TEST_TMPDIR/console.out"
}

@test "the pty is the controlling terminal and /dev/console" {
	start_receiver
	cfg_args sh -c 'readlink /proc/self/fd/0; ps -o tty= -p $$ 2>/dev/null || true; stat -c %t:%T /dev/console /dev/pts/0'
	track c1
	berth create --console-socket "$SOCK" -b "$BUNDLE" c1
	berth start c1
	wait "$RECEIVER"
	RECEIVER=
	grep -q '^/dev/pts/0' "$BATS_TEST_TMPDIR/console.out"
	# /dev/console is the same device as the pty slave
	[ "$(grep -E '^[0-9a-f]+:[0-9a-f]+' "$BATS_TEST_TMPDIR/console.out" | sort -u | wc -l)" -eq 1 ]
}

@test "input typed into the master reaches the workload" {
	start_receiver $'hello-in\n'
	cfg_args sh -c 'read line; echo "got $line"'
	track c1
	berth create --console-socket "$SOCK" -b "$BUNDLE" c1
	berth start c1
	wait "$RECEIVER"
	RECEIVER=
	grep -q "got hello-in" "$BATS_TEST_TMPDIR/console.out"
}

@test "terminal without a console socket and detached is refused" {
	cfg_args true
	run berth create -b "$BUNDLE" c1
	assert_failure
	assert_output_contains "--console-socket is required"
	assert_no_leftovers c1
}

@test "a foreground run relays the terminal under script, with the window size" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	cfg_args sh -c 'tty; stty size; exit 3'
	run script -qec "stty rows 41 cols 123; $BERTH --root $ROOT run -b $BUNDLE c1" /dev/null
	[ "$status" -eq 3 ]
	assert_output_contains "/dev/pts/0"
	assert_output_contains "41 123"
}

@test "the terminal is restored after a foreground run" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	cfg_args true
	run script -qec "stty -g > $BATS_TEST_TMPDIR/before; $BERTH --root $ROOT run -b $BUNDLE c1; stty -g > $BATS_TEST_TMPDIR/after" /dev/null
	assert_success
	[ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
}

@test "exec -t through a console socket" {
	cfg '.process.terminal = false'
	start_sleeper c1
	start_receiver
	berth exec -t -d --console-socket "$SOCK" c1 sh -c 'tty; echo exec-tty'
	wait "$RECEIVER"
	RECEIVER=
	grep -q '^/dev/pts/' "$BATS_TEST_TMPDIR/console.out"
	grep -q exec-tty "$BATS_TEST_TMPDIR/console.out"
}

@test "exec -t in the foreground relays the terminal" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	cfg '.process.terminal = false'
	start_sleeper c1
	run script -qec "$BERTH --root $ROOT exec -t c1 sh -c 'tty; exit 4'" /dev/null
	[ "$status" -eq 4 ]
	assert_output_contains "/dev/pts/"
}
