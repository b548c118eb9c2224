//! How kube-apiserver stores an object's bytes in etcd.
//!
//! Written by the apiserver's storage codec (k8s.io/apimachinery
//! `pkg/runtime/serializer/protobuf/protobuf.go`, `Serializer.doEncode`),
//! then by the encryption-at-rest transformer when one is configured
//! (k8s.io/apiserver `pkg/storage/value/transformer.go`). A value is one of:
//!
//! ```text
//! protobuf (built-in types, the default storage media type):
//!   0  4 bytes  magic "k8s\0" (6b 38 73 00; the 4th byte is the encoding style, 0 the only one)
//!   4  rest     runtime.Unknown, proto2 (apimachinery pkg/runtime/generated.proto):
//!                 1 typeMeta         TypeMeta { 1 apiVersion: string, 2 kind: string }
//!                 2 raw              bytes: the object, protobuf-encoded (e.g. k8s.io.api.core.v1.Pod)
//!                 3 contentEncoding  string ("" from the apiserver)
//!                 4 contentType      string ("" from the apiserver)
//! JSON (custom resources, and everything with --storage-media-type=application/json):
//!   0  rest     {"apiVersion":"...","kind":"...","metadata":{...},...}
//! encrypted (EncryptionConfiguration):
//!   0  rest     "k8s:enc:" <transformer> ":" <version> ":" <provider or key name> ":" ciphertext
//!               (aescbc, aesgcm, secretbox: "k8s:enc:aescbc:v1:key1:..."; KMS: "k8s:enc:kms:v1:name:",
//!               "k8s:enc:kms:v2:name:")
//! ```
//!
//! The apiserver's gogo-protobuf encoder writes every non-pointer field,
//! so its `Unknown` always carries fields 3 and 4 (empty) and its objects
//! carry empty strings and zeros that a prost encoder leaves out; both
//! decode to the same object.

use prost::Message;

use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};

use crate::error::{Error, ErrorKind, Result};

/// The 4 bytes in front of every protobuf-encoded object.
pub const MAGIC: [u8; 4] = *b"k8s\0";
/// The prefix of every value encrypted at rest.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";
/// Longest transformer, version or provider name we read from an encrypted
/// value's prefix (names are short; the rest is ciphertext).
const MAX_NAME: usize = 256;

/// What kind of bytes a Kubernetes value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored<'a> {
    /// `k8s\0` + `runtime.Unknown`.
    Protobuf(Envelope),
    /// Starts with `{` (after whitespace): JSON text, not yet parsed.
    Json(&'a [u8]),
    /// `k8s:enc:...`.
    Encrypted(Encryption),
    /// None of the above (not an object the apiserver wrote, or damaged).
    Other,
}

/// A decoded `runtime.Unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub api_version: String,
    pub kind: String,
    /// The object's own protobuf bytes.
    pub raw: Vec<u8>,
    pub content_encoding: String,
    pub content_type: String,
}

/// What an encrypted value's prefix says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    /// `aescbc`, `aesgcm`, `secretbox`, `kms`, ...
    pub transformer: String,
    /// `v1`, `v2`.
    pub version: String,
    /// The key name (aescbc, aesgcm, secretbox) or KMS provider name.
    pub provider: String,
}

/// Classify a value; a protobuf envelope is decoded (an error if it does
/// not decode: a value that starts with the magic and is not an
/// `Unknown` is damaged, or not the apiserver's).
pub fn classify(value: &[u8]) -> Result<Stored<'_>> {
    if let Some(rest) = value.strip_prefix(&MAGIC) {
        return decode(rest).map(Stored::Protobuf);
    }
    if let Some(rest) = value.strip_prefix(ENCRYPTED_PREFIX) {
        return Ok(encryption(rest).map_or(Stored::Other, Stored::Encrypted));
    }
    if value.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(Stored::Json(value));
    }
    Ok(Stored::Other)
}

/// Decode the `runtime.Unknown` after the magic (`rest` starts at offset 4).
fn decode(rest: &[u8]) -> Result<Envelope> {
    let u = Unknown::decode(rest).map_err(|e| {
        Error::at(ErrorKind::Proto(format!("runtime.Unknown after the k8s magic: {e}")), MAGIC.len() as u64)
    })?;
    let tm = u.type_meta.unwrap_or_default();
    Ok(Envelope {
        api_version: tm.api_version.unwrap_or_default(),
        kind: tm.kind.unwrap_or_default(),
        raw: u.raw.unwrap_or_default(),
        content_encoding: u.content_encoding.unwrap_or_default(),
        content_type: u.content_type.unwrap_or_default(),
    })
}

