#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Faults: the supervisor killed at random points of a burst, jobs that
# leave processes behind or misuse their output, a state directory that
# is read-only, full, locked or deleted, and signal storms.  Each test
# says what must hold; none depends on timing beyond generous deadlines.

setup() {
	load sup-helpers
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
}

teardown() {
	sup_teardown
	# A test that mounted a tmpfs unmounts it, even when it failed.
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount -l "$MNT" || true
	fi
	# Leftovers of a failed test's jobs must not outlive it.
	if [ -s "$BATS_TEST_TMPDIR/pids" ]; then
		xargs kill -KILL <"$BATS_TEST_TMPDIR/pids" 2>/dev/null || true
	fi
	local g
	for g in $(cat "$BATS_TEST_TMPDIR/pgids" 2>/dev/null); do
		kill -KILL -- "-$g" 2>/dev/null || true
	done
}

# alive PID...: how many of the PIDs still run (zombies count as gone).
alive() {
	local n=0 p st
	for p in "$@"; do
		st=$(ps -o stat= -p "$p" 2>/dev/null) || continue
		[[ $st == Z* ]] || n=$((n + 1))
	done
	echo "$n"
}

# until_gone SECONDS PID...: poll until none of the PIDs runs.
until_gone() {
	local deadline=$((SECONDS + $1))
	shift
	while [ "$(alive "$@")" -gt 0 ]; do
		if ((SECONDS >= deadline)); then
			echo "still running after the deadline: $(alive "$@") of $*" >&2
			ps -o pid,pgid,stat,args -p "$(
				IFS=,
				echo "$*"
			)" >&2 || true
			return 1
		fi
		sleep 0.05
	done
}

# may_mount: skip unless this test may mount a tmpfs.
may_mount() {
	MNT=$(T mnt)
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o size="${1:-4m}" jobify-test "$MNT" 2>/dev/null; then
		MNT=
		skip "cannot mount a tmpfs here (needs root, or CAP_SYS_ADMIN)"
	fi
}

@test "kill -9 at random points of a long burst, five times: every job ends, none runs twice" {
	# Each job appends its id once; a job whose run was in flight at the
	# kill is lost (logged event=lost) and, with no retries, ends failed.
	script rec 'echo "$1 $JOBIFY_ATTEMPT" >> "$(dirname "$0")/rec.out"'
	conf j.conf <<EOF
state-dir = "state"
max-parallel = 8
task "rec" { exec = "./rec" output = "null" }
EOF
	seq 1 400 | sed 's/.*/rec --id b& -- b&/' | J schedule --stdin >/dev/null
	for round in 1 2 3 4 5; do
		sup_start j.conf
		# A random point: 0 to 300 ms into the burst.
		sleep "0.$(printf '%03d' $((RANDOM % 300)))"
		kill -9 "$SUP_PID"
		wait "$SUP_PID" || true
		SUP_PID=
		cat "$SUP_LOG" >>"$(T all.log)"
		# The integrity of the store after each kill.
		run sqlite3 "$(T state/jobify.db)" 'PRAGMA integrity_check'
		assert_output ok
	done
	sup_start j.conf
	run J wait --timeout 120s $(seq -f 'b%g' 1 400)
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	sup_stop
	cat "$SUP_LOG" >>"$(T all.log)"
	run J jobs
	assert_output ""
	# Each ran once, or it was lost in flight and ended failed: never
	# twice, never not at all.
	for i in $(seq 1 400); do
		n=$(grep -c "^b$i " "$(T rec.out)" || true)
		st=$(J status "b$i" | sed -n 's/^status: *//p')
		if [ "$n" -eq 1 ] && [ "$st" = success ]; then
			continue
		fi
		if [ "$n" -le 1 ] && [ "$st" = failed ] && grep -q "event=lost job=b$i " "$(T all.log)"; then
			continue
		fi
		echo "job b$i ran $n times and ended $st" >&2
		false
	done
}

