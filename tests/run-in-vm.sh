#!/bin/bash
# tests/run-in-vm.sh: run bats suites that need a pure cgroup v2 host inside a
# throwaway VM (berth run --vm: the host's Debian kernel with cgroup_no_v1=all,
# the host's / over 9p read-only under a tmpfs overlay, cgroup2 with every
# controller at /sys/fs/cgroup). Prints run-suites.sh's per-suite lines and,
# last, "N passed, N failed".
#   run-in-vm.sh [--memory SIZE] [--cpus N] SUITE.bats...
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
berth=${BERTH:-$repo/build/berth}
example=${EXAMPLE:-$repo/build/example}
memory=2G cpus=2
while [ $# -gt 0 ]; do
	case $1 in
	--memory) memory=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	*) break ;;
	esac
done
suites=()
for s in "$@"; do
	suites+=("$(cd "$(dirname "$s")" && pwd)/$(basename "$s")")
done
if [ ${#suites[@]} -eq 0 ]; then
	echo "run-in-vm: no suites given"
	echo "0 passed, 0 failed"
	exit 0
fi
command -v qemu-system-x86_64 >/dev/null || { echo "run-in-vm: qemu-system-x86_64 missing (make deps)" >&2; exit 2; }
[ -x "$berth" ] || { echo "run-in-vm: $berth missing (make)" >&2; exit 2; }

work=$(mktemp -d /tmp/berth-vm-tests.XXXXXX)
id=test-vm-$$
cleanup() {
	"$berth" --root "$work/state" delete --force "$id" >/dev/null 2>&1
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir -p "$work/bundle"

# Inside: root in the VM's own namespaces, the suites through run-suites.sh.
printf -v inner 'cd %q && tests/run-suites.sh --berth %q --example %q' "$repo" "$berth" "$example"
for s in "${suites[@]}"; do printf -v inner '%s %q' "$inner" "$s"; done

python3 - "$work/bundle/config.json" "$inner" "$repo" "$memory" <<'PY'
import json, sys
path, script, repo, memory = sys.argv[1:]
def m(dest, typ, opts=None, src=None):
    d = {"destination": dest, "type": typ, "source": src or typ}
    if opts: d["options"] = opts
    return d
config = {
    "ociVersion": "1.2.0",
    "root": {"path": "/", "readonly": False},
    "process": {
        "args": ["/bin/bash", "-c", script],
        "cwd": repo,
        "user": {"uid": 0, "gid": 0},
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root", "TERM=dumb", "LANG=C.UTF-8", "BERTH_IN_TEST_VM=1"],
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 65536, "hard": 65536}],
    },
    "mounts": [
        m("/proc", "proc"), m("/dev", "devtmpfs"),
        m("/dev/pts", "devpts", ["newinstance", "ptmxmode=0666", "mode=0620"]),
        m("/dev/shm", "tmpfs", ["mode=1777"]), m("/dev/mqueue", "mqueue"),
        m("/sys", "sysfs"), m("/sys/fs/cgroup", "cgroup2"),
        # The host's /run holds its runtime state; /tmp stays: the
        # checkout may live there, and the overlay keeps writes in the VM.
        m("/run", "tmpfs", ["mode=0755"]),
    ],
    "annotations": {
        "org.berth.vm.rootfs": "9p-overlay",
        "org.berth.vm.kernel-args": "cgroup_no_v1=all",
    },
    "linux": {"namespaces": []},
}
json.dump(config, open(path, "w"), indent=1)
PY

start=$(date +%s.%N)
out=$work/out
"$berth" --root "$work/state" run --vm --vm-memory "$memory" --vm-cpus "$cpus" \
	-b "$work/bundle" "$id" </dev/null | tee "$out"
rc=${PIPESTATUS[0]}
end=$(date +%s.%N)
echo "run-in-vm: VM and suites took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s (status $rc)"
# The VM's own failure (no summary line) counts as a failed suite.
if ! tail -n 3 "$out" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
	echo "run-in-vm: the VM did not report results (status $rc)"
	echo "0 passed, 1 failed"
	exit 1
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
echo "$summary"
exit $rc
