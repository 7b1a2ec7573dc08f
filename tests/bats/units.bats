#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The systemd units: this build's paths, reload through `jobify reload`,
# the watchdog, and a unit file that systemd-analyze verify accepts.

setup() {
	load helpers
	: "${top_builddir:?make check sets it}"
	command -v systemd-analyze >/dev/null ||
		fail "systemd-analyze is needed (.ci/install-deps installs systemd)"
	run make -s --no-print-directory -C "$top_builddir" subst-files OUT="$BATS_TEST_TMPDIR/u" \
		bindir=/opt/b sysconfdir=/opt/e localstatedir=/opt/v runstatedir=/opt/r
	assert_success
}

@test "both units run and reload the configured binary, as Type=notify with a watchdog" {
	for unit in jobify.service jobify-user.service; do
		run grep -E '^(Type|ExecStart|ExecReload|WatchdogSec|NotifyAccess)=' "$BATS_TEST_TMPDIR/u/$unit"
		assert_output "Type=notify
NotifyAccess=main
ExecStart=/opt/b/jobify run
ExecReload=/opt/b/jobify reload
WatchdogSec=2min"
		run grep -n '@\|/usr/local' "$BATS_TEST_TMPDIR/u/$unit"
		assert_failure 1
	done
	grep -q '^# It reads /opt/e/jobify.conf,' "$BATS_TEST_TMPDIR/u/jobify.service"
	grep -q '^# /opt/v/lib/jobify and its control socket in$' "$BATS_TEST_TMPDIR/u/jobify.service"
	grep -q '^# /opt/r/jobify/jobify.sock' "$BATS_TEST_TMPDIR/u/jobify.service"
	grep -q '^WantedBy=multi-user.target$' "$BATS_TEST_TMPDIR/u/jobify.service"
	grep -q '^WantedBy=default.target$' "$BATS_TEST_TMPDIR/u/jobify-user.service"
}

@test "systemd-analyze verify accepts both, pointed at the built jobify" {
	run make -s --no-print-directory -C "$top_builddir" subst-files OUT="$BATS_TEST_TMPDIR/v" \
		bindir="$top_builddir"
	assert_success
	# The user unit under its installed name, in a directory of its own.
	mkdir "$BATS_TEST_TMPDIR/user"
	cp "$BATS_TEST_TMPDIR/v/jobify-user.service" "$BATS_TEST_TMPDIR/user/jobify.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/v/jobify.service"
	assert_success
	assert_output ''
	mkdir -p "$XDG_RUNTIME_DIR"
	run systemd-analyze --user verify --man=no "$BATS_TEST_TMPDIR/user/jobify.service"
	assert_success
	refute_output --partial 'jobify.service'
}
