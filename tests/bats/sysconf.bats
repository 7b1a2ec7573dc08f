#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# The installed SYSCONFDIR/jobify.conf: it only includes jobify.d/*.conf,
# where each file may define and attach its routers (include-router +=)
# without undoing the others'; make install never replaces one that is
# there, and uninstall removes it only when unchanged.

setup() {
	load sup-helpers
	: "${top_builddir:?make check sets it}"
}

@test "an empty jobify.d is a valid config; drop-in files add their routes and routers" {
	run make -s --no-print-directory -C "$top_builddir" subst-files OUT="$BATS_TEST_TMPDIR/e" \
		sysconfdir=/opt/e docdir=/opt/doc
	assert_success
	grep -q '^# /opt/e/jobify.conf: ' "$BATS_TEST_TMPDIR/e/jobify.conf.system"
	grep -q '/opt/doc/examples/jobify.conf\.$' "$BATS_TEST_TMPDIR/e/jobify.conf.system"
	cp "$BATS_TEST_TMPDIR/e/jobify.conf.system" "$(T conf)"
	run --separate-stderr "$JOBIFY" -c "$(T conf)" check
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(T conf): 0 routes in 1 file, 0 detached routers"
	mkdir "$(T jobify.d)"
	conf jobify.d/backup.conf <<'EOF'
router "backup" { task "nightly" { exec = 'true' cron = "0 3 * * *" } }
include-router += { "backup" }
EOF
	conf jobify.d/reports.conf <<'EOF'
router "reports" { task "weekly" { exec = 'true' cron = "0 6 * * mon" } }
include-router += { "reports" }
task "ping" { exec = 'true' }
EOF
	run --separate-stderr "$JOBIFY" -c "$(T conf)" routes
	assert_success
	assert_equal "$stderr" ""
	run cut -f1 <<<"$output"
	assert_output "ping
backup:nightly
reports:weekly"
}

@test "make install puts it there once, and uninstall takes it back only unchanged" {
	dest="$BATS_TEST_TMPDIR/root"
	sysconf=/etc
	inst() {
		make -s --no-print-directory -C "$top_builddir" "$1" DESTDIR="$dest" sysconfdir=$sysconf
	}
	run inst install-sysconf
	assert_success
	cmp "$top_builddir/etc/jobify.conf.system" "$dest$sysconf/jobify.conf"
	[ -d "$dest$sysconf/jobify.d" ]
	echo 'timezone = "UTC"' >>"$dest$sysconf/jobify.conf"
	cp "$dest$sysconf/jobify.conf" "$(T mine)"
	run inst install-sysconf
	assert_success
	cmp "$(T mine)" "$dest$sysconf/jobify.conf"
	run inst uninstall-sysconf
	assert_success
	cmp "$(T mine)" "$dest$sysconf/jobify.conf"
	rm "$dest$sysconf/jobify.conf"
	run inst install-sysconf
	run inst uninstall-sysconf
	assert_success
	[ ! -e "$dest$sysconf/jobify.conf" ]
	[ ! -e "$dest$sysconf/jobify.d" ]
}
