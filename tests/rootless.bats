#!/usr/bin/env bats
# tests/rootless.bats: berth run by an unprivileged user created for these
# tests (with its own /etc/subuid and /etc/subgid range), removed at the end.

load helpers

setup_file() {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (make deps installs uidmap)"
	export RL_USER=berthrl$$
	export RL_UID RL_GID RL_HOME RL_SUB
	RL_SUB=$(add_user_with_subids "$RL_USER")
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_HOME=$(getent passwd "$RL_USER" | cut -d: -f6)
	# Images for run --image (layout tags base, configured, far-owner),
	# readable by the user.
	export RL_IMAGES=$RL_HOME/images RL_STORE=$RL_HOME/.local/share/berth
	"$TESTS_DIR/fixtures/make-images.sh" "$RL_IMAGES" >/dev/null 2>&1
	python3 "$TESTS_DIR/fixtures/image-tool.py" far-owner "$RL_IMAGES/layout"
	chown -R "$RL_USER:" "$RL_IMAGES"
}

teardown_file() {
	[ -n "${RL_USER:-}" ] || return 0
	local root=/tmp/berth-$RL_UID
	if [ -d "$root" ]; then
		for id in $(as_user berth list -q 2>/dev/null); do
			as_user berth delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	# Layers of subordinate ids: removed as the user, in its namespace.
	[ -d "${RL_STORE:-}" ] && as_user unshare --map-root-user --map-auto rm -rf "$RL_STORE"
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

# ---- run --image ----

# Nothing of a run --image container is left but the store's layers.
assert_image_run_gone() {
	[ -z "$(ls -A "/tmp/berth-$RL_UID/.image-bundles" 2>/dev/null)" ]
	[ -z "$(ls -A "$RL_STORE/containers")" ]
	[ -z "$(ls -A "$RL_STORE/tmp")" ]
	[ -z "$(as_user berth list -q)" ]
	! findmnt -rn -o TARGET | grep -q -e "$RL_STORE" -e "/tmp/berth-$RL_UID"
}

@test "rootless: run --image maps the user's subordinate ids; the store is the user's" {
	run as_user berth run --image "$RL_IMAGES/layout:base" -- sh -c 'id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox; touch /new && echo wrote'
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "$output" =~ \ +0\ +$RL_UID\ +1 ]]
	[[ "$output" =~ \ +1\ +$RL_SUB\ +65536 ]]
	[ "${lines[-2]}" = 0 ]
	[ "${lines[-1]}" = wrote ]
	# The store: the user's, 0700, and says how it keeps owners.
	[ "$(stat -c '%U %a' "$RL_STORE")" = "$RL_USER 700" ]
	[ "$(cat "$RL_STORE/owners")" = "userns 0:$RL_UID:1,1:$RL_SUB:65536;0:$RL_GID:1,1:$RL_SUB:65536" ]
	# Root's files in the layers are the user's own on the host.
	busybox=$(find "$RL_STORE/layers" -path '*/bin/busybox' | head -n1)
	[ "$(stat -c %U "$busybox")" = "$RL_USER" ]
	assert_image_run_gone
	# Again: from the store's record, without unpacking.
	run as_user berth --debug run --image "$RL_IMAGES/layout:base" -- true
	assert_success
	assert_output_contains "from the store's record"
}

@test "rootless: run --image of an image with its own user: its ids inside, subordinate ids on disk" {
	run as_user berth run --image "$RL_IMAGES/layout:configured" --writable-layer store -- \
		'id; stat -c %u:%g /home/berth; mkdir -p d/e && touch d/e/f && chmod 500 d && stat -c %u:%g d/e/f'
	assert_success
	[ "${lines[0]}" = "uid=1000(berth) gid=100(users)" ]
	[ "${lines[1]}" = 1000:1000 ]
	[ "${lines[2]}" = 1000:100 ]
	# uid 1000 of the image is subordinate id 999 of the user's range.
	home=$(find "$RL_STORE/layers" -path '*/home/berth' | head -n1)
	[ "$(stat -c %u "$home")" = $((RL_SUB + 999)) ]
	# The writable layer held files of uid 1000 in a read-only directory:
	# removed all the same.
	assert_image_run_gone
}

@test "rootless: an image file owner beyond the user's range is an error naming it; nothing is left" {
	run as_user berth run --image "$RL_IMAGES/layout:far-owner" -- true
	assert_failure
	assert_output_contains '"data/far" belongs to 70000:70000, which the user namespace does not map'
	assert_image_run_gone
	# The layer was not kept half-made.
	! find "$RL_STORE/layers" -path '*/data/far' | grep -q .
}

@test "rootless: without subordinate ids, run --image maps only the user and says why an image user fails" {
	# No newuidmap on PATH: berth maps the caller alone (and keeps owners
	# in xattrs, in a store of its own).
	export RL_ENV="PATH=/nonexistent"
	run as_user berth run --store "$RL_HOME/store-single" --image "$RL_IMAGES/layout:base" -- /bin/sh -c 'id -u; cat /proc/self/uid_map'
	assert_success
	[ "${lines[0]}" = 0 ]
	[ "${#lines[@]}" = 2 ]
	run as_user berth run --store "$RL_HOME/store-single" --image "$RL_IMAGES/layout:configured" -- true
	assert_failure
	assert_output_contains 'the image runs as user "berth:users" (uid 1000, gid 100)'
	assert_output_contains "/etc/subuid"
	# A store keeps one way of keeping owners.
	unset RL_ENV
	run as_user berth run --store "$RL_HOME/store-single" --image "$RL_IMAGES/layout:base" -- true
	assert_failure
	assert_output_contains 'keeps file owners as "xattr"'
	rm -rf "$RL_HOME/store-single"
	assert_image_run_gone
}

@test "rootless: a process user outside the mappings is an error naming the field" {
	ucfg '.process.user.uid = 1000'
	run as_user berth run -b "$UB" r1
	assert_failure
	assert_output_contains "process.user.uid: 1000 is not mapped by linux.uidMappings"
	[ ! -e "/tmp/berth-$RL_UID/r1" ]
}

@test "rootless: a cgroup2 mount hidden under another mount is not used; the container runs without a cgroup" {
	# As sandboxes do (and bench/startup-rootless.sh): a tmpfs over the v2
	# mount, in the user's own user and mount namespaces.
	v2=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
	[ -n "$v2" ] || skip "no cgroup2 mount on this host"
	run as_user unshare -r -m sh -c "mount -t tmpfs -o size=1m none $v2 && exec unshare --user --map-user=$RL_UID --map-group=$RL_GID $BERTH --debug run -b $UB r1"
	assert_success
	assert_output_contains "cgroup2 at $v2 is covered by another mount: not used"
	assert_output_contains "running without a cgroup"
	# A limit cannot be honoured there: an error, not a silent drop.
	ucfg '.linux.resources.pids.limit = 10'
	run as_user unshare -r -m sh -c "mount -t tmpfs -o size=1m none $v2 && exec unshare --user --map-user=$RL_UID --map-group=$RL_GID $BERTH run -b $UB r1"
	assert_failure
	assert_output_contains "no cgroup2 filesystem is mounted"
	[ ! -e "/tmp/berth-$RL_UID/r1" ]
}
