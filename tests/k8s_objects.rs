//! The Kubernetes objects of the `testdata/fixtures/k8s` fixture, built
//! with k8s-pb: the workload `examples/k8s_fixture.rs` prints (and
//! `testdata/gen-k8s-fixture.sh` writes into a real etcd), and what
//! `tests/k8s.rs` expects to read back. Shared by both through `#[path]`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;

/// One step of the workload.
pub enum Op {
    /// Put `value` (already in its stored form) at `key`.
    Put {
        key: String,
        value: Vec<u8>,
        what: String,
    },
    Delete {
        key: String,
    },
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn meta(ns: Option<&str>, name: &str, uid: &str) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        namespace: ns.map(str::to_string),
        uid: s(uid),
        creation_timestamp: Some(meta::Time { seconds: Some(1_700_000_000), nanos: Some(0) }),
        labels: [("app".to_string(), "web".to_string())].into(),
        ..Default::default()
    }
}

pub fn namespace() -> core::Namespace {
    core::Namespace {
        metadata: Some(meta(None, "demo", "00000000-0000-0000-0000-000000000001")),
        spec: Some(core::NamespaceSpec { finalizers: vec!["kubernetes".into()] }),
        status: Some(core::NamespaceStatus { phase: s("Active"), conditions: vec![] }),
    }
}

pub fn pod() -> core::Pod {
    core::Pod {
        metadata: Some(meta(Some("demo"), "web-0", "00000000-0000-0000-0000-000000000002")),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: s("web"),
                image: s("nginx:1.25"),
                ports: vec![core::ContainerPort { container_port: Some(80), protocol: s("TCP"), ..Default::default() }],
                resources: Some(core::ResourceRequirements {
                    limits: [("memory".to_string(), Quantity { string: s("128Mi") })].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            node_name: s("node-1"),
            ..Default::default()
        }),
        status: Some(core::PodStatus {
            phase: s("Running"),
            host_ip: s("10.0.0.5"),
            pod_ip: s("10.244.0.7"),
            pod_ips: vec![core::PodIp { ip: s("10.244.0.7") }],
            ..Default::default()
        }),
    }
}

/// The Deployment at `replicas` (the workload puts 1, then 3).
pub fn deployment(replicas: i32) -> apps::Deployment {
    apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            generation: Some(i64::from(replicas)),
            ..meta(Some("demo"), "web", "00000000-0000-0000-0000-000000000003")
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(replicas),
            selector: Some(meta::LabelSelector {
                match_labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(IntOrString { r#type: Some(0), int_val: Some(1), str_val: None }),
                    max_surge: Some(IntOrString { r#type: Some(1), int_val: None, str_val: s("25%") }),
                }),
            }),
            ..Default::default()
        }),
        status: None,
    }
}

/// Binary data, as TLS keys and the like are.
pub fn secret() -> core::Secret {
    core::Secret {
        metadata: Some(meta(Some("demo"), "tls", "00000000-0000-0000-0000-000000000004")),
        data: [
            ("tls.key".to_string(), vec![0x00, 0xff, 0x10, 0x80, b'k', 0x0a]),
            ("tls.crt".to_string(), b"CERT".to_vec()),
        ]
        .into(),
        string_data: BTreeMap::new(),
        r#type: s("kubernetes.io/tls"),
        immutable: None,
    }
}

pub fn configmap() -> core::ConfigMap {
    core::ConfigMap {
        metadata: Some(meta(Some("demo"), "cfg", "00000000-0000-0000-0000-000000000005")),
        data: [("app.conf".to_string(), "listen 80;\n".to_string())].into(),
        binary_data: BTreeMap::new(),
        immutable: None,
    }
}

pub fn service() -> core::Service {
    core::Service {
        metadata: Some(meta(Some("demo"), "web", "00000000-0000-0000-0000-000000000006")),
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort {
                protocol: s("TCP"),
                port: Some(80),
                target_port: Some(IntOrString { r#type: Some(0), int_val: Some(8080), str_val: None }),
                ..Default::default()
            }],
            selector: [("app".to_string(), "web".to_string())].into(),
            cluster_ip: s("10.96.0.10"),
            cluster_ips: vec!["10.96.0.10".into()],
            r#type: s("ClusterIP"),
            ..Default::default()
        }),
        status: None,
    }
}

