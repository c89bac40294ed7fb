#!/usr/bin/env bats
# tests/rootless.bats: berth run by an unprivileged user created for these
# tests (with its own /etc/subuid and /etc/subgid range), removed at the end.

load helpers

setup_file() {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (make deps installs uidmap)"
	export RL_USER=berthrl$$
	useradd -m -s /bin/sh "$RL_USER"
	export RL_UID RL_GID RL_HOME RL_SUB
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_HOME=$(getent passwd "$RL_USER" | cut -d: -f6)
	RL_SUB=$(awk -F: -v u="$RL_USER" '$1 == u { print $2 }' /etc/subuid)
	if [ -z "$RL_SUB" ]; then
		# useradd made no range: give one from a block nobody uses.
		RL_SUB=$(( 1000000 + (RL_UID % 1000) * 65536 ))
		usermod --add-subuids "$RL_SUB-$((RL_SUB + 65535))" --add-subgids "$RL_SUB-$((RL_SUB + 65535))" "$RL_USER"
	fi
}

teardown_file() {
	[ -n "${RL_USER:-}" ] || return 0
	local root=/tmp/berth-$RL_UID
	if [ -d "$root" ]; then
		for id in $(as_user berth list -q 2>/dev/null); do
			as_user berth delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	userdel -r "$RL_USER" 2>/dev/null || true
	findmnt -R "$root" >/dev/null 2>&1 || rm -rf --one-file-system "$root"
}

# Run a command as the test user, with a clean environment.
as_user() {
	local cmd=$1
	shift
	[ "$cmd" = berth ] && cmd=$BERTH
	runuser -u "$RL_USER" -- env -i HOME="$RL_HOME" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		${RL_ENV:-} "$cmd" "$@"
}

setup() {
	# A bundle in the user's home, made by `berth spec --rootless`.
	UB=$RL_HOME/bundle-$BATS_TEST_NUMBER
	rm -rf --one-file-system "$UB"
	mkdir -p "$UB"
	cp -a "$EXAMPLE/rootfs" "$UB/rootfs"
	chown -R "$RL_USER:" "$UB"
	as_user berth spec --rootless --bundle "$UB"
	ucfg '.process.terminal = false | .process.args = ["true"]'
}

teardown() {
	for id in $(as_user berth list -q 2>/dev/null); do
		as_user berth delete --force "$id" >/dev/null 2>&1 || true
	done
	rm -rf --one-file-system "$UB"
}

ucfg() {
	jq "$@" "$UB/config.json" > "$UB/config.json.tmp" && mv "$UB/config.json.tmp" "$UB/config.json"
	chown "$RL_USER:" "$UB/config.json"
}

ucfg_args() {
	ucfg --argjson a "$(json_array "$@")" '.process.args = $a'
}

@test "rootless: spec --rootless runs as is; root inside is the user" {
	ucfg_args sh -c 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map'
	run as_user berth run -b "$UB" r1
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +$RL_UID\ +1$ ]]
	[[ "${lines[2]}" =~ ^\ +0\ +$RL_GID\ +1$ ]]
}

@test "rootless: create, start, state, kill, delete" {
	ucfg_args sleep 1000
	as_user berth create -b "$UB" r1
	[ "$(as_user berth state r1 | jq -r .status)" = created ]
	as_user berth start r1
	[ "$(as_user berth state r1 | jq -r .status)" = running ]
	pid=$(as_user berth state r1 | jq -r .pid)
	[ "$(stat -c %u /proc/$pid)" = "$RL_UID" ]
	as_user berth kill r1 KILL
	for i in $(seq 50); do [ "$(as_user berth state r1 | jq -r .status)" = stopped ] && break; sleep 0.1; done
	as_user berth delete r1
	run as_user berth state r1
	assert_failure
}

@test "rootless: exec joins the container" {
	ucfg_args sleep 1000
	as_user berth run -d -b "$UB" r1
	run as_user berth exec r1 sh -c 'id -u; cat /proc/self/uid_map'
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" =~ ^\ +0\ +$RL_UID\ +1$ ]]
}

