#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Durable jobs: schedule, jobs, status, wait, cancel, with and without a
# supervisor running, and a supervisor killed in the middle of a burst.

setup() {
	load sup-helpers
	script rec 'd=$(dirname "$0"); echo "$JOBIFY_JOB_ID trigger=$JOBIFY_TRIGGER attempt=$JOBIFY_ATTEMPT K=${K:-} G=${G:-} args=$*" >> "$d/rec.out"'
	conf j.conf <<EOF
state-dir = "state"
router "r" {
  outer-middleware = { "./gate" }
  task "rec" { exec = "./rec fixed" output = "null" }
}
include-router = { "r" }
router "drafts" { task "d" { exec = "true" } }
task "exit4" { exec = "sh -c 'exit 4'" output = "null" }
task "killed" { exec = "sh -c 'kill -USR1 \$\$'" output = "null" }
task "slow" { exec = "sleep 30" timeout = 200ms output = "null" }
task "flaky" { exec = "./flaky" retry = 1 retry-delay = 100ms output = "null" }
EOF
	script gate '[ -n "${REFUSE:-}" ] && { echo "quota exceeded for $JOBIFY_ROUTE" >&2; exit 3; }
echo G=gated'
	script flaky 'echo "attempt $JOBIFY_ATTEMPT" >> "$(dirname "$0")/flaky.out"; echo "$JOBIFY_SCHEDULED_AT" >> "$(dirname "$0")/flaky.at"; exit 2'
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
}

teardown() {
	sup_teardown
}

@test "a job scheduled with no supervisor waits in the store and runs when one starts" {
	run --separate-stderr J schedule r:rec --env K=v -- a "b c"
	assert_success
	id=$output
	[[ "$id" =~ ^[0-9a-z]{13}$ ]]
	run J jobs
	assert_output --regexp "^$id	r:rec	scheduled	now	"
	run --separate-stderr J wait "$id"
	assert_failure 69
	[[ "$stderr" == *"no supervisor is running"* ]]
	sup_start j.conf
	run J wait "$id"
	assert_success
	run cat "$(T rec.out)"
	assert_output "$id trigger=now attempt=1 K=v G=gated args=fixed a b c"
	run J status "$id" --json
	assert_output --regexp "^\{\"id\":\"$id\",\"route\":\"r:rec\",\"status\":\"success\",\"trigger\":\"now\",\"cron\":null,\"run_at\":\"[^\"]+\",\"args\":\[\"a\",\"b c\"\],\"attempts\":1,\"exit_code\":0,"
}

@test "wait exits with the job's status: exit code, 128+N, 124 for a timeout" {
	sup_start j.conf
	id=$(J schedule exit4)
	run J wait "$id"
	assert_failure 4
	id=$(J schedule killed)
	run J wait "$id"
	assert_failure $((128 + 10))
	id=$(J schedule slow)
	run J wait "$id"
	assert_failure 124
	run J status "$id"
	assert_line "status:      timeout"
}

@test "--in runs the job later; --at in the past runs it now" {
	sup_start j.conf
	id=$(J schedule r:rec --in 2s)
	past=$(J schedule r:rec --at "@1")
	run J wait "$id" "$past"
	assert_success
	run grep -c . "$(T rec.out)"
	assert_output 2
	# Due 2 s after it was written, and not started before: read from
	# its record, so that no step of the test needs to be quick.
	run J status "$id"
	assert_line "trigger:     in"
	field() { sed -n "s/^$1: *//p" <<<"$output"; }
	created=$(date -d "$(field 'created at')" +%s)
	run_at=$(date -d "$(field 'run at')" +%s)
	started=$(date -d "$(field 'started at')" +%s)
	[ $((run_at - created)) -eq 2 ]
	[ "$started" -ge "$run_at" ]
	run J status "$past"
	assert_line "trigger:     at"
	assert_line "status:      success"
}

@test "--id: a duplicate exits 65, --replace replaces a job that has not run" {
	run J schedule r:rec --id nightly --in 1h
	assert_success
	assert_output nightly
	run --separate-stderr J schedule r:rec --id nightly
	assert_failure 65
	[ "$stderr" = "jobify: schedule: job 'nightly' exists (use --replace)" ]
	run J schedule exit4 --id nightly --replace --in 2h
	assert_success
	run J jobs --json
	assert_output --partial '"id":"nightly","route":"exit4"'
	run --separate-stderr J schedule r:rec --id "no spaces"
	assert_failure 65
}

