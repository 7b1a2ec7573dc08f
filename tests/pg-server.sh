#!/bin/sh
# SPDX-License-Identifier: ISC
# A throwaway PostgreSQL server for the tests of the PostgreSQL store.
#
#   tests/pg-server.sh start DIR   initdb into DIR and start a server that
#                                  listens on a Unix socket in DIR (and on
#                                  127.0.0.1 at a free port); prints its
#                                  libpq URI on stdout
#   tests/pg-server.sh stop DIR    stop it (immediately) and remove DIR
#   tests/pg-server.sh restart DIR [SECS]
#                                  restart it (fast: its sessions are ended),
#                                  down for SECS (default 0) in between
#   tests/pg-server.sh signal DIR SIG
#                                  send SIG (STOP, CONT) to the server's
#                                  processes: the postmaster and its children
#
# For tests only: fsync is off, every local user is trusted.  initdb and
# the server refuse to run as root: as root the server runs as nobody
# (DIR is given to nobody, so DIR's parents must let nobody through).
# Exit 77 (automake's "skip") when the server binaries are not installed.
set -eu

usage() {
	echo "usage: $0 start|stop DIR, $0 restart DIR [SECS], $0 signal DIR SIG" >&2
	exit 64
}
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
case $cmd in
signal) [ $# -eq 3 ] || usage ;;
restart) [ $# -eq 2 ] || [ $# -eq 3 ] || usage ;;
*) [ $# -eq 2 ] || usage ;;
esac

# The server's binaries: on PATH, else Debian's newest.
bindir=
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
	bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
else
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir=$d
	done
fi
if [ -z "$bindir" ]; then
	echo "pg-server: no initdb/pg_ctl (Debian: apt-get install postgresql-15)" >&2
	exit 77
fi

# as_server CMD...: run CMD as the user who owns the server's files.
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	if [ -e "$dir/data" ]; then
		echo "pg-server: $dir/data exists: stop that server first" >&2
		exit 73
	fi
	# A Unix socket path is at most 107 bytes: DIR/.s.PGSQL.NNNNN.
	if [ ${#dir} -gt 90 ]; then
		echo "pg-server: $dir: too long for a Unix socket path" >&2
		exit 64
	fi
	[ "$(id -u)" -ne 0 ] || chown nobody:nogroup "$dir"
	if ! as_server test -w "$dir"; then
		echo "pg-server: $dir: not writable by the server's user (as root: nobody, who needs to get through every parent directory)" >&2
		exit 77
	fi
	# A free TCP port on the loopback: one the kernel gives to a socket
	# bound to port 0 (a race with another process taking it meanwhile is
	# reported by pg_ctl).
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	as_server "$bindir/initdb" -D "$dir/data" -U jobify -A trust -E UTF8 --locale=C.UTF-8 \
		--no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 70
	}
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 50
shared_buffers = 32MB
log_min_messages = warning
log_min_error_statement = panic
EOF
	as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start >&2 || {
		cat "$dir/server.log" >&2
		exit 70
	}
	as_server "$bindir/createdb" -h "$dir" -p "$port" -U jobify jobify >&2
	echo "postgresql:///jobify?host=$dir&port=$port&user=jobify"
	;;
restart)
	as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 -s stop >&2 || exit 70
	sleep "${3:-0}"
	as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start >&2 || {
		cat "$dir/server.log" >&2
		exit 70
	}
	;;
signal)
	pm=$(head -n 1 "$dir/data/postmaster.pid")
	# The postmaster first (for STOP: no new backend forks meanwhile).
	kill -s "$3" "$pm"
	for p in $(ps -o pid= --ppid "$pm"); do
		kill -s "$3" "$p" 2>/dev/null || true
	done
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -s stop >&2 || true
	rm -rf "$dir"
	;;
*)
	usage
	;;
esac