@test "timeout, cancel and stop take the job's whole process group, SIGTERM ignored or not" {
	# The job leaves two children in its group that ignore SIGTERM, then
	# waits: the group gets SIGTERM, the leader exits, and what it left
	# behind is killed with it.
	script spawner 'd=$(dirname "$0")
sh -c "trap \"\" TERM; while :; do sleep 1; done" &
echo $! >> "$d/pids"
sh -c "trap \"\" TERM; while :; do sleep 1; done" &
echo $! >> "$d/pids"
echo "$!" > "$d/ready.$JOBIFY_ROUTE"
exec sleep 1000'
	conf j.conf <<EOF
state-dir = "state"
shutdown-grace = 100ms
task "to" { exec = "./spawner" cron = "@reboot" timeout = 300ms kill-grace = 30s output = "null" }
task "c" { exec = "./spawner" kill-grace = 30s output = "null" }
task "stop" { exec = "./spawner" cron = "@reboot" kill-grace = 30s output = "null" }
EOF
	sup_start j.conf
	# Timeout: the leader exits on SIGTERM; its children go too, long
	# before the 30 s kill-grace.
	wait_for 'event=exit route=to .*status=timeout'
	mapfile -t pids <"$(T pids)"
	wait_for . 10 "$(T ready.stop)"
	# Cancel --kill.
	id=$(J schedule c)
	wait_for . 10 "$(T ready.c)"
	run J cancel --kill "$id"
	assert_success
	wait_for "event=exit route=c .*status=cancelled"
	# Stop.
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	mapfile -t pids <"$(T pids)"
	[ "${#pids[@]}" -eq 6 ]
	until_gone 10 "${pids[@]}"
}

@test "kill -9 of the supervisor: its jobs' and its run hook's process groups die with it, whole" {
	# The job's shell and the hook both leave a sleep in the background:
	# a parent-death signal would reach the first process only.
	script hook 'sleep 1000 &
echo K=v
echo
exec sleep 1000'
	conf j.conf <<EOF
state-dir = "state"
lifespan { run = "./hook" }
task "cr" { exec = "sh -c 'sleep 1000 & sleep 1000; wait'" cron = "@reboot" output = "null" }
task "st" { exec = "sh -c 'sleep 1000 & sleep 1000; wait'" output = "null" }
EOF
	sup_start j.conf
	hook=$(sed -n 's/.*event=lifespan-started .* pid=\([0-9]*\).*/\1/p' "$SUP_LOG")
	[ -n "$hook" ]
	echo "$hook" >>"$(T pgids)"
	J schedule st >/dev/null
	wait_for 'event=start route=cr '
	wait_for 'event=start route=st '
	cr=$(sed -n 's/.*event=start route=cr pid=\([0-9]*\) .*/\1/p' "$SUP_LOG")
	st=$(sed -n 's/.*event=start route=st .*pid=\([0-9]*\) .*/\1/p' "$SUP_LOG")
	echo "$cr $st" >>"$(T pgids)"
	# Each group whole: the shell and its two sleeps; the hook's two.
	until_group_size "$cr" 3
	until_group_size "$st" 3
	until_group_size "$hook" 2
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	until_groups_gone 5 "$cr" "$st" "$hook"
	grep -q 'level=error event=supervisor-died pid=[0-9]* killed=3$' "$SUP_LOG"
}

