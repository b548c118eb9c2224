#!/usr/bin/env bash
# Build etcd, etcdutl and etcdctl of one etcd version from its Go modules.
#   testdata/etcd-go/build.sh 3.6.16 OUTDIR
# The module in v<version>/ pins the versions (go.mod + go.sum committed).
set -euo pipefail
v=$1 out=$2
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/v$v"
mkdir -p "$out"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
go build -trimpath -o "$out/etcd" ./cmd/etcd
go build -trimpath -o "$out/etcdutl" go.etcd.io/etcd/etcdutl/v3
go build -trimpath -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3
