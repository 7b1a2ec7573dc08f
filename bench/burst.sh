#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Burst throughput of `jobify run`: N tasks with the same cron second, each
# running /bin/true with output = "null".  Measured from the scheduled
# second to the last job's `event=exit` line (the log's time=, in ms; an
# exit is logged once reaped, so this is the supervisor's view), as jobs/s,
# against a plain vfork+execve(/bin/true) loop in the same shape (all N
# started, then all reaped: bench/vfork-loop.c) run just before each burst
# on the same machine.  Also: when the last job started, and the CPU time
# the supervisor spent from ready to the last exit (utime+stime from
# /proc/PID/stat, 10 ms ticks) per job, against the loop's own.
#
# Each burst is a fresh supervisor whose one cron second is 2-3 s after
# it is started; REPS bursts (default 3) for each N, interleaved with the
# baseline; the table gives the medians.
#
# Usage: bench/burst.sh JOBIFY [N...]      (default N: 1000 2000)
#   e.g. REPS=5 bench/burst.sh ./jobify 500 1000
# Prints a table; writes the same rows to $JOBIFY_BENCH_RESULTS/burst.tsv
# (default bench/results/).  Goal (issue 4): at least 80 % of the loop.
set -euo pipefail
usage="bench/burst.sh JOBIFY [N...]"
. "$(dirname "$0")/lib.sh"

