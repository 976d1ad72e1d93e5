#!/usr/bin/env bash
# Run every end-to-end test (root; network namespaces). Prints each test's
# lines and a closing count.
#
# The scripts mostly wait (segd's start, flow intervals, denied probes'
# timeouts), so E2E_JOBS (default 2) of them run at once, the longest
# first (tests/e2e/durations; a script not listed there counts as long).
# Each one's output is kept and printed whole, in the scripts' name order,
# with how long it took. Each gets a TOPO_ID of its own (tools/topology.sh
# names every namespace, interface and directory after it), so two running
# at once cannot take each other's names.
#   E2E_JOBS=1               one after another
#   E2E_RECORD=1             write this run's times to tests/e2e/durations
#   tests/e2e/run.sh test_cni.sh test_flows.sh   only these
set -u
cd "$(dirname "$0")/../.." || exit 1
E2E=tests/e2e
jobs=${E2E_JOBS:-2}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "E2E_JOBS must be a number >= 1 (got '$jobs')" >&2; exit 2; }

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do tests+=("$E2E/$(basename "$t")"); done
else
	tests=("$E2E"/test_*.sh)
fi
n=${#tests[@]}
# 4 hex digits (interface names have room for no more): the run's pid,
# then the script's index, so no two scripts of this run share one
# (and one more for the namespace made below)
[ "$n" -lt 64 ] || { echo "64 e2e scripts or more: widen the TOPO_ID scheme" >&2; exit 2; }
id_base=$(( ($$ % 1024) * 64 ))
topo_id() { printf '%04x' $(( (id_base + $1) % 65536 )); }

# The first `ip netns add` on a machine makes /run/netns a mount point of
# its own; two scripts starting at once could both make it, one over the
# other. One namespace made and removed before them does it once.
if [ "$jobs" -gt 1 ]; then
	ip netns add "sg$(topo_id "$n")-prep" && ip netns del "sg$(topo_id "$n")-prep"
fi

out_dir=$(mktemp -d /tmp/segd-e2e-run.XXXXXX) || exit 1
# interrupted: every script still running is stopped (its EXIT trap tears
# its topology down) and waited for
cleanup() {
	local f
	for f in "$out_dir"/*.pid; do
		[ -e "$f" ] && [ ! -e "${f%.pid}.rc" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	wait
	rm -rf "$out_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the order to start them in: longest recorded time first, unknown first of all
order=()
while read -r _ i; do order+=("$i"); done < <(
	for i in "${!tests[@]}"; do
		s=$(awk -v t="$(basename "${tests[$i]}")" '$2 == t { print $1 }' "$E2E/durations" 2>/dev/null)
		echo "${s:-100000} $i"
	done | sort -k1,1nr -k2,2n)

# run_one I: script I with its own TOPO_ID; I.out its output, I.rc its
# exit status and seconds (written last: the script is done)
run_one() {
	local i=$1 start=$SECONDS pid rc
	TOPO_ID=$(topo_id "$i") bash "${tests[$i]}" >"$out_dir/$i.out" 2>&1 &
	pid=$!
	echo "$pid" >"$out_dir/$i.pid"
	wait "$pid"; rc=$?
	# a namespace of this script's TOPO_ID that outlived it: named, counted
	# as a failure of the script, then removed (the next scripts start clean)
	ip netns list 2>/dev/null | awk -v p="sg$(topo_id "$i")-" 'index($1, p) == 1 { print $1 }' \
		>"$out_dir/$i.left"
	xargs -r -n1 ip netns del <"$out_dir/$i.left" 2>/dev/null
	echo "$rc $((SECONDS - start))" >"$out_dir/$i.rc.tmp"
	mv "$out_dir/$i.rc.tmp" "$out_dir/$i.rc"
}

pass=0 failed=0 bad=() printed=0
times=()
# print every finished script whose turn has come (name order)
print_ready() {
	local t out p f rc secs
	while [ "$printed" -lt "$n" ] && [ -f "$out_dir/$printed.rc" ]; do
		t=${tests[$printed]}
		read -r rc secs <"$out_dir/$printed.rc"
		out=$(cat "$out_dir/$printed.out")
		if [ -s "$out_dir/$printed.left" ]; then
			out+=$'\n'"not ok - $(basename "$t") removed its network namespaces: left $(tr '\n' ' ' <"$out_dir/$printed.left")"
		fi
		echo "# $t"
		echo "$out"
		echo "# $t took $secs s"
		times+=("$secs $(basename "$t")")
		p=$(grep -c '^ok - ' <<<"$out"); f=$(grep -c '^not ok - ' <<<"$out")
		pass=$((pass + p)); failed=$((failed + f))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); bad+=("$t (exit $rc)"); fi
		[ "$f" -gt 0 ] && bad+=("$t")
		printed=$((printed + 1))
	done
}

wall=$SECONDS running=0
# reap: wait for one running script to finish, print what is ready
reap() {
	local pid=
	wait -n -p pid
	if [ -n "$pid" ]; then running=$((running - 1)); else running=0; fi
	print_ready
}
for i in "${order[@]}"; do
	while [ "$running" -ge "$jobs" ]; do reap; done
	run_one "$i" &
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do reap; done
# a script whose status never came (its runner was killed): a failure
for ((i = printed; i < n; i++)); do
	[ -f "$out_dir/$i.rc" ] || echo "1 0" >"$out_dir/$i.rc"
	touch "$out_dir/$i.out"
done
print_ready

echo "# e2e: $n scripts, $jobs at once, $((SECONDS - wall)) s"
if [ "${E2E_RECORD:-}" = 1 ]; then
	{
		echo "# seconds script: tests/e2e/run.sh starts the longest first (E2E_RECORD=1 rewrites this)"
		printf '%s\n' "${times[@]}" | sort -k1,1nr -k2,2
	} >"$E2E/durations"
fi
echo "e2e: $pass passed, $failed failed"
[ "$failed" -eq 0 ] || { printf 'failed: %s\n' "${bad[@]}"; exit 1; }
