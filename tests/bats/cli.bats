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
