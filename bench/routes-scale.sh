#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# What loading a config of N routes costs, from the file to a ready
# supervisor (issue 19), for three shapes of config:
#   router:  one router of N tasks (include-router = { 'r' })
#   flat:    every task at the top level of the app
#   routers: one task in each of N routers, all attached
# Every task is `task "tI" { exec = '/bin/true I' cron = "M H 1 1 *"
# output = "null" }` (M, H varying: N different schedules, none of which
# fires while the bench runs), with its own state-dir.  For each shape and N
# (each time the median of REPS runs; stall, the longest of them):
#   check, routes --json:  wall time and peak RSS
#                          (/usr/bin/time), routes' output checked to
#                          hold N routes;
#   start (fresh):         `jobify run` from its start to its event=ready
#                          line, on an empty state dir (the N durable cron
#                          rows are written);
#   start (store):         the same again, on the store the first run left;
#   reload:                SIGHUP to event=reloaded (the same config);
#   swap:                  of that, how long the loop stopped to take the new
#                          routes (reloaded's swap=: the load runs in a thread);
#   stall:                 the longest a `status` request on the control
#                          socket waited for its answer during the reload
#                          (a client asking every 2 ms, from before
#                          the SIGHUP to after event=reloaded): the longest
#                          the loop was held;
#   RSS/route:             (VmRSS after ready - VmRSS of a supervisor of
#                          one task) / N, bytes.
# Then, for each column, the growth factor from each N to the next
# (10x routes: a linear cost grows 10x).
#
# Usage: bench/routes-scale.sh [JOBIFY] [SIZES...]
#        (default: ./jobify 1000 10000 100000; add 1000000 for 1M)
# Environment:
#   JOBIFY_BENCH_SHAPES="router flat routers"   the shapes to run
#   JOBIFY_BENCH_REPS=3    runs of each measure for the median (default 1
#                          at 1M; set it to repeat there too)
#   JOBIFY_BENCH_TIMEOUT=900  the most any one command may take (s)
#   JOBIFY_BENCH_RESULTS   where routes-scale.tsv goes (default bench/results)
# 1M routes needs about 3 GB of memory for the router and flat shapes and
# about 12 GB for the routers shape, and a few minutes each.
set -euo pipefail
export LC_ALL=C
usage="bench/routes-scale.sh [JOBIFY] [SIZES...]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cmdline="$0 $*"

