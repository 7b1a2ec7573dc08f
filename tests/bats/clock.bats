#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Steps of the system clock.  They reach every process of the machine,
# so the supervisors of the other suites would see them too: make check
# runs this suite alone, after all the others (Makefile.am), and only
# when asked: JOBIFY_TEST_CLOCK=1 (CI asks).  Otherwise every test skips
# and says why, so that `make check` as root leaves the machine's clock alone.

setup() {
	load sup-helpers
}

teardown() {
	sup_teardown
}

# can_set_clock: skip unless this process may set the system clock.
# Setting it to the time it shows is a step as far as
# TFD_TIMER_CANCEL_ON_SET is concerned, and harmless to the machine.
can_set_clock() {
	[ "${JOBIFY_TEST_CLOCK:-0}" = 1 ] ||
		skip "steps the system clock: run with JOBIFY_TEST_CLOCK=1"
	date -s "@$(date +%s.%N)" >/dev/null 2>&1 ||
		skip "cannot set the clock here (needs CAP_SYS_TIME)"
}

# step_clock SECONDS: move the system clock by SECONDS (may be negative).
step_clock() {
	date -s "@$(date +%s.%N | awk -v d="$1" '{ printf "%.6f", $1 + d }')" >/dev/null
}

@test "a step of the clock wakes the supervisor, which re-plans and keeps firing" {
	can_set_clock
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=t'
	step_clock 0
	wait_for 'event=clock-change'
	n=$(grep -c 'event=exit route=t' "$SUP_LOG")
	wait_count 'event=exit route=t' $((n + 2)) 10
	sup_stop
	assert_equal "$SUP_STATUS" 0
}

@test "the clock stepped forward, then back: no fire runs twice, and firing goes on" {
	can_set_clock
	script rec 'echo "$JOBIFY_SCHEDULED_AT" >> "$(dirname "$0")/$1.out"'
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
task "t" { exec = "./rec rec" cron = "* * * * * *" output = "null" }
task "v" { exec = "./rec vol" cron = "* * * * * *" output = "null" durable = false }
EOF
	sup_start j.conf
	wait_count . 2 20 "$(T rec.out)"
	# Forward 3 s: the seconds jumped past are the misfire policy's.
	step_clock 3
	wait_count 'event=clock-change' 1
	n=$(grep -c . "$(T rec.out)")
	wait_count . $((n + 2)) 20 "$(T rec.out)"
	# Back 3 s: the seconds already run are not run again.
	step_clock -3
	wait_count 'event=clock-change' 2
	n=$(grep -c . "$(T rec.out)")
	wait_count . $((n + 2)) 20 "$(T rec.out)"
	sup_stop
	assert_equal "$SUP_STATUS" 0
	# Each scheduled second once, in order (UTC: the text sorts as time).
	run sort -c -u "$(T rec.out)"
	assert_success
	run sort -c -u "$(T vol.out)"
	assert_success
}
