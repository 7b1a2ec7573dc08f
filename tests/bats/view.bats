#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# What a user sees: status without an id, the tables of routes, jobs and
# history on a terminal (through a pseudo-terminal: ptyrun.py) and piped,
# escaping, wait's status line, and mail-to.

setup() {
	load sup-helpers
	cd "$BATS_TEST_TMPDIR"
	conf v.conf <<'EOF2'
state-dir = "state"
task "nl" { exec = { "sh", "-c", "echo a\necho b\tc\\d" } output = "null" }
task "fails" { exec = 'sh -c "echo line 1; echo line 2 >&2; exit 3"' }
task "slow" { exec = './waitfile go' output = "null" }
task "ok" { exec = 'true' output = "null" }
router "reports" {
  task "weekly_report_for_everyone_in_the_company" { exec = 'true' cron = "0 6 * * mon" }
}
include-router = { "reports" }
EOF2
	script waitfile 'while [ ! -e "$(dirname "$0")/$1" ]; do sleep 0.05; done'
	J() { "$JOBIFY" -c v.conf "$@"; }
	PTY() { "$top_srcdir/tests/bats/ptyrun.py" "$@"; }
}

teardown() {
	sup_teardown
}

# Each line of OUTPUT at most N columns wide.
max_width() {
	local n=$1 line
	while IFS= read -r line; do
		if [ "$(printf '%s' "$line" | wc -m)" -gt "$n" ]; then
			echo "wider than $n: '$line'" >&2
			return 1
		fi
	done <<<"$output"
}

@test "piped routes escape tab, newline and backslash: one record a line" {
	run --separate-stderr J routes
	assert_success
	assert_line --index 0 "nl	-	-	sh -c 'echo a\\necho b\\tc\\\\d'	v.conf:2"
	[ "${#lines[@]}" -eq 5 ]
	# Nothing is created by a look at the routes.
	[ ! -e state ]
}

@test "routes on a terminal: widths from the rows, control characters escaped, fitted to 80 columns" {
	run PTY --cols 200 "$JOBIFY" -c v.conf routes
	assert_success
	# LEFT is as wide as its widest value, the time to Monday 06:00
	# ("3d 9h" or "3d 10h"): the columns after it move with it.
	assert_line --index 0 --regexp "^ROUTE                                              SCHEDULE     NEXT +LEFT  LAST  PASSED  RESULT  COMMAND                                       SOURCE\$"
	assert_line --index 1 --regexp "^nl                                                 -            -                     +-  -          -  -       sh -c 'echo a\\\\necho b\\\\tc\\\\\\\\d'                  v.conf:2\$"
	assert_line --regexp "^reports:weekly_report_for_everyone_in_the_company  0 6 \* \* mon  20[0-9-]{8} 06:00:00 +[0-9a-z ]+  -          -  -       true                                          v.conf:7$"
	run PTY --cols 80 "$JOBIFY" -c v.conf routes
	assert_success
	max_width 80
	# The long route name is cut with an ellipsis; SOURCE, then LAST
	# and NEXT are left out before that.
	assert_line --index 0 --regexp "^ROUTE +SCHEDULE +LEFT +PASSED +RESULT +COMMAND$"
	assert_line --regexp "^reports:weekly_report_for_[a-z_]+…  0 6 \* \* mon"
	run PTY --cols 80 "$JOBIFY" -c v.conf routes --full
	assert_line --index 0 --regexp "^ROUTE +SCHEDULE +NEXT +LEFT +LAST +PASSED +RESULT +COMMAND +SOURCE$"
	assert_line --regexp "^reports:weekly_report_for_everyone_in_the_company  0 6"
}

