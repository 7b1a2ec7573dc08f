#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# Several supervisors, one schedule (SPEC §8): three supervisors on
# separate state directories share a throwaway PostgreSQL
# (tests/pg-server.sh), with a heartbeat of 1 s and a lease of 3 s (15 s
# for the 1,000 jobs, which count each run exactly once).
# Each fire once cluster-wide, each one-off job once, a killed node's job
# retried elsewhere, a stopped node that fences itself, a node whose
# config differs.  Skipped as a whole, with the reason, when the server's
# binaries (initdb, pg_ctl) or psql are not installed, or jobify was
# built without libpq.

setup_file() {
	load pg-helpers
	pg_suite_start
}

teardown_file() {
	load pg-helpers
	pg_suite_stop
}

setup() {
	load sup-helpers
	load pg-helpers
	pg_test_start t
}

teardown() {
	pg_test_stop
}

# node_name NAME: the owner name node NAME registered under (the latest).
node_name() {
	grep -o 'event=\(cluster\|unfenced\) node=[^ ]*' "$(T "$1.log")" | tail -n 1 | sed 's/.*node=//'
}

J() { "$JOBIFY" -c "$(T n1.conf)" "$@"; }

# job_field ID FIELD: FIELD of `status ID --json`.
job_field() {
	J status "$1" --json | python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

@test "20 routes every second on 3 nodes for 30 s: every (route, second) fired once, no gap" {
	local i t0 t1
	: >"$(T tasks.conf)"
	# Each run says what it ran for, whichever node runs it.
	script ran.sh "echo \"\$JOBIFY_ROUTE \$JOBIFY_SCHEDULED_AT\" >>'$(T ran)'"
	for i in $(seq -w 1 20); do
		# overlap = parallel: a run still being recorded when the next
		# second fires must not make that fire a skip (this is about fires).
		printf 'task "r%s" {\n  cron = "* * * * * *"\n  overlap = "parallel"\n  exec = "%s"\n}\n' \
			"$i" "$(T ran.sh)" \
			>>"$(T tasks.conf)"
	done
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	# Every second from the first whole second all three run to 29 s later.
	t0=$(($(date +%s) + 1))
	t1=$((t0 + 29))
	has_all() {
		J jobs --all --json | python3 -c '
import json, sys
t1 = int(sys.argv[1])
done = {j["route"] for j in json.load(sys.stdin)
        if j["status"] == "success" and j["scheduled_at"] and
        int(__import__("datetime").datetime.fromisoformat(j["scheduled_at"]).timestamp()) == t1}
sys.exit(0 if len(done) == 20 else 1)' "$t1"
	}
	until_true 60 has_all
	J history --json -n 100000 >"$(T hist.json)"
	J jobs --all --json >"$(T jobs.json)"
	run python3 - "$(T hist.json)" "$(T jobs.json)" "$t0" "$t1" "$(T ran)" <<'EOF'
import collections, datetime, json, sys
hist = json.load(open(sys.argv[1]))
jobs = {j["id"]: j for j in json.load(open(sys.argv[2]))}
t0, t1 = int(sys.argv[3]), int(sys.argv[4])
ran = collections.Counter()
for line in open(sys.argv[5]):
    route, when = line.split()
    ran[(route, int(datetime.datetime.fromisoformat(when).timestamp()))] += 1
runs = collections.Counter()
nodes = collections.Counter()
for h in hist:
    j = jobs[h["job_id"]]
    at = int(datetime.datetime.fromisoformat(j["scheduled_at"]).timestamp())
    if t0 <= at <= t1:
        runs[(h["route"], at)] += 1
        nodes[h["node"]] += 1
fires = collections.Counter()
for j in jobs.values():
    if j["trigger"] == "cron" and j["scheduled_at"]:
        at = int(datetime.datetime.fromisoformat(j["scheduled_at"]).timestamp())
        if t0 <= at <= t1:
            fires[(j["route"], at)] += 1
bad = []
for r in ["r%02d" % i for i in range(1, 21)]:
    for at in range(t0, t1 + 1):
        k = (r, at)
        if runs[k] != 1 or fires[k] != 1 or ran[k] != 1:
            bad.append("%s@%d: %d fires, %d rows of history, ran %d times" %
                       (r, at, fires[k], runs[k], ran[k]))
print("nodes:", dict(nodes))
print("\n".join(bad[:20]))
sys.exit(1 if bad else 0)
EOF
	echo "$output"
	assert_success
}

@test "1,000 one-off jobs scheduled from all three nodes: each ran once" {
	local i n pids=()
	# A lease the load of 1,000 starts cannot outlast: a node that missed
	# its heartbeat would fence and its jobs run again elsewhere, rightly
	# (at least once), but this test counts exactly once.
	LEASE=15s
	printf 'task "one" {\n  exec = "true"\n}\n' >"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	# 340, 330 and 330 from the nodes' configs, at once, in 10 batches each.
	for i in 1 2 3; do
		for n in $(seq 1 10); do
			printf 'one\n%.0s' $(seq 1 $((i == 1 ? 34 : 33))) |
				"$JOBIFY" -c "$(T "n$i.conf")" schedule --stdin >"$(T "ids.$i.$n")" &
			pids+=($!)
		done
	done
	for n in "${pids[@]}"; do wait "$n"; done
	cat "$(T ids.)"* >"$(T ids)"
	run sort -u "$(T ids)"
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 1000
	ended() {
		[ "$(J jobs --all --status success | wc -l)" -eq 1000 ]
	}
	until_true 120 ended
	J history --json -n 100000 >"$(T hist.json)"
	run python3 - "$(T hist.json)" "$(T ids)" <<'EOF'
import collections, json, sys
hist = json.load(open(sys.argv[1]))
ids = set(open(sys.argv[2]).read().split())
runs = collections.Counter(h["job_id"] for h in hist)
nodes = collections.Counter(h["node"] for h in hist)
bad = [i for i in ids if runs[i] != 1] + [i for i in runs if i not in ids]
print("nodes:", dict(nodes))
print(bad[:20])
sys.exit(1 if bad or len(ids) != 1000 else 0)
EOF
	echo "$output"
	assert_success
}

# long_task: a task whose job runs long and writes its pid to pids.
long_task() {
	printf 'task "long" {\n  exec = "sh -c \\"echo \\$\\$ >>%s; exec sleep 600\\""\n  retry = 2\n}\n' \
		"$(T pids)" >"$(T tasks.conf)"
}

# runs_on ID: the node NAME (n1, n2, n3) whose log started job ID last.
runs_on() {
	grep -l "event=start route=long job=$1 .*attempt=${2:-1}" "$(T n1.log)" "$(T n2.log)" \
		"$(T n3.log)" 2>/dev/null | head -n 1 | sed 's#.*/\(n[0-9]\)\.log#\1#'
}

@test "kill -9 the node running a long job: another node retries it within lease + grace, attempt 2" {
	local i id victim pid t0
	long_task
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	id=$(J schedule long)
	started() { [ -n "$(runs_on "$id")" ]; }
	until_true 20 started
	victim=$(runs_on "$id")
	until_true 10 test -s "$(T pids)"
	pid=$(head -n 1 "$(T pids)")
	t0=$SECONDS
	kill -KILL "$(grep -o 'event=ready pid=[0-9]*' "$(T "$victim.log")" | sed 's/.*=//')"
	# The lease (3 s), a heartbeat of the reaper (1 s), a poll (1 s), and
	# a generous margin for a loaded machine.
	attempt2() { [ "$(job_field "$id" attempts)" = 2 ] && [ "$(job_field "$id" status)" = running ]; }
	until_true 15 attempt2
	echo "retried after $((SECONDS - t0)) s"
	run job_field "$id" node
	refute_output --partial "$(node_name "$victim")"
	run runs_on "$id" 2
	refute_output "$victim"
	refute_output ""
	# Jobs die with their supervisor (lib/guard.c): no orphan ran on
	# while the job was retried.
	gone() { ! kill -0 "$pid"; }
	until_true 5 gone
}

@test "SIGSTOP a node past its lease, SIGCONT: it fences, kills its job, its late end changes nothing" {
	local i id victim vpid pid
	long_task
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	id=$(J schedule long)
	started() { [ -n "$(runs_on "$id")" ]; }
	until_true 20 started
	victim=$(runs_on "$id")
	until_true 10 test -s "$(T pids)"
	pid=$(head -n 1 "$(T pids)")
	vpid=$(grep -o 'event=ready pid=[0-9]*' "$(T "$victim.log")" | sed 's/.*=//')
	kill -STOP "$vpid"
	attempt2() { [ "$(job_field "$id" attempts)" = 2 ] && [ "$(job_field "$id" status)" = running ]; }
	until_true 15 attempt2
	kill -0 "$pid"		# the stopped node's job still runs
	kill -CONT "$vpid"
	wait_for "event=fenced .*killed=1" 10 "$(T "$victim.log")"
	gone() { ! kill -0 "$pid"; }
	until_true 5 gone
	wait_for "event=exit route=long job=$id .*attempt=1" 5 "$(T "$victim.log")"
	# Its end wrote nothing: attempt 2 runs on, attempt 1 is the lost
	# row the reaper wrote (no exit code), and no other.
	wait_for "event=unfenced" 10 "$(T "$victim.log")"
	run job_field "$id" attempts
	assert_output 2
	run job_field "$id" status
	assert_output running
	J history --json >"$(T hist.json)"
	run python3 - "$(T hist.json)" "$id" <<'EOF'
import json, sys
rows = [h for h in json.load(open(sys.argv[1])) if h["job_id"] == sys.argv[2]]
print(rows)
ok = len(rows) == 1 and rows[0]["attempt"] == 1 and rows[0]["exit_code"] is None \
    and rows[0]["signal"] is None and rows[0]["finished_at"] is None
sys.exit(0 if ok else 1)
EOF
	echo "$output"
	assert_success
}

@test "a node whose config differs fires nothing, claims nothing, and says so" {
	local i n
	printf 'task "tick" {\n  cron = "* * * * * *"\n  exec = "true"\n}\ntask "one" {\n  exec = "true"\n}\n' \
		>"$(T tasks.conf)"
	cluster_conf n1
	cluster_conf n2
	cluster_conf n3 'task "extra" {
  exec = "true"
}'
	node_start n1
	node_start n2
	node_start n3
	wait_for "event=config-differs" 5 "$(T n3.log)"
	run "$JOBIFY" -c "$(T n3.conf)" status
	assert_output --partial "config-differs"
	run J status
	refute_output --partial "config-differs"
	for n in $(seq 1 30); do echo one; done | J schedule --stdin >"$(T ids)"
	ended() { [ "$(J jobs --all --status success --route one | wc -l)" -eq 30 ]; }
	until_true 30 ended
	# Some ticks came meanwhile; none of them (nor any job) on n3.
	wait_count "event=start route=tick " 3 20 "$(T n1.log)" ||
		wait_count "event=start route=tick " 3 20 "$(T n2.log)"
	run grep -c "event=start" "$(T n3.log)"
	assert_output 0
	run J history --json -n 1000
	refute_output --partial "\"node\":\"$(node_name n3)\""
}

