# SPDX-License-Identifier: ISC
"""Parse a jobify metrics file with the Prometheus client's own text
parser (python3-prometheus-client) and print what the tests compare, one
sample a line: NAME{LABELS} VALUE, sorted; histograms are checked here
(cumulative buckets, +Inf equal to _count) and printed as their count."""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
out = []
for fam in text_string_to_metric_families(text):
    if fam.type == "histogram":
        buckets = [s for s in fam.samples if s.name.endswith("_bucket")]
        counts = [s.value for s in buckets]
        assert counts == sorted(counts), (fam.name, counts)
        assert buckets[-1].labels["le"] == "+Inf", fam.name
        count = [s.value for s in fam.samples if s.name.endswith("_count")][0]
        total = [s.value for s in fam.samples if s.name.endswith("_sum")][0]
        assert buckets[-1].value == count, fam.name
        assert total >= 0, fam.name
        out.append("%s_count %d" % (fam.name, count))
        continue
    for s in fam.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        value = s.value
        if s.name.endswith("timestamp_seconds") or s.name.endswith("start_time_seconds"):
            value = "T" if value > 1.6e9 else value   # a Unix time, not its value
        elif value == int(value):
            value = int(value)
        out.append("%s%s %s" % (s.name, "{%s}" % labels if labels else "", value))
print("\n".join(sorted(out)))
