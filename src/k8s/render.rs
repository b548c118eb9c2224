//! Kubernetes-style JSON from a decoded k8s-pb object.
//!
//! k8s-pb's types have no serde support, but prost derives `Debug` for every
//! one of them in one fixed shape: `Name { field: value, ... }` with the
//! Rust (snake_case) field names in proto order, `Some(..)`/`None` for
//! optional fields, `[..]` for repeated fields and `bytes` (as decimal
//! numbers), `{k: v, ..}` for maps (BTreeMaps, so sorted), Rust string
//! literals and numbers. [`to_json`] formats an object with `{:?}` into a
//! bounded buffer and parses that text back into a [`Json`] tree, applying
//! the conventions of Kubernetes' JSON encoding on the way:
//!
//! * field names: the proto field name, which is the Go JSON name
//!   (`podIP`, `hostIPs`, `clusterIP`, `uid`): prost made `pod_ip` of
//!   `podIP`, and we turn it back into lowerCamelCase, with the table
//!   [`INITIALISMS`] for names whose initialisms snake_case loses;
//! * omitted: `None`, `""`, `[]`, `{}` (`omitempty`, which nearly every
//!   optional Kubernetes field has); numbers and booleans are kept as stored,
//!   since a stored `replicas: 0` means something;
//! * `Time` → RFC 3339 (`2024-01-02T03:04:05Z`), `MicroTime` → RFC 3339 with
//!   microseconds, `Duration` → Go's duration string (`1h0m0s`),
//!   `Quantity` → its string, `IntOrString` → a number or a string;
//! * `bytes` fields ([`BYTES_FIELDS`]: Secret `data`, ConfigMap
//!   `binaryData`, `caBundle`, ...) → base64, as Go encodes `[]byte`;
//! * `RawExtension`, `FieldsV1` and apiextensions' `JSON` → the JSON they
//!   hold (base64 if it is not JSON); `JSONSchemaPropsOrBool`,
//!   `JSONSchemaPropsOrArray`, `JSONSchemaPropsOrStringArray` → the bool,
//!   schema or array they stand for.
//!
//! Limits: the `Debug` text is capped at [`MAX_DEBUG_BYTES`] (a hostile
//! value cannot make us format gigabytes) and the parser at [`MAX_DEPTH`]
//! levels (prost's own decoder stops at 100).

use std::fmt::{self, Write as _};

use super::json::Json;

/// The most `Debug` text one object may produce.
pub const MAX_DEBUG_BYTES: usize = 64 << 20;
/// The deepest nesting the parser follows.
pub const MAX_DEPTH: usize = 256;

/// Why an object could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The `Debug` text would pass [`MAX_DEBUG_BYTES`].
    TooLarge,
    /// The `Debug` text is not in the shape prost derives (a bug, not bad input).
    Syntax { offset: usize, what: &'static str },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::TooLarge => write!(f, "the object is too large to render (over {MAX_DEBUG_BYTES} bytes)"),
            RenderError::Syntax { offset, what } => write!(f, "cannot render the object: {what} at {offset}"),
        }
    }
}

