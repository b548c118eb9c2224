//! What a db holds for Kubernetes, counted (for `report`).
//!
//! From the `key` bucket's entries (every revision of every key, as `space`
//! walks them), the current state of each `/registry/` key: its newest
//! stored revision, when that is a put. Live objects are counted per
//! resource and per namespace, the largest are listed, and values stored
//! encrypted at rest are counted per resource with the provider their
//! prefix names. Values are never decoded past their first bytes and never
//! returned: a report names objects and sizes, never their data (Secrets).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::envelope::{self, ENCRYPTED_PREFIX, MAGIC, Stored};
use super::key;
use crate::mvcc::kv;
use crate::mvcc::revision::Revision;

/// Keys of Kubernetes objects start with this.
pub const REGISTRY: &[u8] = b"/registry/";

/// How many of the largest objects are listed.
pub const LARGEST: usize = 20;
/// How many namespaces are listed (the rest is summed).
pub const NAMESPACES: usize = 40;
/// How many (resource, namespace) pairs are listed.
pub const CELLS: usize = 60;

/// Live objects of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceCount {
    /// `pods`, or `group/plural` for a resource whose key carries its group.
    pub resource: String,
    pub objects: u64,
    /// Bytes of their values.
    pub bytes: u64,
    /// Distinct namespaces (0 for cluster-scoped resources).
    pub namespaces: u64,
    /// Objects whose value is encrypted at rest (`k8s:enc:`).
    pub encrypted: u64,
    /// `transformer:version:provider` of the encrypted values, with counts.
    pub providers: BTreeMap<String, u64>,
    /// Stored as protobuf, JSON, and neither.
    pub protobuf: u64,
    pub json: u64,
    pub other: u64,
}

/// Live objects of one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceCount {
    pub namespace: String,
    pub objects: u64,
    pub bytes: u64,
}

/// Live objects of one resource in one namespace (`""`: cluster-scoped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub resource: String,
    pub namespace: String,
    pub objects: u64,
}

/// One of the largest objects: its name and size, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeObject {
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// Bytes of the value.
    pub bytes: u64,
    pub mod_revision: i64,
    /// `protobuf`, `json`, `encrypted` or `raw`.
    pub encoding: &'static str,
    /// The envelope's `kind`, for protobuf values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The Kubernetes view of a db.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sSummary {
    /// Live `/registry/` keys that name an object.
    pub objects: u64,
    pub bytes: u64,
    /// Live `/registry/` keys that do not parse as an object key (e.g.
    /// `/registry/masterleases/…` of old releases, `/registry/health`).
    pub other_keys: u64,
    /// Most objects first.
    pub resources: Vec<ResourceCount>,
    /// Most objects first; at most [`NAMESPACES`], the rest in `namespaces_omitted`.
    pub namespaces: Vec<NamespaceCount>,
    pub namespace_count: u64,
    /// Most objects first; at most [`CELLS`].
    pub cells: Vec<Cell>,
    /// Largest first; at most [`LARGEST`].
    pub largest: Vec<LargeObject>,
    /// Objects encrypted at rest, over all resources.
    pub encrypted: u64,
}

fn encoding_of(value: &[u8]) -> &'static str {
    if value.starts_with(&MAGIC) {
        "protobuf"
    } else if value.starts_with(ENCRYPTED_PREFIX) {
        "encrypted"
    } else if value.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        "json"
    } else {
        "raw"
    }
}

