//! Predict the store revision etcd reaches when it applies WAL entries past
//! the db's consistent index (etcd's apply path, `apply.go`/`txn.go`).
//!
//! The model holds the newest state of every live key (create/mod
//! revision, version, value, lease) and the set of leases, loaded from the
//! db, and applies each request as etcd's v3 applier does: a write
//! transaction bumps the revision by one if it changed anything; a put
//! always changes; a delete only if it deleted a key; a txn evaluates its
//! compares against the state before it and runs one branch; a lease revoke
//! deletes the keys attached to it. Requests that etcd would reject (a put
//! on a missing lease, `ignore_value` on a missing key) change nothing.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;

use crate::proto::etcdserverpb::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, InternalRaftRequest, PutRequest, RequestOp, TxnRequest,
    compare::TargetUnion, request_op::Request as Op,
};

/// The newest revision of a live key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyState {
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: Vec<u8>,
    pub lease: i64,
}

/// What etcd's store looks like, enough to apply requests.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub keys: BTreeMap<Vec<u8>, KeyState>,
    pub leases: HashSet<i64>,
    /// Current store revision.
    pub revision: i64,
    pub compact_revision: i64,
    /// Write transactions that changed something.
    pub writes: u64,
    /// When `Some`, every change is appended as etcd writes it to the
    /// `key` bucket (`salvage` replays the WAL into a db this way).
    pub log: Option<Vec<Change>>,
}

/// One change of a write transaction: an entry of the `key` bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `main` = the transaction's revision, `sub` = its position in it;
    /// `tombstone` for a delete.
    pub revision: super::Revision,
    pub key: Vec<u8>,
    /// The new state of a put (`None` for a delete).
    pub put: Option<KeyState>,
}

impl Change {
    /// The `key`-bucket value etcd writes: the `mvccpb.KeyValue` of a put,
    /// or a KeyValue holding only the key for a delete.
    pub fn value(&self) -> Vec<u8> {
        use prost::Message;
        let kv = match &self.put {
            Some(s) => crate::proto::mvccpb::KeyValue {
                key: self.key.clone(),
                create_revision: s.create_revision,
                mod_revision: s.mod_revision,
                version: s.version,
                value: s.value.clone(),
                lease: s.lease,
            },
            None => crate::proto::mvccpb::KeyValue { key: self.key.clone(), ..Default::default() },
        };
        kv.encode_to_vec()
    }
}

/// Maximum txn nesting we evaluate (etcd itself limits request size, not
/// depth; a hostile entry could nest deeply).
const MAX_TXN_DEPTH: usize = 64;

fn range_bounds(key: &[u8], range_end: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    if range_end.is_empty() {
        (Bound::Included(key.to_vec()), Bound::Included(key.to_vec()))
    } else if range_end == [0] {
        (Bound::Included(key.to_vec()), Bound::Unbounded)
    } else {
        (Bound::Included(key.to_vec()), Bound::Excluded(range_end.to_vec()))
    }
}

/// Keys of `keys` in `[key, range_end)` with etcd's range_end conventions.
fn keys_in(keys: &BTreeMap<Vec<u8>, KeyState>, key: &[u8], range_end: &[u8]) -> Vec<Vec<u8>> {
    let (lo, hi) = range_bounds(key, range_end);
    if let (Bound::Included(a), Bound::Excluded(b)) = (&lo, &hi) {
        if a >= b {
            return Vec::new();
        }
    }
    keys.range((lo, hi)).map(|(k, _)| k.clone()).collect()
}

impl Model {
    /// Apply one entry's request; returns whether the revision moved.
    pub fn apply(&mut self, req: &InternalRaftRequest) -> bool {
        let before = self.revision;
        if let Some(p) = &req.put {
            let mut tx = Tx::new(self);
            if tx.check_put(p) {
                tx.put(p);
            }
            tx.finish();
        } else if let Some(d) = &req.delete_range {
            let mut tx = Tx::new(self);
            tx.delete(d);
            tx.finish();
        } else if let Some(t) = &req.txn {
            let mut tx = Tx::new(self);
            if tx.check_txn(t, 0) {
                let branch = tx.branch(t);
                tx.ops(branch, 0);
            }
            tx.finish();
        } else if let Some(c) = &req.compaction {
            if c.revision > self.compact_revision && c.revision <= self.revision {
                self.compact_revision = c.revision;
            }
        } else if let Some(g) = &req.lease_grant {
            self.leases.insert(g.id);
        } else if let Some(r) = &req.lease_revoke {
            if self.leases.remove(&r.id) {
                let attached: Vec<Vec<u8>> =
                    self.keys.iter().filter(|(_, s)| s.lease == r.id).map(|(k, _)| k.clone()).collect();
                let mut tx = Tx::new(self);
                for k in attached {
                    tx.delete_key(&k);
                }
                tx.finish();
            }
        }
        self.revision != before
    }
}

