#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Scale (issue 6): what a route and a scheduled one-off job cost in time
# and memory, from 1k to 100k routes and up to 1M one-off jobs.
#
#   1. Config load: for each N routes, a generated config of the grouped
#      shape (100 tasks in each router, all attached; every task has
#      cron = "0 0 1 1 *", so that nothing fires during the run, and
#      output = "null"), with its own state-dir and socket in the
#      temporary directory.  `jobify check` and `jobify routes` (stdout to
#      a file, its lines counted): wall time, CPU time (user+sys) and max
#      RSS, via /usr/bin/time, the median of REPS runs.  Per route:
#      (max RSS(N) - max RSS(1 route)) / N.
#   2. The supervisor on the same configs: `jobify run` (TZ=UTC), from just
#      before it is started to the time= of its event=ready line (ms), its
#      CPU time (utime+stime) then, and 0.5 s later its VmRSS and VmHWM
#      (/proc/PID/status); per route: (VmRSS(N) - VmRSS(1 route)) / N.
#      Three variants: a fresh store (the config's cron tasks are durable
#      by default: it writes a row for each at start), a restart on that
#      store (the rows are there), and every task durable = false (no
#      rows).  Also the store's size (jobify.db + jobify.db-wal) after
#      the fresh run, per route.
#   3. One-off jobs: for each M (10k, 100k, 1M), M lines "r --in 30d -- I"
#      (task r: /bin/true, no cron) through `jobify schedule --stdin` into
#      a fresh store, in one process and one transaction: jobs/s (wall
#      time, $EPOCHREALTIME), its max RSS, the ids it printed (M, all
#      different), and the store's size per job; then `jobify jobs` of all
#      M (stdout to /dev/null): wall time and max RSS; then `jobify run`
#      on that store, as in 2, against the same config on an empty store
#      (0 jobs): heap per pending job = (VmRSS(M) - VmRSS(0)) / M.  Jobs
#      stay in SQLite, whose page cache (default cache_size, printed when
#      the sqlite3 CLI is there) bounds what they can add to the RSS.
#
# Goal (issue 6): memory per scheduled job <= 256 B (APScheduler: ~760 B).
#
# Usage: bench/scale.sh JOBIFY [ROUTES...]   (default 1000 10000 100000)
#   e.g. bench/scale.sh ./jobify
#        JOBIFY_BENCH_QUICK=1 bench/scale.sh ./jobify    (about 40 s)
# Environment:
#   JOBIFY_BENCH_QUICK=1    routes 1000 10000, jobs 10000 100000
#   JOBIFY_BENCH_JOBS=LIST  the job counts of part 3, space-separated
#                           (default 10000 100000 1000000; empty: no part 3)
#   JOBIFY_BENCH_REPS=K     runs of check and routes for the median (default 3)
#   JOBIFY_BENCH_TIMEOUT=S  the most any one command may take (default 600)
#   JOBIFY_BENCH_RESULTS    where the .tsv goes (default bench/results)
# Part 3 needs `jobify schedule --stdin`.  The default run takes about 4-5
# minutes on 2 cores and about 1 GB of memory and 250 MB of disk under
# $TMPDIR.  Prints tables; appends the figures, one a row, to
# $JOBIFY_BENCH_RESULTS/scale.tsv.  Every state directory and socket is
# under a mktemp -d directory, removed at exit, with any supervisor.
set -euo pipefail
export LC_ALL=C
usage="bench/scale.sh JOBIFY [ROUTES...]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cmdline="$0 $*"

