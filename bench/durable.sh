#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Durable scheduling: what a job costs on its way through the SQLite store
# (SPEC §5 `schedule`, §7), on this machine.
#
#   1. CLI throughput: N sequential `jobify -c CONF schedule r --in 1h`
#      processes (one process and one durable commit, synchronous = FULL,
#      a job), with no supervisor and with one running (then each also
#      wakes it), as jobs/s and ms/job; timed by bash ($EPOCHREALTIME)
#      around each loop.  Floors, the same loop in the same run:
#      (a) N runs of /bin/true: process creation;
#      (b) N runs of the sqlite3 CLI each inserting one row into a copy of
#          the jobs table (WAL, synchronous = FULL, no checkpoint at close,
#          a TRUNCATE checkpoint every 40th run, as jobify does at about 128
#          WAL frames): one process and one durable commit a job, the floor
#          of a process-per-job design;
#      (c) the same with bench/sqlite-insert.c, which does only that (the
#          sqlite3 shell's own start-up left out): the tight floor;
#      (d) N such commits in one sqlite-insert process: the commit alone.
#      jobify's rate is given as % of (b) and of (c).  The N runs of each
#      are spread over ROUNDS rounds (default 5) that take the variants in
#      turn, so that a change in the machine's load touches all alike; the
#      supervisor is started and stopped for its share of each round.
#   2. Throughput inside the supervisor: M jobs `--now` of a task running
#      /bin/true (output = "null"), written straight into a stopped
#      supervisor's store with one sqlite3 transaction; then `jobify run`:
#      from its event=ready to its last event=exit (the log's time=, ms),
#      and to the first sqlite3 poll (every 20 ms, once every exit is
#      logged) that finds no scheduled or running job; the start rate
#      between the first and the last event=start; the supervisor's CPU
#      time (utime+stime, whole run) a job.  Once for each max-parallel
#      value (the app's `max-parallel`, jobify.conf(5); 0 = no limit).
#      bench/burst.sh has the vfork-loop floor for cron jobs.
#   3. Pickup latency with a supervisor running: from just before
#      `jobify schedule ROUTE --now -- FILE` is started to the job's clock
#      read, one job at a time (the next once the last one's event=exit is
#      logged); jobs: a /bin/sh script running `date +%s%N >FILE`, and
#      bench/firstinsn.c built -static (its first instruction).  Also the
#      schedule command's own wall time, the time from its exit to the
#      job's clock read (the supervisor's share; below 0 when the job
#      starts before the command has exited), and the floor: bash starting
#      firstinsn-static itself.  Goal (SPEC §5): picked up within 10 ms.
#      Independent of how `schedule` wakes the supervisor (signal or
#      control socket).
#   4. The batch path: B jobs `r --in 1h -- I` in one `jobify schedule
#      --stdin` process (one transaction), into a fresh store, no
#      supervisor, for B = 1000, 10000 and B_MAX; wall time by bash as in
#      part 1, jobs/s, and the command's peak RSS (/usr/bin/time).
#
# Usage: bench/durable.sh [-n N] [-r ROUNDS] [-m M] [-l SAMPLES] [-p LIST] [-b B_MAX] [-o PARTS] JOBIFY
#   -n N        part 1: runs of each command (default 500)
#   -r ROUNDS   part 1: rounds the runs are spread over (default 5)
#   -m M        part 2: jobs in the store (default 2000)
#   -l SAMPLES  part 3: jobs of each kind (default 50)
#   -p LIST     part 2: max-parallel values, comma-separated (default 0,64)
#   -b B_MAX    part 4: the largest batch (default 100000)
#   -o PARTS    the parts to run, comma-separated (default 1,2,3,4)
#   e.g. bench/durable.sh -n 200 -o 1,3 ./jobify
# Needs bash 5 ($EPOCHREALTIME), the sqlite3 CLI, cc, static glibc and the
# SQLite headers (Debian: sqlite3, libc6-dev, libsqlite3-dev); not hyperfine.
# Every state directory and socket is under a mktemp -d directory, removed
# at exit.  Prints tables; appends the figures, one a row, to
# $JOBIFY_BENCH_RESULTS/durable.tsv (default bench/results/).
set -euo pipefail
export LC_ALL=C
usage="bench/durable.sh [-n N] [-r ROUNDS] [-m M] [-l SAMPLES] [-p LIST] [-b B_MAX] [-o PARTS] JOBIFY"
. "$(dirname "$0")/lib.sh"
cmdline="$0 $*"

