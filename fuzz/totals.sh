#!/usr/bin/env bash
# Totals per fuzz target from fuzz/log.tsv (written by rotate.sh, plus runs
# logged by hand): runs, seconds (the wall-clock budgets), executions, how
# far from issue 13's goal of 1 CPU-hour per target, and the CPU seconds
# measured for the rows that have them (rotate.sh since 2026-12-07 13:10).
# Usage: bash fuzz/totals.sh
set -euo pipefail
cd "$(dirname "$0")"
awk -F'\t' 'NR > 1 && $2 != "" {
        runs[$2]++; secs[$2] += $3
        if ($4 ~ /^[0-9]+$/) execs[$2] += $4
        if ($6 !~ /^clean/) bad[$2]++
        if ($7 ~ /^[0-9]+$/) { cpu[$2] += $7; wall[$2] += $3 }
    }
    END {
        printf "%-18s %5s %8s %14s %7s %9s %s\n", "target", "runs", "seconds", "executions", "of 1 h", "not clean", "measured cpu/wall"
        for (t in runs) printf "%-18s %5d %8d %14d %6.0f%% %9d %s\n", t, runs[t], secs[t], execs[t], 100 * secs[t] / 3600, bad[t], (t in cpu) ? cpu[t] "/" wall[t] " s" : "-"
    }' log.tsv | (read -r h; echo "$h"; sort)