/// Proto field names whose lowerCamelCase cannot be read back from prost's
/// snake_case name (the initialisms are lost): snake_case → JSON name.
/// Made from every `generated.proto` of k8s.io/api, apimachinery,
/// apiextensions-apiserver and kube-aggregator, matched by message and tag
/// with k8s-pb 0.9's field names: each field whose k8s-pb name does not
/// turn back into its proto name, minus names that also occur in the usual
/// spelling (`Name` vs `name`).
pub const INITIALISMS: &[(&str, &str)] = &[
    ("a_pi_group", "aPIGroup"),
    ("api_server_id", "apiServerID"),
    ("boot_id", "bootID"),
    ("carp_ip", "carpIP"),
    ("client_cidr", "clientCIDR"),
    ("client_ip", "clientIP"),
    ("cluster_ip", "clusterIP"),
    ("cluster_ips", "clusterIPs"),
    ("container_id", "containerID"),
    ("current_cpu_utilization_percentage", "currentCPUUtilizationPercentage"),
    ("dataset_uuid", "datasetUUID"),
    ("desired_api_version", "desiredAPIVersion"),
    ("disk_uri", "diskURI"),
    ("downward_api", "downwardAPI"),
    ("external_id", "externalID"),
    ("external_ips", "externalIPs"),
    ("host_ip", "hostIP"),
    ("host_ipc", "hostIPC"),
    ("host_ips", "hostIPs"),
    ("host_pid", "hostPID"),
    ("image_id", "imageID"),
    ("insecure_skip_tls_verify", "insecureSkipTLSVerify"),
    ("insecure_skip_tls_verify_backend", "insecureSkipTLSVerifyBackend"),
    ("json_path", "JSONPath"),
    ("load_balancer_ip", "loadBalancerIP"),
    ("machine_id", "machineID"),
    ("node_id", "nodeID"),
    ("node_uid", "nodeUID"),
    ("non_resource_ur_ls", "nonResourceURLs"),
    ("open_apiv3_schema", "openAPIV3Schema"),
    ("pd_id", "pdID"),
    ("pod_cid_rs", "podCIDRs"),
    ("pod_cidr", "podCIDR"),
    ("pod_ip", "podIP"),
    ("pod_ips", "podIPs"),
    ("pod_uid", "podUID"),
    ("provider_id", "providerID"),
    ("resource_id", "resourceID"),
    ("scale_io", "scaleIO"),
    ("server_address_by_client_cid_rs", "serverAddressByClientCIDRs"),
    ("service_account_uid", "serviceAccountUID"),
    ("set_hostname_as_fqdn", "setHostnameAsFQDN"),
    ("share_id", "shareID"),
    ("storage_policy_id", "storagePolicyID"),
    ("stub_pkcs10_request", "stubPKCS10Request"),
    ("system_uuid", "systemUUID"),
    ("target_cpu_utilization_percentage", "targetCPUUtilizationPercentage"),
    ("target_ww_ns", "targetWWNs"),
    ("u_id", "uID"),
    ("volume_id", "volumeID"),
];

/// Fields that are embedded Go structs: Go's JSON puts their fields in the
/// parent (`livenessProbe.httpGet`, not `livenessProbe.handler.httpGet`),
/// protobuf nests them under these names (found as fields with `json:""`
/// or `json:",inline"` tags in the same sources as [`INITIALISMS`]). Only an
/// object value is inlined (RuntimeClass' `handler` is a string).
pub const INLINED: &[&str] = &[
    "handler",
    "volume_source",
    "persistent_volume_source",
    "local_object_reference",
    "ingress_rule_value",
    "rule",
    "rule_with_operations",
    "device_configuration",
    "ephemeral_container_common",
];

/// `(message, field)` pairs whose proto type is `bytes` or
/// `map<string, bytes>` (same sources as [`INITIALISMS`]), by k8s-pb's Rust
/// names. Go encodes `[]byte` as base64.
pub const BYTES_FIELDS: &[(&str, &str)] = &[
    ("APIServiceSpec", "ca_bundle"),
    ("AdmissionResponse", "patch"),
    ("CertificateSigningRequestSpec", "request"),
    ("CertificateSigningRequestStatus", "certificate"),
    ("ConfigMap", "binary_data"),
    ("PodCertificateRequestSpec", "pkix_public_key"),
    ("PodCertificateRequestSpec", "proof_of_possession"),
    ("PodCertificateRequestSpec", "stub_pkcs10_request"),
    ("RangeAllocation", "data"),
    ("Secret", "data"),
    ("WebhookClientConfig", "ca_bundle"),
];