/// Count the live Kubernetes objects among `entries` (the `key` bucket:
/// revision key, `mvccpb.KeyValue`); `None` when no `/registry/` key is
/// stored. Entries that do not decode are skipped (`space` and `check`
/// report them).
pub fn summarize(entries: &[(&[u8], &[u8])]) -> Option<K8sSummary> {
    // Newest revision of each /registry/ key: (revision, value, mod revision).
    let mut newest: HashMap<&[u8], (Revision, &[u8], i64)> = HashMap::new();
    for &(k, v) in entries {
        let Some(rev) = Revision::parse(k) else { continue };
        let Ok(kv) = kv::decode(v) else { continue };
        if !kv.key.starts_with(REGISTRY) {
            continue;
        }
        let slot = newest.entry(kv.key).or_insert((rev, kv.value, kv.mod_revision));
        if rev >= slot.0 {
            *slot = (rev, kv.value, kv.mod_revision);
        }
    }
    if newest.is_empty() {
        return None;
    }
    let mut s = K8sSummary::default();
    let mut resources: HashMap<String, (ResourceCount, HashSet<String>)> = HashMap::new();
    let mut namespaces: HashMap<String, NamespaceCount> = HashMap::new();
    let mut cells: HashMap<(String, String), u64> = HashMap::new();
    let mut largest: Vec<(u64, &[u8], &[u8], i64)> = Vec::new();
    for (user_key, (rev, value, mod_rev)) in &newest {
        if rev.tombstone {
            continue;
        }
        let Some(k) = key::parse(user_key) else {
            s.other_keys += 1;
            continue;
        };
        let bytes = value.len() as u64;
        s.objects += 1;
        s.bytes = s.bytes.saturating_add(bytes);
        let resource = match &k.group {
            Some(g) => format!("{g}/{}", k.resource),
            None => k.resource.clone(),
        };
        let (rc, nss) = resources.entry(resource.clone()).or_default();
        rc.objects += 1;
        rc.bytes = rc.bytes.saturating_add(bytes);
        match encoding_of(value) {
            "protobuf" => rc.protobuf += 1,
            "json" => rc.json += 1,
            "encrypted" => {
                rc.encrypted += 1;
                s.encrypted += 1;
                let name = match envelope::classify(value) {
                    Ok(Stored::Encrypted(e)) => format!("{}:{}:{}", e.transformer, e.version, e.provider),
                    _ => "(unreadable prefix)".to_string(),
                };
                *rc.providers.entry(name).or_default() += 1;
            }
            _ => rc.other += 1,
        }
        if let Some(ns) = &k.namespace {
            nss.insert(ns.clone());
            let n = namespaces
                .entry(ns.clone())
                .or_insert_with(|| NamespaceCount { namespace: ns.clone(), ..Default::default() });
            n.objects += 1;
            n.bytes = n.bytes.saturating_add(bytes);
        }
        *cells.entry((resource, k.namespace.clone().unwrap_or_default())).or_default() += 1;
        largest.push((bytes, user_key, value, *mod_rev));
    }

    let mut rs: Vec<ResourceCount> = resources
        .into_iter()
        .map(|(name, (mut rc, nss))| {
            rc.resource = name;
            rc.namespaces = nss.len() as u64;
            rc
        })
        .collect();
    rs.sort_by(|a, b| b.objects.cmp(&a.objects).then_with(|| a.resource.cmp(&b.resource)));
    s.resources = rs;

    let mut ns: Vec<NamespaceCount> = namespaces.into_values().collect();
    ns.sort_by(|a, b| b.objects.cmp(&a.objects).then_with(|| a.namespace.cmp(&b.namespace)));
    s.namespace_count = ns.len() as u64;
    ns.truncate(NAMESPACES);
    s.namespaces = ns;

    let mut cs: Vec<Cell> =
        cells.into_iter().map(|((resource, namespace), objects)| Cell { resource, namespace, objects }).collect();
    cs.sort_by(|a, b| {
        b.objects.cmp(&a.objects).then_with(|| a.resource.cmp(&b.resource)).then_with(|| a.namespace.cmp(&b.namespace))
    });
    cs.truncate(CELLS);
    s.cells = cs;

    largest.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    largest.truncate(LARGEST);
    s.largest = largest
        .into_iter()
        .filter_map(|(bytes, user_key, value, mod_revision)| {
            let k = key::parse(user_key)?;
            let encoding = encoding_of(value);
            let kind = match envelope::classify(value) {
                Ok(Stored::Protobuf(e)) if !e.kind.is_empty() => Some(e.kind),
                _ => None,
            };
            let resource = match &k.group {
                Some(g) => format!("{g}/{}", k.resource),
                None => k.resource,
            };
            Some(LargeObject { resource, namespace: k.namespace, name: k.name, bytes, mod_revision, encoding, kind })
        })
        .collect();
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::index::tests::History;

    fn borrowed(e: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
        e.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect()
    }

    #[test]
    fn counts_live_objects_only_and_never_keeps_values() {
        let mut h = History::default();
        h.put(2, 0, "/registry/pods/default/a", "k8s\0pod-a");
        h.put(3, 0, "/registry/pods/default/a", "k8s\0pod-a-bigger");
        h.put(4, 0, "/registry/pods/kube-system/b", "{\"kind\":\"Pod\"}");
        h.put(5, 0, "/registry/secrets/default/s1", "k8s:enc:aescbc:v1:key1:ciphertext");
        h.put(6, 0, "/registry/secrets/default/s2", "k8s:enc:aescbc:v1:key1:more-ciphertext");
        h.put(7, 0, "/registry/namespaces/default", "k8s\0ns");
        h.put(8, 0, "/registry/pods/default/gone", "k8s\0x").del(9, 0, "/registry/pods/default/gone");
        h.put(10, 0, "/registry/health", "ok");
        h.put(11, 0, "/other/key", "v");
        let s = summarize(&borrowed(&h.entries)).unwrap();
        assert_eq!((s.objects, s.other_keys, s.encrypted), (5, 1, 2));
        let names: Vec<(&str, u64, u64)> =
            s.resources.iter().map(|r| (r.resource.as_str(), r.objects, r.namespaces)).collect();
        assert_eq!(names, vec![("pods", 2, 2), ("secrets", 2, 1), ("namespaces", 1, 0)]);
        let secrets = &s.resources[1];
        assert_eq!(secrets.providers.get("aescbc:v1:key1"), Some(&2));
        assert_eq!((s.resources[0].protobuf, s.resources[0].json), (1, 1));
        assert_eq!(s.namespaces[0].namespace, "default");
        assert_eq!(s.namespaces[0].objects, 3);
        assert_eq!(s.namespace_count, 2);
        assert_eq!(s.largest[0].name, "s2");
        assert_eq!(s.largest[0].encoding, "encrypted");
        // The newest put of a counts, at its own size.
        let a = s.largest.iter().find(|o| o.name == "a").unwrap();
        assert_eq!((a.bytes, a.mod_revision), (16, 3));
        assert!(s.cells.iter().any(|c| c.resource == "namespaces" && c.namespace.is_empty()));
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("ciphertext") && !json.contains("pod-a"), "values never leave: {json}");
    }

    #[test]
    fn no_registry_keys_no_summary_and_garbage_is_skipped() {
        let mut h = History::default();
        h.put(2, 0, "/a", "1");
        let mut e = h.entries.clone();
        e.push((b"garbage".to_vec(), b"\xff\xff".to_vec()));
        e.push((e[0].0.clone(), b"\x0a\xff".to_vec()));
        assert_eq!(summarize(&borrowed(&e)), None);
    }
}
