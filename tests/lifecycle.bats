#!/usr/bin/env bats
# tests/lifecycle.bats: create, start, state, kill, delete, run, list, spec
# and features, checked against the runtime-spec's operations and schemas.

load helpers
bats_require_minimum_version 1.5.0

SCHEMA_DIR=/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema

setup() {
	setup_bundle
}

validate_schema() { # SCHEMA FILE
	python3 - "$SCHEMA_DIR/$1" "$2" <<'EOF'
import json, sys, pathlib, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import jsonschema
schema_path = pathlib.Path(sys.argv[1])
schema = json.load(open(schema_path))
resolver = jsonschema.RefResolver(base_uri=schema_path.resolve().as_uri(), referrer=schema)
jsonschema.validate(json.load(open(sys.argv[2])), schema, resolver=resolver)
EOF
}

@test "run exits with the workload's status" {
	cfg_args sh -c 'exit 7'
	run berth run -b "$BUNDLE" c1
	[ "$status" -eq 7 ]
	assert_no_leftovers c1
}

@test "run reports death by signal as 128+N" {
	cfg_args sleep 1000
	"$BERTH" --root "$ROOT" run -b "$BUNDLE" c1 &
	runner=$!
	wait_status c1 running
	berth kill c1 KILL
	wait "$runner" || status=$?
	[ "$status" -eq 137 ]
	assert_no_leftovers c1
}

@test "run passes the workload's stdout and stderr through" {
	cfg_args sh -c 'echo out; echo err >&2'
	run --separate-stderr berth run -b "$BUNDLE" c1
	assert_success
	[ "$output" = "out" ]
	[ "$stderr" = "err" ]
}

@test "create leaves the init waiting; start runs the user process" {
	cfg_args sh -c 'echo started > /tmp/marker; exec sleep 1000'
	cfg '.root.readonly = false | .mounts |= map(select(.destination != "/tmp"))'
	track c1
	berth create -b "$BUNDLE" c1
	[ "$(status_of c1)" = created ]
	[ ! -e "$BUNDLE/rootfs/tmp/marker" ]
	pid=$(container_pid c1)
	[ "$pid" -gt 0 ]
	berth start c1
	[ "$(status_of c1)" = running ]
	for i in $(seq 50); do [ -e "$BUNDLE/rootfs/tmp/marker" ] && break; sleep 0.05; done
	[ "$(cat "$BUNDLE/rootfs/tmp/marker")" = started ]
	# The started process is the init itself.
	[ "$(container_pid c1)" = "$pid" ]
	[[ "$(tr '\0' ' ' < /proc/$pid/cmdline)" == "sleep 1000 " ]]
}

@test "start of a running container fails and changes nothing" {
	start_sleeper c1
	run berth start c1
	assert_failure
	assert_output_contains "not created"
	[ "$(status_of c1)" = running ]
}

@test "state follows the OCI schema in every status" {
	start_sleeper c1 sleep 1000
	berth state c1 > "$BATS_TEST_TMPDIR/running.json"
	validate_schema state-schema.json "$BATS_TEST_TMPDIR/running.json"
	[ "$(jq -r .id "$BATS_TEST_TMPDIR/running.json")" = c1 ]
	[ "$(jq -r .bundle "$BATS_TEST_TMPDIR/running.json")" = "$BUNDLE" ]
	berth kill c1 KILL
	wait_status c1 stopped
	berth state c1 > "$BATS_TEST_TMPDIR/stopped.json"
	validate_schema state-schema.json "$BATS_TEST_TMPDIR/stopped.json"
}

@test "state shows stopped when the process died behind berth's back" {
	start_sleeper c1
	pid=$(container_pid c1)
	kill -9 "$pid"
	wait_status c1 stopped
}

