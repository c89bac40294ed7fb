#!/usr/bin/env bats
# tests/mounts.bats: the config's mounts, propagation, the read-only root,
# masked and read-only paths, and mount targets that try to leave the root.

load helpers

setup() {
	setup_bundle
	HOSTDIR=$BATS_TEST_TMPDIR/host
	mkdir -p "$HOSTDIR"
	echo from-host > "$HOSTDIR/file"
}

add_mount() { # JSON object
	cfg --argjson m "$1" '.mounts += [$m]'
}

# "dest fstype options" of the mount at $1 inside the container.
mount_line() {
	echo "awk -v d=$1 '\$5 == d { print \$5, \$(NF-2), \$6 }' /proc/self/mountinfo | tail -1"
}

@test "the default mounts have their types and options" {
	run_sh "$(mount_line /proc); $(mount_line /dev); $(mount_line /sys); $(mount_line /dev/pts)"
	assert_success
	[[ "${lines[0]}" == "/proc proc "* ]]
	[[ "${lines[1]}" == "/dev tmpfs "*nosuid* ]]
	[[ "${lines[2]}" == "/sys sysfs ro,"* ]]
	[[ "${lines[3]}" == "/dev/pts devpts "*noexec* ]]
}

@test "a read-only bind mount shows the host's files and refuses writes" {
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$HOSTDIR\", \"options\": [\"bind\", \"ro\"]}"
	run_sh 'cat /data/file; echo x > /data/new 2>&1 || echo refused'
	assert_success
	[ "${lines[0]}" = from-host ]
	assert_output_contains "Read-only file system"
	[ ! -e "$HOSTDIR/new" ]
}

@test "a writable bind mount writes through to the host" {
	add_mount "{\"destination\": \"/data\", \"source\": \"$HOSTDIR\", \"options\": [\"rbind\", \"rw\"]}"
	run_sh 'echo written > /data/new'
	assert_success
	[ "$(cat "$HOSTDIR/new")" = written ]
}

@test "a file can be bind mounted onto a file" {
	add_mount "{\"destination\": \"/etc/injected\", \"type\": \"bind\", \"source\": \"$HOSTDIR/file\", \"options\": [\"bind\", \"ro\"]}"
	run_sh 'cat /etc/injected'
	assert_success
	[ "$output" = from-host ]
	[ -f "$BUNDLE/rootfs/etc/injected" ]
}

@test "a relative bind source is relative to the bundle" {
	mkdir "$BUNDLE/shared" && echo in-bundle > "$BUNDLE/shared/f"
	add_mount '{"destination": "/shared", "type": "bind", "source": "shared", "options": ["bind"]}'
	run_sh 'cat /shared/f'
	assert_success
	[ "$output" = in-bundle ]
}

@test "tmpfs size and mode options apply" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1770", "noexec"]}'
	run_sh 'stat -c %a /scratch; df -k /scratch | tail -1 | awk "{print \$2}"; '"$(mount_line /scratch)"
	assert_success
	[ "${lines[0]}" = 1770 ]
	[ "${lines[1]}" = 1024 ]
	[[ "${lines[2]}" == *noexec* ]]
}

@test "missing destinations are created inside the rootfs" {
	add_mount '{"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"}'
	run_sh "$(mount_line /a/b/c)"
	assert_success
	[[ "$output" == "/a/b/c tmpfs"* ]]
	[ -d "$BUNDLE/rootfs/a/b/c" ]
}

@test "a symlink in the rootfs cannot send a mount outside it" {
	canary=$BATS_TEST_TMPDIR/outside
	mkdir -p "$canary"
	ln -s "$canary" "$BUNDLE/rootfs/escape"
	ln -s ../../../../../../../../.. "$BUNDLE/rootfs/up"
	add_mount '{"destination": "/escape/m1", "type": "tmpfs", "source": "tmpfs"}'
	add_mount '{"destination": "/up/tmp/m2", "type": "tmpfs", "source": "tmpfs"}'
	run_sh "grep -c ' $canary/m1 \| /tmp/m2 ' /proc/self/mountinfo"
	assert_success
	# Both resolved inside the root (the container's /tmp), nothing was
	# created outside it.
	[ "$output" = 2 ]
	[ ! -e "$canary/m1" ]
	[ ! -e /tmp/m2 ]
}

