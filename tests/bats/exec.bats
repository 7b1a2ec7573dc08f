#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify exec: one run in the foreground, in the task's full context.

setup() {
	load sup-helpers
}

teardown() {
	sup_teardown
	local g
	for g in $(cat "$BATS_TEST_TMPDIR/pgids" 2>/dev/null); do
		kill -KILL -- "-$g" 2>/dev/null || true
	done
}

@test "exec runs the task with the lifespans on its path around it and appends the ARGs" {
	script hook 'echo "$1" >> "$(dirname "$0")/order"; [ "$1" = up-r ] && echo STATE=ready; exit 0'
	script rec 'echo "task $* state=$STATE trigger=$JOBIFY_TRIGGER" >> "$(dirname "$0")/order"; echo on-stdout'
	conf j.conf <<EOF
state-dir = "state"
lifespan { startup = "./hook up-app" shutdown = "./hook down-app" }
router "r" {
  lifespan { startup = "./hook up-r" shutdown = "./hook down-r" }
  task "t" { exec = "./rec fixed" }
}
router "other" { lifespan { startup = "./hook up-other" } }
include-router = { "r", "other" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec r:t -- "two words" x
	assert_success
	assert_output "on-stdout"
	run cat "$(T order)"
	assert_output "up-app
up-r
task fixed two words x state=ready trigger=exec
down-r
down-app"
}

@test "exec exits with the task's status, 128+N for a signal" {
	conf j.conf <<EOF
state-dir = "state"
task "three" { exec = "sh -c 'exit 3'" }
task "killed" { exec = "sh -c 'kill -USR1 \$\$'" }
EOF
	run "$JOBIFY" -c "$(T j.conf)" exec three
	assert_failure 3
	run "$JOBIFY" -c "$(T j.conf)" exec killed
	assert_failure $((128 + 10))
}

@test "exec applies the timeout: 124" {
	conf j.conf <<EOF
state-dir = "state"
task "slow" { exec = "sleep 30" timeout = 200ms }
EOF
	run "$JOBIFY" -c "$(T j.conf)" exec slow
	assert_failure 124
}

# A job whose timeout strikes and that leaves a process in its group
# that ignores SIGTERM; script "job" writes the leader's pid (its
# group's number) and the child's.
timeout_leaves_child() {
	script job 'd=$(dirname "$0")
echo $$ > "$d/job.pid"
(trap "" TERM; exec sleep 1000) &
echo $! > "$d/child.pid"
exec sleep 1000'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./job" timeout = 1s kill-grace = 30s }
EOF
}

@test "exec after a timeout: what the job left in its group is killed, SIGTERM ignored or not" {
	timeout_leaves_child
	run "$JOBIFY" -c "$(T j.conf)" exec t
	assert_failure 124
	job=$(cat "$(T job.pid)")
	echo "$job" >"$(T pgids)"
	[ -s "$(T child.pid)" ]
	# At the leader's end, not after the 30 s of kill-grace.
	until_groups_gone 5 "$job"
}

@test "exec after a timeout kills the rest of the job's group before it reaps the leader" {
	# Once reaped, the leader's pid, which numbers the group, may be
	# another's: the SIGKILL must come while its zombie holds it.
	command -v strace >/dev/null || skip "no strace here"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	timeout_leaves_child
	# LeakSanitizer cannot run under ptrace (a sanitizer build): no leak
	# check for this one run.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		run strace -qq -o "$(T trace)" -e trace=kill,wait4,waitid "$JOBIFY" -c "$(T j.conf)" exec t
	assert_failure 124
	job=$(cat "$(T job.pid)")
	echo "$job" >"$(T pgids)"
	killed=$(grep -n "^kill(-$job, SIGKILL)" "$(T trace)" | head -n 1 | cut -d: -f1)
	reaped=$(grep -n "^wait4($job," "$(T trace)" | head -n 1 | cut -d: -f1)
	[ -n "$killed" ]
	[ -n "$reaped" ]
	[ "$killed" -lt "$reaped" ]
}

@test "exec forwards SIGTERM to the job's process group" {
	script slow 'trap "echo TERM > $(dirname "$0")/got; exit 5" TERM; echo up > "$(dirname "$0")/up"; sleep 30 & wait'
	conf j.conf <<EOF
state-dir = "state"
task "slow" { exec = "./slow" }
EOF
	"$JOBIFY" -c "$(T j.conf)" exec slow 3>&- &
	pid=$!
	wait_for up 10 "$(T up)"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 5 ]
	run cat "$(T got)"
	assert_output TERM
}

@test "exec killed with -9: its task's and its run hook's process groups die with it, whole" {
	script hook 'echo $$ > "$(dirname "$0")/hook.pid"
sleep 1000 &
echo K=v
echo
exec sleep 1000'
	script job 'echo $$ > "$(dirname "$0")/job.pid"
sleep 1000 &
sleep 1000
wait'
	conf j.conf <<EOF
state-dir = "state"
lifespan { run = "./hook" }
task "t" { exec = "./job" }
EOF
	"$JOBIFY" -c "$(T j.conf)" exec t 3>&- 2>"$(T exec.err)" &
	pid=$!
	wait_for . 10 "$(T hook.pid)"
	wait_for . 10 "$(T job.pid)"
	hook=$(cat "$(T hook.pid)")
	job=$(cat "$(T job.pid)")
	echo "$hook $job" >"$(T pgids)"
	until_group_size "$hook" 2
	until_group_size "$job" 3
	kill -9 "$pid"
	wait "$pid" || true
	until_groups_gone 5 "$hook" "$job"
	grep -q 'level=error event=supervisor-died pid=[0-9]* killed=2$' "$(T exec.err)"
}

