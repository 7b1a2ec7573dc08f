#!/usr/bin/env bats
# jobify exec: one run in the foreground, in the task's full context.

setup() {
	load sup-helpers
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