# PSQL SQL: a query on the test's database, unaligned, no headers.
PSQL() { psql -X -q -At -d "$URI" -c "$1"; }

@test "overlap = skip on 3 nodes: a fire while a run of its task runs anywhere is skipped, never two runs at once" {
	local i
	# Each run writes its start and end (ns) on one line, at its end.
	script slow.sh "s=\$(date +%s%N); sleep 1.5; echo \"\$s \$(date +%s%N) \$JOBIFY_SCHEDULED_AT\" >>'$(T ran)'"
	printf 'task "slow" {\n  cron = "* * * * * *"\n  exec = "%s"\n  overlap = "skip"\n}\n' \
		"$(T slow.sh)" >"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	four() { [ "$(wc -l <"$(T ran)")" -ge 4 ]; }
	until_true 30 four
	run python3 - "$(T ran)" <<'EOF'
import sys
runs = sorted(tuple(int(x) for x in l.split()[:2]) for l in open(sys.argv[1]))
bad = [(a, b) for a, b in zip(runs, runs[1:]) if b[0] < a[1]]
print("runs:", len(runs), "overlapping:", bad)
sys.exit(1 if bad else 0)
EOF
	echo "$output"
	assert_success
	# The fires that came meanwhile were skipped, as on one machine.
	run grep -h 'event=skip route=slow reason=overlap' "$(T n1.log)" "$(T n2.log)" "$(T n3.log)"
	assert_success
}

