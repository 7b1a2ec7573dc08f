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