jobify=${1:-}
need_jobify "$jobify"
shift
sizes=(1000 2000)
[ $# -eq 0 ] || sizes=("$@")
reps=${REPS:-3}
need_uint REPS "$reps" 1
for n in "${sizes[@]}"; do
	need_uint N "$n" 1
done
bench_init
cc_helper vfork-loop
clk=$(getconf CLK_TCK)

# The supervisor's utime+stime so far (s).
sup_cpu() {
	cut -d')' -f2- "/proc/$sup_pid/stat" | awk -v t="$clk" '{ print ($12 + $13) / t }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }'; }

# burst_once N: one supervisor, one burst; prints
#   first_start last_start last_exit (s after the scheduled second) cpu_s ok
burst_once() {
	local n=$1 conf=$tmp/burst.conf log=$tmp/burst.log now target sec i tries cpu0 cpu done=0
	for ((tries = 0; tries < 3; tries++)); do
		now=$(date +%s)
		target=$((now + 3))
		sec=$((target % 60))
		{
			echo "state-dir = \"$tmp/state\""
			for ((i = 0; i < n; i++)); do
				echo "task \"t$i\" { exec = \"/bin/true\" cron = \"$sec * * * * *\" output = \"null\" }"
			done
		} >"$conf"
		rm -rf "$tmp/state"
		sup_start "$conf" "$log"
		# Ready before the second, or this burst is not a clean one.
		if [ "$(date +%s)" -lt "$target" ]; then
			done=1
			break
		fi
		sup_stop "$log"
		echo "$prog: jobify was ready too late for second $target; again" >&2
	done
	[ "$done" -eq 1 ] || die "jobify run never got ready 2 s ahead with $n routes"
	cpu0=$(sup_cpu)
	for ((i = 0; i < 480; i++)); do
		[ "$(grep -c 'event=exit' "$log")" -ge "$n" ] && break
		kill -0 "$sup_pid" 2>/dev/null || die "jobify run died (log: $log)"
		sleep 0.25
	done
	cpu=$(awk -v a="$cpu0" -v b="$(sup_cpu)" 'BEGIN { print b - a }')
	sup_stop "$log"
	cp "$log" "$tmp/burst-$n-last.log"
	# Times of day (UTC) relative to the target second, from time=.
	awk -v tgt=$((target % 86400)) -v n="$n" -v cpu="$cpu" '
		function rel(   t, s) {
			match($0, /time=[0-9-]+T[0-9:.]+/)
			t = substr($0, RSTART + 16, 12)
			s = substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + substr(t, 7) - tgt
			if (s < -43200) s += 86400
			return s
		}
		/event=start / { r = rel(); if (!fs) { fs = 1; first = r }; last = r; starts++ }
		/event=exit / { r = rel(); if (r > lexit) lexit = r; exits++; if ($0 ~ /status=success/) ok++ }
		END {
			if (starts != n || exits != n) printf "burst: %d starts, %d exits of %d\n", starts, exits, n > "/dev/stderr"
			printf "%.3f %.3f %.3f %.3f %d\n", first, last, lexit, cpu, ok
		}' "$log"
}

tsv=$results/burst.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)
rows=()
for n in "${sizes[@]}"; do
	: >"$tmp/base" && : >"$tmp/ours"
	for ((r = 0; r < reps; r++)); do
		"$tmp/vfork-loop" -s burst "$n" /bin/true | tr ' ' '\n' |
			awk -F= '$1 == "total" { t = $2 } $1 == "cpu" { c = $2 } END { print t, c }' >>"$tmp/base"
		burst_once "$n" >>"$tmp/ours"
		printf 'N=%s burst %d: loop %ss, jobify last exit %ss after the second\n' "$n" $((r + 1)) \
			"$(tail -n 1 "$tmp/base" | cut -d' ' -f1)" "$(tail -n 1 "$tmp/ours" | cut -d' ' -f3)"
		trouble=$(log_trouble "$tmp/burst-$n-last.log")
		[ "$trouble" -eq 0 ] || echo "$prog: $trouble warn/error lines in the log of a burst of $n" >&2
	done
	base=$(awk '{ print $1 }' "$tmp/base" | median)
	base_cpu=$(awk '{ print $2 }' "$tmp/base" | median)
	first=$(awk '{ print $1 }' "$tmp/ours" | median)
	lstart=$(awk '{ print $2 }' "$tmp/ours" | median)
	lexit=$(awk '{ print $3 }' "$tmp/ours" | median)
	cpu=$(awk '{ print $4 }' "$tmp/ours" | median)
	okmin=$(awk '{ print $5 }' "$tmp/ours" | sort -n | head -n 1)
	rate_base=$(awk -v n="$n" -v t="$base" 'BEGIN { printf "%.0f", n / t }')
	rate=$(awk -v n="$n" -v t="$lexit" 'BEGIN { printf "%.0f", n / t }')
	pct=$(awk -v a="$rate" -v b="$rate_base" 'BEGIN { printf "%.0f", 100 * a / b }')
	cpu_us=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.0f", c * 1e6 / n }')
	base_cpu_us=$(awk -v c="$base_cpu" -v n="$n" 'BEGIN { printf "%.0f", c * 1e6 / n }')
	rows+=("$n	$reps	$base	$rate_base	$base_cpu_us	$first	$lstart	$lexit	$rate	$pct	$cpu_us	$okmin")
done
load_after=$(load1)

echo "burst of N /bin/true at one cron second; medians of $reps bursts"
echo "$(nproc) CPUs, load average ${load_before} before, ${load_after} after"
printf '%6s | %-24s | %-56s\n' "" "vfork+execve loop" "jobify run, from the scheduled second"
printf '%6s | %8s %7s %7s | %9s %8s %8s %7s %6s %7s %6s\n' N "total(s)" "jobs/s" "CPU us" \
	"1st start" "last st." "last ex." "jobs/s" "% loop" "CPU us" "ok"
for r in "${rows[@]}"; do
	IFS='	' read -r n _ base rb bc first ls le rate pct cpu ok <<<"$r"
	printf '%6s | %8s %7s %7s | %9s %8s %8s %7s %5s%% %7s %6s\n' "$n" "$base" "$rb" "$bc" \
		"$first" "$ls" "$le" "$rate" "$pct" "$cpu" "$ok"
done
echo "(times in s; CPU us: the spawner's own CPU time per job; ok: jobs that exited 0, fewest of the bursts)"
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tn\treps\tloop_total_s\tloop_jobs_per_s\tloop_cpu_us_per_job\tfirst_start_s\tlast_start_s\tlast_exit_s\tjobs_per_s\tpct_of_loop\tsup_cpu_us_per_job\tmin_success\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