@test "rootless: a 65536-id mapping works through newuidmap" {
	ucfg --argjson u "$RL_UID" --argjson g "$RL_GID" --argjson s "$RL_SUB" '
		.linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": $s, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}, {"containerID": 1, "hostID": $s, "size": 65536}]'
	ucfg_args sh -c 'cat /proc/self/uid_map; chown 1000:1000 /tmp && stat -c %u /tmp'
	ucfg '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}] | .process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"] | .process.capabilities.permitted += ["CAP_CHOWN"]'
	run as_user berth run -b "$UB" r1
	assert_success
	[[ "$output" =~ \ +1\ +$RL_SUB\ +65536 ]]
	[ "${lines[-1]}" = 1000 ]
}

@test "rootless: files written to a bind mount belong to the user" {
	shared=$RL_HOME/shared-$BATS_TEST_NUMBER
	mkdir -p "$shared" && chown "$RL_USER:" "$shared"
	ucfg --arg s "$shared" '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]'
	ucfg_args sh -c 'echo written > /shared/f'
	as_user berth run -b "$UB" r1
	[ "$(stat -c %U "$shared/f")" = "$RL_USER" ]
	[ "$(cat "$shared/f")" = written ]
	rm -rf "$shared"
}

@test "rootless: the state directory is the user's" {
	ucfg_args sleep 1000
	as_user berth run -d -b "$UB" r1
	root=/tmp/berth-$RL_UID
	[ "$(stat -c '%U %a' "$root")" = "$RL_USER 700" ]
	[ "$(stat -c %U "$root/r1")" = "$RL_USER" ]
	as_user berth delete --force r1
	RL_ENV="XDG_RUNTIME_DIR=$RL_HOME/xdg"
	mkdir -p "$RL_HOME/xdg" && chown "$RL_USER:" "$RL_HOME/xdg" && chmod 700 "$RL_HOME/xdg"
	as_user berth run -d -b "$UB" r2
	[ -d "$RL_HOME/xdg/berth/r2" ]
	as_user berth delete --force r2
}

@test "rootless: a state root owned by someone else is refused" {
	RL_ENV="XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg"
	mkdir -p "$BATS_TEST_TMPDIR/xdg/berth"
	chmod 755 "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/xdg"
	make_traversable "$BATS_TEST_TMPDIR"
	run as_user berth run -b "$UB" r1
	assert_failure
	assert_output_contains "belongs to uid 0"
}

@test "rootless: ids the user does not own are refused, and nothing is left" {
	ucfg '.linux.uidMappings += [{"containerID": 1, "hostID": 1, "size": 10}]'
	run as_user berth run -b "$UB" r1
	assert_failure
	assert_output_contains "not allowed for this user"
	[ ! -e "/tmp/berth-$RL_UID/r1" ]
}

@test "rootless: a resource limit without a delegated cgroup is an error naming it" {
	# Only when the user has no writable, delegated cgroup (this machine).
	runuser -u "$RL_USER" -- test -w "$(cgroup2_root)" && skip "the user has a delegated cgroup here"
	ucfg '.linux.resources = {"pids": {"limit": 10}}'
	run as_user berth run -b "$UB" r1
	assert_failure
	assert_output_contains "linux.resources asks for limits, but this user has no delegated, writable cgroup v2 subtree"
	[ ! -e "/tmp/berth-$RL_UID/r1" ]
}

@test "rootless: raising an rlimit above the user's hard limit fails clearly" {
	hard=$(runuser -u "$RL_USER" -- sh -c 'ulimit -Hn')
	ucfg --argjson h $((hard + 1)) '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 64, "hard": $h}]'
	run as_user berth run -b "$UB" r1
	assert_failure
	assert_output_contains "setrlimit RLIMIT_NOFILE"
}

@test "rootless: oomScoreAdj below the caller's keeps the caller's" {
	ucfg '.process.oomScoreAdj = -500'
	ucfg_args cat /proc/self/oom_score_adj
	run as_user berth run -b "$UB" r1
	assert_success
	[ "$output" = "$(runuser -u "$RL_USER" -- cat /proc/self/oom_score_adj)" ]
}

@test "rootless: a rootless container cannot write outside what it was given" {
	ucfg '.root.readonly = false'
	ucfg_args sh -c 'echo x > /etc/owned-by-container; touch /proc/sysrq-trigger 2>&1; cat /proc/self/uid_map'
	run as_user berth run -b "$UB" r1
	# The rootfs is the user's own: the file belongs to the user.
	[ "$(stat -c %U "$UB/rootfs/etc/owned-by-container")" = "$RL_USER" ]
}
