#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Under journald (SPEC §6's log): when $JOURNAL_STREAM names the
# supervisor's stderr (its DEV:INO, as systemd sets it), each line starts
# with the syslog priority "<N>" and carries no time of its own; when it
# names another file, nothing changes.  A plain file stands for journald's
# stream: only the device and inode numbers are compared.

setup() {
	load sup-helpers
	conf j.conf <<EOF
state-dir = "state"
task "bad" { exec = "sh -c 'exit 3'" output = "null" }
EOF
	: >"$(T sup.log)"
}

teardown() {
	sup_teardown
}

# run_one [ARGS...]: a supervisor with ARGS that runs route bad once.
run_one() {
	sup_start j.conf "$@"
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule bad
	assert_success
	wait_for 'event=exit route=bad\|"event":"exit","route":"bad"'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "stderr is the journal's stream: <N> priorities, no time" {
	JOURNAL_STREAM=$(stat -c %d:%i "$(T sup.log)") run_one
	run cat "$SUP_LOG"
	assert_line --regexp '^<6>level=info event=ready pid=[0-9]+ '
	assert_line --regexp '^<6>level=info event=start route=bad '
	assert_line --regexp '^<4>level=warn event=exit route=bad job=[0-9a-z]+ pid=[0-9]+ status=failed exit_code=3 '
	refute_line --partial 'time='
	# Every line has a prefix.
	run grep -vc '^<[3467]>level=' "$SUP_LOG"
	assert_output 0
}

@test "JSON lines too, with the same prefixes" {
	JOURNAL_STREAM=$(stat -c %d:%i "$(T sup.log)") run_one --log-format json
	run cat "$SUP_LOG"
	assert_line --regexp '^<6>\{"level":"info","event":"ready","pid":[0-9]+,'
	assert_line --regexp '^<4>\{"level":"warn","event":"exit","route":"bad",'
	refute_line --partial '"time"'
}

@test "JOURNAL_STREAM of another file, or malformed: the usual lines" {
	: >"$(T other)"
	JOURNAL_STREAM=$(stat -c %d:%i "$(T other)") run_one
	run grep -c '^time=[0-9T:.+-]* level=' "$SUP_LOG"
	assert_output 5
	: >"$SUP_LOG"
	JOURNAL_STREAM="$(stat -c %d:%i "$(T sup.log)")x" run_one
	run grep -vc '^time=' "$SUP_LOG"
	assert_output 0
}
