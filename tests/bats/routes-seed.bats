#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# jobify routes on the Routers page's examples, and include().

setup() {
	load helpers
	cd "$BATS_TEST_TMPDIR"
	# A copy of our own, mode 0644: run as root (a package build), jobify
	# refuses a group-writable config, and a checkout or a source
	# tarball may well have the file 0664.
	seed="$BATS_TEST_TMPDIR/seed.conf"
	cp "$top_srcdir/tests/fixtures/seed.conf" "$seed"
	chmod 644 "$seed"
}

@test "the seed's examples resolve to the page's route names, in order" {
	run --separate-stderr "$JOBIFY" -c "$seed" routes
	assert_success
	[ -z "$stderr" ]
	assert_equal "$(cut -f1 <<<"$output")" "send_welcome_email
reports:generate_daily_report
reports:weekly
analytics.users:track_logins"
	assert_line --index 1 --regexp "^reports:generate_daily_report	0 6 \\* \\* \\*	[0-9]{4}-[0-9]{2}-[0-9]{2}T06:00:00[+-][0-9]{2}:[0-9]{2}	\\./bin/report 'daily report'	.*/seed\\.conf:11\$"
}

@test "a detached router's task shows only with --all, marked" {
	run --separate-stderr "$JOBIFY" -c "$seed" routes
	refute_line --partial "my_task"
	run --separate-stderr "$JOBIFY" -c "$seed" routes --all
	assert_success
	assert_line --index 4 "$(printf 'orphan:my_task\t-\t-\ttrue\t%s:31\tdetached' "$seed")"
	assert_line --index 0 --regexp $'\tattached$'
}

@test "--json has the SPEC's keys and shapes" {
	run --separate-stderr "$JOBIFY" -c "$seed" routes --json --all
	assert_success
	/usr/bin/python3 - "$output" <<'PY'
import json, sys
routes = json.loads(sys.argv[1])
assert [r["name"] for r in routes] == ["send_welcome_email", "reports:generate_daily_report",
    "reports:weekly", "analytics.users:track_logins", "orphan:my_task"], routes
keys = {"name", "task", "prefix", "router", "cron", "timezone", "next_run", "exec", "source", "attached"}
for r in routes:
    assert keys <= set(r), set(r)
w = routes[2]
assert w["task"] == "weekly" and w["prefix"] == "reports" and w["router"] == "reports"
assert w["exec"] == ["./bin/report", "weekly"] and w["cron"] == "0 6 * * 1"
assert routes[1]["exec"] == ["./bin/report", "daily report"]
assert routes[2]["next_run"].endswith(":00") and "T06:00:00" in routes[2]["next_run"]
t = routes[3]
assert t["prefix"] == "analytics.users" and t["router"] == "users" and t["cron"] is None
assert routes[0]["prefix"] == "" and routes[4]["attached"] is False and routes[0]["attached"] is True
assert w["source"].endswith("seed.conf:15"), w["source"]
PY
}

@test "an empty config lists nothing; JSON is []" {
	: >empty.conf
	run --separate-stderr "$JOBIFY" -c empty.conf routes
	assert_success
	assert_output ""
	run --separate-stderr "$JOBIFY" -c empty.conf routes --json
	assert_output "[]"
}

