//! Kubernetes' etcd keys: `/registry/...` → resource, namespace, name.
//!
//! The apiserver stores each object under `<prefix>/<resource path>/<name>`
//! for cluster-scoped resources and `<prefix>/<resource path>/<namespace>/
//! <name>` for namespaced ones (k8s.io/apiserver `registry/generic/registry/
//! store.go`: `NamespaceKeyFunc`, `NoNamespaceKeyFunc`), with the default
//! prefix `/registry`. The resource path is usually the plural resource name
//! (`pods`, `deployments`: the group is not in the key), but:
//!
//! * some built-ins keep historical paths: `minions` (nodes),
//!   `controllers` (replicationcontrollers), `services/specs` (services),
//!   `services/endpoints` (endpoints), `ingress` (ingresses);
//! * resources served by a second apiserver or by CRDs put their group
//!   first: `apiregistration.k8s.io/apiservices`,
//!   `apiextensions.k8s.io/customresourcedefinitions`,
//!   `<group>/<plural>` for every custom resource;
//! * the apiserver's own records: `masterleases/<ip>`,
//!   `ranges/serviceips`, `ranges/servicenodeports`.
//!
//! Whether a resource is namespaced is not in the key. Built-in resources
//! are looked up in [`CLUSTER_SCOPED`] / [`NAMESPACED`]; for any other one the
//! number of segments decides (two left: namespace and name) and
//! [`K8sKey::namespace_guessed`] says so.

use serde::Serialize;

/// The default `--etcd-prefix` of kube-apiserver, with its slash.
pub const PREFIX: &str = "/registry/";

/// Stored resource paths whose name differs from the resource's.
const RENAMED: &[(&str, &str)] = &[
    ("minions", "nodes"),
    ("controllers", "replicationcontrollers"),
    ("services/specs", "services"),
    ("services/endpoints", "endpoints"),
    ("ingress", "ingresses"),
];

/// Built-in resource paths (as stored) whose objects have no namespace.
pub const CLUSTER_SCOPED: &[&str] = &[
    "namespaces",
    "minions",
    "nodes",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "storageclasses",
    "priorityclasses",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "volumeattributesclasses",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
    "certificatesigningrequests",
    "clustertrustbundles",
    "runtimeclasses",
    "ingressclasses",
    "podsecuritypolicy",
    "flowschemas",
    "prioritylevelconfigurations",
    "storageversions",
    "storageversionmigrations",
    "ipaddresses",
    "servicecidrs",
    "deviceclasses",
    "resourceslices",
    "apiregistration.k8s.io/apiservices",
    "apiextensions.k8s.io/customresourcedefinitions",
    "masterleases",
    "ranges",
];

/// Built-in resource paths (as stored) whose objects live in a namespace.
pub const NAMESPACED: &[&str] = &[
    "pods",
    "services/specs",
    "services/endpoints",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "events",
    "limitranges",
    "resourcequotas",
    "persistentvolumeclaims",
    "podtemplates",
    "controllers",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "controllerrevisions",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
    "leases",
    "endpointslices",
    "ingress",
    "networkpolicies",
    "poddisruptionbudgets",
    "roles",
    "rolebindings",
    "csistoragecapacities",
    "resourceclaims",
    "resourceclaimtemplates",
    "podschedulingcontexts",
    "leasecandidates",
];

/// What a `/registry/` key names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct K8sKey {
    /// The resource (plural, lower case): `pods`, `nodes` for `minions`,
    /// `apiservices`, a CRD's plural.
    pub resource: String,
    /// The API group when the key carries it (`apiregistration.k8s.io`,
    /// a CRD's group); built-in resources' keys do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The namespace, for namespaced resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The resource is not a known built-in: whether it has a namespace was
    /// guessed from the number of key segments.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub namespace_guessed: bool,
}