@test "state carries the config's annotations" {
	cfg '.annotations = {"org.example.key": "value", "other": "x"}'
	start_sleeper c1
	[ "$(berth state c1 | jq -r '.annotations["org.example.key"]')" = value ]
	[ "$(berth state c1 | jq -r '.annotations.other')" = x ]
}

@test "kill accepts signal names and numbers" {
	# The workload reports which signal it got.
	cfg '.root.readonly = false'
	for sig in TERM SIGUSR1 10 HUP; do
		rm -f "$BUNDLE/rootfs/sig"
		cfg_args sh -c 'for s in TERM USR1 HUP; do trap "echo $s > /sig; exit 0" $s; done; echo ready > /sig; while :; do sleep 0.1; done'
		start_sleeper "k$sig" sh -c 'for s in TERM USR1 HUP; do trap "echo $s > /sig; exit 0" $s; done; echo ready > /sig; while :; do sleep 0.1; done'
		for i in $(seq 100); do [ "$(cat "$BUNDLE/rootfs/sig" 2>/dev/null)" = ready ] && break; sleep 0.05; done
		berth kill "k$sig" "$sig"
		wait_status "k$sig" stopped
		want=${sig#SIG}; [ "$want" = 10 ] && want=USR1
		[ "$(cat "$BUNDLE/rootfs/sig")" = "$want" ]
		berth delete "k$sig"
	done
}

@test "kill of an unknown signal fails" {
	start_sleeper c1
	run berth kill c1 NOSUCHSIG
	assert_failure
	assert_output_contains 'unknown signal "NOSUCHSIG"'
	[ "$(status_of c1)" = running ]
}

@test "kill of a stopped container fails" {
	start_sleeper c1 true
	wait_status c1 stopped
	run berth kill c1 TERM
	assert_failure
	assert_output_contains "not running"
}

@test "kill --all signals every process of the container" {
	cfg '.linux.namespaces |= map(select(.type != "pid"))'
	start_sleeper c1 sh -c 'sleep 1000 & sleep 1000 & wait'
	sleep 0.3
	[ "$(berth ps --format json c1 | jq length)" -eq 3 ]
	berth kill --all c1 KILL
	wait_status c1 stopped
	for i in $(seq 50); do [ "$(berth ps --format json c1 2>/dev/null | jq length)" = 0 ] && break; sleep 0.05; done
	[ "$(berth ps --format json c1 | jq length)" -eq 0 ]
}

@test "delete of a running container fails and changes nothing" {
	start_sleeper c1
	pid=$(container_pid c1)
	run berth delete c1
	assert_failure
	assert_output_contains "not stopped"
	[ "$(status_of c1)" = running ]
	[ "$(container_pid c1)" = "$pid" ]
	kill -0 "$pid"
}

@test "delete of a created container fails without --force" {
	cfg_args sleep 1000
	track c1
	berth create -b "$BUNDLE" c1
	run berth delete c1
	assert_failure
	[ "$(status_of c1)" = created ]
}

@test "delete --force removes a running container and everything it had" {
	start_sleeper c1
	pid=$(container_pid c1)
	berth delete --force c1
	! kill -0 "$pid" 2>/dev/null
	run berth state c1
	assert_failure
	assert_no_leftovers c1
}

@test "delete --force removes a created container" {
	cfg_args sleep 1000
	berth create -b "$BUNDLE" c1
	pid=$(container_pid c1)
	berth delete --force c1
	! kill -0 "$pid" 2>/dev/null
	assert_no_leftovers c1
}

@test "delete of a stopped container removes it" {
	start_sleeper c1 true
	wait_status c1 stopped
	berth delete c1
	assert_no_leftovers c1
}

@test "a duplicate id is refused and the first container is untouched" {
	start_sleeper c1
	pid=$(container_pid c1)
	run berth create -b "$BUNDLE" c1
	assert_failure
	assert_output_contains 'container with id "c1" already exists'
	[ "$(status_of c1)" = running ]
	[ "$(container_pid c1)" = "$pid" ]
}

@test "concurrent creates of one id: exactly one wins" {
	cfg_args sleep 1000
	track c1
	for i in 1 2 3 4 5 6; do
		berth create -b "$BUNDLE" c1 2>/dev/null & 
	done
	ok=0
	for job in $(jobs -p); do wait "$job" && ok=$((ok + 1)); done
	[ "$ok" -eq 1 ]
	[ "$(status_of c1)" = created ]
}

@test "--pid-file gets the init's pid" {
	cfg_args sleep 1000
	track c1
	berth create -b "$BUNDLE" --pid-file "$BATS_TEST_TMPDIR/pid" c1
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(container_pid c1)" ]
}

@test "run -d leaves the container running" {
	cfg_args sleep 1000
	track c1
	berth run -d -b "$BUNDLE" c1
	[ "$(status_of c1)" = running ]
}

@test "run forwards signals to the workload" {
	cfg_args sh -c 'trap "exit 42" TERM; echo ready > /dev/shm/ready; while :; do sleep 0.1; done'
	"$BERTH" --root "$ROOT" run -b "$BUNDLE" c1 &
	runner=$!
	wait_status c1 running
	pid=$(container_pid c1)
	for i in $(seq 100); do [ -e /proc/$pid/root/dev/shm/ready ] && break; sleep 0.05; done
	kill -TERM "$runner"
	wait "$runner" || status=$?
	[ "$status" -eq 42 ]
	assert_no_leftovers c1
}

@test "any 1.x ociVersion is accepted, others are not" {
	for v in 1.0.0 1.0.2-dev 1.1.0 1.2.0 1.0.0-rc5; do
		cfg --arg v "$v" '.ociVersion = $v'
		berth run -b "$BUNDLE" "v$RANDOM"
	done
	cfg '.ociVersion = "2.0.0"'
	run berth run -b "$BUNDLE" v2
	assert_failure
	assert_output_contains "ociVersion"
}

@test "config changes after create do not affect the container" {
	cfg_args sleep 1000
	cfg '.hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "echo original >> '"$BATS_TEST_TMPDIR"'/poststop"]}]'
	berth create -b "$BUNDLE" c1
	cfg '.hooks.poststop = [{"path": "/bin/sh", "args": ["sh", "-c", "echo changed >> '"$BATS_TEST_TMPDIR"'/poststop"]}]'
	berth delete --force c1
	[ "$(cat "$BATS_TEST_TMPDIR/poststop")" = original ]
}

@test "list shows containers as a table and as JSON" {
	start_sleeper c1
	cfg_args sleep 1000
	track c2
	berth create -b "$BUNDLE" c2
	run berth list
	assert_success
	[[ "${lines[0]}" == ID* ]]
	[[ "$output" == *c1*running* ]]
	[[ "$output" == *c2*created* ]]
	[ "$(berth list --format json | jq -r 'map(.id) | sort | join(",")')" = c1,c2 ]
	[ "$(berth list -q | sort | tr '\n' ,)" = c1,c2, ]
}

@test "list of an empty root is empty" {
	run berth list --format json
	assert_success
	[ "$output" = "[]" ]
}

@test "spec writes a schema-valid config that runs, and never overwrites" {
	mkdir "$BATS_TEST_TMPDIR/sb"
	cd "$BATS_TEST_TMPDIR/sb"
	berth spec
	validate_schema config-schema.json config.json
	run berth spec
	assert_failure
	assert_output_contains "exists"
	cp -a "$BUNDLE/rootfs" rootfs
	jq '.process.terminal = false | .process.args = ["sh", "-c", "id -u; hostname"]' config.json > c && mv c config.json
	run berth run -b . s1
	assert_success
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = berth ]
}

