#!/bin/sh
# SPDX-License-Identifier: ISC
# valgrind-report.sh DIR: after `make check-valgrind`, show every report
# valgrind wrote in DIR and fail if there is one.  Lines of its own
# ("--PID-- WARNING: unhandled syscall") are notes, not errors: they are
# shown once each and do not fail the run.
set -u
dir=${1:?usage: valgrind-report.sh DIR}
logs=$(find "$dir" -name '*.log' -size +0 | sort)
notes=0 bad=0
for f in $logs; do
	if grep -q '^==[0-9]*==' "$f"; then
		bad=$((bad + 1))
		echo "--- $f"
		cat "$f"
	else
		notes=$((notes + 1))
	fi
done
# shellcheck disable=SC2086
[ "$notes" -eq 0 ] ||
	cat $logs | sed -n 's/^--[0-9]*-- WARNING: //p' | sort | uniq -c |
		sed 's/^ *\([0-9]*\) /valgrind: warned \1 times: /'
total=$(find "$dir" -name '*.log' | wc -l)
echo "valgrind: $total processes, $bad with errors or leaks"
[ "$bad" -eq 0 ]
