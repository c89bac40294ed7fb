#!/usr/bin/env bats
# tests/engines.bats: podman (through conmon) and buildah use berth as their
# runtime. A private containers.conf and storage: /etc/containers is never
# touched, and no network is created (--network none).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	command -v podman >/dev/null && command -v buildah >/dev/null && command -v conmon >/dev/null ||
		skip "podman, buildah and conmon are not installed (make deps installs them)"
	export PM_DIR=$BATS_FILE_TMPDIR/podman
	mkdir -p "$PM_DIR"
	# Within the hard limits of this machine (CAP_SYS_RESOURCE is missing,
	# so podman's default nofile of 1048576 cannot be set) and of podman
	# and buildah, which lower their own nproc limit to 32768 before they
	# run the runtime.
	local nofile nproc
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nproc" -le 32768 ] || nproc=32768
	cat > "$PM_DIR/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
runtime = "berth"
static_dir = "$PM_DIR/libpod"
tmp_dir = "$PM_DIR/tmp"
volume_path = "$PM_DIR/volumes"

[engine.runtimes]
berth = ["$BERTH"]
EOF
	cat > "$PM_DIR/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM_DIR/storage"
runroot = "$PM_DIR/run"
EOF
	export CONTAINERS_CONF=$PM_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PM_DIR/storage.conf
	export BUILDAH_ULIMITS="--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
	# A base image from the busybox rootfs, with image config.
	tar -C "$EXAMPLE/rootfs" -cf "$PM_DIR/rootfs.tar" .
	podman import --change 'ENV FOO=from-image' --change 'WORKDIR /tmp' --change 'CMD ["sh"]' \
		"$PM_DIR/rootfs.tar" localhost/berth-test/base:1 >/dev/null
	# A second layer made by a buildah RUN step that berth runs: it
	# deletes a file and a directory (whiteouts) and adds one.
	local ctr
	ctr=$(buildah from --pull=never $BUILDAH_ULIMITS localhost/berth-test/base:1)
	buildah run --runtime "$BERTH" --network none "$ctr" -- sh -c 'rm /bin/vi; rm -r /home/berth; mkdir /added; echo built-by-berth > /added/f'
	buildah commit --quiet "$ctr" localhost/berth-test/layered:1 >/dev/null
	buildah rm "$ctr" >/dev/null
	# Round-trip through a docker-archive, as images usually arrive.
	podman save --format docker-archive -o "$PM_DIR/layered.tar" localhost/berth-test/layered:1
	podman rmi localhost/berth-test/layered:1 >/dev/null
	podman load -i "$PM_DIR/layered.tar" >/dev/null
}

teardown_file() {
	[ -n "${PM_DIR:-}" ] || return 0
	podman rm --all --force --time 0 >/dev/null 2>&1 || true
	buildah rm --all >/dev/null 2>&1 || true
	podman system reset --force >/dev/null 2>&1 || true
	if findmnt -R "$PM_DIR" >/dev/null 2>&1; then
		echo "mounts left under $PM_DIR" >&2
		return 1
	fi
	rm -rf --one-file-system "$PM_DIR"
}

setup() {
	P="podman --runtime berth"
}

teardown() {
	podman rm --all --force --time 0 >/dev/null 2>&1 || true
	teardown_rootless_podman
}

@test "podman: run with args, env and workdir from the image" {
	run $P run --rm --network none localhost/berth-test/base:1 sh -c 'echo "args ok"; echo $FOO; pwd'
	assert_success
	[ "${lines[0]}" = "args ok" ]
	[ "${lines[1]}" = from-image ]
	[ "${lines[2]}" = /tmp ]
}

@test "podman: exit codes 0, 7, 126, 127 and 137" {
	run $P run --rm --network none localhost/berth-test/base:1 true
	[ "$status" -eq 0 ]
	run $P run --rm --network none localhost/berth-test/base:1 sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run -126 $P run --rm --network none localhost/berth-test/base:1 /etc/passwd
	run -127 $P run --rm --network none localhost/berth-test/base:1 no-such-command
	$P run -d --name k1 --network none localhost/berth-test/base:1 sleep 1000
	$P kill --signal KILL k1
	run $P wait k1
	[ "${lines[-1]}" = 137 ]
}