@test "the guard holds no descriptor of the supervisor: after kill -9 a new one starts at once, the store is free" {
	conf j.conf <<EOF
state-dir = "state"
shutdown-grace = 100ms
task "sl" { exec = "sleep 1000" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=start route=sl '
	sed -n 's/.*event=start route=sl pid=\([0-9]*\) .*/\1/p' "$SUP_LOG" >>"$(T pgids)"
	guard=$(pgrep -P "$SUP_PID" -x jobify-guard)
	[ -n "$guard" ]
	# Its own session, and of the supervisor's descriptors only stderr.
	[ "$(ps -o sid= -p "$guard" | tr -d ' ')" = "$guard" ]
	run ls -l "/proc/$guard/fd"
	assert_success
	refute_output --partial "$(T state)"
	refute_output --partial "socket:"
	[ "$(find "/proc/$guard/fd" -mindepth 1 | wc -l)" -eq 5 ]
	kill -9 "$SUP_PID"
	wait "$SUP_PID" || true
	SUP_PID=
	# The store's locks went with the supervisor: nothing holds them.
	run sqlite3 -cmd '.timeout 0' "$(T state/jobify.db)" 'BEGIN EXCLUSIVE; COMMIT;'
	assert_success
	mv "$SUP_LOG" "$(T first.log)"
	sup_start j.conf
	wait_for 'event=start route=sl '
	guard=$(pgrep -P "$SUP_PID" -x jobify-guard)
	[ -n "$guard" ]
	# A clean stop kills nothing through the guard, and takes it along.
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run kill -0 "$guard"
	assert_failure
	run grep -c 'supervisor-died' "$SUP_LOG"
	assert_output 0
}

@test "a job that closes its output, and one that floods it, leave the supervisor on time" {
	# The flood: endless lines on stdout, captured line by line into the
	# supervisor's log (output = inherit), while a task fires every second.
	conf j.conf <<EOF
state-dir = "state"
task "closer" { exec = "sh -c 'exec >&- 2>&-; sleep 0.2; exit 3'" cron = "@reboot" output = "inherit" }
task "flood" { exec = "sh -c 'echo \$\$ >> pids; exec yes flood'" cron = "@reboot" timeout = 4s output = "inherit" }
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	cd "$BATS_TEST_TMPDIR"
	sup_start j.conf
	wait_for 'event=exit route=closer .*exit_code=3'
	n=$(grep -c 'event=exit route=tick' "$SUP_LOG" || true)
	# While the flood lasts the ticks go on.
	wait_count 'event=exit route=tick' $((n + 2)) 30
	wait_for 'event=exit route=flood .*status=timeout' 30
	wait_count 'event=exit route=tick' $((n + 4)) 30
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	grep -q 'event=output route=flood pid=[0-9]* stream=stdout line=flood$' "$SUP_LOG"
}

@test "a job whose leftover floods its output after it exited does not stall the supervisor" {
	conf j.conf <<EOF
state-dir = "state"
task "leaver" { exec = "sh -c 'yes left & echo \$! >> pids; exit 0'" cron = "@reboot" output = "inherit" }
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	cd "$BATS_TEST_TMPDIR"
	sup_start j.conf
	wait_for 'event=exit route=leaver .*status=success'
	n=$(grep -c 'event=exit route=tick' "$SUP_LOG" || true)
	wait_count 'event=exit route=tick' $((n + 2)) 30
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "a read-only state directory: schedule says so and writes nothing; the supervisor will not start" {
	may_mount
	conf j.conf <<EOF
state-dir = "$MNT/state"
task "t" { exec = "true" }
EOF
	J schedule t --in 1h >/dev/null
	mount -o remount,ro "$MNT"
	run --separate-stderr J schedule t
	[ "$status" -ne 0 ]
	[[ "${stderr,,}" == *"read-only"* ]] || { echo "stderr: $stderr" >&2; false; }
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" run
	[ "$status" -ne 0 ]
	[[ "${stderr,,}" == *"read-only"* ]] || { echo "stderr: $stderr" >&2; false; }
	mount -o remount,rw "$MNT"
	run J jobs
	[ "${#lines[@]}" -eq 1 ]
}

@test "a full state directory: schedule fails and writes nothing; the supervisor keeps its jobs and catches up" {
	may_mount 2m
	conf j.conf <<EOF
state-dir = "$MNT/state"
task "t" { exec = "true" output = "null" }
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	J schedule t --in 1h >/dev/null
	sup_start j.conf
	wait_for 'event=exit route=tick'
	# Fill the disk to the last block.
	dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null || true
	run --separate-stderr J schedule t --in 2h
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"full"* ]] || { echo "stderr: $stderr" >&2; false; }
	n=$(grep -c 'event=exit route=tick' "$SUP_LOG" || true)
	wait_count 'event=exit route=tick' $((n + 2)) 30
	kill -0 "$SUP_PID"
	rm "$MNT/fill"
	id=$(J schedule t)
	run J wait --timeout 30s "$id"
	assert_success
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run J jobs
	[ "${#lines[@]}" -eq 2 ]
}

@test "a store locked by another process: schedule exits 75 and writes nothing; the supervisor waits it out" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" output = "null" }
EOF
	J schedule t --in 1h >/dev/null
	sup_start j.conf
	# Another process holds the write lock for 8 s (longer than the
	# busy timeout of the command line).
	sqlite3 "$(T state/jobify.db)" 'BEGIN IMMEDIATE; SELECT 1;' '.shell sleep 8' 'COMMIT;' >/dev/null &
	holder=$!
	echo "$holder" >>"$(T pids)"
	sleep 0.5
	run --separate-stderr J schedule t
	assert_failure 75
	[[ "$stderr" == *"locked"* || "$stderr" == *"busy"* ]] || { echo "stderr: $stderr" >&2; false; }
	wait "$holder"
	id=$(J schedule t)
	run J wait --timeout 30s "$id"
	assert_success
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run J jobs
	[ "${#lines[@]}" -eq 1 ]
}

