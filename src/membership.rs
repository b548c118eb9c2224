//! Cluster membership as `snapshot restore` bootstraps it: peer URL
//! parsing, `--initial-cluster`, member and cluster ids, the Member JSON
//! (FORMATS.md §2.8, §10.1, §10.2).
//!
//! Upstream (read for behaviour, etcd 3.4.23 / 3.5.1):
//! `client/pkg/types/{urls.go,urlsmap.go}` (`NewURLs`, `NewURLsMap`,
//! `parse`), `server/etcdserver/api/membership/{member.go,cluster.go}`
//! (`computeMemberId`, `NewClusterFromURLsMap`, `genID`) and
//! `server/config/config.go` (`VerifyBootstrap`).
//!
//! ```text
//! member id  = BE u64 of SHA-1(sorted peer URL strings concatenated ‖ token)[0..8]
//! cluster id = BE u64 of SHA-1(member ids sorted ascending, each 8 bytes BE)[0..8]
//! Member JSON = {"id":<decimal>,"peerURLs":[<sorted>],"name":"<name>"}
//! ```
//!
//! URLs: we accept what etcd accepts in practice (`http`, `https`, `unix`,
//! `unixs`; `host:port`; no path) and refuse, rather than guess Go's
//! normalisation of, user info, queries, fragments and hosts with
//! characters Go would escape. Go lower-cases the scheme; so do we.
//! `--initial-advertise-peer-urls` must equal the member's URLs in
//! `--initial-cluster` as strings: etcd also accepts URLs that resolve to
//! the same addresses (DNS), we do not resolve names.

use std::collections::BTreeMap;

use sha1::{Digest, Sha1};

use crate::error::{Error, Result};
use crate::snap::write::{go_json_string, go_json_string_array};

/// One member of the cluster being bootstrapped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    #[serde(serialize_with = "ser_hex")]
    pub id: u64,
    pub name: String,
    /// Sorted by string, as `types.URLs` are.
    pub peer_urls: Vec<String>,
}

fn ser_hex<S: serde::Serializer>(id: &u64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{id:x}"))
}

