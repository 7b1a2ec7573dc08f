#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Fire latency of jobify against its Debian peers on the same work: from
# the instant a job is due to the first instruction of its main().  The job
# is bench/firstinsn.c (built dynamic, as in fire-latency.sh), which reads
# CLOCK_REALTIME first thing and appends it, with $JOBIFY_SCHEDULED_AT, to
# a file.  Each scheduler starts it its own way:
#
#   jobify-cron-second  jobify run, one task on "1-29,31-59 * * * * *" (exec,
#                       no shell; it skips :00 and :30, the bursts below)
#   jobify-cron-minute  jobify run, JOBS tasks on "* * * * *"
#   jobify-at           jobify schedule ROUTE --at @EPOCH: JOBS one-off jobs
#                       due at second :30 of each minute of the window (not
#                       :00, where they would queue behind jobify's own
#                       minute tasks: each burst is JOBS jobs, as for a peer)
#   cron                Debian cron (cron -f): JOBS lines "* * * * *" in a
#                       file /etc/cron.d/jobify-bench-peers-PID (it reads no
#                       other directory), removed at exit; each job is
#                       /bin/sh -c LINE, as cron does
#   busybox-crond       busybox crond -f -c TMPDIR (a crontab "root" there):
#                       JOBS lines "* * * * *", also through /bin/sh -c
#   atd                 atd -d (foreground) with JOBS `at -M -t` jobs for each
#                       minute boundary, queued in the fixed spool
#                       /var/spool/cron/atjobs; those not run are atrm'ed at
#                       exit; each job is /bin/sh reading at's job script
#   apscheduler         bench/apscheduler-peer.py (Debian python3-apscheduler):
#                       BackgroundScheduler, DateTrigger jobs every 0.7 s at
#                       sub-second instants, each one a subprocess (fork+exec)
#
# latency = firstinsn's clock - the target: JOBIFY_SCHEDULED_AT for jobify,
# the target in ns passed in the environment for atd and apscheduler, the
# minute boundary before the fire for the two crons (so a fire a whole
# minute late would read as early: none was seen).
#
# All the schedulers run at once in one window of MINUTES minute
# boundaries: they share the machine, and at each boundary the minute
# peers' jobs compete for the CPUs with each other and with jobify's
# (jobify's every-second and APScheduler's sub-second samples mostly fall
# elsewhere).  Debian cron, if this window covers a time in /etc/crontab or
# /etc/cron.d (e.g. cron.hourly at :17), also runs those system jobs as a
# running cron would.
#
# Before that, unless IDLE is 0, each daemon runs alone for IDLE seconds
# with nothing due (empty crontabs, no at job, a jobify task and an
# APScheduler job a day ahead), and its voluntary context switches
# (/proc/PID/task/*/status, summed over threads), 1 s after start-up, are
# scaled to an hour: the idle wakeups.  A daemon that wakes once a minute
# shows as 60 or 120 per hour in a 60 s window: use a longer IDLE for more.
#
# Each daemon is started and stopped (SIGTERM, then SIGKILL) by this script
# with its state in a temporary directory, except the fixed /etc/cron.d and
# at spool noted above; a cron or atd already running on the machine (a
# system one) is left alone and that peer is skipped, as is a peer that is
# not installed.  Needs cc, root for cron, crond and atd (they run jobs
# as users; skipped otherwise), and the peers:
#   apt-get install cron busybox-static at python3-apscheduler
# (Debian's `busybox` package has no crond applet; busybox-static replaces it.)
#
# Usage: bench/peers.sh JOBIFY [MINUTES [IDLE]]
#   MINUTES: minute boundaries in the latency window (default 4, at least 1)
#   IDLE: seconds of the idle window of each daemon (default 60; 0 skips it)
#   e.g. bench/peers.sh ./jobify        (about 6 minutes)
# Prints a table (ms); appends it to $JOBIFY_BENCH_RESULTS/peers.tsv and
# writes every sample to $JOBIFY_BENCH_RESULTS/peers-samples.tsv (peer,
# latency_ms; replaced each run), default bench/results/; bench/plot.sh
# draws the latter.  Goal (issue 6): jobify no later than any peer at p50
# and p99 on the same kind of work, and 0 idle wakeups an hour.
set -euo pipefail
usage="bench/peers.sh JOBIFY [MINUTES [IDLE]]"
. "$(dirname "$0")/lib.sh"