/// The Kubernetes JSON name of a k8s-pb field.
pub fn json_name(rust: &str) -> String {
    let rust = rust.strip_prefix("r#").unwrap_or(rust);
    if let Some((_, j)) = INITIALISMS.iter().find(|(s, _)| *s == rust) {
        return (*j).to_string();
    }
    let mut out = String::with_capacity(rust.len());
    let mut upper = false;
    for c in rust.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// JSONSchemaProps' JSON names (apiextensions `types_jsonschema.go`):
/// `$ref`, `$schema` and the `x-kubernetes-*` extensions.
fn schema_name(rust: &str) -> String {
    match rust {
        "ref" => "$ref".into(),
        "schema" => "$schema".into(),
        _ => match rust.strip_prefix("x_kubernetes_") {
            Some(rest) => format!("x-kubernetes-{}", rest.replace('_', "-")),
            None => json_name(rust),
        },
    }
}

/// A `fmt::Write` that refuses to grow past a limit.
struct Bounded {
    text: String,
    limit: usize,
    overflow: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.text.len().saturating_add(s.len()) > self.limit {
            self.overflow = true;
            return Err(fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

/// Kubernetes-style JSON of a k8s-pb object (see the module docs).
pub fn to_json(object: &impl fmt::Debug) -> Result<Json, RenderError> {
    to_json_limited(object, MAX_DEBUG_BYTES)
}

fn to_json_limited(object: &impl fmt::Debug, limit: usize) -> Result<Json, RenderError> {
    let mut buf = Bounded { text: String::new(), limit, overflow: false };
    if write!(buf, "{object:?}").is_err() {
        return Err(if buf.overflow {
            RenderError::TooLarge
        } else {
            RenderError::Syntax { offset: 0, what: "Debug failed" }
        });
    }
    let mut p = Parser { s: buf.text.as_bytes(), pos: 0 };
    let v = p.value(0, None)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("trailing text"));
    }
    Ok(v)
}

/// Recursive descent over prost's `Debug` text.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

/// Where a value sits: the struct and field it belongs to.
type Ctx<'c> = Option<(&'c str, &'c str)>;

impl<'a> Parser<'a> {
    fn err(&self, what: &'static str) -> RenderError {
        RenderError::Syntax { offset: self.pos, what }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), RenderError> {
        if self.eat(c) { Ok(()) } else { Err(self.err(what)) }
    }

    fn ident(&mut self) -> &'a str {
        self.skip_ws();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'#' {
                self.pos += 1;
            } else {
                break;
            }
        }
        std::str::from_utf8(self.s.get(start..self.pos).unwrap_or_default()).unwrap_or_default()
    }

    /// One value; `ctx` is the (struct, field) it is the value of.
    fn value(&mut self, depth: usize, ctx: Ctx<'_>) -> Result<Json, RenderError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1, ctx)?);
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',', "expected , or ]")?;
                    }
                }
                let arr = Json::Array(items);
                Ok(if is_bytes_field(ctx) { bytes_to_base64(arr) } else { arr })
            }
            Some(b'{') => {
                self.pos += 1;
                let mut fields = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        let k = match self.value(depth + 1, None)? {
                            Json::String(s) => s,
                            other => other.to_line(),
                        };
                        self.expect(b':', "expected : in map")?;
                        let mut v = self.value(depth + 1, None)?;
                        if is_bytes_field(ctx) {
                            v = bytes_to_base64(v);
                        }
                        fields.push((k, v));
                        if self.eat(b'}') {
                            break;
                        }
                        self.expect(b',', "expected , or }")?;
                    }
                }
                Ok(Json::Object(fields))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let id = self.ident();
                match id {
                    "None" => Ok(Json::Null),
                    "true" => Ok(Json::Bool(true)),
                    "false" => Ok(Json::Bool(false)),
                    "inf" | "NaN" => Ok(Json::String(id.to_string())),
                    "Some" => {
                        self.expect(b'(', "expected ( after Some")?;
                        let v = self.value(depth + 1, ctx)?;
                        self.expect(b')', "expected ) after Some(..")?;
                        Ok(v)
                    }
                    _ => self.structure(id, depth),
                }
            }
            _ => Err(self.err("unexpected character")),
        }
    }

    /// `Name { f: v, .. }`, `Name(v)` or a bare `Name`.
    fn structure(&mut self, name: &str, depth: usize) -> Result<Json, RenderError> {
        let mut fields: Vec<(String, Json)> = Vec::new();
        if self.eat(b'{') {
            if !self.eat(b'}') {
                loop {
                    let field = self.ident();
                    if field.is_empty() {
                        return Err(self.err("expected a field name"));
                    }
                    self.expect(b':', "expected : after a field name")?;
                    let field = field.strip_prefix("r#").unwrap_or(field);
                    let v = self.value(depth + 1, Some((name, field)))?;
                    fields.push((field.to_string(), v));
                    if self.eat(b'}') {
                        break;
                    }
                    self.expect(b',', "expected , or }")?;
                }
            }
        } else if self.eat(b'(') {
            // A tuple (prost's oneof variants): its single value stands for it.
            let v = self.value(depth + 1, None)?;
            self.expect(b')', "expected )")?;
            return Ok(v);
        }
        Ok(special(name, fields).unwrap_or_else(|fields| {
            let rename = if name == "JsonSchemaProps" { schema_name } else { json_name };
            let mut out = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                match v {
                    Json::Object(inner) if INLINED.contains(&k.as_str()) => out.extend(inner),
                    v if v.is_empty() => {}
                    v => out.push((rename(&k), v)),
                }
            }
            Json::Object(out)
        }))
    }

    fn string(&mut self) -> Result<String, RenderError> {
        self.pos += 1; // the opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'0' => out.push(0),
                        b'u' => {
                            self.expect(b'{', "expected { in \\u escape")?;
                            let start = self.pos;
                            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                self.pos += 1;
                            }
                            let hex = std::str::from_utf8(self.s.get(start..self.pos).unwrap_or_default())
                                .unwrap_or_default();
                            let ch = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("bad \\u escape"))?;
                            self.expect(b'}', "expected } in \\u escape")?;
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }

    fn number(&mut self) -> Result<Json, RenderError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+')) {
            self.pos += 1;
        }
        let text = std::str::from_utf8(self.s.get(start..self.pos).unwrap_or_default()).unwrap_or_default();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Json::Number(i.into()));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Ok(Json::Number(u.into()));
        }
        match text.parse::<f64>() {
            Ok(f) => Ok(serde_json::Number::from_f64(f).map_or_else(|| Json::String(text.to_string()), Json::Number)),
            Err(_) => Err(RenderError::Syntax { offset: start, what: "bad number" }),
        }
    }
}