jobify=${1:-}
need_jobify "$jobify"
shift
case $jobify in
/*) ;;
*) jobify=$PWD/$jobify ;;
esac
quick=${JOBIFY_BENCH_QUICK:-0}
if [ $# -gt 0 ]; then
	route_counts=("$@")
elif [ "$quick" = 1 ]; then
	route_counts=(1000 10000)
else
	route_counts=(1000 10000 100000)
fi
if [ "$quick" = 1 ]; then
	jobs_default="10000 100000"
else
	jobs_default="10000 100000 1000000"
fi
read -r -a job_counts <<<"${JOBIFY_BENCH_JOBS-$jobs_default}"
reps=${JOBIFY_BENCH_REPS:-3}
limit=${JOBIFY_BENCH_TIMEOUT:-600}
for n in "${route_counts[@]}"; do
	need_uint ROUTES "$n" 1
done
for m in "${job_counts[@]}"; do
	need_uint JOBIFY_BENCH_JOBS "$m" 1
done
need_uint JOBIFY_BENCH_REPS "$reps" 1
need_uint JOBIFY_BENCH_TIMEOUT "$limit" 1
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (\$EPOCHREALTIME)"
[ -x /usr/bin/time ] || die "needs GNU time as /usr/bin/time (Debian: time)"
command -v timeout >/dev/null || die "needs timeout (coreutils)"
if [ ${#job_counts[@]} -gt 0 ] &&
	! "$jobify" schedule --help 2>&1 | grep -q -- --stdin; then
	die "part 3 needs 'jobify schedule --stdin', which $jobify has not (JOBIFY_BENCH_JOBS= skips it)"
fi

bench_init
tsv=$results/scale.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)
rows=()


# log_ms LINE: the epoch time (ms) of a log line's time=.
log_ms() {
	local t=${1#*time=}
	date -u -d "${t%% *}" +%s%3N
}

# calc EXPR [VAR=VALUE...]: awk arithmetic, printed.
calc() {
	local e=$1 a v=()
	shift
	for a in "$@"; do
		v+=(-v "$a")
	done
	awk "${v[@]}" "BEGIN { print $e }" </dev/null
}

# median: the middle of the numbers on stdin, one a line, as written.
median() {
	sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# timed OUT CMD...: run CMD (stdout to OUT) under /usr/bin/time and
# timeout; sets t_wall (s, $EPOCHREALTIME), t_cpu (user+sys, s) and
# t_rss (max RSS, KiB).
timed() {
	local out=$1 t0 rc=0 u s
	shift
	now_us
	t0=$now
	timeout "$limit" /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" >"$out" || rc=$?
	now_us
	[ "$rc" -eq 0 ] || die "'$*' failed (exit $rc; 124: took over $limit s)"
	read -r u s t_rss <"$tmp/time"
	t_wall=$(calc 'sprintf("%.3f", (b - a) / 1e6)' a="$t0" b="$now")
	t_cpu=$(calc 'u + s' u="$u" s="$s")
}

# gen_routes N FILE STATE DURABLE: N tasks, 100 in each router.
gen_routes() {
	awk -v n="$1" -v st="$3" -v dur="$4" 'BEGIN {
		per = 100
		nr = int((n + per - 1) / per)
		printf "state-dir = \"%s\"\nsocket = \"%s/jobify.sock\"\ninclude-router = {", st, st
		for (r = 0; r < nr; r++)
			printf "%s\"r%d\"", (r ? ", " : " "), r
		print " }"
		extra = dur ? "" : " durable = false"
		for (r = 0; r < nr; r++) {
			printf "router \"r%d\" {\n", r
			for (t = 0; t < per && r * per + t < n; t++)
				printf "  task \"t%d\" { exec = \"/bin/true %d\" cron = \"0 0 1 1 *\" output = \"null\"%s }\n",
					t, r * per + t, extra
			print "}"
		}
	}' >"$2"
}

# store_bytes DIR: the size of jobify.db and jobify.db-wal.
store_bytes() {
	local f b=0
	for f in "$1/jobify.db" "$1/jobify.db-wal"; do
		[ -f "$f" ] && b=$((b + $(stat -c %s "$f")))
	done
	echo "$b"
}

# sup_up CONF LOG: start `jobify -c CONF run`, wait for event=ready (at
# most $limit s), then 0.5 s more; sets s_ready (ms from the start to the
# ready line's time=), s_cpu (ms, at ready), s_rss, s_hwm, s_anon (KiB,
# after the 0.5 s) and s_line (the ready line).  Stop it with sup_stop.
sup_up() {
	local conf=$1 log=$2 t0 deadline u s
	: >"$log"
	now_us
	t0=$now
	deadline=$((t0 + limit * 1000000))
	TZ=UTC "$jobify" -c "$conf" run 2>"$log" &
	sup_pid=$!
	until s_line=$(grep -m 1 'event=ready' "$log"); do
		kill -0 "$sup_pid" 2>/dev/null || { tail -n 5 "$log" >&2; die "jobify run exited before ready (log above)"; }
		now_us
		[ "$now" -lt "$deadline" ] || die "jobify run not ready after $limit s"
		sleep 0.05
	done
	read -r u s <<<"$(cut -d')' -f2- "/proc/$sup_pid/stat" | awk '{ print $12, $13 }')"
	s_cpu=$(calc '(u + s) * 1000 / t' u="$u" s="$s" t="$(getconf CLK_TCK)")
	s_ready=$(($(log_ms "$s_line") - t0 / 1000))
	sleep 0.5
	s_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$sup_pid/status")
	s_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$sup_pid/status")
	s_anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$sup_pid/status")
}

# sup_down LOG: stop it (lib.sh's sup_stop) and report warnings.
sup_down() {
	local trouble
	sup_stop "$1"
	trouble=$(log_trouble "$1")
	[ "$trouble" -eq 0 ] || {
		grep -E 'level=(warn|error)' "$1" | head -n 3 >&2
		echo "$prog: $trouble warn/error lines in $1" >&2
	}
}

mb() { # mb KIB (or -): MiB
	if [ "$1" = - ]; then echo -; else calc 'sprintf("%.1f", k / 1024)' k="$1"; fi
}
mib() { # mib BYTES (or -): MiB
	if [ "$1" = - ]; then echo -; else calc 'sprintf("%.1f", b / 1048576)' b="$1"; fi
}
per_item() { # per_item KIB KIB_BASE N: bytes an item
	calc 'sprintf("%.0f", (k - b) * 1024 / n)' k="$1" b="$2" n="$3"
}

echo "bench/scale.sh: $(nproc) CPUs, load average $load_before; $cmdline"

# ---- 1 and 2: routes ----
# One baseline of 1 route, then each N.
t1=()
t2=()
base_check='' base_routes='' base_run='' base_nd=''
for n in 1 "${route_counts[@]}"; do
	echo "routes: $n ..."
	d=$tmp/r$n
	mkdir -p "$d"
	gen_routes "$n" "$d/dur.conf" "$d/dur" 1
	gen_routes "$n" "$d/nd.conf" "$d/nd" 0
	for cmd in check routes; do
		: >"$d/w"
		: >"$d/c"
		: >"$d/m"
		for ((i = 0; i < reps; i++)); do
			timed "$d/out" "$jobify" -c "$d/dur.conf" "$cmd"
			echo "$t_wall" >>"$d/w"
			echo "$t_cpu" >>"$d/c"
			echo "$t_rss" >>"$d/m"
		done
		if [ "$cmd" = check ]; then
			grep -qE ": $n routes? in 1 file" "$d/out" || die "check did not say $n routes: $(cat "$d/out")"
		else
			got=$(wc -l <"$d/out")
			[ "$got" -eq "$n" ] || die "routes listed $got lines for $n routes"
		fi
		w=$(median <"$d/w")
		c=$(median <"$d/c")
		m=$(median <"$d/m")
		eval "${cmd}_w=\$w ${cmd}_c=\$c ${cmd}_m=\$m"
		tsv_row 1 "$n" "$cmd" wall_s "$w"
		tsv_row 1 "$n" "$cmd" cpu_s "$c"
		tsv_row 1 "$n" "$cmd" max_rss_kib "$m"
	done
	# shellcheck disable=SC2154 # check_* and routes_* are set by the eval
	if [ "$n" -eq 1 ]; then
		base_check=$check_m
		base_routes=$routes_m
	else
		pc=$(per_item "$check_m" "$base_check" "$n")
		pr=$(per_item "$routes_m" "$base_routes" "$n")
		tsv_row 1 "$n" check bytes_per_route "$pc"
		tsv_row 1 "$n" routes bytes_per_route "$pr"
		t1+=("$(printf '   %7s | %7s %7s %8s %7s | %7s %7s %8s %7s' "$n" \
			"$check_w" "$check_c" "$(mb "$check_m")" "$pc" \
			"$routes_w" "$routes_c" "$(mb "$routes_m")" "$pr")")
	fi

	for v in fresh restart nondurable; do
		case $v in
		nondurable) conf=$d/nd.conf st=$d/nd ;;
		*) conf=$d/dur.conf st=$d/dur ;;
		esac
		sup_up "$conf" "$d/$v.log"
		case $s_line in
		*" routes=$n "*) ;;
		*) die "the ready line does not say routes=$n: $s_line" ;;
		esac
		sup_down "$d/$v.log"
		tsv_row 2 "$n" "$v" ready_ms "$s_ready"
		tsv_row 2 "$n" "$v" cpu_ms_at_ready "$s_cpu"
		tsv_row 2 "$n" "$v" vmrss_kib "$s_rss"
		tsv_row 2 "$n" "$v" vmhwm_kib "$s_hwm"
		tsv_row 2 "$n" "$v" rssanon_kib "$s_anon"
		if [ "$v" = fresh ]; then
			sb=$(store_bytes "$st")
			tsv_row 2 "$n" "$v" store_bytes "$sb"
		fi
		if [ "$n" -eq 1 ]; then
			case $v in
			fresh) base_run=$s_rss ;;
			nondurable) base_nd=$s_rss ;;
			esac
			continue
		fi
		case $v in
		nondurable) b=$base_nd sz=- ;;
		restart) b=$base_run sz=- ;;
		*) b=$base_run sz=$(calc 'sprintf("%.0f", s / n)' s="$sb" n="$n") ;;
		esac
		pr=$(per_item "$s_rss" "$b" "$n")
		tsv_row 2 "$n" "$v" bytes_per_route "$pr"
		[ "$sz" = - ] || tsv_row 2 "$n" "$v" store_bytes_per_route "$sz"
		t2+=("$(printf '   %7s %-11s | %8s %8s | %8s %8s %8s | %9s' "$n" "$v" \
			"$s_ready" "$s_cpu" "$(mb "$s_rss")" "$(mb "$s_hwm")" "$pr" "$sz")")
	done
	rm -rf "$d"
done

# ---- 3: one-off jobs ----
t3=()
if [ ${#job_counts[@]} -gt 0 ]; then
	cache=-
	if command -v sqlite3 >/dev/null; then
		cache=$(sqlite3 -batch -init /dev/null :memory: 'PRAGMA cache_size' 2>/dev/null) || cache=-
	fi
	base_jobs=
	for m in 0 "${job_counts[@]}"; do
		echo "one-off jobs: $m ..."
		d=$tmp/j$m
		mkdir -p "$d"
		printf 'state-dir = "%s"\nsocket = "%s/jobify.sock"\ntask "r" { exec = "/bin/true" output = "null" }\n' \
			"$d/st" "$d/st" >"$d/j.conf"
		ins_w=- rate=- ins_m=- sb=- bpj=- ls_w=- ls_m=-
		if [ "$m" -gt 0 ]; then
			awk -v m="$m" 'BEGIN { for (i = 0; i < m; i++) print "r --in 30d -- " i }' >"$d/in"
			timed "$d/ids" "$jobify" -c "$d/j.conf" schedule --stdin <"$d/in"
			ins_w=$t_wall
			ins_m=$t_rss
			got=$(sort -u "$d/ids" | wc -l)
			[ "$got" -eq "$m" ] || die "schedule --stdin printed $got different ids for $m jobs"
			rm -f "$d/in" "$d/ids"
			rate=$(calc 'sprintf("%.0f", m / w)' m="$m" w="$ins_w")
			sb=$(store_bytes "$d/st")
			bpj=$(calc 'sprintf("%.0f", s / m)' s="$sb" m="$m")
			timed /dev/null "$jobify" -c "$d/j.conf" jobs
			ls_w=$t_wall
			ls_m=$t_rss
			tsv_row 3 "$m" schedule-stdin wall_s "$ins_w"
			tsv_row 3 "$m" schedule-stdin cpu_s "$t_cpu"
			tsv_row 3 "$m" schedule-stdin jobs_per_s "$rate"
			tsv_row 3 "$m" schedule-stdin max_rss_kib "$ins_m"
			tsv_row 3 "$m" store bytes "$sb"
			tsv_row 3 "$m" store bytes_per_job "$bpj"
			tsv_row 3 "$m" jobs-list wall_s "$ls_w"
			tsv_row 3 "$m" jobs-list cpu_s "$t_cpu"
			tsv_row 3 "$m" jobs-list max_rss_kib "$ls_m"
		fi
		sup_up "$d/j.conf" "$d/run.log"
		sup_down "$d/run.log"
		tsv_row 3 "$m" run ready_ms "$s_ready"
		tsv_row 3 "$m" run cpu_ms_at_ready "$s_cpu"
		tsv_row 3 "$m" run vmrss_kib "$s_rss"
		tsv_row 3 "$m" run vmhwm_kib "$s_hwm"
		tsv_row 3 "$m" run rssanon_kib "$s_anon"
		if [ "$m" -eq 0 ]; then
			base_jobs=$s_rss
			pj=-
		else
			pj=$(calc 'sprintf("%.1f", (k - b) * 1024 / m)' k="$s_rss" b="$base_jobs" m="$m")
			tsv_row 3 "$m" run bytes_per_job "$pj"
		fi
		t3+=("$(printf '   %7s | %6s %7s %6s | %7s %5s | %6s %7s | %7s %6s %7s %7s %7s' "$m" \
			"$ins_w" "$rate" "$(mb "$ins_m")" \
			"$(mib "$sb")" "$bpj" \
			"$ls_w" "$(mb "$ls_m")" \
			"$s_ready" "$s_cpu" "$(mb "$s_rss")" "$(mb "$s_hwm")" "$pj")")
		rm -rf "$d"
	done
	[ "$cache" = - ] || tsv_row 3 - sqlite default_cache_size "$cache"
fi

load_after=$(load1)
echo
echo "scale: $(nproc) CPUs, load average $load_before before, $load_after after"
echo "command: $cmdline"
echo
echo "1. config load: grouped (100 tasks a router, cron \"0 0 1 1 *\"), median of $reps;"
echo "   wall and CPU (user+sys) s, max RSS MB; B/route: max RSS above the 1-route config's, per route"
printf '   %7s | %-32s | %-32s\n' "" "jobify check" "jobify routes"
printf '   %7s | %7s %7s %8s %7s | %7s %7s %8s %7s\n' routes wall cpu "maxRSS" "B/route" wall cpu "maxRSS" "B/route"
printf '%s\n' "${t1[@]}"
echo
echo "2. jobify run, idle: start -> event=ready (ms), its CPU then (ms); VmRSS, VmHWM (MB) 0.5 s after;"
echo "   B/route: VmRSS above the 1-route config's; store: jobify.db + -wal bytes a route"
printf '   %7s %-11s | %8s %8s | %8s %8s %8s | %9s\n' routes variant "ready" "cpu" VmRSS VmHWM "B/route" "store B/r"
printf '%s\n' "${t2[@]}"
if [ ${#job_counts[@]} -gt 0 ]; then
	echo
	echo "3. one-off jobs 'r --in 30d -- I' through one 'schedule --stdin' (one transaction), in a fresh store;"
	echo "   'jobs' lists all (to /dev/null); run: as in 2; B/job: VmRSS above the empty store's, per job"
	printf '   %7s | %-22s | %-13s | %-14s | %-38s\n' "" "schedule --stdin" "store" "jobify jobs" "jobify run"
	printf '   %7s | %6s %7s %6s | %7s %5s | %6s %7s | %7s %6s %7s %7s %7s\n' jobs "s" "jobs/s" "maxRSS" \
		"MB" "B/job" "s" "maxRSS" "ready" "cpu" VmRSS VmHWM "B/job"
	printf '%s\n' "${t3[@]}"
	if [ "$cache" != - ]; then
		echo "   SQLite's default page cache (PRAGMA cache_size $cache; jobify sets none):" \
			"$(calc 'c < 0 ? sprintf("%d KiB", -c) : sprintf("%d pages", c)' c="$cache") a connection"
	fi
	echo "   goal: <= 256 B a scheduled job (APScheduler: ~760 B)"
fi
header=0
[ -s "$tsv" ] || header=1
{
	[ "$header" -eq 0 ] || printf 'date\tcpus\tload_before\tload_after\tpart\tn\tvariant\tmetric\tvalue\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
