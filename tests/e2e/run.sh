#!/usr/bin/env bash
# Run every end-to-end test (root; network namespaces). Prints each test's
# lines and a closing count.
set -u
cd "$(dirname "$0")/../.." || exit 1
pass=0 failed=0 bad=()
for t in tests/e2e/test_*.sh; do
	echo "# $t"
	start=$SECONDS
	out=$(bash "$t" 2>&1); rc=$?
	echo "$out"
	echo "# $t took $((SECONDS - start)) s"
	p=$(grep -c '^ok - ' <<<"$out"); f=$(grep -c '^not ok - ' <<<"$out")
	pass=$((pass + p)); failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); bad+=("$t (exit $rc)"); fi
	[ "$f" -gt 0 ] && bad+=("$t")
done
echo "e2e: $pass passed, $failed failed"
[ "$failed" -eq 0 ] || { printf 'failed: %s\n' "${bad[@]}"; exit 1; }