n_cli=500
n_sup=2000
n_lat=50
par_list=0,64
parts=1,2,3,4
rounds=5
b_max=100000
while getopts n:m:l:p:o:r:b:h opt; do
	case $opt in
	n) n_cli=$OPTARG ;;
	m) n_sup=$OPTARG ;;
	l) n_lat=$OPTARG ;;
	b) b_max=$OPTARG ;;
	p) par_list=$OPTARG ;;
	o) parts=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) die "usage: $usage" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || die "usage: $usage"
jobify=$1
need_jobify "$jobify"
need_uint N "$n_cli" 1
need_uint M "$n_sup" 1
need_uint SAMPLES "$n_lat" 1
need_uint ROUNDS "$rounds" 1
need_uint B_MAX "$b_max" 1
IFS=, read -r -a pars <<<"$par_list"
for p in "${pars[@]}"; do
	need_uint max-parallel "$p" 0
done
IFS=, read -r -a part_v <<<"$parts"
for p in "${part_v[@]}"; do
	case $p in
	1 | 2 | 3 | 4) ;;
	*) die "-o: parts are 1, 2, 3 and 4, not '$p'" ;;
	esac
done
want() { [[ ,$parts, == *,$1,* ]]; }
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (\$EPOCHREALTIME)"
command -v sqlite3 >/dev/null || die "needs the sqlite3 CLI"
case $jobify in
/*) ;;
*) jobify=$PWD/$jobify ;;
esac

bench_init
clk=$(getconf CLK_TCK)
tsv=$results/durable.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)
rows=()


# snooze SECONDS: sleep without a process (read on a fifo nobody writes).
mkfifo "$tmp/snooze"
exec {snooze_fd}<>"$tmp/snooze"
snooze() {
	read -r -t "$1" -u "$snooze_fd" _ || true
}

# conf FILE STATE_DIR MAX_PARALLEL: a config whose state and socket are
# under STATE_DIR (never /var/lib/jobify or /run/jobify).
conf() {
	cat >"$1" <<EOF
state-dir = "$2"
socket = "$2/jobify.sock"
max-parallel = $3
task "r" { exec = "/bin/true" output = "null" }
task "true" { exec = "/bin/true" output = "null" }
task "stamp" { exec = "$tmp/stamp.sh" output = "null" }
task "first" { exec = "$tmp/firstinsn-static" output = "null" }
EOF
}

sql() { # sql DB SQL...: the sqlite3 CLI, quiet, waiting for locks
	local db=$1
	shift
	sqlite3 -batch -init /dev/null -cmd '.timeout 5000' "$db" "$@"
}

# The supervisor's utime+stime so far (s).
sup_cpu() {
	cut -d')' -f2- "/proc/$sup_pid/stat" | awk -v t="$clk" '{ print ($12 + $13) / t }'
}

# Follow a log without starting a process to poll it: follow_open FILE,
# then each follow_read [JOB] reads the complete lines added since,
# counting event=exit lines in follow_exits and setting follow_seen when
# one is of job JOB.
follow_open() {
	exec {follow_fd}<"$1"
	follow_part=
	follow_exits=0
	follow_seen=0
}
follow_read() {
	local line
	while :; do
		if IFS= read -r -u "$follow_fd" line; then
			line=$follow_part$line
			follow_part=
			case $line in
			*' event=exit '*)
				follow_exits=$((follow_exits + 1))
				case $line in *" job=${1:-} "*) follow_seen=1 ;; esac
				;;
			esac
		else
			follow_part+=$line
			return 0
		fi
	done
}
follow_close() {
	exec {follow_fd}<&-
}

# log_ms LINE: the epoch time (ms) of a log line's time=.
log_ms() {
	local t=${1#*time=}
	date -u -d "${t%% *}" +%s%3N
}

# run_n N CMD...: run CMD N times in a row (stdout to /dev/null); the
# time it took in elapsed_us.
run_n() {
	local n=$1 i t0
	shift
	now_us
	t0=$now
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null || die "'$*' failed (run $((i + 1)) of $n)"
	done
	now_us
	elapsed_us=$((now - t0))
}

# floor_b N DB: N sqlite3 processes, one durable INSERT of a job row each.
floor_b() {
	local n=$1 db=$2 i t0 ins ckpt
	ins="INSERT INTO jobs (id, route, status, trigger, run_at, scheduled_at, created_at, args, env)
	     VALUES (substr(lower(hex(randomblob(7))), 1, 13), 'r', 'scheduled', 'in', 1, 1, 1, '', '')"
	ckpt="; PRAGMA wal_checkpoint(TRUNCATE)"
	now_us
	t0=$now
	for ((i = 1; i <= n; i++)); do
		if ((i % 40)); then
			sqlite3 -batch -init /dev/null -cmd '.dbconfig no_ckpt_on_close on' \
				-cmd 'PRAGMA synchronous = FULL' "$db" "$ins" >/dev/null
		else
			sqlite3 -batch -init /dev/null -cmd '.dbconfig no_ckpt_on_close on' \
				-cmd 'PRAGMA synchronous = FULL' "$db" "$ins$ckpt" >/dev/null
		fi || die "sqlite3 failed (run $i of $n)"
	done
	now_us
	elapsed_us=$((now - t0))
}

rate() { # rate N US: jobs/s
	awk -v n="$1" -v us="$2" 'BEGIN { printf "%.1f", n * 1e6 / us }'
}
per() { # per N US: ms a job
	awk -v n="$1" -v us="$2" 'BEGIN { printf "%.2f", us / n / 1000 }'
}

cat >"$tmp/stamp.sh" <<'EOF'
#!/bin/sh
date +%s%N >"$1"
EOF
chmod +x "$tmp/stamp.sh"
cc_helper firstinsn -static -o "$tmp/firstinsn-static"
cc_helper sqlite-insert -lsqlite3

echo "bench/durable.sh: $(nproc) CPUs, load average $load_before; $cmdline"

# ---- 1. CLI throughput ----
if want 1; then
	p1=()
	n=$n_cli
	conf "$tmp/p1a.conf" "$tmp/p1a" 0
	conf "$tmp/p1b.conf" "$tmp/p1b" 0
	# Warm-up runs (they create the stores), not timed.
	run_n 3 "$jobify" -c "$tmp/p1a.conf" schedule r --in 1h
	run_n 3 "$jobify" -c "$tmp/p1b.conf" schedule r --in 1h
	# The floors' table: the jobs table of jobify's store.
	for db in floor-b floor-c floor-d; do
		sql "$tmp/$db.db" 'PRAGMA journal_mode = WAL' >/dev/null
		sql "$tmp/p1a/jobify.db" '.schema jobs' | sql "$tmp/$db.db"
	done
	floor_b 3 "$tmp/floor-b.db"
	run_n 3 "$tmp/sqlite-insert" "$tmp/floor-c.db"
	run_n 1 "$tmp/sqlite-insert" "$tmp/floor-d.db" 3

	# ROUNDS rounds, each with a share of the N runs of every variant in
	# turn, so that a change of the machine's load touches them alike.
	echo "1. $n sequential processes each, in $rounds rounds ..."
	us_a=0 us_b=0 us_c=0 us_d=0 us_j=0 us_s=0
	for ((r = 0; r < rounds; r++)); do
		k=$((n * (r + 1) / rounds - n * r / rounds))
		[ "$k" -gt 0 ] || continue
		run_n "$k" /bin/true
		us_a=$((us_a + elapsed_us))
		floor_b "$k" "$tmp/floor-b.db"
		us_b=$((us_b + elapsed_us))
		run_n "$k" "$tmp/sqlite-insert" "$tmp/floor-c.db"
		us_c=$((us_c + elapsed_us))
		run_n 1 "$tmp/sqlite-insert" "$tmp/floor-d.db" "$k"
		us_d=$((us_d + elapsed_us))
		run_n "$k" "$jobify" -c "$tmp/p1a.conf" schedule r --in 1h
		us_j=$((us_j + elapsed_us))
		sup_start "$tmp/p1b.conf" "$tmp/p1b.log"
		run_n "$k" "$jobify" -c "$tmp/p1b.conf" schedule r --in 1h
		us_s=$((us_s + elapsed_us))
		sup_stop "$tmp/p1b.log"
		trouble=$(log_trouble "$tmp/p1b.log")
		[ "$trouble" -eq 0 ] || echo "$prog: $trouble warn/error lines in the supervisor's log" >&2
		done_n=$((n * (r + 1) / rounds))
		echo "   after round $((r + 1)) of $rounds, ms/job: (a) $(per "$done_n" "$us_a")" \
			"(b) $(per "$done_n" "$us_b") (c) $(per "$done_n" "$us_c") (d) $(per "$done_n" "$us_d")" \
			"jobify $(per "$done_n" "$us_j"), supervisor up $(per "$done_n" "$us_s")"
	done
	for db in p1a/jobify p1b/jobify floor-b floor-c floor-d; do
		got=$(sql "$tmp/$db.db" "SELECT count(*) FROM jobs WHERE status = 'scheduled'")
		[ "$got" -eq $((n + 3)) ] || die "$tmp/$db.db has $got jobs, not $((n + 3))"
	done
	rb=$(rate "$n" "$us_b")
	rc=$(rate "$n" "$us_c")
	for v in "a|(a) /bin/true: process creation|$us_a" \
		"b|(b) sqlite3 CLI: 1 row, WAL, sync=FULL|$us_b" \
		"c|(c) sqlite-insert.c: the same, minimal|$us_c" \
		"d|(d) one process, N commits (commit only)|$us_d" \
		"jobify|jobify schedule --in 1h, no supervisor|$us_j" \
		"jobify-sup|jobify schedule --in 1h, supervisor up|$us_s"; do
		IFS='|' read -r key label us <<<"$v"
		r=$(rate "$n" "$us")
		pb=$(awk -v a="$r" -v b="$rb" 'BEGIN { printf "%.0f%%", 100 * a / b }')
		pc=$(awk -v a="$r" -v b="$rc" 'BEGIN { printf "%.0f%%", 100 * a / b }')
		p1+=("$(printf '   %-44s %8s %8s %9s %9s' "$label" "$r" "$(per "$n" "$us")" "$pb" "$pc")")
		tsv_row 1 "$key" "$n" jobs_per_s "$r"
		tsv_row 1 "$key" "$n" ms_per_job "$(per "$n" "$us")"
	done
fi

# ---- 2. throughput inside the supervisor ----
# p2_once MAX_PARALLEL: one line of the table into p2 (no subshell: it
# starts the supervisor, which the exit trap must know of).
p2_once() {
	local par=$1 m=$n_sup st=$tmp/p2-$1 cf=$tmp/p2-$1.conf log=$tmp/p2-$1.log
	local t_ms t0 deadline left cpu ready_ms empty_ms stats
	conf "$cf" "$st" "$par"
	"$jobify" -c "$cf" schedule true --in 1h >/dev/null # creates the store
	now_us
	t_ms=$((now / 1000))
	sql "$st/jobify.db" "BEGIN IMMEDIATE; DELETE FROM jobs;
		WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $m)
		INSERT INTO jobs (id, route, status, trigger, run_at, scheduled_at, created_at,
				  args, env, source)
		SELECT printf('b%012d', i), 'true', 'scheduled', 'now', $t_ms, $t_ms, $t_ms,
		       '', '', 'cli' FROM c;
		COMMIT;" || die "cannot write $m jobs into $st/jobify.db (has the schema changed?)"
	left=$(sql "$st/jobify.db" "SELECT count(*) FROM jobs WHERE status = 'scheduled'")
	[ "$left" -eq "$m" ] || die "the store has $left scheduled jobs, not $m"

	sup_start "$cf" "$log"
	follow_open "$log"
	now_us
	deadline=$((now + 600 * 1000000))
	while follow_read && [ "$follow_exits" -lt "$m" ]; do
		now_us
		[ "$now" -lt "$deadline" ] || die "only $follow_exits of $m jobs ended in 600 s (log: $log)"
		kill -0 "$sup_pid" 2>/dev/null || die "jobify run died (log: $log)"
		snooze 0.02
	done
	follow_close
	while :; do
		left=$(sql "$st/jobify.db" "SELECT count(*) FROM jobs WHERE status IN ('scheduled', 'running')")
		now_us
		[ "$left" -ne 0 ] || break
		[ "$now" -lt "$deadline" ] || die "$left jobs still scheduled or running (log: $log)"
		snooze 0.02
	done
	empty_ms=$((now / 1000))
	cpu=$(sup_cpu)
	sup_stop "$log"
	cp "$log" "$tmp/p2-$par-last.log"
	trouble=$(log_trouble "$log")
	[ "$trouble" -eq 0 ] || echo "$prog: $trouble warn/error lines in the log (max-parallel $par)" >&2
	ready_ms=$(log_ms "$(grep -m 1 'event=ready' "$log")")
	ok=$(sql "$st/jobify.db" "SELECT count(*) FROM jobs WHERE status = 'success'")
	# Times of day (UTC, ms) relative to event=ready.
	stats=$(awk -v ready="$ready_ms" '
		function rel(   t, ms) {
			match($0, /time=[0-9-]+T[0-9:.]+/)
			t = substr($0, RSTART + 16, 12)
			ms = (substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + substr(t, 7)) * 1000 - ready % 86400000
			if (ms < -43200000) ms += 86400000
			return ms
		}
		/event=start / { r = rel(); if (!starts++) first = r; last = r }
		/event=exit / { r = rel(); if (r > lexit) lexit = r; exits++ }
		END { printf "%d %d %.0f %.0f %.0f\n", starts, exits, first, last, lexit }' "$log")
	read -r starts exits first lstart lexit <<<"$stats"
	[ "$starts" -eq "$m" ] && [ "$exits" -eq "$m" ] ||
		echo "$prog: $starts starts and $exits exits logged for $m jobs" >&2
	local r_exit r_empty r_start cpu_ms
	r_exit=$(awk -v m="$m" -v t="$lexit" 'BEGIN { printf "%.1f", m * 1000 / t }')
	r_empty=$(awk -v m="$m" -v t="$((empty_ms - ready_ms))" 'BEGIN { printf "%.1f", m * 1000 / t }')
	r_start=$(awk -v m="$m" -v a="$first" -v b="$lstart" 'BEGIN { printf "%.1f", (b > a ? (m - 1) * 1000 / (b - a) : 0) }')
	cpu_ms=$(awk -v c="$cpu" -v m="$m" 'BEGIN { printf "%.2f", c * 1000 / m }')
	p2+=("$(printf '   %12s | %7s %7s | %7s %7s | %9s %9s %8s | %10s %6s' "$par" \
		"$(awk -v t="$lexit" 'BEGIN { printf "%.3f", t / 1000 }')" "$r_exit" \
		"$(awk -v t="$((empty_ms - ready_ms))" 'BEGIN { printf "%.3f", t / 1000 }')" "$r_empty" \
		"$first" "$lstart" "$r_start" "$cpu_ms" "$ok")")
	tsv_row 2 "max-parallel=$par" "$m" ready_to_last_exit_s "$(awk -v t="$lexit" 'BEGIN { print t / 1000 }')"
	tsv_row 2 "max-parallel=$par" "$m" jobs_per_s_to_last_exit "$r_exit"
	tsv_row 2 "max-parallel=$par" "$m" ready_to_store_empty_s "$(awk -v t="$((empty_ms - ready_ms))" 'BEGIN { print t / 1000 }')"
	tsv_row 2 "max-parallel=$par" "$m" jobs_per_s_to_store_empty "$r_empty"
	tsv_row 2 "max-parallel=$par" "$m" first_start_ms_after_ready "$first"
	tsv_row 2 "max-parallel=$par" "$m" start_rate_per_s "$r_start"
	tsv_row 2 "max-parallel=$par" "$m" sup_cpu_ms_per_job "$cpu_ms"
	tsv_row 2 "max-parallel=$par" "$m" success "$ok"
}

if want 2; then
	echo "2. $n_sup jobs --now (/bin/true, output null) in the store, then jobify run ..."
	p2=()
	for par in "${pars[@]}"; do
		p2_once "$par"
	done
fi

# ---- 3. pickup latency ----
if want 3; then
	echo "3. pickup latency, $n_lat jobs of each kind ..."
	conf "$tmp/p3.conf" "$tmp/p3" 0
	mkdir "$tmp/lat"
	"$jobify" -c "$tmp/p3.conf" schedule r --in 1h >/dev/null # creates the store
	sup_start "$tmp/p3.conf" "$tmp/p3.log"
	follow_open "$tmp/p3.log"
	: >"$tmp/lat.txt"
	misses=0
	for ((i = 0; i < n_lat; i++)); do
		for kind in stamp first direct; do
			f=$tmp/lat/$kind-$i
			now_us
			t0=$now
			if [ "$kind" = direct ]; then
				"$tmp/firstinsn-static" "$f"
				now_us
				t1=$now
				id=
			else
				"$jobify" -c "$tmp/p3.conf" schedule "$kind" --now -- "$f" >"$tmp/id" ||
					die "jobify schedule $kind --now failed"
				now_us
				t1=$now
				read -r id <"$tmp/id"
			fi
			deadline=$((t0 + 5000000))
			while [ ! -s "$f" ] && [ "$now" -lt "$deadline" ]; do
				snooze 0.001
				now_us
			done
			if [ ! -s "$f" ]; then
				misses=$((misses + 1))
				echo "$prog: $kind job $id did not start within 5 s" >&2
				[ "$misses" -lt 3 ] || die "3 jobs did not start (log: $tmp/p3.log)"
				continue
			fi
			read -r ns _ <"$f"
			echo "$kind $((ns / 1000 - t0)) $((t1 - t0))" >>"$tmp/lat.txt"
			[ -n "$id" ] || continue
			# The next once this one has ended and the supervisor is idle.
			follow_seen=0
			while follow_read "$id" && [ "$follow_seen" -eq 0 ]; do
				now_us
				[ "$now" -lt "$deadline" ] || die "no event=exit of job $id (log: $tmp/p3.log)"
				snooze 0.001
			done
			snooze 0.02
		done
	done
	follow_close
	sup_stop "$tmp/p3.log"
	trouble=$(log_trouble "$tmp/p3.log")
	[ "$trouble" -eq 0 ] || echo "$prog: $trouble warn/error lines in the supervisor's log" >&2
	p3=()
	# p3_row KEY LABEL NAME A [B]: field A (minus field B) of the KEY lines
	# of lat.txt: 2 is to the job's clock read, 3 the command's time (us)
	p3_row() {
		local n p50 p90 mx
		n=$(awk -v k="$1" '$1 == k' "$tmp/lat.txt" | wc -l)
		read -r p50 p90 mx < <(awk -v k="$1" -v a="$4" -v b="${5:-0}" \
			'$1 == k { print ($a - (b ? $b : 0)) / 1000 }' "$tmp/lat.txt" | pctl 50 90 100)
		p3+=("$(printf '   %-50s %7s %8s %8s %8s' "$2" "$n" "$p50" "$p90" "$mx")")
		tsv_row 3 "$1-$3" "$n" p50_ms "$p50"
		tsv_row 3 "$1-$3" "$n" p90_ms "$p90"
		tsv_row 3 "$1-$3" "$n" max_ms "$mx"
	}
	p3_row stamp "schedule's start -> sh script's date +%s%N" pickup 2
	p3_row first "schedule's start -> firstinsn-static's main" pickup 2
	p3_row stamp "schedule's wall time (sh job)" cli 3
	p3_row first "schedule's wall time (firstinsn job)" cli 3
	p3_row stamp "schedule's exit -> sh script's date" after-cli 2 3
	p3_row first "schedule's exit -> firstinsn-static's main" after-cli 2 3
	p3_row direct "floor: bash's fork -> firstinsn-static's main" pickup 2
	tsv_row 3 missed "$n_lat" count "$misses"
fi

# ---- 4. the batch path ----
if want 4; then
	p4=()
	echo "4. batches through schedule --stdin ..."
	for b in 1000 10000 "$b_max"; do
		[ "$b" -le "$b_max" ] || continue
		conf "$tmp/p4-$b.conf" "$tmp/p4-$b" 0
		seq 1 "$b" | sed 's/^/r --in 1h -- /' >"$tmp/p4-$b.in"
		now_us
		t0=$now
		/usr/bin/time -f '%M' -o "$tmp/p4-$b.rss" \
			"$jobify" -c "$tmp/p4-$b.conf" schedule --stdin <"$tmp/p4-$b.in" >"$tmp/p4-$b.ids" ||
			die "schedule --stdin of $b jobs failed"
		now_us
		us=$((now - t0))
		got=$(sql "$tmp/p4-$b/jobify.db" "SELECT count(*) FROM jobs WHERE status = 'scheduled'")
		[ "$got" -eq "$b" ] || die "the batch of $b left $got jobs in the store"
		rss=$(tail -n 1 "$tmp/p4-$b.rss")
		p4+=("$(printf '   %9s %9s %10s %9s' "$b" "$(rate "$b" "$us")" \
			"$(awk -v us="$us" 'BEGIN { printf "%.3f", us / 1e6 }')" "$rss")")
		tsv_row 4 batch "$b" jobs_per_s "$(rate "$b" "$us")"
		tsv_row 4 batch "$b" max_rss_kb "$rss"
		rm -rf "$tmp/p4-$b" "$tmp/p4-$b.in" "$tmp/p4-$b.ids"
	done
fi

load_after=$(load1)
echo
echo "durable scheduling: $(nproc) CPUs, load average $load_before before, $load_after after"
echo "command: $cmdline"
if want 1; then
	echo
	echo "1. CLI scheduling throughput: $n_cli sequential processes each (bash loop, \$EPOCHREALTIME)"
	printf '   %-44s %8s %8s %9s %9s\n' variant jobs/s ms/job "% of (b)" "% of (c)"
	printf '%s\n' "${p1[@]}"
fi
if want 2; then
	echo
	echo "2. $n_sup jobs --now of /bin/true (output null) already in the store; from jobify run's event=ready"
	printf '   %12s | %-15s | %-15s | %-28s | %-17s\n' "" "to last exit" "to store empty" \
		"event=start (ms after ready)" "supervisor"
	printf '   %12s | %7s %7s | %7s %7s | %9s %9s %8s | %10s %6s\n' max-parallel "s" "jobs/s" \
		"s" "jobs/s" "first" "last" "starts/s" "CPU ms/job" "ok"
	printf '%s\n' "${p2[@]}"
fi
if want 3; then
	echo
	echo "3. pickup latency (ms) with the supervisor running, one job at a time; goal: 10 ms"
	printf '   %-50s %7s %8s %8s %8s\n' "from ... to ..." samples p50 p90 max
	printf '%s\n' "${p3[@]}"
	[ "$misses" -eq 0 ] || echo "   ($misses jobs not started within 5 s, left out)"
fi
if want 4; then
	echo
	echo "4. schedule --stdin: one process, one transaction a batch, no supervisor"
	printf '   %9s %9s %10s %9s\n' jobs jobs/s s "RSS KB"
	printf '%s\n' "${p4[@]}"
fi
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tpart\tvariant\tn\tmetric\tvalue\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
