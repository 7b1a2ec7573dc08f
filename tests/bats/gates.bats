#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Outer middleware of the config's cron tasks (SPEC §6: the gates run when
# "a config cron job [is] created or changed"): run by the supervisor
# without holding its loop, their KEY=VALUE lines in every fire's
# environment, a refusal that skips each fire until a reload asks again,
# and the answer kept on the task's row.  A real supervisor, every-second
# schedules; the store is read with sqlite3.

setup() {
	load sup-helpers
	command -v sqlite3 >/dev/null ||
		fail "these tests read the store with the sqlite3 command (.ci/install-deps installs it)"
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
	# rec: what a run of a task sees of the gates, a line a run.
	script rec 'echo "WHO=${WHO:-} APP=${APP:-} SAW=${ROUTER_SAW:-} SEEN=${SEEN:-} $*" >> "$(dirname "$0")/rec.out"'
	script app-gate 'echo "WHO=app"
echo "APP=1"
echo "SEEN=$JOBIFY_JOB_ID/$JOBIFY_ROUTE/$JOBIFY_TASK/$JOBIFY_TRIGGER/${WHO:-unset}"'
	# The router's gate sees what the app's added: it runs second.
	script router-gate 'echo "ROUTER_SAW=$WHO"
echo "WHO=router"'
}

teardown() {
	sup_teardown
	# A gate left waiting on its fifo by a failed test: let it go (a
	# read-write open of a fifo never blocks).
	if [ -p "$(T go)" ]; then
		exec 4<>"$(T go)"
		echo teardown >&4
		exec 4>&-
	fi
}

DB() {
	sqlite3 -cmd '.timeout 5000' "$(T state/jobify.db)" "$@"
}

@test "a config cron task passes its outer middleware at start, the app's gate first; every fire has their lines, after the task's env" {
	conf j.conf <<EOF
state-dir = "state"
timezone = "UTC"
outer-middleware = { "./app-gate" }
include-router = { "r" }
router "r" {
  outer-middleware = { "./router-gate" }
  task "t" { exec = "./rec" cron = "* * * * * *" env = { "WHO=task" } output = "null" }
}
EOF
	sup_start j.conf
	wait_count 'event=exit route=r:t ' 2
	sup_stop
	# One run of the gates, app then router, before the first start.
	run grep -o 'event=gate-[a-z]* route=r:t .*' "$SUP_LOG"
	assert_line --index 0 --regexp '^event=gate-start route=r:t pid=[0-9]+ command=./app-gate$'
	assert_line --index 1 --regexp '^event=gate-start route=r:t pid=[0-9]+ command=./router-gate$'
	assert_line --index 2 --regexp '^event=gate-answer route=r:t result=passed vars=5 duration='
	[ "${#lines[@]}" -eq 3 ]
	first_start=$(grep -n 'event=start route=r:t ' "$SUP_LOG" | head -n 1 | cut -d: -f1)
	answer=$(grep -n 'event=gate-answer route=r:t ' "$SUP_LOG" | cut -d: -f1)
	[ "$answer" -lt "$first_start" ]
	# The inner gate's WHO wins over the app gate's, and both over the
	# task's env; the gates saw the job as cron job r:t.
	run sort -u "$(T rec.out)"
	assert_output "WHO=router APP=1 SAW=app SEEN=r:t/r:t/t/cron/unset "
	# The answer is on the row: the lines in order, then its key.
	run DB "SELECT env FROM jobs WHERE id = 'r:t'"
	assert_output --regexp '^WHO=app APP=1 SEEN=r:t/r:t/t/cron/unset ROUTER_SAW=app WHO=router JOBIFY_GATE=[0-9a-f]{16}-[0-9a-f]{16}$'
}

@test "a refusing gate skips each fire of its task with the gate's message; a reload asks again, and the task runs" {
	script gate '[ -e "$(dirname "$0")/allow" ] || { echo "no quota for $JOBIFY_ROUTE: \"full\"" >&2; exit 3; }
echo "QUOTA=granted"'
	script quota 'echo "QUOTA=${QUOTA:-}" >> "$(dirname "$0")/quota.out"'
	conf j.conf <<EOF
state-dir = "state"
include-router = { "r" }
router "r" {
  outer-middleware = { "./gate" }
  task "t" { exec = "./quota" cron = "* * * * * *" output = "null" }
}
task "free" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_count 'event=gate-refused route=r:t ' 2
	run grep 'event=gate-refused route=r:t ' "$SUP_LOG"
	assert_line --index 0 --regexp '^time=[^ ]+ level=warn event=gate-refused route=r:t reason="refused by outer-middleware '\''./gate'\'' \(exit status 3\): no quota for r:t: \\"full\\"" scheduled_at=[^ ]+$'
	refute grep -q 'event=start route=r:t ' "$SUP_LOG"
	[ ! -e "$(T quota.out)" ]
	# A task with no gate on its way runs none and is not held.
	grep -q 'event=start route=free ' "$SUP_LOG"
	refute grep -q 'event=\(gate-[a-z]*\|wait\) route=free ' "$SUP_LOG"
	run DB "SELECT env FROM jobs WHERE id = 'r:t'"
	assert_output ""
	touch "$(T allow)"
	run J reload
	assert_success
	wait_for 'event=gate-answer route=r:t result=passed vars=1 '
	wait_for 'event=exit route=r:t '
	run sort -u "$(T quota.out)"
	assert_output "QUOTA=granted"
}

