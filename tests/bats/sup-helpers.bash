# SPDX-License-Identifier: ISC
# Helpers for the suites that start a real supervisor.
# shellcheck shell=bash

load helpers

T() { printf '%s/%s' "$BATS_TEST_TMPDIR" "$1"; }

# script NAME BODY: an executable sh script $BATS_TEST_TMPDIR/NAME.
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"$(T "$1")"
	chmod +x "$(T "$1")"
}

# sup_start CONF [ARGS...]: start `jobify run` in the background, its
# stderr in $SUP_LOG, and wait until it is ready (or has exited).
sup_start() {
	local conf=$1
	shift
	SUP_LOG=$(T sup.log)
	: >"$SUP_LOG"
	# fd 3 is bats' own: a daemon holding it would hang the suite.
	"$JOBIFY" -c "$(T "$conf")" run "$@" 2>>"$SUP_LOG" 3>&- &
	SUP_PID=$!
	wait_for "event=ready\|\"event\":\"ready\"" 20 || {
		cat "$SUP_LOG" >&2
		return 1
	}
}

# wait_for PATTERN [SECONDS] [FILE]: poll FILE (default the supervisor's
# log) until a line matches the grep PATTERN; fail after the deadline.
wait_for() {
	local pattern=$1 secs=${2:-20} file=${3:-$SUP_LOG}
	local deadline=$((SECONDS + secs))
	while ! grep -q -- "$pattern" "$file" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "timed out waiting for '$pattern' in $file" >&2
			return 1
		fi
		sleep 0.05
	done
}

# wait_count PATTERN N [SECONDS] [FILE]: until N lines match.
wait_count() {
	local pattern=$1 n=$2 secs=${3:-20} file=${4:-$SUP_LOG}
	local deadline=$((SECONDS + secs))
	local c
	# A missing file counts 0 (grep -c prints nothing then): never a pass.
	while c=$(grep -c -- "$pattern" "$file" 2>/dev/null); [ "${c:-0}" -lt "$n" ]; do
		if ((SECONDS >= deadline)); then
			echo "timed out waiting for $n x '$pattern' in $file" >&2
			return 1
		fi
		sleep 0.05
	done
}

# sup_stop [SIGNAL]: stop it and wait; its exit status in $SUP_STATUS.
sup_stop() {
	kill -"${1:-TERM}" "$SUP_PID"
	SUP_STATUS=0
	wait "$SUP_PID" || SUP_STATUS=$?
	SUP_PID=
}

sup_teardown() {
	if [ -n "${SUP_PID:-}" ]; then
		kill -KILL "$SUP_PID" 2>/dev/null || true
		wait "$SUP_PID" 2>/dev/null || true
	fi
}

# group_count PGID: how many processes of process group PGID run (a
# zombie counts as gone: an init that reaps late must not fail a test).
group_count() {
	ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l
}

# until_group_size PGID N [SECONDS]: poll until group PGID has N
# processes running, or more.
until_group_size() {
	local deadline=$((SECONDS + ${3:-10}))
	while [ "$(group_count "$1")" -lt "$2" ]; do
		if ((SECONDS >= deadline)); then
			echo "group $1 has $(group_count "$1") processes, not $2" >&2
			return 1
		fi
		sleep 0.05
	done
}

# until_groups_gone SECONDS PGID...: poll until no process of the groups
# runs; fail after SECONDS, showing what is left.
until_groups_gone() {
	local deadline=$((SECONDS + $1)) g n
	shift
	for g in "$@"; do
		while n=$(group_count "$g"); [ "$n" -gt 0 ]; do
			if ((SECONDS >= deadline)); then
				echo "group $g: $n processes left after the deadline" >&2
				ps -e -o pid,pgid,stat,args | awk -v g="$g" 'NR == 1 || $2 == g' >&2
				return 1
			fi
			sleep 0.05
		done
	done
}
