#!/bin/sh
# SPDX-License-Identifier: ISC
# valgrind.sh PROG [ARG...]: run PROG under valgrind's memcheck, for
# `make check-valgrind`.  The process keeps its pid (the tests signal it)
# and writes a report to $VALGRIND_LOG_DIR/PID.log only when there is
# something to report (-q): an invalid read or write, a jump on an
# uninitialised value, a bad free, a definite or indirect leak.  The
# target fails when any report is not empty; a process with an error also
# exits 99, which the tests see as a failure of their own.
#
# A forked child that has not exec'd yet shares its parent's heap, so its
# own exit would only report the parent's memory as leaked: it is silent
# (--child-silent-after-fork); what it execs is not traced.
set -eu
: "${VALGRIND_LOG_DIR:?valgrind.sh: set VALGRIND_LOG_DIR to a directory for the reports}"
exec valgrind -q --tool=memcheck \
	--leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect \
	--error-exitcode=99 --child-silent-after-fork=yes \
	--trace-children=no \
	--log-file="$VALGRIND_LOG_DIR/%p.log" \
	"$@"
