//! Which k8s-pb type decodes an object of a given `apiVersion` and `kind`.
//!
//! The apiserver stores each built-in resource in its storage version
//! (`v1`, `apps/v1`, ...; older clusters' objects may still be in a beta
//! version until rewritten), so the table lists the GA versions and the
//! betas that were storage versions. An (apiVersion, kind) not listed here
//! is shown with its type only.

use std::fmt::Debug;

use prost::Message;

use super::json::Json;
use super::render::{self, RenderError};

use k8s_pb::api as a;
use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions as apiext;
use k8s_pb::kube_aggregator::pkg::apis::apiregistration as apireg;

/// Why a protobuf object could not be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectError {
    /// No k8s-pb type for this (apiVersion, kind).
    UnknownType,
    /// The raw bytes are not a valid object of its type.
    Decode(String),
    Render(RenderError),
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectError::UnknownType => write!(f, "no protobuf type known for this apiVersion and kind"),
            ObjectError::Decode(e) => write!(f, "the object does not decode: {e}"),
            ObjectError::Render(e) => write!(f, "{e}"),
        }
    }
}

/// Decode `raw` as a `T` and render it.
fn decode_render<T: Message + Default + Debug>(raw: &[u8]) -> Result<Json, ObjectError> {
    let obj = T::decode(raw).map_err(|e| ObjectError::Decode(e.to_string()))?;
    render::to_json(&obj).map_err(ObjectError::Render)
}

macro_rules! kinds {
    ($( $api:literal $kind:literal => $ty:ty ;)*) => {
        /// Every (apiVersion, kind) [`render`] decodes.
        pub const KNOWN: &[(&str, &str)] = &[$(($api, $kind)),*];

        /// The object's fields as Kubernetes JSON (without apiVersion and kind).
        pub fn render(api_version: &str, kind: &str, raw: &[u8]) -> Result<Json, ObjectError> {
            match (api_version, kind) {
                $( ($api, $kind) => decode_render::<$ty>(raw), )*
                _ => Err(ObjectError::UnknownType),
            }
        }
    };
}

