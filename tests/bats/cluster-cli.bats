#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The commands against a shared PostgreSQL store (SPEC §8), from a
# machine whose state directory has no supervisor of its own, or from
# another node than the one that runs the job: wait hears a job's end
# through the store, cancel --kill reaches the node that runs it, logs -f
# says which node, status names the server.  Skipped as a whole, with the
# reason, when the server's binaries (initdb, pg_ctl) or psql are not
# installed, or jobify was built without libpq.

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
	pg_test_start c
	# three: a second, then exit 3; long: its pid (its process group)
	# into pids, then ten minutes.
	script three.sh 'sleep 1; exit 3'
	script long.sh "echo \$\$ >>'$(T pids)'; echo started; exec sleep 600"
	printf 'task "three" {\n  exec = "%s"\n}\ntask "long" {\n  exec = "%s"\n  retry = 2\n}\n' \
		"$(T three.sh)" "$(T long.sh)" >"$(T tasks.conf)"
}

teardown() {
	pg_test_stop
}

# node_conf NAME [POLL]: the config of NAME ($BATS_TEST_TMPDIR/NAME.conf),
# its own state directory, the test's database; POLL its poll-interval
# (default 30s: what is heard promptly is heard through NOTIFY).
node_conf() {
	{
		printf 'store = "%s"\nheartbeat = 1s\nlease = 3s\npoll-interval = %s\n' "$URI" \
			"${2:-30s}"
		printf 'state-dir = "%s"\nshutdown-grace = 1s\n' "$(T "$1.state")"
		cat "$(T tasks.conf)"
	} >"$(T "$1.conf")"
}

# At NAME's config: jobify ARGS...
at() {
	local name=$1
	shift
	"$JOBIFY" -c "$(T "$name.conf")" "$@"
}

# job_field NODE ID FIELD: FIELD of `status ID --json` at NODE.
job_field() {
	at "$1" status "$2" --json |
		python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$3"
}

# ms: the monotonic-enough wall clock in ms.
ms() { date +%s%3N; }

@test "wait on a job another node runs: its exit status, heard through the store, with no supervisor here" {
	local id t0 t1
	node_conf a
	node_conf b
	node_start b
	# Scheduled from a machine with no supervisor: no local one to wake,
	# no wait for one; b hears it through NOTIFY (its poll is 30 s).
	t0=$(ms)
	id=$(at a schedule three)
	t1=$(ms)
	echo "schedule: $((t1 - t0)) ms"
	[ $((t1 - t0)) -lt 2000 ]
	run --separate-stderr at a wait "$id"
	t1=$(ms)
	echo "schedule to wait's end: $((t1 - t0)) ms; stderr: $stderr"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
	# The job sleeps 1 s: the end heard through NOTIFY, not a 30 s poll.
	[ $((t1 - t0)) -lt 6000 ]
	grep -q "event=start route=three job=$id" "$(T b.log)"
	# Ended: at once, the same status; several ids: the last one's.
	run at a wait "$id"
	[ "$status" -eq 3 ]
	run at a wait --timeout 5s "$id" "$(at a schedule --id ok0 three)"
	[ "$status" -eq 3 ]
	# An unknown job, as on SQLite.
	run --separate-stderr at a wait nosuchjob
	[ "$status" -eq 66 ]
	[ "$stderr" = "jobify: wait: no job 'nosuchjob'" ]
}

@test "wait --timeout on a shared store: 75 after the timeout, while the job runs on" {
	local id t0 t1
	node_conf a
	node_conf b
	node_start b
	id=$(at a schedule long)
	running() { [ "$(job_field a "$id" status)" = running ]; }
	until_true 10 running
	t0=$(ms)
	run --separate-stderr at a wait --timeout 1s "$id"
	t1=$(ms)
	echo "wait --timeout 1s: $((t1 - t0)) ms"
	[ "$status" -eq 75 ]
	[ "$stderr" = "jobify: wait: not all ended within the --timeout" ]
	[ $((t1 - t0)) -ge 1000 ]
	[ $((t1 - t0)) -lt 4000 ]
	run job_field a "$id" status
	[ "$output" = running ]
}