jobify=${1:-./jobify}
shift || true
need_jobify "$jobify"
case $jobify in
/*) ;;
*) jobify=$PWD/$jobify ;;
esac
if [ $# -gt 0 ]; then
	sizes=("$@")
else
	sizes=(1000 10000 100000)
fi
read -r -a shapes <<<"${JOBIFY_BENCH_SHAPES:-router flat routers}"
reps=${JOBIFY_BENCH_REPS:-3}
reps_1m=${JOBIFY_BENCH_REPS:-1}
limit=${JOBIFY_BENCH_TIMEOUT:-900}
for n in "${sizes[@]}"; do
	need_uint SIZES "$n" 1
done
for s in "${shapes[@]}"; do
	case $s in
	router | flat | routers) ;;
	*) die "unknown shape '$s' (router, flat or routers)" ;;
	esac
done
need_uint JOBIFY_BENCH_REPS "$reps" 1
need_uint JOBIFY_BENCH_TIMEOUT "$limit" 1
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (\$EPOCHREALTIME)"
[ -x /usr/bin/time ] || die "needs GNU time as /usr/bin/time (Debian: time)"
command -v python3 >/dev/null || die "needs python3 (to write the configs)"

bench_init
tsv=$results/routes-scale.tsv
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rows=()

# gen SHAPE N FILE STATE: the config.
gen() {
	python3 - "$@" <<'PY'
import sys
shape, n, path, state = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def task(t, indent):
    return "%stask \"t%d\" { exec = '/bin/true %d' cron = \"%d %d 1 1 *\" output = \"null\" }\n" % (
        indent, t, t, t % 60, (t // 60) % 24)
with open(path, "w") as f:
    f.write('state-dir = "%s"\n' % state)
    if shape == "flat":
        for t in range(n):
            f.write(task(t, ""))
    elif shape == "router":
        f.write("include-router = { 'r' }\nrouter \"r\" {\n")
        for t in range(n):
            f.write(task(t, "  "))
        f.write("}\n")
    else:
        f.write("include-router = { %s }\n" % ", ".join("'r%d'" % r for r in range(n)))
        for r in range(n):
            f.write("router \"r%d\" {\n%s}\n" % (r, task(r, "  ")))
PY
}

median() {
	sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# timed OUT CMD...: run CMD (stdout to OUT); t_wall (s), t_rss (KiB).
timed() {
	local out=$1 t0 rc=0
	shift
	now_us
	t0=$now
	timeout "$limit" /usr/bin/time -f '%M' -o "$tmp/time" "$@" >"$out" || rc=$?
	now_us
	[ "$rc" -eq 0 ] || die "'$*' failed (exit $rc; 124: took over $limit s)"
	read -r t_rss <"$tmp/time"
	t_wall=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
}

# start CONF LOG: `jobify run` until its event=ready; s_ready (s), s_rss (KiB).
start() {
	local t0 deadline
	: >"$2"
	now_us
	t0=$now
	TZ=UTC "$jobify" -c "$1" run 2>"$2" &
	sup_pid=$!
	deadline=$((SECONDS + limit))
	until grep -q 'event=ready' "$2"; do
		kill -0 "$sup_pid" 2>/dev/null || { tail -n 5 "$2" >&2; die "jobify run exited before ready"; }
		((SECONDS < deadline)) || die "jobify run not ready after $limit s"
		sleep 0.005
	done
	now_us
	s_ready=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	s_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$sup_pid/status")
}

# probe SOCKET STOP OUT: ask `status` on SOCKET every 2 ms until the file
# STOP exists; the longest wait for an answer (s) and the count into OUT.
# (Not back to back: a client asking as fast as it can took a CPU of its
# own and of the loop's, and a 100k reload's load thread, sharing the
# other, took 1.06 s instead of 0.64.  A stall of the loop longer than
# 2 ms is still seen, less at most 2 ms.)
probe() {
	python3 - "$@" <<'PY'
import os, socket, sys, time
path, stop, out = sys.argv[1:4]
worst, n = 0.0, 0
while not os.path.exists(stop):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"jobify/1 status\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        if any(l.startswith((b"ok", b"err")) for l in buf.split(b"\n")[:-1]):
            break
    s.close()
    worst = max(worst, time.monotonic() - t0)
    n += 1
    time.sleep(0.002)
with open(out, "w") as f:
    f.write("%.3f %d\n" % (worst, n))
PY
}

# reload LOG STATE: SIGHUP until event=reloaded, with a probe of the
# control socket running; s_reload, s_swap, s_stall (s).
reload() {
	local t0 deadline probe_pid
	rm -f "$tmp/probe.stop" "$tmp/probe.out"
	probe "$2/jobify.sock" "$tmp/probe.stop" "$tmp/probe.out" &
	probe_pid=$!
	bg_pids+=("$probe_pid")
	sleep 0.2	# (its first answers before the signal)
	now_us
	t0=$now
	kill -HUP "$sup_pid"
	deadline=$((SECONDS + limit))
	until grep -q 'event=reloaded' "$1"; do
		! grep -q 'event=reload-failed' "$1" || die "the reload failed: $1"
		((SECONDS < deadline)) || die "no reload after $limit s"
		sleep 0.005
	done
	now_us
	s_reload=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	sleep 0.2
	touch "$tmp/probe.stop"
	wait "$probe_pid" || die "the control socket probe failed"
	bg_pids=()
	read -r s_stall _ <"$tmp/probe.out"
	# Older versions load on the loop: their swap is the whole reload.
	s_swap=$(sed -n 's/.*event=reloaded.* swap=\([0-9.]*\).*/\1/p' "$1" | tail -n 1)
	s_swap=${s_swap:-$s_reload}
}

# The baseline: a supervisor of one task.
gen router 1 "$tmp/base.conf" "$tmp/base-state"
start "$tmp/base.conf" "$tmp/base.log"
base_rss=$s_rss
sup_stop "$tmp/base.log"

printf '%-8s %8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n' shape routes "check s" \
	"check MB" "json s" "json MB" "fresh s" "store s" "reload s" "swap s" "stall s" "RSS MB" \
	"B/route"