kinds! {
    "v1" "Pod" => a::core::v1::Pod;
    "v1" "Service" => a::core::v1::Service;
    "v1" "ConfigMap" => a::core::v1::ConfigMap;
    "v1" "Secret" => a::core::v1::Secret;
    "v1" "Namespace" => a::core::v1::Namespace;
    "v1" "Node" => a::core::v1::Node;
    "v1" "Endpoints" => a::core::v1::Endpoints;
    "v1" "ServiceAccount" => a::core::v1::ServiceAccount;
    "v1" "Event" => a::core::v1::Event;
    "v1" "PersistentVolume" => a::core::v1::PersistentVolume;
    "v1" "PersistentVolumeClaim" => a::core::v1::PersistentVolumeClaim;
    "v1" "LimitRange" => a::core::v1::LimitRange;
    "v1" "ResourceQuota" => a::core::v1::ResourceQuota;
    "v1" "ReplicationController" => a::core::v1::ReplicationController;
    "v1" "PodTemplate" => a::core::v1::PodTemplate;
    "v1" "RangeAllocation" => a::core::v1::RangeAllocation;
    "v1" "ComponentStatus" => a::core::v1::ComponentStatus;
    "apps/v1" "Deployment" => a::apps::v1::Deployment;
    "apps/v1" "ReplicaSet" => a::apps::v1::ReplicaSet;
    "apps/v1" "StatefulSet" => a::apps::v1::StatefulSet;
    "apps/v1" "DaemonSet" => a::apps::v1::DaemonSet;
    "apps/v1" "ControllerRevision" => a::apps::v1::ControllerRevision;
    "extensions/v1beta1" "Deployment" => a::extensions::v1beta1::Deployment;
    "extensions/v1beta1" "ReplicaSet" => a::extensions::v1beta1::ReplicaSet;
    "extensions/v1beta1" "DaemonSet" => a::extensions::v1beta1::DaemonSet;
    "extensions/v1beta1" "Ingress" => a::extensions::v1beta1::Ingress;
    "extensions/v1beta1" "NetworkPolicy" => a::extensions::v1beta1::NetworkPolicy;
    "batch/v1" "Job" => a::batch::v1::Job;
    "batch/v1" "CronJob" => a::batch::v1::CronJob;
    "batch/v1beta1" "CronJob" => a::batch::v1beta1::CronJob;
    "autoscaling/v1" "HorizontalPodAutoscaler" => a::autoscaling::v1::HorizontalPodAutoscaler;
    "autoscaling/v2" "HorizontalPodAutoscaler" => a::autoscaling::v2::HorizontalPodAutoscaler;
    "rbac.authorization.k8s.io/v1" "Role" => a::rbac::v1::Role;
    "rbac.authorization.k8s.io/v1" "RoleBinding" => a::rbac::v1::RoleBinding;
    "rbac.authorization.k8s.io/v1" "ClusterRole" => a::rbac::v1::ClusterRole;
    "rbac.authorization.k8s.io/v1" "ClusterRoleBinding" => a::rbac::v1::ClusterRoleBinding;
    "rbac.authorization.k8s.io/v1beta1" "Role" => a::rbac::v1beta1::Role;
    "rbac.authorization.k8s.io/v1beta1" "RoleBinding" => a::rbac::v1beta1::RoleBinding;
    "rbac.authorization.k8s.io/v1beta1" "ClusterRole" => a::rbac::v1beta1::ClusterRole;
    "rbac.authorization.k8s.io/v1beta1" "ClusterRoleBinding" => a::rbac::v1beta1::ClusterRoleBinding;
    "coordination.k8s.io/v1" "Lease" => a::coordination::v1::Lease;
    "coordination.k8s.io/v1beta1" "Lease" => a::coordination::v1beta1::Lease;
    "coordination.k8s.io/v1beta1" "LeaseCandidate" => a::coordination::v1beta1::LeaseCandidate;
    "discovery.k8s.io/v1" "EndpointSlice" => a::discovery::v1::EndpointSlice;
    "discovery.k8s.io/v1beta1" "EndpointSlice" => a::discovery::v1beta1::EndpointSlice;
    "events.k8s.io/v1" "Event" => a::events::v1::Event;
    "events.k8s.io/v1beta1" "Event" => a::events::v1beta1::Event;
    "storage.k8s.io/v1" "StorageClass" => a::storage::v1::StorageClass;
    "storage.k8s.io/v1" "CSIDriver" => a::storage::v1::CSIDriver;
    "storage.k8s.io/v1" "CSINode" => a::storage::v1::CSINode;
    "storage.k8s.io/v1" "CSIStorageCapacity" => a::storage::v1::CSIStorageCapacity;
    "storage.k8s.io/v1" "VolumeAttachment" => a::storage::v1::VolumeAttachment;
    "storage.k8s.io/v1" "VolumeAttributesClass" => a::storage::v1::VolumeAttributesClass;
    "storage.k8s.io/v1beta1" "StorageClass" => a::storage::v1beta1::StorageClass;
    "storage.k8s.io/v1beta1" "CSIDriver" => a::storage::v1beta1::CSIDriver;
    "storage.k8s.io/v1beta1" "CSINode" => a::storage::v1beta1::CSINode;
    "storage.k8s.io/v1beta1" "CSIStorageCapacity" => a::storage::v1beta1::CSIStorageCapacity;
    "storage.k8s.io/v1beta1" "VolumeAttachment" => a::storage::v1beta1::VolumeAttachment;
    "networking.k8s.io/v1" "Ingress" => a::networking::v1::Ingress;
    "networking.k8s.io/v1" "IngressClass" => a::networking::v1::IngressClass;
    "networking.k8s.io/v1" "NetworkPolicy" => a::networking::v1::NetworkPolicy;
    "networking.k8s.io/v1" "IPAddress" => a::networking::v1::IPAddress;
    "networking.k8s.io/v1" "ServiceCIDR" => a::networking::v1::ServiceCIDR;
    "networking.k8s.io/v1beta1" "Ingress" => a::networking::v1beta1::Ingress;
    "networking.k8s.io/v1beta1" "IngressClass" => a::networking::v1beta1::IngressClass;
    "node.k8s.io/v1" "RuntimeClass" => a::node::v1::RuntimeClass;
    "node.k8s.io/v1beta1" "RuntimeClass" => a::node::v1beta1::RuntimeClass;
    "scheduling.k8s.io/v1" "PriorityClass" => a::scheduling::v1::PriorityClass;
    "scheduling.k8s.io/v1beta1" "PriorityClass" => a::scheduling::v1beta1::PriorityClass;
    "policy/v1" "PodDisruptionBudget" => a::policy::v1::PodDisruptionBudget;
    "policy/v1beta1" "PodDisruptionBudget" => a::policy::v1beta1::PodDisruptionBudget;
    "certificates.k8s.io/v1" "CertificateSigningRequest" => a::certificates::v1::CertificateSigningRequest;
    "certificates.k8s.io/v1beta1" "CertificateSigningRequest" => a::certificates::v1beta1::CertificateSigningRequest;
    "certificates.k8s.io/v1beta1" "ClusterTrustBundle" => a::certificates::v1beta1::ClusterTrustBundle;
    "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" => a::admissionregistration::v1::ValidatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1" "MutatingWebhookConfiguration" => a::admissionregistration::v1::MutatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicy" => a::admissionregistration::v1::ValidatingAdmissionPolicy;
    "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicyBinding" => a::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    "admissionregistration.k8s.io/v1beta1" "ValidatingWebhookConfiguration" => a::admissionregistration::v1beta1::ValidatingWebhookConfiguration;
    "admissionregistration.k8s.io/v1beta1" "MutatingWebhookConfiguration" => a::admissionregistration::v1beta1::MutatingWebhookConfiguration;
    "flowcontrol.apiserver.k8s.io/v1" "FlowSchema" => a::flowcontrol::v1::FlowSchema;
    "flowcontrol.apiserver.k8s.io/v1" "PriorityLevelConfiguration" => a::flowcontrol::v1::PriorityLevelConfiguration;
    "flowcontrol.apiserver.k8s.io/v1beta3" "FlowSchema" => a::flowcontrol::v1beta3::FlowSchema;
    "flowcontrol.apiserver.k8s.io/v1beta3" "PriorityLevelConfiguration" => a::flowcontrol::v1beta3::PriorityLevelConfiguration;
    "flowcontrol.apiserver.k8s.io/v1beta1" "FlowSchema" => a::flowcontrol::v1beta1::FlowSchema;
    "flowcontrol.apiserver.k8s.io/v1beta1" "PriorityLevelConfiguration" => a::flowcontrol::v1beta1::PriorityLevelConfiguration;
    "resource.k8s.io/v1" "DeviceClass" => a::resource::v1::DeviceClass;
    "resource.k8s.io/v1" "ResourceClaim" => a::resource::v1::ResourceClaim;
    "resource.k8s.io/v1" "ResourceClaimTemplate" => a::resource::v1::ResourceClaimTemplate;
    "resource.k8s.io/v1" "ResourceSlice" => a::resource::v1::ResourceSlice;
    "apiextensions.k8s.io/v1" "CustomResourceDefinition" => apiext::v1::CustomResourceDefinition;
    "apiextensions.k8s.io/v1beta1" "CustomResourceDefinition" => apiext::v1beta1::CustomResourceDefinition;
    "apiregistration.k8s.io/v1" "APIService" => apireg::v1::APIService;
    "apiregistration.k8s.io/v1beta1" "APIService" => apireg::v1beta1::APIService;
}
