#!/bin/bash
# bench/unpack.sh: image unpacking speed, in one hyperfine run per question:
#  1. `berth image unpack` vs `umoci unpack` vs the floor `tar -xzf` of the
#     same gzip layer, on a synthesized ~200 MB image (real files from /usr);
#  2. the same image into the layer store (cold: every layer unpacked);
#  3. `berth run --image` of a stored image vs `berth run` of a plain bundle.
#   bench/unpack.sh [--runs N] [--size MB] [--berth PATH] [--markdown FILE] [--dir DIR]
#                   [--image-only]   (build the images, keep them, print where)
#                   [--stages 123]   (which of the three questions to run)
# --dir: where the image and the unpacked trees go (default /var/tmp: disk;
# /dev/shm shows the CPU side). The state root is a tmpfs under /run, as
# /run/berth is in production.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
berth=$here/build/berth runs=5 size=200 markdown="" dir=${TMPDIR:-/var/tmp} only=
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--berth) berth=$2; shift 2 ;;
	--markdown) markdown=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--image-only) only=image; shift ;;
	--stages) stages=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--size MB] [--berth PATH] [--markdown FILE] [--dir DIR]" >&2; exit 2 ;;
	esac
done
for tool in hyperfine umoci tar gzip jq; do
	command -v "$tool" >/dev/null || { echo "unpack.sh: $tool missing (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "unpack.sh: run as root" >&2; exit 1; }

work=$(mktemp -d "$dir/berth-unpack-bench.XXXXXX")
state=$(mktemp -d /run/berth-unpack-bench.XXXXXX)
cleanup() {
	local d
	for d in "$work" "$state"; do
		if [ -n "$(findmnt -R -n -o TARGET "$d" 2>/dev/null | tail -n +2)" ]; then
			echo "mounts left under $d: not removed" >&2
			continue
		fi
		rm -rf --one-file-system "$d"
	done
}
trap cleanup EXIT

# ---- the image: one gzip layer of real files, about $size MB unpacked ----
echo "building a ${size} MB image in $work ..." >&2
mkdir -p "$work/tree"
python3 - "$work/tree" "$size" <<'EOF2'
import os, shutil, sys, zlib
dest, limit = sys.argv[1], int(sys.argv[2]) << 20
total = 0
for top in ("/usr/lib", "/usr/share", "/usr/bin", "/usr/libexec"):
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            src = os.path.join(root, f)
            if not os.path.isfile(src) or os.path.islink(src):
                continue
            size = os.path.getsize(src)
            # A root filesystem's mix: many small files, few large ones.
            if size > (2 << 20) or total + size > limit:
                continue
            # Four parts (the layers of the multi-layer image), by directory.
            part = zlib.crc32(root.encode()) % 4
            dst = os.path.join(dest, str(part), src.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            try:
                shutil.copy2(src, dst)
            except OSError:
                continue
            total += size
print(f"{total >> 20} MB", file=sys.stderr)
EOF2
# A static busybox so that run --image has something to start.
mkdir -p "$work/tree/0/bin" && cp /bin/busybox "$work/tree/0/bin/busybox" && ln -s busybox "$work/tree/0/bin/true"
for p in 0 1 2 3; do
	tar -C "$work/tree/$p" -cf "$work/part$p.tar" .
done
tar -cf "$work/layer.tar" -C "$work/tree/0" . -C "$work/tree/1" . -C "$work/tree/2" . -C "$work/tree/3" .
umoci init --layout "$work/layout" >/dev/null
umoci new --image "$work/layout:big" >/dev/null
umoci raw add-layer --image "$work/layout:big" "$work/layer.tar" >/dev/null
umoci new --image "$work/layout:big4" >/dev/null
for p in 0 1 2 3; do
	umoci raw add-layer --image "$work/layout:big4" "$work/part$p.tar" >/dev/null
done
rm -rf --one-file-system "$work/tree" "$work"/*.tar
manifest=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "big") | .digest' "$work/layout/index.json" | cut -d: -f2)
layer=$work/layout/blobs/sha256/$(jq -r '.layers[0].digest' "$work/layout/blobs/sha256/$manifest" | cut -d: -f2)
echo "layer: $(du -m "$layer" | cut -f1) MB gzip, files: $(tar -tzf "$layer" | wc -l)" >&2

if [ "$only" = image ]; then
	trap - EXIT
	echo "$work/layout (tags big, big4); state root $state" >&2
	exit 0
fi

md() { [ -n "$markdown" ] && echo "--export-markdown=$markdown.$1" || true; }

# ---- 1. unpack into a directory ----
if [[ $stages == *1* ]]; then
prep="rm -rf --one-file-system $work/out && sync"
hyperfine --runs "$runs" --warmup 1 -N --prepare "sh -c '$prep && mkdir -p $work/out'" $(md unpack) \
	-n "tar -xzf (floor)" "tar -xzf $layer -C $work/out" \
	-n "berth image unpack" "$berth image unpack --quiet $work/layout:big $work/out/bundle" \
	-n "umoci unpack" "umoci unpack --image $work/layout:big $work/out/bundle"
fi

# ---- 2. into the layer store (every run cold): one layer, and the same
# files as four layers unpacked two at a time ----
store=$work/store
if [[ $stages == *2* ]]; then
hyperfine --runs "$runs" --warmup 1 -N $(md store) \
	--prepare "sh -c 'rm -rf --one-file-system $store'" \
	-n "run --image, cold store, 1 layer" \
	"unshare -m --propagation private $berth --root $state run --quiet --store $store --image $work/layout:big --name cold -- /bin/true" \
	-n "run --image, cold store, 4 layers" \
	"unshare -m --propagation private $berth --root $state run --quiet --store $store --image $work/layout:big4 --name cold -- /bin/true"
fi

# ---- 3. a stored image against a plain bundle ----
# The same small busybox image both ways: `image unpack` makes the plain
# bundle, so config.json and rootfs are exactly what run --image assembles.
[[ $stages == *3* ]] || exit 0
"$here/tests/fixtures/make-images.sh" --example "$work/small-layout" >/dev/null
"$berth" image unpack --quiet "$work/small-layout" "$work/small"
jq '.process.args = ["/bin/true"]' "$work/small/config.json" > "$work/small/c" &&
	mv "$work/small/c" "$work/small/config.json"
"$berth" --root "$state" run --quiet --store "$store" --image "$work/small-layout" \
	--name warm -- /bin/true
plain="unshare -m --propagation private $berth --root $state run -b $work/small r1"
image="unshare -m --propagation private $berth --root $state run --store $store --image $work/small-layout --name r2 -- /bin/true"
image_store="unshare -m --propagation private $berth --root $state run --store $store --writable-layer store --image $work/small-layout --name r3 -- /bin/true"
hyperfine --runs $((runs * 20)) --warmup 5 -N $(md run) \
	-n "berth run (plain bundle)" "$plain" \
	-n "berth run --image (stored)" "$image" \
	-n "berth run --image --writable-layer store" "$image_store"
# The same, interleaved (A B C A B C ...), so that the machine's drift
# during the run cannot favour one of them; medians and their ratio.
python3 - $((runs * 40)) "$plain" "$image" "$image_store" <<'EOF2'
import random, statistics, subprocess, sys, time
n, cmds = int(sys.argv[1]), [c.split() for c in sys.argv[2:]]
names = ["run (plain bundle)", "run --image (stored)", "run --image --writable-layer store"]
times = [[] for _ in cmds]
for _ in range(n):
    order = list(range(len(cmds)))
    random.shuffle(order)
    for k in order:
        t = time.perf_counter()
        subprocess.run(cmds[k], check=True, stdout=subprocess.DEVNULL)
        times[k].append(time.perf_counter() - t)
base = statistics.median(times[0])
print(f"\ninterleaved, {n} runs each: median (p25), ratio to the plain bundle")
for name, t in zip(names, times):
    t.sort()
    m = statistics.median(t)
    print(f"  {name:36s} {m*1e3:6.2f} ms ({t[len(t)//4]*1e3:6.2f})  x{m/base:.3f}")
EOF2
