#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# A shared PostgreSQL store that fails under three supervisors (SPEC §8):
# a server frozen (SIGSTOP) longer than the lease, which must neither
# hang a supervisor nor let it run on past its lease; and a server
# restarted mid-run, which must cost no job and no healthy node.  Each
# node has its own state directory; the server is a throwaway one
# (tests/pg-server.sh).  Skipped as a whole, with the reason, when the
# server's binaries or psql are not installed, or jobify was built
# without libpq.

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

J() { "$JOBIFY" -c "$(T n1.conf)" "$@"; }

# status_during SECONDS NAME...: for SECONDS, ask each node NAME for its
# status on its control socket, again and again; each must answer within
# 2 s.  Prints the longest wait of each.
status_during() {
	local secs=$1
	shift
	python3 - "$secs" "$BATS_TEST_TMPDIR" "$@" <<'EOF'
import socket, sys, time
secs, tmp, names = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
worst = dict.fromkeys(names, 0.0)
bad = []
end = time.monotonic() + secs
while time.monotonic() < end:
    for n in names:
        t0 = time.monotonic()
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2.0)
        try:
            s.connect("%s/%s.state/jobify.sock" % (tmp, n))
            s.sendall(b"jobify/1 status\n")
            buf = b""
            while not any(l.startswith(b"ok") for l in buf.split(b"\n")):
                if time.monotonic() - t0 > 2.0:
                    raise TimeoutError("no answer within 2 s")
                d = s.recv(65536)
                if not d:
                    raise EOFError("closed without an answer")
                buf += d
        except Exception as e:
            bad.append("%s: %s after %.1f s" % (n, e, time.monotonic() - t0))
        finally:
            s.close()
        worst[n] = max(worst[n], time.monotonic() - t0)
    time.sleep(0.1)
print("longest:", " ".join("%s=%.3fs" % (n, w) for n, w in worst.items()))
print("\n".join(bad[:10]))
sys.exit(1 if bad else 0)
EOF
}

@test "the database frozen 6 s: each node answers within 2 s and fences; then no job lost, no fire run twice" {
	local i rc=0 fenced=0 out
	script tick.sh "echo \"\$JOBIFY_SCHEDULED_AT\" >>'$(T ticks)'"
	script one.sh "echo \"\$JOBIFY_JOB_ID\" >>'$(T ones)'"
	printf 'task "tick" {\n  cron = "* * * * * *"\n  exec = "%s"\n}\ntask "one" {\n  exec = "%s"\n}\n' \
		"$(T tick.sh)" "$(T one.sh)" >"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	until_true 20 test -s "$(T ticks)"
	# Due while the server is frozen: none can be claimed before.
	for i in $(seq 1 30); do echo "one --in 2s"; done | J schedule --stdin >"$(T ids)"
	"$PGSERVER" signal "$PGDIR/db" STOP
	out=$(status_during 6 n1 n2 n3) || rc=$?
	# Its lease (3 s) ended meanwhile: each fenced, before the thaw.
	for i in 1 2 3; do
		grep -q "event=fenced" "$(T "n$i.log")" && fenced=$((fenced + 1))
	done
	"$PGSERVER" signal "$PGDIR/db" CONT
	echo "$out"
	[ "$rc" -eq 0 ]
	[ "$fenced" -eq 3 ]
	for i in 1 2 3; do wait_for "event=unfenced" 20 "$(T "n$i.log")"; done
	ended() { [ "$(J jobs --all --status success --route one | wc -l)" -eq 30 ]; }
	until_true 40 ended
	# Ticks again, for instants after the thaw.
	after=$(($(date +%s) + 2))
	ticked() { [ "$(tail -n 1 "$(T ticks)" | python3 -c 'import datetime, sys; print(int(datetime.datetime.fromisoformat(sys.stdin.read().strip()).timestamp()))')" -ge "$after" ]; }
	until_true 20 ticked
	run python3 - "$(T ids)" "$(T ones)" "$(T ticks)" <<'EOF'
import collections, sys
ids = open(sys.argv[1]).read().split()
ones = collections.Counter(open(sys.argv[2]).read().split())
ticks = collections.Counter(l.strip() for l in open(sys.argv[3]))
bad = ["job %s ran %d times" % (i, ones[i]) for i in ids if ones[i] != 1]
bad += ["unknown job %s ran" % i for i in ones if i not in ids]
bad += ["tick %s ran %d times" % (t, n) for t, n in ticks.items() if n > 1]
print("%d one-off jobs, %d ticks" % (len(ids), len(ticks)))
print("\n".join(bad[:20]))
sys.exit(1 if bad or len(ids) != 30 else 0)
EOF
	echo "$output"
	assert_success
}