for shape in "${shapes[@]}"; do
	for n in "${sizes[@]}"; do
		conf=$tmp/$shape-$n.conf
		state=$tmp/$shape-$n-state
		gen "$shape" "$n" "$conf" "$state"
		k=$reps
		[ "$n" -lt 1000000 ] || k=$reps_1m
		: >"$tmp/c.t"
		: >"$tmp/c.m"
		: >"$tmp/j.t"
		: >"$tmp/j.m"
		for ((i = 0; i < k; i++)); do
			timed "$tmp/out" "$jobify" -c "$conf" check
			echo "$t_wall" >>"$tmp/c.t"
			echo "$t_rss" >>"$tmp/c.m"
			timed "$tmp/out" "$jobify" -c "$conf" routes --json
			echo "$t_wall" >>"$tmp/j.t"
			echo "$t_rss" >>"$tmp/j.m"
		done
		got=$(grep -o '"name":' "$tmp/out" | wc -l)
		[ "$got" -eq "$n" ] || die "routes --json listed $got routes of $n"
		: >"$tmp/f.t"
		: >"$tmp/s.t"
		: >"$tmp/r.t"
		: >"$tmp/w.t"
		: >"$tmp/p.t"
		for ((i = 0; i < k; i++)); do
			rm -rf "$state"
			start "$conf" "$tmp/sup.log"
			echo "$s_ready" >>"$tmp/f.t"
			sup_stop "$tmp/sup.log"
			start "$conf" "$tmp/sup.log"
			echo "$s_ready" >>"$tmp/s.t"
			rss=$s_rss
			reload "$tmp/sup.log" "$state"
			echo "$s_reload" >>"$tmp/r.t"
			echo "$s_swap" >>"$tmp/w.t"
			echo "$s_stall" >>"$tmp/p.t"
			sup_stop "$tmp/sup.log"
		done
		fresh=$(median <"$tmp/f.t")
		stored=$(median <"$tmp/s.t")
		s_reload=$(median <"$tmp/r.t")
		s_swap=$(median <"$tmp/w.t")
		s_stall=$(sort -g "$tmp/p.t" | tail -n 1)
		rm -rf "$state"
		per=$(awk -v r="$rss" -v b="$base_rss" -v n="$n" 'BEGIN { printf "%.0f", (r - b) * 1024 / n }')
		row=("$shape" "$n" "$(median <"$tmp/c.t")" "$(median <"$tmp/c.m")"
		     "$(median <"$tmp/j.t")" "$(median <"$tmp/j.m")" "$fresh" "$stored" "$s_reload"
		     "$s_swap" "$s_stall" "$rss" "$per")
		printf '%-8s %8d %9s %9.0f %9s %9.0f %9s %9s %9s %9s %9s %9.0f %9s\n' "${row[0]}" \
			"${row[1]}" "${row[2]}" "$(echo "${row[3]} / 1024" | bc -l)" "${row[4]}" \
			"$(echo "${row[5]} / 1024" | bc -l)" "${row[6]}" "${row[7]}" "${row[8]}" \
			"${row[9]}" "${row[10]}" "$(echo "${row[11]} / 1024" | bc -l)" "${row[12]}"
		tsv_row "$stamp" "${row[@]}"
		echo "${row[*]}" >>"$tmp/all"
	done
done

# Growth per 10x: each size against the one before it, per shape.
echo
echo "growth factor from each size to the next (time columns; a linear cost: the size ratio)"
printf '%-8s %-16s %9s %9s %9s %9s %9s\n' shape sizes check json fresh store reload
awk '{
	if ($1 == shape) {
		printf "%-8s %-16s %9.1f %9.1f %9.1f %9.1f %9.1f\n", $1, p[2] "->" $2,
			$3 / p[3], $5 / p[5], $7 / p[7], $8 / p[8], $9 / p[9]
	}
	shape = $1
	for (i = 1; i <= NF; i++) p[i] = $i
}' "$tmp/all"

{
	[ -s "$tsv" ] || printf '# %s\n' "time shape routes check_s check_kb json_s json_kb start_fresh_s start_store_s reload_s swap_s stall_s rss_kb rss_b_per_route"
	printf '# %s (load %s, %s)\n' "$cmdline" "$(load1)" "$("$jobify" --version)"
	printf '%s\n' "${rows[@]}"
} >>"$tsv"
