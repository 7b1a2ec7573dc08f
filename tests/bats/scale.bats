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

@test "a reload that removes 5,000 durable tasks writes their rows a slice a turn, and all of them; a stop right after finishes the writing" {
	local n
	{
		printf 'state-dir = "state"\nmetrics-file = "jobify.prom"\n'
		printf 'include-router = { "r" }\nrouter "r" {\n'
		for ((n = 0; n < 5000; n++)); do
			printf '  task "t%d" { exec = "true" cron = "%d %d 1 1 *" }\n' "$n" $((n % 60)) $((n / 60 % 24))
		done
		printf '}\n'
	} >"$(T big.conf)"
	printf 'state-dir = "state"\nmetrics-file = "jobify.prom"\ntask "a" { exec = "true" cron = "0 0 1 1 *" }\n' \
		>"$(T small.conf)"
	# big_then_small: start on the 5,000 tasks (each row scheduled),
	# reload on the one.
	big_then_small() {
		cp "$(T big.conf)" "$(T j.conf)"
		sup_start j.conf
		[ "$(DB "SELECT count(*) FROM jobs WHERE source = 'config' AND status = 'scheduled'")" -eq 5000 ]
		cp "$(T small.conf)" "$(T j.conf)"
		J reload
		wait_for 'event=reloaded by=control'
	}
	big_then_small
	for ((n = 0; n < 600; n++)); do
		[ "$(DB "SELECT count(*) FROM jobs WHERE source = 'config' AND status = 'cancelled'")" -ne 5000 ] ||
			break
		sleep 0.05
	done
	[ "$(DB "SELECT count(*) FROM jobs WHERE source = 'config' AND status = 'cancelled'")" -eq 5000 ]
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	# In slices (BATCH_PER_TURN, 1,024 writes): five writes at least
	# for the 5,000 rows, where one transaction held the loop.
	n=$(sed -n 's/^jobify_store_write_seconds_count //p' "$(T jobify.prom)")
	echo "store writes: $n"
	[ "$n" -ge 5 ]
	# A stop at once after such a reload: every row written before the exit.
	big_then_small
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	[ "$(DB "SELECT count(*) FROM jobs WHERE source = 'config' AND status = 'cancelled'")" -eq 5000 ]
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

# big N FILE: a config of N tasks without a schedule (no rows in the
# store), in the state directory "state", that takes the supervisor a
# while to load: about 0.6 s of CPU for 100,000.
big() {
	awk -v n="$1" 'BEGIN {
		print "state-dir = \"state\""
		for (i = 0; i < n; i++)
			printf "task \"t%d\" { exec = \"/bin/true %d\" }\n", i, i
	}' >"$(T "$2.new")"
	mv "$(T "$2.new")" "$(T "$2")"
}

# count PATTERN: lines of the supervisor's log that match.
count() {
	grep -c -- "$1" "$SUP_LOG" || true
}

@test "a reload loads the config off the loop: the supervisor answers while 100,000 routes load" {
	conf small.conf <<-'EOF'
	state-dir = "state"
	task "a" { exec = 'true' }
	EOF
	cp "$(T small.conf)" "$(T j.conf)"
	sup_start j.conf
	big 100000 j.conf
	# The supervisor's loop answers `status` during the load: before the
	# new routes are taken (`reloaded`), which on the loop itself would
	# have come first.  A load that ends before the answer (a machine so
	# busy that `status` did not run in the time 100,000 routes took)
	# proves nothing either way: another reload is tried.
	local try answered=
	for try in 1 2 3; do
		kill -HUP "$SUP_PID"
		wait_count 'event=reloading by=SIGHUP' "$try"
		"$JOBIFY" -c "$(T small.conf)" status >"$(T status.out)"
		if [ "$(count 'event=reloaded')" -lt "$try" ]; then
			answered=$try
		fi
		wait_count 'event=reloaded by=SIGHUP routes=100000' "$try" 60
		[ -n "$answered" ] && break
	done
	[ -n "$answered" ]
	grep -q '^supervisor: *running' "$(T status.out)"
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

# rchar: the bytes the supervisor has read so far, all its threads
# (/proc/PID/io).
rchar() { sed -n 's/^rchar: //p' "/proc/$SUP_PID/io"; }

# until_read BYTES: poll until the supervisor has read BYTES in all.
until_read() {
	local deadline=$((SECONDS + 60))
	until [ "$(rchar)" -ge "$1" ]; do
		if ((SECONDS >= deadline)); then
			echo "the supervisor read $(rchar) bytes, not $1" >&2
			return 1
		fi
		sleep 0.01
	done
}

@test "a reload asked for while one loads is done once after it, with the file as it is then" {
	conf small.conf <<-'EOF'
	state-dir = "state"
	task "a" { exec = 'true' }
	task "b" { exec = 'true' }
	EOF
	cp "$(T small.conf)" "$(T j.conf)"
	sup_start j.conf
	local try from n coalesced=
	for try in 1 2 3; do
		big 100000 j.conf
		from=$(wc -l <"$SUP_LOG")
		n=$(count 'event=reloading')
		read0=$(rchar)
		kill -HUP "$SUP_PID"
		wait_count 'event=reloading' $((n + 1))
		# The big file read (the loader reads it whole, then parses it):
		# what follows comes while the load goes on.
		until_read $((read0 + $(stat -c %s "$(T j.conf)")))
		# The file changes while it loads, and a reload is asked for
		# twice more: by a signal, and on the control socket, whose
		# answer comes once a load that read the file after the request
		# is taken.
		cp "$(T small.conf)" "$(T j.conf)"
		kill -HUP "$SUP_PID"
		run "$JOBIFY" -c "$(T small.conf)" reload
		assert_success
		run sh -c "tail -n +$((from + 1)) '$SUP_LOG' | grep 'event=reloaded'"
		# The last load read the small file, whatever the first read.
		assert_line --index $((${#lines[@]} - 1)) --partial 'routes=2 '
		# When both asks came while the first load ran, they made one
		# more load, not two.  When the first had ended before them
		# (or read the small file already), this proves nothing: again.
		if [ "${#lines[@]}" -eq 2 ] && [[ ${lines[0]} == *'routes=100000 '* ]]; then
			coalesced=$try
			break
		fi
		echo "try $try: ${#lines[@]} loads" >&2
	done
	[ -n "$coalesced" ]
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "a stop while a reload loads: the load is dropped, the supervisor ends cleanly" {
	conf j.conf <<-'EOF'
	state-dir = "state"
	task "a" { exec = 'true' }
	EOF
	sup_start j.conf
	big 100000 j.conf
	kill -HUP "$SUP_PID"
	wait_for 'event=reloading by=SIGHUP'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	grep -q 'event=stopped status=ok' "$SUP_LOG"
	[ "$(count 'event=reloaded')" -eq 0 ]
}