@test "routes, jobs and history show the last run and its result" {
	sup_start v.conf
	id=$(J schedule fails)
	run J wait "$id"
	assert_failure 3
	later=$(J schedule ok --in 2h)
	run PTY --cols 250 "$JOBIFY" -c v.conf routes
	assert_success
	assert_line --regexp "^fails +- +- +- +20[0-9-]{8} [0-9:]{8} +[0-9]+s ago +failed \(3\) +sh -c \"echo line 1; echo line 2 >&2; exit 3\" +v.conf:3$"
	run PTY --cols 120 "$JOBIFY" -c v.conf jobs --all
	assert_success
	assert_line --index 0 --regexp "^ID +ROUTE +STATUS +TRIGGER +RUN AT +LEFT +LAST +PASSED +RESULT$"
	assert_line --regexp "^$id +fails +failed +now +20[0-9-]{8} [0-9:]{8} +- +20[0-9-]{8} [0-9:]{8} +[0-9]+s ago +failed \(3\)$"
	assert_line --regexp "^$later +ok +scheduled +in +20[0-9-]{8} [0-9:]{8} +(1h 59min|2h) +- +- +-$"
	run PTY --cols 120 "$JOBIFY" -c v.conf history
	assert_success
	# ROUTE is as wide as the longest route in the rows, not 28.
	assert_line --index 0 "START                      DURATION  ROUTE  JOB            ATTEMPT  STATUS  EXIT"
	assert_line --index 1 --regexp "^20[0-9-]{8}T[0-9:]{8}[+-][0-9:]{5} +[0-9.]+m?s  fails  $id        1  failed  3$"
	# Piped, the fields are those of before.
	run --separate-stderr J jobs --all
	assert_line --regexp "^$id	fails	failed	now	[^	]+	3$"
	run --separate-stderr J history
	assert_line --regexp "^[^	]+	[^	]+	fails	$id	1	failed	3$"
}

@test "routes on a terminal: LEFT is the time to the next fire, also for a route that has run" {
	# A fire 10 to 13 hours away (a DST change may move it by one).
	h=$((($(date +%-H) + 12) % 24))
	conf left.conf <<EOF2
state-dir = "state"
task "later" { exec = 'true' cron = "0 $h * * *" output = "null" }
EOF2
	sup_start left.conf
	id=$("$JOBIFY" -c left.conf schedule later)
	run "$JOBIFY" -c left.conf wait "$id"
	assert_success
	run PTY --cols 200 "$JOBIFY" -c left.conf routes
	assert_success
	assert_line --regexp "^later +0 $h \* \* \* +20[0-9-]{8} [0-9:]{8} +1[0-3]h( [0-9]+min)? +20[0-9-]{8} [0-9:]{8} +[0-9]+s ago +success +true +left.conf:2$"
}

@test "jobs -n N lists N jobs at most; a bad N exits 65" {
	a=$(J schedule ok --in 1h)
	b=$(J schedule ok --in 2h)
	run --separate-stderr J jobs -n 1
	assert_success
	assert_output --regexp "^$a	ok	scheduled	in	"
	[ "${#lines[@]}" -eq 1 ]
	run --separate-stderr J jobs -n 5 --json
	assert_success
	[[ "$output" == *"\"id\":\"$a\""*"\"id\":\"$b\""* ]]
	run --separate-stderr J jobs -n x
	assert_failure 65
	[ "$stderr" = "jobify: jobs: -n: 'x' is not a positive integer" ]
	run --separate-stderr J jobs -n 0
	assert_failure 65
	run --separate-stderr J jobs -n
	assert_failure 64
}

@test "control bytes in arguments are escaped in error messages and in status" {
	run --separate-stderr J schedule $'t\e]0;x\a'
	assert_failure 66
	[ "$stderr" = "jobify: schedule: no route 't\\033]0;x\\a' (see jobify routes)" ]
	id=$(J schedule ok --in 1h -- $'\e[2J' $'two\nlines')
	run --separate-stderr J status "$id"
	assert_success
	[[ "$output" != *$'\e'* ]]
	assert_line --regexp "^args: +.*\\\\033\[2J.*two\\\\nlines"
}

