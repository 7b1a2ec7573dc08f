#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Privileges and access: who may talk to the supervisor, who a job runs
# as, what reaches a job's argv and environment.  The tests that need a
# second user run as root, with the system's nobody; elsewhere they are
# skipped with the reason.  (The root-only refusal of config files not
# owned by root or writable by others is in routes-seed.bats.)

setup() {
	load sup-helpers
	J() { "$JOBIFY" -c "$(T j.conf)" "$@"; }
}

teardown() {
	# hold's clients, when a test failed before unhold.
	if [ -n "${HOLD:-}" ]; then
		kill "$HOLD" 2>/dev/null || true
		wait "$HOLD" 2>/dev/null || true
	fi
	sup_teardown
}

# need_root_and_nobody: skip unless we are root and can become nobody.
need_root_and_nobody() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (to become a second user)"
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' on this system"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	# The test directory must be reachable by nobody.
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null || true
		d=$(dirname "$d")
	done
}

# as_nobody CMD...: CMD as nobody, with no supplementary group.
as_nobody() {
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"
}

@test "the control socket refuses another user, even one that can reach it" {
	need_root_and_nobody
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "true" output = "null" }
EOF
	chmod 644 "$(T j.conf)"
	sup_start j.conf
	# Open the way on purpose (0700 directory, 0600 socket by default):
	# what is left is the supervisor's own check of the peer's uid.
	chmod 755 "$(T state)"
	chmod 666 "$(T state/jobify.sock)"
	run --separate-stderr as_nobody "$JOBIFY" -c "$(T j.conf)" reload
	assert_failure 77
	[[ "$stderr" == "jobify: reload: uid $(id -u nobody) may not control this supervisor (it runs as uid 0)" ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	wait_for "level=warn event=control-refused reason=\"control socket: refused a client of uid $(id -u nobody) "
	# The supervisor goes on, and root is still served.
	run J reload
	assert_success
	wait_for 'event=reloaded by=control'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run grep -c 'event=reloaded' "$SUP_LOG"
	assert_output 1
}

@test "the socket is 0600 in a 0700 directory" {
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "true" }
EOF
	sup_start j.conf
	run stat -c '%a' "$(T state)" "$(T state/jobify.sock)"
	assert_output "700
600"
	sup_stop
}

