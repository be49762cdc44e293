//! Kubernetes API versions that have been removed or deprecated, from the
//! official Deprecated API Migration Guide
//! (<https://kubernetes.io/docs/reference/using-api/deprecation-guide/>)
//! and, for `v1 Endpoints`, the v1.33 deprecation (KEP-4974). Used by
//! PLS-WL-016 (removed) and PLS-WL-017 (deprecated, still served).

/// One API version of one kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ApiVersion {
    /// `group/version` as written in `apiVersion` (`v1` for the core group).
    pub group_version: &'static str,
    /// The kind, or `*` for every kind of that group version.
    pub kind: &'static str,
    /// Release that deprecated it (`1.16`), when the guide or the release
    /// notes say.
    pub deprecated_in: Option<&'static str>,
    /// Release that stopped serving it; `None` while it is still served.
    pub removed_in: Option<&'static str>,
    /// What to use instead.
    pub replacement: &'static str,
}

const fn removed(
    group_version: &'static str,
    kind: &'static str,
    deprecated_in: &'static str,
    removed_in: &'static str,
    replacement: &'static str,
) -> ApiVersion {
    ApiVersion {
        group_version,
        kind,
        deprecated_in: if deprecated_in.is_empty() {
            None
        } else {
            Some(deprecated_in)
        },
        removed_in: Some(removed_in),
        replacement,
    }
}

const PSA: &str = "Pod Security Admission (`pod-security.kubernetes.io/enforce` namespace labels) or a policy engine; PodSecurityPolicy has no successor API";