@test "spec --bundle writes into the bundle" {
	mkdir "$BATS_TEST_TMPDIR/sb"
	berth spec --bundle "$BATS_TEST_TMPDIR/sb"
	[ -s "$BATS_TEST_TMPDIR/sb/config.json" ]
}

@test "features prints the OCI features document" {
	run berth features
	assert_success
	echo "$output" | jq -e '.ociVersionMin == "1.0.0"'
	echo "$output" | jq -e '.linux.namespaces | index("time")'
	echo "$output" | jq -e '.hooks | index("createContainer")'
	echo "$output" | jq -e '.mountOptions | index("rbind")'
	echo "$output" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")'
	echo "$output" | jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")'
}

@test "--version prints berth's version then the spec version" {
	run "$BERTH" --version
	assert_success
	[[ "${lines[0]}" =~ ^berth\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
	[[ "$output" =~ spec:\ 1\.[0-9]+\.[0-9]+ ]]
}

@test "global and command flags accept runc's and crun's spellings" {
	cfg_args sleep 1000
	track c1
	"$BERTH" --root="$ROOT" --log-format=json --log "$BATS_TEST_TMPDIR/log" create -b="$BUNDLE" -pid-file "$BATS_TEST_TMPDIR/pid" c1
	[ -s "$BATS_TEST_TMPDIR/pid" ]
	track c2
	berth create --bundle "$BUNDLE" --pid-file="$BATS_TEST_TMPDIR/pid2" c2
	[ -s "$BATS_TEST_TMPDIR/pid2" ]
}

@test "the default state root is /run/berth for root" {
	id="berth-test-default-root-$$"
	# teardown removes it from the default root whatever happens here
	DEFAULT_ROOT_IDS=("$id")
	cfg_args true
	"$BERTH" run -b "$BUNDLE" "$id"
	[ ! -e "/run/berth/$id" ]
	cfg_args sleep 1000
	"$BERTH" create -b "$BUNDLE" "$id"
	[ -d "/run/berth/$id" ]
	"$BERTH" delete --force "$id"
	[ ! -e "/run/berth/$id" ]
}

@test "NOTIFY_SOCKET: READY=1 from the container reaches the caller with MAINPID" {
	[ -x "$TEST_HELPERS/notify-send" ] || skip "test helper not built (make test builds it)"
	cp "$TEST_HELPERS/notify-send" "$BUNDLE/rootfs/bin/"
	sock=$BATS_TEST_TMPDIR/notify.sock
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
open(sys.argv[2], "w").write(s.recv(4096).decode())' "$sock" "$BATS_TEST_TMPDIR/got" &
	listener=$!
	for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
	cfg_args sh -c 'echo $NOTIFY_SOCKET > /dev/shm/path; sleep 0.3; notify-send READY=1 STATUS=up; exec sleep 1000'
	track c1
	NOTIFY_SOCKET=$sock berth create -b "$BUNDLE" c1
	NOTIFY_SOCKET=$sock berth start c1
	wait "$listener"
	pid=$(container_pid c1)
	grep -qx READY=1 "$BATS_TEST_TMPDIR/got"
	grep -qx STATUS=up "$BATS_TEST_TMPDIR/got"
	grep -qx "MAINPID=$pid" "$BATS_TEST_TMPDIR/got"
	[ "$(cat /proc/$pid/root/dev/shm/path)" = /run/notify/notify.sock ]
}

@test "LISTEN_FDS passes socket-activation fds and tells the process" {
	echo activated > "$BATS_TEST_TMPDIR/fd3"
	cfg_args sh -c 'echo "$LISTEN_FDS $LISTEN_PID"; cat <&3'
	# (bats uses fd 3 itself: open ours in a child shell)
	run bash -c 'exec 3< "$1"; LISTEN_FDS=1 exec "$2" --root "$3" run -b "$4" c1' \
		_ "$BATS_TEST_TMPDIR/fd3" "$BERTH" "$ROOT" "$BUNDLE"
	assert_success
	[ "${lines[0]}" = "1 1" ]
	[ "${lines[1]}" = activated ]
}
