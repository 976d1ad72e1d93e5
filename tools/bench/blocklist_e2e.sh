#!/usr/bin/env bash
# blocklist_e2e.sh - `segctl blocklist load` of 1,000,000 entries end to end
# (segd in a namespace: parse, safety, merge, write the maps, persist) and
# segd's memory with it loaded; a 10-entry list side by side. Also a reload
# of the big list with 1% of it changed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tools/topology.sh
trap topo_destroy EXIT
topo_create_node >/dev/null
topo_start_segd || exit 1

gen() { # N SEED -> feed of N entries: 90% single IPv4 addresses, 10% /16-/24
	python3 - "$1" "$2" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
out = ["# synthetic feed for tools/bench/blocklist_e2e.sh"]
for i in range(n):
    a = r.choice([1, 2, 5, 23, 31, 37, 45, 62, 77, 80, 91, 103, 109, 146, 151, 176, 185, 193, 195, 212, 217])
    if r.random() < 0.9:
        out.append("%d.%d.%d.%d" % (a, r.randrange(256), r.randrange(256), 1 + r.randrange(254)))
    else:
        plen = r.choice([16, 20, 22, 24])
        v = (a << 24) | (r.randrange(1 << 24) & ~((1 << (32 - plen)) - 1) & 0xffffff)
        out.append("%d.%d.%d.%d/%d" % (v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255, plen))
print("\n".join(out))
PY
}
ms() { date +%s%N; }
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MB  ", $1, $2/1024}' "/proc/$TOPO_SEGD_PID/status"; }
load() { # NAME FILE -> ms
	local t0 t1
	t0=$(ms)
	segctl blocklist load "$1" "$2" --category c2 >/dev/null || { echo "load failed" >&2; exit 1; }
	t1=$(ms)
	echo $(((t1 - t0) / 1000000))
}

gen 10 1 >"$TOPO_DIR/small.txt"
gen 1000000 1 >"$TOPO_DIR/big.txt"
python3 - "$TOPO_DIR/big.txt" >"$TOPO_DIR/big2.txt" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
for i in range(1, len(lines), 100):   # change 1% of the entries
    if lines[i] and "/" not in lines[i]:
        p = lines[i].split(".")
        lines[i] = "%s.%s.%s.%d" % (p[0], p[1], p[2], (int(p[3]) % 254) + 1)
print("\n".join(lines).rstrip("\n"))
PY
echo "segd before:       $(rss)"
small=$(load small "$TOPO_DIR/small.txt")
big=$(load big "$TOPO_DIR/big.txt")
echo "segd with 1M:      $(rss)"
reload=$(load big "$TOPO_DIR/big2.txt")
printf '%-48s %8s\n' "segctl blocklist load (wall clock)" "ms"
printf '%-48s %8s\n' "10 entries" "$small"
printf '%-48s %8s\n' "1,000,000 entries (14 MB feed)" "$big"
printf '%-48s %8s\n' "reload of the 1M list with 1% changed" "$reload"
echo "segd after reload: $(rss)"
segctl status | grep -E "segd_bl_"
