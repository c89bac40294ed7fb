#!/bin/bash
# tests/run-suites.sh: run berth's unit tests and bats suites, print each
# suite's result and, last, one line "N passed, N failed" summing them all.
#   run-suites.sh --berth PATH [--example DIR] [--unit "BIN..."]
#                 [--vm-suites "SUITE.bats..."] [SUITE.bats...]
# --vm-suites run inside the pure cgroup-v2 test VM (tests/run-in-vm.sh)
# instead of on this host.
set -u
here=$(cd "$(dirname "$0")" && pwd)
berth="" example="" unit="" vm_suites=""
while [ $# -gt 0 ]; do
	case $1 in
	--berth) berth=$2; shift 2 ;;
	--example) example=$2; shift 2 ;;
	--unit) unit=$2; shift 2 ;;
	--vm-suites) vm_suites=$2; shift 2 ;;
	*) break ;;
	esac
done
[ -n "$berth" ] || { echo "run-suites: --berth is required" >&2; exit 2; }
export BERTH=$berth
[ -n "$example" ] && export EXAMPLE=$example
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	mapfile -t suites < <(ls "$here"/*.bats)
fi
# What runs in the VM does not also run here.
for v in $vm_suites; do
	for i in "${!suites[@]}"; do
		[ "$(basename "${suites[$i]}")" = "$(basename "$v")" ] && unset 'suites[i]'
	done
done

total_pass=0 total_fail=0 total_skip=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# Count TAP lines of one run: ok, not ok, skips.
count() {
	local tap=$1 pass fail skip
	pass=$(grep -cE '^ok [0-9]+' "$tap" || true)
	skip=$(grep -cE '^ok [0-9]+ .*# ?skip' "$tap" || true)
	fail=$(grep -cE '^not ok [0-9]+' "$tap" || true)
	pass=$((pass - skip))
	echo "$pass $fail $skip"
}

report() {
	local name=$1 tap=$2 rc=$3 pass fail skip
	read -r pass fail skip < <(count "$tap")
	# A suite that died without a failing test line still failed.
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		echo "not ok - $name exited with status $rc" >> "$tap"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	printf '%-28s %4d passed, %d failed, %d skipped\n' "$name" "$pass" "$fail" "$skip"
	if [ "$fail" -gt 0 ]; then
		grep -A15 -E '^not ok' "$tap" | sed 's/^/    /'
	fi
}

for bin in $unit; do
	name=$(basename "$bin")
	tap=$results/$name.tap
	"$bin" > "$tap" 2>&1
	report "unit/$name" "$tap" $?
done

for suite in "${suites[@]}"; do
	name=$(basename "$suite" .bats)
	tap=$results/$name.tap
	# A private mount namespace: whatever a runtime under test gets wrong
	# about propagation cannot leak mounts onto the machine.
	unshare -m --propagation private bats --tap "$suite" > "$tap" 2>&1
	report "$name" "$tap" $?
done

# The pure cgroup v2 suites, in a throwaway VM: its own summary line counts.
if [ -n "$vm_suites" ]; then
	out=$results/vm.out
	# shellcheck disable=SC2086
	BERTH=$berth "$here/run-in-vm.sh" $vm_suites > "$out" 2>&1
	rc=$?
	sed -n '/passed, .* failed, .* skipped$/s/^/vm: /p' "$out"
	if ! read -r p _ f _ < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1); then
		p=0 f=1
	fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -gt 0 ]; then
		echo "vm: failures (run-in-vm.sh status $rc):"
		if grep -q -E '^ *not ok' "$out"; then
			grep -A15 -E '^ *not ok' "$out" | sed 's/^/    /'
		else
			tail -20 "$out" | sed 's/^/    /'
		fi
	fi
fi

echo "skipped: $total_skip (each with its reason in the suite's output)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
