#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify check: every config error path says FILE:LINE: what, exits 78,
# and prints nothing on stdout.

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	if declare -f sup_teardown >/dev/null; then
		sup_teardown
	fi
}

# refused FILE LINE...: `check` exits 78 with exactly these stderr lines.
refused() {
	run --separate-stderr "$JOBIFY" -c "$1" check
	shift
	assert_failure 78
	assert_output ""
	local want
	want=$(printf '%s\n' "$@")
	[ "$stderr" = "$want" ] || { printf 'stderr:\n%s\nwanted:\n%s\n' "$stderr" "$want"; false; }
}

@test "a valid config: summary on stdout, exit 0" {
	conf a.conf <<-'EOF'
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c a.conf check
	assert_success
	assert_output "a.conf: 1 route in 1 file, 0 detached routers"
	[ -z "$stderr" ]
}

@test "a detached router is a warning with its line; exit 0; -q silences it" {
	conf a.conf <<-'EOF'
	task "t" { exec = 'true' }

	router "lost" {
	  task "x" { exec = 'true' }
	}
	EOF
	run --separate-stderr "$JOBIFY" -c a.conf check
	assert_success
	assert_output "a.conf: 1 route in 1 file, 1 detached router"
	[ "$stderr" = "jobify: a.conf:3: warning: router 'lost' is not attached: its tasks will not run; add include-router = { \"lost\" } to the app or to a router" ]
	run --separate-stderr "$JOBIFY" -q -c a.conf check
	assert_success
	assert_output ""
	[ -z "$stderr" ]
}

@test "missing config file: 78, names the path" {
	run --separate-stderr "$JOBIFY" -c nope.conf check
	assert_failure 78
	[ "$stderr" = "jobify: nope.conf: No such file or directory" ]
}