@test "jitter on 3 nodes: each fire runs once, its job due at its instant plus a delay drawn once" {
	local i
	script tick.sh "echo \"\$JOBIFY_SCHEDULED_AT\" >>'$(T ran)'"
	printf 'task "j" {\n  cron = "* * * * * *"\n  exec = "%s"\n  jitter = 900ms\n}\n' \
		"$(T tick.sh)" >"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	eight() { [ "$(wc -l <"$(T ran)")" -ge 8 ]; }
	until_true 30 eight
	# Each fire's job: due (run_at) its jitter after its instant
	# (scheduled_at), in [0, 900 ms), and not the same for every fire.
	run PSQL "SELECT run_at - scheduled_at FROM jobs WHERE route = 'j' AND NOT config AND status <> 'scheduled'"
	echo "$output"
	run python3 -c '
import sys
d = [int(x) for x in sys.argv[1].split()]
print("delays (ms):", d)
sys.exit(0 if len(d) >= 8 and all(0 <= x < 900 for x in d) and max(d) - min(d) >= 50 else 1)' "$output"
	echo "$output"
	assert_success
	# Each once.
	run sh -c "sort '$(T ran)' | uniq -d"
	assert_output ""
	J history --json >"$(T hist.json)"
	run python3 - "$(T hist.json)" <<'EOF'
import collections, json, sys
runs = collections.Counter(h["job_id"] for h in json.load(open(sys.argv[1])) if h["route"] == "j")
sys.exit(1 if not runs or max(runs.values()) != 1 else 0)
EOF
	assert_success
}

