#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify next: fire times of expressions and routes, and its errors.

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
}

@test "next: the next N times with their offset, from --from, in --tz" {
	run --separate-stderr "$JOBIFY" next '30 2 * * *' -n 3 --tz Europe/Berlin --from 2026-03-28T12:00
	assert_success
	assert_output "2026-03-29T03:00:00+02:00
2026-03-30T02:30:00+02:00
2026-03-31T02:30:00+02:00"
	run --separate-stderr "$JOBIFY" next '@hourly' --tz UTC --from @0 --json -n 2
	assert_success
	assert_output '["1970-01-01T01:00:00+00:00","1970-01-01T02:00:00+00:00"]'
}

@test "next --from takes at(1)'s words, read in the zone" {
	# From 2026-11-25 in Berlin: its next 09:00, then the day after's.
	run --separate-stderr "$JOBIFY" next '0 10 * * *' --tz Europe/Berlin --from '09:00 nov 26 2026'
	assert_success
	assert_output "2026-11-26T10:00:00+01:00"
	run --separate-stderr "$JOBIFY" next '0 10 * * *' --tz Europe/Berlin --from 'teatime 11/26/2026 + 1 week'
	assert_success
	assert_output "2026-12-04T10:00:00+01:00"
	# Relative to now: tomorrow's noon is between 12 and 36 hours ahead.
	run --separate-stderr "$JOBIFY" next '* * * * *' --tz UTC --from 'noon tomorrow'
	assert_success
	assert_output --regexp 'T12:01:00\+00:00$'
	run --separate-stderr "$JOBIFY" next '* * * * *' --tz UTC --from 'now + 2 hours'
	assert_success
	now=$(date -u +%s)
	t=$(date -u -d "${output%+00:00}Z" +%s)
	[ "$t" -gt $((now + 7200 - 5)) ]
	[ "$t" -le $((now + 7200 + 65)) ]
}

@test "next: one time by default, strictly after now" {
	run --separate-stderr "$JOBIFY" next '* * * * * *' --tz UTC
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	now=$(date -u +%s)
	t=$(date -u -d "${output%+00:00}Z" +%s)
	[ "$t" -gt $((now - 2)) ]
	[ "$t" -le $((now + 2)) ]
}

@test "next ROUTE uses the route's schedule and zone" {
	conf j.conf <<-'EOF'
	timezone = 'America/New_York'
	include-router = { 'reports' }
	router "reports" {
	  task "weekly" { exec = 'x' cron = '0 6 * * mon' }
	  task "paris" { exec = 'x' cron = '0 6 * * *' timezone = 'Europe/Paris' }
	  task "manual" { exec = 'x' }
	}
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf next reports:weekly --from 2026-11-25T00:00Z
	assert_success
	assert_output "2026-11-30T06:00:00-05:00"
	run --separate-stderr "$JOBIFY" -c j.conf next reports:paris --from 2026-11-25T00:00Z
	assert_output "2026-11-25T06:00:00+01:00"
	run --separate-stderr "$JOBIFY" -c j.conf next reports:manual
	assert_failure 65
	[ "$stderr" = "jobify: next: route 'reports:manual' has no cron schedule" ]
	run --separate-stderr "$JOBIFY" -c j.conf next reports:nope
	assert_failure 66
	[ "$stderr" = "jobify: next: no route 'reports:nope' (see jobify routes)" ]
}

