#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Durable cron jobs (SPEC §3 misfire, max-runs, max-failures, durable; §6,
# §7): config cron tasks as rows of the store with their counters, misfire
# after downtime, runs lost to a crash, dynamic cron jobs, and the control
# socket (schedule, wait, cancel --kill, reload).  A real supervisor,
# every-second schedules; the store is read (and, to fake downtime,
# written) with sqlite3.

setup() {
	load sup-helpers
	command -v sqlite3 >/dev/null ||
		fail "these tests read the store with the sqlite3 command (.ci/install-deps installs it)"
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
}

teardown() {
	sup_teardown
	kill_jobs
}

# DB SQL: run SQL on the test's store.
DB() {
	sqlite3 -cmd '.timeout 5000' "$(T state/jobify.db)" "$@"
}

# db_wait SQL WANT [SECONDS]: poll until SQL gives WANT.
db_wait() {
	local sql=$1 want=$2 secs=${3:-10} got
	local deadline=$((SECONDS + secs))
	while got=$(DB "$sql" 2>&1); [ "$got" != "$want" ]; do
		if ((SECONDS >= deadline)); then
			echo "db_wait: '$sql' gave '$got', not '$want'" >&2
			return 1
		fi
		sleep 0.05
	done
}

# starts ROUTE [FILE]: how many runs of ROUTE the log says started.
starts() {
	grep -c -- "event=start route=$1 " "${2:-$SUP_LOG}" || true
}

# sched_ats ROUTE [FILE]: the scheduled_at of each start of ROUTE, in order.
sched_ats() {
	grep -- "event=start route=$1 " "${2:-$SUP_LOG}" |
		sed -n 's/.* scheduled_at=\([^ ]*\).*/\1/p'
}

# tick_barrier [N]: until the every-second task "tick" started N (2)
# more times: any every-second fire due meanwhile has come (fires of the
# same second start in the same turn of the supervisor's loop).
tick_barrier() {
	local n
	n=$(($(starts tick) + ${1:-2}))
	wait_count 'event=start route=tick ' "$n" 15
}

# start_pid PATTERN: the pid of the first start line matching PATTERN.
start_pid() {
	grep -- "$1" "$SUP_LOG" | sed -n 's/.*event=start .* pid=\([0-9]*\) .*/\1/p' | head -n 1
}

# The time in the log's format (UTC), from seconds; and back.
iso_of() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S+00:00; }
epoch_of() { date -u -d "$1" +%s; }