/// Read a key as Kubernetes lays them out; `None` for keys outside
/// `/registry/`, keys that are not UTF-8 and keys with no name segment
/// (`/registry/pods/`). Empty segments are kept as they are
/// (`/registry/pods//x` has namespace ""), never a panic.
pub fn parse(key: &[u8]) -> Option<K8sKey> {
    let rest = std::str::from_utf8(key).ok()?.strip_prefix(PREFIX)?;
    // The longest known stored path that prefixes the key (services/specs
    // before services), else the first segment (the second too, when the
    // first is a group: it has a dot).
    let known = CLUSTER_SCOPED
        .iter()
        .map(|p| (*p, false))
        .chain(NAMESPACED.iter().map(|p| (*p, true)))
        .filter(|(p, _)| rest.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
        .max_by_key(|(p, _)| p.len());
    let (path, namespaced, guessed) = match known {
        Some((p, ns)) => (p, Some(ns), false),
        None => {
            let mut seg = rest.splitn(3, '/');
            let first = seg.next()?;
            let path_len = if first.contains('.') {
                let second = seg.next()?;
                first.len().checked_add(1)?.checked_add(second.len())?
            } else {
                first.len()
            };
            (rest.get(..path_len)?, None, true)
        }
    };
    let tail = rest.get(path.len()..)?.strip_prefix('/')?;
    let namespaced = namespaced.unwrap_or_else(|| tail.contains('/'));
    let (namespace, name) = if namespaced {
        let (ns, name) = tail.split_once('/')?;
        (Some(ns.to_string()), name)
    } else {
        (None, tail)
    };
    if name.is_empty() {
        return None;
    }
    let (group, plural) = match path.split_once('/') {
        Some((g, p)) if g.contains('.') => (Some(g.to_string()), p),
        _ => (None, path),
    };
    let resource = RENAMED.iter().find(|(stored, _)| *stored == path).map_or(plural, |(_, r)| *r);
    Some(K8sKey {
        resource: resource.to_string(),
        group,
        namespace,
        name: name.to_string(),
        namespace_guessed: guessed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parts = (String, Option<String>, Option<String>, String, bool);

    fn k(key: &str) -> Option<Parts> {
        parse(key.as_bytes()).map(|k| (k.resource, k.group, k.namespace, k.name, k.namespace_guessed))
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn built_in_layouts() {
        assert_eq!(k("/registry/pods/default/web-0"), Some((s("pods"), None, Some(s("default")), s("web-0"), false)));
        assert_eq!(k("/registry/namespaces/kube-system"), Some((s("namespaces"), None, None, s("kube-system"), false)));
        assert_eq!(k("/registry/minions/node-1"), Some((s("nodes"), None, None, s("node-1"), false)));
        assert_eq!(
            k("/registry/services/specs/default/kubernetes"),
            Some((s("services"), None, Some(s("default")), s("kubernetes"), false))
        );
        assert_eq!(
            k("/registry/services/endpoints/default/kubernetes"),
            Some((s("endpoints"), None, Some(s("default")), s("kubernetes"), false))
        );
        assert_eq!(
            k("/registry/deployments/kube-system/coredns"),
            Some((s("deployments"), None, Some(s("kube-system")), s("coredns"), false))
        );
        assert_eq!(k("/registry/clusterroles/admin"), Some((s("clusterroles"), None, None, s("admin"), false)));
        assert_eq!(
            k("/registry/apiregistration.k8s.io/apiservices/v1.apps"),
            Some((s("apiservices"), Some(s("apiregistration.k8s.io")), None, s("v1.apps"), false))
        );
        assert_eq!(
            k("/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com"),
            Some((
                s("customresourcedefinitions"),
                Some(s("apiextensions.k8s.io")),
                None,
                s("widgets.example.com"),
                false
            ))
        );
        assert_eq!(k("/registry/masterleases/10.0.0.1"), Some((s("masterleases"), None, None, s("10.0.0.1"), false)));
        assert_eq!(k("/registry/ranges/serviceips"), Some((s("ranges"), None, None, s("serviceips"), false)));
        assert_eq!(
            k("/registry/events/default/web-0.17a2b3c4d5e6f708"),
            Some((s("events"), None, Some(s("default")), s("web-0.17a2b3c4d5e6f708"), false))
        );
        assert_eq!(k("/registry/ingress/ns/i"), Some((s("ingresses"), None, Some(s("ns")), s("i"), false)));
    }

    #[test]
    fn unknown_resources_are_guessed_from_segments() {
        assert_eq!(
            k("/registry/example.com/widgets/default/w1"),
            Some((s("widgets"), Some(s("example.com")), Some(s("default")), s("w1"), true))
        );
        assert_eq!(
            k("/registry/example.com/clusterwidgets/w1"),
            Some((s("clusterwidgets"), Some(s("example.com")), None, s("w1"), true))
        );
        assert_eq!(k("/registry/newthings/a"), Some((s("newthings"), None, None, s("a"), true)));
        assert_eq!(k("/registry/newthings/a/b"), Some((s("newthings"), None, Some(s("a")), s("b"), true)));
    }

    #[test]
    fn odd_keys_never_panic() {
        assert_eq!(k("/plain/a"), None);
        assert_eq!(k("/registry"), None);
        assert_eq!(k("/registry/"), None);
        assert_eq!(k("/registry/pods"), None);
        assert_eq!(k("/registry/pods/"), None);
        assert_eq!(k("/registry/pods/default"), None, "a namespaced resource needs two segments");
        assert_eq!(k("/registry/pods/default/"), None);
        assert_eq!(k("/registry/pods//x"), Some((s("pods"), None, Some(s("")), s("x"), false)));
        assert_eq!(k("/registry/pods/a/b/c"), Some((s("pods"), None, Some(s("a")), s("b/c"), false)));
        assert_eq!(k("/registry/namespaces/a/b"), Some((s("namespaces"), None, None, s("a/b"), false)));
        assert_eq!(k("/registry//x"), Some((s(""), None, None, s("x"), true)));
        assert_eq!(k("/registry/example.com"), None);
        assert_eq!(k("/registry/example.com/"), None);
        assert_eq!(k("/registry/podsx/a"), Some((s("podsx"), None, None, s("a"), true)), "not the pods prefix");
        assert_eq!(parse(b"/registry/pods/default/\xff\xfe"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(k("/registry/événements/ns/nom"), Some((s("événements"), None, Some(s("ns")), s("nom"), true)));
    }
}
