#!/bin/bash
# The worked examples of the README ("Recovering a whole cluster"): a
# 3-member cluster on 127.0.0.1 (fixed ports 23791-3, 23801-3), a planned
# shutdown, then a quorum loss and a restore. Needs `cargo build --release`.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
B=$REPO/target/release/etcd-forensics
E=${1:?usage: cluster-demo.sh ETCD_BIN_DIR (e.g. target/etcd-3.5.30/usr/bin)}; E=$(cd "$E" && pwd)
W=$(mktemp -d); cd $W
IC="node1=http://127.0.0.1:23801,node2=http://127.0.0.1:23802,node3=http://127.0.0.1:23803"
start() { # n
  $E/etcd --name node$1 --data-dir $W/node$1 --listen-client-urls http://127.0.0.1:2379$1 --advertise-client-urls http://127.0.0.1:2379$1 \
    --listen-peer-urls http://127.0.0.1:2380$1 --initial-advertise-peer-urls http://127.0.0.1:2380$1 --initial-cluster $IC \
    --initial-cluster-token demo --log-level error > $W/log$1 2>&1 &
  echo $! > $W/pid$1
}
EP=http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793
for n in 1 2 3; do start $n; done
sleep 3
for i in $(seq 1 50); do $E/etcdctl --endpoints $EP put /registry/demo/k$i v$i >/dev/null; done
for n in 3 2 1; do kill $(cat $W/pid$n); done; sleep 3
echo '$ etcd-forensics cluster node1 node2 node3 -w table'
$B cluster node1 node2 node3 -w table; echo "(exit $?)"
echo '$ etcd-forensics check node2 | tail -3'
$B check node2 | tail -3
# quorum loss
for n in 1 2 3; do start $n; done; sleep 3
for i in $(seq 51 100); do $E/etcdctl --endpoints $EP put /registry/demo/k$i v$i >/dev/null; done
( for i in $(seq 101 400); do $E/etcdctl --endpoints http://127.0.0.1:23791 --command-timeout 1s put /registry/demo/k$i v$i >/dev/null || break; done ) &
sleep 0.5
kill -9 $(cat $W/pid1) $(cat $W/pid2); wait $(cat $W/pid1) $(cat $W/pid2) 2>/dev/null
sleep 1; kill $(cat $W/pid3); sleep 3
rm -rf node1 node2
echo '$ etcd-forensics cluster node3'
$B cluster node3; echo "(exit $?)"
echo '$ etcd-forensics cluster node3 --restore --out restored --member node1=http://127.0.0.1:23801 --member node2=http://127.0.0.1:23802 --member node3=http://127.0.0.1:23803'
$B cluster node3 --restore --out restored --member node1=http://127.0.0.1:23801 --member node2=http://127.0.0.1:23802 --member node3=http://127.0.0.1:23803 | sed -n '/^wrote/,$p'; echo "(exit $?)"
