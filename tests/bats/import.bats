#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify import-crontab: crontab(5) files as configs that check accepts and
# that fire at the times cron would (python3-croniter says which).

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
	export TZ=UTC
	py=${PYTHON3:-/usr/bin/python3}
	case $py in no|'') py=/usr/bin/python3 ;; esac
}

# agree CRONTAB CONF FROM: every line of CRONTAB has a task in CONF whose
# next 20 fires from FROM are croniter's.
agree() {
	run "$py" "$top_srcdir/tests/crontab-next.py" "$JOBIFY" "$1" "$2" 0 "$3"
	echo "$output"
	assert_success
}

@test "import-crontab: Debian's /etc/crontab, with its user column" {
	run --separate-stderr "$JOBIFY" import-crontab --system "$top_srcdir/tests/fixtures/debian-crontab"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" > etc.conf
	assert_line "task \"cd-18\" { cron = '17 * * * *' user = 'root' exec = { '/bin/sh', '-c', 'cd / && run-parts --report /etc/cron.hourly' } env = { 'SHELL=/bin/sh', 'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin' } misfire = 'skip' overlap = 'parallel' }"
	run "$JOBIFY" -c etc.conf check
	assert_success
	assert_output "etc.conf: 4 routes in 1 file, 0 detached routers"
	agree "$top_srcdir/tests/fixtures/debian-crontab" etc.conf 1767225600
}

@test "import-crontab: a user crontab with every crontab(5) feature fires as croniter says" {
	run --separate-stderr "$JOBIFY" import-crontab "$top_srcdir/tests/fixtures/user-crontab"
	assert_success
	[ -z "$stderr" ]
	printf '%s\n' "$output" > user.conf
	run "$JOBIFY" -c user.conf check
	assert_success
	assert_output "user.conf: 23 routes in 1 file, 0 detached routers"
	grep -q "mail-to = 'ops@example.com, oncall@example.com'" user.conf
	# From June: croniter 1.3.5 adds a fire an hour early on the Monday
	# after New York's spring change, which jobify and cron do not.
	agree "$top_srcdir/tests/fixtures/user-crontab" user.conf 1780272000
	# from standard input too, the same config but for the source's name
	run --separate-stderr "$JOBIFY" import-crontab - < "$top_srcdir/tests/fixtures/user-crontab"
	assert_success
	diff <(sed 1d user.conf) <(printf '%s\n' "$output" | sed 1d)
}

@test "import-crontab: the commands run as cron runs them (SHELL, env, % as input)" {
	run --separate-stderr "$JOBIFY" import-crontab "$top_srcdir/tests/fixtures/user-crontab"
	printf '%s\n' "$output" > user.conf
	run --separate-stderr "$JOBIFY" -c user.conf exec cat-31
	assert_success
	assert_output "line one
100% done"
	run --separate-stderr "$JOBIFY" -c user.conf exec date-32
	assert_success
	assert_output "$(date +%Y-%m-%d)"
	conf env.crontab <<-'EOF'
	SHELL = /bin/bash
	GREETING = "hello, world"
	Q="it's"
	@daily echo "$GREETING|$SHELL|$Q|${BASH_VERSION:+bash}"
	EOF
	"$JOBIFY" import-crontab env.crontab > env.conf
	run --separate-stderr "$JOBIFY" -c env.conf exec echo-4
	assert_success
	assert_output "hello, world|/bin/bash|it's|bash"
}

@test "import-crontab: MAILTO becomes mail-to, CRON_TZ the timezone, each for the lines below" {
	conf m.crontab <<-'EOF'
	0 1 * * * first
	MAILTO=ops@example.com
	CRON_TZ=Europe/Berlin
	0 2 * * * second
	MAILTO=""
	CRON_TZ=
	0 3 * * * third
	EOF
	run --separate-stderr "$JOBIFY" import-crontab m.crontab
	assert_success
	assert_line --partial "task \"first-1\" { cron = '0 1 * * *' exec"
	assert_line --regexp "^task \"second-4\" \\{ cron = '0 2 \\* \\* \\*' timezone = 'Europe/Berlin' exec .* mail-to = 'ops@example.com' misfire"
	assert_line --partial "task \"third-7\" { cron = '0 3 * * *' exec"
	refute_line --regexp "third-7.*(mail-to|timezone)"
	refute_line --regexp "first-1.*(mail-to|timezone)"
	printf '%s\n' "$output" > m.conf
	run "$JOBIFY" -c m.conf check
	assert_success
}

@test "import-crontab: what cannot be carried over is a comment and a warning" {
	conf bad.crontab <<-'EOF'
	0 0 * * sat-sun weekend
	@fortnightly often
	0 25 * * * late
	1 2 3
	just words here
	CRON_TZ=Mars/Base
	0 4 * * * fine
	EOF
	run --separate-stderr "$JOBIFY" import-crontab bad.crontab
	assert_success
	assert_line "# line 1: 0 0 * * sat-sun weekend"
	assert_line "#   not carried over: cron: field 5 (day-of-week): range 6-0 goes backwards"
	assert_line --partial 'task "fine-7"'
	refute_line --partial 'timezone'
	[ "$stderr" = "jobify: bad.crontab:1: warning: cron: field 5 (day-of-week): range 6-0 goes backwards (kept as a comment)
jobify: bad.crontab:2: warning: not an @ name of crontab(5) (@reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) (kept as a comment)
jobify: bad.crontab:3: warning: cron: field 2 (hour): 25 is out of range 0-23 (kept as a comment)
jobify: bad.crontab:4: warning: fewer than five time fields and a command (kept as a comment)
jobify: bad.crontab:5: warning: neither an entry nor NAME=VALUE (kept as a comment)
jobify: bad.crontab:6: warning: an unknown time zone: the entries below keep the previous one (kept as a comment)" ]
	printf '%s\n' "$output" > bad.conf
	run "$JOBIFY" -c bad.conf check
	assert_success
}

@test "import-crontab: a user column in a user crontab is an error, nothing printed" {
	conf sys.crontab <<-'EOF'
	17 * * * * root cd / && run-parts --report /etc/cron.hourly
	EOF
	run --separate-stderr "$JOBIFY" import-crontab sys.crontab
	assert_failure 65
	[ -z "$output" ]
	[ "$stderr" = "jobify: sys.crontab:1: 'root' after the five time fields is a user: this line is from a system crontab (/etc/crontab, /etc/cron.d), which has a user column; import it with --system" ]
	# and a system crontab without a user column: a comment
	run --separate-stderr "$JOBIFY" import-crontab --system <(echo '@daily')
	assert_success
	assert_line "#   not carried over: no user column (a system crontab has one)"
}

@test "import-crontab: usage and file errors" {
	run --separate-stderr "$JOBIFY" import-crontab nosuch.crontab
	assert_failure 66
	[ "$stderr" = "jobify: import-crontab: nosuch.crontab: No such file or directory" ]
	run --separate-stderr "$JOBIFY" import-crontab a b
	assert_failure 64
	run --separate-stderr "$JOBIFY" import-crontab --bogus
	assert_failure 64
	run --separate-stderr "$JOBIFY" import-crontab --help
	assert_success
	assert_output --partial "import-crontab [--system|--user] [FILE]"
}