@test "cancel: a scheduled job never runs; wait on it exits 1" {
	sup_start j.conf
	id=$(J schedule r:rec --in 1h)
	run J cancel "$id"
	assert_success
	run J wait "$id"
	assert_failure 1
	run J status "$id"
	assert_line "status:      cancelled"
	run --separate-stderr J cancel "$id"
	assert_failure 65
	[[ "$stderr" == *"job '$id' is cancelled; nothing to cancel"* ]]
	run --separate-stderr J cancel nope
	assert_failure 66
	[ ! -e "$(T rec.out)" ]
}

@test "outer middleware refuses a job with its stderr (65), or adds to its environment" {
	# A gate sees the job's environment (and jobify's variables), not ours.
	run --separate-stderr J schedule r:rec --env REFUSE=1
	assert_failure 65
	[[ "$stderr" == *"refused by outer-middleware './gate' (exit status 3): quota exceeded for r:rec" ]]
	run J jobs --all
	assert_output ""
}

@test "bad input: unknown or detached route 66, bad times, cron and env 65, two times 64" {
	run --separate-stderr J schedule nope
	assert_failure 66
	run --separate-stderr J schedule drafts:d
	assert_failure 66
	[[ "$stderr" == *"add include-router = { \"drafts\" }"* ]]
	run --separate-stderr J schedule r:rec --in soon
	assert_failure 65
	[[ "$stderr" == "jobify: schedule: --in: 'soon': "* ]]
	run --separate-stderr J schedule r:rec --at 25:00
	assert_failure 65
	run --separate-stderr J schedule r:rec --env JOBIFY_ROUTE=x
	assert_failure 65
	run --separate-stderr J schedule r:rec --env novalue
	assert_failure 65
	run --separate-stderr J schedule r:rec --now --in 1s
	assert_failure 64
	run --separate-stderr J schedule r:rec --cron '61 * * * *'
	assert_failure 65
	[[ "$stderr" == *"field 1 (minute): 61 is out of range 0-59"* ]]
	run --separate-stderr J schedule r:rec --cron @reboot
	assert_failure 65
	run --separate-stderr J schedule r:rec --cron '* * * * *' --in 1s
	assert_failure 64
	run J jobs --all
	assert_output ""
	assert_output ""
	run --separate-stderr J status nope
	assert_failure 66
}

@test "a failing job is retried through the store, then ends failed" {
	sup_start j.conf
	id=$(J schedule flaky)
	run J wait "$id"
	assert_failure 2
	run cat "$(T flaky.out)"
	assert_output "attempt 1
attempt 2"
	run J status "$id"
	assert_line "attempts:    2"
	assert_line "status:      failed"
	# Every attempt is for the same scheduled time.
	run sort -u "$(T flaky.at)"
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9:]+$'

}

@test "kill -9 of the supervisor in a burst: after a restart every job has run, none twice unless in flight" {
	sup_start j.conf
	for i in $(seq 1 150); do
		echo "$(J schedule r:rec --id "b$i" -- "$i")"
	done >"$(T ids)"
	wait_for 'event=exit route=r:rec' 20
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	mv "$SUP_LOG" "$(T first.log)"
	sup_start j.conf
	# Every job ends.
	for id in $(cat "$(T ids)"); do
		run J wait "$id" --timeout 60s
		[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || {
			echo "job $id: wait exited $status" >&2
			false
		}
	done
	sup_stop
	# Each ran at least once (a lost one is retried only with retries
	# left: rec has none, so it ends failed, having started once).
	for i in $(seq 1 150); do
		n=$(grep -c "^b$i " "$(T rec.out)" || true)
		lost=$(grep -c "event=lost job=b$i " "$SUP_LOG" || true)
		if [ "$n" -eq 0 ] && [ "$lost" -eq 0 ]; then
			echo "job b$i never ran" >&2
			false
		fi
		# Twice only if the first run was in flight at the kill.
		if [ "$n" -gt 1 ]; then
			echo "job b$i ran $n times" >&2
			false
		fi
	done
}

@test "schedule --stdin: one job a line, quoted like sh, gated, ids in order" {
	printf '%s\n' \
		'# a comment, then a blank line' \
		'' \
		'r:rec --env K=one -- a "b c"' \
		"  r:rec --id second --in 0s -- 'd \$HOME' e" \
		'r:rec' >"$(T batch)"
	run --separate-stderr J schedule --stdin <"$(T batch)"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^[0-9a-z]{13}$ ]]
	[ "${lines[1]}" = second ]
	[[ "${lines[2]}" =~ ^[0-9a-z]{13}$ ]]
	[ "${lines[0]}" != "${lines[2]}" ]
	ids=("${lines[@]}")
	sup_start j.conf
	run J wait "${ids[@]}"
	assert_success
	run sort "$(T rec.out)"
	assert_output "$(printf '%s\n' \
		"${ids[0]} trigger=now attempt=1 K=one G=gated args=fixed a b c" \
		"${ids[2]} trigger=now attempt=1 K= G=gated args=fixed" \
		"second trigger=in attempt=1 K= G=gated args=fixed d \$HOME e" | sort)"
}

