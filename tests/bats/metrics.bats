#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# metrics-file (jobify.conf(5)): the Prometheus text file that
# node_exporter's textfile collector reads, parsed here by the Prometheus
# client library's own parser (tests/bats/metrics-check.py).

setup() {
	load sup-helpers
	"${PYTHON3:-python3}" -c 'import prometheus_client' 2>/dev/null ||
		fail "python3-prometheus-client is needed (.ci/install-deps installs it)"
}

teardown() {
	sup_teardown
}

# metrics FILE: the samples of FILE, as metrics-check.py prints them.
metrics() { "${PYTHON3:-python3}" "$top_srcdir/tests/bats/metrics-check.py" "$1"; }

# metrics_wait FILE LINE: until FILE parses and has LINE.
metrics_wait() {
	local deadline=$((SECONDS + 20))
	until [ -e "$1" ] && metrics "$1" 2>/dev/null | grep -qxF -- "$2"; do
		if ((SECONDS >= deadline)); then
			echo "no '$2' in $1:" >&2
			cat "$1" >&2
			return 1
		fi
		sleep 0.05
	done
}

@test "runs, failures, timeouts, last success, histograms and gauges, after each run" {
	conf j.conf <<EOF
state-dir = "state"
metrics-file = "m/jobify.prom"
task "ok" { exec = "true" output = "null" }
task "bad" { exec = "false" output = "null" }
task "slow" { exec = "sleep 30" timeout = "200ms" kill-grace = "100ms" output = "null" }
task "tick" { exec = "true" cron = "* * * * * *" output = "null" }
EOF
	mkdir "$(T m)"
	sup_start j.conf
	for r in ok bad bad slow; do
		run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule "$r"
		assert_success
		ids+=("$output")
	done
	run "$JOBIFY" -c "$(T j.conf)" wait "${ids[@]}" --timeout 20s
	metrics_wait "$(T m/jobify.prom)" 'jobify_runs_total{route="slow"} 1'
	metrics_wait "$(T m/jobify.prom)" 'jobify_runs_total{route="bad"} 2'
	wait_for 'event=exit route=tick'
	metrics_wait "$(T m/jobify.prom)" 'jobify_run_failures_total{route="tick"} 0'
	run metrics "$(T m/jobify.prom)"
	assert_success
	assert_line 'jobify_runs_total{route="ok"} 1'
	assert_line 'jobify_run_failures_total{route="ok"} 0'
	assert_line 'jobify_run_failures_total{route="bad"} 2'
	assert_line 'jobify_run_timeouts_total{route="bad"} 0'
	assert_line 'jobify_run_failures_total{route="slow"} 0'
	assert_line 'jobify_run_timeouts_total{route="slow"} 1'
	assert_line 'jobify_last_success_timestamp_seconds{route="ok"} T'
	assert_line 'jobify_last_success_timestamp_seconds{route="tick"} T'
	refute_line --partial 'jobify_last_success_timestamp_seconds{route="bad"}'
	assert_line 'jobify_start_time_seconds T'
	assert_line --regexp '^jobify_jobs_running [01]$'
	assert_line 'jobify_jobs_queued 0'
	# Every attempt is in the duration histogram; each tick in the lateness
	# one; each batch write of the store in the last.
	runs=$(awk '/^jobify_runs_total/ { n += $2 } END { print n }' <<<"$output")
	assert_line "jobify_run_duration_seconds_count $runs"
	ticks=$(grep -o 'jobify_runs_total{route="tick"} [0-9]*' <<<"$output" | cut -d' ' -f2)
	fires=$(grep -o '^jobify_fire_lateness_seconds_count [0-9]*' <<<"$output" | cut -d' ' -f2)
	((fires >= ticks && ticks >= 1))
	assert_line --regexp '^jobify_store_write_seconds_count [1-9][0-9]*$'
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	# Written by rename: nothing else in the directory, mode 0644.
	run ls -A "$(T m)"
	assert_output 'jobify.prom'
	[ "$(stat -c %a "$(T m/jobify.prom)")" = 644 ]
}

@test "a metrics-file that cannot be written: one error in the log, and the supervisor goes on" {
	conf j.conf <<EOF
state-dir = "state"
metrics-file = "no-such-dir/jobify.prom"
task "ok" { exec = "true" output = "null" }
EOF
	sup_start j.conf
	for i in 1 2 3; do
		run --separate-stderr "$JOBIFY" -c "$(T j.conf)" schedule ok
		assert_success
		run "$JOBIFY" -c "$(T j.conf)" wait "$output" --timeout 20s
		assert_success
	done
	sup_stop
	[ "$SUP_STATUS" -eq 0 ]
	run grep -c "level=error event=metrics error=\"$(T no-such-dir/jobify.prom.tmp): No such file or directory\"$" "$SUP_LOG"
	assert_output 1
}

@test "metrics-file: an empty value is a config error" {
	conf j.conf <<EOF
metrics-file = ""
EOF
	run --separate-stderr "$JOBIFY" -c "$(T j.conf)" check
	assert_failure 78
	assert_equal "$stderr" "jobify: $(T j.conf):1: metrics-file: the value is empty"
}