@test "cancel --kill from one node of a job another node runs: it ends cancelled, its process group gone" {
	local id runner other pgid t0
	node_conf a
	node_conf b
	node_start a
	node_start b
	id=$(at a schedule long)
	started() { grep -q "event=start route=long job=$id" "$(T a.log)" "$(T b.log)"; }
	until_true 10 started
	until_true 10 test -s "$(T pids)"
	pgid=$(head -n 1 "$(T pids)")
	until_group_size "$pgid" 1
	if grep -q "event=start route=long job=$id" "$(T a.log)"; then
		runner=a other=b
	else
		runner=b other=a
	fi
	echo "runs on $runner; cancelled from $other"
	t0=$(ms)
	run --separate-stderr at "$other" cancel --kill "$id"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	# The runner stops it (poll-interval 30 s: it heard the request).
	until_groups_gone 5 "$pgid"
	echo "group gone after $(($(ms) - t0)) ms"
	run at "$other" wait --timeout 5s "$id"
	[ "$status" -ne 75 ]
	run job_field "$other" "$id" status
	[ "$output" = cancelled ]
	# Not retried (retry = 2): a cancelled job is over.
	run job_field "$other" "$id" attempts
	[ "$output" = 1 ]
	grep -q "event=cancel route=long job=$id" "$(T "$runner.log")"
	# Nothing left to kill: as on SQLite.
	run --separate-stderr at "$other" cancel --kill "$id"
	[ "$status" -eq 65 ]
	[ "$stderr" = "jobify: cancel: job '$id' is cancelled; nothing to cancel" ]
}

@test "cancel --kill's request does not outlive the run it was for" {
	local id
	node_conf a
	node_conf b
	node_start b
	id=$(at a schedule --id again long)
	until_true 10 test -s "$(T pids)"
	run at a cancel --kill "$id"
	[ "$status" -eq 0 ]
	cancelled() { [ "$(job_field a "$id" status)" = cancelled ]; }
	until_true 10 cancelled
	# The same id again: this run is not stopped by the old request.
	: >"$(T pids)"
	run at a schedule --id again --replace long
	[ "$status" -eq 0 ]
	until_true 10 test -s "$(T pids)"
	run psql -qtA -d "$URI" -c "SELECT status, kill_requested FROM jobs WHERE id = 'again'"
	[ "$output" = "running|f" ]
	run at a wait --timeout 1.5s "$id"
	[ "$status" -eq 75 ]
}

@test "cancel --kill of a job whose node dies before it stops it: the reaper ends it cancelled, not retried" {
	local id pid pgid
	node_conf a
	node_conf b
	node_start a
	pid=$NODE_PID
	id=$(at a schedule long)
	until_true 10 test -s "$(T pids)"
	pgid=$(head -n 1 "$(T pids)")
	# a cannot hear the request, then dies with it unheard; its guard
	# kills the job's group.
	kill -STOP "$pid"
	run at b cancel --kill "$id"
	[ "$status" -eq 0 ]
	run psql -qtA -d "$URI" -c "SELECT kill_requested FROM jobs WHERE id = '$id'"
	[ "$output" = t ]
	kill -KILL "$pid"
	until_groups_gone 10 "$pgid"
	# b reaps a's jobs once a's lease (3 s) is over and b has been
	# connected for a lease: cancelled, as the cancel said (retry = 2).
	node_start b
	ended() { [ "$(job_field b "$id" status)" = cancelled ]; }
	until_true 20 ended
	run job_field b "$id" attempts
	[ "$output" = 1 ]
	grep -q "event=lost job=$id route=long attempt=1 retry=no reason=cancelled" "$(T b.log)"
	run grep -c "event=start route=long job=$id" "$(T b.log)"
	[ "$output" = 0 ]
}

