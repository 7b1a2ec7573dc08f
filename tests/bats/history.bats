#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# history and logs: the run history and the captured output of jobs, with
# a real supervisor running them.

setup() {
	load sup-helpers
	# out: exactly this output, stderr too, and no newline at the end.
	script out 'printf "first line\n  two  spaces\t tab\n"; echo "to stderr" >&2; printf "no newline: %s" "$*"'
	# gated: a line, then waits for the test's go file, a line, the same
	# again, and ends with the status in the file (or 0).
	script gated 'd=$(dirname "$0")
echo one; echo one >> "$d/progress"
while [ ! -e "$d/go" ]; do sleep 0.02; done
echo two; echo two >> "$d/progress"
while [ ! -e "$d/go2" ]; do sleep 0.02; done
echo three
exit "$(cat "$d/go2")"'
	script flaky 'echo "attempt $JOBIFY_ATTEMPT"; exit 2'
	conf h.conf <<EOF
state-dir = "state"
timezone = "Asia/Kolkata"
task "out" { exec = "./out" }
task "exit3" { exec = "sh -c 'echo bye; exit 3'" }
task "killed" { exec = "sh -c 'kill -KILL \$\$'" output = "null" }
task "slow" { exec = "sleep 30" timeout = 200ms output = "null" }
task "quiet" { exec = "true" output = "null" }
task "inh" { exec = "echo inherited" output = "inherit" }
task "gated" { exec = "./gated" }
task "flaky" { exec = "./flaky" retry = 1 retry-delay = 50ms }
EOF
	J() { "$JOBIFY" -c "$(T h.conf)" "$@"; }
	ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+05:30'
	DUR='([0-9]+ms|[0-9]+\.[0-9]s|[0-9]+m[0-9]{2}s)'
}

teardown() {
	if [ -n "${LOGS_PID:-}" ]; then
		kill "$LOGS_PID" 2>/dev/null || true
		wait "$LOGS_PID" 2>/dev/null || true
	fi
	sup_teardown
}

# run_job ROUTE [ARGS...]: schedule ROUTE now and wait for its end; its
# id in $ID.
run_job() {
	ID=$(J schedule "$@")
	J wait "$ID" || true
}

# wait_exit PID [SECONDS]: until process PID has exited (it must be a
# child of this shell), then its exit status in $EXIT; fail at the deadline.
wait_exit() {
	local deadline=$((SECONDS + ${2:-20}))
	while kill -0 "$1" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "process $1 still running after ${2:-20}s" >&2
			return 1
		fi
		sleep 0.05
	done
	EXIT=0
	wait "$1" || EXIT=$?
}

@test "history: past runs newest first; -n; a route filter" {
	sup_start h.conf
	run_job out a
	a=$ID
	run_job exit3
	b=$ID
	run_job out c
	c=$ID
	run --separate-stderr J history
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp "^$ISO	$DUR	out	$c	1	success	0\$"
	assert_line --index 1 --regexp "^$ISO	$DUR	exit3	$b	1	failed	3\$"
	assert_line --index 2 --regexp "^$ISO	$DUR	out	$a	1	success	0\$"
	run J history -n 2
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --partial "	$c	"
	assert_line --index 1 --partial "	$b	"
	run J history out
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --partial "	$c	"
	assert_line --index 1 --partial "	$a	"
	run J history out -n 1
	assert_output --regexp "^[^	]+	[^	]+	out	$c	"
	# A route of the config with no runs: nothing, and success.
	run --separate-stderr J history quiet
	assert_success
	assert_output ""
	[ "$stderr" = "" ]
}

@test "history: each attempt is a row; EXIT shows the code or the signal" {
	sup_start h.conf
	run_job flaky
	f=$ID
	run_job killed
	k=$ID
	run_job slow
	s=$ID
	run J history
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	assert_line --index 0 --regexp "	slow	$s	1	timeout	SIGTERM\$"
	assert_line --index 1 --regexp "	killed	$k	1	failed	SIGKILL\$"
	assert_line --index 2 --regexp "	flaky	$f	2	failed	2\$"
	assert_line --index 3 --regexp "	flaky	$f	1	failed	2\$"
	# The timed-out run lasted its timeout, about.
	assert_line --index 0 --regexp "^$ISO	([2-9][0-9]{2}ms|[0-9]+\.[0-9]s)	"
	# logs shows the last attempt's output.
	run J logs "$f"
	assert_success
	assert_output "attempt 2"
}

