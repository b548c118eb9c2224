#!/usr/bin/env python3
"""Cut the committed seed corpora in fuzz/seeds/<target>/ from the real-etcd
fixtures in testdata/fixtures/. Run from the repository root:

    python3 fuzz/make-seeds.py

Re-running rewrites the same files (deterministic) and leaves the others
alone: fuzz/seeds/bolt_file_mutate/finds-<code>-<fixture> are edit lists the
fuzzer found, one per finding code they make `check` report (picked from a
`-merge=1` corpus), not generated here."""

import os
import struct

FIX = "testdata/fixtures"
OUT = "fuzz/seeds"
PS = 4096


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(FIX, path), "rb") as f:
        return f.read()


def header(d, p):
    return struct.unpack_from("<QHHI", d, p * PS)


def run(d, p):
    """Page p with its overflow run."""
    _, _, _, ov = header(d, p)
    return d[p * PS:(p + 1 + ov) * PS]


def leaf_elems(buf, base):
    _, flags, count, _ = struct.unpack_from("<QHHI", buf, base)
    if flags != 2:
        return
    for i in range(count):
        e = base + 16 + 16 * i
        f, pos, ks, vs = struct.unpack_from("<IIII", buf, e)
        k = buf[e + pos:e + pos + ks]
        yield f, k, buf[e + pos + ks:e + pos + ks + vs]


def freelist_page(pgid, ids, escape):
    """A freelist page as bbolt writes it (count escape 0xFFFF when asked)."""
    if escape:
        body = struct.pack("<QHHI", pgid, 0x10, 0xFFFF, 0) + struct.pack("<Q", len(ids))
    else:
        body = struct.pack("<QHHI", pgid, 0x10, len(ids), 0)
    body += b"".join(struct.pack("<Q", i) for i in ids)
    return body + bytes(512 - len(body))


def main():
    tiny = read("tiny/snapshot.db")
    v351 = read("v3.5.1/member-db")

    # bolt_file: whole small files (the big ones go through bolt_file_mutate).
    for name in ("tiny/snapshot.db", "tiny/member-db"):
        write("bolt_file", name.replace("/", "-"), read(name))

    # bolt_page: real pages of each kind, plus crafted freelist pages
    # (etcd on Linux never persists a freelist, so no fixture has one).
    write("bolt_page", "tiny-meta0", tiny[0:PS])
    write("bolt_page", "tiny-leaf-inline-buckets", run(tiny, 4))
    write("bolt_page", "v351-leaf-root-bucket", run(v351, 133))
    write("bolt_page", "v351-branch-key-root", run(v351, 140))
    write("bolt_page", "v351-branch-111", run(v351, 132))
    write("bolt_page", "v351-leaf-key", run(v351, 5))
    write("bolt_page", "v351-leaf-overflow-5", run(v351, 146))
    write("bolt_page", "freelist-3", freelist_page(7, [3, 4, 9], False))
    write("bolt_page", "freelist-escape", freelist_page(7, [3, 4, 5, 6, 9], True))

    # mvcc_key: key-bucket keys and values, tombstones included; at most
    # two items per (kind, length) so the corpus stays varied and small.
    per_shape = {}
    for p in range(2, len(v351) // PS):
        _, flags, _, _ = header(v351, p)
        if flags != 2:
            continue
        for f, k, v in leaf_elems(v351, p * PS):
            if f != 0 or len(k) not in (17, 18) or k[8:9] != b"_":
                continue
            kind = "tomb" if len(k) == 18 else "rev"
            for name, item in ((kind, k), (kind + "-value", v)):
                if len(item) > 4096:
                    continue  # keep max_len (and exec time) small
                shape = (name, len(item))
                if per_shape.get(shape, 0) >= 2:
                    continue
                per_shape[shape] = per_shape.get(shape, 0) + 1
                write("mvcc_key", "%s-%d-%d" % (name, len(item), per_shape[shape]), item)
    for _, k, v in leaf_elems(tiny, 4 * PS):
        if k == b"key":
            for i, (_, rk, rv) in enumerate(leaf_elems(v, 16)):
                write("mvcc_key", "tiny-key-%d" % i, rk)
                write("mvcc_key", "tiny-value-%d" % i, rv)

    # bolt_file_mutate: inputs are `arbitrary`-encoded edit lists; the
    # fixture itself is compiled in. Empty = tiny unedited; a leading odd
    # byte picks the v3.5.1 db.
    write("bolt_file_mutate", "tiny-unedited", b"")
    write("bolt_file_mutate", "v351-unedited", b"\x01\x00")
    write("bolt_file_mutate", "tiny-some-edits", bytes(range(0, 64)))
    write("bolt_file_mutate", "v351-some-edits", b"\x01\x00" + bytes(range(200, 256)) * 2)

    # k8s_value: every value of the k8s fixture as etcdctl got it (envelopes,
    # JSON, an encrypted value), and every key.
    import base64, json
    got = json.load(open(os.path.join(FIX, "k8s", "get-registry.json")))
    for kv in got["kvs"]:
        key = base64.b64decode(kv["key"]).decode()
        value = base64.b64decode(kv["value"])
        name = key.replace("/registry/", "").replace("/", "-")
        write("k8s_value", name, value)
        write("k8s_value", name + "-key", key.encode())


if __name__ == "__main__":
    main()
