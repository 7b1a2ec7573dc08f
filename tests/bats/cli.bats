#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The command line itself: help, version, usage errors.

setup() {
	load helpers
}

teardown() {
	if declare -F sup_teardown >/dev/null; then
		sup_teardown
	fi
}

@test "--help prints the commands on stdout and exits 0" {
	run --separate-stderr "$JOBIFY" --help
	assert_success
	assert_line --partial "Usage: jobify [-c FILE] [-v|-q] [--state-dir DIR] COMMAND [ARGS]"
	assert_line --regexp '^  routes +list the routes'
	assert_line --regexp '^  check +validate the config'
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run --separate-stderr "$JOBIFY" --version
	assert_success
	assert_output --regexp '^jobify [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "no command is a usage error on stderr, exit 64" {
	run --separate-stderr "$JOBIFY"
	assert_failure 64
	[ -z "$output" ]
	[[ "$stderr" == *"Usage: jobify"* ]]
}

@test "an unknown command exits 64 and names it" {
	run --separate-stderr "$JOBIFY" frobnicate
	assert_failure 64
	[ "$stderr" = "jobify: unknown command 'frobnicate'
Try 'jobify --help'." ]
}

@test "an unknown global option exits 64" {
	run --separate-stderr "$JOBIFY" --frob routes
	assert_failure 64
	[[ "$stderr" == "jobify: unknown option '--frob'"* ]]
	run --separate-stderr "$JOBIFY" -x routes
	assert_failure 64
	[[ "$stderr" == "jobify: unknown option '-x'"* ]]
}

@test "-c without its argument exits 64" {
	run --separate-stderr "$JOBIFY" -c
	assert_failure 64
	[[ "$stderr" == "jobify: option '-c' needs an argument"* ]]
}

@test "store commands go on when the config has an error elsewhere, with a warning" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1
	assert_success
	# An edit in progress: a bad timeout in a task, below the app's lines.
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "t" { exec = 'true' timeout = "5x" }
	EOF
	warn="jobify: j.conf:3: timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)"
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_success
	assert_output --regexp '^j1	t	scheduled	'
	[ "$stderr" = "$warn
jobify: jobs: warning: the config has errors (above); going on with its state-dir, socket and timezone" ]
	run --separate-stderr "$JOBIFY" -c j.conf status j1
	assert_success
	assert_line "run at:      2099-01-01T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf history t
	assert_success
	run --separate-stderr "$JOBIFY" -c j.conf cancel j1
	assert_success
	run --separate-stderr "$JOBIFY" -c j.conf wait j1 --timeout 5s
	[ "$status" -ne 78 ]
	[[ "$stderr" == "$warn"* ]]
	run --separate-stderr "$JOBIFY" -c j.conf status j1
	assert_line "status:      cancelled"
	run --separate-stderr "$JOBIFY" -c j.conf logs j1
	[ "$status" -ne 78 ]
	# Commands that need the routes still refuse the config.
	run --separate-stderr "$JOBIFY" -c j.conf schedule t
	assert_failure 78
}

@test "store commands exit 78 when the state-dir line comes after the error" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	task "t" { exec = 'true' timeout = "5x" }
	state-dir = "$BATS_TEST_TMPDIR/state"
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_failure 78
	[ "$stderr" = "jobify: j.conf:1: timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)
jobify: jobs: (with errors elsewhere in the config, it goes on when the state-dir, socket and timezone lines come before the first error)" ]
	[ ! -e state ]
	# An error on the state-dir line itself is no better.
	conf j.conf <<-EOF
	state-dir = { "a", "b" }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_failure 78
}

@test "jobs, history, status report a failed write: message and 70" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1
	assert_success
	for cmd in "jobs" "jobs --json" "status j1" "status j1 --json" "history --json"; do
		run --separate-stderr bash -c "\"\$JOBIFY\" -c j.conf $cmd >/dev/full"
		assert_failure 70
		[ "$stderr" = "jobify: ${cmd%% *}: cannot write the output: No space left on device" ]
	done
}

@test "--json is valid UTF-8 JSON whatever bytes a job's arguments hold" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1 -- $'\xff' $'caf\xc3\xa9' $'\xe2\x82'
	assert_success
	for cmd in "jobs --json" "status j1 --json"; do
		# shellcheck disable=SC2086
		"$JOBIFY" -c j.conf $cmd >out.json
		run python3 -c 'import json,sys; d=json.loads(open("out.json","rb").read().decode("utf-8")); d=d[0] if isinstance(d,list) else d; print(ascii(d["args"]))'
		assert_success
		assert_output "['\\ufffd', 'caf\\xe9', '\\ufffd\\ufffd']"
	done
}