fn is_bytes_field(ctx: Ctx<'_>) -> bool {
    ctx.is_some_and(|(s, f)| BYTES_FIELDS.iter().any(|(bs, bf)| *bs == s && *bf == f))
}

/// The bytes a list of numbers 0..=255 stands for.
fn as_bytes(v: &Json) -> Option<Vec<u8>> {
    let Json::Array(items) = v else { return None };
    items
        .iter()
        .map(|i| if let Json::Number(n) = i { n.as_u64().and_then(|x| u8::try_from(x).ok()) } else { None })
        .collect()
}

/// `[104, 105]` → `"aGk="`; anything else unchanged.
fn bytes_to_base64(v: Json) -> Json {
    match as_bytes(&v) {
        Some(b) => Json::String(crate::bytes::base64(&b)),
        None => v,
    }
}

fn field<'f>(fields: &'f [(String, Json)], name: &str) -> Option<&'f Json> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v).filter(|v| !matches!(v, Json::Null))
}

fn int(fields: &[(String, Json)], name: &str) -> Option<i64> {
    match field(fields, name) {
        Some(Json::Number(n)) => n.as_i64(),
        _ => None,
    }
}

/// The bytes of a `raw` field (already a list of numbers) as embedded JSON,
/// or base64 when they are not JSON.
fn embedded(fields: &[(String, Json)], name: &str) -> Json {
    match field(fields, name).and_then(as_bytes) {
        Some(bytes) => Json::parse(&bytes).unwrap_or_else(|_| Json::String(crate::bytes::base64(&bytes))),
        None => Json::Null,
    }
}

