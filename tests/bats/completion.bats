#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The bash completion (completion/jobify.bash), sourced as bash-completion
# would and driven as readline would: COMP_WORDS and COMP_CWORD set, the
# function called, COMPREPLY read.

setup() {
	load sup-helpers
	# shellcheck source=/dev/null
	source "$top_srcdir/completion/jobify.bash"
	conf j.conf <<EOF
state-dir = "state"
router "analytics" {
  task "track_logins" { exec = "true" cron = "0 * * * *" }
  task "track_clicks" { exec = "true" }
}
include-router = { "analytics" }
task "backup" { exec = "true" }
EOF
}

# complete WORD...: what completing the last WORD offers, one a line, sorted.
complete() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_jobify
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

@test "commands, then a route name for exec, schedule, next and history" {
	run complete "$JOBIFY" sch
	assert_output schedule
	run complete "$JOBIFY" -c "$(T j.conf)" exec analytics:track_
	assert_output "analytics:track_clicks
analytics:track_logins"
	run complete "$JOBIFY" -q schedule --in 1h -c "$(T j.conf)" b
	assert_output backup
	run complete "$JOBIFY" --config="$(T j.conf)" history ''
	assert_output "analytics:track_clicks
analytics:track_logins
backup"
	# One route only: a second operand gets nothing.
	run complete "$JOBIFY" -c "$(T j.conf)" exec backup ''
	assert_output ''
}

@test "a job id for status, logs, wait and cancel, from the --state-dir of the line" {
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" --state-dir "$(T other)" schedule backup --in 1h
	assert_success
	id=$output
	run complete "$JOBIFY" -c "$(T j.conf)" --state-dir "$(T other)" status "${id:0:5}"
	assert_output "$id"
	run complete "$JOBIFY" -c "$(T j.conf)" wait --state-dir "$(T other)" x "${id:0:5}"
	assert_output "$id"
	# Not in the config's own state directory.
	run complete "$JOBIFY" -c "$(T j.conf)" cancel "${id:0:5}"
	assert_output ''
}

@test "options from the command's --help, zones for --tz, values for --status and --log-format" {
	run complete "$JOBIFY" -c "$(T j.conf)" jobs --st
	assert_output "--state-dir
--status"
	run complete "$JOBIFY" next --tz Europe/Ber
	assert_output "Europe/Berlin"
	run complete "$JOBIFY" next --tz Etc/UT
	assert_output "Etc/UTC"
	run complete "$JOBIFY" jobs --status perm
	assert_output permanently-failed
	run complete "$JOBIFY" run --log-format j
	assert_output json
	run complete "$JOBIFY" --ver
	assert_output "--verbose
--version"
	run complete "$JOBIFY" -c "$(T j.conf)" jobs --route analytics:track_c
	assert_output analytics:track_clicks
}

@test "fish: commands, a route and a job id" {
	command -v fish >/dev/null || fail "fish is needed (.ci/install-deps installs it)"
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule backup --in 1h
	assert_success
	id=$output
	fishc() {
		fish --no-config -c "source '$top_srcdir/completion/jobify.fish'; complete -C'$*'" | sort
	}
	run fishc "$JOBIFY sch"
	assert_output $'schedule\tadd a durable one-off or cron job'
	run fishc "$JOBIFY -c $(T j.conf) exec analytics:track_c"
	assert_output analytics:track_clicks
	run fishc "$JOBIFY -c $(T j.conf) logs ${id:0:6}"
	assert_output "$id"
}
