# SPDX-License-Identifier: GPL-2.0
# Plot of `make demo`: each tenant's measured share of the link, second by
# second (solid lines), against its configured share (dashed).
#
#   gnuplot -c scripts/demo-plot.gp build/demo/rates.tsv build/demo/shares.png
#
# rates.tsv (written by scripts/demo-guest.sh): a "# " description line, a
# "# " column line, then time_s, tenant, mbit_s, share_pct, configured_pct,
# tab separated.

in = ARG1
out = ARG2
about = system(sprintf("sed -n '1s/^# //p' '%s'", in))

set terminal pngcairo size 1000,650 font "sans,12" linewidth 1.5
set output out
set datafile separator "\t"
set datafile commentschars "#"

set title "Each tenant's share of the link: measured every second (solid) and configured (dashed)\n{/*0.8 ".about."}"
set xlabel "time since the senders started (s)"
set ylabel "share of the link (%)"
set yrange [0:70]
set ytics 10
set mytics 2
set grid ytics xtics
set rmargin 12
set key below horizontal maxrows 1 spacing 1.3 width 2

stats in using 1 nooutput
xmax = ceil(STATS_max) + 1
set xrange [0:xmax]

# Every second has one row per tenant, always in this order.
names = "gold silver bronze"
colors = "#d4a017 #5b6f80 #a0522d"

# Configured shares: dashed lines across the whole plot, labelled.
do for [i = 1:3] {
	stats in every 3::(i - 1) using 5 nooutput
	set arrow i from 0, STATS_max to xmax, STATS_max nohead back \
		dt (8, 6) lw 2 lc rgb word(colors, i)
	set label i sprintf("%s %.0f%%", word(names, i), STATS_max) \
		at graph 1.01, first STATS_max left tc rgb word(colors, i)
}

plot for [i = 1:3] in every 3::(i - 1) using 1:4 \
	with linespoints lw 2.5 pt 7 ps 0.9 lc rgb word(colors, i) \
	title sprintf("%s, measured", word(names, i)), \
     NaN with lines dt (8, 6) lw 2 lc rgb "black" title "configured"