@test "exec of an unknown route exits 66; of a detached one names the include-router to add" {
	conf j.conf <<EOF
state-dir = "state"
router "drafts" { task "d" { exec = "true" } }
task "t" { exec = "true" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec nope
	assert_failure 66
	[ "$stderr" = "jobify: exec: no route 'nope' (see jobify routes)" ]
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec drafts:d
	assert_failure 66
	[[ "$stderr" == *"router 'drafts' ($(T j.conf):2), which is not attached anywhere; add include-router = { \"drafts\" }"* ]]
}

@test "exec of a command that does not exist exits 127 with the reason" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./no-such-program" }
EOF
	run -127 --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec t
	[[ "$stderr" == "jobify: exec: t: spawn: "*"no-such-program: No such file or directory" ]]
}

@test "exec with a failing startup exits 1 and does not run the task" {
	script hook 'echo "no database" >&2; exit 1'
	conf j.conf <<EOF
state-dir = "state"
lifespan { startup = "./hook" }
task "t" { exec = "touch $(T ran)" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec t
	assert_failure 1
	[[ "$stderr" == *"no database"* ]]
	[ ! -e "$(T ran)" ]
}

# The example config's hooks: a message on stderr, the state on stdout.
lifespan_conf() {
	script ctx 'trap "echo ctx says bye; echo ctx bye on stderr >&2; exit 0" TERM
echo ctx is connecting >&2; printf "POOL=1\n\nctx is ready\n"; sleep 1000 & wait'
	conf j.conf <<'EOF2'
state-dir = "state"
include-router = { "reports", "db" }
router "reports" {
  lifespan {
    startup  = 'sh -c "echo reports router is starting up >&2; echo DB_CONN=sqlite:///tmp/reports.db"'
    shutdown = 'sh -c "echo reports router is shutting down, was using $DB_CONN >&2"'
  }
  task "daily" { exec = 'sh -c "echo job sees $DB_CONN"' }
}
router "db" {
  lifespan { run = "./ctx" }
  task "q" { exec = 'sh -c "echo job sees POOL=$POOL"' }
}
EOF2
}

@test "exec: a lifespan hook's stderr is logged as output events, and a run hook's output after its state" {
	lifespan_conf
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec reports:daily
	assert_success
	assert_output "job sees sqlite:///tmp/reports.db"
	[[ "$stderr" == *"event=output router=reports pid="*" stream=stderr line=\"reports router is starting up\""* ]]
	[[ "$stderr" == *"event=output router=reports pid="*" stream=stderr line=\"reports router is shutting down, was using sqlite:///tmp/reports.db\""* ]]
	[[ "$stderr" != *DB_CONN=* ]]
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" exec db:q
	assert_success
	assert_output "job sees POOL=1"
	[[ "$stderr" == *"event=output router=db pid="*" stream=stderr line=\"ctx is connecting\""* ]]
	[[ "$stderr" == *"event=output router=db pid="*" stream=stdout line=\"ctx is ready\""* ]]
	[[ "$stderr" == *"event=output router=db pid="*" stream=stdout line=\"ctx says bye\""* ]]
	[[ "$stderr" == *"event=output router=db pid="*" stream=stderr line=\"ctx bye on stderr\""* ]]
	[[ "$stderr" != *POOL=1* ]]
}

@test "run: a lifespan hook's stderr and a run hook's later output reach the supervisor's log" {
	lifespan_conf
	sup_start j.conf
	wait_for 'event=output router=reports pid=[0-9]* stream=stderr line="reports router is starting up"'
	wait_for 'event=output router=db pid=[0-9]* stream=stderr line="ctx is connecting"'
	wait_for 'event=output router=db pid=[0-9]* stream=stdout line="ctx is ready"'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	grep -q 'event=output router=db pid=[0-9]* stream=stdout line="ctx says bye"' "$SUP_LOG"
	grep -q 'event=output router=reports pid=[0-9]* stream=stderr line="reports router is shutting down, was using sqlite:///tmp/reports.db"' "$SUP_LOG"
	# The order of the log: started, its output, stopped.
	grep -n 'router=reports' "$SUP_LOG" | cut -d' ' -f3- | sed 's/ pid=[0-9]*//; s/ state=[0-9]*//' >"$(T events)"
	run cat "$(T events)"
	assert_line --index 0 --partial 'event=output router=reports stream=stderr line="reports router is starting up"'
	assert_line --index 1 --partial 'event=lifespan-started router=reports'
	run grep -q 'DB_CONN=' "$SUP_LOG"
	assert_failure 1
}
