#!/bin/bash
# bench/startup-rootless.sh: rootless `run` of a /bin/true container by an
# unprivileged user: berth against crun and runc, and a floor of unshare +
# chroot, in one hyperfine run; then peak RSS.
#   bench/startup-rootless.sh [--runs N] [--berth PATH] [--markdown FILE]
# Run as root: it creates a throwaway user (removed at the end) and runs
# everything as that user, with the config of `berth spec --rootless`.
#
# crun 1.8 refuses hybrid cgroup hosts even rootless and with
# --cgroup-manager=disabled, and an unprivileged user cannot hide the v2
# mount from it without a user namespace. So every command runs the same
# way: a user namespace mapping the user as root, a mount namespace where a
# tmpfs covers the cgroup2 mount, then a nested user namespace that maps the
# user as itself again, where the runtime (rootless, euid = the user) runs.
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
for tool in hyperfine crun /usr/sbin/runc /usr/bin/time useradd runuser; do
	command -v "$tool" >/dev/null || { echo "startup-rootless.sh: $tool missing (make deps)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "startup-rootless.sh: run as root (it creates a throwaway user)" >&2; exit 1; }
v2=$(findmnt -n -t cgroup2 -o TARGET | head -n1)

user=berthbench$$
useradd -m -s /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user") gid=$(id -g "$user")
cleanup() {
	userdel -r "$user" 2>/dev/null || true
	findmnt -R "/tmp/berth-$uid" >/dev/null 2>&1 || rm -rf --one-file-system "/tmp/berth-$uid"
}
trap cleanup EXIT
as_user() {
	runuser -u "$user" -- env -i HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# berth and its build live under /work or a home the user may not read:
# the user gets its own copy of the binary.
install -m 0755 "$berth" "$home/berth"
"$here/tests/fixtures/make-rootfs.sh" "$home/bundle/rootfs" >/dev/null
chown -R "$user:" "$home/bundle"
as_user "$home/berth" spec --rootless --bundle "$home/bundle"
# "1.0.2": crun 1.8 rejects an ociVersion without "1.0" in it.
as_user sh -c "jq '.ociVersion = \"1.0.2\" | .process.terminal = false | .process.args = [\"/bin/true\"]' \
	$home/bundle/config.json > $home/config.json && mv $home/config.json $home/bundle/config.json"
as_user mkdir -p "$home/berth-root" "$home/crun-root" "$home/runc-root"

wrap() { # the command line, run as the user in the namespaces described above
	echo "unshare -r -m sh -c 'mount -t tmpfs -o size=16m none $v2 && exec unshare --user --map-user=$uid --map-group=$gid $1'"
}
id='b$$'
cmd_berth=$(wrap "$home/berth --root $home/berth-root run -b $home/bundle $id")
cmd_crun=$(wrap "crun --root $home/crun-root run -b $home/bundle $id")
cmd_runc=$(wrap "/usr/sbin/runc --root $home/runc-root run -b $home/bundle $id")
cmd_floor=$(wrap "unshare -r -fpinu --mount chroot $home/bundle/rootfs /bin/true")

# Each runtime must work before it is timed.
for c in "$cmd_berth" "$cmd_crun" "$cmd_runc" "$cmd_floor"; do
	as_user sh -c "$c" || { echo "startup-rootless.sh: failed: $c" >&2; exit 1; }
done

hyperfine_args=(--warmup 10 --runs "$runs" -N)
[ -n "$markdown" ] && hyperfine_args+=(--export-markdown "$markdown") && touch "$markdown" &&
	chown "$user:" "$markdown"
as_user hyperfine "${hyperfine_args[@]}" \
	-n berth "$cmd_berth" -n crun "$cmd_crun" -n runc "$cmd_runc" -n "unshare+chroot" "$cmd_floor"

# Peak RSS (kB) of the runtime process and its reaped children, median of 20.
peak_rss() {
	for i in $(seq 20); do
		as_user /usr/bin/time -f %M sh -c "$1" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 10p
}
rss_berth=$(peak_rss "$(wrap "$home/berth --root $home/berth-root run -b $home/bundle r1")")
rss_crun=$(peak_rss "$(wrap "crun --root $home/crun-root run -b $home/bundle r1")")
rss_runc=$(peak_rss "$(wrap "/usr/sbin/runc --root $home/runc-root run -b $home/bundle r1")")
printf '\npeak RSS (median of 20, kB): berth %s, crun %s, runc %s\n' "$rss_berth" "$rss_crun" "$rss_runc"
[ -n "$markdown" ] && printf '\n| peak RSS (kB) | berth %s | crun %s | runc %s |\n' \
	"$rss_berth" "$rss_crun" "$rss_runc" >> "$markdown"
exit 0
