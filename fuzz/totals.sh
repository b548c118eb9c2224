#!/usr/bin/env bash
# Totals per fuzz target from fuzz/log.tsv (written by rotate.sh, plus runs
# logged by hand): runs, CPU seconds, executions, and how far from issue
# 13's goal of 1 CPU-hour per target. Usage: bash fuzz/totals.sh
set -euo pipefail
cd "$(dirname "$0")"
awk -F'\t' 'NR > 1 && $2 != "" {
        runs[$2]++; secs[$2] += $3
        if ($4 ~ /^[0-9]+$/) execs[$2] += $4
        if ($6 != "clean") bad[$2]++
    }
    END {
        printf "%-18s %5s %8s %14s %7s %s\n", "target", "runs", "seconds", "executions", "of 1 h", "not clean"
        for (t in runs) printf "%-18s %5d %8d %14d %6.0f%% %d\n", t, runs[t], secs[t], execs[t], 100 * secs[t] / 3600, bad[t]
    }' log.tsv | (read -r h; echo "$h"; sort)