@test "logs -f of a job that runs on another machine says which node" {
	local id host pgid rc ns
	if unshare -u true 2>/dev/null; then
		ns=(unshare -u)
	elif unshare -r -u true 2>/dev/null; then
		ns=(unshare -r -u)
	else
		skip "no UTS namespace here (unshare -u) to be another machine in"
	fi
	node_conf a
	node_conf b
	node_start b
	host=$(hostname)
	id=$(at a schedule long)
	until_true 10 test -s "$(T pids)"
	pgid=$(head -n 1 "$(T pids)")
	# Another machine: another hostname, no supervisor of its own.
	run --separate-stderr timeout 10 "${ns[@]}" sh -c 'hostname elsewhere && exec "$@"' sh \
		"$JOBIFY" -c "$(T a.conf)" logs -f "$id"
	echo "stderr: $stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == "jobify: logs: job '$id' runs on node $host ($host:"* ]]
	[[ "$stderr" == *"run jobify logs there" ]]
	# On the node's machine it is followed, though no supervisor runs
	# for a's state directory.
	timeout 20 "$JOBIFY" -c "$(T a.conf)" logs -f "$id" >"$(T followed)" 2>&1 3>&- &
	local follower=$!
	wait_for started 10 "$(T followed)"
	run at a cancel --kill "$id"
	[ "$status" -eq 0 ]
	rc=0
	wait "$follower" || rc=$?
	cat "$(T followed)"
	[ "$rc" -eq 0 ]
	until_groups_gone 5 "$pgid"
}

@test "status names the PostgreSQL store, without its password" {
	node_conf a
	# Trusted by the test server: the password is only to be hidden.
	sed -i "s|^store = \"\\(.*\\)\"|store = \"\\1\\&password=sekrit\"|" "$(T a.conf)"
	grep -q 'password=sekrit' "$(T a.conf)"
	at a schedule --in 1h three >/dev/null
	run --separate-stderr at a status
	echo "$output"
	# 69: no supervisor runs here; the store's report all the same.
	[ "$status" -eq 69 ]
	[[ "$output" == *"store:       postgresql://jobify@"*"/$DB (1 scheduled, 0 due, 0 running)"* ]]
	[[ "$output" != *sekrit* ]]
	[[ "$output" != *jobify.db* ]]
	run at a status --json
	[[ "$output" == *"\"store\":\"postgresql://jobify@"*"/$DB\""* ]]
	[[ "$output" != *sekrit* ]]
}

@test "status with no supervisor here, on a shared store: the jobs other nodes run, and which node runs each" {
	local id node
	node_conf a
	node_conf b
	node_start b
	id=$(at a schedule long)
	# Its pid written: claimed, so running in the store, by b.
	until_true 10 test -s "$(T pids)"
	node=$(job_field a "$id" node)
	[ -n "$node" ]
	run --separate-stderr at a status
	echo "$output"
	# 0: none runs for a's state directory, on this host, but b holds a
	# live lease: the cluster runs the schedule.
	[ "$status" -eq 0 ]
	[[ "$output" == *"supervisor:  not running on this host (the store is shared: other nodes run the schedule)"* ]]
	[[ "$output" == *"RUNNING"*"ROUTE"*"NODE"*"STARTED"* ]]
	echo "$output" | grep -q "^$id  *long  *$node "
	# Nothing here records them lost: the nodes' leases say who runs.
	[[ "$output" != *"records them lost"* ]]
	run at a status --json
	echo "$output" | python3 -c '
import json, sys
runs = json.load(sys.stdin)["running"]
assert [(r["id"], r["node"]) for r in runs] == [(sys.argv[1], sys.argv[2])], runs
' "$id" "$node"
}

# node_name NAME: the node name the supervisor of NAME runs under (its
# log's cluster event).
node_name() {
	sed -n 's/.*event=cluster node=\([^ ]*\).*/\1/p' "$(T "$1.log")" | tail -n 1
}

# start_b_c: nodes b and c started; their pids in pb and pc, their node
# names in nb and nc (the caller's locals).
start_b_c() {
	node_start b
	pb=$NODE_PID
	node_start c
	pc=$NODE_PID
	nb=$(node_name b)
	nc=$(node_name c)
	[ -n "$nb" ]
	[ -n "$nc" ]
}

@test "status with no supervisor here, on a shared store: the cluster's nodes; 0 while one holds a lease, 69 once none does" {
	local nb nc pb pc t0 rc
	node_conf a
	node_conf b
	node_conf c
	# c runs another config: not the cluster's (b's, the oldest).
	printf 'task "extra" {\n  exec = "true"\n}\n' >>"$(T c.conf)"
	start_b_c
	run --separate-stderr at a status
	echo "$output"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"NODE"*"HEARTBEAT"*"LEASE LEFT"*"RUNNING"*"CONFIG"* ]]
	echo "$output" | grep -q "^$nb  .* ago  .*  0  *same$"
	echo "$output" | grep -q "^$nc  .* ago  .*  0  *config differs$"
	run at a status --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
