#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# history --status, --since and --stats over a history written with
# sqlite3 (exact durations and times; no supervisor needed).

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
	command -v sqlite3 >/dev/null ||
		fail "these tests write the store with the sqlite3 command (.ci/install-deps installs it)"
	conf h.conf <<-'EOF'
	state-dir = "state"
	timezone = "UTC"
	task "nightly-backup" { exec = "true" }
	task "b" { exec = "true" }
	EOF
	J() { "$JOBIFY" -c h.conf "$@"; }
	# The store exists once a command opened it.
	J history >/dev/null
	# nightly-backup: 20 runs on 2026-11-01.. lasting 1..20 s, every
	# fifth failed with exit 2; b: one timeout killed by SIGKILL.
	{
		for i in $(seq 1 20); do
			start=$(( (1793491200 + (i - 1) * 86400) * 1000 ))
			if ((i % 5)); then st=success code=0; else st=failed code=2; fi
			echo "INSERT INTO runs(job_id, route, attempt, started_at, finished_at, status, exit_code, signal) VALUES ('nb$i', 'nightly-backup', 1, $start, $((start + i * 1000)), '$st', $code, 0);"
		done
		echo "INSERT INTO runs(job_id, route, attempt, started_at, finished_at, status, exit_code, signal) VALUES ('b1', 'b', 1, 1793491200000, 1793491200250, 'timeout', 137, 9);"
	} | sqlite3 -cmd '.timeout 5000' state/jobify.db
}

@test "history --status S: only the runs with that status" {
	run --separate-stderr J history --status failed
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	assert_line --index 0 --regexp "^2026-11-20T00:00:00\+00:00	20\.0s	nightly-backup	nb20	1	failed	2\$"
	assert_line --index 3 --partial "	nb5	"
	run --separate-stderr J history --status timeout
	assert_output --regexp "	b	b1	1	timeout	SIGKILL\$"
	run --separate-stderr J history --status success -n 3 nightly-backup
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --partial "	nb19	"
}

@test "history --since TIME: from that time on, in the app's zone and at(1)'s words" {
	run --separate-stderr J history --since 2026-11-18
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 2 --partial "	nb18	"
	run --separate-stderr J history --since 'midnight nov 18 2026 + 1 day' --status success
	[ "${#lines[@]}" -eq 1 ]
	assert_line --index 0 --partial "	nb19	"
	run --separate-stderr J history --since 'now - 1 hour'
	assert_success
	assert_output ""
	# A route with runs, none of them matching: nothing, not "unknown".
	run --separate-stderr J history b --status success
	assert_success
	assert_output ""
}

@test "history --stats: runs, failures, rate, p50/p95/max and the last result per route" {
	run --separate-stderr J history --stats
	assert_success
	assert_output "b	1	1	100%	250ms	250ms	250ms	timeout (SIGKILL)	2026-11-01T00:00:00+00:00
nightly-backup	20	4	20%	10.0s	19.0s	20.0s	failed (2)	2026-11-20T00:00:00+00:00"
	run --separate-stderr J history --stats --since 2026-11-16 nightly-backup
	assert_output "nightly-backup	5	1	20%	18.0s	20.0s	20.0s	failed (2)	2026-11-20T00:00:00+00:00"
	# On a terminal: a table whose route column fits the longest name.
	command script -qec "$JOBIFY -c h.conf history --stats" /dev/null > tty.out
	run cat tty.out
	assert_line --index 0 --regexp '^ROUTE +RUNS +FAILED +FAIL% +P50 +P95 +MAX +LAST'
	assert_line --index 2 --regexp '^nightly-backup +20 +4 +20% +10\.0s +19\.0s +20\.0s  failed \(2\)'
	run --separate-stderr J history --stats --json
	assert_success
	echo "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [r["route"] for r in v] == ["b", "nightly-backup"], v
nb = v[1]
assert (nb["runs"], nb["failures"], nb["failure_rate"]) == (20, 4, 0.2), nb
assert (nb["p50_ms"], nb["p95_ms"], nb["max_ms"]) == (10000, 19000, 20000), nb
assert (nb["last_status"], nb["last_exit_code"], nb["last_signal"]) == ("failed", 2, None), nb
assert nb["last_started_at"] == "2026-11-20T00:00:00+00:00", nb
assert v[0]["last_signal"] == "SIGKILL" and v[0]["last_exit_code"] == 137, v[0]
'
}

@test "history: bad --status (64), --since (65, naming the word), -n with --stats (64)" {
	run --separate-stderr J history --status done
	assert_failure 64
	[[ "$stderr" == "jobify: history: --status: 'done' is not the status of a run (success, failed, timeout, cancelled, skipped)"* ]]
	run --separate-stderr J history --since 'yesterdy'
	assert_failure 65
	[ "$stderr" = "jobify: history: --since: 'yesterdy': 'yesterdy' is not understood in a time (a time is as in now + 5 minutes, tomorrow 09:00, noon, teatime, mon 03:00, 9:30pm)" ]
	run --separate-stderr J history --stats -n 5
	assert_failure 64
	run --separate-stderr J history --stats nope
	assert_failure 66
}
