#!/bin/bash
# bench/vm-boot.sh: `berth run --vm` of /bin/true against the floor: bare
# qemu booting the same kernel (same machine, accelerator and memory) to a
# static init that powers off. One hyperfine run; then peak RSS beside a
# container's. Target: berth within 10% of the floor.
#   bench/vm-boot.sh [RUNS]   (BERTH=path/to/berth)
set -eu
runs=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
berth=${BERTH:-$repo/build/berth}
example=${EXAMPLE:-$repo/build/example}
work=$(mktemp -d /tmp/berth-vm-bench.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
for tool in hyperfine qemu-system-x86_64 gcc cpio; do
	command -v $tool >/dev/null || { echo "vm-boot: $tool missing (make deps)" >&2; exit 2; }
done

# The bundle: the example running /bin/true, with the default 256 MiB guest.
mkdir -p "$work/bundle"
cp -a "$example/rootfs" "$work/bundle/rootfs"
jq '.process.args = ["/bin/true"] | del(.linux.resources.memory)' "$example/config.json" \
	> "$work/bundle/config.json"
root=$work/state

# One VM first: extracts and caches the kernel, packs the initramfs, probes
# KVM; its debug log names the kernel, the accelerator and qemu's flags.
"$berth" --root "$root" --debug run --vm -b "$work/bundle" warmup 2> "$work/warmup.log" >/dev/null
qemu_line=$(sed -n 's/^berth: vm: \(qemu-system-x86_64 .*\)$/\1/p' "$work/warmup.log")
accel_label=$(sed -n 's/.*created in [0-9]* ms on \(.*\)$/\1/p' "$work/warmup.log")
vmlinux=$(echo "$qemu_line" | sed -n 's/.* -kernel \([^ ]*\) .*/\1/p')
accel=$(echo "$qemu_line" | sed -n 's/.* -accel \([^ ]*\) .*/\1/p')
cpu=$(echo "$qemu_line" | sed -n 's/.* -cpu \([^ ]*\) .*/\1/p')
machine=$(echo "$qemu_line" | sed -n 's/.* -M \([^ ]*\) .*/\1/p')
append=$(echo "$qemu_line" | sed -n 's/.* -append \(.*\) -serial .*/\1/p')
[ -n "$vmlinux" ] && [ -n "$accel" ] || { echo "vm-boot: no qemu command line in the debug log" >&2; cat "$work/warmup.log" >&2; exit 1; }

# The floor's init: sync and power off, nothing else.
cat > "$work/poweroff.c" <<'C'
#include <sys/reboot.h>
#include <unistd.h>
int main(void) { sync(); reboot(RB_POWER_OFF); return 0; }
C
mkdir -p "$work/initramfs"
gcc -static -O2 -o "$work/initramfs/init" "$work/poweroff.c"
(cd "$work/initramfs" && echo init | cpio -o -H newc --quiet > "$work/floor.cpio")

floor="qemu-system-x86_64 -M $machine -accel $accel -cpu $cpu -m 256M -smp 1 -nodefaults \
-no-user-config -no-reboot -display none -kernel $vmlinux -initrd $work/floor.cpio \
-append '$append' -serial file:$work/floor.log"
vm="$berth --root $root run --vm -b $work/bundle bench-\$RANDOM"
container="$berth --root $root run -b $work/bundle bench-\$RANDOM"

echo "accelerator: $accel_label"
echo "kernel: $vmlinux"
hyperfine --runs "$runs" --warmup 1 --export-json "$work/result.json" \
	-n "floor: bare qemu, static init that powers off ($accel_label)" "$floor" \
	-n "berth run --vm /bin/true ($accel_label)" "$vm" \
	-n "berth run /bin/true (container)" "$container"

jq -r '.results | (.[0].mean) as $floor | .[] |
	"\(.command): mean \(.mean * 1000 | floor) ms, \((.mean / $floor * 100 - 100) * 10 | round / 10)% over the floor"' \
	"$work/result.json"

peak_rss() { # COMMAND... -> KiB of the largest process
	/usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1 || true
	cat "$work/rss"
}
f_rss=$(peak_rss sh -c "$floor")
v_rss=$(peak_rss "$berth" --root "$root" run --vm -b "$work/bundle" rss-vm)
c_rss=$(peak_rss "$berth" --root "$root" run -b "$work/bundle" rss-c)
echo
printf '%-44s %10s\n' "peak RSS (largest process)" "MiB"
printf '%-44s %10d\n' "floor: bare qemu ($accel_label)" $((f_rss / 1024))
printf '%-44s %10d\n' "berth run --vm ($accel_label): qemu" $((v_rss / 1024))
printf '%-44s %10d\n' "berth run (container)" $((c_rss / 1024))