@test "user and group: the job runs as them, with their groups and none of root's" {
	need_root_and_nobody
	getent group daemon >/dev/null || skip "no group 'daemon' on this system"
	script who 'printf "%s %s %s\n" "$(id -u)" "$(id -g)" "$(id -G)" > "$1"'
	chmod 755 "$(T who)"
	conf j.conf <<EOF
state-dir = "$(T state)"
task "u" { exec = "./who $(T u.out)" user = "nobody" output = "null" }
task "ug" { exec = "./who $(T ug.out)" user = "nobody" group = "daemon" output = "null" }
EOF
	touch "$(T u.out)" "$(T ug.out)"
	chown nobody "$(T u.out)" "$(T ug.out)"
	cd "$BATS_TEST_TMPDIR"
	sup_start j.conf
	a=$(J schedule u)
	b=$(J schedule ug)
	run J wait "$a" "$b"
	[ "$status" -eq 0 ] || { cat "$SUP_LOG" >&2; false; }
	sup_stop
	# user alone: nobody's primary group and its supplementary groups
	# (initgroups), as login would give them.
	run cat "$(T u.out)"
	assert_output "$(id -u nobody) $(id -g nobody) $(id -G nobody)"
	# group too: that group as the gid, nobody's other groups kept.
	daemon=$(getent group daemon | cut -d: -f3)
	run cat "$(T ug.out)"
	[[ "$output" == "$(id -u nobody) $daemon "* ]] || { echo "got: $output" >&2; false; }
	# Root's own supplementary groups never leak in: only the asked
	# group and nobody's own.
	for g in ${output#* * }; do
		[ "$g" -eq "$daemon" ] || id -G nobody | tr ' ' '\n' | grep -qx "$g"
	done
}

@test "schedule's arguments never pass through a shell: exec gets them as words, shell as \$1..." {
	script rec 'printf "<%s>" "$@" > "$(dirname "$0")/rec.out"'
	conf j.conf <<EOF
state-dir = "state"
task "ex" { exec = "./rec fixed" output = "null" }
router "s" {
  route-class = "shell"
  task "sh" { exec = 'printf "<%s>" "\$0" "\$@" > sh.out' output = "null" }
}
include-router = { "s" }
EOF
	cd "$BATS_TEST_TMPDIR"
	sup_start j.conf
	a=$(J schedule ex -- '$(touch pwned)' '; touch pwned2' '`touch pwned3`' '*' '"q"' '')
	b=$(J schedule s:sh -- '$(touch pwned)' '; touch pwned2' '*' '')
	run J wait "$a" "$b"
	assert_success
	sup_stop
	run cat rec.out
	assert_output '<fixed><$(touch pwned)><; touch pwned2><`touch pwned3`><*><"q"><>'
	run cat sh.out
	assert_output '<s:sh><$(touch pwned)><; touch pwned2><*><>'
	[ ! -e pwned ]
	[ ! -e pwned2 ]
	[ ! -e pwned3 ]
}

@test "JOBIFY_ variables come from jobify only: not from a lifespan, a gate, env or --env" {
	script life 'echo JOBIFY_ROUTE=evil'
	script gate 'echo JOBIFY_JOB_ID=evil'
	conf life.conf <<EOF
state-dir = "state"
lifespan { startup = "./life" }
task "t" { exec = "true" }
EOF
	conf gate.conf <<EOF
state-dir = "state"
outer-middleware = { "./gate" }
task "t" { exec = "true" }
EOF
	conf env.conf <<EOF
task "t" { exec = "true" env = { "JOBIFY_TASK=evil" } }
EOF
	conf ok.conf <<EOF
state-dir = "state"
task "t" { exec = "true" }
EOF
	# A lifespan: the supervisor does not start.
	run --separate-stderr "$JOBIFY" -c "$(T life.conf)" run
	assert_failure 1
	[[ "$stderr" == *"'JOBIFY_ROUTE=evil': JOBIFY_ variables are set by jobify itself"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	# A gate: the job is refused.
	run --separate-stderr "$JOBIFY" -c "$(T gate.conf)" schedule t
	assert_failure 65
	[ "$stderr" = "jobify: schedule: outer-middleware './gate': output: line 1: 'JOBIFY_JOB_ID=evil': JOBIFY_ variables are set by jobify itself" ]
	# The config.
	run --separate-stderr "$JOBIFY" -c "$(T env.conf)" check
	assert_failure 78
	[ "$stderr" = "jobify: $(T env.conf):1: env: JOBIFY_TASK: JOBIFY_ variables are set by jobify itself" ]
	# --env, alone and in a batch.
	run --separate-stderr "$JOBIFY" -c "$(T ok.conf)" schedule t --env JOBIFY_ATTEMPT=9
	assert_failure 65
	run --separate-stderr "$JOBIFY" -c "$(T ok.conf)" schedule --stdin <<<'t --env JOBIFY_ATTEMPT=9'
	assert_failure 65
	run "$JOBIFY" -c "$(T ok.conf)" jobs --all
	assert_output ""
}

@test "root refuses a state directory another user owns or could change (77), and writes nothing" {
	need_root_and_nobody
	nob=$(id -u nobody)
	# Owned by nobody, as if nobody had made it first.
	mkdir -m 700 "$(T state)"
	chown nobody "$(T state)"
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "true" }
EOF
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 77
	[[ "$stderr" == *"state directory $(T state): refused: it is owned by uid $nob, not by uid 0"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	run --separate-stderr J jobs
	assert_failure 77
	[[ "$stderr" == *"refused: it is owned by uid $nob"* ]]
	run ls -A "$(T state)"
	assert_output ""
	# Root's, but writable by others.
	chown root "$(T state)"
	chmod 777 "$(T state)"
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 77
	[[ "$stderr" == *"refused: it is writable by others (mode 0777)"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	# Root's, inside a directory nobody owns (who could rename it away).
	mkdir -m 755 "$(T theirs)"
	mkdir -m 700 "$(T theirs/state)"
	chown nobody "$(T theirs)"
	conf j.conf <<EOF
state-dir = "$(T theirs/state)"
task "t" { exec = "true" }
EOF
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 77
	[[ "$stderr" == *"refused: $(T theirs) above it is owned by uid $nob, neither root nor uid 0"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	run ls -A "$(T theirs/state)"
	assert_output ""
}

@test "a state directory below a sticky world-writable one (/tmp) is ours to make" {
	need_root_and_nobody
	mkdir -m 1777 "$(T tmp)"
	conf j.conf <<EOF
state-dir = "$(T tmp/state)"
task "t" { exec = "true" }
EOF
	sup_start j.conf
	run stat -c '%U %a' "$(T tmp/state)"
	assert_output "root 700"
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	# Made first by another user there: refused.
	rm -rf "$(T tmp/state)"
	as_nobody mkdir -m 700 "$(T tmp/state)"
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 77
	[[ "$stderr" == *"refused: it is owned by uid $(id -u nobody)"* ]]
}

@test "a jobify.pid symbolic link is refused, not followed" {
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "true" }
EOF
	mkdir -m 700 "$(T state)"
	echo precious >"$(T victim)"
	ln -s "$(T victim)" "$(T state/jobify.pid)"
	run --separate-stderr timeout 20 "$JOBIFY" -c "$(T j.conf)" run 3>&-
	assert_failure 77
	[[ "$stderr" == *"jobify.pid: a symbolic link: refused, not followed"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	run cat "$(T victim)"
	assert_output precious
	[ -L "$(T state/jobify.pid)" ]
}

@test "a logs/ROUTE symbolic link is neither written through nor pruned through" {
	conf j.conf <<EOF
state-dir = "$(T state)"
history = 1
task "t" { exec = "echo hi" }
EOF
	mkdir -p -m 700 "$(T state/logs)" "$(T elsewhere)"
	for f in 19700101T000000.000Z-1 19700101T000001.000Z-1 19700101T000002.000Z-1; do
		echo keep >"$(T elsewhere/$f.log)"
	done
	ln -s "$(T elsewhere)" "$(T state/logs/t)"
	sup_start j.conf
	for i in 1 2 3; do
		run J schedule t
		assert_success
	done
	wait_count 'event=exit route=t\|route=t.*refused' 3
	sup_stop
	run ls "$(T elsewhere)"
	assert_output "19700101T000000.000Z-1.log
19700101T000001.000Z-1.log
19700101T000002.000Z-1.log"
	run grep -c "$(T state)/logs/t: not a directory (a symbolic link?): refused" "$SUP_LOG"
	[ "$output" -ge 1 ]
}

@test "the store's files and run logs are 0600 whatever the umask, in a 0755 state dir" {
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "echo secret" }
EOF
	mkdir -m 755 "$(T state)"
	umask 022
	sup_start j.conf
	run J schedule t --env API_TOKEN=x
	assert_success
	wait_for 'event=exit route=t'
	# While it runs: the WAL and its index are there too.
	[ -e "$(T state/jobify.db-wal)" ]
	[ -e "$(T state/jobify.db-shm)" ]
	run stat -c '%a %n' "$(T state/jobify.db)" "$(T state/jobify.db-wal)" \
		"$(T state/jobify.db-shm)" "$(T state/logs/t)"/*.log
	assert_equal "$(grep -vc '^600 ' <<<"$output")" 0
	assert_equal "${#lines[@]}" 4
	sup_stop
}

# hold SOCKET N: N idle clients connected to SOCKET (as many as the
# backlog takes) until killed; $HOLD is its pid, and once they are in,
# $HELD and $TURNED (refused for a full backlog) say how many.
hold() {
	cat >"$(T hold.py)" <<'PY'
import os, signal, socket, sys
path, n, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held, turned = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
        held.append(s)
    except BlockingIOError:
        turned += 1
        s.close()
with open(ready + ".tmp", "w") as f:
    f.write("%d %d\n" % (len(held), turned))
os.rename(ready + ".tmp", ready)
signal.pause()
PY
	rm -f "$(T held)"
	python3 "$(T hold.py)" "$1" "$2" "$(T held)" 3>&- &
	HOLD=$!
	wait_for . 20 "$(T held)"
	read -r HELD TURNED <"$(T held)"
}

unhold() {
	kill "$HOLD"
	wait "$HOLD" || true
	HOLD=
}

# cpu_ticks PID: its user + system time so far, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "out of descriptors (prlimit 64): clients wait, the supervisor does not spin, and serves when they go" {
	command -v prlimit >/dev/null || skip "needs prlimit (util-linux)"
	command -v python3 >/dev/null || skip "needs python3"
	conf j.conf <<EOF
state-dir = "$(T state)"
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
task "t" { exec = "echo served" }
EOF
	script limited "exec prlimit --nofile=64:64 '$JOBIFY' \"\$@\""
	JOBIFY=$(T limited) sup_start j.conf
	hold "$(T state/jobify.sock)" 400
	# More clients than descriptors: some in the backlog, more turned away.
	[ "$TURNED" -gt 0 ] || { echo "held $HELD, none turned away" >&2; false; }
	# Overloaded (the old code's accept error counts too: the window
	# below is what tells spinning from waiting).
	wait_for 'event=control-busy reason="too many clients"\|accept: Too many open files'
	ticks=$(grep -c 'event=exit route=tick' "$SUP_LOG" || true)
	c0=$(cpu_ticks "$SUP_PID")
	# The measurement window: the supervisor's CPU time over 2 s of it.
	sleep 2
	c1=$(cpu_ticks "$SUP_PID")
	echo "# cpu ticks over 2 s: $((c1 - c0)); held $HELD, turned away $TURNED" >&3
	[ $((c1 - c0)) -lt 30 ] || { echo "cpu ticks over 2 s: $((c1 - c0))" >&2; false; }
	# It went on firing meanwhile, and logged the overload once.
	wait_count 'event=exit route=tick' $((ticks + 2))
	run grep -c 'event=control-busy' "$SUP_LOG"
	[ "$output" -le 2 ]
	unhold
	run J schedule t
	assert_success
	wait_for 'event=exit route=t'
	run J reload
	assert_success
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "the supervisor raises its descriptor limit, and its jobs get the usual one back" {
	command -v prlimit >/dev/null || skip "needs prlimit (util-linux)"
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = 'sh -c "ulimit -Sn; ulimit -Hn"' output = "inherit" }
EOF
	script limited "exec prlimit --nofile=256:4096 '$JOBIFY' \"\$@\""
	JOBIFY=$(T limited) sup_start j.conf
	run grep -o 'Max open files *[0-9]* *[0-9]*' "/proc/$SUP_PID/limits"
	assert_output --regexp 'Max open files +4096 +4096'
	run J schedule t
	assert_success
	wait_for 'event=exit route=t'
	# The job's lines, in the supervisor's log: soft 256, hard as it was.
	wait_for 'line=256'
	wait_for 'line=4096'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "schedule does not hang on a full backlog: it wakes the supervisor with SIGUSR1" {
	command -v python3 >/dev/null || skip "needs python3"
	conf j.conf <<EOF
state-dir = "$(T state)"
task "t" { exec = "echo woken" }
EOF
	sup_start j.conf
	kill -STOP "$SUP_PID"
	hold "$(T state/jobify.sock)" 200
	[ "$TURNED" -gt 0 ] || { echo "held $HELD, none turned away" >&2; false; }
	run --separate-stderr timeout 30 "$JOBIFY" -c "$(T j.conf)" schedule t
	assert_success
	[ -z "$stderr" ] || { echo "stderr: $stderr" >&2; false; }
	kill -CONT "$SUP_PID"
	# Nothing but the signal tells it of the job (the connection never came).
	wait_for 'event=exit route=t'
	unhold
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "a user's jobify refuses a state directory of another user (77), root's too" {
	need_root_and_nobody
	nob=$(id -u nobody)
	mkdir -m 755 "$(T nb)"
	chown nobody "$(T nb)"
	mkdir -m 755 "$(T nb/state)"
	conf j.conf <<EOF
state-dir = "$(T nb/state)"
task "t" { exec = "true" }
EOF
	chmod 644 "$(T j.conf)"
	run --separate-stderr as_nobody "$JOBIFY" -c "$(T j.conf)" jobs
	assert_failure 77
	[[ "$stderr" == *"state directory $(T nb/state): refused: it is owned by uid 0, not by uid $nob"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	# Its own, but others may write to it.
	rmdir "$(T nb/state)"
	as_nobody mkdir -m 777 "$(T nb/state)"
	chmod 777 "$(T nb/state)"
	run --separate-stderr as_nobody "$JOBIFY" -c "$(T j.conf)" jobs
	assert_failure 77
	[[ "$stderr" == *"refused: it is writable by others (mode 0777)"* ]] ||
		{ echo "stderr: $stderr" >&2; false; }
	run ls -A "$(T nb/state)"
	assert_output ""
}
