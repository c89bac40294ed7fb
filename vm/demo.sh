#!/bin/bash
# vm/demo.sh: `make demo`'s second half: the example bundle in a VM, then
# start-up time and memory of `true` as a container and as a VM, side by side.
#   vm/demo.sh [BUILD_DIR]
set -eu
build=${1:-build}
berth=$build/berth
root=$build/demo-state
bundle=$build/demo-vm-bundle

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "vm demo: qemu-system-x86_64 missing (make deps); skipped"
	exit 0
fi
echo
echo "== the same bundle in a VM (berth run --vm) =="
"$berth" --root "$root" run --vm --bundle "$build/example" "berth-demo-vm-$$"

# A copy of the example that runs `true`, for the timings.
rm -rf --one-file-system "$bundle"
mkdir -p "$bundle"
cp -a "$build/example/rootfs" "$bundle/rootfs"
jq '.process.args = ["true"]' "$build/example/config.json" > "$bundle/config.json"

measure() { # MODE-FLAGS... -> "seconds peak_kib"; berth's debug log in $log
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$berth" --root "$root" --debug run "$@" \
		--bundle "$bundle" "berth-demo-$RANDOM" >/dev/null 2>"$tmp/log"
	cat "$tmp/time"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read -r c_time c_rss < <(measure)
read -r v_time v_rss < <(measure --vm)
accel=$(sed -n 's/.*created in [0-9]* ms on \(.*\)$/\1/p' "$tmp/log")
echo
echo "== run of \`true\`: container vs VM (one run each; see bench/vm-boot.sh) =="
printf '%-32s %14s %18s\n' "" "start-up" "peak RSS"
printf '%-32s %12s s %14s MiB\n' "container (namespaces, cgroups)" "$c_time" "$((c_rss / 1024))"
printf '%-32s %12s s %14s MiB\n' "VM: ${accel:-TCG (emulated CPU)}" "$v_time" "$((v_rss / 1024))"
echo "(peak RSS: the largest process of the run: berth or the container's, qemu for the VM)"
rm -rf --one-file-system "$bundle"