/// One write transaction: all changes share the next main revision.
struct Tx<'m> {
    m: &'m mut Model,
    changes: u64,
}

impl<'m> Tx<'m> {
    fn new(m: &'m mut Model) -> Self {
        Tx { m, changes: 0 }
    }
    fn rev(&self) -> i64 {
        self.m.revision + 1
    }
    fn finish(self) {
        if self.changes > 0 {
            self.m.revision += 1;
            self.m.writes += 1;
        }
    }
    /// etcd's `checkRequestPut`: lease must exist; ignore_value/ignore_lease
    /// need the key.
    fn check_put(&self, p: &PutRequest) -> bool {
        let exists = self.m.keys.contains_key(&p.key);
        if (p.ignore_value || p.ignore_lease) && !exists {
            return false;
        }
        if !p.ignore_lease && p.lease != 0 && !self.m.leases.contains(&p.lease) {
            return false;
        }
        true
    }
    fn check_txn(&self, t: &TxnRequest, depth: usize) -> bool {
        if depth > MAX_TXN_DEPTH {
            return false;
        }
        // etcd checks the branch it will run against the current state.
        let branch = if self.compares(t) { &t.success } else { &t.failure };
        branch.iter().all(|op| match &op.request {
            Some(Op::RequestPut(p)) => self.check_put(p),
            Some(Op::RequestTxn(t)) => self.check_txn(t, depth + 1),
            _ => true,
        })
    }
    fn compares(&self, t: &TxnRequest) -> bool {
        t.compare.iter().all(|c| compare(&self.m.keys, c))
    }
    fn branch<'t>(&self, t: &'t TxnRequest) -> &'t [RequestOp] {
        if self.compares(t) { &t.success } else { &t.failure }
    }
    fn ops(&mut self, ops: &[RequestOp], depth: usize) {
        for op in ops {
            match &op.request {
                Some(Op::RequestPut(p)) => self.put(p),
                Some(Op::RequestDeleteRange(d)) => self.delete(d),
                Some(Op::RequestTxn(t)) if depth < MAX_TXN_DEPTH => {
                    let branch = self.branch(t);
                    self.ops(branch, depth + 1);
                }
                _ => {}
            }
        }
    }
    fn put(&mut self, p: &PutRequest) {
        let rev = self.rev();
        let prev = self.m.keys.get(&p.key).cloned();
        let value =
            if p.ignore_value { prev.as_ref().map(|s| s.value.clone()).unwrap_or_default() } else { p.value.clone() };
        let lease = if p.ignore_lease { prev.as_ref().map_or(0, |s| s.lease) } else { p.lease };
        let (create, version) = match &prev {
            Some(s) => (s.create_revision, s.version + 1),
            None => (rev, 1),
        };
        let state = KeyState { create_revision: create, mod_revision: rev, version, value, lease };
        if let Some(log) = &mut self.m.log {
            log.push(Change {
                revision: super::Revision { main: rev, sub: self.changes as i64, tombstone: false },
                key: p.key.clone(),
                put: Some(state.clone()),
            });
        }
        self.m.keys.insert(p.key.clone(), state);
        self.changes += 1;
    }
    fn delete(&mut self, d: &DeleteRangeRequest) {
        for k in keys_in(&self.m.keys, &d.key, &d.range_end) {
            self.delete_key(&k);
        }
    }
    fn delete_key(&mut self, k: &[u8]) {
        if self.m.keys.remove(k).is_some() {
            let rev = self.rev();
            if let Some(log) = &mut self.m.log {
                log.push(Change {
                    revision: super::Revision { main: rev, sub: self.changes as i64, tombstone: true },
                    key: k.to_vec(),
                    put: None,
                });
            }
            self.changes += 1;
        }
    }
}

/// etcd's `applyCompare`: every key in the range must satisfy the compare;
/// a value compare on no keys fails; other targets compare a zero KeyValue.
fn compare(keys: &BTreeMap<Vec<u8>, KeyState>, c: &Compare) -> bool {
    let hits = keys_in(keys, &c.key, &c.range_end);
    let target = CompareTarget::try_from(c.target).unwrap_or(CompareTarget::Version);
    if hits.is_empty() {
        if target == CompareTarget::Value {
            return false;
        }
        return compare_one(None, c, target);
    }
    hits.iter().all(|k| compare_one(keys.get(k), c, target))
}