/// `<transformer>:<version>:<provider>:` at the start of `rest`.
fn encryption(rest: &[u8]) -> Option<Encryption> {
    let head = rest.get(..rest.len().min(3 * (MAX_NAME + 1)))?;
    let mut parts = head.splitn(4, |&b| b == b':');
    let mut name = || {
        let p = parts.next()?;
        (p.len() <= MAX_NAME).then(|| String::from_utf8_lossy(p).into_owned())
    };
    let (transformer, version, provider) = (name()?, name()?, name()?);
    // The ciphertext (possibly empty) must follow a third colon.
    parts.next()?;
    Some(Encryption { transformer, version, provider })
}

/// The bytes the apiserver stores for an object of `api_version`/`kind`
/// whose protobuf encoding is `raw` (the inverse of [`classify`]; fields 3
/// and 4 written empty, as the apiserver writes them).
pub fn encode(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let u = Unknown {
        type_meta: Some(TypeMeta { api_version: Some(api_version.to_string()), kind: Some(kind.to_string()) }),
        raw: Some(raw.to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = MAGIC.to_vec();
    out.extend(u.encode_to_vec());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const CONFIGMAP: &[u8] = &[
        b'k', b'8', b's', 0,                  // magic
        0x0a, 0x0f,                           // 1 typeMeta, 15 bytes
          0x0a, 0x02, b'v', b'1',             //   1 apiVersion "v1"
          0x12, 0x09, b'C', b'o', b'n', b'f', b'i', b'g', b'M', b'a', b'p', // 2 kind
        0x12, 0x03, 0x0a, 0x01, 0x00,         // 2 raw, 3 bytes (field 1 = 1 byte)
        0x1a, 0x00,                           // 3 contentEncoding ""
        0x22, 0x00,                           // 4 contentType ""
    ];

    #[test]
    fn decodes_the_apiservers_bytes_and_encodes_them_back() {
        let Stored::Protobuf(e) = classify(CONFIGMAP).unwrap() else { panic!("not protobuf") };
        assert_eq!((e.api_version.as_str(), e.kind.as_str()), ("v1", "ConfigMap"));
        assert_eq!(e.raw, [0x0a, 0x01, 0x00]);
        assert_eq!((e.content_encoding.as_str(), e.content_type.as_str()), ("", ""));
        assert_eq!(encode("v1", "ConfigMap", &e.raw), CONFIGMAP);
    }

    #[test]
    fn truncated_and_garbage_envelopes_are_errors() {
        for cut in 5..CONFIGMAP.len() {
            // A cut at a field boundary leaves a shorter valid message; any
            // other cut is a decode error at the start of the Unknown.
            let r = classify(&CONFIGMAP[..cut]);
            if [21, 26, 28].contains(&cut) {
                assert!(r.is_ok(), "cut {cut}");
                continue;
            }
            let err = r.unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Proto(_)), "cut {cut}: {err}");
            assert_eq!(err.location().offset, Some(4));
        }
        assert!(classify(b"k8s\0\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").is_err());
        assert!(classify(b"k8s\0\x0a\xff\xff\xff\xff\x0f").is_err(), "a length past the end");
        // Only the magic: an empty Unknown.
        let Stored::Protobuf(e) = classify(b"k8s\0").unwrap() else { panic!() };
        assert!(e.kind.is_empty() && e.raw.is_empty());
        assert_eq!(classify(b"k8s").unwrap(), Stored::Other);
        assert_eq!(classify(b"k8s\x01abc").unwrap(), Stored::Other, "an unknown encoding style");
    }

    #[test]
    fn json_encrypted_and_other_values() {
        assert_eq!(classify(b" \n{\"kind\":\"Widget\"}").unwrap(), Stored::Json(b" \n{\"kind\":\"Widget\"}"));
        let Stored::Encrypted(e) = classify(b"k8s:enc:aescbc:v1:key1:\x00\x01\x02").unwrap() else { panic!() };
        assert_eq!((e.transformer.as_str(), e.version.as_str(), e.provider.as_str()), ("aescbc", "v1", "key1"));
        let Stored::Encrypted(e) = classify(b"k8s:enc:kms:v2:vault:").unwrap() else { panic!() };
        assert_eq!((e.transformer.as_str(), e.version.as_str(), e.provider.as_str()), ("kms", "v2", "vault"));
        assert_eq!(classify(b"k8s:enc:aescbc:v1").unwrap(), Stored::Other, "no provider");
        let long = [b"k8s:enc:aescbc:v1:".as_slice(), &[b'k'; 1000], b":x"].concat();
        assert_eq!(classify(&long).unwrap(), Stored::Other, "a provider name past the bound");
        assert_eq!(classify(b"").unwrap(), Stored::Other);
        assert_eq!(classify(b"plain text").unwrap(), Stored::Other);
        assert_eq!(classify(b"[1,2]").unwrap(), Stored::Other);
    }
}