jobify=${1:-}
minutes=${2:-4}
idle=${3:-60}
[ $# -le 3 ] || die "usage: $usage"
need_jobify "$jobify"
need_uint MINUTES "$minutes" 1
need_uint IDLE "$idle" 0
[ "$idle" -eq 0 ] || [ "$idle" -ge 10 ] || die "IDLE must be 0 or at least 10, not $idle"
jobs=5 # jobs per minute boundary for each minute peer
python=${PYTHON:-/usr/bin/python3}
bench_init

# --- which peers can run ------------------------------------------------------
peers=(jobify)
skip() { echo "$prog: skipping $1: $2" >&2; }
running() { # running COMM: the pids of processes named COMM
	local d c
	for d in /proc/[0-9]*; do
		{ read -r c <"$d/comm"; } 2>/dev/null || continue
		[ "$c" != "$1" ] || echo "${d#/proc/}"
	done
}
apt_line="apt-get install cron busybox-static at python3-apscheduler"
root=$(($(id -u) == 0))
if [ "$root" -eq 0 ]; then
	skip "cron, busybox-crond and atd" "they need root (they run jobs as a user)"
elif ! command -v cron >/dev/null; then
	skip cron "not installed ($apt_line)"
elif [ -n "$(running cron)" ]; then
	skip cron "a cron daemon already runs (pid $(running cron | tr '\n' ' ')); stop it to include it"
else
	peers+=(cron)
fi
if [ "$root" -eq 0 ]; then
	:
elif ! command -v busybox >/dev/null; then
	skip busybox-crond "not installed ($apt_line)"
elif ! busybox --list | grep -x crond >/dev/null; then
	skip busybox-crond "this busybox has no crond applet (Debian: apt-get install busybox-static)"
else
	peers+=(busybox-crond)
fi
if [ "$root" -eq 0 ]; then
	:
elif ! command -v atd >/dev/null || ! command -v at >/dev/null; then
	skip atd "not installed ($apt_line)"
elif [ -n "$(running atd)" ]; then
	skip atd "an atd already runs (pid $(running atd | tr '\n' ' ')); stop it to include it"
else
	peers+=(atd)
fi
if ! "$python" -c 'import apscheduler' 2>/dev/null; then
	skip apscheduler "no apscheduler module for $python ($apt_line; PYTHON=... to choose another python)"
else
	peers+=(apscheduler)
fi
has() {
	local p
	for p in "${peers[@]}"; do [ "$p" != "$1" ] || return 0; done
	return 1
}

cc_helper firstinsn

# --- starting and stopping the daemons ----------------------------------------
crond_file=/etc/cron.d/jobify-bench-peers-$$
at_jobs=()
declare -A dpid=()
# The pid and flag files our daemons write in /run (FILE:PEER), and which
# were there before: at exit, one that was not and that a peer we ran
# writes is removed, unless it names a live process (not ours: they are
# stopped by then).
run_files=(/run/crond.pid:cron /run/crond.pid:busybox-crond /run/crond.reboot:cron /run/atd.pid:atd)
declare -A had=()
for f in "${run_files[@]}"; do [ ! -e "${f%%:*}" ] || had[${f%%:*}]=1; done

# nap SECONDS: sleep in the background and wait for it, so that SIGTERM or
# Control-C stops the script (and cleans up) at once, not after the sleep.
nap_pid=
nap() {
	sleep "$1" &
	nap_pid=$!
	wait "$nap_pid" || true
	nap_pid=
}

peers_cleanup() {
	local f j
	[ -z "$nap_pid" ] || kill "$nap_pid" 2>/dev/null || true
	rm -f "$crond_file"
	for j in "${at_jobs[@]}"; do
		atrm "$j" 2>/dev/null || true
	done
	bench_cleanup
	for f in "${run_files[@]}"; do
		if ! has "${f#*:}" || [ -n "${had[${f%%:*}]:-}" ] || [ ! -f "${f%%:*}" ]; then
			continue
		fi
		f=${f%%:*}
		j=
		case $f in *.pid) { read -r j <"$f"; } 2>/dev/null || true ;; esac
		if [ -z "$j" ] || ! kill -0 "$j" 2>/dev/null; then
			rm -f "$f"
		fi
	done
}
trap peers_cleanup EXIT