fn compare_one(s: Option<&KeyState>, c: &Compare, target: CompareTarget) -> bool {
    use std::cmp::Ordering;
    let ord = match target {
        CompareTarget::Value => {
            let want: &[u8] = match &c.target_union {
                Some(TargetUnion::Value(v)) => v,
                _ => &[],
            };
            s.map_or(&[][..], |s| s.value.as_slice()).cmp(want)
        }
        _ => {
            let (have, want) = match (target, &c.target_union) {
                (CompareTarget::Version, Some(TargetUnion::Version(v))) => (s.map_or(0, |s| s.version), *v),
                (CompareTarget::Version, _) => (s.map_or(0, |s| s.version), 0),
                (CompareTarget::Create, Some(TargetUnion::CreateRevision(v))) => {
                    (s.map_or(0, |s| s.create_revision), *v)
                }
                (CompareTarget::Create, _) => (s.map_or(0, |s| s.create_revision), 0),
                (CompareTarget::Mod, Some(TargetUnion::ModRevision(v))) => (s.map_or(0, |s| s.mod_revision), *v),
                (CompareTarget::Mod, _) => (s.map_or(0, |s| s.mod_revision), 0),
                (CompareTarget::Lease, Some(TargetUnion::Lease(v))) => (s.map_or(0, |s| s.lease), *v),
                (_, _) => (s.map_or(0, |s| s.lease), 0),
            };
            have.cmp(&want)
        }
    };
    match CompareResult::try_from(c.result).unwrap_or(CompareResult::Equal) {
        CompareResult::Equal => ord == Ordering::Equal,
        CompareResult::NotEqual => ord != Ordering::Equal,
        CompareResult::Greater => ord == Ordering::Greater,
        CompareResult::Less => ord == Ordering::Less,
    }
}

/// Collects the model from the `key` and `lease` buckets (sequential walk,
/// so key-bucket entries arrive in revision order).
struct ModelSink {
    kind: u8,
    model: Model,
}

impl<'a> crate::bolt::Sink<'a> for ModelSink {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, _: crate::bolt::KvLoc) {
        if is_bucket {
            return;
        }
        match self.kind {
            1 => {
                let Some(rev) = super::Revision::parse(key) else { return };
                let Ok(kv) = super::kv::decode(value) else { return };
                if rev.tombstone {
                    self.model.keys.remove(kv.key);
                } else if !kv.key.is_empty() {
                    self.model.keys.insert(
                        kv.key.to_vec(),
                        KeyState {
                            create_revision: kv.create_revision,
                            mod_revision: kv.mod_revision,
                            version: kv.version,
                            value: kv.value.to_vec(),
                            lease: kv.lease,
                        },
                    );
                }
            }
            2 => {
                if let Some(id) = crate::bytes::be_u64(key, 0) {
                    self.model.leases.insert(id as i64);
                }
            }
            _ => {}
        }
    }
    fn fresh(&self) -> Self {
        ModelSink { kind: self.kind, model: Model::default() }
    }
    fn merge(&mut self, later: Self) {
        self.model.keys.extend(later.model.keys);
        self.model.leases.extend(later.model.leases);
    }
}

/// Load the newest state of every key and the lease ids from a db.
/// `revision` and `compact_revision` are the store's (see
/// [`current_revision`]).
pub fn load_model(db: &crate::bolt::Db<'_>, revision: i64, compact_revision: i64) -> Model {
    let walk = crate::bolt::walk(db, crate::bolt::WalkOptions { parallel: false, progress: None }, |name| {
        let kind = match name {
            Some(super::buckets::KEY) => 1,
            Some(super::buckets::LEASE) => 2,
            _ => 0,
        };
        ModelSink { kind, model: Model::default() }
    });
    let mut m = Model { revision, compact_revision, ..Default::default() };
    for b in walk.buckets {
        m.keys.extend(b.sink.model.keys);
        m.leases.extend(b.sink.model.leases);
    }
    m
}