impl Member {
    /// `json.Marshal(membership.Member)` for a restored member: `id`,
    /// `peerURLs`, `name` (omitted when empty); never `isLearner` or
    /// `clientURLs`.
    pub fn json(&self) -> String {
        let mut s = format!(r#"{{"id":{},"peerURLs":{}"#, self.id, go_json_string_array(&self.peer_urls));
        if !self.name.is_empty() {
            s.push_str(r#","name":"#);
            s.push_str(&go_json_string(&self.name));
        }
        s.push('}');
        s
    }
    /// The `members` bucket key: lowercase hex without leading zeros.
    pub fn hex_id(&self) -> String {
        format!("{:x}", self.id)
    }
}

/// The cluster `snapshot restore` writes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    #[serde(serialize_with = "ser_hex")]
    pub id: u64,
    /// The member named by `--name`.
    #[serde(serialize_with = "ser_hex")]
    pub local: u64,
    /// Sorted by id ascending (`RaftCluster.Members`, `MemberIDs`).
    pub members: Vec<Member>,
}

/// Parse one URL as `types.NewURLs` does and return Go's `url.URL.String()`.
pub fn parse_url(input: &str) -> Result<String> {
    let s = input.trim();
    let err = |why: &str| Error::usage(format!("{why}: {s}"));
    let (scheme, rest) = s.split_once("://").ok_or_else(|| err("URL scheme must be http, https, unix, or unixs"))?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "unix" | "unixs") {
        return Err(err("URL scheme must be http, https, unix, or unixs"));
    }
    if rest.contains('/') {
        return Err(err("URL must not contain a path"));
    }
    if rest.contains(['?', '#', '@']) {
        return Err(err("URL with user info, query or fragment is not supported"));
    }
    // net.SplitHostPort: "[v6]:port" or "host:port" with exactly one colon.
    let (host, port) = if let Some(after) = rest.strip_prefix('[') {
        let (h, p) = after.split_once(']').ok_or_else(|| err(r#"URL address does not have the form "host:port""#))?;
        let p = p.strip_prefix(':').ok_or_else(|| err(r#"URL address does not have the form "host:port""#))?;
        if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.') {
            return Err(err("unsupported IPv6 host"));
        }
        (h, p)
    } else {
        let (h, p) = rest.split_once(':').ok_or_else(|| err(r#"URL address does not have the form "host:port""#))?;
        if p.contains(':') {
            return Err(err(r#"URL address does not have the form "host:port""#));
        }
        (h, p)
    };
    if !port.bytes().all(|c| c.is_ascii_digit()) {
        return Err(err("invalid port"));
    }
    if !rest.starts_with('[')
        && !host.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'~'))
    {
        return Err(err("unsupported characters in host"));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// `types.NewURLs`: parse each URL, then sort by string form.
pub fn parse_urls<S: AsRef<str>>(inputs: &[S]) -> Result<Vec<String>> {
    if inputs.is_empty() {
        return Err(Error::usage("no valid URLs given"));
    }
    let mut urls = inputs.iter().map(|s| parse_url(s.as_ref())).collect::<Result<Vec<_>>>()?;
    urls.sort();
    Ok(urls)
}

/// `types.NewURLsMap`: `name=url,name=url,…`; a repeated name adds URLs;
/// empty items are skipped; an item without `=` is a name with URL "".
pub fn parse_initial_cluster(s: &str) -> Result<BTreeMap<String, Vec<String>>> {
    let mut raw: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in s.split(',') {
        if item.is_empty() {
            continue;
        }
        let (name, url) = item.split_once('=').unwrap_or((item, ""));
        raw.entry(name.to_owned()).or_default().push(url.to_owned());
    }
    raw.into_iter().map(|(name, urls)| Ok((name, parse_urls(&urls)?))).collect()
}

/// `computeMemberId(peerURLs, token, nil)`.
pub fn member_id(sorted_peer_urls: &[String], token: &str) -> u64 {
    let mut h = Sha1::new();
    for u in sorted_peer_urls {
        h.update(u.as_bytes());
    }
    h.update(token.as_bytes());
    first_u64(&h.finalize())
}

/// `RaftCluster.genID`.
pub fn cluster_id(ids: &[u64]) -> u64 {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for id in sorted {
        h.update(id.to_be_bytes());
    }
    first_u64(&h.finalize())
}

fn first_u64(digest: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(digest) {
        *d = *s;
    }
    u64::from_be_bytes(b)
}

/// `VerifyBootstrap` + `NewClusterFromURLsMap`: the cluster a restore
/// creates, or the error etcdutl gives for these flags.
pub fn bootstrap(name: &str, initial_cluster: &str, token: &str, advertise_peer_urls: &[String]) -> Result<Cluster> {
    let map = parse_initial_cluster(initial_cluster)?;
    let apurls = parse_urls(advertise_peer_urls)?;
    let Some(local_urls) = map.get(name) else {
        return Err(Error::usage(format!("couldn't find local name {name:?} in the initial cluster configuration")));
    };
    if *local_urls != apurls {
        return Err(Error::usage(format!(
            "--initial-cluster has {name}={} but --initial-advertise-peer-urls has {} (they must match; \
             etcd would also accept names that resolve to the same addresses, this tool compares strings)",
            local_urls.join(","),
            apurls.join(",")
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for u in map.values().flatten() {
        if !seen.insert(u) {
            return Err(Error::usage(format!("initial cluster {} has duplicate url", initial_cluster)));
        }
    }
    let mut members: Vec<Member> = Vec::new();
    for (n, urls) in &map {
        let id = member_id(urls, token);
        if id == 0 {
            return Err(Error::usage("cannot use 0 as member id"));
        }
        if members.iter().any(|m| m.id == id) {
            return Err(Error::usage(format!("member exists with identical ID {id:x}")));
        }
        members.push(Member { id, name: n.clone(), peer_urls: urls.clone() });
    }
    members.sort_by_key(|m| m.id);
    let local = members.iter().find(|m| m.name == name).map_or(0, |m| m.id);
    let id = cluster_id(&members.iter().map(|m| m.id).collect::<Vec<_>>());
    Ok(Cluster { id, local, members })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn appendix_a_ids() {
        let c = bootstrap("s1", "s1=http://127.0.0.1:25801", "t", &urls(&["http://127.0.0.1:25801"])).unwrap();
        assert_eq!(c.local, 0x1652b267d3c71c2b);
        assert_eq!(c.id, 0x96fcb6c19f174725);
        assert_eq!(
            c.members[0].json(),
            r#"{"id":1608544175929105451,"peerURLs":["http://127.0.0.1:25801"],"name":"s1"}"#
        );
    }

    #[test]
    fn formats_lab_ids() {
        assert_eq!(member_id(&urls(&["http://127.0.0.1:23801"]), "tok1"), 0x5485ed9a2f08260c);
        let c = bootstrap(
            "a",
            "a=http://127.0.0.1:24801,b=http://127.0.0.1:24802",
            "ctok",
            &urls(&["http://127.0.0.1:24801"]),
        )
        .unwrap();
        let ids: Vec<u64> = c.members.iter().map(|m| m.id).collect();
        assert_eq!(ids, [0x9f611b9b8fd8bba1, 0xbe3e0bcbdc818b57]);
        assert_eq!(c.id, 0x9d7f0f7d77b5b42c);
        assert_eq!(c.local, 0x9f611b9b8fd8bba1);
    }

    #[test]
    fn defaults_and_url_rules() {
        let c =
            bootstrap("default", "default=http://localhost:2380", "etcd-cluster", &urls(&["http://localhost:2380"]))
                .unwrap();
        assert_eq!(c.members.len(), 1);
        assert_eq!(parse_url(" HTTP://h:1 ").unwrap(), "http://h:1");
        assert_eq!(parse_url("https://[::1]:2380").unwrap(), "https://[::1]:2380");
        for bad in ["ftp://h:1", "http://h", "http://h:1/x", "h:1", "http://h:1?x", "http://a:b:1"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        // multiple URLs per member are sorted and concatenated
        let m = parse_initial_cluster("x=http://b:1,,x=http://a:1").unwrap();
        assert_eq!(m["x"], ["http://a:1", "http://b:1"]);
    }

    #[test]
    fn bootstrap_errors_are_etcds() {
        let e = bootstrap("nope", "a=http://h:1", "t", &urls(&["http://h:1"])).unwrap_err();
        assert!(e.to_string().contains("couldn't find local name \"nope\""), "{e}");
        let e = bootstrap("a", "a=http://h:1,b=http://h:1", "t", &urls(&["http://h:1"])).unwrap_err();
        assert!(e.to_string().contains("duplicate url"), "{e}");
        assert!(bootstrap("a", "a=http://h:1", "t", &urls(&["http://h:2"])).is_err());
    }

    #[test]
    fn member_json_escapes_like_go() {
        let m = Member { id: 1, name: "a<b".into(), peer_urls: urls(&["http://h:1"]) };
        assert_eq!(m.json(), r#"{"id":1,"peerURLs":["http://h:1"],"name":"a\u003cb"}"#);
        let m = Member { name: String::new(), ..m };
        assert_eq!(m.json(), r#"{"id":1,"peerURLs":["http://h:1"]}"#);
    }
}
