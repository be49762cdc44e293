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
mod duplicate_env;
mod hpa_target;
mod liveness_probe;
mod memory_limits;
mod memory_requests;
mod missing_pdb;
mod naked_pod;
mod namespace_limit_range;
mod namespace_resource_quota;
mod no_anti_affinity;
mod pdb_no_disruptions;
mod probes;
mod readiness_probe;
mod removed_api;
mod resources;
mod selector_mismatch;
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
        Box::new(selector_mismatch::SelectorMismatch),
        Box::new(duplicate_env::DuplicateEnv),
        Box::new(no_anti_affinity::NoAntiAffinity),
        Box::new(hpa_target::HpaTarget),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::Engine;
    use palisade_core::config::Config;
    use palisade_k8s::load::load_str;

    /// Fields of the wrong type are treated as absent: no rule panics, and
    /// the rules that look at a mistyped field report it as missing.
    #[test]
    fn wrong_types_are_absent_not_panics() {
        let text = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd, namespace: llm, labels: [a, b], ownerReferences: "x"}
spec:
  replicas: three
  selector: app
  template:
    metadata: {labels: "app=odd"}
    spec:
      automountServiceAccountToken: "false"
      serviceAccountName: [x]
      resources: 12
      initContainers: "not a list"
      containers:
        - name: c
          image: 42
          imagePullPolicy: {always: true}
          resources: [cpu, memory]
          livenessProbe: [httpGet]
          readinessProbe: "yes"
        - "not a container"
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: odd, namespace: llm}
spec:
  minAvailable: {a: 1}
  maxUnavailable: [0]
  selector: {matchLabels: [app], matchExpressions: {key: app}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: odd, namespace: llm}
spec:
  limits: {type: Container}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: odd, namespace: llm}
spec:
  scaleTargetRef: "Deployment/odd"
  minReplicas: one
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: llm}
automountServiceAccountToken: [false]
"#;
        let load = load_str("odd.yaml", text);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        let mut rules = super::rules();
        rules.extend(crate::rules::images::rules());
        let engine = Engine::with_rules(rules, Config::default());
        let found = engine.check(&load.objects);
        let ids: Vec<&str> = found.iter().map(|f| f.meta.id).collect();
        for id in [
            "PLS-WL-001",
            "PLS-WL-003",
            "PLS-WL-007",
            "PLS-WL-008",
            "PLS-WL-009",
            "PLS-WL-011",
        ] {
            assert!(
                ids.contains(&id),
                "{id} should treat the mistyped field as missing: {ids:?}"
            );
        }
        // an unreadable replica count or selector is not judged
        assert!(!ids.contains(&"PLS-WL-012"), "{ids:?}");
        assert!(!ids.contains(&"PLS-WL-015"), "{ids:?}");
    }
}