@test "schedule --stdin: any bad line writes nothing and names its line" {
	good='exit4 --in 1h'
	check() { # check STATUS MESSAGE LINE...
		local want=$1 msg=$2
		shift 2
		printf '%s\n' "$good" "$@" >"$(T batch)"
		run --separate-stderr J schedule --stdin <"$(T batch)"
		assert_failure "$want"
		assert_output ""
		[ "$stderr" = "$msg" ] || { echo "stderr: $stderr" >&2; false; }
		run J jobs --all
		assert_output ""
	}
	check 65 "jobify: schedule: stdin:2: --in: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)" 'exit4 --in 5x'
	check 66 "jobify: schedule: stdin:3: no route 'nope' (see jobify routes)" 'exit4' 'nope'
	check 65 "jobify: schedule: stdin:2: '--bogus': unknown option, or one without its value" 'exit4 --bogus'
	check 65 "jobify: schedule: stdin:2: a double quote (\") is not closed" 'exit4 -- "a'
	check 65 "jobify: schedule: stdin:2: --now, --in, --at and --cron exclude each other" 'exit4 --now --in 1s'
	check 65 "jobify: schedule: stdin:2: a route is needed" '--in 1s'
	check 65 "jobify: schedule: stdin:3: job 'x' exists (use --replace)" 'exit4 --id x' 'exit4 --id x'
	check 65 "jobify: schedule: stdin:2: --replace needs --id" 'exit4 --replace'
	# The gate refuses: nothing of the batch is written either.
	check 65 "jobify: schedule: stdin:3: refused by outer-middleware './gate' (exit status 3): quota exceeded for r:rec" 'r:rec' 'r:rec --env REFUSE=1'
	# A NUL byte in the input.
	printf 'exit4\nexit4 \0\n' >"$(T batch)"
	run --separate-stderr J schedule --stdin <"$(T batch)"
	assert_failure 65
	[ "$stderr" = "jobify: schedule: stdin:2: a NUL byte" ]
	run J jobs --all
	assert_output ""
	# Nothing at all to do is success, with no output.
	run --separate-stderr J schedule --stdin </dev/null
	assert_success
	assert_output ""
}

@test "schedule --stdin: thousands of jobs in one millisecond get distinct ids" {
	seq 1 3000 | sed 's/^/exit4 --in 1h -- /' >"$(T batch)"
	run --separate-stderr J schedule --stdin <"$(T batch)"
	assert_success
	[ "${#lines[@]}" -eq 3000 ]
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" -eq 3000 ]
	run J jobs
	[ "${#lines[@]}" -eq 3000 ]
	# Ids sort in the order of the lines.
	J jobs --json | grep -o '"args":\["[0-9]*"\]' | tr -dc '0-9\n' >"$(T order)"
	seq 1 3000 | diff - "$(T order)"
}

@test "schedule: --stdin takes no route; --replace needs --id" {
	run --separate-stderr J schedule --stdin exit4
	assert_failure 64
	[[ "$stderr" == *"--stdin takes its jobs from standard input"* ]]
	run --separate-stderr J schedule exit4 --replace
	assert_failure 64
	[[ "$stderr" == "jobify: schedule: --replace needs --id"* ]]
}
