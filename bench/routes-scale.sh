#!/usr/bin/env bash
# How long `jobify routes` takes to load and list configs of 1k, 10k and
# 100k routes, and how much memory it peaks at, for three shapes:
#   grouped: 100 tasks in each router (the common case)
#   flat:    every task at the top level of the app (siblings compared)
#   routers: one task in each of N routers (a router per route)
# Usage: bench/routes-scale.sh [JOBIFY] [SIZES...]   (default: ./jobify 1000 10000)
# Prints a table; figures are the median of 5 runs, via /usr/bin/time.
set -euo pipefail
jobify=${1:-./jobify}
shift || true
sizes=("${@:-1000 10000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # gen SHAPE N FILE
	python3 - "$1" "$2" "$3" <<'PY'
import sys
shape, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "w") as f:
    if shape == "flat":
        for t in range(n):
            f.write("task \"t%d\" { exec = '/bin/true %d' cron = \"*/5 * * * *\" }\n" % (t, t))
    else:
        per = 100 if shape == "grouped" else 1
        routers = max(1, n // per)
        f.write("include-router = { %s }\n" % ", ".join("'r%d'" % r for r in range(routers)))
        for r in range(routers):
            f.write("router \"r%d\" {\n" % r)
            for t in range(per):
                f.write("  task \"t%d\" { exec = '/bin/true %d' cron = \"*/5 * * * *\" }\n" % (t, t))
            f.write("}\n")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-8s %8s %10s %10s\n' shape routes "time (s)" "peak (MB)"
for shape in grouped flat routers; do
	for n in "${sizes[@]}"; do
		gen "$shape" "$n" "$tmp/$shape-$n.conf"
		: >"$tmp/times"
		: >"$tmp/mem"
		for _ in 1 2 3 4 5; do
			/usr/bin/time -f '%e %M' -o "$tmp/one" "$jobify" -c "$tmp/$shape-$n.conf" routes >"$tmp/out"
			read -r t m <"$tmp/one"
			echo "$t" >>"$tmp/times"
			echo "$m" >>"$tmp/mem"
		done
		lines=$(wc -l <"$tmp/out")
		[ "$lines" -eq "$n" ] || { echo "routes listed $lines of $n" >&2; exit 1; }
		printf '%-8s %8d %10s %10.1f\n' "$shape" "$n" "$(median <"$tmp/times")" \
			"$(echo "$(median <"$tmp/mem") / 1024" | bc -l)"
	done
done