@test "the database down 3 s: its failures logged once, not at every try; store-recovered once it is back" {
	local n
	# A lease longer than the outage: no fence, only the store's failures.
	LEASE=20s
	script tick.sh "echo \"\$JOBIFY_SCHEDULED_AT\" >>'$(T ticks)'"
	printf 'task "tick" {\n  cron = "* * * * * *"\n  overlap = parallel\n  exec = "%s"\n}\n' \
		"$(T tick.sh)" >"$(T tasks.conf)"
	cluster_conf n1
	node_start n1
	until_true 20 test -s "$(T ticks)"
	"$PGSERVER" restart "$PGDIR/db" 3
	# The store works again: a tick of an instant after the restart ran.
	after=$(($(date +%s) + 1))
	ticked() { [ "$(tail -n 1 "$(T ticks)" | python3 -c 'import datetime, sys; print(int(datetime.datetime.fromisoformat(sys.stdin.read().strip()).timestamp()))')" -ge "$after" ]; }
	until_true 20 ticked
	grep -E "level=error|event=store-recovered" "$(T n1.log)" | cut -c 1-200
	# Tried again every 100 ms or so, for seconds: logged once (a second
	# time at most, for an error the server's restart gave on its way).
	n=$(grep -c "level=error event=store " "$(T n1.log)")
	[ "$n" -ge 1 ]
	[ "$n" -le 2 ]
	n=$(grep -c "level=error event=store-unwritten " "$(T n1.log)" || true)
	[ "$n" -le 2 ]
	wait_for "event=store-recovered" 10 "$(T n1.log)"
	n=$(grep -c "level=info event=store-recovered repeated=[1-9][0-9]* duration=" "$(T n1.log)")
	[ "$n" -eq 1 ]
}

@test "the database restarted mid-run: no job lost, one catch-up at most per route, no node reaped" {
	local i d0 d1
	# A lease longer than the outage: no node has to fence.
	LEASE=20s
	script tick.sh "echo \"\$JOBIFY_ROUTE \$JOBIFY_SCHEDULED_AT\" >>'$(T ticks)'"
	script slow.sh "sleep 2; echo \"\$JOBIFY_JOB_ID\" >>'$(T ones)'"
	: >"$(T tasks.conf)"
	for i in 1 2 3; do
		# overlap = parallel: a tick whose end is not yet written (the
		# database down, or a loaded machine) does not skip the next
		# one; every fire must run, and its history say success.
		printf 'task "r%s" {\n  cron = "* * * * * *"\n  misfire = once\n  overlap = parallel\n  exec = "%s"\n}\n' \
			"$i" "$(T tick.sh)" >>"$(T tasks.conf)"
	done
	printf 'task "slow" {\n  exec = "%s"\n}\n' "$(T slow.sh)" >>"$(T tasks.conf)"
	for i in 1 2 3; do cluster_conf "n$i"; done
	for i in 1 2 3; do node_start "n$i"; done
	until_true 20 test -s "$(T ticks)"
	for i in $(seq 1 9); do echo slow; done | J schedule --stdin >"$(T ids)"
	running() { [ "$(J jobs --status running --route slow | wc -l)" -ge 3 ]; }
	until_true 20 running
	# Down for 13 s: past the slack of 10 s a late fire is a misfire,
	# and misfire = once runs the latest of those seconds only.
	d0=$(date +%s.%N)
	"$PGSERVER" restart "$PGDIR/db" 13
	# Down until the new server started.
	d1=$(psql -At -d "$PGURI" -c "SELECT extract(epoch FROM pg_postmaster_start_time())")
	ended() { [ "$(J jobs --all --status success --route slow | wc -l)" -eq 9 ]; }
	until_true 40 ended
	after=$(($(date +%s) + 2))
	ticked() { [ "$(tail -n 1 "$(T ticks)" | python3 -c 'import datetime, sys; print(int(datetime.datetime.fromisoformat(sys.stdin.read().split()[1]).timestamp()))')" -ge "$after" ]; }
	until_true 20 ticked
	# No node lost a lease, none was reaped, none fenced.
	for i in 1 2 3; do
		run grep -E "event=(lost|fenced|released)" "$(T "n$i.log")"
		assert_output ""
	done
	J history --json -n 100000 >"$(T hist.json)"
	run python3 - "$(T ids)" "$(T ones)" "$(T ticks)" "$(T hist.json)" "$d0" "$d1" <<'EOF'
import collections, datetime, json, sys
ids = open(sys.argv[1]).read().split()
ones = collections.Counter(open(sys.argv[2]).read().split())
d0, d1 = float(sys.argv[5]), float(sys.argv[6])
fires = collections.Counter()
for line in open(sys.argv[3]):
    route, when = line.split()
    fires[(route, int(datetime.datetime.fromisoformat(when).timestamp()))] += 1
bad = ["job %s ran %d times" % (i, ones[i]) for i in ids if ones[i] != 1]
bad += ["%s@%d ran %d times" % (r, t, n) for (r, t), n in fires.items() if n > 1]
# Instants that came due only while the server was down: misfire = once
# runs one of them, at most, per route.
for r in ("r1", "r2", "r3"):
    down = sorted(t for (rr, t) in fires if rr == r and d0 + 1 < t < d1)
    if len(down) > 1:
        bad.append("%s: %d catch-ups: %s" % (r, len(down), down))
hist = json.load(open(sys.argv[4]))
bad += ["history: %s attempt %s %s" % (h["job_id"], h["attempt"], h["status"])
        for h in hist if h["status"] != "success" or h["attempt"] != 1]
print("down %.1f s; %d fires" % (d1 - d0, len(fires)))
print("\n".join(bad[:20]))
sys.exit(1 if bad or len(ids) != 9 else 0)
EOF
	echo "$output"
	assert_success
}
