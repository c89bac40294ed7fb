#!/usr/bin/env bats
# tests/image.bats: images into bundles (OCI layout, oci-archive,
# docker-archive) checked against umoci's unpack of the same image, hostile
# layers, the layer store and run --image.

load helpers
bats_require_minimum_version 1.5.0

TOOL=$TESTS_DIR/fixtures/image-tool.py

setup_file() {
	export FIX=$BATS_FILE_TMPDIR/images CANARY=$BATS_FILE_TMPDIR/canary
	"$TESTS_DIR/fixtures/make-images.sh" "$FIX" >/dev/null 2>&1
	mkdir -p "$CANARY"
	echo "the canary" > "$CANARY/canary"
	python3 "$TOOL" hostile "$FIX/hostile" "$CANARY"
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/state
	STORE=$BATS_TEST_TMPDIR/store
	L=$FIX/layout
	# assert_no_leftovers looks for mounts under $BUNDLE: run --image bundles.
	BUNDLE=$ROOT/.image-bundles
	CONTAINERS=()
}

tree() {
	python3 "$TOOL" tree "$1"
}

# The tree berth unpacks equals umoci's unpack of REF (of UMOCI_REF if given).
assert_same_as_umoci() { # REF [UMOCI_REF]
	local ours=$BATS_TEST_TMPDIR/berth theirs=$BATS_TEST_TMPDIR/umoci
	rm -rf --one-file-system "$ours" "$theirs"
	berth image unpack --quiet "$1" "$ours"
	umoci unpack --image "${2:-$1}" "$theirs" >/dev/null
	tree "$ours/rootfs" > "$BATS_TEST_TMPDIR/berth.tree"
	tree "$theirs/rootfs" > "$BATS_TEST_TMPDIR/umoci.tree"
	diff -u "$BATS_TEST_TMPDIR/umoci.tree" "$BATS_TEST_TMPDIR/berth.tree"
}

canary_untouched() {
	[ "$(cat "$CANARY/canary")" = "the canary" ]
	[ "$(ls -A "$CANARY")" = canary ]
}

# Nothing but the state root and the named paths in the test's directory.
only_in_tmpdir() {
	local extra
	extra=$(ls -A "$BATS_TEST_TMPDIR" | grep -vxF -e state -e store "${@/#/-e}" || true)
	[ -z "$extra" ] || { echo "unexpected files: $extra" >&2; return 1; }
}

