#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Several supervisors on one PostgreSQL store (SPEC §8), on this machine:
# a throwaway server (tests/pg-server.sh) and N `jobify run` on state
# directories of their own, all with the same config, each phase on a
# database of its own.
#
#   1. Fire skew, 3 nodes: TASKS tasks every second ("* * * * * *",
#      output = "null") for SECONDS, each running bench/firstinsn.c built
#      -static (see bench/fire-latency.sh).  Per fire, from its instant:
#      (a) to its job's row in the store: the jobs table's created_at -
#          fire_at, the database's clock read (to the ms, rounded down) by
#          the transaction that inserts the row and moves the watermark,
#          before its commit (whose fsync (b) includes);
#      (b) to its start as the runner recorded it (started_at, that
#          supervisor's clock; same machine);
#      (c) to the job's first instruction (firstinsn's CLOCK_REALTIME -
#          JOBIFY_SCHEDULED_AT).
#      Also: every (route, second) enqueued once, and how the runs spread
#      over the nodes.
#   2. Claims: CLAIMS one-off jobs of /bin/true (output = "null"), due at
#      the same whole second (`schedule --stdin`, `--at @EPOCH`, one
#      transaction), on 1 node then on 3 (max-parallel 0: no limit):
#      jobs claimed and started per second, from the instant they are due
#      to the last started_at.  A claim here includes the job's fork and
#      exec and the write of its end: on a small machine the processes,
#      not the database, set the rate.
#   3. Throughput: SLEEPS one-off jobs of `sleep 0.5`, due at once, on 1
#      node then on 3, each node with max-parallel = PAR (the app's
#      option): the same slots per node, so 3 nodes have 3 times the
#      slots and the ideal ratio is 3.  From the due instant to the last
#      finished_at: jobs/s, and the ratio 3 nodes / 1 node.
#
# The server: tests/pg-server.sh's (fsync off, synchronous_commit off,
# for tests), set back to the recommended durable settings (fsync,
# full_page_writes and synchronous_commit on: ALTER SYSTEM and a reload)
# unless FSYNC=off is in the environment.  All nodes and the server share
# this machine's CPUs: this measures the protocol, not a cluster's
# capacity.
#
# Usage: bench/cluster.sh JOBIFY [SECONDS]   (default 30; at least 10)
#   environment: TASKS (10), CLAIMS (2000), SLEEPS (240), PAR (8), FSYNC
# Needs psql and the server's binaries (Debian: postgresql-15), cc and
# static glibc (libc6-dev), and a jobify built with libpq.  Prints a table
# (ms, jobs/s); appends the same rows to $JOBIFY_BENCH_RESULTS/cluster.tsv
# (default bench/results/).  About 2 minutes with the defaults.
# shellcheck disable=SC2034,SC2154
# (usage is read by lib.sh, which sets here, tmp, prog and results.)
set -euo pipefail
usage="bench/cluster.sh JOBIFY [SECONDS]"
. "$(dirname "$0")/lib.sh"

