//! Kubernetes' meaning of etcd keys and values (a layer beside [`crate::mvcc`]).
//!
//! kube-apiserver keeps every API object in etcd: the key says which
//! object ([`key`]: `/registry/<resource>/[<namespace>/]<name>`), the value
//! is the object, as protobuf in a `k8s\0` envelope, as JSON, or encrypted
//! ([`envelope`]). [`interpret`] reads both into a [`K8sView`], decoding
//! protobuf objects with the k8s-pb type for their apiVersion and kind
//! ([`types`]) and rendering them as Kubernetes-style JSON ([`render`] into a
//! [`json::Json`] that keeps field order).
//!
//! Everything here reads hostile bytes without panicking: keys that are
//! not UTF-8 or oddly segmented, truncated or garbage envelopes, objects
//! that do not decode. prost's decoder bounds nesting (100) and lengths
//! (to the input); what we compute ourselves is bounded by
//! [`MAX_OBJECT_BYTES`] and [`render::MAX_DEBUG_BYTES`]. Nothing here prints.

pub mod envelope;
pub mod json;
pub mod key;
pub mod render;
pub mod summary;
pub mod types;

use serde::Serialize;

pub use envelope::{Encryption, Envelope, Stored};
pub use json::Json;
pub use key::K8sKey;

/// Largest protobuf object we decode. etcd refuses requests over 1.5 MiB by
/// default (`--max-request-bytes`); a decoded object can be many times its
/// encoded size, so larger values are only described.
pub const MAX_OBJECT_BYTES: usize = 16 << 20;

/// How a value is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Protobuf,
    Json,
    Encrypted,
    /// Not an object the apiserver wrote (or damaged): the bytes as they are.
    Raw,
}

/// A `/registry/` key and its value as Kubernetes sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sView {
    #[serde(flatten)]
    pub key: K8sKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `None` when no value was read (keys only, a delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// The object as Kubernetes JSON, `apiVersion` and `kind` first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<Json>,
    /// Why the value could not be shown as an object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Kubernetes' view of a key and (when given) its value; `None` for keys
/// outside `/registry/`.
pub fn interpret(key: &[u8], value: Option<&[u8]>) -> Option<K8sView> {
    let key = key::parse(key)?;
    let mut view =
        K8sView { key, api_version: None, kind: None, encoding: None, encryption: None, object: None, error: None };
    if let Some(value) = value {
        read_value(&mut view, value);
    }
    Some(view)
}

fn read_value(view: &mut K8sView, value: &[u8]) {
    match envelope::classify(value) {
        Err(e) => {
            view.encoding = Some(Encoding::Raw);
            view.error = Some(e.to_string());
        }
        Ok(Stored::Protobuf(env)) => {
            view.encoding = Some(Encoding::Protobuf);
            view.api_version = Some(env.api_version.clone());
            view.kind = Some(env.kind.clone());
            match object(&env) {
                Ok(o) => view.object = Some(o),
                Err(e) => view.error = Some(e),
            }
        }
        Ok(Stored::Json(text)) => match Json::parse(text) {
            Ok(o) => {
                view.encoding = Some(Encoding::Json);
                view.api_version = o.get("apiVersion").and_then(Json::as_str).map(str::to_string);
                view.kind = o.get("kind").and_then(Json::as_str).map(str::to_string);
                view.object = Some(o);
            }
            Err(e) => {
                view.encoding = Some(Encoding::Raw);
                view.error = Some(format!("starts like JSON but is not: {e}"));
            }
        },
        Ok(Stored::Encrypted(enc)) => {
            view.encoding = Some(Encoding::Encrypted);
            view.encryption = Some(enc);
        }
        Ok(Stored::Other) => view.encoding = Some(Encoding::Raw),
    }
}

/// The object of an envelope as Kubernetes JSON, `apiVersion` and `kind`
/// first.
pub fn object(env: &Envelope) -> Result<Json, String> {
    if !env.content_encoding.is_empty() {
        return Err(format!("content encoding {:?} is not supported", env.content_encoding));
    }
    if !matches!(env.content_type.as_str(), "" | "application/vnd.kubernetes.protobuf") {
        return Err(format!("content type {:?} is not protobuf", env.content_type));
    }
    if env.raw.len() > MAX_OBJECT_BYTES {
        return Err(format!("the object is {} bytes, over the {MAX_OBJECT_BYTES} decoded here", env.raw.len()));
    }
    let fields = match types::render(&env.api_version, &env.kind, &env.raw).map_err(|e| e.to_string())? {
        Json::Object(fields) => fields,
        other => vec![("object".to_string(), other)],
    };
    let mut out = vec![
        ("apiVersion".to_string(), Json::from(env.api_version.as_str())),
        ("kind".to_string(), Json::from(env.kind.as_str())),
    ];
    out.extend(fields);
    Ok(Json::Object(out))
}

#[cfg(test)]
mod tests;
