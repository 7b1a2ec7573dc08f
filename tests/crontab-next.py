#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Check `jobify import-crontab` against python3-croniter: for every task of
CONF (the import of CRONTAB), `jobify next ROUTE -n 20 --from FROM` must give
the fire times croniter gives for the crontab line it came from, in that
line's CRON_TZ (else UTC: the test runs with TZ=UTC).

The crontab is read here, independently of jobify: the task's comment
("# line N: ...") names the line; its time fields (five, or an @ name) are
taken from the crontab itself, and CRON_TZ from the lines above it.  @reboot
has no fire times: jobify must say so.

Usage: crontab-next.py JOBIFY CRONTAB CONF SYSTEM(0|1) FROM_EPOCH
Prints one line per task; exits 1 on any mismatch or a line not imported."""
import re
import subprocess
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

jobify, crontab, conf, system, start = sys.argv[1:6]
lines = open(crontab).read().split("\n")
text = open(conf).read()

# What each crontab line means, by croniter: (fields, zone) or None.
zone = "UTC"
entries = {}
for n, line in enumerate(lines, 1):
    s = line.strip()
    if not s or s.startswith("#"):
        continue
    m = re.match(r"^(CRON_TZ)\s*=\s*['\"]?([^'\"]*)['\"]?\s*$", s)
    if m:
        zone = m.group(2) or "UTC"
        continue
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", s):
        continue
    words = s.split()
    expr = words[0] if s.startswith("@") else " ".join(words[:5])
    entries[n] = (expr, zone)

tasks = re.findall(r"^# line (\d+): .*\ntask \"([^\"]+)\"", text, re.M)
failed = 0
seen = set()
for n, route in tasks:
    n = int(n)
    seen.add(n)
    expr, z = entries[n]
    got = subprocess.run([jobify, "-c", conf, "next", route, "-n", "20", "--from", "@" + start],
                         capture_output=True, text=True)
    if expr == "@reboot":
        ok = got.returncode == 65 and "@reboot" in got.stderr
        print("%s line %d %s: %s" % ("ok" if ok else "MISMATCH", n, route, got.stderr.strip()))
        failed += not ok
        continue
    it = croniter(expr, datetime.fromtimestamp(int(start), ZoneInfo(z)))
    want = [int(it.get_next(datetime).timestamp()) for _ in range(20)]
    have = [int(datetime.fromisoformat(t).timestamp()) for t in got.stdout.split()]
    if got.returncode == 0 and have == want:
        print("ok line %d %s: %s in %s, 20 times from @%s" % (n, route, expr, z, start))
    else:
        failed += 1
        print("MISMATCH line %d %s: %s in %s" % (n, route, expr, z))
        print("  croniter: %s" % want)
        print("  jobify:   %s %s" % (have, got.stderr.strip()))
for n in sorted(set(entries) - seen):
    failed += 1
    print("NOT IMPORTED line %d: %s" % (n, lines[n - 1]))
sys.exit(1 if failed else 0)
