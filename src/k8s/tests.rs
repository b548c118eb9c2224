//! Objects built with k8s-pb, enveloped as the apiserver stores them, read
//! back through [`interpret`], and compared with what `kubectl get -o json`
//! prints for them (field names and special types).

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::RawExtension;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use serde_json::{Value, json};

use super::*;

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn labels(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn meta(ns: Option<&str>, name: &str) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        namespace: ns.map(str::to_string),
        uid: s("6f1c1f52-5a4e-4b7e-9d4c-1f2e3d4c5b6a"),
        resource_version: None,
        creation_timestamp: Some(meta::Time { seconds: Some(1_700_000_000), nanos: Some(0) }),
        labels: labels(&[("app", "web")]),
        ..Default::default()
    }
}

/// The stored bytes, our view of them, and the view's object as serde JSON
/// (parsing our output text proves it is valid JSON).
fn view(key: &str, api_version: &str, kind: &str, obj: &impl Message) -> (K8sView, Value) {
    let bytes = envelope::encode(api_version, kind, &obj.encode_to_vec());
    let v = interpret(key.as_bytes(), Some(&bytes)).unwrap();
    assert_eq!(v.error, None);
    let text = v.object.as_ref().unwrap().to_line();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    (v, parsed)
}

#[path = "../../tests/k8s_objects.rs"]
mod objects;

/// The fixture's Pod with a probe, requests, host IPs and a start time.
pub(crate) fn pod() -> core::Pod {
    let mut p = objects::pod();
    let spec = p.spec.as_mut().unwrap();
    spec.host_network = Some(false);
    let c = &mut spec.containers[0];
    c.resources.as_mut().unwrap().requests = [("cpu".to_string(), Quantity { string: s("250m") })].into();
    c.liveness_probe = Some(core::Probe {
        handler: Some(core::ProbeHandler {
            http_get: Some(core::HttpGetAction {
                path: s("/healthz"),
                port: Some(IntOrString { r#type: Some(1), int_val: None, str_val: s("http") }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        period_seconds: Some(10),
        ..Default::default()
    });
    let st = p.status.as_mut().unwrap();
    st.host_ips = vec![core::HostIp { ip: s("10.0.0.5") }];
    st.start_time = Some(meta::Time { seconds: Some(1_700_000_005), nanos: Some(0) });
    p
}

#[test]
fn pod_json_has_kubectl_field_names() {
    let (v, j) = view("/registry/pods/default/web-0", "v1", "Pod", &pod());
    assert_eq!((v.api_version.as_deref(), v.kind.as_deref()), (Some("v1"), Some("Pod")));
    assert_eq!(v.encoding, Some(Encoding::Protobuf));
    assert_eq!((v.key.namespace.as_deref(), v.key.name.as_str()), (Some("default"), "web-0"));
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-0",
            "namespace": "demo",
            "uid": "00000000-0000-0000-0000-000000000002",
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "labels": {"app": "web"}
        },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "nginx:1.25",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10}
            }],
            "nodeName": "node-1",
            "hostNetwork": false
        },
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.5",
            "hostIPs": [{"ip": "10.0.0.5"}],
            "podIP": "10.244.0.7",
            "podIPs": [{"ip": "10.244.0.7"}],
            "startTime": "2023-11-14T22:13:25Z"
        }
    });
    assert_eq!(j, expected, "{}", v.object.unwrap().to_pretty());
    // apiVersion and kind come first, as kubectl prints them.
    let Some(Json::Object(fields)) = &v.object else { panic!() };
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["apiVersion", "kind", "metadata", "spec", "status"]);
}

/// kubectl's probe JSON inlines the handler (`httpGet` directly under
/// `livenessProbe`): Go embeds ProbeHandler in Probe, protobuf nests it as
/// field 1 `handler`; we inline it as Go does.
#[test]
fn embedded_go_structs_are_inlined() {
    let (_, j) = view("/registry/pods/default/web-0", "v1", "Pod", &pod());
    assert!(j["spec"]["containers"][0]["livenessProbe"].get("handler").is_none());
}

