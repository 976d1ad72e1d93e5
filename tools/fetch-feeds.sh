#!/bin/sh
# fetch-feeds.sh - download indicator feeds and load them into segd.
#
# For nodes with internet access; run by tools/systemd/segd-feeds.timer.
# Never run by the tests. For each feed of the config file it downloads the
# URL into a temporary file next to the destination, renames it into place
# (atomic: readers see the old file or the new one, never half of one) and
# runs `segctl blocklist load NAME FILE --category C --format F`. A failed
# download keeps the previous file, which is loaded again so a restarted
# segd still has it; the other feeds go on. Exit status 1 when any feed
# failed, 2 on a usage or config error.
#
#   fetch-feeds.sh [-c CONF] [-d DIR] [-n]
#     -c CONF  feed list (default /etc/segd/feeds.conf, or $SEGD_FEEDS_CONF)
#     -d DIR   where feeds are kept (default /var/lib/segd/feeds, or
#              $SEGD_FEEDS_DIR)
#     -n       download only; do not call segctl
#   Environment: SEGCTL (default segctl), SEGD_SOCKET (passed on to segctl),
#   FETCH_TIMEOUT (seconds per download, default 120), FETCH_MAX_BYTES
#   (default 268435456), FETCH_ALLOW_SHRINK=1 (accept a download under a
#   tenth of the previous file's size, which is otherwise kept).
#
# Config: one feed per line, '#' comments:
#   NAME CATEGORY FORMAT URL [ACTION]
#   NAME      the list's name in segd ([A-Za-z0-9._-], at most 64)
#   CATEGORY  miner | c2 | custom | exception
#   FORMAT    auto | plain | spamhaus-drop | spamhaus-json | feodo-csv |
#             hosts | domains | falco-yaml
#   URL       https:// (http:// and file:// accepted)
#   ACTION    drop (default) | audit
# Example (docs/blocklists.md explains each feed and its terms of use):
#   feodo            c2     feodo-csv      https://feodotracker.abuse.ch/downloads/ipblocklist.csv
#   spamhaus-drop-v4 c2     spamhaus-json  https://www.spamhaus.org/drop/drop_v4.json
#   spamhaus-drop-v6 c2     spamhaus-json  https://www.spamhaus.org/drop/drop_v6.json
#   nocoin           miner  hosts          https://raw.githubusercontent.com/hoshsadiq/adblock-nocoin-list/master/hosts.txt
set -u
set -f          # URLs hold '?' and '*': no globbing of config fields

CONF=${SEGD_FEEDS_CONF:-/etc/segd/feeds.conf}
DIR=${SEGD_FEEDS_DIR:-/var/lib/segd/feeds}
SEGCTL=${SEGCTL:-segctl}
TIMEOUT=${FETCH_TIMEOUT:-120}
MAX_BYTES=${FETCH_MAX_BYTES:-268435456}
LOAD=1

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

while getopts c:d:nh opt; do
	case $opt in
	c) CONF=$OPTARG ;;
	d) DIR=$OPTARG ;;
	n) LOAD=0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

log() { echo "fetch-feeds: $*" >&2; }

[ -r "$CONF" ] || { log "cannot read $CONF (see -c)"; exit 2; }
if command -v curl >/dev/null 2>&1; then
	FETCHER=curl
elif command -v wget >/dev/null 2>&1; then
	FETCHER=wget
else
	log "neither curl nor wget is installed"
	exit 2
fi
mkdir -p "$DIR" || exit 2
chmod 0750 "$DIR" 2>/dev/null || true

# One run at a time (the timer and a manual run).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$DIR/.lock" || exit 2
	flock -n 9 || { log "another run holds $DIR/.lock"; exit 1; }
fi

