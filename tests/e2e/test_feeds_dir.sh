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
sleep 0.3
allowed "before: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443

# an updater writes a temp file and renames it
publish() { printf '%s\n' "$@" >"$feeds/.tmp" && mv "$feeds/.tmp" "$feeds/c2feed.c2.txt"; }
wait_list() { # PATTERN: until `blocklist list` matches (the scan runs every 5 s)
	for _ in $(seq 1 40); do segctl blocklist list | grep -qE "$1" && return 0; sleep 0.25; done
	return 1
}
publish "# test feed" 203.0.113.10
check "a new file becomes list c2feed" wait_list "^c2feed +c2 +drop +1 "
denied "listed by the feed file: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443
sleep 1.1 # a different mtime second
publish "# test feed, 203.0.113.10 delisted" 198.51.100.7
check "a changed file reloads the list" wait_list "^c2feed +c2 +drop +1 "
for _ in $(seq 1 40); do segctl blocklist test 203.0.113.10 | grep -q "on no list" && break; sleep 0.25; done
allowed "delisted: api -> 203.0.113.10:443" probe_tcp pod api 203.0.113.10 443
rm "$feeds/c2feed.c2.txt"
for _ in $(seq 1 40); do segctl blocklist list | grep -q "^c2feed" || break; sleep 0.25; done
out=$(segctl blocklist list)
refute "a removed file removes its list" grep -q "^c2feed" <<<"$out"
printf 'x\n' >"$feeds/README"
sleep 6
check "files not named NAME.CATEGORY.* are left alone" grep -q "No blocklists" <<<"$(segctl blocklist list)"

e2e_finish