@test "history --json: every run as an object, parseable" {
	sup_start h.conf
	run_job out x
	o=$ID
	run_job killed
	k=$ID
	run_job quiet
	q=$ID
	J history --json >"$(T h.json)"
	python3 - "$(T h.json)" "$o" "$k" "$q" <<'PY'
import json, re, sys
path, o, k, q = sys.argv[1:]
runs = json.load(open(path))
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$")
keys = {"job_id", "route", "attempt", "status", "exit_code", "signal",
        "started_at", "finished_at", "duration_ms", "log"}
assert [r["job_id"] for r in runs] == [q, k, o], runs
for r in runs:
    assert keys <= set(r), r
    assert iso.match(r["started_at"]) and iso.match(r["finished_at"]), r
    assert isinstance(r["duration_ms"], int) and r["duration_ms"] >= 0, r
    assert r["attempt"] == 1, r
rq, rk, ro = runs
assert (rq["route"], rq["status"], rq["exit_code"], rq["signal"], rq["log"]) == \
    ("quiet", "success", 0, None, None), rq
assert (rk["route"], rk["status"], rk["exit_code"], rk["signal"], rk["log"]) == \
    ("killed", "failed", 128 + 9, "SIGKILL", None), rk
assert (ro["route"], ro["status"], ro["exit_code"], ro["signal"]) == \
    ("out", "success", 0, None), ro
assert ro["log"].endswith("-1.log") and "/logs/out/" in ro["log"], ro
assert open(ro["log"]).read().endswith("no newline: x"), ro
PY
	run J history --json -n 1 killed
	assert_success
	assert_output --regexp "^\[
\{\"job_id\":\"$k\",\"route\":\"killed\",\"attempt\":1,\"status\":\"failed\",\"exit_code\":137,\"signal\":\"SIGKILL\",.*\}
\]\$"
	run J history --json quiet -n 5
	assert_output --regexp '^\[
\{"job_id":"'"$q"'".*\}
\]$'
	run J history --json inh
	assert_success
	assert_output "[]"
}

@test "history: a table with a header on a terminal, tab-separated records when piped" {
	sup_start h.conf
	run_job exit3
	b=$ID
	# (script is sup-helpers' function: the command is util-linux's.)
	NO_COLOR=1 command script -qec "$JOBIFY -c $(T h.conf) history" /dev/null >"$(T tty.out)"
	run cat "$(T tty.out)"
	assert_line --index 0 --regexp '^START +DURATION +ROUTE +JOB +ATTEMPT +STATUS +EXIT'
	assert_line --index 1 --regexp "^$ISO +$DUR +exit3 +$b +1 +failed +3"
	[[ "$output" != *$'\e'* ]]
	run J history
	assert_output --regexp "^$ISO	$DUR	exit3	$b	1	failed	3\$"
}

@test "history: -n must be a positive integer (65); an unknown route exits 66" {
	for n in 0 abc -1 "" 1x +2 " 3"; do
		run --separate-stderr J history -n "$n"
		assert_failure 65
		[ "$stderr" = "jobify: history: -n: '$n' is not a positive integer" ]
	done
	run --separate-stderr J history nope
	assert_failure 66
	[[ "$stderr" == *"unknown route 'nope'"* ]]
	run --separate-stderr J history out extra
	assert_failure 64
	run J history -n 007
	assert_success
	run J history -n 99999999999999999999999
	assert_success
}

@test "history: a route gone from the config keeps its history" {
	sup_start h.conf
	run_job exit3
	b=$ID
	sup_stop
	conf other.conf <<EOF
state-dir = "state"
task "out" { exec = "./out" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T other.conf)" history exit3
	assert_success
	assert_output --regexp "	exit3	$b	1	failed	3\$"
	run --separate-stderr "$JOBIFY" -c "$(T other.conf)" history quiet
	assert_failure 66
}

@test "logs: the output of an ended job, exactly" {
	sup_start h.conf
	run_job out 'a  b'
	J logs "$ID" >"$(T got)"
	printf 'first line\n  two  spaces\t tab\nto stderr\nno newline: a  b' >"$(T want)"
	cmp "$(T want)" "$(T got)"
	# -f on an ended job: the same, and it returns at once.
	timeout 10 "$JOBIFY" -c "$(T h.conf)" logs -f "$ID" >"$(T got-f)"
	cmp "$(T want)" "$(T got-f)"
}