@test "the default path says how to give one when there is none" {
	# root reads SYSCONFDIR/jobify.conf, others the XDG path
	if [ "$(id -u)" -ne 0 ]; then
		want="$XDG_CONFIG_HOME/jobify/jobify.conf"
	else
		want="$("$JOBIFY" --help | sed -n 's|.*  \(/[^ ]*\)/jobify.conf for root,|\1|p')/jobify.conf"
	fi
	run --separate-stderr "$JOBIFY" check
	assert_failure 78
	[ "$stderr" = "jobify: $want: No such file or directory
jobify: (no config there: give one with -c FILE or \$JOBIFY_CONFIG; see jobify.conf(5))" ]
}

@test "value errors are all reported in one run, each at its line" {
	conf a.conf <<-'EOF'
	task "t" {
	  exec = 'true'
	  timeout = 5x
	  retry-delay = 1h30
	  misfire = 'later'
	  overlap = sometimes
	  output = file
	  umask = 0800
	  nice = 20
	  max-runs = -1
	  env = { 'JOBIFY_ROUTE=x', '1A=b', 'novalue' }
	  name = 'has space'
	}
	EOF
	refused a.conf \
		"jobify: a.conf:3: timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)" \
		"jobify: a.conf:4: retry-delay: '1h30': a unit is missing after the last number (s, m, h, d, w)" \
		"jobify: a.conf:5: misfire: 'later': expected once, all, skip or grace DURATION" \
		"jobify: a.conf:6: overlap: 'sometimes': expected skip, queue or parallel" \
		"jobify: a.conf:7: output: 'file': expected log, inherit or null" \
		"jobify: a.conf:8: umask: '0800' is not an octal mode from 0 to 0777" \
		"jobify: a.conf:9: nice: '20' is not a whole number from -20 to 19" \
		"jobify: a.conf:10: max-runs: '-1' is not a whole number from 0 to 2147483647" \
		"jobify: a.conf:11: env: JOBIFY_ROUTE: JOBIFY_ variables are set by jobify itself" \
		"jobify: a.conf:11: env: '1A' is not a valid variable name (letters, digits and _, not starting with a digit)" \
		"jobify: a.conf:11: env: 'novalue' is not KEY=VALUE" \
		"jobify: a.conf:12: name: 'has space' is not a valid name (1-64 characters of A-Z a-z 0-9 _ -)"
}

@test "commands: unclosed quotes in middleware, hooks and exec" {
	conf a.conf <<-'EOF'
	middleware = { 'nice -n "5' }
	router "r" {
	  lifespan { startup = 'up \\' }
	}
	include-router = { 'r' }
	task "t" {
	  exec = 'echo "x'
	}
	EOF
	refused a.conf \
		"jobify: a.conf:1: middleware: a double quote (\") is not closed" \
		"jobify: a.conf:3: startup: the command ends with a lone backslash" \
		"jobify: a.conf:7: task 't': exec: a double quote (\") is not closed"
	conf b.conf <<-'EOF'
	task "t" {
	  exec = 'echo "x'
	}
	task "u" { exec = '' }
	task "v" { }
	EOF
	refused b.conf \
		"jobify: b.conf:4: exec: the command is empty" \
		"jobify: b.conf:5: task 'v': exec is required" \
		"jobify: b.conf:2: task 't': exec: a double quote (\") is not closed"
	conf c.conf <<-'EOF'
	task "t" {
	  exec = 'echo "x'
	}
	task "v" { }
	EOF
	refused c.conf \
		"jobify: c.conf:4: task 'v': exec is required" \
		"jobify: c.conf:2: task 't': exec: a double quote (\") is not closed"
}

@test "the shell route class takes an exec string that does not split" {
	conf a.conf <<-'EOF'
	route-class = shell
	task "t" { exec = 'echo "x' }
	EOF
	run --separate-stderr "$JOBIFY" -c a.conf check
	assert_success
}

@test "a bad task title, router id and prefix" {
	conf a.conf <<-'EOF'
	task "bad.name" { exec = 'x' }
	router "r/1" { }
	router "r2" { prefix = 'a.b' }
	EOF
	refused a.conf \
		"jobify: a.conf:1: task 'bad.name': not a valid name (1-64 characters of A-Z a-z 0-9 _ -); rename it or set name = \"...\"" \
		"jobify: a.conf:2: router 'r/1': not a valid id (1-64 characters of A-Z a-z 0-9 _ -)" \
		"jobify: a.conf:3: prefix: 'a.b' is not a valid name (1-64 characters of A-Z a-z 0-9 _ -)" \
		"jobify: a.conf:2: warning: router 'r/1' is not attached: its tasks will not run; add include-router = { \"r/1\" } to the app or to a router" \
		"jobify: a.conf:3: warning: router 'r2' is not attached: its tasks will not run; add include-router = { \"r2\" } to the app or to a router"
	conf b.conf <<-'EOF'
	task "bad.name" { exec = 'x' }
	router "r/1" { }
	EOF
	refused b.conf \
		"jobify: b.conf:1: task 'bad.name': not a valid name (1-64 characters of A-Z a-z 0-9 _ -); rename it or set name = \"...\"" \
		"jobify: b.conf:2: router 'r/1': not a valid id (1-64 characters of A-Z a-z 0-9 _ -)" \
		"jobify: b.conf:2: warning: router 'r/1' is not attached: its tasks will not run; add include-router = { \"r/1\" } to the app or to a router"
}

@test "lifespan with both forms" {
	conf a.conf <<-'EOF'
	lifespan {
	  run = 'proxy'
	  startup = 'up'
	}
	EOF
	refused a.conf \
		"jobify: a.conf:1: lifespan: run is the long-lived form of startup and shutdown; use either run, or startup and shutdown"
}

@test "libconfuse syntax errors keep its message and line" {
	conf a.conf <<-'EOF'
	task "t" { exec = 'x' }

	bogus = 1
	EOF
	refused a.conf "jobify: a.conf:3: no such option 'bogus'"
	conf b.conf <<-'EOF'
	task "t" { exec = 'x' }
	task "t" { exec = 'y' }
	EOF
	refused b.conf "jobify: b.conf:2: found duplicate title 't'"
}

@test "cross-object errors are reported together, naming both places" {
	conf a.conf <<-'EOF'
	include-router = { 'a', 'nope', 'inner' }
	router "a" {
	  task "t" { exec = 'x' }
	  router "inner" { }
	}
	router "b" {
	  prefix = 'a'
	  task "t" { exec = 'y' }
	}
	router "c" { include-router = { 'a' } }
	include-router += { 'b', 'c' }
	router "d" { include-router = { 'd' } }
	EOF
	refused a.conf \
		"jobify: a.conf:1: include-router: no router 'nope' is defined" \
		"jobify: a.conf:1: include-router: router 'inner' is defined inline in router 'a' (a.conf:4) and attached there; only top-level routers can be included" \
		"jobify: a.conf:10: include-router: router 'a' is already attached to the app at a.conf:1; a router can be attached once" \
		"jobify: a.conf:12: include-router: attaching router 'd' to router 'd' makes a cycle (router 'd' is this router itself)" \
		"jobify: a.conf:12: warning: router 'd' is not attached: its tasks will not run; add include-router = { \"d\" } to the app or to a router" \
		"jobify: a.conf:8: task 't': route 'a:t' is already defined at a.conf:3"
}

@test "a cycle through two routers" {
	conf a.conf <<-'EOF'
	router "x" { include-router = { 'y' } }
	router "y" {
	  include-router = { 'x' }
	}
	EOF
	refused a.conf \
		"jobify: a.conf:3: include-router: attaching router 'x' to router 'y' makes a cycle (router 'x' is one of its parents)" \
		"jobify: a.conf:1: warning: router 'x' is not attached: its tasks will not run; add include-router = { \"x\" } to the app or to a router"
}

@test "routers nest 16 levels deep, not 17" {
	gen() {
		local i
		for ((i = 1; i <= $1; i++)); do printf 'router "r%d" {\n' "$i"; done
		printf 'task "t" { exec = %s }\n' "'true'"
		for ((i = 1; i <= $1; i++)); do printf '}\n'; done
		printf 'include-router = { "r1" }\n'
	}
	gen 16 >ok.conf
	run --separate-stderr "$JOBIFY" -c ok.conf routes
	assert_success
	assert_output "$(printf 'r1.r2.r3.r4.r5.r6.r7.r8.r9.r10.r11.r12.r13.r14.r15.r16:t\t-\t-\ttrue\tok.conf:17')"
	gen 17 >deep.conf
	refused deep.conf "jobify: deep.conf:17: router: routers nest at most 16 levels deep"
}

@test "config path: -c after the command, \$JOBIFY_CONFIG, XDG, ~/.config" {
	conf a.conf <<-'EOF'
	task "a" { exec = 'x' }
	EOF
	run --separate-stderr "$JOBIFY" check -c a.conf
	assert_success
	assert_output "a.conf: 1 route in 1 file, 0 detached routers"
	JOBIFY_CONFIG=a.conf run --separate-stderr "$JOBIFY" check
	assert_output "a.conf: 1 route in 1 file, 0 detached routers"
	# The XDG defaults are for users other than root; as root, run them
	# as nobody, with a copy of jobify in the test's directory: the build
	# tree may be where only root can go (a clone in /root).
	user_jobify=$JOBIFY
	if [ "$(id -u)" -eq 0 ]; then
		user_jobify=$BATS_TEST_TMPDIR/jobify
		cp "$JOBIFY" "$user_jobify"
	fi
	as_user() {
		if [ "$(id -u)" -eq 0 ]; then
			chmod -R a+rX "$BATS_TEST_TMPDIR"
			chmod a+x "$(dirname "$BATS_TEST_TMPDIR")" "$(dirname "$(dirname "$BATS_TEST_TMPDIR")")" 2>/dev/null || true
			setpriv --reuid=nobody --regid=nogroup --clear-groups env "$@"
		else
			env "$@"
		fi
	}
	mkdir -p "$XDG_CONFIG_HOME/jobify"
	cp a.conf "$XDG_CONFIG_HOME/jobify/jobify.conf"
	run --separate-stderr as_user "$user_jobify" check
	assert_output "$XDG_CONFIG_HOME/jobify/jobify.conf: 1 route in 1 file, 0 detached routers"
	mkdir -p home/.config/jobify
	cp a.conf home/.config/jobify/jobify.conf
	run --separate-stderr as_user HOME="$PWD/home" XDG_CONFIG_HOME= "$user_jobify" check
	assert_output "$PWD/home/.config/jobify/jobify.conf: 1 route in 1 file, 0 detached routers"
}

@test "check: usage errors exit 64, --help exits 0" {
	run --separate-stderr "$JOBIFY" check extra
	assert_failure 64
	[ "$stderr" = "jobify: check: unexpected argument 'extra'
Try 'jobify check --help'." ]
	run --separate-stderr "$JOBIFY" check --bogus
	assert_failure 64
	run --separate-stderr "$JOBIFY" check --help
	assert_success
	assert_line --index 0 "Usage: jobify check [-c FILE]"
}

@test "a FIFO as the config or as an include is refused, not waited on" {
	mkfifo fifo.conf
	conf a.conf <<-'EOF'
	task "t" { exec = 'x' }
	include("fifo.conf")
	EOF
	# timeout: the old code blocked in open() for good (exit 124 here).
	run --separate-stderr timeout 20 "$JOBIFY" -c a.conf check
	assert_failure 78
	[ "$stderr" = "jobify: a.conf:2: include: fifo.conf: not a regular file" ]
	run --separate-stderr timeout 20 "$JOBIFY" -c fifo.conf check
	assert_failure 78
	[ "$stderr" = "jobify: fifo.conf: not a regular file" ]
}

@test "a reload that meets a FIFO include keeps the old config and the supervisor" {
	load sup-helpers
	mkfifo "$(T fifo.conf)"
	conf j.conf <<-'EOF'
	state-dir = "state"
	task "t" { exec = 'true' }
	EOF
	sup_start j.conf
	cp j.conf good.conf
	echo 'include("fifo.conf")' >>j.conf
	# The supervisor's own reload (SIGHUP): the old code blocked in
	# open() for good, and the loop with it.
	kill -HUP "$SUP_PID"
	wait_for 'event=reload-failed'
	run grep 'event=config' "$SUP_LOG"
	assert_output --regexp "level=error event=config file=.*j.conf line=3 message=.*include: .*fifo.conf: not a regular file"
	refute grep -q 'event=reloaded' "$SUP_LOG"
	# It still answers, and takes the good config back.
	cp good.conf j.conf
	run timeout 20 "$JOBIFY" -c "$(T j.conf)" reload
	assert_success
	wait_for 'event=reloaded by=control'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
}

@test "bad values do not hide cron, zone, name, command and start-date errors" {
	conf a.conf <<-'EOF'
	task "t" {
	  exec = 'echo "x'
	  timeout = 5x
	  cron = '61 * * * *'
	  timezone = 'Mars/Olympus'
	  start-date = 'soon'
	}
	task "bad.name" { exec = 'true' }
	task "u" { retry = -1 }
	EOF
	refused a.conf \
		"jobify: a.conf:3: timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)" \
		"jobify: a.conf:4: cron: field 1 (minute): 61 is out of range 0-59" \
		"jobify: a.conf:5: timezone: 'Mars/Olympus': unknown time zone (see /usr/share/zoneinfo)" \
		"jobify: a.conf:8: task 'bad.name': not a valid name (1-64 characters of A-Z a-z 0-9 _ -); rename it or set name = \"...\"" \
		"jobify: a.conf:9: retry: '-1' is not a whole number from 0 to 2147483647" \
		"jobify: a.conf:9: task 'u': exec is required" \
		"jobify: a.conf:6: start-date: 'soon': 'soon' is not understood in a time (a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, mon 03:00, 9:30pm)" \
		"jobify: a.conf:2: task 't': exec: a double quote (\") is not closed"
}

@test "a NUL byte in a string is an error, not the end of the value" {
	printf 'task "t" {\n  exec = { "tr\000ue" }\n}\n' >a.conf
	refused a.conf "jobify: a.conf:2: a NUL byte in the file (not allowed)"
}

@test "a comment left open is an error, not the end of the file" {
	conf a.conf <<-'EOF'
	task "t" { exec = 'true' }
	/* the tasks below are commented out by mistake
	task "u" { exec = 'true' }
	EOF
	refused a.conf "jobify: a.conf:2: a comment opened with /* is never closed"
	conf b.conf <<-'EOF'
	task "t" { exec = 'echo /* not a comment' }   # nor /* this
	// nor /* this
	task "u" { exec = 'true' } /* closed */
	EOF
	run "$JOBIFY" -c b.conf check
	assert_success
	assert_output "b.conf: 2 routes in 1 file, 0 detached routers"
}

@test "an unknown option is reported and the rest of the file still read" {
	conf a.conf <<-'EOF'
	bogus = 1
	task "t" {
	  exec = 'x'
	  colour = { "red", "blue" }
	  timeout = 5x
	  weird "a" { x = 1 }
	  cron = "61 * * * *"
	}
	foo(1, 2)
	mystery { task "z" { exec = 'y' } }
	router "r" { include("r.conf") }
	include-router = { 'r' }
	EOF
	conf r.conf <<-'EOF'
	prefix = "p"
	timezone = "UTC"
	task "u" { exec = 'true' }
	EOF
	refused a.conf \
		"jobify: a.conf:1: no such option 'bogus'" \
		"jobify: a.conf:4: no such option 'colour'" \
		"jobify: a.conf:5: timeout: '5x': unknown unit 'x' (use ms, s, m, h, d, w, M, y or their names: sec, min, hours, days, weeks, months, years)" \
		"jobify: a.conf:6: no such option 'weird'" \
		"jobify: a.conf:7: cron: field 1 (minute): 61 is out of range 0-59" \
		"jobify: a.conf:9: no such option 'foo'" \
		"jobify: a.conf:10: no such option 'mystery'" \
		"jobify: r.conf:2: no such option 'timezone'"
	# Without the unknown names it is a good config: nothing else was lost.
	sed -i -e '/bogus\|colour\|weird\|foo\|mystery/d' -e 's/5x/5s/' -e 's/61 /1 /' a.conf
	sed -i '/timezone/d' r.conf
	run "$JOBIFY" -c a.conf routes
	assert_success
	assert_line --index 0 --regexp '^t	'
	assert_line --index 1 --regexp '^p:u	'
}

@test "duplicate titles: each one reported at its own line, in a router, in the app, across an include" {
	conf a.conf <<-'EOF'
	router "r" {
	  task "t" { exec = 'x' }
	  task "t" { exec = 'y' }
	  router "in" { task "t" { exec = 'z' } }
	  task "t" { exec = 'w' }
	  router "in" { }
	}
	router "r" { }
	task "t" { exec = 'x' }
	router "s" { include("s.conf") }
	include-router = { 'r', 's' }
	EOF
	conf s.conf <<-'EOF'
	task "u" { exec = 'x' }
	task "u" { exec = 'x' }
	EOF
	refused a.conf \
		"jobify: a.conf:3: found duplicate title 't'" \
		"jobify: a.conf:5: found duplicate title 't'" \
		"jobify: a.conf:6: found duplicate title 'in'" \
		"jobify: a.conf:8: found duplicate title 'r'" \
		"jobify: s.conf:2: found duplicate title 'u'"
	# Titles are unique among siblings only: the same title in two
	# routers, or a task and a router of one title, are fine.
	conf b.conf <<-'EOF'
	router "a" { task "t" { exec = 'x' } router "t" { task "t" { exec = 'x' } } }
	router "b" { task "t" { exec = 'x' } }
	include-router = { 'a', 'b' }
	EOF
	run "$JOBIFY" -c b.conf routes
	assert_success
	assert_output --regexp '^a:t	.*
a.t:t	.*
b:t	'
}

@test "a { never closed is an error, not closed by the end of the file" {
	conf a.conf <<-'EOF'
	task "t" { exec = 'true' }
	router "r" {
	  task "u" { exec = 'true' }
	include-router = { 'r' }
	EOF
	refused a.conf "jobify: a.conf:2: a { here is never closed"
}

@test "store takes only a PostgreSQL URI, and a lease must outlast two heartbeats" {
	conf a.conf <<-'EOF'
	state-dir = "st"
	store = "st/jobify.db"
	heartbeat = 10s
	lease = 15s
	task "t" { exec = 'true' }
	EOF
	refused a.conf \
		"jobify: a.conf:2: store: 'st/jobify.db' is not a PostgreSQL URI (postgresql://...); the SQLite store is the default, in state-dir" \
		"jobify: a.conf:4: lease: 15000ms is less than two heartbeats (20000ms)"
}
