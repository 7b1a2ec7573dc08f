#!/usr/bin/env bats
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
