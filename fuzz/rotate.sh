#!/usr/bin/env bash
# Run every fuzz target in turn for SECONDS each (default 300), one at a time,
# and append one line per run to fuzz/log.tsv:
#   date  target  seconds  executions  corpus-entries  result  cpu
# seconds is the wall-clock budget (-max_total_time); cpu is the user+system
# seconds the run really got (less when other work shares the machine;
# rows before 2026-12-07 13:10 have none).
# result is "clean" or the crash/leak/timeout file libFuzzer wrote (kept in
# fuzz/artifacts/<target>/). Usage, from the repository root:
#   bash fuzz/rotate.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz; a stable compiler works with RUSTC_BOOTSTRAP=1 (set here).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo fuzz list)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O >/dev/null
log=log.tsv
[[ -f $log ]] || printf 'date\ttarget\tseconds\texecutions\tcorpus\tresult\tcpu\n' >"$log"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "seeds/$t" "artifacts/$t"
    out=$(mktemp)
    rc=0
    # The *_mutate targets (and report_page, which mutates real files too) run 6-50 inputs/s: libFuzzer's length control,
    # which grows inputs with the execution count, would keep them at a few
    # bytes (an empty edit list) for the whole run.
    extra=()
    [[ $t != *_mutate && $t != report_page ]] || extra=(-len_control=0)
    # salvage_mutate runs defrag, whose hashing thread is a scoped thread:
    # its Thread handle and TLS destructor registration (112 bytes) can
    # still be live when join returns, and LeakSanitizer's per-input check
    # then reports a "leak" that does not reproduce alone (2026-12-07).
    [[ $t != salvage_mutate ]] || extra+=(-detect_leaks=0)
    tf=$(mktemp)
    /usr/bin/time -f '%U %S' -o "$tf" cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 "${extra[@]}" \
        >"$out" 2>&1 || rc=$?
    cpu=$(awk 'END { printf "%.0f", $1 + $2 }' "$tf")
    rm -f "$tf"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n1)
    result=clean
    if ((rc != 0)); then
        result=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out" | tail -n1)
        result=${result:-"exit $rc (see $out)"}
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "${execs:-?}" \
        "$(ls "corpus/$t" | wc -l)" "$result" "$cpu" >>"$log"
    [[ $rc != 0 ]] || rm -f "$out"
done