# start NAME CMD...: run CMD in the background, output to $tmp/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$tmp/$name.log" 2>&1 &
	dpid[$name]=$!
	bg_pids+=("$!")
}

# stop NAME: SIGTERM, SIGKILL after 5 s, wait.
stop() {
	local p=${dpid[$1]} n q rest=()
	kill -TERM "$p" 2>/dev/null || true
	for ((n = 0; n < 50; n++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for q in "${bg_pids[@]}"; do [ "$q" = "$p" ] || rest+=("$q"); done
	bg_pids=("${rest[@]}")
	unset "dpid[$1]"
}

# jobify_conf FILE LATENCY: a config for jobify run in $tmp (state-dir and
# socket too); LATENCY 1 for the latency window, 0 for nothing due.
jobify_conf() {
	local i
	{
		echo "state-dir = \"$tmp/jobify-state\""
		echo "socket = \"$tmp/jobify.sock\""
		if [ "$2" -eq 1 ]; then
			echo "task \"second\" { exec = \"$tmp/firstinsn $tmp/jobify-cron-second.out\" cron = \"1-29,31-59 * * * * *\" output = \"null\" }"
			for ((i = 0; i < jobs; i++)); do
				echo "task \"minute$i\" { exec = \"$tmp/firstinsn $tmp/jobify-cron-minute.out\" cron = \"* * * * *\" output = \"null\" }"
			done
			echo "task \"oneoff\" { exec = \"$tmp/firstinsn $tmp/jobify-at.out\" output = \"null\" }"
		else
			echo "task \"idle\" { exec = \"/bin/true\" cron = \"0 0 1 1 *\" output = \"null\" }"
		fi
	} >"$1"
	chmod 644 "$1"
}

# crontab_file FILE USERFIELD LATENCY NAME: JOBS minute lines writing
# $tmp/NAME.out, or none (LATENCY 0).
crontab_file() {
	local i
	{
		echo 'MAILTO=""'
		echo 'SHELL=/bin/sh'
		if [ "$3" -eq 1 ]; then
			for ((i = 0; i < jobs; i++)); do
				echo "* * * * * $2$tmp/firstinsn $tmp/$4.out"
			done
		fi
	} >"$1"
	chmod 644 "$1"
}

# start_all LATENCY: every peer's daemon, with the work or with nothing due.
start_all() {
	local lat=$1 n
	rm -rf "$tmp/jobify-state" "$tmp/crontabs"
	jobify_conf "$tmp/jobify.conf" "$lat"
	sup_start "$tmp/jobify.conf" "$tmp/jobify.log"
	dpid[jobify]=$sup_pid
	if has cron; then
		crontab_file "$crond_file" "root " "$lat" cron
		start cron cron -f -L 0
	fi
	if has busybox-crond; then
		mkdir -p "$tmp/crontabs"
		crontab_file "$tmp/crontabs/root" "" "$lat" busybox-crond
		start busybox-crond busybox crond -f -c "$tmp/crontabs" -L "$tmp/busybox-crond.daemon.log"
	fi
	if has atd; then
		start atd atd -d
	fi
	if has apscheduler; then
		if [ "$lat" -eq 1 ]; then
			# until the last one-off of jobify
			start apscheduler "$python" "$here/apscheduler-peer.py" "$tmp/firstinsn" "$tmp/apscheduler.out" \
				$((last_boundary + 30 - $(date +%s)))
		else
			start apscheduler "$python" "$here/apscheduler-peer.py" "$tmp/firstinsn" "$tmp/apscheduler.out" 0
		fi
		for ((n = 0; n < 200; n++)); do
			grep -q '^ready' "$tmp/apscheduler.log" && break
			kill -0 "${dpid[apscheduler]}" 2>/dev/null || break
			sleep 0.05
		done
		grep -q '^ready' "$tmp/apscheduler.log" || { cat "$tmp/apscheduler.log" >&2; die "apscheduler-peer.py did not get ready"; }
	fi
	sleep 0.5
	for n in "${!dpid[@]}"; do
		kill -0 "${dpid[$n]}" 2>/dev/null || { cat "$tmp/$n.log" >&2; die "$n exited at start (its output above)"; }
	done
}

stop_all() {
	local n
	for n in "${!dpid[@]}"; do
		[ "$n" = jobify ] || stop "$n"
	done
	unset "dpid[jobify]"
	sup_stop "$tmp/jobify.log"
	rm -f "$crond_file"
}

# ctxt PID: voluntary context switches, summed over its threads.
ctxt() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches:/ { v += $2 } END { print v + 0 }'
}

stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(load1)

# --- idle window --------------------------------------------------------------
declare -A idle_v=() idle_h=()
idle_w=0
if [ "$idle" -gt 0 ]; then
	echo "idle window: ${peers[*]}, ${idle} s" >&2
	start_all 0
	nap 1
	declare -A v0=()
	for n in "${!dpid[@]}"; do v0[$n]=$(ctxt "${dpid[$n]}"); done
	t0=$(date +%s.%N)
	nap "$idle"
	t1=$(date +%s.%N)
	for n in "${!dpid[@]}"; do
		idle_v[$n]=$(($(ctxt "${dpid[$n]}") - v0[$n]))
		idle_h[$n]=$(awk -v v="${idle_v[$n]}" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", v * 3600 / (b - a) }')
	done
	idle_w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	stop_all
fi

# --- latency window -----------------------------------------------------------
# The first boundary leaves 10 s to start the daemons and queue the jobs.
now=$(date +%s)
first_boundary=$(((now + 10 + 59) / 60 * 60))
last_boundary=$((first_boundary + (minutes - 1) * 60))
echo "latency window: ${peers[*]}, until $(date -u -d "@$((last_boundary + 30))" +%H:%M:%SZ) (+ up to 30 s)" >&2
start_all 1
for ((b = first_boundary; b <= last_boundary; b += 60)); do
	for ((i = 0; i < jobs; i++)); do
		"$jobify" -c "$tmp/jobify.conf" schedule oneoff --at "@$((b + 30))" >/dev/null ||
			die "jobify schedule oneoff --at @$((b + 30)) failed"
		if has atd; then
			out=$(echo "JOBIFY_SCHEDULED_AT=${b}000000000 exec $tmp/firstinsn $tmp/atd.out" |
				at -M -t "$(date -d "@$b" +%Y%m%d%H%M)" 2>&1) || die "at failed: $out"
			j=$(sed -n 's/^job \([0-9]*\) at .*/\1/p' <<<"$out")
			[ -n "$j" ] || die "no job number in at's output: $out"
			at_jobs+=("$j")
		fi
	done
done
[ "$(date +%s)" -lt "$first_boundary" ] || die "queueing the jobs took past the first minute boundary"

# Wait for jobify's last one-offs, then for every job (at most 30 s).
nap $((last_boundary + 30 - $(date +%s)))
want_minute=$((minutes * jobs))
for ((n = 0; n < 300; n++)); do
	done_all=1
	for f in jobify-cron-minute jobify-at cron busybox-crond atd; do
		case $f in jobify-*) p=jobify ;; *) p=$f ;; esac
		has "$p" || continue
		[ -e "$tmp/$f.out" ] && [ "$(wc -l <"$tmp/$f.out")" -ge "$want_minute" ] || done_all=0
	done
	[ "$done_all" -eq 0 ] || break
	sleep 0.1