@test "next: bad expression, zone, time: 65 with the reason" {
	run --separate-stderr "$JOBIFY" next '0 25 * * *'
	assert_failure 65
	[ "$stderr" = "jobify: next: cron: field 2 (hour): 25 is out of range 0-23" ]
	run --separate-stderr "$JOBIFY" next '0 0 * * *' --tz Mars/Base
	assert_failure 65
	[ "$stderr" = "jobify: next: --tz: 'Mars/Base': unknown time zone (see /usr/share/zoneinfo)" ]
	run --separate-stderr "$JOBIFY" next '0 0 * * *' --from soon
	assert_failure 65
	[ "$stderr" = "jobify: next: --from: 'soon': 'soon' is not understood in a time (a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, mon 03:00, 9:30pm)" ]
	run --separate-stderr "$JOBIFY" next '0 0 * * *' --from 'tomorow 09:00'
	assert_failure 65
	[ "$stderr" = "jobify: next: --from: 'tomorow 09:00': 'tomorow' is not understood in a time (a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, mon 03:00, 9:30pm)" ]
	run --separate-stderr "$JOBIFY" next '0 0 * * *' --from 'now + 5 fortnights'
	assert_failure 65
	[ "$stderr" = "jobify: next: --from: 'now + 5 fortnights': 'fortnights' is not a unit (minutes, hours, days, weeks, months, years)" ]
	run --separate-stderr "$JOBIFY" next '0 0 30 2 *'
	assert_failure 65
	[ "$stderr" = "jobify: next: the schedule never fires (before 2100)" ]
	# A count is a value too: 65, as history -n says.
	for n in 0 abc 100001; do
		run --separate-stderr "$JOBIFY" next '* * * * *' -n "$n"
		assert_failure 65
		[ "$stderr" = "jobify: next: -n: '$n' is not a count from 1 to 100000" ]
	done
	run --separate-stderr "$JOBIFY" next '@reboot'
	assert_failure 65
	[ "$stderr" = "jobify: next: @reboot has no fire time: it runs once when the supervisor starts" ]
}

@test "next: usage errors exit 64" {
	run --separate-stderr "$JOBIFY" next
	assert_failure 64
	run --separate-stderr "$JOBIFY" next 0 0 '*' '*' '*'
	assert_failure 64
	[[ "$stderr" == "jobify: next: unexpected argument '0' (quote the expression"* ]]
}

