#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify run: a real supervisor firing seconds-level cron tasks whose
# commands are small scripts recording what they saw.

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

@test "a cron task fires with the environment SPEC §6 describes" {
	script rec 'env > "$1.$$"; mv "$1.$$" "$1"'
	conf j.conf <<EOF
state-dir = "state"
env = { "APP=app" }
router "a" {
  prefix = "analytics"
  env = { "R=router", "APP=overridden" }
  task "t" { exec = "./rec $(T env.out)" cron = "* * * * * *" env = { "T=task" } }
}
include-router = { "a" }
EOF
	sup_start j.conf
	wait_for . 10 "$(T env.out)"
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$(T env.out)"
	assert_line "APP=overridden"
	assert_line "R=router"
	assert_line "T=task"
	assert_line "JOBIFY_ROUTE=analytics:t"
	assert_line "JOBIFY_JOB_ID=analytics:t"
	assert_line "JOBIFY_TASK=t"
	assert_line "JOBIFY_PREFIX=analytics"
	assert_line "JOBIFY_TRIGGER=cron"
	assert_line "JOBIFY_ATTEMPT=1"
	assert_line --regexp '^JOBIFY_SCHEDULED_AT=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$'
	assert_line --regexp '^PATH=.'
	# Nothing else of the supervisor's environment leaks in.
	refute_line --regexp '^BATS_'
	refute_line --regexp '^XDG_'
}

@test "the log says ready, start and exit, and the exit code" {
	conf j.conf <<EOF
state-dir = "state"
task "ok"  { exec = "true"  cron = "* * * * * *" output = "null" }
task "bad" { exec = "sh -c 'exit 3'" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=bad .*exit_code=3'
	wait_for 'event=exit route=ok .*status=success'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$SUP_LOG"
	assert_line --regexp '^time=[0-9T:.+-]+ level=info event=ready pid=[0-9]+ config=.*routes=2 scheduled=2$'
	assert_line --regexp 'event=start route=ok pid=[0-9]+ trigger=cron attempt=1 scheduled_at='
	assert_line --regexp 'level=warn event=exit route=bad pid=[0-9]+ status=failed exit_code=3 attempt=1 duration=[0-9.]+$'
	assert_line --regexp 'event=stopped status=ok$'
}

@test "lifespans start app first, parent before child, and stop in reverse" {
	script hook 'echo "$1 $JOBIFY_ROUTER prefix=$JOBIFY_PREFIX seen=${A_STATE:-}/${B_STATE:-}" >> "$(dirname "$0")/order"
case $1 in up-app) echo A_STATE=from-app;; up-b) echo B_STATE=from-b;; esac'
	script rec 'echo "task A=$A_STATE B=$B_STATE" >> "$(dirname "$0")/order"'
	conf j.conf <<EOF
state-dir = "state"
lifespan { startup = "./hook up-app" shutdown = "./hook down-app" }
router "a" {
  lifespan { startup = "./hook up-a" shutdown = "./hook down-a" }
  router "b" {
    lifespan { startup = "./hook up-b" shutdown = "./hook down-b" }
    task "t" { exec = "./rec" cron = "@reboot" output = "null" }
  }
}
include-router = { "a" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=a.b:t'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$(T order)"
	assert_output "up-app  prefix= seen=/
up-a a prefix=a seen=from-app/
up-b b prefix=a.b seen=from-app/
task A=from-app B=from-b
down-b b prefix=a.b seen=from-app/from-b
down-a a prefix=a seen=from-app/
down-app  prefix= seen=from-app/"
}