@test "max-failures on 3 nodes: a failing task stops after N failed runs, counted cluster-wide" {
	local i
	script fail.sh "echo x >>'$(T ran)'; exit 3"
	script tick.sh "echo x >>'$(T ticks)'"
	printf 'task "bad" {\n  cron = "* * * * * *"\n  exec = "%s"\n  max-failures = 3\n}\n' \
		"$(T fail.sh)" >"$(T tasks.conf)"
	printf 'task "tick" {\n  cron = "* * * * * *"\n  exec = "%s"\n}\n' "$(T tick.sh)" \
		>>"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	through() { [ "$(job_field bad status)" = permanently-failed ]; }
	until_true 20 through
	# Three more ticks: fires of "bad" would have come meanwhile.
	: >"$(T ticks)"
	three() { [ "$(wc -l <"$(T ticks)")" -ge 3 ]; }
	until_true 20 three
	run wc -l <"$(T ran)"
	assert_output 3
	run PSQL "SELECT runs, failures FROM jobs WHERE id = 'bad'"
	assert_output '3|3'
	run PSQL "SELECT count(*) FROM runs WHERE route = 'bad' AND status = 'failed'"
	assert_output 3
}

@test "outer middleware on a shared store: a refusal skips the fires on every node; a pass's env is in every fire, on every node" {
	local i
	script gate "[ -e '$(T allow)' ] || { echo 'no quota' >&2; exit 3; }
echo TOKEN=granted"
	script rec.sh "echo \"TOKEN=\${TOKEN:-} \$JOBIFY_SCHEDULED_AT\" >>'$(T ran)'"
	printf 'outer-middleware = { "%s" }\ntask "g" {\n  cron = "* * * * * *"\n  exec = "%s"\n}\n' \
		"$(T gate)" "$(T rec.sh)" >"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	# Refused on every node: each fire skipped, whichever node fires it.
	for i in 1 2 3; do wait_for "event=gate-answer route=g result=refused" 10 "$(T "n$i.log")"; done
	refused() { [ "$(cat "$(T n1.log)" "$(T n2.log)" "$(T n3.log)" | grep -c 'event=gate-refused route=g')" -ge 3 ]; }
	until_true 15 refused
	[ ! -e "$(T ran)" ]
	# A reload of one node asks again; its pass is the cluster's.
	touch "$(T allow)"
	kill -HUP "${NODES[0]}"
	wait_for "event=gate-answer route=g result=passed" 10 "$(T n1.log)"
	three() { [ "$(wc -l <"$(T ran)" 2>/dev/null || echo 0)" -ge 3 ]; }
	until_true 25 three
	run grep -vc '^TOKEN=granted ' "$(T ran)"
	assert_output 0
	# From the first run on, the row holds the pass for every node: no
	# node skips a fire with its own older refusal.
	run python3 - "$(T n1.log)" "$(T n2.log)" "$(T n3.log)" <<'EOF'
import sys
lines = [l for f in sys.argv[1:] for l in open(f)]
first = min(l.split()[0] for l in lines if "event=start route=g " in l)
late = [l for l in lines if "event=gate-refused route=g" in l and l.split()[0] > first]
print("".join(late))
sys.exit(1 if late else 0)
EOF
	assert_success
	run PSQL "SELECT count(*) FROM jobs WHERE route = 'g' AND NOT config AND status = 'success' AND env NOT LIKE '%TOKEN=granted%'"
	assert_output 0
	J history --json >"$(T hist.json)"
	python3 -c 'import collections, json, sys; print("nodes:", dict(collections.Counter(h["node"] for h in json.load(open(sys.argv[1])))))' "$(T hist.json)"
}