# fetch URL DEST TMP: 0 = new content in TMP, 3 = not modified, else failed
fetch() {
	url=$1 dest=$2 tmp=$3
	if [ "$FETCHER" = curl ]; then
		set -- -fsSL --proto '=https,http,file' --max-time "$TIMEOUT" \
			--retry 2 --max-filesize "$MAX_BYTES" -o "$tmp" \
			-w '%{http_code}'
		[ -s "$dest" ] && set -- "$@" -z "$dest"
		code=$(curl "$@" "$url") || return 1
		[ "$code" = 304 ] && return 3
		# -z over file:// (code 000): nothing written = not newer
		if [ -s "$dest" ] && [ ! -s "$tmp" ] && [ "$code" != 200 ]; then
			return 3
		fi
		return 0
	fi
	wget -q -T "$TIMEOUT" -t 3 -O "$tmp" "$url" || return 1
	[ "$(wc -c <"$tmp")" -le "$MAX_BYTES" ] || return 1
}

valid() {
	case $1 in ''|*[!A-Za-z0-9._-]*|.*) return 1 ;; esac
	[ ${#1} -le 64 ]
}

failed=0
n=0
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=${line%%#*}
	# shellcheck disable=SC2086
	set -- $line
	[ $# -eq 0 ] && continue
	if [ $# -lt 4 ] || [ $# -gt 5 ]; then
		log "$CONF:$lineno: expected NAME CATEGORY FORMAT URL [ACTION]"
		failed=1
		continue
	fi
	name=$1 cat=$2 fmt=$3 url=$4 action=${5:-drop}
	case $cat in miner|c2|custom|exception) ;; *)
		log "$CONF:$lineno: category '$cat': miner, c2, custom or exception"
		failed=1; continue ;;
	esac
	case $fmt in auto|plain|spamhaus-drop|spamhaus-json|feodo-csv|hosts|domains|falco-yaml) ;; *)
		log "$CONF:$lineno: unknown format '$fmt'"
		failed=1; continue ;;
	esac
	case $url in https://*|http://*|file://*) ;; *)
		log "$CONF:$lineno: URL must start with https://"
		failed=1; continue ;;
	esac
	case $action in drop|audit) ;; *)
		log "$CONF:$lineno: action '$action': drop or audit"
		failed=1; continue ;;
	esac
	if ! valid "$name"; then
		log "$CONF:$lineno: name '$name': letters, digits, '.', '_', '-'"
		failed=1
		continue
	fi
	n=$((n + 1))
	dest="$DIR/$name.feed"
	tmp=$(mktemp "$DIR/.$name.XXXXXX") || { failed=1; continue; }
	fetch "$url" "$dest" "$tmp"
	rc=$?
	if [ $rc -eq 0 ] && [ "${FETCH_ALLOW_SHRINK:-0}" != 1 ] && [ -f "$dest" ]; then
		old=$(wc -c <"$dest") new=$(wc -c <"$tmp")
		if [ "$old" -gt 4096 ] && [ $((new * 10)) -lt "$old" ]; then
			log "$name: new file has $new bytes, the previous $old: an" \
				"error page or a truncated feed? keeping the previous" \
				"one (FETCH_ALLOW_SHRINK=1 accepts it)"
			rc=1
		fi
	fi
	if [ $rc -eq 0 ]; then
		chmod 0640 "$tmp"
		mv -f "$tmp" "$dest" || { rm -f "$tmp"; failed=1; continue; }
		log "$name: downloaded $(wc -c <"$dest") bytes"
	else
		rm -f "$tmp"
		if [ $rc -eq 3 ]; then
			log "$name: not modified"
		else
			log "$name: download from $url failed; keeping the previous file"
			failed=1
		fi
		[ -f "$dest" ] || continue
	fi
	[ "$LOAD" -eq 1 ] || continue
	set -- blocklist load "$name" "$dest" --category "$cat" --format "$fmt"
	[ "$action" = drop ] || set -- "$@" --action "$action"
	if ! "$SEGCTL" "$@" </dev/null; then
		log "$name: segctl blocklist load failed"
		failed=1
	fi
done <"$CONF"

[ "$n" -gt 0 ] || log "no feeds in $CONF"
exit "$failed"