@test "status without a supervisor: what the store knows, exit 69, nothing created" {
	run --separate-stderr J status
	assert_failure 69
	assert_line --index 0 "supervisor:  not running (start one: jobify run)"
	assert_line --index 1 "config:      v.conf (5 routes)"
	assert_line --index 2 "store:       state/jobify.db (not created yet)"
	assert_line --index 3 "RUNNING: none"
	assert_line --index 4 "QUEUED: none due"
	assert_line --index 5 --regexp "^NEXT +LEFT +ROUTE +JOB$"
	assert_line --index 6 --regexp "^20[0-9-]{8} 06:00:00 +[0-9dhmins ]+ +reports:weekly_report_for_everyone_in_the_company +-$"
	assert_line --index 7 "FAILED: none in the latest 1000 runs"
	[ ! -e state ]
	id=$(J schedule ok --at @1)
	run --separate-stderr J status
	assert_failure 69
	assert_line --index 2 "store:       state/jobify.db (1 scheduled, 1 due, 0 running)"
	assert_line --index 4 --regexp "^QUEUED +ROUTE +DUE +LATE$"
	assert_line --index 5 --regexp "^$id +ok +1970-01-01 00:00:01 +[0-9]+d [0-9]+h$|^$id +ok +1970-01-01 00:00:01 +[0-9]+d$"
	run --separate-stderr J status --json
	assert_failure 69
	python3 -c '
import json, sys
s = json.loads(sys.argv[1])
assert s["supervisor"]["running"] is False and s["supervisor"]["pid"] is None, s
assert s["queued"][0]["id"] == sys.argv[2] and s["due"] == 1, s
assert [n["route"] for n in s["next"]] == ["reports:weekly_report_for_everyone_in_the_company"], s
' "$output" "$id"
}

@test "status with a supervisor: pid, uptime, running jobs, next fires, last failures" {
	sup_start v.conf
	f=$(J schedule fails)
	run J wait "$f"
	s=$(J schedule slow)
	n=$(J schedule ok --in 1h)
	wait_for "event=start route=slow"
	run --separate-stderr J status
	assert_success
	assert_line --index 0 --regexp "^supervisor:  running, pid $SUP_PID, up [0-9]+s \(since 20[0-9-]{8} [0-9:]{8}\)$"
	assert_line --index 3 --regexp "^RUNNING +ROUTE +PID +STARTED +FOR$"
	assert_line --index 4 --regexp "^$s +slow +[0-9]+ +20[0-9-]{8} [0-9:]{8} +[0-9]+s$"
	assert_line "QUEUED: none due"
	assert_line --regexp "^20[0-9-]{8} [0-9:]{8} +(59min [0-9]+s|1h) +ok +$n$"
	assert_line --regexp "^20[0-9-]{8} [0-9:]{8} +[0-9]+s ago +fails +$f +failed \(3\)$"
	run --separate-stderr J status --json
	assert_success
	python3 -c '
import json, sys
s = json.loads(sys.argv[1])
sup = s["supervisor"]
assert sup["running"] and sup["pid"] == int(sys.argv[2]) and sup["uptime_ms"] >= 0, s
assert sup["config"].endswith("v.conf") and sup["queued"] == 0, s
assert [(r["id"], r["route"]) for r in s["running"]] == [(sys.argv[3], "slow")], s
assert s["running"][0]["pid"] > 0, s
assert s["next"][0]["job"] == sys.argv[4] and s["next"][0]["route"] == "ok", s
assert s["failures"][0]["job_id"] == sys.argv[5] and s["failures"][0]["exit_code"] == 3, s
' "$output" "$SUP_PID" "$s" "$n" "$f"
	touch go
	run J wait "$s"
	assert_success
}

@test "wait on a terminal shows what it waits for and for how long; piped it is silent" {
	sup_start v.conf
	s=$(J schedule slow)
	wait_for "event=start route=slow"
	PTY --cols 80 --out tty.out "$JOBIFY" -c v.conf wait "$s" >tty.all 3>&- &
	pty=$!
	wait_for "waiting [0-9]*s for job $s (slow, running)" 20 tty.out
	# It is redrawn: the line for a later second comes.
	wait_for "waiting [1-9][0-9]*s for job $s" 20 tty.out
	touch go
	wait "$pty"
	# Erased at the end: the last thing written clears the line.
	[[ "$(cat tty.all)" == *$'\r\e[K' ]]
	rm go
	s=$(J schedule slow)
	wait_for "event=start route=slow job=$s"
	run --separate-stderr J wait "$s" --timeout 1200ms
	assert_failure 75
	[ "$stderr" = "jobify: wait: not all ended within the --timeout" ]
	touch go
}

