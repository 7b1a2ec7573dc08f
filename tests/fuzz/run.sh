#!/bin/sh
# SPDX-License-Identifier: ISC
# Build the libFuzzer targets and run each for a while (make fuzz).
#
#   tests/fuzz/run.sh [TARGET...]     targets: cron time conf ctl (default all)
#
# Environment:
#   SECONDS_PER_TARGET  how long each runs (default 60; CI: 30)
#   CC                  a clang with libFuzzer (default clang)
#   FUZZ_DIR            build and work directory (default ./fuzz-build)
#   JOBS                parallel libFuzzer jobs per target (default 1)
#
# Each target runs on a copy of its seed corpus (tests/fuzz/corpus/T) plus
# the regression inputs (tests/fuzz/regress/T-*), which are first run once
# each.  A crash, leak, sanitizer report or invariant failure is written
# to $FUZZ_DIR/crashes/T/ and makes the script exit 1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${SECONDS_PER_TARGET:=60}"
: "${CC:=clang}"
: "${FUZZ_DIR:=$PWD/fuzz-build}"
: "${JOBS:=1}"

case $CC in *clang*) ;; *) CC=clang ;; esac

targets=${*:-cron time conf ctl}

sources() {
	case $1 in
	cron) echo lib/cron.c lib/tz.c lib/decimal.c lib/duration.c ;;
	time) echo lib/decimal.c lib/duration.c lib/timefmt.c lib/timewords.c lib/tz.c ;;
	conf) echo lib/conf.c lib/conf-base.c lib/conf-schema.c lib/conf-read.c lib/conf-include.c lib/confscan.c lib/array.c lib/diag.c lib/strv.c lib/words.c lib/paths.c \
		lib/decimal.c lib/duration.c lib/route.c lib/tz.c lib/cron.c lib/timefmt.c lib/timewords.c \
		lib/bytesize.c lib/mail.c lib/esc.c lib/jerr.c lib/spawn.c lib/guard.c lib/arena.c lib/jlog.c lib/json.c ;;
	ctl) echo lib/ctl.c lib/jerr.c ;;
	*) echo "run.sh: unknown target $1" >&2; return 1 ;;
	esac
}

# config.h is in the build tree; the sources in the source tree.
config_dir=$PWD
[ -f "$config_dir/config.h" ] || config_dir=$top
if [ ! -f "$config_dir/config.h" ]; then
	echo "run.sh: no config.h (run configure first)" >&2
	exit 2
fi

mkdir -p "$FUZZ_DIR" || exit 2
# As configure finds them (the libbsd overlay supplies some prototypes).
pkg_cflags=$(pkg-config --cflags libconfuse libbsd-overlay sqlite3 2>/dev/null) ||
	pkg_cflags="-isystem /usr/include/bsd -DLIBBSD_OVERLAY"
pkg_libs=$(pkg-config --libs libconfuse libbsd-overlay sqlite3 2>/dev/null) ||
	pkg_libs="-lconfuse -lbsd -lsqlite3"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1 halt_on_error=1}"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp print_suppressions=0"

failed=
for t in $targets; do
	src=$(sources "$t") || exit 2
	bin=$FUZZ_DIR/fuzz_$t
	echo "== fuzz_$t: build"
	# shellcheck disable=SC2086
	if ! (cd "$top" && $CC -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -I"$config_dir" -I. -Ilib \
		-DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' -DRUNSTATEDIR='"/run"' $pkg_cflags \
		-o "$bin" tests/fuzz/fuzz_$t.c $src $pkg_libs -lm); then
		echo "== fuzz_$t: build FAILED"
		failed="$failed $t"
		continue
	fi
	corpus=$FUZZ_DIR/corpus/$t
	crashes=$FUZZ_DIR/crashes/$t
	rm -rf "$corpus" "$crashes"
	mkdir -p "$corpus" "$crashes"
	cp "$top/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null
	regress=$(ls "$top/tests/fuzz/regress/$t-"* 2>/dev/null)
	if [ -n "$regress" ]; then
		echo "== fuzz_$t: regression inputs"
		# shellcheck disable=SC2086
		if ! "$bin" -artifact_prefix="$crashes/" $regress >"$FUZZ_DIR/$t-regress.log" 2>&1; then
			echo "== fuzz_$t: regression input FAILED (see $FUZZ_DIR/$t-regress.log)"
			tail -n 30 "$FUZZ_DIR/$t-regress.log"
			failed="$failed $t"
			continue
		fi
		cp $regress "$corpus/"
	fi
	echo "== fuzz_$t: ${SECONDS_PER_TARGET}s"
	par=
	# -jobs writes fuzz-N.log into the current directory: run from FUZZ_DIR.
	[ "$JOBS" -gt 1 ] && par="-jobs=$JOBS -workers=$JOBS"
	# shellcheck disable=SC2086
	(cd "$FUZZ_DIR" && "$bin" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
		-timeout=10 -rss_limit_mb=2048 $par \
		-artifact_prefix="$crashes/" "$corpus" >"$FUZZ_DIR/$t.log" 2>&1)
	rc=$?
	[ -n "$par" ] && cat "$FUZZ_DIR"/fuzz-*.log >>"$FUZZ_DIR/$t.log" 2>/dev/null
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec)|^Done [0-9]+ runs' \
		"$FUZZ_DIR/$t.log" | sed "s/^/   /"
	if [ $rc -ne 0 ] || [ -n "$(ls "$crashes")" ]; then
		echo "== fuzz_$t: FAILED (log: $FUZZ_DIR/$t.log, inputs: $crashes)"
		tail -n 40 "$FUZZ_DIR/$t.log"
		failed="$failed $t"
	else
		echo "== fuzz_$t: ok"
	fi
done
nfailed=$(echo $failed | wc -w)
# The summary in automake's words, for whoever sums test logs (.ci/run).
echo "# PASS: $(( $(echo $targets | wc -w) - nfailed ))"
echo "# FAIL: $nfailed"
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi
echo "fuzz: all passed"
