#!/usr/bin/env bats
# SPDX-License-Identifier: ISC
# output-max-size: one run's log is capped; the rest is counted and
# dropped, and the log, the supervisor's log and history say so.

setup() {
	load sup-helpers
	# flood N: N bytes of x on stdout, then a line on stderr.
	script flood 'head -c "$1" /dev/zero | tr "\0" x; echo done >&2'
	conf c.conf <<EOF
state-dir = "state"
output-max-size = 64K
task "big" { exec = "./flood 1000000" }
task "small" { exec = "./flood 100" }
task "tiny" { exec = "./flood 5000" output-max-size = 1K }
task "free" { exec = "./flood 200000" output-max-size = 0 }
router "r" {
  output-max-size = 2K
  task "sub" { exec = "./flood 3000" }
}
include-router = { "r" }
EOF
	J() { "$JOBIFY" -c "$(T c.conf)" "$@"; }
}

teardown() {
	sup_teardown
}

# run_job ROUTE: schedule it now, wait for its end; its id in $ID.
run_job() {
	ID=$(J schedule "$1")
	J wait "$ID"
}

@test "output-max-size: a flood is cut at the cap and the log says how much went" {
	sup_start c.conf
	run_job big
	J logs "$ID" > "$(T big.out)"
	# 64 KiB of the output, then the note: 1000000 + 5 - 65536 dropped.
	[ "$(head -c 65536 "$(T big.out)" | tr -d x | wc -c)" -eq 0 ]
	note="[jobify: output-max-size 64K reached: 934469 bytes dropped]"
	[ "$(tail -n +2 "$(T big.out)")" = "$note" ]
	# and nothing else: the cap, a newline, the note and its newline.
	[ "$(stat -c %s "$(T big.out)")" -eq $((65536 + 1 + ${#note} + 1)) ]
	grep -E "event=exit .*route=big .*output_dropped=934469" "$SUP_LOG"
	# history says so too: a last field, and output_dropped in JSON.
	run J history big
	assert_output --regexp "	big	$ID	1	success	0 \\(output: 934469 bytes dropped\\)\$"
	run J history --json big
	assert_output --partial '"output_dropped":934469}'
}

@test "output-max-size: under the cap nothing changes; the task's and the router's win; 0 is no cap" {
	sup_start c.conf
	run_job small
	run J logs "$ID"
	assert_output "$(head -c 100 /dev/zero | tr '\0' x)done"
	run J history --json small
	assert_output --partial '"output_dropped":0}'
	run J history small
	refute_output --partial "dropped"
	run_job tiny
	run J logs "$ID"
	assert_line --index 1 "[jobify: output-max-size 1K reached: 3981 bytes dropped]"
	run_job r:sub
	run J logs "$ID"
	assert_line --index 1 "[jobify: output-max-size 2K reached: 957 bytes dropped]"
	run_job free
	J logs "$ID" > "$(T free.out)"
	[ "$(stat -c %s "$(T free.out)")" -eq 200005 ]
}

@test "output-max-size: a bad size is a config error naming it" {
	printf 'task "t" { exec = "true" output-max-size = 10Q }\n' > "$(T bad.conf)"
	run --separate-stderr "$JOBIFY" -c "$(T bad.conf)" check
	assert_failure 78
	[[ "$stderr" == *"output-max-size: '10Q': unknown unit (use B, K, M, G or T, powers of 1024)"* ]]
}
