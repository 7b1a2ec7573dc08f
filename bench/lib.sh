# SPDX-License-Identifier: ISC
# shellcheck shell=bash disable=SC2154
# (usage and jobify are set by the script that sources this.)
# Sourced by bench/fire-latency.sh, bench/burst.sh and bench/idle-wakeups.sh
# (bash, set -eu): checking arguments, building our C helpers, and running
# one `jobify run` at a time in the background, stopped with SIGTERM and
# waited for, even when the script fails or is interrupted.
#
# After bench_init: $here (the bench directory), $tmp (a fresh mktemp -d
# directory, removed at exit), $results (where the .tsv files go:
# $JOBIFY_BENCH_RESULTS, default bench/results).

prog=${0##*/}
sup_pid=
bg_pids=()

die() {
	echo "$prog: $*" >&2
	exit 1
}

bench_cleanup() {
	local p n
	for p in "${bg_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$sup_pid" ] && kill -0 "$sup_pid" 2>/dev/null; then
		kill -TERM "$sup_pid" 2>/dev/null || true
		for ((n = 0; n < 100; n++)); do
			kill -0 "$sup_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$sup_pid" 2>/dev/null || true
		wait "$sup_pid" 2>/dev/null || true
	fi
	sup_pid=
	if [ -n "${tmp:-}" ]; then
		rm -rf "$tmp"
	fi
}

bench_init() {
	here=$(cd "$(dirname "$0")" && pwd)
	results=${JOBIFY_BENCH_RESULTS:-$here/results}
	tmp=$(mktemp -d)
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	case $tmp in
	*[!A-Za-z0-9/._-]*) die "the temporary directory '$tmp' has characters the config would need quoted: set TMPDIR" ;;
	esac
	mkdir -p "$results"
}

# tsv_row FIELD...: one tab-separated row for the script's .tsv, kept in
# the array rows until the script writes them out.
tsv_row() {
	local IFS=$'\t'
	rows+=("$*")
}

# now_us: the time in $now, in us since the epoch (no process).
now_us() {
	now=${EPOCHREALTIME/./}
}

# need_jobify PATH: an executable whose --version says jobify.
need_jobify() {
	[ -n "$1" ] || die "usage: $usage"
	if [ ! -f "$1" ] || [ ! -x "$1" ]; then
		die "'$1' is not an executable file"
	fi
	case $("$1" --version 2>/dev/null) in
	jobify\ *) ;;
	*) die "'$1 --version' does not say jobify" ;;
	esac
}

# need_uint NAME VALUE MIN
need_uint() {
	case $2 in
	'' | *[!0-9]*) die "$1 must be a whole number, not '$2'" ;;
	esac
	[ "$2" -ge "$3" ] || die "$1 must be at least $3, not $2"
}

# cc_helper NAME [CFLAGS...]: build bench/NAME.c into $tmp/NAME (or into
# the name given by -o).
cc_helper() {
	local name=$1
	shift
	"${CC:-cc}" -O2 -std=gnu11 -Wall "$here/$name.c" -o "$tmp/$name" "$@" ||
		die "cannot build $name.c with ${CC:-cc}"
}

# sup_start CONF LOG: start `jobify -c CONF run` (TZ=UTC, so the log's
# times are UTC) with its log in LOG; return once it logged event=ready.
sup_start() {
	local n
	: >"$2"
	TZ=UTC "$jobify" -c "$1" run 2>"$2" &
	sup_pid=$!
	for ((n = 0; n < 600; n++)); do
		grep -q 'event=ready' "$2" && return 0
		kill -0 "$sup_pid" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 5 "$2" >&2
	die "jobify run did not get ready (log above)"
}

# sup_stop LOG: SIGTERM, wait, and check that it stopped cleanly.
sup_stop() {
	local rc=0
	kill -TERM "$sup_pid"
	wait "$sup_pid" || rc=$?
	sup_pid=
	[ "$rc" -eq 0 ] || { tail -n 5 "$1" >&2; die "jobify run exited $rc after SIGTERM"; }
	grep -q 'event=stopped status=ok' "$1" || die "no event=stopped status=ok in the log"
}

# Log lines that say something went wrong (warn and error levels).
log_trouble() {
	grep -cE 'level=(warn|error)' "$1" || true
}

load1() {
	cut -d' ' -f1 /proc/loadavg
}

# pctl P...: nearest-rank percentiles of the numbers on stdin, one a line,
# printed space-separated (a P of 100 is the max).
pctl() {
	sort -g | awk -v ps="$*" '
		{ a[NR] = $1 }
		END {
			n = split(ps, p, " ")
			for (i = 1; i <= n; i++) {
				if (NR == 0) { printf "%s-", (i > 1 ? " " : ""); continue }
				k = int(p[i] / 100 * NR); if (k < p[i] / 100 * NR) k++
				if (k < 1) k = 1
				printf "%s%.3f", (i > 1 ? " " : ""), a[k]
			}
			print ""
		}'
}
