#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Idle wakeups of `jobify run`: the supervisor's voluntary context switches
# (voluntary_ctxt_switches in /proc/PID/task/*/status: each is a sleep in
# epoll_wait or vfork ended by a wakeup) over a window, scaled to an hour:
#
#   a. 1000 routes, none due in the window (cron "0 0 1 1 *"): goal 0
#   b. the same 1000 plus one route every minute ("* * * * *", /bin/true):
#      goal: one wakeup per fire (plus the child's exit: about 2-3 a fire)
#   c. the same 1000 plus one route every second, for WINDOW/2: the same
#      figure per fire from more fires
#
# The window starts 1 s after event=ready (start-up is not counted).
# Usage: bench/idle-wakeups.sh JOBIFY [WINDOW]   (seconds, default 60; at least 10)
#   e.g. bench/idle-wakeups.sh ./jobify 120
# Prints a table; writes the same rows to $JOBIFY_BENCH_RESULTS/idle-wakeups.tsv
# (default bench/results/).
set -euo pipefail
usage="bench/idle-wakeups.sh JOBIFY [WINDOW]"
. "$(dirname "$0")/lib.sh"

jobify=${1:-}
window=${2:-60}
need_jobify "$jobify"
need_uint WINDOW "$window" 10
bench_init
idle=1000

# ctxt: "VOLUNTARY NONVOLUNTARY" of the supervisor, over its threads.
ctxt() {
	cat /proc/"$sup_pid"/task/*/status |
		awk '/^voluntary_ctxt_switches:/ { v += $2 } /^nonvoluntary_ctxt_switches:/ { n += $2 }
		     END { print v, n }'
}

# phase LABEL CRON SECONDS: the idle routes plus, unless CRON is empty,
# one route on CRON; one row in $rows.
rows=()
phase() {
	local label=$1 cron=$2 dur=$3 conf=$tmp/idle.conf log=$tmp/idle.log i v0 n0 v1 n1 s0 s1 t0 t1
	{
		echo "state-dir = \"$tmp/state\""
		for ((i = 0; i < idle; i++)); do
			echo "task \"idle$i\" { exec = \"/bin/true\" cron = \"0 0 1 1 *\" output = \"null\" }"
		done
		[ -z "$cron" ] || echo "task \"busy\" { exec = \"/bin/true\" cron = \"$cron\" output = \"null\" }"
	} >"$conf"
	rm -rf "$tmp/state"
	sup_start "$conf" "$log"
	sleep 1
	t0=$(date +%s.%N)
	read -r v0 n0 <<<"$(ctxt)"
	s0=$(grep -c 'event=start' "$log" || true)
	sleep "$dur"
	read -r v1 n1 <<<"$(ctxt)"
	s1=$(grep -c 'event=start' "$log" || true)
	t1=$(date +%s.%N)
	sup_stop "$log"
	trouble=$(log_trouble "$log")
	[ "$trouble" -eq 0 ] || { grep -E 'level=(warn|error)' "$log" | head -n 5 >&2; echo "$prog: $trouble warn/error lines in the log" >&2; }
	rows+=("$(awk -v l="$label" -v r=$((idle + (${#cron} > 0))) -v t0="$t0" -v t1="$t1" \
		-v v=$((v1 - v0)) -v n=$((n1 - n0)) -v f=$((s1 - s0)) 'BEGIN {
		w = t1 - t0
		printf "%s\t%d\t%.1f\t%d\t%d\t%d\t%.0f\t%s\n", l, r, w, f, v, n, v * 3600 / w,
			f ? sprintf("%.2f", v / f) : "-"
	}')")
}

stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)
phase "a. none due" "" "$window"
phase "b. one every minute" "* * * * *" "$window"
phase "c. one every second" "* * * * * *" $((window / 2))
load_after=$(load1)

echo "voluntary context switches of jobify run ($idle idle routes in each)"
echo "$(nproc) CPUs, load average ${load_before} before, ${load_after} after"
printf '%-22s %6s %8s %6s %9s %9s %9s %9s\n' case routes "window" fires voluntary involunt. "vol./hour" "vol./fire"
for r in "${rows[@]}"; do
	IFS='	' read -r l n w f v nv h pf <<<"$r"
	printf '%-22s %6s %7ss %6s %9s %9s %9s %9s\n' "$l" "$n" "$w" "$f" "$v" "$nv" "$h" "$pf"
done
tsv=$results/idle-wakeups.tsv
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tcase\troutes\twindow_s\tfires\tvoluntary\tnonvoluntary\tvoluntary_per_hour\tvoluntary_per_fire\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv"