@test "logs: unknown job 66; no log: not started, output null or inherit (1)" {
	run --separate-stderr J logs nope
	assert_failure 66
	[ "$stderr" = "jobify: logs: no job 'nope' (see jobify jobs --all)" ]
	id=$(J schedule out --in 1h)
	run --separate-stderr J logs "$id"
	assert_failure 1
	[[ "$stderr" == *"job '$id' has not started yet"* ]]
	assert_output ""
	sup_start h.conf
	run_job quiet
	run --separate-stderr J logs "$ID"
	assert_failure 1
	[[ "$stderr" == *"has no log: route 'quiet' has output = \"null\""* ]]
	run --separate-stderr J logs -f "$ID"
	assert_failure 1
	run_job inh
	run --separate-stderr J logs "$ID"
	assert_failure 1
	[[ "$stderr" == *"output = \"inherit\" (its lines are in the supervisor's log)"* ]]
	run --separate-stderr J logs
	assert_failure 64
	run --separate-stderr J logs a b
	assert_failure 64
}

@test "logs: a log file removed since exits 1 and names it" {
	sup_start h.conf
	run_job out
	log=$(J status "$ID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["log"])')
	rm "$log"
	run --separate-stderr J logs "$ID"
	assert_failure 1
	[[ "$stderr" == *"its log file $log is gone"* ]]
}

@test "logs -f: waits for a scheduled job, follows it while it runs, returns when it ends" {
	sup_start h.conf
	# Due in 4 s: time enough, even under valgrind, to see it waiting.
	id=$(J schedule gated --in 4s)
	run J status "$id"
	assert_line "status:      scheduled"
	"$JOBIFY" -c "$(T h.conf)" logs -f "$id" >"$(T follow.out)" 2>"$(T follow.err)" 3>&- &
	LOGS_PID=$!
	wait_for one 20 "$(T progress)"
	touch "$(T go)"
	wait_for two 20 "$(T progress)"
	# The job has not ended: neither has logs -f.
	kill -0 "$LOGS_PID"
	echo 0 >"$(T go2)"
	wait_exit "$LOGS_PID"
	LOGS_PID=
	[ "$EXIT" -eq 0 ]
	run cat "$(T follow.out)"
	assert_output "one
two
three"
	run cat "$(T follow.err)"
	assert_output ""
	run J status "$id"
	assert_line "status:      success"
}

@test "logs -f prints the lines of a running job as they are written" {
	sup_start h.conf
	id=$(J schedule gated)
	wait_for one 20 "$(T progress)"
	"$JOBIFY" -c "$(T h.conf)" logs -f "$id" >"$(T follow.out)" 2>"$(T follow.err)" 3>&- &
	LOGS_PID=$!
	wait_for '^one$' 20 "$(T follow.out)"
	touch "$(T go)"
	wait_for '^two$' 20 "$(T follow.out)"
	kill -0 "$LOGS_PID"
	echo 5 >"$(T go2)"
	wait_exit "$LOGS_PID"
	LOGS_PID=
	# A failed job is not a failure of logs.
	[ "$EXIT" -eq 0 ]
	run cat "$(T follow.out)"
	assert_output "one
two
three"
}

@test "logs -f follows a job through its retries" {
	sup_start h.conf
	# Due in 4 s, so that logs -f is there before the first attempt.
	id=$(J schedule flaky --in 4s)
	run --separate-stderr timeout 30 "$JOBIFY" -c "$(T h.conf)" logs -f "$id"
	assert_success
	# Each attempt's log in turn; a retry's file is new.
	assert_output "attempt 1
attempt 2"
	run J status "$id"
	assert_line "status:      failed"
}

@test "logs -f on a cron task prints each of its runs in turn" {
	conf c.conf <<EOF
state-dir = "state"
task "tick" { exec = "sh -c 'echo tick \$JOBIFY_SCHEDULED_AT'" cron = "* * * * * *" }
EOF
	sup_start c.conf
	wait_for 'event=exit route=tick' 20
	# (wait_count needs the file to exist.)
	: >"$(T follow.out)"
	"$JOBIFY" -c "$(T c.conf)" logs -f tick >>"$(T follow.out)" 2>"$(T follow.err)" 3>&- &
	LOGS_PID=$!
	# The last run's output at once, then two more runs as they come.
	wait_count '^tick ' 3 20 "$(T follow.out)"
	kill -0 "$LOGS_PID"
	# One line a run, each run once, in order.
	cp "$(T follow.out)" "$(T snap)"
	run sort -u "$(T snap)"
	[ "$output" = "$(cat "$(T snap)")" ]
	# Without a supervisor a cron job never ends: 69.
	sup_stop
	wait_exit "$LOGS_PID"
	LOGS_PID=
	[ "$EXIT" -eq 69 ]
	run cat "$(T follow.err)"
	assert_output --partial "and no supervisor is running"
}

@test "logs -f: a job that cannot start because no supervisor runs exits 69" {
	id=$(J schedule out)
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T h.conf)" logs -f "$id"
	assert_failure 69
	[[ "$stderr" == *"job '$id' is scheduled and no supervisor is running"* ]]
}