pub fn lease() -> coordination::Lease {
    coordination::Lease {
        metadata: Some(meta(Some("kube-node-lease"), "node-1", "00000000-0000-0000-0000-000000000007")),
        spec: Some(coordination::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta::MicroTime { seconds: Some(1_700_000_100), nanos: Some(123_456_000) }),
            ..Default::default()
        }),
    }
}

pub fn clusterrole() -> rbac::ClusterRole {
    rbac::ClusterRole {
        metadata: Some(meta(None, "reader", "00000000-0000-0000-0000-000000000008")),
        rules: vec![rbac::PolicyRule {
            verbs: vec!["get".into(), "list".into()],
            api_groups: vec![String::new()],
            resources: vec!["pods".into()],
            ..Default::default()
        }],
        aggregation_rule: None,
    }
}

pub fn crd() -> ext::CustomResourceDefinition {
    ext::CustomResourceDefinition {
        metadata: Some(meta(None, "widgets.example.com", "00000000-0000-0000-0000-000000000009")),
        spec: Some(ext::CustomResourceDefinitionSpec {
            group: s("example.com"),
            names: Some(ext::CustomResourceDefinitionNames {
                plural: s("widgets"),
                singular: s("widget"),
                kind: s("Widget"),
                ..Default::default()
            }),
            scope: s("Namespaced"),
            versions: vec![ext::CustomResourceDefinitionVersion {
                name: s("v1"),
                served: Some(true),
                storage: Some(true),
                schema: Some(ext::CustomResourceValidation {
                    open_apiv3_schema: Some(ext::JsonSchemaProps {
                        r#type: s("object"),
                        x_kubernetes_preserve_unknown_fields: Some(true),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    }
}

/// A custom resource: the apiserver stores these as JSON.
pub const WIDGET_JSON: &str = r#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"demo","uid":"00000000-0000-0000-0000-00000000000a"},"spec":{"size":3,"color":"blue"}}"#;

/// A Secret encrypted at rest with aescbc key `key1` (the ciphertext is
/// made up: the tool must not try to decode it).
pub fn encrypted_secret() -> Vec<u8> {
    let mut v = b"k8s:enc:aescbc:v1:key1:".to_vec();
    v.extend((0u8..48).map(|i| i.wrapping_mul(37) ^ 0x5a));
    v
}

/// The stored form of an object, as the apiserver writes it.
pub fn stored(api_version: &str, kind: &str, obj: &impl Message) -> Vec<u8> {
    etcd_forensics::k8s::envelope::encode(api_version, kind, &obj.encode_to_vec())
}

fn put(key: &str, api_version: &str, kind: &str, obj: &impl Message) -> Op {
    Op::Put { key: key.into(), value: stored(api_version, kind, obj), what: format!("{api_version} {kind}") }
}

/// The workload, in order: every key once, the Deployment twice
/// (replicas 1 then 3), and the ConfigMap deleted at the end.
pub fn workload() -> Vec<Op> {
    vec![
        put("/registry/namespaces/demo", "v1", "Namespace", &namespace()),
        put("/registry/pods/demo/web-0", "v1", "Pod", &pod()),
        put("/registry/deployments/demo/web", "apps/v1", "Deployment", &deployment(1)),
        put("/registry/secrets/demo/tls", "v1", "Secret", &secret()),
        put("/registry/configmaps/demo/cfg", "v1", "ConfigMap", &configmap()),
        put("/registry/services/specs/demo/web", "v1", "Service", &service()),
        put("/registry/leases/kube-node-lease/node-1", "coordination.k8s.io/v1", "Lease", &lease()),
        put("/registry/clusterroles/reader", "rbac.authorization.k8s.io/v1", "ClusterRole", &clusterrole()),
        put(
            "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com",
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            &crd(),
        ),
        Op::Put {
            key: "/registry/example.com/widgets/demo/w1".into(),
            value: WIDGET_JSON.as_bytes().to_vec(),
            what: "JSON example.com/v1 Widget".into(),
        },
        Op::Put {
            key: "/registry/secrets/demo/encrypted".into(),
            value: encrypted_secret(),
            what: "aescbc-encrypted v1 Secret".into(),
        },
        put("/registry/deployments/demo/web", "apps/v1", "Deployment", &deployment(3)),
        Op::Delete { key: "/registry/configmaps/demo/cfg".into() },
    ]
}