/// Types with a JSON form of their own; `Err(fields)` for every other one.
fn special(name: &str, fields: Vec<(String, Json)>) -> Result<Json, Vec<(String, Json)>> {
    match name {
        "Time" | "MicroTime" => {
            let secs = int(&fields, "seconds").unwrap_or(0);
            let nanos = int(&fields, "nanos").unwrap_or(0);
            rfc3339(secs, nanos, name == "MicroTime").map(Json::String).ok_or(fields)
        }
        "Duration" if fields.len() == 1 => match int(&fields, "duration") {
            Some(d) => Ok(Json::String(go_duration(d))),
            None => Ok(Json::String("0s".into())),
        },
        "Quantity" => Ok(field(&fields, "string").cloned().unwrap_or_else(|| Json::from("0"))),
        "IntOrString" => match int(&fields, "type") {
            Some(1) => Ok(field(&fields, "str_val").cloned().unwrap_or_else(|| Json::from(""))),
            Some(0) | None => Ok(Json::Number(int(&fields, "int_val").unwrap_or(0).into())),
            Some(_) => Err(fields),
        },
        "RawExtension" | "FieldsV1" | "Json" => Ok(embedded(&fields, "raw")),
        "JsonSchemaPropsOrBool" => match field(&fields, "schema") {
            Some(s) => Ok(s.clone()),
            None => Ok(field(&fields, "allows").cloned().unwrap_or(Json::Bool(false))),
        },
        "JsonSchemaPropsOrArray" => match field(&fields, "schema") {
            Some(s) => Ok(s.clone()),
            None => Ok(field(&fields, "json_schemas").cloned().unwrap_or(Json::Array(Vec::new()))),
        },
        "JsonSchemaPropsOrStringArray" => match field(&fields, "schema") {
            Some(s) => Ok(s.clone()),
            None => Ok(field(&fields, "property").cloned().unwrap_or(Json::Array(Vec::new()))),
        },
        _ => Err(fields),
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Go's RFC 3339 of a UTC time, as metav1.Time (seconds) and
/// metav1.MicroTime (microseconds) marshal it; `None` outside years 1..=9999
/// (Go refuses to marshal those) or for nanos outside 0..1e9.
pub fn rfc3339(secs: i64, nanos: i64, micro: bool) -> Option<String> {
    // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    if !(-62_135_596_800..=253_402_300_799).contains(&secs) || !(0..1_000_000_000).contains(&nanos) {
        return None;
    }
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if micro {
        out.push_str(&format!(".{:06}", nanos / 1000));
    }
    out.push('Z');
    Some(out)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn go_duration(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    /// `v` units of `1/10^prec` as a decimal without trailing zeros.
    fn frac(v: u64, prec: u32) -> String {
        let p = 10u64.pow(prec);
        let (i, f) = (v / p, v % p);
        if f == 0 {
            return i.to_string();
        }
        let fs = format!("{f:0width$}", width = prec as usize);
        format!("{i}.{}", fs.trim_end_matches('0'))
    }
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (v, prec, unit) = if u < 1_000 {
            (u, 0, "ns")
        } else if u < 1_000_000 {
            (u, 3, "µs")
        } else {
            (u, 6, "ms")
        };
        out.push_str(&frac(v, prec));
        out.push_str(unit);
        return out;
    }
    let secs = u / 1_000_000_000;
    let (h, m) = (secs / 3600, secs % 3600 / 60);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&frac(u % 60_000_000_000, 9));
    out.push('s');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kubernetes_json() {
        for (rust, json) in [
            ("pod_ip", "podIP"),
            ("pod_ips", "podIPs"),
            ("host_ips", "hostIPs"),
            ("pod_ips", "podIPs"),
            ("external_ips", "externalIPs"),
            ("cluster_ips", "clusterIPs"),
            ("pod_cid_rs", "podCIDRs"),
            ("uid", "uid"),
            ("api_version", "apiVersion"),
            ("r#type", "type"),
            ("creation_timestamp", "creationTimestamp"),
            ("open_apiv3_schema", "openAPIV3Schema"),
            ("non_resource_ur_ls", "nonResourceURLs"),
            ("x_kubernetes_preserve_unknown_fields", "xKubernetesPreserveUnknownFields"),
        ] {
            assert_eq!(json_name(rust), json, "{rust}");
        }
    }

    #[test]
    fn times_are_rfc3339_like_go() {
        assert_eq!(rfc3339(0, 0, false).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 0, false).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400, 0, false).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0, false).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_700_000_000, 123_456_789, true).unwrap(), "2023-11-14T22:13:20.123456Z");
        assert_eq!(rfc3339(-62_135_596_800, 0, false).unwrap(), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799, 0, false).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800, 0, false), None);
        assert_eq!(rfc3339(i64::MIN, 0, false), None);
        assert_eq!(rfc3339(0, -1, true), None);
    }

    #[test]
    fn durations_are_go_strings() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(90_500_000_000), "1m30.5s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(2_000), "2µs");
        assert_eq!(go_duration(7), "7ns");
        assert_eq!(go_duration(-5_000_000_000), "-5s");
        assert!(go_duration(i64::MIN).starts_with("-2562047h"));
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Odd {
        name: Option<String>,
        r#type: Option<String>,
        list: Vec<i32>,
        empty: Option<String>,
        ratio: f64,
    }

    #[test]
    fn generic_debug_shapes() {
        let o = Odd {
            name: Some("quote\" back\\ nl\n tab\t nul\0 esc\u{1b} é 😀".into()),
            r#type: Some("t".into()),
            list: vec![1, -2],
            empty: Some(String::new()),
            ratio: 0.5,
        };
        let j = to_json(&o).unwrap();
        assert_eq!(j.get("name").unwrap().as_str().unwrap(), "quote\" back\\ nl\n tab\t nul\0 esc\u{1b} é 😀");
        assert_eq!(j.get("type").unwrap().as_str(), Some("t"));
        assert_eq!(j.get("list").unwrap().to_line(), "[1,-2]");
        assert_eq!(j.get("empty"), None, "empty strings are omitted");
        assert_eq!(j.get("ratio").unwrap().to_line(), "0.5");
        serde_json::from_str::<serde_json::Value>(&j.to_line()).unwrap();
    }

    #[test]
    fn too_large_is_an_error() {
        let o = Odd { name: Some("x".repeat(1000)), r#type: None, list: vec![], empty: None, ratio: 0.0 };
        assert_eq!(to_json_limited(&o, 100), Err(RenderError::TooLarge));
        assert!(to_json_limited(&o, 10_000).is_ok());
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        for text in
            ["", "{", "[1,", "\"abc", "\"\\u{zz}\"", "X { a 1 }", "Some(1", "1 2", "{\"a\" 1}", "@", "X { : 1 }"]
        {
            let mut p = Parser { s: text.as_bytes(), pos: 0 };
            let r = p.value(0, None).and_then(|v| {
                p.skip_ws();
                if p.pos == p.s.len() { Ok(v) } else { Err(p.err("trailing")) }
            });
            assert!(r.is_err(), "{text:?} parsed as {r:?}");
        }
        let deep = format!("{}1{}", "Some(".repeat(MAX_DEPTH + 5), ")".repeat(MAX_DEPTH + 5));
        let mut p = Parser { s: deep.as_bytes(), pos: 0 };
        assert!(p.value(0, None).is_err());
    }
}