@test "a failing startup stops the started ones in reverse and exits 1 with its stderr" {
	script hook 'echo "$1" >> "$(dirname "$0")/order"
[ "$1" = up-b ] && { echo "database unreachable" >&2; exit 2; }
exit 0'
	conf j.conf <<EOF
state-dir = "state"
lifespan { startup = "./hook up-app" shutdown = "./hook down-app" }
router "a" { lifespan { startup = "./hook up-a" shutdown = "./hook down-a" } }
router "b" { lifespan { startup = "./hook up-b" shutdown = "./hook down-b" } }
include-router = { "a", "b" }
task "t" { exec = "true" cron = "* * * * * *" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 1
	[[ "$stderr" == *"event=lifespan-failed router=b"*"database unreachable"* ]]
	[[ "$stderr" != *"event=ready"* ]]
	run cat "$(T order)"
	assert_output "up-app
up-a
up-b
down-a
down-app"
}

@test "middleware wraps the command app -> router -> task" {
	script mw 'echo "$1" >> "$(dirname "$0")/mw.out"; shift; exec "$@"'
	script rec 'echo "task $*" >> "$(dirname "$0")/mw.out"'
	conf j.conf <<EOF
state-dir = "state"
middleware = { "./mw app" }
router "r" {
  middleware = { "./mw router" }
  task "t" { exec = "./rec one 'two words'" cron = "@reboot" middleware = { "./mw task" } output = "null" }
}
include-router = { "r" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=r:t'
	sup_stop
	run cat "$(T mw.out)"
	assert_output "app
router
task
task one two words"
}

@test "route classes: shell runs sh -c, a handler gets the exec string last" {
	script handler 'echo "handler got [$1]" > "$(dirname "$0")/h.out"'
	conf j.conf <<EOF
state-dir = "state"
router "sh" {
  route-class = "shell"
  task "s" { exec = "echo \$0 \$((6 * 7)) > $(T s.out)" cron = "@reboot" }
}
router "h" {
  route-class = "./handler"
  task "x" { exec = "do the thing" cron = "@reboot" }
}
include-router = { "sh", "h" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=sh:s'
	wait_for 'event=exit route=h:x'
	sup_stop
	run cat "$(T s.out)"
	assert_output "sh:s 42"
	run cat "$(T h.out)"
	assert_output "handler got [do the thing]"
}

@test "a job has its own process group, stdin /dev/null and no inherited descriptor" {
	script rec 'ps -o pid=,pgid= -p $$ > "$(dirname "$0")/pg"'
	conf j.conf <<EOF
state-dir = "state"
task "pg" { exec = "./rec" cron = "@reboot" output = "null" }
task "fds" { exec = "ls -l /proc/self/fd" cron = "@reboot" output-max-size = 0 }
task "capped" { exec = "ls -l /proc/self/fd" cron = "@reboot" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=pg'
	wait_for 'event=exit route=fds'
	wait_for 'event=exit route=capped'
	sup_stop
	read -r pid pgid <"$(T pg)"
	[ "$pid" = "$pgid" ]
	run cat "$(T state/logs/fds)"/*.log
	assert_line --regexp ' 0 -> /dev/null$'
	assert_line --regexp ' 1 -> .*/state/logs/fds/.*\.log$'
	assert_line --regexp ' 2 -> .*/state/logs/fds/.*\.log$'
	# Besides those, only the directory ls itself opened.
	[ "$(grep -c -- ' -> ' <<<"$output")" -eq 4 ]
	assert_line --regexp ' 3 -> /proc/[0-9]+/fd$'
	# With output-max-size (10M by default) both are one pipe to the
	# supervisor, which writes the file.
	run cat "$(T state/logs/capped)"/*.log
	assert_line --regexp ' 0 -> /dev/null$'
	pipe=$(sed -n 's/.* 1 -> pipe:\[\([0-9]*\)\]$/\1/p' <<<"$output")
	[ -n "$pipe" ]
	assert_line --regexp " 2 -> pipe:\\[$pipe\\]\$"
	[ "$(grep -c -- ' -> ' <<<"$output")" -eq 4 ]
}

@test "timeout: SIGTERM to the group, status timeout, then on-timeout" {
	script slow 'trap "echo got TERM >> $(dirname "$0")/slow.out; exit 143" TERM
sleep 30 & wait'
	script onto 'echo "$JOBIFY_STATUS $JOBIFY_ROUTE code=$JOBIFY_EXIT_CODE" > "$(dirname "$0")/handler.out"'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./slow" cron = "@reboot" timeout = 500ms on-timeout = "./onto" on-failure = "./nope" }
EOF
	sup_start j.conf
	wait_for 'event=handler-exit route=t'
	sup_stop
	run cat "$SUP_LOG"
	assert_line --regexp 'event=timeout route=t pid=[0-9]+ after=0.500'
	assert_line --regexp 'event=exit route=t .*status=timeout'
	run cat "$(T slow.out)"
	assert_output "got TERM"
	run cat "$(T handler.out)"
	assert_output "timeout t code=143"
}

@test "a job that ignores SIGTERM is killed after kill-grace" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "sh -c 'trap \"\" TERM; sleep 30'" cron = "@reboot" timeout = 200ms kill-grace = 300ms }
EOF
	sup_start j.conf
	wait_for 'event=exit route=t'
	sup_stop
	run cat "$SUP_LOG"
	assert_line --regexp 'event=kill route=t pid=[0-9]+'
	assert_line --regexp 'event=exit route=t .*status=timeout signal=KILL'
}

@test "retry: attempts with a doubling delay, then on-failure once with the outcome" {
	script fail 'echo "attempt $JOBIFY_ATTEMPT" >> "$(dirname "$0")/tries"; exit 7'
	script onfail 'echo "$JOBIFY_STATUS code=$JOBIFY_EXIT_CODE signal=$JOBIFY_SIGNAL attempt=$JOBIFY_ATTEMPT log=${JOBIFY_LOG:+set}" >> "$(dirname "$0")/handler.out"'
	conf j.conf <<EOF
state-dir = "state"
on-failure = "./onfail"
task "t" { exec = "./fail" cron = "@reboot" retry = 2 retry-delay = 100ms }
EOF
	sup_start j.conf
	wait_for 'event=handler-exit route=t'
	sup_stop
	run cat "$(T tries)"
	assert_output "attempt 1
attempt 2
attempt 3"
	run cat "$(T handler.out)"
	assert_output "failed code=7 signal= attempt=3 log=set"
	run cat "$SUP_LOG"
	assert_line --regexp 'event=retry route=t attempt=2 delay=0.100$'
	assert_line --regexp 'event=retry route=t attempt=3 delay=0.200$'
}

@test "overlap = skip: a fire while the previous run runs is skipped" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "sleep 1.5" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=skip route=t reason=overlap' 10
	sup_stop
	[ "$(grep -c 'event=start route=t' "$SUP_LOG")" -ge 1 ]
}

@test "overlap = queue: a fire waits and runs after the previous run" {
	script slow 'echo "start $JOBIFY_SCHEDULED_AT" >> "$(dirname "$0")/q"; sleep 1.2; echo end >> "$(dirname "$0")/q"'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./slow" cron = "* * * * * *" overlap = "queue" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=queue route=t' 10
	wait_count 'event=exit route=t' 2 10
	sup_stop
	# Runs never overlap: start and end alternate.
	run awk '{print $1}' "$(T q)"
	[ "${lines[0]}" = start ]
	[ "${lines[1]}" = end ]
	[ "${lines[2]}" = start ]
	[ "${lines[3]}" = end ]
}

@test "overlap = parallel: runs overlap" {
	script slow 'd=$(dirname "$0"); : > "$d/running.$$"; ls "$d" | grep -c "^running\." >> "$d/seen"; sleep 1.5; rm "$d/running.$$"'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./slow" cron = "* * * * * *" overlap = "parallel" output = "null" }
EOF
	sup_start j.conf
	wait_count 'event=start route=t' 3 10
	wait_count 'event=exit route=t' 1 10
	sup_stop
	run sort -n "$(T seen)"
	[ "${lines[-1]}" -ge 2 ]
	run grep -c 'event=skip' "$SUP_LOG"
	assert_output 0
}

@test "max-parallel holds a job until a slot frees" {
	conf j.conf <<EOF
state-dir = "state"
max-parallel = 1
task "a" { exec = "sleep 0.5" cron = "@reboot" output = "null" }
task "b" { exec = "true" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=b'
	sup_stop
	run cat "$SUP_LOG"
	assert_line --regexp 'event=wait route=b reason=max-parallel'
	# b started only after a exited.
	a_exit=$(grep -n 'event=exit route=a' "$SUP_LOG" | cut -d: -f1)
	b_start=$(grep -n 'event=start route=b' "$SUP_LOG" | cut -d: -f1)
	[ "$a_exit" -lt "$b_start" ]
}

@test "output: log keeps each run's output in a file, inherit tags lines, null drops them" {
	conf j.conf <<EOF
state-dir = "state"
task "l" { exec = "sh -c 'echo to-log; echo err-log >&2'" cron = "@reboot" }
task "i" { exec = "sh -c 'echo to-inherit; printf partial >&2'" cron = "@reboot" output = "inherit" }
task "n" { exec = "echo to-null" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=l'
	wait_for 'event=exit route=i'
	wait_for 'event=exit route=n'
	sup_stop
	run cat "$SUP_LOG"
	assert_line --regexp 'event=output route=i pid=[0-9]+ stream=stdout line=to-inherit$'
	assert_line --regexp 'event=output route=i pid=[0-9]+ stream=stderr line=partial$'
	refute_line --partial to-null
	refute_line --partial 'line=to-log'
	assert_line --regexp 'event=exit route=l .* log=.*/state/logs/l/[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-@[0-9]+-1\.log$'
	run cat "$(T state/logs/l)"/*.log
	assert_output "to-log
err-log"
}

@test "log retention prunes a route's oldest run logs" {
	conf j.conf <<EOF
state-dir = "state"
history = 4
task "t" { exec = "echo hi" cron = "* * * * * *" }
EOF
	sup_start j.conf
	wait_count 'event=exit route=t' 7 20
	sup_stop
	n=$(ls "$(T state/logs/t)" | wc -l)
	# history + history/4 at most (here 5), and history right after a prune.
	[ "$n" -ge 4 ]
	[ "$n" -le 5 ]
}

@test "a second supervisor on the same state directory exits 75" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" cron = "0 0 1 1 *" }
EOF
	sup_start j.conf
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 75
	[[ "$stderr" == *"another supervisor (pid $SUP_PID) holds"*"jobify.pid"* ]]
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "stop with a running job: grace, SIGTERM to its group, shutdown hooks, exit 0" {
	script long 'trap "echo TERM >> $(dirname "$0")/long.out; exit 0" TERM
echo started >> "$(dirname "$0")/long.out"
sleep 30 & wait'
	script hook 'echo "$1" >> "$(dirname "$0")/long.out"'
	conf j.conf <<EOF
state-dir = "state"
shutdown-grace = 300ms
lifespan { startup = "./hook up" shutdown = "./hook down" }
task "t" { exec = "./long" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for started 10 "$(T long.out)"
	sup_stop TERM
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$(T long.out)"
	assert_output "up
started
TERM
down"
	run cat "$SUP_LOG"
	assert_line --regexp 'event=stopping signal=TERM running=1'
	assert_line --regexp 'event=grace-over running=1'
}

@test "a second SIGTERM skips the grace" {
	conf j.conf <<EOF
state-dir = "state"
shutdown-grace = 60s
task "t" { exec = "sleep 30" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=start route=t'
	kill -TERM "$SUP_PID"
	wait_for 'event=stopping'
	sup_stop TERM
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$SUP_LOG"
	assert_line --regexp 'event=stop-now signal=TERM'
	assert_line --regexp 'event=exit route=t .*signal=TERM'
}

@test "a reload finds each route's old self in any order: kept, moved, renamed, changed" {
	conf j.conf <<EOF
state-dir = "state"
task "a" { exec = "true" cron = "0 0 1 1 *" }
task "b" { exec = "true" cron = "0 0 2 1 *" }
task "c" { exec = "true" cron = "0 0 3 1 *" }
task "d" { exec = "true" cron = "0 0 4 1 *" }
task "e" { exec = "true" cron = "0 0 5 1 *" }
EOF
	sup_start j.conf
	# a and b in place; e moved first, d after a new x; c gone; b's
	# cron changed.
	conf j.conf <<EOF
state-dir = "state"
task "e" { exec = "true" cron = "0 0 5 1 *" }
task "a" { exec = "true" cron = "0 0 1 1 *" }
task "b" { exec = "true" cron = "0 0 9 1 *" }
task "x" { exec = "true" cron = "0 0 6 1 *" }
task "d" { exec = "true" cron = "0 0 4 1 *" }
EOF
	run "$JOBIFY" -c "$(T j.conf)" reload
	assert_success
	wait_for 'event=reloaded by=control'
	run grep -o 'event=reloaded by=control routes=[0-9]* added=[0-9]* removed=[0-9]* rescheduled=[0-9]*' "$SUP_LOG"
	assert_output 'event=reloaded by=control routes=5 added=1 removed=1 rescheduled=1'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "SIGHUP and jobify reload take a new config; a bad one keeps the old" {
	conf j.conf <<EOF
state-dir = "state"
task "old" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=old'
	conf j.conf <<EOF
state-dir = "state"
task "new" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	run "$JOBIFY" -c "$(T j.conf)" reload
	assert_success
	wait_for 'event=reloaded by=control routes=1 added=1 removed=1'
	wait_for 'event=exit route=new'
	conf j.conf <<EOF
state-dir = "state"
task "new" { exec = "true" cron = "99 * * * * *" }
EOF
	kill -HUP "$SUP_PID"
	wait_for 'event=reload-failed'
	n=$(grep -c 'event=exit route=new' "$SUP_LOG")
	wait_count 'event=exit route=new' $((n + 1)) 10
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$SUP_LOG"
	assert_line --regexp 'level=error event=config file=.*j.conf line=2 message=.*field 1 \(second\): 99 is out of range'
}

@test "reload leaves running jobs alone" {
	script long 'echo started > "$(dirname "$0")/long.out"; sleep 1; echo done >> "$(dirname "$0")/long.out"'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./long" cron = "@reboot" output = "null" }
EOF
	sup_start j.conf
	wait_for started 10 "$(T long.out)"
	conf j.conf <<EOF
state-dir = "state"
task "u" { exec = "true" cron = "0 0 1 1 *" }
EOF
	kill -HUP "$SUP_PID"
	wait_for 'event=reloaded'
	wait_for 'event=exit route=t .*status=success'
	sup_stop
	run cat "$(T long.out)"
	assert_output "started
done"
}

@test "jobify reload with no supervisor running exits 69" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" reload
	assert_failure 69
	[[ "$stderr" == *"no supervisor is running"* ]]
}

@test "--log-format json writes one JSON object a line" {
	script noisy 'printf "quote\" back\\\\ tab\t bell\a bad\377 end\n"'
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "./noisy" cron = "@reboot" output = "inherit" }
EOF
	sup_start j.conf --log-format json
	wait_for '"event":"exit"'
	sup_stop
	run python3 -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(e["event"] for e in events))
print([e["line"] for e in events if e["event"] == "output"][0])' "$SUP_LOG"
	assert_success
	assert_line --index 0 "ready start output exit stopping stopped"
	# Control characters escaped, a byte that is not UTF-8 replaced by
	# U+FFFD, spelt as its UTF-8 bytes: bash reads \u escapes in the
	# locale it starts in, and in C or POSIX keeps them as they are.
	assert_line --index 1 $'quote" back\\ tab\t bell\a bad\xef\xbf\xbd end'
}

@test "sd_notify: READY=1 once firing, STOPPING=1 at stop" {
	sock=$(T notify.sock)
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as f:
    for _ in range(2):
        f.write(s.recv(256).decode() + "\n"); f.flush()
' "$sock" "$(T notify.out)" 3>&- &
	py=$!
	deadline=$((SECONDS + 10))
	while [ ! -S "$sock" ] && ((SECONDS < deadline)); do sleep 0.05; done
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" cron = "0 0 1 1 *" }
EOF
	NOTIFY_SOCKET=$sock sup_start j.conf
	wait_for READY=1 10 "$(T notify.out)"
	sup_stop
	wait "$py"
	# READY=1 comes with its STATUS= (tests/bats/notify.bats has the rest).
	run cat "$(T notify.out)"
	assert_line --index 0 "READY=1"
	assert_line --index 1 --regexp "^STATUS=ready: running 0, "
	assert_line --index 2 "STOPPING=1"
	assert_equal "${#lines[@]}" 3
}

@test "@reboot fires once per start, never again" {
	conf j.conf <<EOF
state-dir = "state"
task "r" { exec = "true" cron = "@reboot" output = "null" }
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	sup_start j.conf
	wait_count 'event=exit route=tick' 2 10
	sup_stop
	[ "$(grep -c 'event=start route=r ' "$SUP_LOG")" -eq 1 ]
}

@test "thousands of jobs leave no zombie and no descriptor behind" {
	# Idle first (one job, so that everything opened once is open), then
	# a burst, then idle again: the descriptors must be the same.
	conf j.conf <<EOF
state-dir = "state"
task "first" { exec = "true" cron = "@reboot" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=first '
	fds0=$(ls "/proc/$SUP_PID/fd" | wc -l)
	{
		echo 'state-dir = "state"'
		for i in $(seq 1 250); do
			echo "task \"t$i\" { exec = \"/bin/true\" cron = \"* * * * * *\" output = \"null\" }"
		done
		echo 'task "o" { exec = "echo x" cron = "* * * * * *" output = "inherit" }'
		echo 'task "l" { exec = "echo x" cron = "* * * * * *" }'
	} | conf j.conf
	kill -HUP "$SUP_PID"
	wait_count 'event=exit' 2000 120
	conf j.conf <<EOF
state-dir = "state"
task "o" { exec = "echo x" cron = "0 0 1 1 *" }
EOF
	kill -HUP "$SUP_PID"
	wait_count 'event=reloaded' 2
	# Nothing is due any more: let every run end, then look.
	deadline=$((SECONDS + 60))
	until [ "$(grep -c 'event=start' "$SUP_LOG")" -eq "$(grep -c 'event=exit' "$SUP_LOG")" ]; do
		((SECONDS < deadline))
		sleep 0.1
	done
	fds1=$(ls "/proc/$SUP_PID/fd" | wc -l)
	# (The guard is a child of its own: guard.h.)
	children=$(ps --ppid "$SUP_PID" -o comm= | { grep -vx jobify-guard || true; } | wc -l)
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	[ "$fds1" -eq "$fds0" ]
	[ "$children" -eq 0 ]
}

@test "-v logs each planned fire; -q only warnings and errors" {
	conf j.conf <<EOF
state-dir = "state"
task "t" { exec = "true" cron = "0 0 1 1 *" jitter = 2s }
task "f" { exec = "false" cron = "@reboot" output = "null" }
EOF
	SUP_LOG=$(T sup.log)
	"$JOBIFY" -v -c "$(T j.conf)" run 2>"$SUP_LOG" 3>&- &
	SUP_PID=$!
	wait_for 'event=ready'
	sup_stop
	assert_equal "$SUP_STATUS" 0
	run cat "$SUP_LOG"
	assert_line --regexp 'level=debug event=planned route=t next_run=[0-9]{4}-01-01T00:00:00[+-][0-9:]+ jitter=[01]\.[0-9]{3}$'
	"$JOBIFY" -q -c "$(T j.conf)" run 2>"$(T quiet.log)" 3>&- &
	SUP_PID=$!
	wait_for 'event=exit route=f' 20 "$(T quiet.log)"
	sup_stop
	run cat "$(T quiet.log)"
	assert_line --regexp 'level=warn event=exit route=f '
	refute_line --partial 'level=info'
}

@test "a run-form lifespan: its KEY=VALUE lines up to a blank line are state, it runs until stop, then gets SIGTERM" {
	script ctx 'd=$(dirname "$0")
trap "echo got-TERM >> $d/ctx.out; exit 0" TERM
echo CONN=pool-1
echo
echo "context up" >&2
echo up >> "$d/ctx.out"
while :; do sleep 1; done'
	script rec 'echo "task CONN=$CONN" >> "$(dirname "$0")/ctx.out"'
	conf j.conf <<EOF
state-dir = "state"
router "db" {
  lifespan { run = "./ctx" }
  task "t" { exec = "./rec" cron = "@reboot" output = "null" }
}
include-router = { "db" }
EOF
	sup_start j.conf
	wait_for 'event=exit route=db:t'
	wait_for 'event=output router=db .*line="context up"'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run cat "$(T ctx.out)"
	assert_line "task CONN=pool-1"
	assert_line got-TERM
	run cat "$SUP_LOG"
	assert_line --regexp 'event=lifespan-started router=db state=1 pid=[0-9]+'
	assert_line --regexp 'event=lifespan-stopped router=db$'
}

@test "a run-form lifespan's process group goes with it at stop: what it left there gets SIGKILL, SIGTERM ignored or not" {
	script ctx 'sh -c "trap \"\" TERM; while :; do sleep 1; done" &
echo K=v
echo
exec sleep 1000'
	conf j.conf <<EOF
state-dir = "state"
lifespan { run = "./ctx" }
EOF
	sup_start j.conf
	pid=$(sed -n 's/.*event=lifespan-started .* pid=\([0-9]*\).*/\1/p' "$SUP_LOG")
	[ -n "$pid" ]
	echo "$pid" >"$(T pgids)"
	until_group_size "$pid" 2
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	until_groups_gone 5 "$pid"
	grep -q 'event=lifespan-stopped router=(app)$' "$SUP_LOG"
}