@test "a slow gate does not hold the loop: another task keeps firing meanwhile, and the gated task's fire waits for the answer" {
	mkfifo "$(T go)"
	# The gate answers once the test says so, through the fifo.
	script slow-gate 'read -r word < "$(dirname "$0")/go"; echo "SLOW=$word"'
	script slow 'echo "SLOW=${SLOW:-}" >> "$(dirname "$0")/slow.out"'
	conf j.conf <<EOF
state-dir = "state"
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
router "g" {
  outer-middleware = { "./slow-gate" }
  task "t" { exec = "./slow" cron = "* * * * * *" output = "null" }
}
include-router = { "g" }
EOF
	sup_start j.conf
	wait_for 'event=gate-start route=g:t '
	# Three fires of tick while the gate runs, and g:t's waiting.
	n=$(grep -c 'event=start route=tick ' "$SUP_LOG" || true)
	wait_count 'event=start route=tick ' $((n + 3)) 15
	wait_for 'event=wait route=g:t reason=outer-middleware '
	refute grep -q 'event=gate-answer' "$SUP_LOG"
	refute grep -q 'event=start route=g:t ' "$SUP_LOG"
	timeout 10 sh -c 'echo done > "$1"' sh "$(T go)"
	wait_for 'event=exit route=g:t '
	# The fire that waited ran once the answer was in, with its line.
	answer=$(grep -n 'event=gate-answer route=g:t result=passed' "$SUP_LOG" | cut -d: -f1)
	first_start=$(grep -n 'event=start route=g:t ' "$SUP_LOG" | head -n 1 | cut -d: -f1)
	[ "$answer" -lt "$first_start" ]
	waited=$(sed -n 's/.*event=wait route=g:t reason=outer-middleware scheduled_at=\([^ ]*\).*/\1/p' "$SUP_LOG" | head -n 1)
	grep -q "event=start route=g:t .* scheduled_at=$waited\$" "$SUP_LOG"
	run sort -u "$(T slow.out)"
	assert_output "SLOW=done"
}

@test "the example config's analytics cron task sees the ACCEPTED_AT of its router's gate" {
	# etc/jobify.conf as shipped, but track_logins every second and
	# showing its ACCEPTED_AT, and a state directory of the test's.
	sed -e '/task "track_logins"/,/}/{' \
	    -e "s|exec = .*|exec = 'echo \"accepted at \$ACCEPTED_AT\"'|" \
	    -e 's|cron = .*|cron = "* * * * * *"|' -e '}' \
	    "$top_srcdir/etc/jobify.conf" >"$(T j.conf)"
	echo 'state-dir = "state"' >>"$(T j.conf)"
	grep -q "exec = 'echo \"accepted at \$ACCEPTED_AT\"'" "$(T j.conf)"
	grep -q "outer-middleware = { 'sh -c \"echo ACCEPTED_AT=\$(date +%s)\"' }" "$(T j.conf)"
	before=$(date +%s)
	sup_start j.conf
	wait_for 'event=output route=analytics.users:track_logins '
	after=$(date +%s)
	line=$(grep -m 1 'event=output route=analytics.users:track_logins ' "$SUP_LOG")
	[[ "$line" =~ line=\"accepted\ at\ ([0-9]+)\" ]]
	at=${BASH_REMATCH[1]}
	[ "$at" -ge "$before" ]
	[ "$at" -le "$after" ]
}

@test "the answer is kept on the row: a restart runs no gate, a changed exec runs it again, a task that is not durable at each start" {
	conf j.conf <<EOF
state-dir = "state"
outer-middleware = { "./app-gate" }
task "d" { exec = "./rec d" cron = "* * * * * *" output = "null" }
task "nd" { exec = "./rec nd" cron = "* * * * * *" durable = false output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=d '
	wait_for 'event=exit route=nd '
	sup_stop
	[ "$(grep -c 'event=gate-answer route=d result=passed' "$SUP_LOG")" -eq 1 ]
	[ "$(grep -c 'event=gate-answer route=nd result=passed' "$SUP_LOG")" -eq 1 ]
	rm "$(T rec.out)"
	# Unchanged: the row's answer holds.
	sup_start j.conf
	wait_for 'event=exit route=d '
	wait_for 'event=exit route=nd '
	sup_stop
	refute grep -q 'event=gate-[a-z]* route=d ' "$SUP_LOG"
	[ "$(grep -c 'event=gate-answer route=nd result=passed' "$SUP_LOG")" -eq 1 ]
	run grep ' d$' "$(T rec.out)"
	assert_line --index 0 "WHO=app APP=1 SAW= SEEN=d/d/d/cron/unset d"
	# Another exec: asked again.
	sed -i 's|"./rec d"|"./rec d2"|' "$(T j.conf)"
	sup_start j.conf
	wait_for 'event=exit route=d '
	sup_stop
	[ "$(grep -c 'event=gate-answer route=d result=passed' "$SUP_LOG")" -eq 1 ]
	grep -q '^WHO=app APP=1 SAW= SEEN=d/d/d/cron/unset d2$' "$(T rec.out)"
}
