//! Kubernetes awareness of `get` and `history`, on objects real etcd
//! stored: the committed `testdata/fixtures/k8s` snapshot (made by
//! `testdata/gen-fixtures.sh k8s` from the objects in `tests/k8s_objects.rs`)
//! and a live etcd 3.5.1 given enveloped objects through its gRPC gateway.
//! Decoded objects are compared with the objects that were written, with
//! k8s-pb's `PartialEq`, and their JSON with Kubernetes' field names.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use k8s_pb::api::apps::v1::Deployment;
use prost::Message;
use serde_json::{Value, json};

use etcd_forensics::bytes::base64;
use etcd_forensics::k8s::{self, Stored};

use crate::k8s_objects as objects;
use crate::util::{self, EtcdProcess};

fn snapshot() -> String {
    util::fixture("k8s/snapshot.db").display().to_string()
}

fn ours_json(args: &[&str]) -> Value {
    let out = util::ours(args);
    let s = util::assert_success(&out);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad JSON ({e}) from {args:?}: {s}"))
}

fn unbase64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {s}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    out
}

/// Key text → kv of a `get -w json` answer.
fn kvs(answer: &Value) -> BTreeMap<String, Value> {
    answer["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (String::from_utf8(unbase64(kv["key"].as_str().unwrap())).unwrap(), kv.clone()))
        .collect()
}

/// The object inside a stored value, decoded as `T`.
fn decode<T: Message + Default>(kv: &Value, api_version: &str, kind: &str) -> T {
    let value = unbase64(kv["value"].as_str().unwrap());
    let Stored::Protobuf(env) = k8s::envelope::classify(&value).unwrap() else { panic!("not an envelope: {kv}") };
    assert_eq!((env.api_version.as_str(), env.kind.as_str()), (api_version, kind));
    T::decode(env.raw.as_slice()).unwrap()
}

/// Our JSON of an object as it was written (through the library, as the
/// CLI does it).
fn rendered(api_version: &str, kind: &str, obj: &impl Message) -> Value {
    let v = k8s::interpret(b"/registry/x/y", Some(&objects::stored(api_version, kind, obj))).unwrap();
    serde_json::from_str(&v.object.unwrap().to_line()).unwrap()
}

/// Check every kv of a `get /registry/ --prefix -w json` answer against
/// the objects of `tests/k8s_objects.rs` (their state after the workload).
fn check_final_state(answer: &Value) {
    let kv = kvs(answer);
    macro_rules! same {
        ($key:literal, $api:literal, $kind:literal, $ty:ty, $obj:expr) => {{
            let got = &kv[$key];
            assert_eq!(decode::<$ty>(got, $api, $kind), $obj, "{} decodes to what was written", $key);
            assert_eq!(got["k8s"]["object"], rendered($api, $kind, &$obj), "{}", $key);
            assert_eq!(got["k8s"]["apiVersion"], $api);
            assert_eq!(got["k8s"]["kind"], $kind);
            assert_eq!(got["k8s"]["encoding"], "protobuf");
        }};
    }
    use k8s_pb::api::coordination::v1 as coordination;
    use k8s_pb::api::core::v1 as core;
    use k8s_pb::api::rbac::v1 as rbac;
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    same!("/registry/namespaces/demo", "v1", "Namespace", core::Namespace, objects::namespace());
    same!("/registry/pods/demo/web-0", "v1", "Pod", core::Pod, objects::pod());
    same!("/registry/deployments/demo/web", "apps/v1", "Deployment", Deployment, objects::deployment(3));
    same!("/registry/secrets/demo/tls", "v1", "Secret", core::Secret, objects::secret());
    same!("/registry/services/specs/demo/web", "v1", "Service", core::Service, objects::service());
    same!(
        "/registry/leases/kube-node-lease/node-1",
        "coordination.k8s.io/v1",
        "Lease",
        coordination::Lease,
        objects::lease()
    );
    same!(
        "/registry/clusterroles/reader",
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        rbac::ClusterRole,
        objects::clusterrole()
    );
    same!(
        "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        ext::CustomResourceDefinition,
        objects::crd()
    );
    assert!(!kv.contains_key("/registry/configmaps/demo/cfg"), "deleted");

    // Keys as Kubernetes lays them out.
    let k = |key: &str| kv[key]["k8s"].clone();
    assert_eq!(k("/registry/pods/demo/web-0")["resource"], "pods");
    assert_eq!(k("/registry/pods/demo/web-0")["namespace"], "demo");
    assert_eq!(k("/registry/pods/demo/web-0")["name"], "web-0");
    assert_eq!(k("/registry/services/specs/demo/web")["resource"], "services");
    assert!(k("/registry/namespaces/demo").get("namespace").is_none());
    let crd = k("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com");
    assert_eq!(
        (&crd["group"], &crd["resource"], &crd["name"]),
        (&json!("apiextensions.k8s.io"), &json!("customresourcedefinitions"), &json!("widgets.example.com"))
    );

    // What kubectl would print for the special types.
    let pod = &k("/registry/pods/demo/web-0")["object"];
    assert_eq!(pod["status"]["podIP"], "10.244.0.7");
    assert_eq!(pod["status"]["hostIP"], "10.0.0.5");
    assert_eq!(pod["status"]["podIPs"], json!([{"ip": "10.244.0.7"}]));
    assert_eq!(pod["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(pod["spec"]["containers"][0]["resources"]["limits"]["memory"], "128Mi");
    let secret = &k("/registry/secrets/demo/tls")["object"];
    assert_eq!(secret["data"]["tls.key"], base64(&[0x00, 0xff, 0x10, 0x80, b'k', 0x0a]));
    let svc = &k("/registry/services/specs/demo/web")["object"];
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    let deploy = &k("/registry/deployments/demo/web")["object"];
    assert_eq!(deploy["spec"]["strategy"]["rollingUpdate"], json!({"maxUnavailable": 1, "maxSurge": "25%"}));
    assert_eq!(
        k("/registry/leases/kube-node-lease/node-1")["object"]["spec"]["renewTime"],
        "2023-11-14T22:15:00.123456Z"
    );
    let schema = &crd["object"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert_eq!(schema, &json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));

    // A custom resource stored as JSON, shown as it is.
    let w = k("/registry/example.com/widgets/demo/w1");
    assert_eq!(w["encoding"], "json");
    assert_eq!(w["object"], serde_json::from_str::<Value>(objects::WIDGET_JSON).unwrap());
    assert_eq!(
        (&w["apiVersion"], &w["kind"], &w["namespaceGuessed"]),
        (&json!("example.com/v1"), &json!("Widget"), &json!(true))
    );

    // Encrypted at rest: the provider, not the contents.
    let e = k("/registry/secrets/demo/encrypted");
    assert_eq!(e["encoding"], "encrypted");
    assert_eq!(e["encryption"], json!({"transformer": "aescbc", "version": "v1", "provider": "key1"}));
    assert!(e.get("object").is_none());
}

#[test]
fn committed_fixture_decodes_to_the_objects_written() {
    let f = snapshot();
    let before = util::file_fingerprint(&f);
    let o = ours_json(&["get", &f, "/registry/", "--prefix", "-w", "json"]);
    check_final_state(&o);
    // etcdctl's fields are untouched: equal to what etcdctl got from the live server.
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(util::fixture("k8s/get-registry.json")).unwrap()).unwrap();
    let mut stripped = o["kvs"].clone();
    for kv in stripped.as_array_mut().unwrap() {
        kv.as_object_mut().unwrap().remove("k8s");
    }
    assert_eq!(stripped, golden["kvs"]);
    assert_eq!(o["count"], golden["count"]);
    // --raw: exactly etcdctl's shape.
    let raw = ours_json(&["get", &f, "/registry/", "--prefix", "-w", "json", "--raw"]);
    assert_eq!(raw["kvs"], golden["kvs"]);
    util::assert_unchanged(&f, &before);
}

#[test]
fn time_travel_history_and_simple_output() {
    let f = snapshot();
    let m = util::manifest("k8s");
    let r1 = m["deployment_revisions"]["replicas_1"].as_i64().unwrap();
    let deleted_at = m["deleted"]["rev"].as_i64().unwrap();
    // Before its update the Deployment had 1 replica; before the delete the ConfigMap existed.
    let o = ours_json(&["get", &f, "/registry/deployments/demo/web", "--rev", &r1.to_string(), "-w", "json"]);
    assert_eq!(decode::<Deployment>(&o["kvs"][0], "apps/v1", "Deployment"), objects::deployment(1));
    assert_eq!(o["kvs"][0]["k8s"]["object"]["spec"]["replicas"], 1);
    let o =
        ours_json(&["get", &f, "/registry/configmaps/demo/cfg", "--rev", &(deleted_at - 1).to_string(), "-w", "json"]);
    assert_eq!(o["kvs"][0]["k8s"]["object"], rendered("v1", "ConfigMap", &objects::configmap()));

    // history: both puts of the Deployment, then its JSON per revision.
    let h = ours_json(&["history", &f, "/registry/deployments/demo/web", "-w", "json"]);
    let events = h["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["kv"]["k8s"]["object"]["spec"]["replicas"], 1);
    assert_eq!(events[1]["kv"]["k8s"]["object"]["spec"]["replicas"], 3);
    let h = ours_json(&["history", &f, "/registry/configmaps/demo/cfg", "-w", "json"]);
    assert_eq!(h["events"][1]["type"], "DELETE");
    assert_eq!(h["events"][1]["kv"]["k8s"], json!({"resource": "configmaps", "namespace": "demo", "name": "cfg"}));
    let text = util::assert_success(&util::ours(["history", &f, "/registry/deployments/demo/web"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# k8s: deployments demo/web");
    assert!(lines[2].starts_with(&format!(
        "{}/0 PUT create_revision={r1} version=2 apps/v1 Deployment {{\"apiVersion\":\"apps/v1\"",
        m["deployment_revisions"]["replicas_3"]
    )));

    // simple get: the key, the k8s line, the object as indented JSON.
    let text = util::assert_success(&util::ours(["get", &f, "/registry/secrets/demo/tls"]));
    let (head, body) = text.split_once("\n{").unwrap();
    assert_eq!(head, "/registry/secrets/demo/tls\n# k8s: secrets demo/tls: v1 Secret (protobuf)");
    let obj: Value = serde_json::from_str(&format!("{{{body}")).unwrap();
    assert_eq!(obj, rendered("v1", "Secret", &objects::secret()));
    // --raw and --print-value-only: the stored bytes, as etcdctl prints them.
    let raw = util::ours(["get", &f, "/registry/secrets/demo/tls", "--raw", "--print-value-only"]);
    assert_eq!(raw.stdout, [objects::stored("v1", "Secret", &objects::secret()), b"\n".to_vec()].concat());
    let enc = util::assert_success(&util::ours(["get", &f, "/registry/secrets/demo/encrypted"]));
    assert!(enc.contains("encrypted at rest (aescbc v1, key or provider key1), not decoded"), "{enc}");
}

/// POST a JSON body to etcd's gRPC gateway on 127.0.0.1 (plain HTTP/1.1,
/// `Connection: close`), returning the response body.
fn gateway(endpoint: &str, path: &str, body: &Value) -> Value {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.to_string();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let (_, json_body) = resp.split_once("\r\n\r\n").unwrap();
    // A chunked body: the JSON object is between the chunk framing lines.
    let start = json_body.find('{').unwrap();
    let end = json_body.rfind('}').unwrap();
    serde_json::from_str(&json_body[start..=end]).unwrap()
}

fn live_etcd_stores_enveloped_objects_we_decode_back(bins: util::EtcdBins) {
    live_objects_of(&bins);
}

per_release!(live_etcd_stores_enveloped_objects_we_decode_back);

fn live_objects_of(bins: &util::EtcdBins) {
    let dir = tempfile::tempdir().unwrap();
    let mut e = EtcdProcess::start(bins, dir.path().join("data"), "k8s-live", &[] as &[&str]);
    let pod = objects::pod();
    let put = |key: &str, value: &[u8]| {
        let r = gateway(e.endpoint(), "/v3/kv/put", &json!({"key": base64(key.as_bytes()), "value": base64(value)}));
        assert!(r["header"]["revision"].is_string(), "{r}");
    };
    put("/registry/pods/demo/web-0", &objects::stored("v1", "Pod", &pod));
    put("/registry/example.com/widgets/demo/w1", objects::WIDGET_JSON.as_bytes());
    put("/registry/secrets/demo/tls", &objects::stored("v1", "Secret", &objects::secret()));
    // etcd returns the exact bytes (binary-safe through the gateway).
    let got = gateway(e.endpoint(), "/v3/kv/range", &json!({"key": base64(b"/registry/pods/demo/web-0")}));
    assert_eq!(unbase64(got["kvs"][0]["value"].as_str().unwrap()), objects::stored("v1", "Pod", &pod));
    let snap = dir.path().join("snap.db");
    util::assert_success(&e.etcdctl(["snapshot", "save", &snap.display().to_string()]));
    let o = ours_json(&["get", &snap.display().to_string(), "/registry/", "--prefix", "-w", "json"]);
    e.stop();
    let kv = kvs(&o);
    assert_eq!(decode::<k8s_pb::api::core::v1::Pod>(&kv["/registry/pods/demo/web-0"], "v1", "Pod"), pod);
    assert_eq!(kv["/registry/pods/demo/web-0"]["k8s"]["object"], rendered("v1", "Pod", &pod));
    assert_eq!(kv["/registry/secrets/demo/tls"]["k8s"]["object"]["data"]["tls.crt"], "Q0VSVA==");
    assert_eq!(kv["/registry/example.com/widgets/demo/w1"]["k8s"]["object"]["spec"]["size"], 3);
    // And from the member's data dir, too.
    let o = ours_json(&[
        "get",
        &dir.path().join("data").display().to_string(),
        "/registry/pods/",
        "--prefix",
        "-w",
        "json",
    ]);
    assert_eq!(o["kvs"][0]["k8s"]["object"], rendered("v1", "Pod", &pod));
}
