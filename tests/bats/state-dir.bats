#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# --state-dir DIR and $JOBIFY_STATE_DIR (SPEC §9), and the global -c, -v,
# -q before or after the command: a supervisor started with one is found
# by the commands given the same, its config's state-dir left alone.

setup() {
	load sup-helpers
	conf j.conf <<EOF
state-dir = "conf-state"
task "t" { exec = "true" output = "null" }
EOF
}

teardown() {
	sup_teardown
}

@test "--state-dir after run, before and after schedule, and \$JOBIFY_STATE_DIR reach one supervisor" {
	sup_start j.conf --state-dir "$(T given)"
	[ -S "$(T given/jobify.sock)" ]
	[ -e "$(T given/jobify.db)" ]
	[ ! -e "$(T conf-state)" ]
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" --state-dir "$(T given)" schedule t
	assert_success
	id1=$output
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule t --state-dir="$(T given)"
	assert_success
	id2=$output
	JOBIFY_STATE_DIR="$(T given)" run --separate-stderr "$JOBIFY" -c "$(T j.conf)" wait "$id1" "$id2" --timeout 20s
	assert_success
	# Both ran under that supervisor, and the config's store was never made.
	wait_count 'event=exit route=t .*status=success' 2
	[ ! -e "$(T conf-state)" ]
}

@test "--state-dir wins over \$JOBIFY_STATE_DIR, which wins over the config's" {
	JOBIFY_STATE_DIR="$(T env)" run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule t --in 1h
	assert_success
	[ -e "$(T env/jobify.db)" ]
	[ ! -e "$(T conf-state)" ]
	JOBIFY_STATE_DIR="$(T env)" run --separate-stderr "$JOBIFY" -c "$(T j.conf)" jobs --state-dir "$(T opt)"
	assert_success
	assert_output ''
	[ -e "$(T opt/jobify.db)" ]
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" jobs
	assert_success
	assert_output ''
	[ -e "$(T conf-state/jobify.db)" ]
}

@test "a relative --state-dir is the current directory's, not the config's" {
	mkdir "$(T cwd)"
	cd "$(T cwd)"
	run --separate-stderr "$JOBIFY" --state-dir rel -c "$(T j.conf)" schedule t --in 1h
	assert_success
	[ -e "$(T cwd/rel/jobify.db)" ]
	[ ! -e "$(T rel)" ]
}

@test "an empty or missing --state-dir is a usage error, and nothing is written" {
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" --state-dir '' jobs
	[ "$status" -eq 64 ]
	assert_equal "$stderr" "jobify: --state-dir: an empty directory name
Try 'jobify --help'."
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" jobs --state-dir ''
	[ "$status" -eq 64 ]
	assert_equal "$stderr" "jobify: jobs: --state-dir: an empty directory name
Try 'jobify jobs --help'."
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" jobs --state-dir
	[ "$status" -eq 64 ]
	assert_equal "$stderr" "jobify: jobs: option '--state-dir' needs an argument
Try 'jobify jobs --help'."
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" --state-dir
	[ "$status" -eq 64 ]
	assert_equal "$stderr" "jobify: option '--state-dir' needs an argument
Try 'jobify --help'."
	[ ! -e "$(T conf-state)" ]
}

@test "-v and -q after the command, as before it" {
	conf w.conf <<EOF
state-dir = "state"
router "off" { task "x" { exec = "true" } }
task "t" { exec = "true" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T w.conf)" check
	assert_success
	[ -n "$stderr" ]
	run --separate-stderr "$JOBIFY" -q -c "$(T w.conf)" check
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr "$JOBIFY" -c "$(T w.conf)" check -q
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr "$JOBIFY" -c "$(T w.conf)" check --quiet -v
	assert_success
	[ -n "$stderr" ]
}

@test "the store's files are the user's alone (0600), as jobify(1) says" {
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule t --in 1h
	assert_success
	run stat -c '%n %a' "$(T conf-state/jobify.db)" "$(T conf-state/jobify.db-wal)" \
		"$(T conf-state/jobify.db-shm)"
	assert_output "$(T conf-state/jobify.db) 600
$(T conf-state/jobify.db-wal) 600
$(T conf-state/jobify.db-shm) 600"
}
