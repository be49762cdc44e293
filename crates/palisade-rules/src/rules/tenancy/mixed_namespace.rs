//! PLS-TEN-001: Notebooks or training jobs share a namespace with model
//! serving.
//!
//! What it does: for each namespace that runs a model server, reports the
//! notebooks (Kubeflow Notebooks, Jupyter, JupyterHub) and training jobs
//! (Kubeflow Training Operator jobs, Ray jobs, batch Jobs running training
//! code) in the same namespace.
//!
//! Why it matters: namespace-scoped permissions, Secrets, ServiceAccounts,
//! quotas and NetworkPolicies are shared: interactive, experimental code
//! gets the production server's credentials and network access.
//!
//! Example: a Kubeflow Notebook in namespace `llm` beside the production
//! InferenceService.
//!
//! Fix: move notebooks and training to their own namespaces.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use crate::rules::ai::model::{is_serving, is_template_only};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::ai::Role;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct MixedNamespace;

static META: RuleMeta = RuleMeta {
    id: "PLS-TEN-001",
    title: "Notebooks or training jobs share a namespace with model serving",
    severity: Severity::Medium,
    category: "tenancy",
    rationale: "Everything in a namespace shares its Secrets (any pod can mount them), its RoleBindings, its default ServiceAccount, its quotas and usually its NetworkPolicies. A notebook runs whatever its user types and a training job runs experimental code and third-party packages; beside production model servers they can read the servers' Hugging Face and storage credentials, reach the servers' pods directly and exhaust the namespace's GPU quota.",
    remediation: "Run notebooks and training in their own namespaces (per team or per user, as Kubeflow profiles do), give serving namespaces only the serving workloads, and share models through a registry or read-only storage instead of a common namespace.",
    references: References {
        mitre: &["AML.T0012"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/multi-tenancy/",
            "https://www.kubeflow.org/docs/components/central-dash/profiles/",
        ],
        ..References::NONE
    },
};

impl Rule for MixedNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        let mut serving: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for unit in &ai.units {
            if is_serving(unit) {
                serving
                    .entry(unit.obj.effective_namespace())
                    .or_default()
                    .insert(format!("{} {}", unit.obj.kind, unit.obj.name));
            }
        }
        let mut seen = BTreeSet::new();
        for unit in &ai.units {
            if !matches!(unit.ai.role, Role::Notebook | Role::Training)
                || is_template_only(unit.obj)
            {
                continue;
            }
            let ns = unit.obj.effective_namespace();
            let Some(servers) = serving.get(ns) else {
                continue;
            };
            if !seen.insert(unit.index) {
                continue;
            }
            let list: Vec<&str> = servers.iter().map(String::as_str).take(3).collect();
            out.report(
                unit.obj,
                Path::keys("metadata.namespace"),
                format!(
                    "{} {} ({}) runs in namespace \"{ns}\" beside model serving ({}): it shares the servers' Secrets, ServiceAccounts and network",
                    unit.obj.kind,
                    unit.obj.name,
                    unit.ai.role.as_str(),
                    list.join(", ")
                ),
            );
        }
    }
}
