# SPDX-License-Identifier: ISC
# Shared setup for the bats suites: load bats-support/bats-assert from the
# Debian packages and point at the jobify binary under test.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${JOBIFY:=${top_builddir:-$PWD}/jobify}"
: "${top_srcdir:=$PWD}"
export JOBIFY top_srcdir

# Never read the developer's own config or state.
unset JOBIFY_CONFIG
export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg-config"
export XDG_STATE_HOME="$BATS_TEST_TMPDIR/xdg-state"
export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg-runtime"
export LC_ALL=C.UTF-8
unset NO_COLOR

# conf FILE: write standard input to $BATS_TEST_TMPDIR/FILE.
conf() {
	mkdir -p "$(dirname "$BATS_TEST_TMPDIR/$1")"
	cat >"$BATS_TEST_TMPDIR/$1"
}
