#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# `make bench`: every question of bench/, one script after another, at
# settings that keep the whole run near 15 minutes on a 2-core machine,
# then the plot.  Each script prints its own table and appends its rows
# to $JOBIFY_BENCH_RESULTS (default bench/results/); this one adds how
# long each took and, at the end, which failed.
#
#   fire-latency.sh  target instant -> job's first instruction    ~1.5 min
#   burst.sh         N jobs due at once against a vfork loop      ~1 min
#   durable.sh       schedule processes, --stdin batches, pickup  ~1.5 min
#   idle-wakeups.sh  context switches of an idle supervisor       ~2.5 min
#   scale.sh         1k-100k routes, up to 1M one-off jobs        ~3 min
#   peers.sh         cron, busybox crond, atd, APScheduler        ~5 min
#   cluster.sh       1 and 3 supervisors on one PostgreSQL        ~1 min
#   plot.sh          fire-latency.svg from peers.sh's samples
#
# Usage: bench/all.sh JOBIFY      e.g. bench/all.sh ./jobify
# Needs what each script needs (see their headers); the peers that are
# not installed are skipped by peers.sh with the apt-get line to add them,
# and cluster.sh is skipped, with the reason, without PostgreSQL's server
# binaries.
set -uo pipefail
prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
jobify=${1:-}
if [ -z "$jobify" ] || [ ! -x "$jobify" ]; then
	echo "usage: bench/all.sh JOBIFY" >&2
	exit 1
fi
case $jobify in
/*) ;;
*) jobify=$PWD/$jobify ;;
esac

failed=()
skipped=()
t_all=$SECONDS
# step NAME CMD...: run one script, say how long it took.
step() {
	local name=$1 t0=$SECONDS rc=0
	shift
	echo
	echo "=== $name: $*"
	"$@" || rc=$?
	echo "=== $name: $((SECONDS - t0)) s, exit $rc"
	[ "$rc" -eq 0 ] || failed+=("$name")
}

# pg_server_bin: does this machine have PostgreSQL's server binaries?
# Looked for as tests/pg-server.sh (which cluster.sh starts) looks:
# initdb and pg_ctl on PATH, else in Debian's /usr/lib/postgresql/*/bin.
pg_server_bin() {
	local d
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		return 0
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
	done
	return 1
}

step fire-latency bash "$here/fire-latency.sh" "$jobify" 40
step burst env REPS=3 bash "$here/burst.sh" "$jobify" 1000 2000
step durable bash "$here/durable.sh" -n 200 -r 4 -l 40 "$jobify"
step idle-wakeups bash "$here/idle-wakeups.sh" "$jobify" 60
step scale bash "$here/scale.sh" "$jobify"
step peers bash "$here/peers.sh" "$jobify" 4
if pg_server_bin; then
	step cluster env CLAIMS=1000 SLEEPS=120 bash "$here/cluster.sh" "$jobify" 20
else
	echo
	echo "=== cluster: skipped: no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in" \
		"/usr/lib/postgresql/*/bin; Debian: apt-get install postgresql-15"
	skipped+=(cluster)
fi
step plot bash "$here/plot.sh"

echo
echo "$prog: $((SECONDS - t_all)) s in all; results in ${JOBIFY_BENCH_RESULTS:-$here/results}"
[ "${#skipped[@]}" -eq 0 ] || echo "$prog: skipped: ${skipped[*]}"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "$prog: failed: ${failed[*]}" >&2
	exit 1
fi