done
nap 1 # apscheduler's last jobs
stop_all
load_after=$(load1)

# --- figures ------------------------------------------------------------------
# latencies FILE: one latency (ms) a line from firstinsn's "NS TARGET"
# lines; TARGET is nanoseconds since the epoch, an ISO time (jobify's
# JOBIFY_SCHEDULED_AT, UTC: compared by time of day), or "-" (the minute
# boundary before NS).  FROM (default 0): only fires from that second on.
latencies() {
	awk -v from="${2:-0}" '
		{
			ns = $1; s = substr(ns, 1, length(ns) - 9) + 0; f = substr(ns, length(ns) - 8) + 0
			if (s < from) next
			if ($2 ~ /^[0-9]+$/) {
				ts = substr($2, 1, length($2) - 9) + 0; tf = substr($2, length($2) - 8) + 0
				print (s - ts) * 1000 + (f - tf) / 1e6
			} else if ($2 == "-") {
				print (s % 60) * 1000 + f / 1e6
			} else if (match($2, /T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?/)) {
				t = substr($2, RSTART + 1, RLENGTH - 1)
				want = substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + substr(t, 7)
				d = s % 86400 - want
				if (d < -43200) d += 86400
				if (d > 43200) d -= 86400
				print d * 1000 + f / 1e6
			}
		}' "$1"
}

