#!/usr/bin/env bats
# tests/hooks.bats: every hook kind in order, with the container's state on
# stdin, in the namespace the spec says, and what a failing hook does.

load helpers

setup() {
	setup_bundle
	LOG=$BATS_TEST_TMPDIR/log
	mkdir -p "$LOG"
	# A host-side recorder: the hook's name, args, env and stdin.
	cat > "$BATS_TEST_TMPDIR/record" <<'EOF'
#!/bin/sh
name=$1; shift
cat > "$LOG_DIR/$name.json"
echo "$name" >> "$LOG_DIR/order"
echo "$*" > "$LOG_DIR/$name.args"
env > "$LOG_DIR/$name.env"
readlink /proc/self/ns/mnt > "$LOG_DIR/$name.mntns"
EOF
	chmod +x "$BATS_TEST_TMPDIR/record"
	# The same inside the container, writing to a bind mount of LOG.
	cat > "$BUNDLE/rootfs/bin/record-inside" <<'EOF'
#!/bin/sh
cat > /hooklog/$1.json
echo "$1" >> /hooklog/order
EOF
	chmod +x "$BUNDLE/rootfs/bin/record-inside"
	cfg --arg log "$LOG" '.mounts += [{"destination": "/hooklog", "type": "bind", "source": $log, "options": ["bind"]}]'
}

hook() { # KIND NAME: a recorder hook
	cfg --arg r "$BATS_TEST_TMPDIR/record" --arg kind "$1" --arg name "$2" --arg log "$LOG" \
		'.hooks[$kind] += [{"path": $r, "args": ["record", $name, "extra arg"], "env": ["LOG_DIR=\($log)", "HOOKVAR=1"]}]'
}

failing_hook() { # KIND
	cfg --arg kind "$1" '.hooks[$kind] += [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; echo failing >&2; exit 3"]}]'
}

@test "every hook runs once, in the lifecycle's order" {
	hook prestart prestart
	hook createRuntime createRuntime
	hook createContainer createContainer
	cfg '.hooks.startContainer = [{"path": "/bin/record-inside", "args": ["record-inside", "startContainer"]}]'
	hook poststart poststart
	hook poststop poststop
	start_sleeper c1
	berth kill c1 KILL
	wait_status c1 stopped
	berth delete c1
	[ "$(cat "$LOG/order" | tr '\n' ' ')" = "prestart createRuntime createContainer startContainer poststart poststop " ]
}

@test "hooks get the state with the spec's status for their point of the lifecycle" {
	cfg '.annotations = {"org.test": "yes"}'
	hook prestart prestart
	hook createRuntime createRuntime
	hook createContainer createContainer
	cfg '.hooks.startContainer = [{"path": "/bin/record-inside", "args": ["record-inside", "startContainer"]}]'
	hook poststart poststart
	hook poststop poststop
	start_sleeper c1
	pid=$(container_pid c1)
	berth delete --force c1
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		[ "$(jq -r .id "$LOG/$h.json")" = c1 ]
		[ "$(jq -r .bundle "$LOG/$h.json")" = "$BUNDLE" ]
		[ "$(jq -r '.annotations["org.test"]' "$LOG/$h.json")" = yes ]
	done
	for h in prestart createRuntime createContainer startContainer poststart; do
		[ "$(jq -r .pid "$LOG/$h.json")" = "$pid" ]
	done
	[ "$(jq -r .status "$LOG/prestart.json")" = creating ]
	[ "$(jq -r .status "$LOG/createRuntime.json")" = creating ]
	[ "$(jq -r .status "$LOG/createContainer.json")" = creating ]
	[ "$(jq -r .status "$LOG/startContainer.json")" = created ]
	[ "$(jq -r .status "$LOG/poststart.json")" = running ]
	[ "$(jq -r .status "$LOG/poststop.json")" = stopped ]
}

@test "hooks get their args and env" {
	hook prestart prestart
	run_sh true
	assert_success
	[ "$(cat "$LOG/prestart.args")" = "extra arg" ]
	grep -qx HOOKVAR=1 "$LOG/prestart.env"
	# Only the hook's env, not berth's.
	! grep -q '^BATS_' "$LOG/prestart.env"
}

@test "createRuntime runs in berth's namespaces, createContainer in the container's" {
	hook createRuntime createRuntime
	hook createContainer createContainer
	start_sleeper c1
	pid=$(container_pid c1)
	[ "$(cat "$LOG/createRuntime.mntns")" = "$(readlink /proc/self/ns/mnt)" ]
	[ "$(cat "$LOG/createContainer.mntns")" = "$(readlink /proc/$pid/ns/mnt)" ]
}

@test "a failing prestart or createRuntime hook fails create and leaves nothing" {
	for kind in prestart createRuntime createContainer; do
		cfg '.hooks = {}'
		hook poststop poststop
		failing_hook "$kind"
		rm -f "$LOG/poststop.json"
		run_sh true
		assert_failure
		assert_output_contains "$kind hook \"/bin/sh\": exited with status 3"
		assert_no_leftovers "c-$BATS_TEST_NUMBER"
		# The lifecycle goes on to delete, which runs poststop.
		[ -e "$LOG/poststop.json" ]
	done
}

@test "a failing startContainer hook fails start; the process never runs" {
	cfg '.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]'
	cfg_args sh -c 'echo ran > /hooklog/ran'
	track c1
	berth create -b "$BUNDLE" c1
	run berth start c1
	assert_failure
	assert_output_contains 'startContainer hook "/bin/sh": exited with status 1'
	wait_status c1 stopped
	[ ! -e "$LOG/ran" ]
}

@test "a failing poststart hook is a warning; the container keeps running" {
	failing_hook poststart
	cfg_args sleep 1000
	track c1
	berth create -b "$BUNDLE" c1
	run berth start c1
	assert_success
	assert_output_contains "warning: poststart hook"
	[ "$(status_of c1)" = running ]
}

@test "a failing poststop hook is a warning; delete succeeds" {
	failing_hook poststop
	start_sleeper c1 true
	wait_status c1 stopped
	run berth delete c1
	assert_success
	assert_output_contains "warning: poststop hook"
	assert_no_leftovers c1
}

@test "a hook past its timeout is killed and fails the create" {
	cfg '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 30"], "timeout": 1}]'
	start=$(date +%s)
	run_sh true
	assert_failure
	assert_output_contains "timed out after 1 seconds"
	[ $(( $(date +%s) - start )) -lt 10 ]
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "a hook that does not read its stdin does not block berth" {
	head -c 200000 /dev/zero | tr '\0' a > "$BATS_TEST_TMPDIR/big"
	cfg --rawfile v "$BATS_TEST_TMPDIR/big" '.annotations = {"big": $v} | .hooks.prestart = [{"path": "/bin/true"}]'
	run_sh true
	assert_success
}

@test "a hook that cannot be executed fails clearly" {
	cfg '.hooks.createRuntime = [{"path": "/nonexistent/hook"}]'
	run_sh true
	assert_failure
	assert_output_contains 'createRuntime hook "/nonexistent/hook"'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}