@test "mail-to: a failed run's status and log tail go to sendmail; none installed is a log line" {
	conf m.conf <<'EOF2'
state-dir = "mstate"
mail-to = "ops@example.com"
task "fails" { exec = 'sh -c "echo line 1; echo line 2 >&2; exit 3"' }
task "quiet" { exec = 'false' mail-to = "" }
task "fine" { exec = 'true' }
router "r" { mail-to = "a@example.com, b@example.com" task "t" { exec = 'false' output = "null" } }
include-router = { "r" }
EOF2
	script sendmail 'd=$(dirname "$0"); printf "%s\n" "$@" >"$d/mail.args"; cat >"$d/mail.in"'
	JOBIFY_SENDMAIL=$PWD/sendmail sup_start m.conf
	id=$("$JOBIFY" -c m.conf schedule fails)
	wait_for "event=mail-sent route=fails"
	run cat mail.args
	assert_output "-i
ops@example.com"
	run cat mail.in
	assert_line --index 0 "To: ops@example.com"
	assert_line --index 1 "Subject: jobify: fails failed on $(hostname)"
	assert_line "Auto-Submitted: auto-generated"
	assert_line "route:    fails"
	assert_line "job:      $id"
	assert_line "status:   failed, exit code 3"
	assert_line --regexp "^log:      $PWD/mstate/logs/fails/.*-1\.log$"
	assert_output --partial "The end of its log:

line 1
line 2"
	rm mail.*
	# "" turns it off; a success sends nothing; a router's applies to its tasks.
	q=$("$JOBIFY" -c m.conf schedule quiet)
	f=$("$JOBIFY" -c m.conf schedule fine)
	t=$("$JOBIFY" -c m.conf schedule r:t)
	run "$JOBIFY" -c m.conf wait "$q" "$f" "$t"
	assert_failure 1
	wait_for "event=mail-sent route=r:t"
	run cat mail.args
	assert_output "-i
a@example.com
b@example.com"
	run grep -c "event=mail" "$SUP_LOG"
	assert_output 4
	sup_stop
	# No sendmail: the failure says so in the log, and nothing else breaks.
	JOBIFY_SENDMAIL=$PWD/nope sup_start m.conf
	"$JOBIFY" -c m.conf schedule fails >/dev/null
	wait_for "event=mail-failed route=fails"
	run grep "event=mail-failed" "$SUP_LOG"
	assert_output --regexp "level=warn event=mail-failed route=fails to=ops@example.com error=\"no sendmail at $PWD/nope \(No such file or directory; \\\$JOBIFY_SENDMAIL names another\)\"$"
}

@test "mail-to: a value sendmail would take for an option is a config error" {
	conf bad.conf <<'EOF2'
state-dir = "bstate"
task "t" {
  exec = 'true'
  mail-to = "-oQ/tmp/x a@example.com"
}
EOF2
	run --separate-stderr "$JOBIFY" -c bad.conf check
	assert_failure 78
	[ "$stderr" = "jobify: bad.conf:4: mail-to: '-oQ/tmp/x a@example.com': an address starts with '-' (sendmail would take it for an option)" ]
}

@test "status counts the fires an overlap queue holds, and none once they have run" {
	conf q.conf <<'EOF2'
state-dir = "state"
task "q" { exec = './waitfile go' cron = "* * * * * *" overlap = "queue" output = "null" }
EOF2
	sup_start q.conf
	queued() { "$JOBIFY" -c q.conf status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["supervisor"]["queued"])'; }
	# One runs, blocked; the next fires wait in the queue.
	until_queued() {
		local deadline=$((SECONDS + 30)) q
		until q=$(queued) && [ "$q" "$1" "$2" ]; do
			if ((SECONDS >= deadline)); then
				echo "queued: $q, wanted $1 $2" >&2
				return 1
			fi
			sleep 0.1
		done
	}
	until_queued -ge 2
	run grep -c "event=start route=q " "$SUP_LOG"
	assert_output 1
	# Let them all through: the queue empties, and the count with it.
	touch go
	until_queued -eq 0
	wait_for "event=exit route=q " 20
}
