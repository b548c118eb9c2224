//! Prints the workload of the `testdata/fixtures/k8s` fixture as JSON
//! lines for `testdata/gen-k8s-fixture.sh`, which writes them into a real
//! etcd through its gRPC gateway:
//!
//! ```text
//! {"op":"put","key":"<base64>","value":"<base64>","keyText":"/registry/...","what":"v1 Pod"}
//! {"op":"delete","key":"<base64>","keyText":"/registry/..."}
//! ```
//!
//! Values are the bytes kube-apiserver stores: the `k8s\0` envelope around
//! a k8s-pb object, JSON for a custom resource, a `k8s:enc:` value.

#[path = "../tests/k8s_objects.rs"]
mod objects;

use etcd_forensics::bytes::base64;

fn main() {
    for op in objects::workload() {
        let line = match op {
            objects::Op::Put { key, value, what } => serde_json::json!({
                "op": "put", "key": base64(key.as_bytes()), "value": base64(&value), "keyText": key, "what": what,
            }),
            objects::Op::Delete { key } => {
                serde_json::json!({"op": "delete", "key": base64(key.as_bytes()), "keyText": key})
            }
        };
        println!("{line}");
    }
}
