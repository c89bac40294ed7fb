#!/bin/bash
# bench/startup.sh: `run` of a /bin/true container, berth against crun and runc
# and against a floor of unshare + chroot, in one hyperfine run; then peak RSS.
#   bench/startup.sh [--runs N] [--berth PATH] [--markdown FILE]
# crun 1.8 refuses hybrid cgroup hosts, so every command runs in its own mount
# namespace and crun's also covers the v2 mount (ENVIRONMENT.md): the wrapper
# costs the same for all.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
berth=$here/build/berth runs=200 markdown=""
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--berth) berth=$2; shift 2 ;;
	--markdown) markdown=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--berth PATH] [--markdown FILE]" >&2; exit 2 ;;
	esac
done
for tool in hyperfine crun /usr/sbin/runc /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "startup.sh: $tool missing (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "startup.sh: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
	findmnt -R "$work" >/dev/null 2>&1 && { echo "mounts left under $work" >&2; return; }
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
"$here/tests/fixtures/make-rootfs.sh" "$work/bundle/rootfs"
# The example config with /bin/true; "1.0.2" because crun 1.8 rejects an
# ociVersion without "1.0" in it.
jq '.ociVersion = "1.0.2" | .process.args = ["/bin/true"]' "$here/config.json.example" \
	> "$work/bundle/config.json"
mkdir -p "$work/berth-root" "$work/crun-root" "$work/runc-root"

wrap() { # the command line run in a fresh mount namespace
	echo "unshare -m --propagation private sh -c '$1'"
}
cover_v2="mount -t tmpfs -o size=16m none /sys/fs/cgroup/unified &&"
id='b$$'
cmd_berth=$(wrap "$berth --root $work/berth-root run -b $work/bundle $id")
cmd_crun=$(wrap "$cover_v2 crun --root $work/crun-root run -b $work/bundle $id")
cmd_runc=$(wrap "/usr/sbin/runc --root $work/runc-root run -b $work/bundle $id")
cmd_floor=$(wrap "unshare -fpinu chroot $work/bundle/rootfs /bin/true")

hyperfine_args=(--warmup 10 --runs "$runs" -N)
[ -n "$markdown" ] && hyperfine_args+=(--export-markdown "$markdown")
hyperfine "${hyperfine_args[@]}" \
	-n berth "$cmd_berth" -n crun "$cmd_crun" -n runc "$cmd_runc" -n "unshare+chroot" "$cmd_floor"

# Peak RSS (kB) of the runtime process and its reaped children, median of 20.
peak_rss() {
	for i in $(seq 20); do
		/usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 10p
}
rss_berth=$(peak_rss "unshare -m --propagation private $berth --root $work/berth-root run -b $work/bundle r1")
rss_crun=$(peak_rss "unshare -m --propagation private sh -c '$cover_v2 exec crun --root $work/crun-root run -b $work/bundle r1'")
rss_runc=$(peak_rss "unshare -m --propagation private /usr/sbin/runc --root $work/runc-root run -b $work/bundle r1")
printf '\npeak RSS (median of 20, kB): berth %s, crun %s, runc %s\n' "$rss_berth" "$rss_crun" "$rss_runc"
[ -n "$markdown" ] && printf '\n| peak RSS (kB) | berth %s | crun %s | runc %s |\n' \
	"$rss_berth" "$rss_crun" "$rss_runc" >> "$markdown"
exit 0
