#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""The APScheduler peer of bench/peers.sh (Debian: python3-apscheduler).

A BackgroundScheduler with DateTrigger jobs at sub-second instants; each
job runs FIRSTINSN OUTFILE as a child process (subprocess: fork+exec, one
process a job, as jobify does) with JOBIFY_SCHEDULED_AT set to the target
instant in nanoseconds since the epoch, so that bench/firstinsn.c writes
"NS TARGET_NS" and the latency is NS - TARGET_NS.

Usage: apscheduler-peer.py FIRSTINSN OUTFILE SECONDS [STEP]
  SECONDS > 0: jobs every STEP seconds (default 0.7: the instants cycle
  through ten sub-second phases, .05 to .95) from the second boundary
  after next plus 0.25 s, for SECONDS seconds; SECONDS = 0: one job a
  day ahead, nothing due (for counting idle wakeups).

Prints "ready N" (N jobs scheduled) on stdout once the scheduler runs,
then sleeps until SIGTERM or SIGINT, and exits 0.
"""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def run_job(argv, target_ns):
    env = dict(os.environ, JOBIFY_SCHEDULED_AT=str(target_ns))
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: apscheduler-peer.py FIRSTINSN OUTFILE SECONDS [STEP]")
    argv = [sys.argv[1], sys.argv[2]]
    try:
        seconds = float(sys.argv[3])
        step = float(sys.argv[4]) if len(sys.argv) == 5 else 0.7
    except ValueError:
        sys.exit("apscheduler-peer.py: SECONDS and STEP must be numbers")
    if seconds < 0 or step <= 0:
        sys.exit("apscheduler-peer.py: SECONDS must be >= 0 and STEP > 0")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    # No misfire grace limit and no coalescing: every job runs however
    # late, so lateness is measured rather than hidden.
    sched = BackgroundScheduler(timezone=datetime.timezone.utc,
                                job_defaults={"misfire_grace_time": None,
                                              "coalesce": False})
    # Targets are whole microseconds (a datetime's resolution).
    now_us = time.time_ns() // 1000
    if seconds == 0:
        targets = [now_us + 86400 * 1000000]
    else:
        first = (now_us // 1000000 + 2) * 1000000 + 250000
        n = int(seconds / step)
        targets = [first + int(i * step * 1000000) for i in range(n)]
    for i, t_us in enumerate(targets):
        when = EPOCH + datetime.timedelta(microseconds=t_us)
        sched.add_job(run_job, DateTrigger(run_date=when), args=(argv, t_us * 1000),
                      id="j%d" % i)
    sched.start()
    print("ready %d" % len(targets), flush=True)
    while not stop.wait(3600):
        pass
    sched.shutdown(wait=False)


if __name__ == "__main__":
    main()
