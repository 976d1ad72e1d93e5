#!/usr/bin/env bash
# Lists from a directory a feed updater writes (config feeds_dir): a new
# file becomes a list, a changed file reloads it, a removed file removes it.
set -u
. "$(dirname "$0")/lib.sh"
trap topo_destroy EXIT

topo_create_node
topo_add_pod api 10.200.1.20
feeds=$TOPO_DIR/feeds
mkdir -p "$feeds"
printf 'feeds_dir: %s\n' "$feeds" >"$TOPO_DIR/segd.yaml"
topo_start_segd -c "$TOPO_DIR/segd.yaml" || { fail "segd starts"; e2e_finish; exit 1; }
segctl endpoint add api -n shop --ip 10.200.1.20 --labels app=api --ifname "$(pod_if api)" >/dev/null
serve ext "" 443
allowed "before: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443

# an updater writes a temp file and renames it
publish() { printf '%s\n' "$@" >"$feeds/.tmp" && mv "$feeds/.tmp" "$feeds/c2feed.c2.txt"; }
# the scan runs every 5 s: what it does is waited for, up to three scans
lists() { segctl blocklist list | grep -qE "$1"; }
holds() { segctl blocklist test "$1" | grep -qE "$2"; }
reloaded() { # the list holds only the new file's entry
	lists "^c2feed +c2 +drop +1 " && holds 198.51.100.7 "^c2feed" &&
		holds 203.0.113.10 "on no list"
}
# the clock is past the second of a file's mtime
later_second() { [ "$(date +%s)" -gt "$(stat -c %Y "$1")" ]; }
publish "# test feed" 203.0.113.10
check "a new file becomes list c2feed" wait_until 15 lists "^c2feed +c2 +drop +1 "
denied "listed by the feed file: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443
wait_until 2 later_second "$feeds/c2feed.c2.txt" # a different mtime
publish "# test feed, 203.0.113.10 delisted" 198.51.100.7
check "a changed file reloads the list" wait_until 15 reloaded
allowed "delisted: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443
rm "$feeds/c2feed.c2.txt"
wait_until 15 not lists "^c2feed"
out=$(segctl blocklist list)
refute "a removed file removes its list" grep -q "^c2feed" <<<"$out"
printf 'x\n' >"$feeds/README"
# the sleep is the test: at least one scan (every 5 s) goes by, and leaves
# README alone
sleep 6
check "files not named NAME.CATEGORY.* are left alone" grep -q "No blocklists" <<<"$(segctl blocklist list)"

e2e_finish
