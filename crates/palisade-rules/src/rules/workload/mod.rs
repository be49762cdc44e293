//! Workload hygiene: resources, namespace guard rails, probes, service
//! accounts, replicas and disruption budgets, removed and deprecated API
//! versions, Helm v2 Tiller. `support`, `resources`, `probes` and
//! `api_versions` hold what several rules share.

use crate::rule::Rule;

mod api_versions;
mod automount_token;
mod cpu_limits;
mod cpu_requests;
mod default_sa_automount;
mod default_service_account;
mod deprecated_api;
mod liveness_probe;
mod memory_limits;
mod memory_requests;
mod missing_pdb;
mod naked_pod;
mod namespace_limit_range;
mod namespace_resource_quota;
mod pdb_no_disruptions;
mod probes;
mod readiness_probe;
mod removed_api;
mod resources;
mod single_replica;
mod support;
mod tiller;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(cpu_limits::CpuLimits),
        Box::new(cpu_requests::CpuRequests),
        Box::new(memory_limits::MemoryLimits),
        Box::new(memory_requests::MemoryRequests),
        Box::new(namespace_limit_range::NamespaceLimitRange),
        Box::new(namespace_resource_quota::NamespaceResourceQuota),
        Box::new(liveness_probe::LivenessProbe),
        Box::new(readiness_probe::ReadinessProbe),
        Box::new(automount_token::AutomountToken),
        Box::new(default_service_account::DefaultServiceAccount),
        Box::new(default_sa_automount::DefaultSaAutomount),
        Box::new(single_replica::SingleReplica),
        Box::new(naked_pod::NakedPod),
        Box::new(missing_pdb::MissingPdb),
        Box::new(pdb_no_disruptions::PdbNoDisruptions),
        Box::new(removed_api::RemovedApi),
        Box::new(deprecated_api::DeprecatedApi),
        Box::new(tiller::Tiller),
    ]
}
