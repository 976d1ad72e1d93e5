#!/usr/bin/env bash
# Run every libFuzzer target built by `make` (build/fuzz_*) for a bounded
# time over a seed corpus copied from tests/fixtures. Builds nothing.
# Exits non-zero when a target crashes, leaks, times out or is missing.
#
#   FUZZ_TIME=20 (seconds per target)  FUZZ_RSS_MB=2048  BUILD=build
set -eu

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-20}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}

work=$(mktemp -d "${TMPDIR:-/tmp}/segd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# fuzz_one BIN: seed, run and report one target into $work/NAME.report;
# its exit status says whether it failed
fuzz_one() {
	bin=$1
	name=${bin##*/}            # fuzz_policy_parse
	what=${name#fuzz_}         # policy_parse
	corpus="$work/$name"
	mkdir -p "$corpus" "$work/artifacts-$name"
	# seeds: the fixtures of the target's input kind, else all fixtures
	case "$what" in
	policy*) seeds="$(find tests/fixtures/policies policies -type f -name '*.yaml' 2>/dev/null || true)" ;;
	config*) seeds="$(find tests/fixtures/config -type f 2>/dev/null || true)" ;;
	cni*) seeds="$(find tests/fixtures/cni -type f 2>/dev/null || true)" ;;
	link*) seeds="$(find tests/fixtures/netlink -type f -name "*.bin" -o -name "port-*" 2>/dev/null || true)" ;;
	learned*) seeds="$(find tests/fixtures/learn -type f 2>/dev/null || true)" ;;
	blocklist*) seeds="$(find tests/fixtures/blocklists policies/blocklists -type f 2>/dev/null || true)" ;;
	*) seeds="$(find tests/fixtures -type f 2>/dev/null || true)" ;;
	esac
	i=0
	for s in $seeds; do
		i=$((i + 1))
		cp "$s" "$corpus/seed-$i"
	done
	echo "== $name: ${FUZZ_TIME}s over $i seeds"
	if ! "$bin" -max_total_time="$FUZZ_TIME" -rss_limit_mb="$FUZZ_RSS_MB" \
		-timeout=10 -max_len=16384 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts-$name/" "$corpus" \
		>"$work/$name.log" 2>&1; then
		echo "!! $name FAILED; last output:"
		tail -n 60 "$work/$name.log"
		for a in "$work/artifacts-$name"/*; do
			[ -f "$a" ] || continue
			mkdir -p "$BUILD/fuzz-artifacts"
			cp "$a" "$BUILD/fuzz-artifacts/$name-${a##*/}"
			echo "!! reproducer: $BUILD/fuzz-artifacts/$name-${a##*/}"
		done
		return 1
	fi
	grep -E "stat::number_of_executed_units|stat::peak_rss_mb" \
		"$work/$name.log" | sed 's/^/   /' || true
}

# every target runs its full FUZZ_TIME; FUZZ_JOBS of them at once (one
# per core by default: a target is one single-threaded process)
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
found=0
failed=0
targets=""
for bin in "$BUILD"/fuzz_*; do
	[ -x "$bin" ] || continue
	found=$((found + 1))
	targets="$targets $bin"
done
running=0
for bin in $targets; do
	name=${bin##*/}
	( if fuzz_one "$bin" >"$work/$name.report" 2>&1; then echo 0; else echo 1; fi \
		>"$work/$name.rc" ) &
	running=$((running + 1))
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
for bin in $targets; do
	name=${bin##*/}
	cat "$work/$name.report"
	[ "$(cat "$work/$name.rc" 2>/dev/null)" = 0 ] || failed=$((failed + 1))
done

if [ "$found" -eq 0 ]; then
	echo "no fuzz targets in $BUILD/ (run: make fuzz)" >&2
	exit 1
fi
echo "fuzz: $((found - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
