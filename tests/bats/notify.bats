#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# systemd's notification protocol (sd_notify(3)): a Python listener on a
# Unix datagram socket stands for systemd as NOTIFY_SOCKET; the
# supervisor sends EXTEND_TIMEOUT_USEC while its lifespans start, READY=1
# with STATUS=, WATCHDOG=1 at half of WATCHDOG_USEC from its loop,
# RELOADING=1 with MONOTONIC_USEC and READY=1 around a reload, and
# STOPPING=1.

setup() {
	load sup-helpers
	NLOG=$(T notify.log)
	"${PYTHON3:-python3}" "$top_srcdir/tests/bats/notify-listen.py" "$(T notify.sock)" "$NLOG" 3>&- &
	LISTENER=$!
	wait_for_file "$NLOG"
	export NOTIFY_SOCKET
	NOTIFY_SOCKET=$(T notify.sock)
	conf j.conf <<EOF
state-dir = "state"
router "r" {
  lifespan { startup = 'echo A=1' }
  task "t" { exec = "true" output = "null" }
}
include-router = { "r" }
EOF
}

teardown() {
	sup_teardown
	kill "$LISTENER" 2>/dev/null || true
	wait "$LISTENER" 2>/dev/null || true
}

wait_for_file() {
	local deadline=$((SECONDS + 20))
	until [ -e "$1" ]; do
		((SECONDS < deadline)) || fail "the listener did not start"
		sleep 0.05
	done
}

# payloads: the datagrams received, one a line, without their times.
payloads() { cut -f2- "$NLOG"; }

@test "READY=1 with STATUS= after EXTEND_TIMEOUT_USEC for the lifespan; RELOADING=1 and READY=1 on reload; STOPPING=1" {
	sup_start j.conf
	wait_for '^[0-9]*	READY=1|STATUS=ready: running 0, queued 0, next fire none$' 20 "$NLOG"
	run payloads
	assert_line --index 0 'EXTEND_TIMEOUT_USEC=90000000|STATUS=starting: lifespan r'
	refute_line --partial WATCHDOG
	run "$JOBIFY" -c "$(T j.conf)" reload
	assert_success
	wait_for '^[0-9]*	RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*$' 20 "$NLOG"
	run payloads
	assert_line --index 2 --regexp '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
	assert_line --index 3 'READY=1'
	# MONOTONIC_USEC is CLOCK_MONOTONIC's: not after now, as systemd checks.
	usec=$(grep -o 'MONOTONIC_USEC=[0-9]*' "$NLOG" | cut -d= -f2)
	now=$("${PYTHON3:-python3}" -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
	((usec > 0 && usec <= now))
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run payloads
	assert_line --index 4 'STOPPING=1'
	assert_equal "${#lines[@]}" 5
}

@test "STATUS= follows what runs and what comes, at most once a second" {
	script slow 'exec sleep 30'
	conf s.conf <<EOF
state-dir = "state"
shutdown-grace = 0s
task "slow" { exec = "$(T slow)" output = "null" }
task "later" { exec = "true" cron = "0 0 1 1 *" }
EOF
	sup_start s.conf
	wait_for 'READY=1|STATUS=ready: running 0, queued 0, next fire [0-9-]*T00:00:00.* later$' 20 "$NLOG"
	run --separate-stderr "$JOBIFY" -c "$(T s.conf)" schedule slow
	assert_success
	wait_for '	STATUS=ready: running 1, queued 0, next fire .* later$' 20 "$NLOG"
	sup_stop
	# Two STATUS= are at least NOTIFY_STATUS_MS (1 s) apart, to the ms of
	# the supervisor's clock (which it reads in whole ms: one sent late in
	# a ms is followed 999.x ms later by the kernel's clock).
	run awk -F'\t' '$2 ~ /STATUS=/ { if (prev && $1 - prev < 999000000) bad = bad " " NR; prev = $1 } END { print bad }' "$NLOG"
	assert_output ''
}

@test "WATCHDOG=1 from the loop every half WATCHDOG_USEC, never sooner; none for another WATCHDOG_PID" {
	WATCHDOG_USEC=600000 sup_start j.conf
	wait_count '	WATCHDOG=1$' 6 20 "$NLOG"
	# The kernel's arrival times: each ping 300 ms (to the ms of the
	# supervisor's clock) or more after the one before.
	run awk -F'\t' '$2 == "WATCHDOG=1" { if (prev && $1 - prev < 299000000) print NR ": " $1 - prev; prev = $1 }' "$NLOG"
	assert_output ''
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]

	: >"$NLOG"
	WATCHDOG_USEC=600000 WATCHDOG_PID=1 sup_start j.conf
	wait_for '	READY=1|' 20 "$NLOG"
	# A turn of the loop that would have pinged: a run's start and exit.
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule r:t
	assert_success
	run "$JOBIFY" -c "$(T j.conf)" wait "$output" --timeout 20s
	assert_success
	sup_stop
	run payloads
	refute_line --partial WATCHDOG
}
