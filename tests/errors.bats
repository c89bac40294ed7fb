#!/usr/bin/env bats
# tests/errors.bats: bad input gets one clear line naming the field or path,
# a non-zero exit, and leaves no state, cgroup, mount or process behind.

load helpers

setup() {
	setup_bundle
}

# Run create (which exits) and check the failure is clean.
create_fails() { # EXPECTED-MESSAGE
	run berth create -b "$BUNDLE" bad1
	assert_failure
	assert_output_contains "$1"
	[ "${#lines[@]}" -eq 1 ] || { echo "expected one line: $output" >&2; return 1; }
	[[ "${lines[0]}" == "berth: create bad1: "* ]]
	assert_no_leftovers bad1
	# No process of the container survived.
	! pgrep -f "$BUNDLE" >/dev/null
}

@test "malformed JSON" {
	echo '{"ociVersion": "1.0.0", "process": ' > "$BUNDLE/config.json"
	create_fails "config.json: invalid JSON"
}

@test "a missing config.json names the file" {
	rm "$BUNDLE/config.json"
	create_fails "$BUNDLE/config.json"
}

@test "a wrong type names the JSON path" {
	cfg '.process.args[0] = 1'
	create_fails "config.json: process.args[0]: expected a string"
	cfg '.process.args = ["true"] | .linux.resources.memory.limit = "big"'
	create_fails "linux.resources.memory.limit"
}

@test "a missing required field names it" {
	cfg 'del(.root)'
	create_fails "root: missing required field"
}

@test "an unknown namespace type" {
	cfg '.linux.namespaces += [{"type": "nosuchns"}]'
	create_fails 'unknown namespace type "nosuchns"'
}

@test "a duplicate id leaves the first container alone" {
	start_sleeper bad1
	pid=$(container_pid bad1)
	run berth create -b "$BUNDLE" bad1
	assert_failure
	assert_output_contains 'container with id "bad1" already exists'
	[ "$(container_pid bad1)" = "$pid" ]
	[ "$(status_of bad1)" = running ]
}

@test "a missing rootfs" {
	rm -rf "$BUNDLE/rootfs"
	create_fails "root.path \"$BUNDLE/rootfs\": No such file or directory"
}

@test "a rootfs that is a file" {
	rm -rf "$BUNDLE/rootfs" && touch "$BUNDLE/rootfs"
	create_fails "is not a directory"
}

@test "an impossible mount" {
	cfg '.mounts += [{"destination": "/proc/../sys", "type": "proc", "source": "proc", "options": ["bogus-option=1"]}]'
	create_fails "mounts[7]"
}

@test "a binary that does not exist (the 127 path)" {
	cfg_args /no/such/binary
	create_fails 'exec: "/no/such/binary": no such file or directory'
	cfg_args no-such-command
	create_fails 'exec: "no-such-command": executable file not found in $PATH'
}

@test "a binary that is not executable (the 126 path)" {
	cfg_args /etc/passwd
	create_fails 'exec: "/etc/passwd": permission denied'
}

@test "an unknown capability" {
	cfg '.process.capabilities.bounding += ["CAP_BOGUS"]'
	create_fails 'process.capabilities.bounding[3]: unknown capability "CAP_BOGUS"'
}

@test "an invalid container id" {
	for id in "../escape" "a/b" "." "with space"; do
		run berth create -b "$BUNDLE" "$id"
		assert_failure
		assert_output_contains "invalid container id"
	done
	[ ! -e "$ROOT/../escape" ]
}

@test "operations on a container that does not exist" {
	for cmd in start state delete kill pause resume ps; do
		run berth $cmd nosuch
		assert_failure
		assert_output_contains 'container "nosuch" does not exist'
	done
}

@test "usage errors name the command" {
	run berth kill
	assert_failure
	assert_output_contains "kill: usage: berth kill"
	run berth create --no-such-flag x
	assert_failure
	assert_output_contains 'unknown option "--no-such-flag"'
	run berth frobnicate
	assert_failure
	assert_output_contains 'unknown command "frobnicate"'
}

@test "the error is recorded in --log as JSON for engines" {
	cfg '.process.args[0] = 1'
	run "$BERTH" --root "$ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json create -b "$BUNDLE" bad1
	assert_failure
	last=$(tail -1 "$BATS_TEST_TMPDIR/log.json")
	[ "$(echo "$last" | jq -r .level)" = error ]
	[[ "$(echo "$last" | jq -r .msg)" == *"process.args[0]: expected a string"* ]]
	echo "$last" | jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")'
}
