//! RBAC: who can do what, judged on effective permissions.
//!
//! Every rule builds the [`model::Model`] of its scan (roles with their
//! aggregation and the built-in ClusterRoles, bindings with their roleRef
//! resolved, subjects with their implicit groups) and asks it one question.
//! Capability rules report each subject that has the power on the binding's
//! subject, naming the binding and the role rule that grant it, and each
//! non-default role that would grant it but that no binding uses on the
//! role's rule. Default bindings and roles (`system:*`, `cluster-admin`, GKE's
//! `gce:podsecuritypolicy:calico-sa`) are skipped as Polaris skips them.

use crate::rule::Rule;

mod admin_edit;
mod anonymous;
mod bind_escalate;
mod broad_groups;
mod builtin;
mod cluster_admin;
mod create_pods;
mod csr_approval;
mod dangling;
mod exec;
mod impersonate;
pub(crate) mod model;
mod namespace_admin;
mod node_proxy;
mod port_forward;
mod report;
mod secrets_cluster;
mod secrets_namespace;
mod service_account_takeover;
mod system_masters;
mod webhooks;
mod wildcards;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(cluster_admin::ClusterAdmin),
        Box::new(namespace_admin::NamespaceAdmin),
        Box::new(admin_edit::AdminEdit),
        Box::new(wildcards::Wildcards),
        Box::new(secrets_cluster::SecretsCluster),
        Box::new(secrets_namespace::SecretsNamespace),
        Box::new(exec::Exec),
        Box::new(port_forward::PortForward),
        Box::new(create_pods::CreatePods),
        Box::new(impersonate::Impersonate),
        Box::new(service_account_takeover::ServiceAccountTakeover),
        Box::new(bind_escalate::BindEscalate),
        Box::new(node_proxy::NodeProxy),
        Box::new(webhooks::Webhooks),
        Box::new(csr_approval::CsrApproval),
        Box::new(anonymous::Anonymous),
        Box::new(broad_groups::BroadGroups),
        Box::new(system_masters::SystemMasters),
        Box::new(dangling::Dangling),
    ]
}
