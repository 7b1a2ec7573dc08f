#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The installed manual: this build's paths and version in place of the
# defaults man/ is written with, and mandoc -Tlint finds nothing at level
# warning or above.

setup() {
	load helpers
	: "${top_builddir:?make check sets it}"
	command -v mandoc >/dev/null ||
		fail "mandoc is needed (.ci/install-deps installs it)"
}

@test "the pages carry the configured paths and the version, and none of the defaults" {
	run make -s --no-print-directory -C "$top_builddir" subst-files OUT="$BATS_TEST_TMPDIR/m" \
		sysconfdir=/opt/e localstatedir=/opt/v runstatedir=/opt/r docdir=/opt/doc VERSION=9.8.7
	assert_success
	for page in jobify.1 jobify.conf.5; do
		f="$BATS_TEST_TMPDIR/m/$page"
		run grep -n 'SYSCONFDIR\|DOCDIR\|/var/lib/jobify\|/run/jobify\|/usr/local/etc' "$f"
		assert_failure 1
		run grep -c '^\.Os jobify 9\.8\.7$' "$f"
		assert_output 1
		grep -q '^\.Pa /opt/e/jobify\.conf' "$f"
		grep -q '/opt/v/lib/jobify' "$f"
		grep -q '/opt/r/jobify/jobify\.sock' "$f"
	done
	grep -q '^\.Pa /opt/doc/examples/jobify\.conf' "$BATS_TEST_TMPDIR/m/jobify.conf.5"
}

@test "mandoc -Tlint: no warning or error in the built pages" {
	run mandoc -Tlint -Wwarning "$top_builddir/jobify.1" "$top_builddir/jobify.conf.5"
	assert_success
	assert_output ''
}

@test "jobify.conf(5) has FILES and ENVIRONMENT, and both pages name --state-dir and JOBIFY_STATE_DIR" {
	for page in jobify.1 jobify.conf.5; do
		grep -q '^\.Sh FILES$' "$top_builddir/$page"
		grep -q '^\.Sh ENVIRONMENT$' "$top_builddir/$page"
		grep -q '^\.It Ev JOBIFY_STATE_DIR$' "$top_builddir/$page"
		grep -q 'state\\-dir' "$top_builddir/$page"
	done
}

# The options of a command's synopsis in jobify(1) (.Fl x, .Fl \-long, and
# \-long after a |), without the global -q, -v and --state-dir, which the
# first synopsis line gives once for all.
man_synopsis_options() {
	awk '/^\.Sh SYNOPSIS/ { s = 1; next } /^\.Sh / { s = 0 }
	     s && /^\.Nm/ { if (b != "") print b; b = ""; next }
	     s { b = b " " $0 } END { if (b != "") print b }' "$top_builddir/jobify.1" |
		grep -- "\.Cm $1\( \|$\)" |
		grep -o '\\-[a-z][a-z-]*\|Fl [a-zA-Z]\b' |
		sed 's/^\\-/--/; s/^Fl /-/' | grep -vx -- '-q\|-v\|--state-dir' | sort -u
}

# The same from the Usage lines of `jobify COMMAND --help`.
help_synopsis_options() {
	"$JOBIFY" "$1" --help | awk '/^[A-Z]/ && !/^Usage:/ { exit } { print }' |
		grep -o -- '--[a-z][a-z-]*\|\(^\|[[ |]\)-[a-zA-Z]\b' |
		sed 's/^[[ |]//' | grep -vx -- '-q\|-v\|--state-dir' | sort -u
}

@test "jobify(1)'s SYNOPSIS and --help name the same commands, each with the same options" {
	cmds="$("$JOBIFY" --help | awk '/^Commands:/ { s = 1; next } /^$/ { s = 0 } s { print $1 }' | sort)"
	[ -n "$cmds" ]
	run bash -c "sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /s/^\.Cm //p' '$top_builddir/jobify.1' | sort -u"
	assert_output "$cmds"
	for c in $cmds; do
		h="$(help_synopsis_options "$c")"
		m="$(man_synopsis_options "$c")"
		[ "$h" = "$m" ] || fail "$c: --help has {$(echo $h)}, jobify(1) has {$(echo $m)}"
	done
}