samples=$results/peers-samples.tsv
printf 'peer\tlatency_ms\n' >"$samples"
rows=()
# row VARIANT DAEMON TRIGGER JOBS_PER_FIRE [FROM]: the minute tasks count
# from the first boundary on (a cron daemon started before a boundary that
# came sooner fires it too, and the at jobs start there).
row() {
	local file=$tmp/$1.out n stats from=${5:-0}
	[ -s "$file" ] || { echo "$prog: no sample from $1 (its log: $(tail -n 3 "$tmp/$2.log" 2>/dev/null | tr '\n' ' '))" >&2; }
	touch "$file"
	latencies "$file" "$from" | awk -v p="$1" '{ printf "%s\t%.3f\n", p, $1 }' >>"$samples"
	n=$(latencies "$file" "$from" | wc -l)
	stats=$(latencies "$file" "$from" | pctl 50 90 99 100)
	rows+=("$1	$3	$4	$n	${stats// /	}	${idle_h[$2]:--}")
}
row jobify-cron-second jobify "cron, every second" 1
row jobify-cron-minute jobify "cron, minute" "$jobs" "$first_boundary"
row jobify-at jobify "one-off, minute" "$jobs"
! has cron || row cron cron "cron, minute" "$jobs" "$first_boundary"
! has busybox-crond || row busybox-crond busybox-crond "cron, minute" "$jobs" "$first_boundary"
! has atd || row atd atd "one-off, minute" "$jobs"
! has apscheduler || row apscheduler apscheduler "one-off, sub-second" 1

echo "fire latency (ms) from the due instant to the job's first instruction, $minutes minute(s);"
if [ "$idle" -gt 0 ]; then
	echo "idle: voluntary context switches per hour with nothing due (${idle_w} s window each)"
fi
echo "$(nproc) CPUs, load average ${load_before} before, ${load_after} after"
printf '%-19s %-20s %4s %7s %8s %8s %8s %8s %7s\n' variant trigger jobs samples p50 p90 p99 max idle/h
for r in "${rows[@]}"; do
	IFS='	' read -r v t j n p50 p90 p99 mx ih <<<"$r"
	printf '%-19s %-20s %4s %7s %8s %8s %8s %8s %7s\n' "$v" "$t" "$j" "$n" "$p50" "$p90" "$p99" "$mx" "$ih"
done
tsv=$results/peers.tsv
{
	[ -s "$tsv" ] || printf 'date\tcpus\tload_before\tload_after\tvariant\ttrigger\tjobs_per_fire\tsamples\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tidle_voluntary_per_hour\n'
	for r in "${rows[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\n' "$stamp" "$(nproc)" "$load_before" "$load_after" "$r"
	done
} >>"$tsv"
echo "rows appended to $tsv; samples in $samples"