@test "--tree draws the hierarchy, box-drawing in UTF-8 and ASCII otherwise" {
	LC_ALL=C.UTF-8 run --separate-stderr "$JOBIFY" -c "$seed" routes --tree
	assert_success
	assert_output "app ($seed)
├── router email (no prefix)
│   └── send_welcome_email
├── router reports +lifespan
│   ├── reports:generate_daily_report  [0 6 * * *]
│   └── reports:weekly  [0 6 * * 1]
└── router analytics
    └── router users
        └── analytics.users:track_logins"
	LC_ALL=C run --separate-stderr "$JOBIFY" -c "$seed" routes --tree --all
	assert_success
	assert_output "app ($seed)
|-- router email (no prefix)
|   \`-- send_welcome_email
|-- router reports +lifespan
|   |-- reports:generate_daily_report  [0 6 * * *]
|   \`-- reports:weekly  [0 6 * * 1]
\`-- router analytics
    \`-- router users
        \`-- analytics.users:track_logins

router orphan  (detached: not included anywhere)
\`-- orphan:my_task"
}

@test "routes: usage errors" {
	run --separate-stderr "$JOBIFY" -c "$seed" routes --tree --json
	assert_failure 64
	[ "$stderr" = "jobify: routes: --tree and --json do not go together
Try 'jobify routes --help'." ]
	run --separate-stderr "$JOBIFY" routes --frob
	assert_failure 64
	[ "$stderr" = "jobify: routes: unknown option '--frob'
Try 'jobify routes --help'." ]
}

@test "include() is relative to the including file, nested, from another cwd" {
	mkdir -p cfg/sub other
	conf cfg/main.conf <<-'EOF'
	task "a" { exec = 'a' }
	include("sub/b.conf")
	EOF
	conf cfg/sub/b.conf <<-'EOF'
	task "b" { exec = 'b' }
	include("c.conf")
	EOF
	conf cfg/sub/c.conf <<-'EOF'

	task "c" { exec = 'c' }
	EOF
	cd other
	run --separate-stderr "$JOBIFY" -c ../cfg/main.conf routes
	assert_success
	assert_output "$(printf 'a\t-\t-\ta\t../cfg/main.conf:1\nb\t-\t-\tb\t../cfg/sub/b.conf:1\nc\t-\t-\tc\t../cfg/sub/c.conf:2')"
}

@test "a glob include reads files in sorted order, skips directories, may match nothing" {
	mkdir -p jobify.d/dir.conf
	conf main.conf <<-'EOF'
	include-router = { 'r' }
	router "r" {
	  include("jobify.d/*.conf")
	  task "first" { exec = 'x' }
	}
	include("absent.d/*.conf")
	include("jobify.d/*.none")
	EOF
	conf jobify.d/20-b.conf <<-'EOF'
	task "b" { exec = 'x' }
	EOF
	conf jobify.d/10-a.conf <<-'EOF'
	task "a" { exec = 'x' }
	EOF
	run --separate-stderr "$JOBIFY" -c main.conf routes
	assert_success
	assert_equal "$(cut -f1,5 <<<"$output")" "$(printf 'r:first\tmain.conf:4\nr:a\tjobify.d/10-a.conf:1\nr:b\tjobify.d/20-b.conf:1')"
}

@test "include errors name the right file and line" {
	conf main.conf <<-'EOF'
	task "a" { exec = 'x' }
	include("missing.conf")
	EOF
	run --separate-stderr "$JOBIFY" -c main.conf check
	assert_failure 78
	[ "$stderr" = "jobify: main.conf:2: include: missing.conf: No such file or directory" ]
	conf main.conf <<-'EOF'
	include("bad.conf")
	EOF
	conf bad.conf <<-'EOF'
	task "t" {
	  exec = 'x'
	  jitter = soon
	}
	EOF
	run --separate-stderr "$JOBIFY" -c main.conf check
	assert_failure 78
	[ "$stderr" = "jobify: bad.conf:3: jitter: 'soon': expected a number, as in 90s, 5m, 1.5h, 1h30m, 2 days, 1w" ]
	conf self.conf <<-'EOF'
	include("self.conf")
	EOF
	run --separate-stderr "$JOBIFY" -c self.conf check
	assert_failure 78
	[ "$stderr" = "jobify: self.conf:1: include: includes nest at most 10 deep (is there a cycle?)" ]
	conf two.conf <<-'EOF'
	include("a", "b")
	EOF
	run --separate-stderr "$JOBIFY" -c two.conf check
	assert_failure 78
	[ "$stderr" = "jobify: two.conf:1: include: takes one file name or pattern" ]
}

@test "as root, a config or include writable by others or not owned by root is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root: the rule applies only to root"
	conf main.conf <<-'EOF'
	task "a" { exec = 'x' }
	EOF
	chmod 664 main.conf
	run --separate-stderr "$JOBIFY" -c main.conf check
	assert_failure 78
	[ "$stderr" = "jobify: main.conf: refusing to read it as root: it is writable by group or others (it must be owned by root and writable by no one else)" ]
	chmod 644 main.conf
	chown nobody main.conf
	run --separate-stderr "$JOBIFY" -c main.conf check
	assert_failure 78
	[ "$stderr" = "jobify: main.conf: refusing to read it as root: it is not owned by root (it must be owned by root and writable by no one else)" ]
	chown root main.conf
	echo 'include("inc.conf")' >>main.conf
	echo 'task "b" { exec = "y" }' >inc.conf
	chmod 646 inc.conf
	run --separate-stderr "$JOBIFY" -c main.conf check
	assert_failure 78
	[ "$stderr" = "jobify: inc.conf: refusing to read it as root: it is writable by group or others (it must be owned by root and writable by no one else)" ]
}

@test "10,000 routes load and list" {
	{
		echo "include-router = { 'r' }"
		echo 'router "r" {'
		for i in $(seq 10000); do echo "task \"t$i\" { exec = '/bin/true' }"; done
		echo '}'
	} >big.conf
	run --separate-stderr "$JOBIFY" -c big.conf routes
	assert_success
	[ "${#lines[@]}" -eq 10000 ]
	assert_line --index 9999 "$(printf 'r:t10000\t-\t-\t/bin/true\tbig.conf:10002')"
}
