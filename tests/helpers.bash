# tests/helpers.bash: shared set-up for berth's bats suites: a fresh bundle
# and state root per test, config edits with jq, and leftover checks.

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BERTH=${BERTH:-$TESTS_DIR/../build/berth}
EXAMPLE=${EXAMPLE:-$TESTS_DIR/../build/example}
# Test programs built beside berth (make test builds them).
TEST_HELPERS=${TEST_HELPERS:-$(dirname "$BERTH")/tests/helpers}

# berth with this test's private state root.
berth() {
	"$BERTH" --root "$ROOT" "$@"
}

# A fresh bundle (copy of the example busybox bundle) and state root.
setup_bundle() {
	BUNDLE=$BATS_TEST_TMPDIR/bundle
	ROOT=$BATS_TEST_TMPDIR/state
	mkdir -p "$BUNDLE"
	cp -a "$EXAMPLE/rootfs" "$BUNDLE/rootfs"
	cp "$EXAMPLE/config.json" "$BUNDLE/config.json"
	# Tests say what they run; keep the example's limits and namespaces.
	cfg '.process.args = ["true"]'
	CONTAINERS=()
	DEFAULT_ROOT_IDS=()
}

# Apply a jq filter to the bundle's config.json.
cfg() {
	local tmp=$BUNDLE/config.json.tmp
	jq "$@" "$BUNDLE/config.json" > "$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# Set process.args from the arguments.
# (jq would parse "-c" among --args as its own option.)
json_array() {
	python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"
}

cfg_args() {
	cfg --argjson a "$(json_array "$@")" '.process.args = $a'
}

# Run a shell command line in a container in the foreground.
run_sh() {
	cfg_args sh -c "$1"
	run berth run -b "$BUNDLE" "c-$BATS_TEST_NUMBER"
}

# Track a container id for teardown.
track() {
	CONTAINERS+=("$1")
}

# Create and start a container running `sleep 1000` (or given args).
start_sleeper() {
	local id=$1
	shift
	if [ $# -eq 0 ]; then set -- sleep 1000; fi
	cfg_args "$@"
	track "$id"
	berth create -b "$BUNDLE" "$id"
	berth start "$id"
}

container_pid() {
	berth state "$1" | jq -r .pid
}

status_of() {
	berth state "$1" | jq -r .status
}

# Wait until a container reaches a status (default 5 s).
wait_status() {
	local id=$1 want=$2 i
	for i in $(seq 1 100); do
		[ "$(status_of "$id" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.05
	done
	echo "container $id did not become $want (is $(status_of "$id"))" >&2
	return 1
}

# A user namespace's root is an unprivileged host uid: it must be able to
# reach the rootfs through bats' private (0700) temporary directories.
make_traversable() {
	local d=$1
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# Nothing of container $1 may remain: state, cgroups, processes, mounts.
assert_no_leftovers() {
	local id=$1 d
	[ ! -e "$ROOT/$id" ] || { echo "state directory $ROOT/$id left behind" >&2; return 1; }
	# The default cgroup of a container under a --root: berth/ID-HASH
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/pids /sys/fs/cgroup/memory \
		 /sys/fs/cgroup/cpu /sys/fs/cgroup/devices; do
		if compgen -G "$d/berth/$id-*" >/dev/null || [ -e "$d/berth/$id" ]; then
			echo "cgroup $d/berth/$id left behind" >&2
			return 1
		fi
	done
	if grep -q " $BUNDLE/" /proc/self/mountinfo; then
		echo "mounts under $BUNDLE left behind" >&2
		return 1
	fi
}

teardown_containers() {
	local id
	for id in "${CONTAINERS[@]}"; do
		"$BERTH" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
	# Containers a test made under the default root (--root not given).
	for id in "${DEFAULT_ROOT_IDS[@]}"; do
		"$BERTH" delete --force "$id" >/dev/null 2>&1 || true
	done
}

teardown() {
	teardown_containers
}

# Fail with the output shown (bats prints it on failure).
assert_success() {
	if [ "$status" -ne 0 ]; then
		echo "expected success, got status $status: $output" >&2
		return 1
	fi
}

assert_failure() {
	if [ "$status" -eq 0 ]; then
		echo "expected failure, got success: $output" >&2
		return 1
	fi
}

assert_output_contains() {
	if [[ "$output" != *"$1"* ]]; then
		echo "expected output to contain [$1], got: $output" >&2
		return 1
	fi
}

# The hierarchy where cgroup v2 is mounted (pure v2 or hybrid).
cgroup2_root() {
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

# A throwaway user NAME with a home and a 65536-id range in /etc/subuid and
# /etc/subgid: useradd's, or one from a block nobody uses. Prints the
# range's first id.
add_user_with_subids() {
	local user=$1 uid sub
	useradd -m -s /bin/sh "$user" || return 1
	uid=$(id -u "$user")
	sub=$(awk -F: -v u="$user" '$1 == u { print $2 }' /etc/subuid)
	if [ -z "$sub" ]; then
		sub=$((1000000 + (uid % 1000) * 65536))
		usermod --add-subuids "$sub-$((sub + 65535))" --add-subgids "$sub-$((sub + 65535))" "$user"
	fi
	echo "$sub"
}
