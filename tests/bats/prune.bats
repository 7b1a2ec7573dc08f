#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# prune and keep-ended: ended jobs, their history and logs leave the store;
# scheduled and running jobs and the config's cron rows stay.  The store is
# written with sqlite3, so that the ages are exact.

setup() {
	load sup-helpers
	cd "$BATS_TEST_TMPDIR"
	command -v sqlite3 >/dev/null ||
		fail "these tests write the store with the sqlite3 command (.ci/install-deps installs it)"
	conf p.conf <<-'EOF'
	state-dir = "state"
	task "t" { exec = "true" }
	task "c" { exec = "true" cron = "0 0 1 1 *" }
	EOF
	J() { "$JOBIFY" -c "$(T p.conf)" "$@"; }
	J jobs >/dev/null
	S=$(realpath state)
	now=$(($(date +%s) * 1000))
	day=86400000
	mkdir -p "$S/logs/t" "$S/logs/c"
	for f in t/old1 t/old2 t/new1 t/run1 c/old c/new; do echo "$f" > "$S/logs/$f.log"; done
	echo outside > outside.log
	job() { # id status source created finished log
		echo "INSERT INTO jobs(id, route, status, trigger, run_at, scheduled_at, created_at, finished_at, source, log) VALUES ('$1', '${7:-t}', '$2', 'now', $4, $4, $4, $5, '$3', $6);"
	}
	runrow() { # job route finished log
		echo "INSERT INTO runs(job_id, route, attempt, started_at, finished_at, status, exit_code, signal, log) VALUES ('$1', '$2', 1, $(($3 - 1000)), $3, 'success', 0, 0, $4);"
	}
	{
		job old1 success cli $((now - 5 * day)) $((now - 3 * day)) "'$S/logs/t/old1.log'"
		runrow old1 t $((now - 3 * day)) "'$S/logs/t/old1.log'"
		job old2 failed cli $((now - 5 * day)) $((now - 2 * day)) "'$S/logs/t/old2.log'"
		runrow old2 t $((now - 2 * day)) "'$(T outside.log)'"
		runrow old2 t $((now - 2 * day)) "'$S/logs/t/old2.log'"
		job gone cancelled cli $((now - 4 * day)) NULL NULL
		job new1 success cli $((now - 5 * day)) $((now - 3600000)) "'$S/logs/t/new1.log'"
		runrow new1 t $((now - 3600000)) "'$S/logs/t/new1.log'"
		job sched scheduled cli $((now - 9 * day)) NULL NULL
		job run1 running cli $((now - 9 * day)) NULL "'$S/logs/t/run1.log'"
		job c success config $((now - 9 * day)) $((now - 3 * day)) "'$S/logs/c/new.log'" c
		runrow c c $((now - 3 * day)) "'$S/logs/c/old.log'"
		runrow c c $((now - 1000)) "'$S/logs/c/new.log'"
	} | sqlite3 -cmd '.timeout 5000' state/jobify.db
	DB() { sqlite3 -cmd '.timeout 5000' state/jobify.db "$@"; }
}

teardown() {
	sup_teardown
}

@test "prune --older-than: ended jobs, their history and logs go; the rest stays" {
	run --separate-stderr J prune --older-than 1d
	assert_success
	assert_output "pruned 3 jobs, 4 runs of history, 3 log files"
	run DB "SELECT id FROM jobs ORDER BY id"
	assert_output "c
new1
run1
sched"
	run DB "SELECT job_id || ' ' || (finished_at > $now - 86400000) FROM runs ORDER BY id"
	assert_output "new1 1
c 1"
	[ ! -e "$S/logs/t/old1.log" ]
	[ ! -e "$S/logs/t/old2.log" ]
	[ ! -e "$S/logs/c/old.log" ]
	# Kept: the logs of what stays, and a file outside the state directory.
	[ -e "$S/logs/t/new1.log" ]
	[ -e "$S/logs/t/run1.log" ]
	[ -e "$S/logs/c/new.log" ]
	[ -e outside.log ]
	# Again: nothing left to prune.
	run J prune --older-than 1d
	assert_output "pruned 0 jobs, 0 runs of history, 0 log files"
	# Without --older-than (and no keep-ended): all that ended.
	run J prune
	assert_output "pruned 1 job, 2 runs of history, 1 log file"
	run DB "SELECT id FROM jobs ORDER BY id"
	assert_output "c
run1
sched"
	# The log a cron row still names stays, its history row gone or not.
	[ -e "$S/logs/c/new.log" ]
}

@test "prune never removes a file through a symbolic link in the logs" {
	# logs/t is now a link to a directory outside holding files of the
	# same names: they are not the state directory's, and stay.
	mkdir elsewhere
	mv "$S/logs/t/"*.log elsewhere/
	rmdir "$S/logs/t"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$S/logs/t"
	run --separate-stderr J prune --older-than 1d
	[ -e elsewhere/old1.log ]
	[ -e elsewhere/old2.log ]
	# The rows went; the files behind the link did not.
	run DB "SELECT count(*) FROM jobs WHERE id IN ('old1', 'old2')"
	assert_output 0
	[ ! -e "$S/logs/c/old.log" ]
}

@test "prune: a bad duration exits 65, an argument 64; nothing removed" {
	run --separate-stderr J prune --older-than 5x
	assert_failure 65
	[ "$stderr" = "jobify: prune: --older-than: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)" ]
	run --separate-stderr J prune --older-than
	assert_failure 64
	run --separate-stderr J prune old1
	assert_failure 64
	run DB "SELECT count(*) FROM jobs"
	assert_output 7
	run J prune --help
	assert_success
	assert_output --partial "prune [--older-than DUR]"
}

@test "keep-ended: the supervisor prunes at start, and prune takes it as its default" {
	conf k.conf <<-'EOF'
	state-dir = "state"
	keep-ended = 2.5d
	task "t" { exec = "true" }
	task "c" { exec = "true" cron = "0 0 1 1 *" }
	EOF
	sup_start k.conf
	# old1 ended and gone was made more than 2.5 days ago (and c's old
	# history row): they went before the supervisor was ready.
	run DB "SELECT id FROM jobs ORDER BY id"
	assert_output "c
new1
old2
run1
sched"
	[ ! -e "$S/logs/t/old1.log" ]
	[ ! -e "$S/logs/c/old.log" ]
	grep -E 'event=prune .*jobs=2 runs=2 logs=2' "$SUP_LOG"
	sup_stop
	run J -c "$(T k.conf)" prune
	assert_output "pruned 0 jobs, 0 runs of history, 0 log files"
	run J -c "$(T k.conf)" prune --older-than 1.5d
	assert_output "pruned 1 job, 2 runs of history, 1 log file"
}

@test "keep-ended must be a duration" {
	conf bad.conf <<-'EOF'
	keep-ended = forever
	EOF
	run --separate-stderr "$JOBIFY" -c bad.conf check
	assert_failure 78
	[[ "$stderr" == *"keep-ended: 'forever'"* ]]
}