@test "the state directory deleted under the supervisor: it says so and stops" {
	conf j.conf <<EOF
state-dir = "state"
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=tick'
	rm -rf "$(T state)"
	# It stops by itself (a zombie until waited for), exit 73.
	deadline=$((SECONDS + 30))
	until [[ "$(ps -o stat= -p "$SUP_PID" || echo Z)" == Z* ]]; do
		((SECONDS < deadline))
		sleep 0.05
	done
	status=0
	wait "$SUP_PID" || status=$?
	SUP_PID=
	[ "$status" -eq 73 ]
	run cat "$SUP_LOG"
	assert_line --regexp 'level=error event=state-dir-gone dir=.*/state removed=(jobify\.db|jobify\.pid|the directory)'
	assert_line --regexp 'level=error event=stopping reason=state-dir-gone running=0'
	assert_line --regexp 'event=stopped status=error'
	# And a new supervisor starts afresh.
	sup_start j.conf
	wait_for 'event=exit route=tick'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "a SIGHUP storm while jobs fire: no crash, no lost fire, no descriptor left" {
	conf j.conf <<EOF
state-dir = "state"
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=tick'
	fds0=$(ls "/proc/$SUP_PID/fd" | wc -l)
	for i in $(seq 1 300); do
		kill -HUP "$SUP_PID"
	done
	n=$(grep -c 'event=exit route=tick' "$SUP_LOG" || true)
	wait_count 'event=exit route=tick' $((n + 3)) 30
	wait_for 'event=reloaded'
	fds1=$(ls "/proc/$SUP_PID/fd" | wc -l)
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	[ "$fds1" -eq "$fds0" ]
	# Fires are never doubled by a reload: one exit per second at most.
	run sh -c "grep 'event=start route=tick' '$SUP_LOG' | grep -o 'scheduled_at=[^ ]*' | sort | uniq -d"
	assert_output ""
}

@test "kill -9 cycles with retry = 0 lose nothing: every job runs exactly once, claimed jobs are never left unrun" {
	# max-parallel 2 keeps most of the burst due, not running: none of it
	# may be claimed and then forgotten by a kill.  Each job records its
	# run once; a job in flight at a kill is lost (it started) and ends
	# failed, having recorded its run or not: it dies with the supervisor.
	script rec 'echo "$1 $JOBIFY_ATTEMPT" >> "$(dirname "$0")/rec.out"; sleep 0.1'
	conf j.conf <<EOF2
state-dir = "state"
max-parallel = 2
task "rec" { exec = "./rec" output = "null" retry = 0 }
EOF2
	seq 1 150 | sed 's/.*/rec --id k& -- k&/' | J schedule --stdin >/dev/null
	for round in 1 2 3 4 5 6; do
		sup_start j.conf
		# A random point of the burst: after 1 to 20 starts.
		wait_count 'event=start route=rec' $((1 + RANDOM % 20)) 30
		kill -9 "$SUP_PID"
		wait "$SUP_PID" || true
		SUP_PID=
		cat "$SUP_LOG" >>"$(T all.log)"
		run sqlite3 "$(T state/jobify.db)" 'PRAGMA integrity_check'
		assert_output ok
	done
	sup_start j.conf
	run J wait --timeout 120s $(seq -f 'k%g' 1 150)
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	sup_stop
	cat "$SUP_LOG" >>"$(T all.log)"
	run J jobs
	assert_output ""
	for i in $(seq 1 150); do
		n=$(grep -c "^k$i " "$(T rec.out)" || true)
		st=$(J status "k$i" | sed -n 's/^status: *//p')
		if [ "$n" -eq 1 ] && [ "$st" = success ]; then
			continue
		fi
		if [ "$n" -le 1 ] && [ "$st" = failed ] && grep -q "event=lost job=k$i " "$(T all.log)"; then
			continue
		fi
		echo "job k$i ran $n times and ended $st" >&2
		false
	done
}

@test "a full state directory when a job ends: wait hears the end at once; it is written once there is room" {
	may_mount 2m
	script hold 'while [ ! -e "$(dirname "$0")/go" ]; do sleep 0.05; done; echo done'
	conf j.conf <<EOF2
state-dir = "$MNT/state"
task "hold" { exec = "$(T hold)" output = "null" }
EOF2
	sup_start j.conf
	id=$(J schedule hold)
	wait_for "event=start route=hold job=$id"
	# The disk full to the last block, then the job ends.
	dd if=/dev/zero of="$MNT/fill" bs=64k 2>/dev/null || true
	: >"$(T go)"
	wait_for "event=exit route=hold job=$id"
	# Its end cannot be written: whoever waits hears it all the same,
	# and the supervisor keeps it and says so.
	run J wait --timeout 30s "$id"
	assert_success
	run sqlite3 "$MNT/state/jobify.db" "SELECT status FROM jobs WHERE id = '$id'"
	assert_output running
	wait_for 'event=store-unwritten'
	rm "$MNT/fill"
	# Room again: the end is written, with its row of history.
	wait_for 'event=store-written' 30
	run sqlite3 "$MNT/state/jobify.db" "SELECT status FROM jobs WHERE id = '$id'"
	assert_output success
	run sqlite3 "$MNT/state/jobify.db" "SELECT status FROM runs WHERE job_id = '$id'"
	assert_output success
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "a long write transaction of another process: fires go on during it and no history row is lost" {
	conf j.conf <<EOF2
state-dir = "state"
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF2
	sup_start j.conf
	wait_for 'event=exit route=tick'
	# Another process holds the write lock for 8 s (the store's busy
	# timeout is 5 s).
	sqlite3 "$(T state/jobify.db)" 'BEGIN IMMEDIATE; SELECT 1;' ".shell touch $(T held); sleep 8" \
		'COMMIT;' >/dev/null &
	holder=$!
	echo "$holder" >>"$(T pids)"
	deadline=$((SECONDS + 20))
	until [ -e "$(T held)" ]; do
		((SECONDS < deadline)) || { echo "the lock was never taken" >&2; false; }
		sleep 0.05
	done
	n0=$(grep -c 'event=exit route=tick' "$SUP_LOG")
	wait "$holder"
	n1=$(grep -c 'event=exit route=tick' "$SUP_LOG")
	# About 8 fires while it held the lock; at least 4 on a loaded box.
	[ $((n1 - n0)) -ge 4 ] || { echo "$((n1 - n0)) fires in the 8 s" >&2; false; }
	wait_for 'event=store-written' 30
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	# Every run has its row of history.
	n=$(grep -c 'event=exit route=tick' "$SUP_LOG")
	run sqlite3 "$(T state/jobify.db)" "SELECT count(*) FROM runs WHERE route = 'tick'"
	assert_output "$n"
}

@test "a process limit: a start refused with EAGAIN is tried again, not failed; every job runs" {
	[ "$(id -u)" -eq 0 ] || skip "needs root (to become another user with a process limit)"
	command -v setpriv >/dev/null && command -v prlimit >/dev/null || skip "needs setpriv and prlimit"
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null || true
		d=$(dirname "$d")
	done
	# A user id of its own, that no other process of the machine (nor of a
	# suite running beside this one) has: RLIMIT_NPROC counts every
	# process of the user, not only the supervisor's children.
	local uid
	uid=$((50000 + RANDOM % 10000))
	while getent passwd "$uid" >/dev/null || pgrep -U "$uid" >/dev/null; do
		uid=$((50000 + RANDOM % 10000))
	done
	mkdir -p "$(T out)" "$(T state)"
	chown "$uid:$uid" "$(T out)" "$(T state)"
	# One process a job: the script forks nothing.
	script slow "echo \"\$1\" >> $(T out/ran); exec sleep 0.3"
	conf j.conf <<EOF2
state-dir = "$(T state)"
task "slow" { exec = "$(T slow)" output = "null" }
EOF2
	chmod 644 "$(T j.conf)"
	N() { setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"; }
	seq 1 12 | sed 's/.*/slow --id p& -- p&/' | N "$JOBIFY" -c "$(T j.conf)" schedule --stdin >/dev/null
	# The user may have 5 processes: the supervisor, its guard, the waiting
	# client and 2 jobs at a time.
	SUP_LOG=$(T sup.log)
	: >"$SUP_LOG"
	prlimit --nproc=5:5 setpriv --reuid="$uid" --regid="$uid" --clear-groups -- \
		"$JOBIFY" -c "$(T j.conf)" run 2>>"$SUP_LOG" 3>&- &
	SUP_PID=$!
	wait_for 'event=ready'
	run N "$JOBIFY" -c "$(T j.conf)" wait --timeout 60s $(seq -f 'p%g' 1 12)
	assert_success
	grep -q 'event=spawn-later' "$SUP_LOG"
	run grep -q 'event=spawn-error' "$SUP_LOG"
	assert_failure 1
	[ "$(sort -u "$(T out/ran)" | wc -l)" -eq 12 ]
	[ "$(wc -l <"$(T out/ran)")" -eq 12 ]
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}
