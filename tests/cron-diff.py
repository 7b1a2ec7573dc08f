#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Differential test: `jobify next` against Debian's python3-croniter over
random 5-field expressions from random instants, in UTC.

Known differences are kept out of the generator, so that every mismatch is
real: croniter reads a day field starting with * (*/2) as restricted where
vixie cron (and jobify) does not, so day fields are either * or start with
a number; and croniter reads a day-of-week list that names all seven days
(0-6/1) as *, where vixie cron goes by the text, so those are not made
either.  L, W and # are left to the unit tests.

Usage: cron-diff.py [JOBIFY [COUNT [SEED]]] (JOBIFY defaults to $JOBIFY, COUNT
to $CRON_DIFF_COUNT or 1000);
prints TAP."""
import random
import subprocess
import sys
from datetime import datetime, timezone

from croniter import croniter

import os

jobify = sys.argv[1] if len(sys.argv) > 1 else os.environ["JOBIFY"]
count = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("CRON_DIFF_COUNT", "1000"))
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261125)


def item(lo, hi):
    kind = rng.random()
    if kind < 0.4:
        return str(rng.randint(lo, hi))
    a = rng.randint(lo, hi)
    b = rng.randint(a, hi)
    if kind < 0.7:
        return "%d-%d" % (a, b)
    return "%d-%d/%d" % (a, b, rng.randint(1, max(1, (hi - lo) // 2)))


def days(f):
    """The weekdays a day-of-week field names."""
    out = set()
    for it in f.split(","):
        rng_, _, step = it.partition("/")
        a, _, b = rng_.partition("-")
        out.update(range(int(a), int(b or a) + 1, int(step or 1)))
    return out


def dow_field():
    while True:
        f = field(0, 6, True)
        if f == "*" or len(days(f)) < 7:
            return f


def field(lo, hi, day=False):
    r = rng.random()
    if r < 0.3:
        return "*"
    if r < 0.45 and not day:
        return "*/%d" % rng.randint(1, max(1, (hi - lo) // 2))
    return ",".join(item(lo, hi) for _ in range(rng.randint(1, 3)))


print("1..%d" % count)
failed = 0
for n in range(1, count + 1):
    expr = " ".join([field(0, 59), field(0, 23), field(1, 28, True), field(1, 12),
                     dow_field()])
    start = rng.randint(0, 2**31 - 86400 * 400)
    it = croniter(expr, datetime.fromtimestamp(start, timezone.utc))
    want = [it.get_next(datetime).strftime("%Y-%m-%dT%H:%M:%S+00:00") for _ in range(3)]
    got = subprocess.run([jobify, "next", expr, "--tz", "UTC", "--from", "@%d" % start, "-n", "3"],
                         capture_output=True, text=True)
    if got.returncode == 0 and got.stdout.split() == want:
        print("ok %d - %s from @%d" % (n, expr, start))
    else:
        failed += 1
        print("not ok %d - %s from @%d" % (n, expr, start))
        print("#   croniter: %s" % " ".join(want))
        print("#   jobify:   %s %s" % (" ".join(got.stdout.split()), got.stderr.strip()))
sys.exit(1 if failed else 0)