/// The table. Kinds are exact; `*` covers a whole group version.
pub(crate) const TABLE: &[ApiVersion] = &[
    // v1.32
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "FlowSchema",
        "1.29",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "PriorityLevelConfiguration",
        "1.29",
        "1.32",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // v1.29
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "FlowSchema",
        "1.26",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "PriorityLevelConfiguration",
        "1.26",
        "1.29",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    // v1.27
    removed(
        "storage.k8s.io/v1beta1",
        "CSIStorageCapacity",
        "1.24",
        "1.27",
        "storage.k8s.io/v1",
    ),
    // v1.26
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "FlowSchema",
        "1.23",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        "1.23",
        "1.26",
        "flowcontrol.apiserver.k8s.io/v1",
    ),
    removed(
        "autoscaling/v2beta2",
        "HorizontalPodAutoscaler",
        "1.23",
        "1.26",
        "autoscaling/v2",
    ),
    // v1.25
    removed("batch/v1beta1", "CronJob", "1.21", "1.25", "batch/v1"),
    removed(
        "discovery.k8s.io/v1beta1",
        "EndpointSlice",
        "1.21",
        "1.25",
        "discovery.k8s.io/v1",
    ),
    removed(
        "events.k8s.io/v1beta1",
        "Event",
        "1.19",
        "1.25",
        "events.k8s.io/v1",
    ),
    removed(
        "autoscaling/v2beta1",
        "HorizontalPodAutoscaler",
        "1.22",
        "1.25",
        "autoscaling/v2",
    ),
    removed(
        "policy/v1beta1",
        "PodDisruptionBudget",
        "1.21",
        "1.25",
        "policy/v1",
    ),
    removed("policy/v1beta1", "PodSecurityPolicy", "1.21", "1.25", PSA),
    removed(
        "node.k8s.io/v1beta1",
        "RuntimeClass",
        "1.22",
        "1.25",
        "node.k8s.io/v1",
    ),
    // v1.22
    removed(
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        "1.16",
        "1.22",
        "admissionregistration.k8s.io/v1",
    ),
    removed(
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        "1.16",
        "1.22",
        "apiextensions.k8s.io/v1",
    ),
    removed(
        "apiregistration.k8s.io/v1beta1",
        "APIService",
        "1.10",
        "1.22",
        "apiregistration.k8s.io/v1",
    ),
    removed(
        "authentication.k8s.io/v1beta1",
        "TokenReview",
        "1.6",
        "1.22",
        "authentication.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview",
        "",
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        "SelfSubjectAccessReview",
        "",
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "authorization.k8s.io/v1beta1",
        "SubjectAccessReview",
        "",
        "1.22",
        "authorization.k8s.io/v1",
    ),
    removed(
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        "1.19",
        "1.22",
        "certificates.k8s.io/v1",
    ),
    removed(
        "coordination.k8s.io/v1beta1",
        "Lease",
        "1.14",
        "1.22",
        "coordination.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        "Ingress",
        "1.14",
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        "Ingress",
        "1.19",
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "networking.k8s.io/v1beta1",
        "IngressClass",
        "1.19",
        "1.22",
        "networking.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRole",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        "Role",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1beta1",
        "RoleBinding",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "rbac.authorization.k8s.io/v1alpha1",
        "*",
        "1.17",
        "1.22",
        "rbac.authorization.k8s.io/v1",
    ),
    removed(
        "scheduling.k8s.io/v1beta1",
        "PriorityClass",
        "1.14",
        "1.22",
        "scheduling.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        "CSIDriver",
        "1.19",
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        "CSINode",
        "1.17",
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        "StorageClass",
        "1.6",
        "1.22",
        "storage.k8s.io/v1",
    ),
    removed(
        "storage.k8s.io/v1beta1",
        "VolumeAttachment",
        "1.13",
        "1.22",
        "storage.k8s.io/v1",
    ),
    // v1.16
    removed(
        "extensions/v1beta1",
        "NetworkPolicy",
        "1.9",
        "1.16",
        "networking.k8s.io/v1",
    ),
    removed(
        "extensions/v1beta1",
        "PodSecurityPolicy",
        "1.10",
        "1.16",
        PSA,
    ),
    removed("extensions/v1beta1", "DaemonSet", "1.9", "1.16", "apps/v1"),
    removed("extensions/v1beta1", "Deployment", "1.9", "1.16", "apps/v1"),
    removed("extensions/v1beta1", "ReplicaSet", "", "1.16", "apps/v1"),
    removed("apps/v1beta1", "*", "", "1.16", "apps/v1"),
    removed("apps/v1beta2", "*", "", "1.16", "apps/v1"),
    // deprecated, still served
    ApiVersion {
        group_version: "v1",
        kind: "Endpoints",
        deprecated_in: Some("1.33"),
        removed_in: None,
        replacement: "discovery.k8s.io/v1 EndpointSlice (a Service with a selector gets its EndpointSlices automatically; only selector-less Services need them written)",
    },
];

/// The table entry for an object's `apiVersion` and `kind`, if any.
pub(crate) fn lookup(api_version: &str, kind: &str) -> Option<&'static ApiVersion> {
    let api_version = api_version.trim();
    TABLE
        .iter()
        .find(|e| e.group_version == api_version && e.kind == kind)
        .or_else(|| {
            TABLE
                .iter()
                .find(|e| e.group_version == api_version && e.kind == "*")
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn exact_kind_wins_over_group_wildcard_and_current_versions_are_absent() {
        assert_eq!(
            lookup("extensions/v1beta1", "Ingress").unwrap().removed_in,
            Some("1.22")
        );
        assert_eq!(
            lookup("apps/v1beta2", "StatefulSet").unwrap().removed_in,
            Some("1.16")
        );
        assert!(lookup("apps/v1", "Deployment").is_none());
        assert!(lookup("batch/v1", "CronJob").is_none());
        assert!(lookup("policy/v1", "PodDisruptionBudget").is_none());
        assert!(lookup("v1", "Pod").is_none());
        assert!(lookup("v1", "Endpoints").unwrap().removed_in.is_none());
    }

    #[test]
    fn table_has_no_duplicate_entries() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(
                    !(a.group_version == b.group_version && a.kind == b.kind),
                    "{} {}",
                    a.group_version,
                    a.kind
                );
            }
        }
    }
}