@test "check validates cron and timezone with FILE:LINE" {
	conf j.conf <<-'EOF'
	timezone = 'Nowhere/Land'
	task "a" {
	  exec = 'x'
	  cron = '0 25 * * *'
	  timezone = 'Europe/Nowhere'
	}
	task "b" {
	  exec = 'x'
	  cron = '0 0 30 2 *'
	  start-date = 'next fortnight'
	}
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf check
	assert_failure 78
	[ "$stderr" = "jobify: j.conf:1: timezone: 'Nowhere/Land': unknown time zone (see /usr/share/zoneinfo)
jobify: j.conf:4: cron: field 2 (hour): 25 is out of range 0-23
jobify: j.conf:5: timezone: 'Europe/Nowhere': unknown time zone (see /usr/share/zoneinfo)
jobify: j.conf:9: warning: cron: '0 0 30 2 *' never fires (before 2100)
jobify: j.conf:10: start-date: 'next fortnight': 'fortnight' is not a unit (minutes, hours, days, weeks, months, years)" ]
}

@test "next: an empty expression is a bad value (65)" {
	for e in '' ' ' '	'; do
		run --separate-stderr "$JOBIFY" next "$e"
		assert_failure 65
		[ "$stderr" = "jobify: next: '$e': an empty expression (give a cron expression or a route)" ]
	done
}

@test "next on a detached route exits 66 naming the include-router to add, as schedule does" {
	conf j.conf <<-'EOF'
	router "reports" {
	  task "weekly" { exec = 'x' cron = '0 6 * * mon' }
	}
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf next reports:weekly
	assert_failure 66
	[ -z "$output" ]
	msg="route 'reports:weekly' is in router 'reports' (j.conf:1), which is not attached anywhere; add include-router = { \"reports\" } to the app or to a router"
	[ "$stderr" = "jobify: next: $msg" ]
	run --separate-stderr "$JOBIFY" -c j.conf schedule reports:weekly
	assert_failure 66
	[ "$stderr" = "jobify: schedule: $msg" ]
}

@test "next EXPR computes and prints in the app's zone; --from without an offset is in it" {
	conf j.conf <<-'EOF'
	timezone = 'America/New_York'
	include-router = { 'r' }
	router "r" {
	  task "paris" { exec = 'x' cron = '0 6 * * *' timezone = 'Europe/Paris' }
	}
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf next '0 12 * * *' --from 2026-11-25T00:00 -n 2
	assert_success
	assert_output "2026-11-25T12:00:00-05:00
2026-11-26T12:00:00-05:00"
	# --tz still wins, and then --from is read in it.
	run --separate-stderr "$JOBIFY" -c j.conf next '0 12 * * *' --from 2026-11-25T12:30 --tz UTC
	assert_output "2026-11-26T12:00:00+00:00"
	# A route's own zone evaluates its cron; --from is in the app's zone:
	# 00:30 New York is 06:30 Paris, past that day's 06:00.
	run --separate-stderr "$JOBIFY" -c j.conf next r:paris --from 2026-11-25T00:30
	assert_success
	assert_output "2026-11-26T06:00:00+01:00"
	# $JOBIFY_CONFIG finds it too; no config at all: the system's zone, quietly.
	JOBIFY_CONFIG=j.conf run --separate-stderr "$JOBIFY" next '0 12 * * *' --from 2026-11-25T00:00
	assert_output "2026-11-25T12:00:00-05:00"
	TZ=UTC run --separate-stderr "$JOBIFY" next '0 12 * * *' --from 2026-11-25T00:00
	assert_output "2026-11-25T12:00:00+00:00"
	[ -z "$stderr" ]
}

@test "next EXPR with a config that cannot be read warns and uses the system's zone" {
	conf j.conf <<-'EOF'
	timezone = 'America/New_York'
	task "t" { exec = 'x' timeout = '5x' }
	EOF
	TZ=UTC run --separate-stderr "$JOBIFY" -c j.conf next '0 12 * * *' --from 2026-11-25T00:00
	assert_success
	assert_output "2026-11-25T12:00:00-05:00"
	[[ "$stderr" == *"jobify: next: warning: the config has errors (above); going on with its timezone" ]]
	TZ=UTC run --separate-stderr "$JOBIFY" -c nowhere.conf next '0 12 * * *' --from 2026-11-25T00:00
	assert_success
	assert_output "2026-11-25T12:00:00+00:00"
	[ "$stderr" = "jobify: nowhere.conf: No such file or directory
jobify: next: warning: the config cannot be read (above); times are in the system's zone" ]
}

@test "next reports a failed write with the reason" {
	run --separate-stderr bash -c '"$JOBIFY" next "* * * * *" -n 1000 >/dev/full'
	assert_failure 70
	[ "$stderr" = "jobify: next: cannot write the output: No space left on device" ]
}

@test "routes, status and next ROUTE honour start-date, as the supervisor does" {
	# Its first fire is the start-date's midnight, not tomorrow's; a
	# start-date already past changes nothing.
	conf j.conf <<-EOF
	timezone = 'UTC'
	state-dir = '$BATS_TEST_TMPDIR/state'
	task "later" { exec = 'x' cron = '0 0 * * *' start-date = '2030-01-01T00:00' }
	task "past" { exec = 'x' cron = '0 0 * * *' start-date = '2020-01-01T00:00' }
	task "odd" { exec = 'x' cron = '0 0 * * *' start-date = '2030-01-01T00:01' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf next later -n 2
	assert_success
	assert_output "2030-01-01T00:00:00+00:00
2030-01-02T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf next odd
	assert_success
	assert_output "2030-01-02T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf next later --from 2031-05-05T12:00
	assert_success
	assert_output "2031-05-06T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf next past --from 2026-11-25T12:00
	assert_success
	assert_output "2026-11-26T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf routes --json
	assert_success
	python3 -c '
import json, sys
r = {x["name"]: x for x in json.loads(sys.argv[1])}
assert r["later"]["next_run"] == "2030-01-01T00:00:00+00:00", r["later"]
assert r["odd"]["next_run"] == "2030-01-02T00:00:00+00:00", r["odd"]
assert r["past"]["next_run"] < "2030", r["past"]
' "$output"
	run --separate-stderr "$JOBIFY" -c j.conf status --json
	assert_failure 69	# no supervisor runs; the plan is shown all the same
	python3 -c '
import json, sys
n = {x["route"]: x["at"] for x in json.loads(sys.argv[1])["next"]}
assert n["later"] == "2030-01-01T00:00:00+00:00", n
' "$output"
}
