#!/usr/bin/env bash
# Line and region coverage of the library by each fuzz target's corpus
# (fuzz/corpus/<target> plus the committed fuzz/seeds/<target>), with
# `cargo fuzz coverage`. Usage, from the repository root:
#   bash fuzz/coverage.sh [TARGET...]
# Appends one line per target to fuzz/coverage.tsv:
#   date  target  inputs  scope  lines-covered/lines (%)  regions-covered/regions (%)
# where scope is the source files the target is there to exercise (its
# parser's module; see scope() below), not the whole crate.
# and leaves `llvm-cov report` per file in fuzz/coverage/<target>/report.txt
# (uncovered lines: fuzz/coverage/<target>/show.txt).
#
# The profile format is that of rustc's own LLVM, so llvm-profdata/llvm-cov
# must be the same major version. rustup's llvm-tools component is not
# reachable here, and Debian bookworm's LLVM is too old, so when no matching
# llvm-profdata is installed this fetches Debian sid's llvm-N and the sid
# libraries it needs (glibc included) into target/llvm-N with a private apt
# configuration, never touching the system's apt, and runs the tools through
# sid's dynamic loader.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd .. && pwd)
export RUSTC_BOOTSTRAP=1

major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
tools=$repo/target/llvm-$major/bin
if command -v "llvm-profdata-$major" >/dev/null; then
    tools=$(dirname "$(readlink -f "$(command -v "llvm-profdata-$major")")")
elif [[ ! -x $tools/llvm-profdata ]]; then
    root=$repo/target/llvm-$major/root apt=$repo/target/apt-sid
    mkdir -p "$root" "$tools" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/llvm-debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main" >"$apt/sources.list"
    opts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
    apt-get "${opts[@]}" update >/dev/null
    (cd "$apt/llvm-debs" && rm -f ./*.deb && apt-get "${opts[@]}" download \
        "llvm-$major" "libllvm$major" libc6 libxml2-16 libstdc++6 libgcc-s1 libedit2 \
        libffi8 libz3-4 libzstd1 zlib1g libbsd0 libmd0 libtinfo6 liblzma5 >/dev/null)
    for deb in "$apt/llvm-debs"/*.deb; do dpkg -x "$deb" "$root"; done
    libs=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu:$root/usr/lib/llvm-$major/lib
    for tool in llvm-profdata llvm-cov; do
        printf '#!/bin/sh\nexec %s --library-path %s %s "$@"\n' \
            "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$libs" \
            "$root/usr/lib/llvm-$major/bin/$tool" >"$tools/$tool"
        chmod +x "$tools/$tool"
    done
fi
"$tools/llvm-profdata" --version | grep -q "LLVM version $major\." ||
    { echo "llvm-profdata in $tools is not LLVM $major" >&2; exit 2; }

scope() { # <target>: regex of the library files the target exists for
    case $1 in
    bolt_page) echo '^bolt/(page|layout|meta)\.rs' ;;
    bolt_write) echo '^bolt/(write|page|layout)\.rs' ;;
    bolt_file | bolt_file_mutate) echo '^(bolt/(db|page|layout|meta|walk|stats|lookup)|mvcc/(scan|kv|revision|buckets|schema|version|index))\.rs' ;;
    salvage_scan) echo '^(bolt/scavenge|mvcc/recover)\.rs' ;;
    mvcc_key) echo '^mvcc/(revision|kv)\.rs' ;;
    wal_segment | wal_mutate) echo '^wal/(record|repair)\.rs' ;;
    wal_write) echo '^wal/(write|record)\.rs' ;;
    proto_entry) echo '^proto/(wire|mod|etcdserverpb|raftpb|walpb)\.rs' ;;
    snap_file | snap_mutate) echo '^snap/(snapfile|v2store)\.rs' ;;
    snap_write) echo '^snap/(write|snapfile|v2store)\.rs' ;;
    k8s_value) echo '^k8s/(envelope|json|key|render|types)\.rs' ;;
    kubeadm_manifest) echo '^jobs/cluster/kubeadm\.rs' ;;
    report_page) echo '^(jobs/report|output/html)\.rs' ;;
    salvage_mutate) echo '^(jobs/salvage/mod|mvcc/recover|bolt/scavenge|output/salvage)\.rs' ;;
    db_jobs_mutate) echo '^(jobs/(inspect|diff)|output/(inspect|diff)|mvcc/(index|hashkv))\.rs' ;;
    *) echo '.' ;;
    esac
}

targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo fuzz list)
triple=$(rustc -vV | sed -n 's/^host: //p')
log=coverage.tsv
[[ -f $log ]] || printf 'date\ttarget\tinputs\tscope\tlines\tregions\n' >"$log"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "seeds/$t" "coverage/$t"
    rm -rf "coverage/$t/raw" "coverage/$t/coverage.profdata"
    cargo fuzz coverage --llvm-path "$tools" "$t" "corpus/$t" "seeds/$t" >"coverage/$t/run.log" 2>&1
    bin=target/$triple/coverage/$triple/release/$t
    # Only the library's own sources count: not the fuzz wrapper, not std, not crates.
    filter=(--ignore-filename-regex='(/\.cargo/|/rustc/|/fuzz/|/target/)')
    "$tools/llvm-cov" report "$bin" -instr-profile="coverage/$t/coverage.profdata" "${filter[@]}" \
        >"coverage/$t/report.txt"
    "$tools/llvm-cov" show "$bin" -instr-profile="coverage/$t/coverage.profdata" "${filter[@]}" \
        -show-line-counts-or-regions -region-coverage-lt=100 >"coverage/$t/show.txt" 2>/dev/null || true
    # Rows: file, regions, missed, cover%, functions, missed, executed%, lines, missed, ...
    sc=$(scope "$t")
    read -r regions rmiss lines lmiss < <(awk -v re="$sc" '$1 ~ re {r += $2; rm += $3; l += $8; lm += $9}
        END {print r + 0, rm + 0, l + 0, lm + 0}' "coverage/$t/report.txt")
    inputs=$(($(ls "corpus/$t" | wc -l) + $(ls "seeds/$t" | wc -l)))
    pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b ? 100 * a / b : 0}'; }
    printf '%s\t%s\t%s\t%s\t%s/%s (%s%%)\t%s/%s (%s%%)\n' "$(date -u +%FT%TZ)" "$t" "$inputs" "$sc" \
        $((lines - lmiss)) "$lines" "$(pct $((lines - lmiss)) "$lines")" \
        $((regions - rmiss)) "$regions" "$(pct $((regions - rmiss)) "$regions")" >>"$log"
    tail -n1 "$log"
done
