#!/usr/bin/env bats
# The command line itself: help, version, usage errors.

setup() {
	load helpers
}

@test "--help prints the commands on stdout and exits 0" {
	run --separate-stderr "$JOBIFY" --help
	assert_success
	assert_line --partial "Usage: jobify [-c FILE] [-v|-q] [--state-dir DIR] COMMAND [ARGS]"
	assert_line --regexp '^  routes +list the routes'
	assert_line --regexp '^  check +validate the config'
	[ -z "$stderr" ]
}

@test "--version prints the version" {
	run --separate-stderr "$JOBIFY" --version
	assert_success
	assert_output --regexp '^jobify [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "no command is a usage error on stderr, exit 64" {
	run --separate-stderr "$JOBIFY"
	assert_failure 64
	[ -z "$output" ]
	[[ "$stderr" == *"Usage: jobify"* ]]
}

@test "an unknown command exits 64 and names it" {
	run --separate-stderr "$JOBIFY" frobnicate
	assert_failure 64
	[ "$stderr" = "jobify: unknown command 'frobnicate'
Try 'jobify --help'." ]
}

@test "an unknown global option exits 64" {
	run --separate-stderr "$JOBIFY" --frob routes
	assert_failure 64
	[[ "$stderr" == "jobify: unknown option '--frob'"* ]]
	run --separate-stderr "$JOBIFY" -x routes
	assert_failure 64
	[[ "$stderr" == "jobify: unknown option '-x'"* ]]
}

@test "-c without its argument exits 64" {
	run --separate-stderr "$JOBIFY" -c
	assert_failure 64
	[[ "$stderr" == "jobify: option '-c' needs an argument"* ]]
}

@test "store commands go on when the config has an error elsewhere, with a warning" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1
	assert_success
	# An edit in progress: a bad timeout in a task, below the app's lines.
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	timezone = "UTC"
	task "t" { exec = 'true' timeout = "5x" }
	EOF
	warn="jobify: j.conf:3: timeout: '5x': unknown unit (use ms, s, m, h, d or w)"
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_success
	assert_output --regexp '^j1	t	scheduled	'
	[ "$stderr" = "$warn
jobify: jobs: warning: the config has errors (above); going on with its state-dir, socket and timezone" ]
	run --separate-stderr "$JOBIFY" -c j.conf status j1
	assert_success
	assert_line "run at:      2099-01-01T00:00:00+00:00"
	run --separate-stderr "$JOBIFY" -c j.conf history t
	assert_success
	run --separate-stderr "$JOBIFY" -c j.conf cancel j1
	assert_success
	run --separate-stderr "$JOBIFY" -c j.conf wait j1 --timeout 5s
	[ "$status" -ne 78 ]
	[[ "$stderr" == "$warn"* ]]
	run --separate-stderr "$JOBIFY" -c j.conf status j1
	assert_line "status:      cancelled"
	run --separate-stderr "$JOBIFY" -c j.conf logs j1
	[ "$status" -ne 78 ]
	# Commands that need the routes still refuse the config.
	run --separate-stderr "$JOBIFY" -c j.conf schedule t
	assert_failure 78
}

@test "store commands exit 78 when the state-dir line comes after the error" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	task "t" { exec = 'true' timeout = "5x" }
	state-dir = "$BATS_TEST_TMPDIR/state"
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_failure 78
	[ "$stderr" = "jobify: j.conf:1: timeout: '5x': unknown unit (use ms, s, m, h, d or w)
jobify: jobs: (with errors elsewhere in the config, it goes on when the state-dir, socket and timezone lines come before the first error)" ]
	[ ! -e state ]
	# An error on the state-dir line itself is no better.
	conf j.conf <<-EOF
	state-dir = { "a", "b" }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_failure 78
}

@test "jobs, history, status report a failed write: message and 70" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1
	assert_success
	for cmd in "jobs" "jobs --json" "status j1" "status j1 --json" "history --json"; do
		run --separate-stderr bash -c "\"\$JOBIFY\" -c j.conf $cmd >/dev/full"
		assert_failure 70
		[ "$stderr" = "jobify: ${cmd%% *}: cannot write the output: No space left on device" ]
	done
}

@test "--json is valid UTF-8 JSON whatever bytes a job's arguments hold" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf schedule t --at 2099-01-01T00:00 --id j1 -- $'\xff' $'caf\xc3\xa9' $'\xe2\x82'
	assert_success
	for cmd in "jobs --json" "status j1 --json"; do
		# shellcheck disable=SC2086
		"$JOBIFY" -c j.conf $cmd >out.json
		run python3 -c 'import json,sys; d=json.loads(open("out.json","rb").read().decode("utf-8")); d=d[0] if isinstance(d,list) else d; print(ascii(d["args"]))'
		assert_success
		assert_output "['\\ufffd', 'caf\\xe9', '\\ufffd\\ufffd']"
	done
}

@test "jobify(1) gives the store's schema version and an @EPOCH among its dates" {
	cd "$BATS_TEST_TMPDIR"
	conf j.conf <<-EOF
	state-dir = "$BATS_TEST_TMPDIR/state"
	task "t" { exec = 'true' }
	EOF
	run --separate-stderr "$JOBIFY" -c j.conf jobs
	assert_success
	v=$(sqlite3 state/jobify.db 'PRAGMA user_version')
	man="$top_srcdir/man/jobify.1"
	grep -A1 -F '.Pq Ql PRAGMA user_version ,' "$man" | grep -qx "$v in this version,"
	# The --at examples: the @EPOCH one is the same day as the others.
	epoch=$(grep -A8 -F '.It Fl \-at Ar time' "$man" | sed -n 's/^\.Ql @\([0-9]*\) ;$/\1/p')
	[ "$(date -u -d "@$epoch" +%FT%H:%M)" = "2026-11-25T03:00" ]
}