jobify=${1:-}
secs=${2:-30}
tasks=${TASKS:-10}
claims=${CLAIMS:-2000}
sleeps=${SLEEPS:-240}
par=${PAR:-8}
need_jobify "$jobify"
case $jobify in
/*) ;;
*) jobify=$PWD/$jobify ;;
esac
need_uint SECONDS "$secs" 10
need_uint TASKS "$tasks" 1
need_uint CLAIMS "$claims" 1
need_uint SLEEPS "$sleeps" 1
need_uint PAR "$par" 1
command -v psql >/dev/null || die "no psql (Debian: postgresql-client)"
bench_init
pgdir=
node_pids=()
declare -A rate_of

cluster_cleanup() {
	local p
	for p in "${node_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -z "$pgdir" ] || "$here/../tests/pg-server.sh" stop "$pgdir" >/dev/null 2>&1 || true
	bench_cleanup
}
trap cluster_cleanup EXIT

# As root the server runs as nobody, who must get through $tmp.
chmod 755 "$tmp"
pgdir=$tmp/db
rc=0
uri=$("$here/../tests/pg-server.sh" start "$pgdir" 2>"$tmp/pg-start.log") || rc=$?
[ "$rc" -ne 77 ] || die "no PostgreSQL server binaries: $(cat "$tmp/pg-start.log")"
[ "$rc" -eq 0 ] || die "tests/pg-server.sh start failed: $(cat "$tmp/pg-start.log")"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
durability="fsync off, synchronous_commit off"
if [ "${FSYNC:-on}" != off ]; then
	sql "$uri" "ALTER SYSTEM SET fsync = on" && sql "$uri" "ALTER SYSTEM SET full_page_writes = on" &&
		sql "$uri" "ALTER SYSTEM SET synchronous_commit = on" && sql "$uri" "SELECT pg_reload_conf()" >/dev/null
	durability="fsync on, synchronous_commit on"
fi
printf 'state-dir = "%s"\n' "$tmp/probe" >"$tmp/probe.conf"
rc=0
JOBIFY_STORE=$uri "$jobify" -c "$tmp/probe.conf" jobs >/dev/null 2>"$tmp/probe.err" || rc=$?
[ "$rc" -ne 78 ] || die "this jobify was built without libpq"
[ "$rc" -eq 0 ] || die "jobify cannot use the store: $(cat "$tmp/probe.err")"

cc_helper firstinsn -static -o "$tmp/firstinsn-static"

# new_db NAME: a fresh database NAME on the server; its URI in $db.
new_db() {
	sql "$uri" "CREATE DATABASE $1"
	db=${uri/\/jobify\?/\/$1?}
}

# nodes_start CONF N: N supervisors of CONF on $db, state dirs
# $tmp/PHASE-nK, logs $tmp/PHASE-nK.log; back once each logged ready.
nodes_start() {
	local conf=$1 n=$2 k i log
	for ((k = 1; k <= n; k++)); do
		log=$tmp/$phase-n$k.log
		: >"$log"
		JOBIFY_STORE=$db TZ=UTC "$jobify" -c "$conf" --state-dir "$tmp/$phase-n$k" run 2>"$log" &
		node_pids+=($!)
	done
	for ((k = 1; k <= n; k++)); do
		log=$tmp/$phase-n$k.log
		for ((i = 0; i < 600; i++)); do
			grep -q 'event=ready' "$log" && break
			kill -0 "${node_pids[k - 1]}" 2>/dev/null || break
			sleep 0.05
		done
		grep -q 'event=ready' "$log" || { tail -n 5 "$log" >&2; die "node $k of $phase did not get ready"; }
	done
}

# nodes_stop: SIGTERM to each, wait, and check each stopped cleanly.
nodes_stop() {
	local k=0 p rc
	for p in "${node_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${node_pids[@]}"; do
		k=$((k + 1))
		rc=0
		wait "$p" || rc=$?
		[ "$rc" -eq 0 ] || { tail -n 5 "$tmp/$phase-n$k.log" >&2; die "node $k of $phase exited $rc"; }
		trouble=$(log_trouble "$tmp/$phase-n$k.log")
		[ "$trouble" -eq 0 ] || { grep -E 'level=(warn|error)' "$tmp/$phase-n$k.log" | head -n 3 >&2; echo "$prog: $trouble warn/error lines in the log of node $k of $phase" >&2; }
	done
	node_pids=()
}

# until_idle SECONDS: wait until no one-off job of $db is scheduled or running.
until_idle() {
	local deadline=$((SECONDS + $1))
	until [ "$(sql "$db" "SELECT count(*) FROM jobs WHERE NOT config AND status IN ('scheduled', 'running')")" -eq 0 ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "$phase: jobs still due or running after $1 s"
		sleep 0.2
	done
}

# latencies FILE: firstinsn's lines as ms after their scheduled second
# (as bench/fire-latency.sh reads them; the supervisors run with TZ=UTC).
latencies() {
	awk '{
		ns = $1; s = substr(ns, 1, length(ns) - 9) + 0
		f = substr(ns, length(ns) - 8) + 0
		tod = s % 86400
		if (match($2, /T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/)) {
			t = substr($2, RSTART + 1, 8)
			want = substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + substr(t, 7, 2)
		} else
			want = tod
		d = tod - want
		if (d < -43200) d += 86400
		if (d > 43200) d -= 86400
		print d * 1000 + f / 1e6
	}' "$1"
}

# one_off_conf FILE EXEC [MAXPAR]: a config of one task "job".
one_off_conf() {
	{
		[ -z "${3:-}" ] || echo "max-parallel = $3"
		echo "task \"job\" { exec = \"$2\" output = \"null\" }"
	} >"$1"
}

# due_batch COUNT: COUNT jobs of "job" due at the whole second 2 s from
# now, in one `schedule --stdin`; that second (ms) in $due_ms.
due_batch() {
	local at i
	at=$(($(date +%s) + 2))
	for ((i = 0; i < $1; i++)); do echo "job --at @$at"; done >"$tmp/batch"
	JOBIFY_STORE=$db "$jobify" -c "$conf" --state-dir "$tmp/$phase-n1" schedule --stdin <"$tmp/batch" >/dev/null
	due_ms=$((at * 1000))
}

tsv=$results/cluster.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)
rows=()
# row PHASE NODES WHAT SAMPLES P50 P95 P99 MAX RATE
row() {
	local IFS=$'\t'
	rows+=("$*")
}

# ---- 1. fire skew, 3 nodes ----
phase=skew
new_db skew
conf=$tmp/skew.conf
for ((i = 0; i < tasks; i++)); do
	echo "task \"t$i\" { exec = \"$tmp/firstinsn-static $tmp/skew.out\" cron = \"* * * * * *\" output = \"null\" }"
done >"$conf"
: >"$tmp/skew.out"
nodes_start "$conf" 3
# Whole seconds from the first one after every node is ready.
t0=$(($(date +%s) + 2))
sleep "$secs"
t1=$(($(date +%s) - 2))
nodes_stop
sel="fire_at BETWEEN $((t0 * 1000)) AND $((t1 * 1000))"
fires=$(sql "$db" "SELECT count(*) FROM jobs WHERE $sel")
want=$(((t1 - t0 + 1) * tasks))
dups=$(sql "$db" "SELECT count(*) FROM (SELECT route, fire_at FROM jobs WHERE $sel GROUP BY 1, 2 HAVING count(*) > 1) d")
spread=$(sql "$db" "SELECT string_agg(n::text, '/' ORDER BY n DESC) FROM (SELECT count(*) AS n FROM jobs WHERE $sel GROUP BY owner) o")
sql "$db" "SELECT created_at - fire_at FROM jobs WHERE $sel" >"$tmp/enq.ms"
sql "$db" "SELECT started_at - fire_at FROM jobs WHERE $sel AND started_at IS NOT NULL" >"$tmp/start.ms"
awk -v a="$t0" -v b="$t1" '{ s = substr($1, 1, length($1) - 9) + 0 } s >= a && s < b + 1' "$tmp/skew.out" >"$tmp/skew.in"
latencies "$tmp/skew.in" >"$tmp/insn.ms"
for w in "enq:fire -> job row written (db clock, 1 ms)" "start:fire -> started_at (runner's clock)" \
	"insn:fire -> job's first instruction"; do
	f=${w%%:*}
	n=$(wc -l <"$tmp/$f.ms")
	read -r p50 p95 p99 mx < <(pctl 50 95 99 100 <"$tmp/$f.ms")
	row "1. skew, $tasks tasks/s" 3 "${w#*:}" "$n" "$p50" "$p95" "$p99" "$mx" -
done

# ---- 2. claims, 1 node then 3 ----
for n in 1 3; do
	phase=claims$n
	new_db "claims$n"
	conf=$tmp/claims.conf
	one_off_conf "$conf" /bin/true
	nodes_start "$conf" "$n"
	due_batch "$claims"
	until_idle 300
	nodes_stop
	last=$(sql "$db" "SELECT max(started_at) FROM jobs WHERE NOT config")
	got=$(sql "$db" "SELECT count(*) FROM jobs WHERE NOT config AND status = 'success' AND attempts = 1")
	[ "$got" -eq "$claims" ] || die "$phase: $got of $claims jobs succeeded at their first attempt"
	rate=$(awk -v c="$claims" -v ms="$((last - due_ms))" 'BEGIN { printf "%.0f", c / (ms / 1000) }')
	rate_of[claims$n]=$rate
	row "2. claims, /bin/true" "$n" "jobs claimed+started/s; per node: $(sql "$db" "SELECT string_agg(n::text, '/' ORDER BY n DESC) FROM (SELECT count(*) AS n FROM jobs WHERE NOT config GROUP BY owner) o")" \
		"$claims" - - - "$((last - due_ms))" "$rate"
done

# ---- 3. throughput of sleep 0.5, 1 node then 3, max-parallel PAR each ----
for n in 1 3; do
	phase=sleep$n
	new_db "sleep$n"
	conf=$tmp/sleep.conf
	one_off_conf "$conf" "sleep 0.5" "$par"
	nodes_start "$conf" "$n"
	due_batch "$sleeps"
	until_idle 300
	nodes_stop
	last=$(sql "$db" "SELECT max(finished_at) FROM jobs WHERE NOT config")
	got=$(sql "$db" "SELECT count(*) FROM jobs WHERE NOT config AND status = 'success'")
	[ "$got" -eq "$sleeps" ] || die "$phase: $got of $sleeps jobs succeeded"
	rate=$(awk -v c="$sleeps" -v ms="$((last - due_ms))" 'BEGIN { printf "%.1f", c / (ms / 1000) }')
	rate_of[sleep$n]=$rate
	row "3. sleep 0.5, max-parallel $par a node" "$n" "jobs/s (ideal $(awk -v n="$n" -v p="$par" 'BEGIN { printf "%.0f", n * p * 2 }')); per node: $(sql "$db" "SELECT string_agg(n::text, '/' ORDER BY n DESC) FROM (SELECT count(*) AS n FROM jobs WHERE NOT config GROUP BY owner) o")" \
		"$sleeps" - - - "$((last - due_ms))" "$rate"
done
ratio=$(awk -v a="${rate_of[sleep1]}" -v b="${rate_of[sleep3]}" 'BEGIN { printf "%.2f", b / a }')
claims_ratio=$(awk -v a="${rate_of[claims1]}" -v b="${rate_of[claims3]}" 'BEGIN { printf "%.2f", b / a }')
load_after=$(load1)

echo "several supervisors on one PostgreSQL ($durability), on one machine:"
echo "$(nproc) CPUs, load average $load_before before, $load_after after"
echo "fires $t0..$t1: $fires enqueued of $want (route, second), $dups twice; runs per node $spread"
printf '%-36s %5s %-62s %7s %8s %8s %8s %8s %8s\n' phase nodes measure samples p50 p95 p99 max rate
for r in "${rows[@]}"; do
	IFS='	' read -r ph nn what smp p50 p95 p99 mx rate <<<"$r"
	printf '%-36s %5s %-62s %7s %8s %8s %8s %8s %8s\n' "$ph" "$nn" "$what" "$smp" "$p50" "$p95" "$p99" "$mx" "$rate"
done
echo "(ms; for phases 2 and 3, max is the time from the due second to the last start or end)"
echo "throughput ratio, 3 nodes / 1 node: sleep 0.5 $ratio (ideal 3), /bin/true $claims_ratio"
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tdurability\tphase\tnodes\tmeasure\tsamples\tp50_ms\tp95_ms\tp99_ms\tmax_ms\trate_per_s\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$durability" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
if [ "$fires" -ne "$want" ] || [ "$dups" -ne 0 ]; then
	die "fires: $fires of $want (route, second) enqueued, $dups twice"
fi
