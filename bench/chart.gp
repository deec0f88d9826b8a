# Bar chart of the gateway's cost per forwarded packet: gnuplot -e "datafile='F'; outfile='O.png'" chart.gp
# Data (xfbench report --chart-data): index "label" median min max group,
# group 1 = kernel path, 2 = bare XDP forwarder, 3 = xdpflow.
stats datafile using 5 nooutput
n = STATS_records
top = STATS_max
set terminal pngcairo size 1300, 140 + 42 * n font "sans,10"
set output outfile
set termoption noenhanced # labels keep their underscores
set title "Gateway CPU time per forwarded packet (ns, lower is better): 64-byte UDP,\nNAPI kthread on its own CPU (bar: median, whisker: min - max)"
set xlabel "ns per packet"
set xrange [0:top * 1.12] # room for the value labels
set yrange [n - 0.5:-0.5]
set ytics nomirror
set grid xtics
set border 3
set lmargin 95
set key off
color(g) = g == 1 ? 0xd62728 : g == 2 ? 0x7f7f7f : 0x1f77b4
plot datafile using ($3 / 2):1:($3 / 2):(0.35):(color($6)):ytic(2) with boxxyerror fill solid 0.75 lc rgb variable, \
     '' using 3:1:4:5 with xerrorbars lc rgb "black" pt 0, \
     '' using 5:1:(sprintf("  %.0f", $3)) with labels left
