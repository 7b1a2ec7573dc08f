#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Plot of the fire-latency distributions written by bench/peers.sh: one
# empirical CDF per variant (the fraction of fires whose latency, from the
# due instant to the job's first instruction, is at most x), on a log x axis
# in ms; jobify's variants in solid lines, the peers dashed.  Latencies
# under 0.01 ms (none expected) are drawn at 0.01.
#
# Reads $JOBIFY_BENCH_RESULTS/peers-samples.tsv (peer, latency_ms) and, for
# the subtitle, the last run's row in peers.tsv beside it; writes
# $JOBIFY_BENCH_RESULTS/fire-latency.svg (default bench/results/).
#
# Usage: bench/plot.sh            (after bench/peers.sh)
# Needs gnuplot (Debian: apt-get install gnuplot-nox).
set -euo pipefail
usage="bench/plot.sh"
. "$(dirname "$0")/lib.sh"

[ $# -eq 0 ] || die "usage: $usage"
command -v gnuplot >/dev/null || die "no gnuplot (Debian: apt-get install gnuplot-nox)"
bench_init
samples=$results/peers-samples.tsv
svg=$results/fire-latency.svg
[ -s "$samples" ] || die "no $samples: run bench/peers.sh first"
head -n 1 "$samples" | grep -q '^peer	latency_ms$' || die "$samples does not start with the header 'peer<TAB>latency_ms'"

# One file of "x fraction" points per variant, in the order of first
# appearance, named $tmp/cdf.N; $tmp/names lists "N<TAB>variant<TAB>count<TAB>p50".
awk -F'\t' -v d="$tmp/cdf." 'NR > 1 && NF >= 2 {
		if (!($1 in id)) { id[$1] = ++n; name[n] = $1 }
		print $2 > (d id[$1] ".raw")
	}
	END { for (i = 1; i <= n; i++) print i "\t" name[i] > (d "names") }' "$samples"
[ -s "$tmp/cdf.names" ] || die "$samples has no samples"
: >"$tmp/names"
while IFS='	' read -r i name; do
	sort -g "$tmp/cdf.$i.raw" | awk -v lo=0.01 '{ v[NR] = ($1 < lo ? lo : $1) }
		END { print v[1], 0; for (i = 1; i <= NR; i++) print v[i], i / NR }' >"$tmp/cdf.$i"
	n=$(wc -l <"$tmp/cdf.$i.raw")
	p50=$(pctl 50 <"$tmp/cdf.$i.raw")
	printf '%s\t%s\t%s\t%s\n' "$i" "$name" "$n" "$p50" >>"$tmp/names"
done <"$tmp/cdf.names"

# Subtitle: the last run of peers.tsv (date, CPUs, load average).
sub="due instant to the job's first instruction"
if [ -s "$results/peers.tsv" ]; then
	sub+=$(tail -n 1 "$results/peers.tsv" |
		awk -F'\t' '{ printf "; %s, %s CPUs, load average %s before, %s after", $1, $2, $3, $4 }')
fi

# jobify's variants: solid, blues and greens; the peers: dashed, warm colours.
jcol=("#08519c" "#3182bd" "#31a354" "#74c476")
pcol=("#d62728" "#ff7f0e" "#9467bd" "#8c564b" "#e377c2" "#7f7f7f")
plot=()
ji=0
pi=0
while IFS='	' read -r i name n p50; do
	case $name in
	jobify*) c=${jcol[ji % ${#jcol[@]}]} dt=1 ji=$((ji + 1)) ;;
	*) c=${pcol[pi % ${#pcol[@]}]} dt=2 pi=$((pi + 1)) ;;
	esac
	plot+=("'$tmp/cdf.$i' using 1:2 with steps lw 2.5 dt $dt lc rgb '$c' title '$name (n=$n, p50 $(printf '%.1f' "$p50") ms)'")
done <"$tmp/names"
joined=$(printf '%s, ' "${plot[@]}")

gnuplot <<EOF
set terminal svg size 1200,600 dynamic font "sans,13" background rgb "white"
set termoption noenhanced
set output '$svg'
set title "Fire latency: jobify and its peers, empirical CDF\n$sub"
set xlabel "fire latency (ms, log scale)"
set ylabel "fraction of fires with latency <= x"
set logscale x 10
set format x "%g"
set yrange [0:1.02]
set ytics 0.1
set grid xtics mxtics ytics lc rgb "#dddddd"
set mxtics 10
set key outside right center box lc rgb "#bbbbbb" spacing 1.3
set border 3
set xtics nomirror
set ytics nomirror
plot ${joined%, }
EOF
echo "wrote $svg"