nodes = json.load(sys.stdin)["nodes"]
got = [(n["name"], n["live"], n["same_config"], n["running"]) for n in nodes]
assert got == [(sys.argv[1], True, True, 0), (sys.argv[2], True, False, 0)], got
for n in nodes:
    assert 0 <= n["heartbeat_age_ms"] < 3000, n
    assert 0 < n["lease_left_ms"] <= 3000, n
' "$nb" "$nc"
	# Both stopped cleanly: their leases ended (lease-released), their rows stay.
	kill -TERM "$pb" "$pc"
	rc=0
	wait "$pb" || rc=$?
	[ "$rc" -eq 0 ]
	wait "$pc" || rc=$?
	[ "$rc" -eq 0 ]
	t0=$(ms)
	none_live() {
		local rc=0
		at a status >/dev/null 2>&1 || rc=$?
		[ "$rc" -eq 69 ]
	}
	until_true 15 none_live
	echo "69 after $(($(ms) - t0)) ms"
	run --separate-stderr at a status
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"supervisor:  not running on this host, nor on any other (the store is shared: no node holds a lease)"* ]]
	[[ "$output" == *"NODES: none holds a lease (no supervisor runs the schedule)"* ]]
	[[ "$output" != *"$nb"* ]]
	run at a status --json
	[ "$status" -eq 69 ]
	echo "$output" | python3 -c '
import json, sys
nodes = json.load(sys.stdin)["nodes"]
assert [(n["name"], n["live"]) for n in nodes] == [(sys.argv[1], False), (sys.argv[2], False)], nodes
' "$nb" "$nc"
}

@test "a node that stops cleanly ends its lease: at once it is no longer live, long before the lease would run out" {
	local nb nc pb pc t0 rc
	node_conf a
	node_conf b
	node_conf c
	# A lease of 60 s: only its release can make a node go within the
	# deadlines below.
	sed -i 's/^lease = .*/lease = 60s/' "$(T b.conf)" "$(T c.conf)"
	start_b_c
	run at a status
	[ "$status" -eq 0 ]
	echo "$output" | grep -q "^$nc  "
	kill -TERM "$pc"
	rc=0
	wait "$pc" || rc=$?
	[ "$rc" -eq 0 ]
	t0=$(ms)
	c_gone() { ! at a status | grep -q "^$nc  "; }
	until_true 10 c_gone
	echo "c not listed after $(($(ms) - t0)) ms"
	grep -q "level=info event=lease-released node=$nc$" "$(T c.log)"
	run at a status --json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
nodes = {n["name"]: n for n in json.load(sys.stdin)["nodes"]}
assert nodes[sys.argv[1]]["live"] and not nodes[sys.argv[2]]["live"], nodes
assert nodes[sys.argv[2]]["lease_left_ms"] == 0, nodes
' "$nb" "$nc"
	# The last one too: none holds a lease, at once.
	kill -TERM "$pb"
	rc=0
	wait "$pb" || rc=$?
	[ "$rc" -eq 0 ]
	none_live() {
		local rc=0
		at a status >/dev/null 2>&1 || rc=$?
		[ "$rc" -eq 69 ]
	}
	until_true 10 none_live
}