@test "podman: run -d, exec, stop, rm" {
	$P run -d --name d1 --network none localhost/berth-test/base:1 sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	run $P exec d1 sh -c 'echo in-exec; exit 5'
	[ "$status" -eq 5 ]
	[ "${lines[0]}" = in-exec ]
	[ "$($P inspect --format '{{.State.Status}}' d1)" = running ]
	$P stop --time 10 d1
	[ "$($P inspect --format '{{.State.Status}}' d1)" = exited ]
	$P rm d1
	# (container inspect: a bare "inspect d1" also matches an image whose
	# id starts with d1)
	run $P container inspect d1
	assert_failure
}

@test "podman: run -it and exec -it through a pseudo-terminal" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# (a short pause before exiting: podman 4.3 can attach after a process
	# that exits at once has already written its output)
	run script -qec "$P run --rm -it --network none localhost/berth-test/base:1 sh -c 'tty; sleep 0.3; exit 3'" /dev/null
	[ "$status" -eq 3 ]
	assert_output_contains /dev/pts/
	$P run -d --name t1 --network none localhost/berth-test/base:1 sleep 1000
	run script -qec "$P exec -it t1 sh -c 'tty; sleep 0.3; exit 4'" /dev/null
	[ "$status" -eq 4 ]
	assert_output_contains /dev/pts/
}

@test "podman: pause and unpause" {
	$P run -d --name p1 --network none localhost/berth-test/base:1 sleep 1000
	$P pause p1
	[ "$($P inspect --format '{{.State.Status}}' p1)" = paused ]
	$P unpause p1
	[ "$($P inspect --format '{{.State.Status}}' p1)" = running ]
}

@test "podman: update changes a running container's limits" {
	$P run -d --name u1 --network none --cpu-quota 50000 localhost/berth-test/base:1 sleep 1000
	pid=$($P inspect --format '{{.State.Pid}}' u1)
	$P update --cpu-quota 20000 --cpu-period 100000 u1
	ctrl=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' /proc/$pid/cgroup)
	if [ -n "$ctrl" ]; then
		mnt=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ { print $5 }' /proc/self/mountinfo)
		[ "$(cat "$mnt$ctrl/cpu.cfs_quota_us")" = 20000 ]
	else
		[ "$(cat "$(cgroup2_root)$(sed -n 's/^0:://p' /proc/$pid/cgroup)/cpu.max")" = "20000 100000" ]
	fi
}

@test "podman: top and restart" {
	$P run -d --name r1 --network none localhost/berth-test/base:1 sleep 1000
	run $P top r1
	assert_success
	assert_output_contains "sleep 1000"
	old=$($P inspect --format '{{.State.Pid}}' r1)
	$P restart --time 1 r1
	[ "$($P inspect --format '{{.State.Status}}' r1)" = running ]
	[ "$($P inspect --format '{{.State.Pid}}' r1)" != "$old" ]
}

@test "podman: logs of a container" {
	$P run --name l1 --network none localhost/berth-test/base:1 sh -c 'echo line-one; echo line-two >&2'
	run $P logs l1
	assert_output_contains line-one
	assert_output_contains line-two
}

@test "podman: the layers and whiteouts of a loaded docker-archive are visible inside" {
	run $P run --rm --network none localhost/berth-test/layered:1 sh -c 'test -e /bin/vi -o -e /home/berth && echo present || echo whited-out; cat /added/f; test -e /bin/sh && echo lower-ok'
	assert_success
	[ "${lines[0]}" = whited-out ]
	[ "${lines[1]}" = built-by-berth ]
	[ "${lines[2]}" = lower-ok ]
}

@test "buildah: a RUN step with berth as the runtime" {
	ctr=$(buildah from --pull=never $BUILDAH_ULIMITS localhost/berth-test/base:1)
	run buildah run --runtime "$BERTH" --network none "$ctr" -- sh -c 'echo from-buildah > /b; id -u'
	buildah rm "$ctr" >/dev/null
	assert_success
	[ "$output" = 0 ]
}

@test "podman: nothing of berth is left after rm" {
	$P run -d --name g1 --network none localhost/berth-test/base:1 sleep 1000
	id=$($P inspect --format '{{.Id}}' g1)
	[ -d "/run/berth/$id" ]
	$P rm --force --time 0 g1
	[ ! -e "/run/berth/$id" ]
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup/pids /sys/fs/cgroup/memory; do
		! find "$d" -maxdepth 3 -name "*$id*" | grep -q .
	done
}