@test "jobify(1) gives the store's schema version and an @EPOCH among its dates" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_success
	v=$(sqlite3 state/jobify.db 'PRAGMA user_version')
	man="$top_srcdir/man/jobify.1"
	grep -A1 -F '.Pq Ql PRAGMA user_version ,' "$man" | grep -qx "$v in this version,"
	# The --at examples: the @EPOCH one is the same day as the others.
	epoch=$(grep -A8 -F '.It Fl \-at Ar time' "$man" | sed -n 's/^\.Ql @\([0-9]*\) [;,]$/\1/p')
	[ "$(date -u -d "@$epoch" +%FT%H:%M)" = "2026-11-25T03:00" ]
}

@test "a time past 2262-04-11T23:47:16Z is refused (65) with the limit; @every too long is a config error" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "t" { exec = 'true' }
	EOF
	lim="time out of range: the last time jobify can plan is 2262-04-11T23:47:16Z"
	for at in 9999-12-31T23:59 @99999999999 2262-04-11T23:47:17Z; do
		run --separate-stderr "$JOBIFY" -c j.conf schedule t --at "$at"
		assert_failure 65
		[ "$stderr" = "jobify: schedule: --at: '$at': $lim" ]
	done
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --in 15000w
	assert_failure 65
	[ "$stderr" = "jobify: schedule: --in: '15000w': after 2262-04-11T23:47:16Z, the last time jobify can plan" ]
	run --separate-stderr "$JOBIFY" -c j.conf jobs --all
	assert_success
	assert_output ""
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2262-04-11T23:47:16Z
	assert_success
	run --separate-stderr "$JOBIFY" next '0 0 * * *' --from @99999999999
	assert_failure 65
	conf bad.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" {
	  exec = 'true'
	  cron = "@every 15000w"
	}
	EOF
	run --separate-stderr "$JOBIFY" -c bad.conf check
	assert_failure 78
	[ "$stderr" = "jobify: bad.conf:4: cron: @every: the interval must be at most 36500d (100 years)" ]
}

@test "a far-future row already in the store does not stop the supervisor's timers" {
	load sup-helpers
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "far" { exec = 'true' }
	task "tick" { exec = 'true' cron = '* * * * * *' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule far --at 2099-01-01T00:00 --id far1
	assert_success
	# As an older jobify stored --at 9999-12-31T23:59:59Z: its ns wrap negative.
	sqlite3 state/jobify.db "UPDATE jobs SET run_at = 253402300799000, scheduled_at = 253402300799000 WHERE id = 'far1'"
	sup_start j.conf
	wait_count 'event=exit route=tick' 2 20
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run --separate-stderr "$JOBIFY" -c j.conf status far1
	assert_line "status:      scheduled"
}

@test "routes shows the next run the supervisor planned (its durable row), not one from the clock alone" {
	load sup-helpers
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "hourly" { exec = 'true' cron = '0 * * * *' }
	task "daily" { exec = 'true' cron = '0 3 * * *' }
	task "mem" { exec = 'true' cron = '0 3 * * *' durable = false }
	EOF
	# Before any supervisor ran there is no store: computed, none created.
	run --separate-stderr "$JOBIFY" -c j.conf routes
	assert_success
	[ ! -e state/jobify.db ]
	computed=$("$JOBIFY" next '0 * * * *' --tz UTC)
	assert_line --partial "$(printf 'hourly\t0 * * * *\t%s\t' "$computed")"
	sup_start j.conf
	sup_stop
	# What a supervisor keeps after the clock was set back an hour: the
	# fire it planned, an hour past what the clock alone gives.
	planned=$(( $(date -u -d "${computed%+00:00}Z" +%s) + 3600 ))
	sqlite3 state/jobify.db "UPDATE jobs SET run_at = ${planned}000, scheduled_at = ${planned}000 WHERE id = 'hourly'"
	sqlite3 state/jobify.db "UPDATE jobs SET status = 'permanently-failed' WHERE id = 'daily'"
	run --separate-stderr "$JOBIFY" -c j.conf routes
	assert_success
	assert_line --partial "$(printf 'hourly\t0 * * * *\t%s+00:00\t' "$(date -u -d "@$planned" +%FT%T)")"
	assert_line --partial "$(printf 'daily\t0 3 * * *\t-\t')"
	assert_line --partial "$(printf 'mem\t0 3 * * *\t%s\t' "$("$JOBIFY" next '0 3 * * *' --tz UTC)")"
	run --separate-stderr "$JOBIFY" -c j.conf routes --json
	[[ "$output" == *"\"name\":\"hourly\""*"\"next_run\":\"$(date -u -d "@$planned" +%FT%T)+00:00\""* ]]
	# A row of another schedule (the config changed since) is not the plan.
	sed -i "s/'0 \* \* \* \*'/'30 * * * *'/" j.conf
	run --separate-stderr "$JOBIFY" -c j.conf routes
	assert_line --partial "$(printf 'hourly\t30 * * * *\t%s\t' "$("$JOBIFY" next '30 * * * *' --tz UTC)")"
}
