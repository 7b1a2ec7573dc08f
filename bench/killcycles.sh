#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# kill -9 cycles: what a supervisor killed at random points of bursts
# loses or runs twice (jobify(1) DURABILITY).
#
# For each retry value (0 and 3): CYCLES cycles; each schedules JOBS jobs
# due now (one `schedule --stdin`), starts `jobify run`, kills it with
# SIGKILL after a random 0-RANGE ms, and checks the store with
# PRAGMA integrity_check.  Then one supervisor runs until every job has
# ended, and each job's runs are counted: each job appends its id to a
# file once, then sleeps 20 ms (max-parallel = 4, so most of a burst is
# due, not running, at a kill).  Reported per retry value:
#   never_ran   jobs with no line in the file (want 0)
#   ran_twice   jobs with more than one (with retry 0, a lost attempt is
#               not run again: want 0; with retries, an attempt lost in
#               flight may run again: counted)
#   lost        event=lost lines (attempts in flight at a kill)
#   released    event=released lines (claimed, never started: scheduled
#               again)
#   integrity   "ok" when every cycle's check said ok
#   early_exits supervisors that exited before their kill (a restart
#               refused, as "another supervisor holds the lock" while a
#               child of the killed one is between vfork and execve)
#
# usage: bench/killcycles.sh [JOBIFY [CYCLES [JOBS [RANGE_MS]]]]
#        (defaults ./jobify 100 50 300)
set -eu

usage="usage: bench/killcycles.sh [JOBIFY [CYCLES [JOBS [RANGE_MS]]]]"
jobify=$(realpath "${1:-./jobify}")
cycles=${2:-100}
jobs=${3:-50}
range=${4:-300}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init
[ -x "$jobify" ] || die "$usage"
command -v sqlite3 >/dev/null || die "needs the sqlite3 command"
rows=()

for retry in 0 3; do
	d=$tmp/r$retry
	mkdir -p "$d"
	printf '#!/bin/sh\necho "$1" >> %s/ran\nsleep 0.02\n' "$d" >"$d/rec"
	chmod +x "$d/rec"
	cat >"$d/j.conf" <<EOC
state-dir = "$d/state"
max-parallel = 4
task "rec" { exec = "$d/rec" output = "null" retry = $retry retry-delay = 10ms }
EOC
	integrity=ok
	early=0
	: >"$d/sup.log"
	for ((c = 1; c <= cycles; c++)); do
		seq 1 "$jobs" | sed "s/.*/rec --id c$c-& -- c$c-&/" |
			"$jobify" -c "$d/j.conf" schedule --stdin >/dev/null
		"$jobify" -c "$d/j.conf" run 2>>"$d/sup.log" &
		sup_pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % range)))"
		# One that exited already (a start refused: see early) is not killed.
		kill -KILL "$sup_pid" 2>/dev/null || true
		st=0
		wait "$sup_pid" 2>/dev/null || st=$?
		[ "$st" -eq 137 ] || early=$((early + 1))
		sup_pid=
		[ "$(sqlite3 "$d/state/jobify.db" 'PRAGMA integrity_check')" = ok ] || integrity=bad
	done
	"$jobify" -c "$d/j.conf" run 2>>"$d/sup.log" &
	sup_pid=$!
	# Until nothing is scheduled or running (each check a fresh read).
	for ((n = 0; n < 6000; n++)); do
		left=$(sqlite3 -cmd '.timeout 5000' "$d/state/jobify.db" \
			"SELECT count(*) FROM jobs WHERE status IN ('scheduled','running')")
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	kill -TERM "$sup_pid"
	wait "$sup_pid" 2>/dev/null || true
	sup_pid=
	[ "$left" -eq 0 ] || die "retry=$retry: $left jobs never ended"
	total=$((cycles * jobs))
	ran=$(sort "$d/ran" | uniq -c)
	never=$((total - $(printf '%s\n' "$ran" | grep -c .)))
	twice=$(printf '%s\n' "$ran" | awk '$1 > 1' | grep -c . || true)
	lost=$(grep -c 'event=lost ' "$d/sup.log" || true)
	released=$(grep -c 'event=released ' "$d/sup.log" || true)
	tsv_row "$retry" "$cycles" "$jobs" "$total" "$never" "$twice" "$lost" "$released" "$integrity" "$early"
	printf 'retry=%s cycles=%s jobs=%s: never_ran=%s ran_twice=%s lost=%s released=%s integrity=%s early_exits=%s\n' \
		"$retry" "$cycles" "$total" "$never" "$twice" "$lost" "$released" "$integrity" "$early"
done
{
	printf 'retry\tcycles\tjobs_per_cycle\tjobs\tnever_ran\tran_twice\tlost\treleased\tintegrity\tearly_exits\n'
	printf '%s\n' "${rows[@]}"
} >"$results/killcycles.tsv"