# ---- rootless podman: an unprivileged user made for the test ----

# Sets RLP_USER, RLP_UID, RLP_HOME, RLP_SUB, and as_rlp: podman's rootless
# mode with a config of the user's own, berth registered as its runtime.
setup_rootless_podman() {
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (make deps installs uidmap)"
	RLP_USER=berthpm$$
	RLP_SUB=$(add_user_with_subids "$RLP_USER")
	RLP_UID=$(id -u "$RLP_USER")
	RLP_HOME=$(getent passwd "$RLP_USER" | cut -d: -f6)
	local d=$RLP_HOME/podman
	mkdir -p "$d"
	sed -e "s|$PM_DIR|$d|g" "$PM_DIR/containers.conf" > "$d/containers.conf"
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$d" "$d" \
		> "$d/storage.conf"
	cp "$PM_DIR/rootfs.tar" "$d/rootfs.tar"
	# The user must be able to run this berth: its own copy.
	install -m 0755 "$BERTH" "$d/berth"
	sed -i "s|^berth = .*|berth = [\"$d/berth\"]|" "$d/containers.conf"
	chown -R "$RLP_USER:" "$d"
	as_rlp podman import --change 'CMD ["sh"]' "$d/rootfs.tar" localhost/berth-test/base:1 >/dev/null
}

as_rlp() {
	local d=$RLP_HOME/podman
	(cd "$RLP_HOME" && runuser -u "$RLP_USER" -- env -i HOME="$RLP_HOME" \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin CONTAINERS_CONF="$d/containers.conf" \
		CONTAINERS_STORAGE_CONF="$d/storage.conf" "$@")
}

teardown_rootless_podman() {
	[ -n "${RLP_USER:-}" ] || return 0
	# Stops the user's containers and podman's pause process, removes
	# the storage (files of subordinate ids) in the user's namespace.
	as_rlp podman rm --all --force --time 0 >/dev/null 2>&1 || true
	as_rlp podman system reset --force >/dev/null 2>&1 || true
	userdel -r "$RLP_USER" 2>/dev/null || true
	local d
	for d in "/tmp/podman-run-$RLP_UID" "/tmp/containers-user-$RLP_UID" "/tmp/berth-$RLP_UID"; do
		[ -e "$d" ] && ! findmnt -R "$d" >/dev/null 2>&1 && rm -rf --one-file-system "$d"
	done
	RLP_USER=
}

@test "podman: rootless, as an unprivileged user, with berth in its user namespace" {
	setup_rootless_podman
	local P="podman --runtime berth" img=localhost/berth-test/base:1 state
	# Root inside is the user; ids from 1 are the user's subordinate range.
	run as_rlp $P run --rm "$img" sh -c 'id -u; cat /proc/self/uid_map'
	assert_success
	[ "${lines[0]}" = 0 ]
	[[ "$output" =~ \ +0\ +$RLP_UID\ +1 ]]
	[[ "$output" =~ \ +1\ +$RLP_SUB\ +65536 ]]
	# Another user of the image, and exit codes.
	run as_rlp $P run --rm --user 1000:1000 "$img" sh -c 'id -u; touch /tmp/f && stat -c %u /tmp/f'
	assert_success
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	run as_rlp $P run --rm "$img" sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run -127 as_rlp $P run --rm "$img" no-such-command
	# Detached, exec, stop, rm; berth's state is in the user's runtime dir.
	as_rlp $P run -d --name rl1 "$img" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
	id=$(as_rlp $P inspect --format '{{.Id}}' rl1)
	state=/tmp/podman-run-$RLP_UID/berth/$id
	[ "$(stat -c %U "$state")" = "$RLP_USER" ]
	[ ! -e "/run/berth/$id" ]
	run as_rlp $P exec rl1 sh -c 'echo in-exec; exit 5'
	[ "$status" -eq 5 ]
	[ "${lines[0]}" = in-exec ]
	as_rlp $P stop --time 10 rl1
	[ "$(as_rlp $P inspect --format '{{.State.Status}}' rl1)" = exited ]
	as_rlp $P rm rl1
	[ ! -e "$state" ]
	teardown_rootless_podman
}