/// etcd's current store revision at boot (`store.restore`, 3.4.23/3.5.1):
/// the main revision of the last `key`-bucket key (1 if empty), at least
/// the finished compaction revision.
pub fn current_revision(last_key_main: i64, compact_revision: Option<i64>) -> i64 {
    let cur = if last_key_main > 0 { last_key_main } else { 1 };
    cur.max(compact_revision.unwrap_or(-1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::etcdserverpb::{LeaseGrantRequest, LeaseRevokeRequest, compare::TargetUnion};

    fn put(k: &str, v: &str) -> InternalRaftRequest {
        InternalRaftRequest {
            put: Some(PutRequest { key: k.into(), value: v.into(), ..Default::default() }),
            ..Default::default()
        }
    }
    fn op_put(k: &str, v: &str) -> RequestOp {
        RequestOp { request: Some(Op::RequestPut(PutRequest { key: k.into(), value: v.into(), ..Default::default() })) }
    }

    #[test]
    fn puts_deletes_and_txns_move_the_revision_like_etcd() {
        let mut m = Model { revision: 1, ..Default::default() };
        assert!(m.apply(&put("a", "1")));
        assert!(m.apply(&put("a", "2")));
        assert_eq!(m.keys[&b"a".to_vec()].version, 2);
        assert_eq!(m.revision, 3);
        // deleting nothing does not move the revision
        let del = |k: &str, end: &str| InternalRaftRequest {
            delete_range: Some(DeleteRangeRequest { key: k.into(), range_end: end.into(), ..Default::default() }),
            ..Default::default()
        };
        assert!(!m.apply(&del("zzz", "")));
        assert!(m.apply(&del("a", "b")));
        assert_eq!(m.revision, 4);
        // txn: compare value of missing key fails -> failure branch
        let txn = |cmp_val: &str| InternalRaftRequest {
            txn: Some(TxnRequest {
                compare: vec![Compare {
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Value as i32,
                    key: b"x".to_vec(),
                    target_union: Some(TargetUnion::Value(cmp_val.into())),
                    range_end: vec![],
                }],
                success: vec![op_put("y", "s")],
                failure: vec![],
            }),
            ..Default::default()
        };
        assert!(!m.apply(&txn("1"))); // x missing: value compare fails, empty failure branch
        assert!(m.apply(&put("x", "1")));
        assert!(m.apply(&txn("1")));
        assert!(m.keys.contains_key(b"y".as_slice()));
        assert_eq!(m.revision, 6);
        // version compare on a missing key compares against 0
        let t = InternalRaftRequest {
            txn: Some(TxnRequest {
                compare: vec![Compare {
                    result: CompareResult::Equal as i32,
                    target: CompareTarget::Version as i32,
                    key: b"nope".to_vec(),
                    target_union: Some(TargetUnion::Version(0)),
                    range_end: vec![],
                }],
                success: vec![op_put("created", "1")],
                failure: vec![],
            }),
            ..Default::default()
        };
        assert!(m.apply(&t));
    }

    #[test]
    fn leases_gate_puts_and_revoke_deletes_attached_keys() {
        let mut m = Model { revision: 1, ..Default::default() };
        let with_lease = InternalRaftRequest {
            put: Some(PutRequest { key: b"l".to_vec(), value: b"v".to_vec(), lease: 7, ..Default::default() }),
            ..Default::default()
        };
        assert!(!m.apply(&with_lease), "lease 7 does not exist");
        m.apply(&InternalRaftRequest { lease_grant: Some(LeaseGrantRequest { ttl: 60, id: 7 }), ..Default::default() });
        assert!(m.apply(&with_lease));
        let revoke = InternalRaftRequest { lease_revoke: Some(LeaseRevokeRequest { id: 7 }), ..Default::default() };
        assert!(m.apply(&revoke));
        assert!(m.keys.is_empty());
        assert!(!m.apply(&revoke), "already revoked");
    }

    #[test]
    fn the_log_holds_what_etcd_writes_to_the_key_bucket() {
        use crate::mvcc::Revision;
        let mut m = Model { revision: 4, log: Some(Vec::new()), ..Default::default() };
        m.apply(&put("a", "1"));
        m.apply(&put("a", "2"));
        let t = InternalRaftRequest {
            txn: Some(TxnRequest {
                compare: vec![],
                success: vec![
                    op_put("b", "x"),
                    RequestOp {
                        request: Some(Op::RequestDeleteRange(DeleteRangeRequest {
                            key: b"a".to_vec(),
                            ..Default::default()
                        })),
                    },
                ],
                failure: vec![],
            }),
            ..Default::default()
        };
        m.apply(&t);
        let log = m.log.take().unwrap();
        let revs: Vec<(i64, i64, bool)> =
            log.iter().map(|c| (c.revision.main, c.revision.sub, c.revision.tombstone)).collect();
        assert_eq!(revs, vec![(5, 0, false), (6, 0, false), (7, 0, false), (7, 1, true)]);
        let v1 = log[1].value();
        let kv = crate::mvcc::kv::decode(&v1).unwrap();
        assert_eq!(
            (kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version),
            (&b"a"[..], &b"2"[..], 5, 6, 2)
        );
        assert_eq!(log[3].value(), vec![0x0a, 1, b'a'], "a tombstone's value is KeyValue{{key}}");
        assert!(Revision::parse(&log[3].revision.to_key()).unwrap().tombstone);
    }
}
