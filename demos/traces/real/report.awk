# report.awk - the awk trace's workload: totals by region and by product of
# sales.csv, the product names joined per region, sorted output by hand.
BEGIN { FS = "," }
NR > 1 {
    total[$1] += $3 * $4
    qty[$2] += $3
    names[$1] = names[$1] " " $2
    n[$1]++
}
END {
    for (r in total) printf "%s %d %.2f %d\n", r, n[r], total[r], length(names[r])
    k = 0
    for (p in qty) keys[++k] = p
    for (i = 2; i <= k; i++) {
        v = keys[i]
        for (j = i - 1; j > 0 && qty[keys[j]] < qty[v]; j--) keys[j + 1] = keys[j]
        keys[j + 1] = v
    }
    for (i = 1; i <= 10; i++) print keys[i], qty[keys[i]]
}