#[test]
fn deployment_with_int_or_string_and_quantities() {
    let d = apps::Deployment {
        metadata: Some(meta(Some("prod"), "api")),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector { match_labels: labels(&[("app", "api")]), ..Default::default() }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString { r#type: Some(0), int_val: Some(1), str_val: None }),
                    max_surge: Some(IntOrString { r#type: Some(1), int_val: None, str_val: s("25%") }),
                }),
            }),
            revision_history_limit: Some(10),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus { observed_generation: Some(3), ..Default::default() }),
    };
    let (_, j) = view("/registry/deployments/prod/api", "apps/v1", "Deployment", &d);
    assert_eq!(j["spec"]["replicas"], 0, "a stored zero is shown");
    assert_eq!(j["spec"]["selector"], json!({"matchLabels": {"app": "api"}}));
    assert_eq!(
        j["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}})
    );
    assert_eq!(j["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(j["status"], json!({"observedGeneration": 3}));
}

pub(crate) fn secret() -> core::Secret {
    core::Secret {
        metadata: Some(meta(Some("default"), "tls")),
        data: [("tls.key".to_string(), vec![0x00, 0xff, 0x10, b'k']), ("empty".to_string(), vec![])].into(),
        string_data: BTreeMap::new(),
        r#type: s("kubernetes.io/tls"),
        immutable: Some(true),
    }
}

#[test]
fn secret_bytes_are_base64() {
    let (_, j) = view("/registry/secrets/default/tls", "v1", "Secret", &secret());
    assert_eq!(j["data"], json!({"empty": "", "tls.key": "AP8Qaw=="}));
    assert_eq!(j["type"], "kubernetes.io/tls");
    assert_eq!(j["immutable"], true);
}

#[test]
fn configmap_data_and_binary_data() {
    let cm = core::ConfigMap {
        metadata: Some(meta(Some("kube-system"), "cfg")),
        data: [("a.conf".to_string(), "x = \"1\"\n\ttab".to_string())].into(),
        binary_data: [("bin".to_string(), b"hi".to_vec())].into(),
        immutable: None,
    };
    let (_, j) = view("/registry/configmaps/kube-system/cfg", "v1", "ConfigMap", &cm);
    assert_eq!(j["data"], json!({"a.conf": "x = \"1\"\n\ttab"}));
    assert_eq!(j["binaryData"], json!({"bin": "aGk="}));
}

#[test]
fn service_ips_and_ports() {
    let svc = core::Service {
        metadata: Some(meta(Some("default"), "kubernetes")),
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort {
                name: s("https"),
                protocol: s("TCP"),
                port: Some(443),
                target_port: Some(IntOrString { r#type: Some(0), int_val: Some(6443), str_val: None }),
                ..Default::default()
            }],
            cluster_ip: s("10.96.0.1"),
            cluster_ips: vec!["10.96.0.1".into()],
            external_ips: vec!["192.0.2.1".into()],
            r#type: s("ClusterIP"),
            session_affinity: s("None"),
            ..Default::default()
        }),
        status: None,
    };
    let (_, j) = view("/registry/services/specs/default/kubernetes", "v1", "Service", &svc);
    assert_eq!(
        j["spec"],
        json!({
            "ports": [{"name": "https", "protocol": "TCP", "port": 443, "targetPort": 6443}],
            "clusterIP": "10.96.0.1",
            "type": "ClusterIP",
            "externalIPs": ["192.0.2.1"],
            "sessionAffinity": "None",
            "clusterIPs": ["10.96.0.1"]
        })
    );
}

#[test]
fn micro_time_raw_extension_and_managed_fields() {
    let ev = k8s_pb::api::events::v1::Event {
        metadata: Some(meta::ObjectMeta {
            name: s("e1"),
            managed_fields: vec![meta::ManagedFieldsEntry {
                manager: s("kubectl"),
                fields_v1: Some(meta::FieldsV1 { raw: Some(br#"{"f:data":{}}"#.to_vec()) }),
                time: Some(meta::Time { seconds: Some(0), nanos: Some(0) }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        event_time: Some(meta::MicroTime { seconds: Some(1_700_000_000), nanos: Some(5_000) }),
        reason: s("Started"),
        ..Default::default()
    };
    let (_, j) = view("/registry/events/default/e1", "events.k8s.io/v1", "Event", &ev);
    assert_eq!(j["eventTime"], "2023-11-14T22:13:20.000005Z");
    assert_eq!(
        j["metadata"]["managedFields"],
        json!([{"manager": "kubectl", "time": "1970-01-01T00:00:00Z", "fieldsV1": {"f:data": {}}}])
    );
    let rev = apps::ControllerRevision {
        metadata: Some(meta::ObjectMeta { name: s("r1"), ..Default::default() }),
        data: Some(RawExtension { raw: Some(br#"{"spec":{"x":1}}"#.to_vec()) }),
        revision: Some(2),
    };
    let (_, j) = view("/registry/controllerrevisions/default/r1", "apps/v1", "ControllerRevision", &rev);
    assert_eq!(j["data"], json!({"spec": {"x": 1}}));
    let rev =
        apps::ControllerRevision { data: Some(RawExtension { raw: Some(vec![0xde, 0xad]) }), ..Default::default() };
    let (_, j) = view("/registry/controllerrevisions/default/r1", "apps/v1", "ControllerRevision", &rev);
    assert_eq!(j["data"], "3q0=", "not JSON: base64");
}

#[test]
fn crd_schema_uses_json_schema_names() {
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    let props = ext::JsonSchemaProps {
        r#type: s("object"),
        x_kubernetes_preserve_unknown_fields: Some(true),
        additional_properties: Some(Box::new(ext::JsonSchemaPropsOrBool { allows: Some(true), schema: None })),
        default: Some(ext::Json { raw: Some(br#"{"size":3}"#.to_vec()) }),
        ..Default::default()
    };
    let crd = ext::CustomResourceDefinition {
        metadata: Some(meta::ObjectMeta { name: s("widgets.example.com"), ..Default::default() }),
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: s("example.com"),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: s("v1"),
                served: Some(true),
                storage: Some(true),
                schema: Some(ext::CustomResourceValidation { open_apiv3_schema: Some(props) }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    };
    let (_, j) = view(
        "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        &crd,
    );
    assert_eq!(
        j["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        json!({"type": "object", "default": {"size": 3}, "additionalProperties": true, "x-kubernetes-preserve-unknown-fields": true})
    );
}

#[test]
fn json_encrypted_raw_and_unknown_values() {
    let cr = br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"default"},"spec":{"size":3}}"#;
    let v = interpret(b"/registry/example.com/widgets/default/w1", Some(cr)).unwrap();
    assert_eq!(v.encoding, Some(Encoding::Json));
    assert_eq!((v.api_version.as_deref(), v.kind.as_deref()), (Some("example.com/v1"), Some("Widget")));
    assert_eq!(v.object.unwrap().to_line(), std::str::from_utf8(cr).unwrap(), "as stored, in its order");

    let v = interpret(b"/registry/secrets/default/s", Some(b"k8s:enc:aescbc:v1:key1:\x9a\x01")).unwrap();
    assert_eq!(v.encoding, Some(Encoding::Encrypted));
    assert_eq!(v.encryption.as_ref().unwrap().provider, "key1");
    assert_eq!(v.object, None);
    let line = serde_json::to_string(&v).unwrap();
    assert!(line.contains(r#""encryption":{"transformer":"aescbc","version":"v1","provider":"key1"}"#), "{line}");

    let v = interpret(b"/registry/ranges/serviceips", Some(b"\x01\x02")).unwrap();
    assert_eq!((v.encoding, v.object, v.error), (Some(Encoding::Raw), None, None));

    let v = interpret(b"/registry/example.com/widgets/default/w1", Some(b"{not json")).unwrap();
    assert_eq!(v.encoding, Some(Encoding::Raw));
    assert!(v.error.unwrap().contains("starts like JSON"));

    let bytes = envelope::encode("example.com/v1", "Widget", b"\x0a\x00");
    let v = interpret(b"/registry/example.com/widgets/default/w1", Some(&bytes)).unwrap();
    assert_eq!(v.kind.as_deref(), Some("Widget"));
    assert!(v.error.unwrap().contains("no protobuf type"));

    assert_eq!(interpret(b"/plain/a", Some(b"k8s\0")), None);
    let v = interpret(b"/registry/pods/default/web-0", None).unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"resource":"pods","namespace":"default","name":"web-0"}"#);
}

#[test]
fn garbage_objects_are_errors_not_panics() {
    let good = envelope::encode("v1", "Pod", &pod().encode_to_vec());
    // Every truncation, and every single-byte change, of a real envelope.
    for cut in 0..good.len() {
        let _ = interpret(b"/registry/pods/default/web-0", Some(&good[..cut]));
    }
    for i in 0..good.len() {
        for x in [0x00, 0xff, 0x80, 0x0a] {
            let mut b = good.clone();
            b[i] = x;
            if let Some(v) = interpret(b"/registry/pods/default/web-0", Some(&b)) {
                if let Some(o) = v.object {
                    serde_json::from_str::<Value>(&o.to_line()).unwrap();
                }
            }
        }
    }
    let bad = envelope::encode("v1", "Pod", b"\x0a\xff\xff\xff\xff\x0f");
    let v = interpret(b"/registry/pods/default/web-0", Some(&bad)).unwrap();
    assert!(v.error.unwrap().contains("does not decode"));
}

#[test]
fn every_known_type_renders_its_default() {
    for (api, kind) in types::KNOWN {
        let env = Envelope {
            api_version: api.to_string(),
            kind: kind.to_string(),
            raw: Vec::new(),
            content_encoding: String::new(),
            content_type: String::new(),
        };
        let o = object(&env).unwrap();
        assert_eq!(o.to_line(), format!(r#"{{"apiVersion":"{api}","kind":"{kind}"}}"#));
    }
}