@test "mount propagation flags apply to the mount" {
	add_mount '{"destination": "/p", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]}'
	run_sh "awk '\$5 == \"/p\" { print \$7 }' /proc/self/mountinfo"
	assert_success
	[[ "$output" == shared:* ]]
}

@test "rootfsPropagation is applied to the container's root" {
	# The suites run with private propagation; a slave needs a shared
	# master, so the bundle lives on a shared mount of its own.
	mkdir "$BATS_TEST_TMPDIR/shared"
	mount -t tmpfs tmpfs "$BATS_TEST_TMPDIR/shared"
	mount --make-shared "$BATS_TEST_TMPDIR/shared"
	cp -a "$BUNDLE" "$BATS_TEST_TMPDIR/shared/bundle"
	BUNDLE=$BATS_TEST_TMPDIR/shared/bundle
	for p in shared slave private unbindable; do
		cfg --arg p "$p" '.linux.rootfsPropagation = $p'
		run_sh "awk '\$5 == \"/\" { print \$7 }' /proc/self/mountinfo"
		assert_success
		case $p in
		shared) [[ "$output" == shared:* ]] ;;
		slave) [[ "$output" == master:* ]] ;;
		private) [[ "$output" != shared:* && "$output" != master:* ]] ;;
		unbindable) [[ "$output" == unbindable* ]] ;;
		esac
	done
	umount "$BATS_TEST_TMPDIR/shared"
}

@test "root.readonly makes / read-only; false lets the workload write" {
	run_sh 'touch /x 2>&1 || echo refused'
	assert_output_contains "Read-only file system"
	cfg '.root.readonly = false'
	run_sh 'touch /x && echo made'
	[ "$output" = made ]
	[ -e "$BUNDLE/rootfs/x" ]
}

@test "masked paths: files read empty, directories are empty" {
	# (/proc/kcore does not exist on every kernel)
	[ -e /proc/timer_list ] && [ -e /proc/keys ] && [ -d /sys/firmware ]
	run_sh 'wc -c < /proc/timer_list; wc -c < /proc/keys; ls /sys/firmware | wc -l'
	assert_success
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 0 ]
}

@test "read-only paths refuse writes" {
	run_sh 'echo 1 > /proc/sys/kernel/domainname 2>&1 || echo refused'
	assert_output_contains "Read-only file system"
}

@test "mounting over /proc files is refused" {
	add_mount '{"destination": "/proc/self/mem", "type": "bind", "source": "/dev/null", "options": ["bind"]}'
	run_sh true
	assert_failure
	assert_output_contains 'mounting on "/proc/self/mem" inside /proc is not allowed'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "an impossible mount fails cleanly" {
	add_mount '{"destination": "/x", "type": "nosuchfs", "source": "none"}'
	run_sh true
	assert_failure
	assert_output_contains 'mounts[7] "none" on "/x": mount "nosuchfs": No such device'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "a missing bind source fails cleanly" {
	add_mount '{"destination": "/x", "type": "bind", "source": "/nonexistent/dir", "options": ["bind"]}'
	run_sh true
	assert_failure
	assert_output_contains '"/nonexistent/dir": No such file or directory'
	assert_no_leftovers "c-$BATS_TEST_NUMBER"
}

@test "tmpcopyup copies the rootfs directory's contents into the tmpfs" {
	mkdir -p "$BUNDLE/rootfs/etc/conf.d"
	echo keep > "$BUNDLE/rootfs/etc/conf.d/a"
	add_mount '{"destination": "/etc/conf.d", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}'
	run_sh 'cat /etc/conf.d/a; echo new > /etc/conf.d/b && cat /etc/conf.d/b'
	assert_success
	[ "${lines[0]}" = keep ]
	[ "${lines[1]}" = new ]
	[ ! -e "$BUNDLE/rootfs/etc/conf.d/b" ]
}

@test "a cgroup mount shows the container's own cgroup" {
	add_mount '{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}'
	run_sh 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
	assert_success
	[ "$output" = 128 ]
}

@test "--no-pivot runs the container with chroot instead" {
	cfg_args sh -c 'cat /etc/hostname; ls /'
	run berth run --no-pivot -b "$BUNDLE" c1
	assert_success
	[ "${lines[0]}" = berth ]
}

@test "no mount of the container is visible on the host" {
	start_sleeper c1
	! grep -q "$BUNDLE" /proc/self/mountinfo
	! grep -q "$BUNDLE" /proc/1/mountinfo
}