layer_dirs() {
	jq -r '.layers[]' "$STORE"/images/*.json
}

# ---- listing and inspecting ----

@test "image ls lists the tags of a layout" {
	run berth image ls "$L"
	assert_success
	for t in base multi multi-mixed multiarch configured; do
		assert_output_contains "$t "
	done
	run berth image ls --format json "$L"
	assert_success
	[ "$(jq -r '.[] | select(.name == "multi") | .digest' <<<"$output")" = \
		"$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "multi") | .digest' "$L/index.json")" ]
}

@test "image ls of a docker-archive shows its RepoTags" {
	run berth image ls "$FIX/multi.docker.tar"
	assert_success
	assert_output_contains "berth/multi:latest"
}

@test "image inspect summarises manifest, platform, config and layers" {
	run berth image inspect "$L:configured"
	assert_success
	[ "$(jq -r .format <<<"$output")" = oci-layout ]
	[ "$(jq -r .platform.architecture <<<"$output")" = amd64 ]
	[ "$(jq -r .config.User <<<"$output")" = berth:users ]
	[ "$(jq -r .config.StopSignal <<<"$output")" = SIGUSR1 ]
	[ "$(jq -r '.config.Entrypoint | join(" ")' <<<"$output")" = "/bin/sh -c" ]
	run berth image inspect "$L:multi-mixed"
	assert_success
	[ "$(jq -r '[.layers[].compression] | join(",")' <<<"$output")" = gzip,zstd,none ]
}

@test "image inspect fails clearly on an unknown tag and a missing path" {
	run berth image inspect "$L:nope"
	assert_failure
	assert_output_contains 'no image tagged "nope"'
	assert_output_contains "tags: "
	run berth image inspect "$BATS_TEST_TMPDIR/missing:tag"
	assert_failure
	assert_output_contains "no such layout or archive"
}

# ---- unpacking, against umoci ----

@test "multi-layer unpack matches umoci: whiteouts, opaque dirs, replacements, links, devices, modes, owners, xattrs" {
	assert_same_as_umoci "$L:multi"
	r=$BATS_TEST_TMPDIR/berth/rootfs
	[ ! -e "$r/etc/hostname" ]                          # whiteout
	[ ! -e "$r/home/berth" ]                            # directory whiteout
	[ -d "$r/etc/replace-me-file" ]                     # file replaced by a directory
	[ -L "$r/var/replace-me-dir" ]                      # directory replaced by a symlink
	[ -f "$r/var/replace-me-dir2" ]                     # directory replaced by a file
	[ "$(ls "$r/opt/opaque")" = new ]                   # opaque directory
	[ ! -e "$r/opt/keep" ] && [ ! -e "$r/opt/wh/x" ] && [ -e "$r/opt/wh/y" ]
	[ -e "$r/opt/wh/z" ]                                # a whiteout does not hide its own layer
	[ "$(stat -c %h "$r/opt/hl/a")" = 3 ]               # hard links
	[ "$(stat -c %t:%T "$r/opt/dev/null")" = 1:3 ]      # devices
	[ -p "$r/opt/dev/fifo" ]
	[ "$(stat -c %a "$r/opt/modes/suid")" = 4755 ]
	[ "$(stat -c %a "$r/opt/modes/sticky")" = 1777 ]
	[ "$(stat -c %a "$r/opt/modes/sgid-dir")" = 2750 ]
	[ "$(stat -c %u:%g "$r/opt/own/user")" = 1000:1000 ]
	python3 -c 'import os, sys; sys.exit(0 if os.getxattr(sys.argv[1], "security.capability") else 1)' "$r/opt/cap"
	[ -n "$(find "$r/etc" -name 'caf*')" ]              # a UTF-8 name
	[ -n "$(find "$r/etc" -name 'mmmmmmmmmm*')" ]       # a 200-character name
}

@test "gzip, zstd and plain layers unpack to the same tree" {
	# umoci 0.4 has no zstd: compare with its unpack of the gzip image.
	assert_same_as_umoci "$L:multi-mixed" "$L:multi"
}

@test "oci-archive and docker-archive unpack to the same tree as the layout" {
	assert_same_as_umoci "$FIX/multi.oci.tar" "$L:multi"
	assert_same_as_umoci "$FIX/multi.docker.tar" "$L:multi"
	assert_same_as_umoci "$FIX/multi.docker.tar:berth/multi:latest" "$L:multi"
	# docker-archive layers carry no media type: gzip and zstd are sniffed.
	assert_same_as_umoci "$FIX/multi-compressed.docker.tar" "$L:multi"
}

@test "a nested multi-platform index picks linux/amd64" {
	run berth image inspect "$L:multiarch"
	assert_success
	[ "$(jq -r .manifest.digest <<<"$output")" = "$(berth image inspect "$L:multi" | jq -r .manifest.digest)" ]
	assert_same_as_umoci "$L:multiarch" "$L:multi"
}

@test "a reference by digest" {
	digest=$(berth image inspect "$L:multi" | jq -r .manifest.digest)
	assert_same_as_umoci "$L@$digest" "$L:multi"
}

@test "config.json comes from the image config on top of berth's defaults" {
	berth image unpack --quiet "$L:configured" "$BATS_TEST_TMPDIR/b"
	c=$BATS_TEST_TMPDIR/b/config.json
	[ "$(jq -c .process.args "$c")" = '["/bin/sh","-c","echo $GREETING; id; pwd"]' ]
	[ "$(jq -r .process.cwd "$c")" = /home/berth ]
	[ "$(jq -c .process.user "$c")" = '{"uid":1000,"gid":100}' ]
	jq -e '.process.env | index("GREETING=hello-from-buildah")' "$c"
	jq -e '.process.env | index("HOME=/home/berth")' "$c"
	jq -e '.process.env | map(startswith("PATH=")) | any' "$c"
	[ "$(jq -r '.annotations["org.example.role"]' "$c")" = fixture ]
	[ "$(jq -r '.annotations["org.opencontainers.image.stopSignal"]' "$c")" = SIGUSR1 ]
	[ "$(jq -r .root.readonly "$c")" = false ]
	# berth's defaults stay: namespaces, masked paths, capabilities.
	[ "$(jq -r '.linux.namespaces | length' "$c")" -ge 5 ]
	jq -e '.linux.maskedPaths | index("/proc/kcore")' "$c"
}

@test "the unpacked bundle runs, as the image's user in its working directory" {
	berth image unpack --quiet "$FIX/configured.docker.tar:berth/configured:v1" "$BATS_TEST_TMPDIR/b"
	run berth run -b "$BATS_TEST_TMPDIR/b" c1
	assert_success
	assert_output_contains hello-from-buildah
	assert_output_contains "uid=1000(berth) gid=100(users)"
	assert_output_contains /home/berth
}

@test "unpack refuses a bundle that already has a rootfs, and changes nothing" {
	mkdir -p "$BATS_TEST_TMPDIR/b/rootfs"
	touch "$BATS_TEST_TMPDIR/b/rootfs/mine"
	run berth image unpack --quiet "$L:base" "$BATS_TEST_TMPDIR/b"
	assert_failure
	assert_output_contains "already has a rootfs"
	[ "$(ls -A "$BATS_TEST_TMPDIR/b")" = rootfs ]
	[ "$(ls -A "$BATS_TEST_TMPDIR/b/rootfs")" = mine ]
}

@test "a missing library is named with its package" {
	lib=$(ldconfig -p | awk '/libarchive.so.13 / { print $NF; exit }')
	[ -n "$lib" ] || skip "libarchive.so.13 not in the linker cache"
	run unshare -m sh -c "mount --bind /dev/null '$lib' && '$BERTH' image unpack '$L:base' '$BATS_TEST_TMPDIR/b'"
	assert_failure
	assert_output_contains "libarchive.so.13 not found: install libarchive13"
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

# ---- hostile images: an error or a contained result, never a write outside ----

hostile_unpack() { # CASE [berth image unpack options]
	local c=$1
	shift
	run berth image unpack --quiet "$@" "$FIX/hostile/$c" "$BATS_TEST_TMPDIR/b"
	canary_untouched
}

@test "hostile: path traversal stays inside the rootfs" {
	hostile_unpack traversal
	assert_success
	rel=${CANARY#/}
	[ "$(cat "$BATS_TEST_TMPDIR/b/rootfs/$rel/canary")" = pwned ]
	[ -e "$BATS_TEST_TMPDIR/b/rootfs/$rel/canary-abs" ]
	only_in_tmpdir b
}

@test "hostile: a symlink to the host planted by an earlier layer is not followed out" {
	hostile_unpack symlink-escape
	assert_failure
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
	only_in_tmpdir
}

@test "hostile: hard links resolve inside the root and writes never go through them" {
	hostile_unpack hardlink-escape
	assert_failure
	assert_output_contains 'hard link "h2"'
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "hostile: whiteouts through a planted symlink delete nothing outside" {
	hostile_unpack whiteout-escape
	assert_success
	only_in_tmpdir b
}

@test "hostile: a whiteout that names no file is an error" {
	hostile_unpack whiteout-dotdot
	assert_failure
	assert_output_contains "invalid whiteout"
}

@test "hostile: a digest mismatch names the blob and leaves nothing behind" {
	hostile_unpack digest-mismatch
	assert_failure
	assert_output_contains "digest mismatch"
	assert_output_contains "layer sha256:"
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "hostile: a truncated layer is an error and leaves nothing behind" {
	hostile_unpack truncated
	assert_failure
	assert_output_contains "truncated"
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "hostile: a decompression bomb hits --max-bytes" {
	hostile_unpack bomb-bytes --max-bytes 64M
	assert_failure
	assert_output_contains "more than 67108864 bytes"
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "hostile: an entry bomb hits --max-entries" {
	hostile_unpack bomb-entries --max-entries 1000
	assert_failure
	assert_output_contains "more than 1000 entries"
	[ ! -e "$BATS_TEST_TMPDIR/b" ]
}

@test "hostile: a digest that is a path is refused before any file is opened" {
	hostile_unpack bad-digest
	assert_failure
	assert_output_contains "invalid digest"
}

@test "hostile: the store contains a symlink escape too, and cleans its temporary layer" {
	run berth run --quiet --store "$STORE" --image "$FIX/hostile/symlink-escape" --name h1 -- true
	assert_failure
	canary_untouched
	[ -z "$(ls -A "$STORE/tmp")" ]
	[ ! -e "$ROOT/h1" ]
}

# ---- rootless ----

@test "rootless unpack: owners in user.rootlesscontainers, devices skipped" {
	work=$BATS_TEST_TMPDIR/rootless
	mkdir -p "$work"
	cp -a "$L" "$work/layout"
	chmod -R o+rX "$work/layout"
	chmod o+rwx "$work"
	make_traversable "$work"
	run setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work" \
		"$BERTH" image unpack --quiet "$work/layout:multi" "$work/b"
	assert_success
	assert_output_contains "device nodes are skipped"
	r=$work/b/rootfs
	[ "$(stat -c %u "$r/opt/own/user")" = 65534 ]
	[ "$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.rootlesscontainers").hex())' "$r/opt/own/user")" = 08e80710e807 ]
	[ "$(stat -c %a "$r/opt/modes/suid")" = 4755 ]
	[ "$(stat -c %a "$r/opt/modes/readonly-dir")" = 500 ]
	[ ! -e "$r/opt/dev/null" ] && [ -p "$r/opt/dev/fifo" ]
}

# ---- the store and run --image ----

@test "run --image runs the image's command and leaves nothing behind" {
	run berth run --quiet --store "$STORE" --image "$L:base" --name r1
	assert_success
	[ "$output" = "hello from the image" ]
	assert_no_leftovers r1
	[ ! -e "$ROOT/.image-bundles/r1" ]
	! grep -q overlay /proc/self/mountinfo
}

@test "run --image -- CMD replaces Cmd and keeps the Entrypoint" {
	run berth run --quiet --store "$STORE" --image "$L:configured" --name r1 -- 'echo custom; id -u'
	assert_success
	[ "$output" = "$(printf 'custom\n1000')" ]
}

@test "run --image: the root is writable and the writes go with the container" {
	run berth run --quiet --store "$STORE" --image "$L:base" --name r1 -- sh -c 'echo x > /etc/new && cat /etc/new'
	assert_success
	[ "$output" = x ]
	for d in $(layer_dirs); do [ ! -e "$STORE/$d/etc/new" ]; done
	run berth run --quiet --store "$STORE" --image "$L:base" --name r2 -- cat /etc/new
	assert_failure
}

@test "run --image a second time unpacks nothing and loads neither libarchive nor libcrypto" {
	berth run --quiet --store "$STORE" --image "$L:multi" --name r1 -- true
	before=$(for d in $(layer_dirs); do stat -c %i "$STORE/$d"; done)
	run env LD_DEBUG=files "$BERTH" --root "$ROOT" --debug run --quiet --store "$STORE" --image "$L:multi" --name r2 -- true
	assert_success
	assert_output_contains "from the store's record"
	[[ "$output" != *"unpacking layer"* ]]
	[[ "$output" != *"file=libarchive"* ]]
	[[ "$output" != *"file=libcrypto"* ]]
	[ "$(for d in $(layer_dirs); do stat -c %i "$STORE/$d"; done)" = "$before" ]
}

@test "run --image -d, then delete removes the generated bundle" {
	track d1
	# Not `run`: the container would hold its output pipe open.
	berth run -d --quiet --store "$STORE" --image "$L:base" --name d1 -- sleep 100 \
		>"$BATS_TEST_TMPDIR/out" 2>&1
	[ "$(status_of d1)" = running ]
	[ -d "$ROOT/.image-bundles/d1" ]
	berth delete --force d1
	assert_no_leftovers d1
	[ ! -e "$ROOT/.image-bundles/d1" ]
}

@test "run --image -d without --name prints the generated id" {
	berth run -d --quiet --store "$STORE" --image "$L:base" -- sleep 100 >"$BATS_TEST_TMPDIR/out" 2>&1
	id=$(cat "$BATS_TEST_TMPDIR/out")
	[[ "$id" =~ ^berth-[0-9a-f]{12}$ ]]
	track "$id"
	[ "$(status_of "$id")" = running ]
	berth delete --force "$id"
}

@test "run --image --writable-layer store keeps the upper layer under the store until delete" {
	track s1
	berth run -d --quiet --store "$STORE" --writable-layer store --image "$L:base" --name s1 -- \
		sh -c 'echo data > /written; sleep 100' >"$BATS_TEST_TMPDIR/out" 2>&1
	for i in $(seq 50); do [ -e "$STORE/containers/s1/upper/written" ] && break; sleep 0.1; done
	[ "$(cat "$STORE/containers/s1/upper/written")" = data ]
	berth delete --force s1
	[ ! -e "$STORE/containers/s1" ]
	assert_no_leftovers s1
}

@test "store layers are in overlayfs form and their union equals umoci's unpack" {
	berth run --quiet --store "$STORE" --image "$L:multi" --name r1 -- true
	top=$STORE/$(layer_dirs | tail -1)
	mid=$STORE/$(layer_dirs | sed -n 2p)
	[ "$(stat -c %F:%t:%T "$mid/etc/hostname")" = "character special file:0:0" ]
	[ "$(getfattr --only-values -n trusted.overlay.opaque "$top/opt/opaque" 2>/dev/null ||
	     python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())' "$top/opt/opaque")" = y ]
	lowers=$(jq -r '.layers | reverse | map("'"$STORE"'/" + .) | join(":")' "$STORE"/images/*.json)
	mkdir "$BATS_TEST_TMPDIR/union"
	unshare -m --propagation private sh -c \
		"mount -t overlay overlay -o ro,lowerdir=$lowers '$BATS_TEST_TMPDIR/union' &&
		 python3 '$TOOL' tree '$BATS_TEST_TMPDIR/union'" > "$BATS_TEST_TMPDIR/union.tree"
	umoci unpack --image "$L:multi" "$BATS_TEST_TMPDIR/umoci" >/dev/null
	tree "$BATS_TEST_TMPDIR/umoci/rootfs" > "$BATS_TEST_TMPDIR/umoci.tree"
	diff -u "$BATS_TEST_TMPDIR/umoci.tree" "$BATS_TEST_TMPDIR/union.tree"
}

@test "two berths unpacking the same image into one store do not corrupt it" {
	"$BERTH" --root "$ROOT" run --quiet --store "$STORE" --image "$L:multi" --name p1 -- true &
	a=$!
	"$BERTH" --root "$ROOT" run --quiet --store "$STORE" --image "$FIX/multi.docker.tar" --name p2 -- true &
	b=$!
	wait "$a"
	wait "$b"
	[ -z "$(ls -A "$STORE/tmp")" ]
	[ "$(ls "$STORE/layers/sha256" | wc -l)" = 3 ]
	run berth run --quiet --store "$STORE" --image "$L:multi" --name p3 -- cat /opt/opaque/new
	assert_success
	[ "$output" = "added in layer 3" ]
}

@test "progress: a bar per layer on a terminal, nothing otherwise" {
	command -v script >/dev/null || skip "script(1) missing"
	run script -qec "'$BERTH' image unpack '$L:multi' '$BATS_TEST_TMPDIR/t'" /dev/null
	assert_success
	assert_output_contains "layer 3/3"
	assert_output_contains "files"
	run berth image unpack "$L:multi" "$BATS_TEST_TMPDIR/n"
	assert_success
	[ -z "$output" ]
	run script -qec "'$BERTH' image unpack --quiet '$L:multi' '$BATS_TEST_TMPDIR/q'" /dev/null
	assert_success
	[ -z "$output" ]
}