# minute_guard: not in the last 5 s of a minute nor in its first second,
# so that the minute does not turn between faking downtime and the
# supervisor's start: then an every-minute task missed exactly 60 fires,
# the last the start of the current minute.
minute_guard() {
	local deadline=$((SECONDS + 15)) sec
	while sec=$((10#$(date -u +%S))); ((sec >= 55 || sec < 1)); do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# Jobs left running by a supervisor killed with -9 (their pids from the
# start lines of this test's logs): each is its own process group.
kill_jobs() {
	local pid
	for pid in $(sed -n 's/.*event=start .* pid=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR"/*.log 2>/dev/null); do
		[ "$(ps -o pgid=,comm= -p "$pid" 2>/dev/null | awk '{ print $1, $2 }')" = "$pid sleep" ] ||
			continue
		kill -KILL -- "-$pid" 2>/dev/null || true
	done
}

@test "config cron tasks are rows of the store (id = route name) with history; durable = false writes nothing" {
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
task "d" { exec = "true" cron = "* * * * * *" output = "null" }
task "nd" { exec = "true" cron = "* * * * * *" durable = false output = "null" }
router "r" { prefix = "rep" task "w" { exec = "sh -c 'exit 3'" cron = "* * * * * *" output = "null" } }
include-router = { "r" }
EOF
	sup_start j.conf
	wait_count 'event=exit route=d ' 2
	wait_count 'event=exit route=rep:w ' 2
	wait_count 'event=exit route=nd ' 2
	run J jobs
	assert_success
	assert_line --regexp "^d	d	(scheduled|running)	cron	"
	assert_line --regexp "^rep:w	rep:w	(scheduled|running)	cron	"
	refute_line --regexp "^nd	"
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run DB "SELECT id, route, source, trigger, cron, status FROM jobs ORDER BY id"
	assert_output "d|d|config|cron|* * * * * *|scheduled
rep:w|rep:w|config|cron|* * * * * *|scheduled"
	# Counters: every run counted, failures consecutive, the last fire
	# the last cron time run.
	n=$(grep -c 'event=exit route=d ' "$SUP_LOG")
	run DB "SELECT runs, failures, exit_code FROM jobs WHERE id = 'd'"
	assert_output "$n|0|0"
	w=$(grep -c 'event=exit route=rep:w ' "$SUP_LOG")
	run DB "SELECT runs, failures, exit_code FROM jobs WHERE id = 'rep:w'"
	assert_output "$w|$w|3"
	last=$(sched_ats d | tail -n 1)
	run DB "SELECT last_fire FROM jobs WHERE id = 'd'"
	assert_output "$(($(epoch_of "$last") * 1000))"
	# Each run is a row of history.
	run DB "SELECT count(*), min(status), max(status), min(exit_code) FROM runs WHERE job_id = 'd' AND route = 'd'"
	assert_output "$n|success|success|0"
	run DB "SELECT count(*), min(status), max(exit_code) FROM runs WHERE job_id = 'rep:w'"
	assert_output "$w|failed|3"
	# durable = false: no row, no history.
	run DB "SELECT count(*) FROM jobs WHERE route = 'nd' OR id = 'nd'"
	assert_output 0
	run DB "SELECT count(*) FROM runs WHERE route = 'nd'"
	assert_output 0
	# The CLI shows them by route name.
	run J status d
	assert_success
	assert_line "id:          d"
	assert_line "route:       d"
	assert_line "status:      scheduled"
	assert_line "trigger:     cron"
	run J status rep:w --json
	assert_success
	assert_output --regexp '^\{"id":"rep:w","route":"rep:w","status":"scheduled","trigger":"cron","cron":"\* \* \* \* \* \*",.*"exit_code":3,'
	run --separate-stderr J status nd
	assert_failure 66
}

@test "max-runs and max-failures end a cron task for good: no more fires, not after a restart; a new cron starts over" {
	# m: runs 1 and 2 succeed, run 3 fails; the row says how the last went.
	script mr 'd=$(dirname "$0"); n=$(($(cat "$d/n" 2>/dev/null || echo 0) + 1)); echo $n > "$d/n"; [ $n -lt 3 ]'
	conf j.conf <<EOF
state-dir = "state"
task "m" { exec = "./mr" cron = "* * * * * *" max-runs = 3 output = "null" }
task "f" { exec = "false" cron = "* * * * * *" max-failures = 2 output = "null" }
task "tick" { exec = "true" cron = "* * * * * *" durable = false output = "null" }
EOF
	sup_start j.conf
	wait_for 'level=error event=permanently-failed route=f failures=2$'
	wait_count 'event=exit route=m ' 3
	tick_barrier
	# max-runs = 3: exactly three runs.
	[ "$(starts m)" -eq 3 ]
	run grep 'event=exit route=m ' "$SUP_LOG"
	assert_line --index 0 --partial 'status=success'
	assert_line --index 1 --partial 'status=success'
	assert_line --index 2 --partial 'status=failed exit_code=1'
	db_wait "SELECT status, runs, failures FROM jobs WHERE id = 'm'" "failed|3|1"
	run J jobs --all
	assert_line --regexp '^m	m	failed	cron	'
	# max-failures = 2: two failed runs, then permanently-failed.
	[ "$(starts f)" -eq 2 ]
	[ "$(grep -c 'event=exit route=f .*status=failed exit_code=1' "$SUP_LOG")" -eq 2 ]
	db_wait "SELECT status, runs, failures FROM jobs WHERE id = 'f'" "permanently-failed|2|2"
	run J status f
	assert_line "status:      permanently-failed"
	# A restart revives neither.
	sup_stop
	mv "$SUP_LOG" "$(T first.log)"
	sup_start j.conf
	tick_barrier
	[ "$(starts m)" -eq 0 ]
	[ "$(starts f)" -eq 0 ]
	run cat "$(T n)"
	assert_output 3
	run DB "SELECT id, status, runs, failures FROM jobs ORDER BY id"
	assert_output "f|permanently-failed|2|2
m|failed|3|1"
	refute grep -q 'event=counters-reset' "$SUP_LOG"
	# A new cron for f does: its counters start over (m's stay).
	sed -i 's/cron = "\* \* \* \* \* \*" max-failures/cron = "*\/2 * * * * *" max-failures/' "$(T j.conf)"
	grep -q '"\*/2 \* \* \* \* \*" max-failures' "$(T j.conf)"
	run J reload
	assert_success
	wait_for 'level=info event=counters-reset route=f reason="the cron changed"'
	wait_for 'event=exit route=f .*status=failed'
	# One failure since the reset (the next is 2 s away): not permanent.
	db_wait "SELECT cron, runs, failures FROM jobs WHERE id = 'f'" "*/2 * * * * *|1|1"
	run DB "SELECT status FROM jobs WHERE id = 'f'"
	assert_output --regexp '^(scheduled|running)$'
	[ "$(grep -c 'event=permanently-failed' "$SUP_LOG")" -eq 0 ]
	[ "$(grep -c 'event=counters-reset' "$SUP_LOG")" -eq 1 ]
	[ "$(starts m)" -eq 0 ]
	run DB "SELECT status, runs, failures FROM jobs WHERE id = 'm'"
	assert_output "failed|3|1"
}

@test "misfire after an hour down: once runs the latest, skip none, all each, grace by its window" {
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
task "once" { exec = "true" cron = "* * * * *" output = "null" }
task "skip" { exec = "true" cron = "* * * * *" misfire = "skip" output = "null" }
task "all" { exec = "true" cron = "* * * * *" misfire = "all" output = "null" }
task "grace5m" { exec = "true" cron = "* * * * *" misfire = "grace 5m" output = "null" }
task "grace30s" { exec = "true" cron = "0 0 1 1 *" misfire = "grace 30s" output = "null" }
task "probe" { exec = "true" output = "null" }
EOF
	sup_start j.conf
	sup_stop
	run DB "SELECT count(*) FROM jobs WHERE source = 'config'"
	assert_output 5
	mv "$SUP_LOG" "$(T first.log)"
	# Down for an hour: every-minute tasks missed 60 fires; the yearly
	# one last fired on the eve of this year, so missed 1 January.
	minute_guard
	DB "UPDATE jobs SET last_fire = (strftime('%s','now') - 3600) * 1000 WHERE cron = '* * * * *';
UPDATE jobs SET last_fire = strftime('%s','now','start of year','-1 day') * 1000 WHERE id = 'grace30s'"
	sup_start j.conf
	for r in once skip all grace5m grace30s; do
		wait_for "event=misfire route=$r "
	done
	# The missed minutes: from 59 before the current one to it.
	now=$(sed -n 's/^time=\([^ .]*\).*event=misfire route=once .*/\1/p' "$SUP_LOG")
	latest_s=$(($(epoch_of "$now+00:00") / 60 * 60))
	latest=$(iso_of "$latest_s")
	first=$(iso_of $((latest_s - 59 * 60)))
	assert_misfire() {
		grep -q -- "level=warn event=misfire route=$1 policy=$2 missed=$3 first=$4 latest=$5 run=$6\$" "$SUP_LOG" || {
			grep "event=misfire route=$1 " "$SUP_LOG" >&2
			echo "expected: route=$1 policy=$2 missed=$3 first=$4 latest=$5 run=$6" >&2
			return 1
		}
	}
	assert_misfire once once 60 "$first" "$latest" 1
	assert_misfire skip skip 60 "$first" "$latest" 0
	assert_misfire all all 60 "$first" "$latest" 60
	assert_misfire grace5m grace 60 "$first" "$latest" 1
	year=$(iso_of "$(epoch_of "$(date -u +%Y)-01-01T00:00:00Z")")
	assert_misfire grace30s grace 1 "$year" "$year" 0
	# all: the 60 missed minutes, in order, one run after another.
	wait_count 'event=exit route=all ' 60 40
	# (Runs for minutes after LATEST are the schedule going on.)
	missed() { sched_ats "$1" | awk -v l="$latest" '$0 <= l'; }
	run missed all
	assert_output "$(seq $((latest_s - 59 * 60)) 60 "$latest_s" | sed 's/^/@/' |
		date -u -f - +%Y-%m-%dT%H:%M:%S+00:00)"
	run sh -c "grep -E 'event=(start|exit) route=all ' '$SUP_LOG' | head -n 120 |
		sed 's/.*event=\([a-z]*\) .*/\1/' | uniq -c | sed 's/^ *//' | sort -u"
	assert_output "1 exit
1 start"
	# once and grace 5m: one run, for the latest; skip and grace 30s: none.
	run missed once
	assert_output "$latest"
	run missed grace5m
	assert_output "$latest"
	run missed skip
	assert_output ""
	[ "$(starts grace30s)" -eq 0 ]
	sup_stop
	# The rows remember the latest missed time (or a fire after it).
	for r in once skip all grace5m; do
		want=$( (echo "$latest"; sched_ats "$r") | sort | tail -n 1)
		run DB "SELECT last_fire FROM jobs WHERE id = '$r'"
		assert_output "$(($(epoch_of "$want") * 1000))"
	done
	run DB "SELECT last_fire FROM jobs WHERE id = 'grace30s'"
	assert_output "$(($(epoch_of "$year") * 1000))"
	run DB "SELECT runs FROM jobs WHERE id = 'skip'"
	assert_output "$(starts skip)"
	# Not missed again at the next start.
	mv "$SUP_LOG" "$(T second.log)"
	sup_start j.conf
	id=$(J schedule probe)
	run J wait "$id"
	assert_success
	refute grep -q 'event=misfire' "$SUP_LOG"
}

@test "a config cron run found running at start was lost: a failed row of history (exit_code -1), a failure counted" {
	conf j.conf <<EOF
state-dir = "state"
shutdown-grace = 200ms
task "sl" { exec = "sleep 30" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=start route=sl '
	pid=$(start_pid 'event=start route=sl ')
	db_wait "SELECT status, runs, failures FROM jobs WHERE id = 'sl'" "running|1|0"
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	# The run dies with its supervisor.
	until_groups_gone 5 "$pid"
	mv "$SUP_LOG" "$(T first.log)"
	run DB "SELECT count(*) FROM runs"
	assert_output 0
	sup_start j.conf
	wait_for 'level=warn event=lost route=sl attempt=1$'
	db_wait "SELECT job_id, route, attempt, status, exit_code FROM runs" "sl|sl|1|failed|-1"
	db_wait "SELECT failures FROM jobs WHERE id = 'sl'" 1
	# Its start is known, its end is not.
	run DB "SELECT started_at > 0, finished_at FROM runs WHERE job_id = 'sl'"
	assert_output "1|0"
	[ "$(grep -c 'event=lost' "$SUP_LOG")" -eq 1 ]
}

@test "schedule --cron: a dynamic cron job fires every second until the task's max-runs; wait exits 0" {
	script rec 'echo "$JOBIFY_JOB_ID $JOBIFY_TRIGGER $JOBIFY_SCHEDULED_AT $JOBIFY_ATTEMPT" >> "$(dirname "$0")/rec.out"'
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
task "dyn" { exec = "./rec" max-runs = 2 output = "null" }
EOF
	sup_start j.conf
	run --separate-stderr J schedule dyn --cron '* * * * * *'
	assert_success
	id=$output
	[[ "$id" =~ ^[0-9a-z]{13}$ ]]
	# It may have made its two runs already on a slow machine: --all.
	run J jobs --all
	assert_line --regexp "^$id	dyn	(scheduled|running|success)	cron	"
	run J jobs --all --json
	assert_output --partial "\"id\":\"$id\",\"route\":\"dyn\","
	assert_output --partial '"trigger":"cron","cron":"* * * * * *"'
	run J wait "$id" --timeout 20s
	assert_success
	run cat "$(T rec.out)"
	# Fire times: whole seconds, written as a config cron task's are.
	assert_line --index 0 --regexp "^$id cron [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00 1\$"
	assert_line --index 1 --regexp "^$id cron [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00 1\$"
	[ "${#lines[@]}" -eq 2 ]
	a=$(echo "${lines[0]}" | cut -d' ' -f3)
	b=$(echo "${lines[1]}" | cut -d' ' -f3)
	# The second run is for the fire after the first's.
	[ "$(epoch_of "$b")" -eq $(($(epoch_of "$a") + 1)) ]
	run DB "SELECT status, trigger, cron, runs, failures FROM jobs WHERE id = '$id'"
	assert_output "success|cron|* * * * * *|2|0"
	run DB "SELECT count(*), min(status) FROM runs WHERE job_id = '$id'"
	assert_output "2|success"
	run J status "$id"
	assert_line "status:      success"
	assert_line "trigger:     cron"
}

@test "cancel of a scheduled dynamic cron job stops it: cancelled, no more runs" {
	conf j.conf <<EOF
state-dir = "state"
task "dyn" { exec = "true" output = "null" }
EOF
	sup_start j.conf
	a=$(J schedule dyn --cron '* * * * * *')
	wait_for "event=exit route=dyn job=$a "
	# Between its runs it is scheduled; while it runs, cancel says so.
	deadline=$((SECONDS + 10))
	until J cancel "$a" 2>"$(T cancel.err)"; do
		grep -q "job '$a' is running (--kill stops it)" "$(T cancel.err)"
		((SECONDS < deadline))
		sleep 0.05
	done
	n=$(grep -c "event=start route=dyn job=$a " "$SUP_LOG")
	run J status "$a"
	assert_line "status:      cancelled"
	run J wait "$a"
	assert_failure 1
	# Another every-second job runs twice; the cancelled one no more.
	b=$(J schedule dyn --cron '* * * * * *')
	wait_count "event=exit route=dyn job=$b " 2
	[ "$(grep -c "event=start route=dyn job=$a " "$SUP_LOG")" -eq "$n" ]
	run DB "SELECT status FROM jobs WHERE id = '$a'"
	assert_output cancelled
	run J jobs
	refute_line --regexp "^$a	"
	assert_line --regexp "^$b	dyn	"
}

@test "misfire of a dynamic cron job after downtime: skip runs none and reschedules it" {
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
task "dm" { exec = "true" misfire = "skip" output = "null" }
EOF
	minute_guard
	id=$(J schedule dm --cron '* * * * *')
	run DB "SELECT status, trigger, run_at % 60000, run_at > strftime('%s','now') * 1000 FROM jobs WHERE id = '$id'"
	assert_output "scheduled|cron|0|1"
	DB "UPDATE jobs SET run_at = run_at - 3600000, scheduled_at = scheduled_at - 3600000 WHERE id = '$id'"
	sup_start j.conf
	wait_for "level=warn event=misfire route=dm job=$id policy=skip missed=60 run=0\$"
	db_wait "SELECT status, run_at > strftime('%s','now') * 1000, run_at = scheduled_at FROM jobs WHERE id = '$id'" "scheduled|1|1"
	run_at=$(DB "SELECT run_at / 1000 FROM jobs WHERE id = '$id'")
	# The latest missed minute is the last fire; the next is after now.
	run DB "SELECT last_fire FROM jobs WHERE id = '$id'"
	assert_output "$(((run_at - 60) * 1000))"
	# Nothing ran for a missed time (a run may come at the new run_at).
	run sh -c "grep 'event=start route=dm ' '$SUP_LOG' | grep -v 'scheduled_at=$(iso_of "$run_at") '"
	assert_output ""
	run DB "SELECT count(*) FROM runs WHERE job_id = '$id' AND started_at < $run_at * 1000"
	assert_output 0
}

@test "the control socket: STATE/jobify.sock, mode 0600 in a 0700 directory, gone at stop" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" }
EOF
	sup_start j.conf
	sock=$(T state/jobify.sock)
	[ -S "$sock" ]
	run stat -c %a "$sock"
	assert_output 600
	run stat -c %a "$(T state)"
	assert_output 700
	[ ! -e "$(T xdg-runtime)/jobify/jobify.sock" ]
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	[ ! -e "$sock" ]
}

@test "schedule --now with a supervisor starts the job; wait returns 0, the exit code, 128+N, 124; --timeout 75" {
	conf j.conf <<EOF
state-dir = "state"
task "ok" { exec = "true" output = "null" }
task "seven" { exec = "sh -c 'exit 7'" output = "null" }
task "nine" { exec = "sh -c 'kill -9 \$\$'" output = "null" }
task "slow" { exec = "sleep 30" timeout = 1s output = "null" }
task "long" { exec = "sleep 30" output = "null" }
EOF
	sup_start j.conf
	id=$(J schedule ok --now)
	wait_for "event=start route=ok job=$id " 30
	run J wait "$id"
	assert_success
	id=$(J schedule seven)
	run J wait "$id"
	assert_failure 7
	id=$(J schedule nine)
	run J wait "$id"
	assert_failure 137
	run J status "$id"
	assert_line "status:      failed"
	id=$(J schedule slow)
	run J wait "$id"
	assert_failure 124
	run J status "$id"
	assert_line "status:      timeout"
	id=$(J schedule long)
	run --separate-stderr J wait "$id" --timeout 1s
	assert_failure 75
	[ "$stderr" = "jobify: wait: not all ended within the --timeout" ]
	run J status "$id"
	assert_line --regexp '^status:      (scheduled|running)$'
	run J cancel --kill "$id"
	assert_success
	run J wait "$id"
	assert_failure 1
}

@test "wait with no supervisor running exits 69" {
	conf j.conf <<EOF
state-dir = "state"
task "ok" { exec = "true" }
EOF
	id=$(J schedule ok)
	run --separate-stderr J wait "$id"
	assert_failure 69
	[ "$stderr" = "jobify: wait: job '$id' is not done and no supervisor is running (start one: jobify run)" ]
}

@test "cancel of a running job exits 65; cancel --kill stops it: cancelled, no retry, no on-failure, waiters return" {
	script onfail 'echo "$JOBIFY_ROUTE $JOBIFY_STATUS" >> "$(dirname "$0")/onfail.out"'
	conf j.conf <<EOF
state-dir = "state"
on-failure = "./onfail"
task "long" { exec = "sleep 30" retry = 2 retry-delay = 100ms output = "null" }
task "bad" { exec = "false" output = "null" }
EOF
	sup_start j.conf
	id=$(J schedule long)
	wait_for "event=start route=long job=$id "
	pid=$(start_pid "event=start route=long job=$id ")
	kill -0 "$pid"
	(
		rc=0
		J wait "$id" || rc=$?
		echo "$rc" >"$(T wait.rc)"
	) 3>&- &
	waiter=$!
	run --separate-stderr J cancel "$id"
	assert_failure 65
	[ "$stderr" = "jobify: cancel: job '$id' is running (--kill stops it)" ]
	run J status "$id"
	assert_line "status:      running"
	run J cancel --kill "$id"
	assert_success
	wait_for "event=exit route=long job=$id pid=$pid status=cancelled"
	wait "$waiter"
	run cat "$(T wait.rc)"
	assert_output 1
	run J status "$id"
	assert_line "status:      cancelled"
	assert_line "attempts:    1"
	run kill -0 "$pid"
	assert_failure
	run DB "SELECT attempt, status FROM runs WHERE job_id = '$id'"
	assert_output "1|cancelled"
	# A job that fails does get the handler: by then the cancelled one
	# would have had it too.
	b=$(J schedule bad)
	run J wait "$b"
	assert_failure 1
	wait_for 'event=handler-exit route=bad '
	run cat "$(T onfail.out)"
	assert_output "bad failed"
	[ "$(grep -c "event=start route=long " "$SUP_LOG")" -eq 1 ]
	refute grep -q 'event=retry' "$SUP_LOG"
}

@test "reload through the socket: a good config is taken (by=control); a bad one exits 78 and the supervisor goes on" {
	conf j.conf <<EOF
state-dir = "state"
task "tick" { exec = "true" cron = "* * * * * *" durable = false output = "null" }
EOF
	sup_start j.conf
	cat >>"$(T j.conf)" <<EOF
task "new" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	run J reload
	assert_success
	assert_output ""
	run grep 'event=reloaded' "$SUP_LOG"
	assert_output --regexp 'level=info event=reloaded by=control routes=2 added=1 removed=0 '
	wait_for 'event=exit route=new '
	cp "$(T j.conf)" "$(T good.conf)"
	cat >>"$(T j.conf)" <<EOF
task "bad" { exec = "true" cron = "61 * * * *" }
EOF
	run --separate-stderr J reload
	assert_failure 78
	[[ "$stderr" == *"j.conf:4"*"61 is out of range 0-59"* ]]
	before=$(grep -v -c 'event=\(start\|exit\) route=\(tick\|new\) ' "$SUP_LOG")
	tick_barrier 2
	[ "$(grep -v -c 'event=\(start\|exit\) route=\(tick\|new\) ' "$SUP_LOG")" -eq "$before" ]
	refute grep -q 'reload-failed' "$SUP_LOG"
	[ "$(grep -c 'event=reloaded' "$SUP_LOG")" -eq 1 ]
	cp "$(T good.conf)" "$(T j.conf)"
	run J reload
	assert_success
	[ "$(grep -c 'event=reloaded by=control' "$SUP_LOG")" -eq 2 ]
}

@test "jobs of one route started together each have their own log: logs A shows A's output, B B's" {
	script say 'echo "out of $1"'
	conf j.conf <<EOF2
state-dir = "state"
task "say" { exec = "./say" output = "log" }
EOF2
	# Two jobs due at the same instant, and a batch: all due before the
	# supervisor starts, so its first look claims them all at once.
	at=$(($(date +%s) + 1))
	a=$(J schedule say --at "@$at" -- A)
	b=$(J schedule say --at "@$at" -- B)
	mapfile -t batch < <(printf 'say -- C\nsay -- D\nsay -- E\n' | J schedule --stdin)
	[ "${#batch[@]}" -eq 3 ]
	db_wait "SELECT count(*) FROM jobs WHERE run_at <= CAST(strftime('%s','now') AS INTEGER) * 1000" 5
	sup_start j.conf
	run J wait --timeout 30s "$a" "$b" "${batch[@]}"
	assert_success
	run J logs "$a"
	assert_output "out of A"
	run J logs "$b"
	assert_output "out of B"
	i=0
	for w in C D E; do
		run J logs "${batch[$i]}"
		assert_output "out of $w"
		i=$((i + 1))
	done
	# Five attempts, five files, each named by its job and attempt.
	run DB "SELECT count(DISTINCT log) FROM runs"
	assert_output 5
	run DB "SELECT count(*) FROM runs WHERE log NOT LIKE '%-' || job_id || '-1.log'"
	assert_output 0
	[ "$(find "$(T state/logs/say)" -name '*.log' | wc -l)" -eq 5 ]
}

@test "a lost attempt's row of history: its start and its log, no end time and no duration" {
	script blk 'echo "started $1"; while [ ! -e "$(dirname "$0")/go" ]; do sleep 0.05; done'
	conf j.conf <<EOF2
state-dir = "state"
task "blk" { exec = "./blk" output = "log" }
EOF2
	sup_start j.conf
	id=$(J schedule blk -- x)
	wait_for "event=start route=blk job=$id"
	pid=$(start_pid "event=start route=blk job=$id")
	db_wait "SELECT status, started_at > 0 FROM jobs WHERE id = '$id'" "running|1"
	log=$(DB "SELECT log FROM jobs WHERE id = '$id'")
	[ -n "$log" ]
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	: >"$(T go)"
	until_pid_gone() {
		local deadline=$((SECONDS + 20))
		while kill -0 "$1" 2>/dev/null; do
			((SECONDS < deadline)) || return 1
			sleep 0.05
		done
	}
	until_pid_gone "$pid"
	sup_start j.conf
	wait_for "event=lost job=$id "
	db_wait "SELECT status FROM jobs WHERE id = '$id'" failed
	run DB "SELECT started_at > 0, finished_at, log FROM runs WHERE job_id = '$id'"
	assert_output "1|0|$log"
	run J history --json blk
	assert_success
	[[ "$output" == *'"finished_at":null,"duration_ms":null,"log":"'"$log"'"'* ]] ||
		{ echo "$output" >&2; false; }
	run J history blk
	assert_line --regexp "^[0-9T:+-]+	-	blk	$id	1	failed	-\$"
	run J logs "$id"
	assert_output "started x"
}

@test "a jitter as long as the interval: every cron time runs (late by its jitter), none is dropped; check warns" {
	script at 'echo "$JOBIFY_SCHEDULED_AT" >> "$(dirname "$0")/at.out"'
	conf j.conf <<EOF2
state-dir = "state"
task "jt" { exec = "./at" cron = "* * * * * *" jitter = 3s overlap = "parallel" output = "null" }
EOF2
	run --separate-stderr J check
	assert_success
	[[ "$stderr" == *"j.conf:2: warning: jitter: 3000 ms is not shorter than the 1s between fires"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	sup_start j.conf
	# The cron times run, in order, with none missing between the first
	# and the tenth after it.  The supervisor is stopped only once they
	# have all run: a fire still waiting for its jitter at the stop is
	# not dropped, and a dropped one never comes (the deadline).
	secs() {
		while read -r t; do date -u -d "$t" +%s; done <"$(T at.out)" | sort -n
	}
	local deadline=$((SECONDS + 60)) first
	until [ -s "$(T at.out)" ] && first=$(secs | head -n 1) &&
		[ "$(secs | awk -v f="$first" '$1 >= f && $1 < f + 10' | sort -u | wc -l)" -eq 10 ]; do
		if ((SECONDS >= deadline)); then
			echo "cron times run, in seconds:" >&2
			secs >&2
			grep -e 'event=misfire' -e 'event=skip' "$SUP_LOG" >&2 || true
			false
		fi
		sleep 0.1
	done
	sup_stop
	# Each at most once, and the loop never came so late that the misfire
	# policy had to choose.
	dups=$(secs | uniq -d)
	[ -z "$dups" ] || { echo "run twice: $dups" >&2; false; }
	run grep -q -e 'event=misfire route=jt' "$SUP_LOG"
	assert_failure 1
	run grep -q 'event=skip route=jt' "$SUP_LOG"
	assert_failure 1
}

@test "a failure handler has its job's environment: a job of the store's id, time and --env; a cron task's route name" {
	# Each writes its environment; the handler's, less its four own
	# variables, must be the job's last attempt's.
	script job 'env | sort > "$(dirname "$0")/job.$JOBIFY_ROUTE"
[ "$1" = slow ] && exec sleep 30
exit 3'
	script h 'env | grep -v -e ^JOBIFY_STATUS= -e ^JOBIFY_EXIT_CODE= -e ^JOBIFY_SIGNAL= -e ^JOBIFY_LOG= |
sort > "$(dirname "$0")/h.$JOBIFY_ROUTE"'
	conf j.conf <<EOF2
state-dir = "state"
task "bad" { exec = "./job" output = "null" on-failure = "./h" }
task "slow" { exec = "./job slow" timeout = 200ms kill-grace = 100ms output = "null" on-timeout = "./h" }
task "cr" { exec = "./job" cron = "@reboot" output = "null" on-failure = "./h" }
task "crs" { exec = "./job slow" cron = "@reboot" timeout = 200ms kill-grace = 100ms output = "null" on-timeout = "./h" }
EOF2
	sup_start j.conf
	id=$(J schedule bad --env K=v)
	sid=$(J schedule slow --in 1s)
	wait_count 'event=handler-exit' 4
	sup_stop
	grep -qx "JOBIFY_JOB_ID=$id" "$(T h.bad)"
	grep -qx "JOBIFY_JOB_ID=$sid" "$(T h.slow)"
	grep -qx "K=v" "$(T h.bad)"
	grep -qx "JOBIFY_JOB_ID=cr" "$(T h.cr)"
	grep -qx "JOBIFY_JOB_ID=crs" "$(T h.crs)"
	grep -q "^JOBIFY_SCHEDULED_AT=.\+" "$(T h.slow)"
	for r in bad slow cr crs; do
		diff "$(T "job.$r")" "$(T "h.$r")"
	done
	# The handler's lines name the job of the store it handles.
	grep -q "event=handler route=bad job=$id " "$SUP_LOG"
	grep -q "event=handler-exit route=slow job=$sid " "$SUP_LOG"
}

@test "a lost run that fails for good runs its on-failure handler with JOBIFY_STATUS=failed; one with a retry left does not" {
	script blk 'while [ ! -e "$(dirname "$0")/go" ]; do sleep 0.05; done'
	script onfail 'echo "$JOBIFY_ROUTE $JOBIFY_JOB_ID $JOBIFY_STATUS code=$JOBIFY_EXIT_CODE sig=$JOBIFY_SIGNAL attempt=$JOBIFY_ATTEMPT" >> "$(dirname "$0")/onfail.out"'
	conf j.conf <<EOF2
state-dir = "state"
on-failure = "./onfail"
task "blk" { exec = "./blk" output = "null" }
task "rt" { exec = "./blk" output = "null" retry = 1 retry-delay = 10ms }
task "cr" { exec = "./blk" cron = "* * * * * *" output = "null" }
EOF2
	sup_start j.conf
	id=$(J schedule blk)
	rid=$(J schedule rt)
	wait_for "event=start route=blk job=$id "
	wait_for "event=start route=rt job=$rid "
	wait_for "event=start route=cr "
	pids="$(start_pid "event=start route=blk ") $(start_pid "event=start route=rt ") $(start_pid "event=start route=cr ")"
	db_wait "SELECT count(*) FROM jobs WHERE status = 'running'" 3
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	: >"$(T go)"
	for pid in $pids; do
		deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null; do
			((SECONDS < deadline))
			sleep 0.05
		done
	done
	[ ! -e "$(T onfail.out)" ]
	sup_start j.conf
	wait_for "event=lost job=$id "
	# The retry of rt runs (and succeeds): no handler for it.
	wait_for "event=exit route=rt job=$rid .*status=success"
	wait_count "event=handler-exit" 2
	run sort "$(T onfail.out)"
	assert_output "blk $id failed code= sig= attempt=1
cr cr failed code= sig= attempt=1"
	run J wait "$id"
	assert_failure 1
}
