#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# What loading costs at scale, tested by what it does, not by the clock
# (bench/routes-scale.sh measures the time): a supervisor that restarts or
# reloads on an unchanged config writes none of its durable cron rows
# again, and a router of many tasks loads them all, in order.

setup() {
	load sup-helpers
	command -v sqlite3 >/dev/null ||
		fail "these tests read the store with the sqlite3 command (.ci/install-deps installs it)"
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
}

teardown() {
	sup_teardown
}

DB() {
	sqlite3 -cmd '.timeout 5000' "$(T state/jobify.db)" "$@"
}

@test "a restart or a reload on an unchanged config writes no durable cron row again" {
	conf j.conf <<-'EOF'
	state-dir = "state"
	task "a" { exec = 'true' cron = "0 0 1 1 *" }
	task "b" { exec = 'true' cron = "0 0 2 1 *" }
	router "r" { task "c" { exec = 'true' cron = "0 0 3 1 *" } }
	include-router = { 'r' }
	EOF
	sup_start j.conf
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	[ "$(DB "SELECT count(*) FROM jobs WHERE source = 'config'")" -eq 3 ]
	# Count every write to the jobs table from here on.
	DB "CREATE TABLE writes (what TEXT);
	    CREATE TRIGGER w_ins AFTER INSERT ON jobs BEGIN INSERT INTO writes VALUES ('insert ' || new.id); END;
	    CREATE TRIGGER w_upd AFTER UPDATE ON jobs BEGIN INSERT INTO writes VALUES ('update ' || new.id); END;"
	sup_start j.conf
	J reload
	wait_for 'event=reloaded by=control'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run DB "SELECT what FROM writes"
	assert_output ""
	# A change is still written: the row of the task whose cron changed.
	sed -i 's/0 0 2 1 \*/0 0 4 1 */' "$(T j.conf)"
	sup_start j.conf
	sup_stop
	run DB "SELECT what FROM writes"
	assert_output "update b"
	[ "$(DB "SELECT cron FROM jobs WHERE id = 'b'")" = "0 0 4 1 *" ]
}

@test "a router of 20,000 tasks loads every one, in order" {
	awk 'BEGIN {
		print "include-router = { \"big\" }"
		print "router \"big\" {"
		for (i = 0; i < 20000; i++)
			printf "  task \"t%d\" { exec = \"/bin/true %d\" cron = \"%d %d * * *\" }\n", i, i, i % 60, i % 24
		print "}"
	}' >"$(T j.conf)"
	run --separate-stderr J check
	assert_success
	assert_output "$(T j.conf): 20000 routes in 1 file, 0 detached routers"
	J routes >"$(T routes.out)"
	[ "$(wc -l <"$(T routes.out)")" -eq 20000 ]
	run sed -n '1p;12346p;20000p' "$(T routes.out)"
	assert_line --index 0 --regexp '^big:t0	'
	assert_line --index 1 --regexp '^big:t12345	.*/bin/true 12345'
	assert_line --index 2 --regexp '^big:t19999	'
}
