#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Fire latency of `jobify run`: from the instant a cron fire is due (the
# second boundary) to the first instruction of the job's main().  The job
# is bench/firstinsn.c, which reads CLOCK_REALTIME first thing and appends
# it, with its JOBIFY_SCHEDULED_AT, to a file; latency = that time - the
# scheduled second.  Built dynamic and -static: the difference is the
# dynamic loader's share (ld.so, libc relocation) before main.
#
#   1. one task each: the static helper on even seconds, the dynamic one
#      on odd seconds ("*/2 * * * * *", "1-59/2 * * * * *"), for SECONDS
#   2. 20 tasks fired at the same second (static on even, dynamic on odd
#      seconds), for SECONDS/4: every job of the burst, and the last one
#   3. no supervisor: bench/tick-spawn.c sleeps to each boundary with
#      clock_nanosleep and vforks the same helper, for SECONDS/4: the
#      floor of this machine
#
# Usage: bench/fire-latency.sh JOBIFY [SECONDS]   (default 120; at least 8)
#   e.g. bench/fire-latency.sh ./jobify 60
# Needs cc and static glibc (Debian: libc6-dev).  Prints a table (ms);
# writes the same rows to $JOBIFY_BENCH_RESULTS/fire-latency.tsv (default
# bench/results/).  Goal (issue 4): p50 < 1 ms, p99 < 2 ms.
set -euo pipefail
usage="bench/fire-latency.sh JOBIFY [SECONDS]"
. "$(dirname "$0")/lib.sh"

jobify=${1:-}
secs=${2:-120}
need_jobify "$jobify"
need_uint SECONDS "$secs" 8
bench_init
burst=20
short=$((secs / 4))

cc_helper firstinsn
cc_helper firstinsn -static -o "$tmp/firstinsn-static"
cc_helper tick-spawn
file "$tmp/firstinsn-static" | grep -q 'statically linked' || die "firstinsn-static is not static"

# sup_phase NAME TASKS SECONDS: TASKS static tasks on even seconds and as
# many dynamic ones on odd seconds, writing $tmp/NAME-{static,dynamic}.out
sup_phase() {
	local name=$1 tasks=$2 dur=$3 conf=$tmp/$1.conf log=$tmp/$1.log i
	{
		echo "state-dir = \"$tmp/state-$name\""
		for ((i = 0; i < tasks; i++)); do
			echo "task \"s$i\" { exec = \"$tmp/firstinsn-static $tmp/$name-static.out\" cron = \"*/2 * * * * *\" output = \"null\" }"
			echo "task \"d$i\" { exec = \"$tmp/firstinsn $tmp/$name-dynamic.out\" cron = \"1-59/2 * * * * *\" output = \"null\" }"
		done
	} >"$conf"
	sup_start "$conf" "$log"
	sleep "$dur"
	sup_stop "$log"
	trouble=$(log_trouble "$log")
	[ "$trouble" -eq 0 ] || { grep -E 'level=(warn|error)' "$log" | head -n 5 >&2; echo "$prog: $trouble warn/error lines in the $name log" >&2; }
}

# latencies FILE: one latency (ms) a line from firstinsn's lines; the
# scheduled second is taken from JOBIFY_SCHEDULED_AT (UTC time of day),
# which also catches a fire more than a second late; `last` prints only
# the latest job of each scheduled second.
latencies() {
	awk -v last="${2:-}" '
		{
			ns = $1; s = substr(ns, 1, length(ns) - 9) + 0
			f = substr(ns, length(ns) - 8) + 0
			tod = s % 86400
			if (match($2, /T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/)) {
				t = substr($2, RSTART + 1, 8)
				want = substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + substr(t, 7, 2)
			} else
				want = tod
			d = tod - want
			if (d < -43200) d += 86400
			if (d > 43200) d -= 86400
			ms = d * 1000 + f / 1e6
			if (last == "") print ms
			else if (!($2 in m) || ms > m[$2]) m[$2] = ms
		}
		END { if (last != "") for (k in m) print m[k] }' "$1"
}

tsv=$results/fire-latency.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)

sup_phase single 1 "$secs"
sup_phase burst "$burst" "$short"
"$tmp/tick-spawn" "$short" "$tmp/firstinsn-static" "$tmp/firstinsn" "$tmp/floor.out" &
bg_pids=($!)
wait "${bg_pids[0]}" || die "tick-spawn failed"
bg_pids=()
# tick-spawn ran the static helper on even seconds, the dynamic one on odd.
: >"$tmp/floor-static.out"
: >"$tmp/floor-dynamic.out"
awk -v d="$tmp/floor-" '{ s = substr($1, 1, length($1) - 9) + 0
	print > (d (s % 2 ? "dynamic" : "static") ".out") }' "$tmp/floor.out"

load_after=$(load1)
rows=()
row() { # row LABEL HELPER JOBS_PER_FIRE FILE [last]
	local n stats
	n=$(latencies "$4" "${5:-}" | wc -l)
	stats=$(latencies "$4" "${5:-}" | pctl 50 90 99 100)
	rows+=("$1	$2	$3	$n	${stats// /	}")
}
for h in static dynamic; do
	row "jobify, 1 task" "$h" 1 "$tmp/single-$h.out"
done
for h in static dynamic; do
	row "jobify, $burst tasks: every job" "$h" "$burst" "$tmp/burst-$h.out"
	row "jobify, $burst tasks: last job" "$h" "$burst" "$tmp/burst-$h.out" last
done
for h in static dynamic; do
	row "no supervisor (tick-spawn)" "$h" 1 "$tmp/floor-$h.out"
done

echo "fire latency (ms) from the scheduled second to the job's first instruction;"
echo "$(nproc) CPUs, load average ${load_before} before, ${load_after} after"
printf '%-34s %-8s %6s %8s %8s %8s %8s\n' variant helper samples p50 p90 p99 max
for r in "${rows[@]}"; do
	IFS='	' read -r v h _ n p50 p90 p99 mx <<<"$r"
	printf '%-34s %-8s %6s %8s %8s %8s %8s\n' "$v" "$h" "$n" "$p50" "$p90" "$p99" "$mx"
done
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tvariant\thelper\tjobs_per_fire\tsamples\tp50_ms\tp90_ms\tp99_ms\tmax_ms\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
