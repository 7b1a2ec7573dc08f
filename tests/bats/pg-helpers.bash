# SPDX-License-Identifier: ISC
# What the suites of a shared PostgreSQL store (cluster*.bats) share: a
# throwaway server for the suite (tests/pg-server.sh), a database of each
# test's own on it, and supervisors ("nodes") on state directories of
# their own.  `load pg-helpers` in setup_file and in setup.

# pg_suite_start: the suite's server, in a new /tmp/jobify-pg.XXXXXX;
# PGSERVER, PGDIR and PGURI exported.  Skips the suite, with the reason,
# without the server's binaries, psql, or a jobify built with libpq.
pg_suite_start() {
	local out rc=0
	PGSERVER=${top_srcdir:-$PWD}/tests/pg-server.sh
	PGDIR=$(mktemp -d /tmp/jobify-pg.XXXXXX)
	chmod 755 "$PGDIR"
	export PGSERVER PGDIR
	out=$("$PGSERVER" start "$PGDIR/db" 2>&1) || rc=$?
	if [ "$rc" -eq 77 ]; then
		rm -rf "$PGDIR"
		skip "no PostgreSQL server here: $out"
	fi
	[ "$rc" -eq 0 ] || {
		echo "pg-server.sh start: $out" >&2
		return 1
	}
	PGURI=$(printf '%s\n' "$out" | tail -n 1)
	export PGURI
	command -v psql >/dev/null || skip "no psql here (Debian: postgresql-client)"
	# 78: a jobify built without libpq.
	rc=0
	printf 'state-dir = "%s/state"\n' "$PGDIR" >"$PGDIR/probe.conf"
	JOBIFY_STORE=$PGURI "${JOBIFY:-${top_builddir:-$PWD}/jobify}" -c "$PGDIR/probe.conf" jobs \
		>/dev/null 2>&1 || rc=$?
	[ "$rc" -ne 78 ] || skip "this jobify was built without libpq"
}

# pg_suite_stop: the server stopped (thawed first), its directory gone.
pg_suite_stop() {
	if [ -n "${PGDIR:-}" ]; then
		"$PGSERVER" signal "$PGDIR/db" CONT >/dev/null 2>&1 || true
		"$PGSERVER" stop "$PGDIR/db" >/dev/null 2>&1 || true
		rm -rf "$PGDIR"
	fi
}

# pg_test_start PREFIX: a database of the test's own (DB) and its URI.
pg_test_start() {
	DB=$1${BATS_TEST_NUMBER}_$$
	psql -q -d "$PGURI" -c "CREATE DATABASE $DB" >/dev/null
	URI=${PGURI/\/jobify\?/\/$DB?}
	export URI
	NODES=()
}

# pg_test_stop: the server thawed (a test that failed while it was frozen
# must not leave it so), the nodes killed, the jobs of killed nodes killed
# by the pids they wrote to $(T pids), the test's database dropped.
pg_test_stop() {
	local p
	"$PGSERVER" signal "$PGDIR/db" CONT >/dev/null 2>&1 || true
	for p in "${NODES[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -f "$(T pids)" ]; then
		while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$(T pids)"
	fi
	psql -q -d "$PGURI" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}

# cluster_conf NAME [EXTRA]: the config of node NAME ($BATS_TEST_TMPDIR/NAME.conf)
# on the test's database, a heartbeat of 1 s and a lease of $LEASE (3s):
# the tasks of tasks.conf, then EXTRA.
cluster_conf() {
	{
		printf 'store = "%s"\nheartbeat = 1s\nlease = %s\npoll-interval = 1s\n' "$URI" "${LEASE:-3s}"
		printf 'state-dir = "%s"\nshutdown-grace = 1s\n' "$(T "$1.state")"
		cat "$(T tasks.conf)"
		printf '%s\n' "${2:-}"
	} >"$(T "$1.conf")"
}

# node_start NAME: the supervisor of NAME.conf, its log NAME.log; its pid
# in NODE_PID, appended to NODES.  Waits until it is ready.
node_start() {
	local log
	log=$(T "$1.log")
	: >"$log"
	"$JOBIFY" -c "$(T "$1.conf")" run 2>>"$log" 3>&- &
	NODE_PID=$!
	NODES+=("$NODE_PID")
	wait_for "event=ready" 30 "$log" || {
		cat "$log" >&2
		return 1
	}
}

# until_true SECONDS CMD...: poll CMD until it succeeds; fail after SECONDS.
until_true() {
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "timed out after ${secs}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}
