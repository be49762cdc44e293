//! PLS-AI-005: Namespace runs GPU workloads without a GPU quota.
//!
//! What it does: for each namespace with pod templates that request GPUs
//! (or other accelerators), reports when no ResourceQuota in the namespace
//! sets `requests.<resource>` for the accelerators requested there
//! (`requests.nvidia.com/gpu`). Template-only kinds (ServingRuntime) do
//! not count.
//!
//! Why it matters: without a quota one team, one runaway autoscaler or
//! one stolen credential can take every GPU in the cluster.
//!
//! Example: namespace `llm` runs vLLM with `nvidia.com/gpu: 1` and has no
//! ResourceQuota.
//!
//! Fix: a ResourceQuota with `hard: {requests.nvidia.com/gpu: "4"}`.

use super::model::is_template_only;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::ai::gpu_request;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) struct GpuQuota;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-005",
    title: "Namespace runs GPU workloads without a GPU quota",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "GPUs are the scarcest and most expensive resource in the cluster. Without a ResourceQuota on the accelerator resource, a namespace can claim every GPU: one team's autoscaler, a compromised CI credential or a crash loop of large pods starves every other tenant and drives the bill. Extended resources such as `nvidia.com/gpu` can only be limited through `requests.<resource>` quota entries.",
    remediation: "Add a ResourceQuota to the namespace with `spec.hard` entries `requests.nvidia.com/gpu: \"<budget>\"` (and the same for any other accelerator it uses, e.g. `requests.amd.com/gpu`).",
    references: References {
        owasp_llm: &["LLM10"],
        mitre: &["AML.T0034"],
        links: &[
            "https://kubernetes.io/docs/concepts/policy/resource-quotas/#resource-quota-for-extended-resources",
        ],
        ..References::NONE
    },
};

impl Rule for GpuQuota {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        // namespace -> accelerator -> first object requesting it
        let mut wanted: BTreeMap<&str, BTreeMap<String, (&palisade_k8s::Object, Path)>> =
            BTreeMap::new();
        for w in cx.all_workloads() {
            if is_template_only(w.object) {
                continue;
            }
            for c in &w.containers {
                if let Some((res, _)) = gpu_request(c) {
                    // Anchor the namespace's finding on the workload that sorts
                    // first by kind and name, so a cluster scan (API order) and a
                    // manifest scan (file order) report it on the same object.
                    let slot = wanted
                        .entry(w.object.effective_namespace())
                        .or_default()
                        .entry(res.to_owned())
                        .or_insert((w.object, c.path.key("resources")));
                    if (&w.object.kind, &w.object.name) < (&slot.0.kind, &slot.0.name) {
                        *slot = (w.object, c.path.key("resources"));
                    }
                }
            }
        }
        for (ns, resources) in wanted {
            let quota: BTreeSet<String> = cx
                .of_kind_in("ResourceQuota", ns)
                .flat_map(|q| {
                    q.spec()
                        .get("hard")
                        .map_or(&[][..], Node::entries)
                        .iter()
                        .map(|e| e.key.to_string())
                        .collect::<Vec<_>>()
                })
                .collect();
            for (res, (obj, path)) in resources {
                if quota.contains(&format!("requests.{res}")) {
                    continue;
                }
                out.report_keyed(
                    obj,
                    path,
                    &format!("{ns}/{res}"),
                    format!(
                        "namespace \"{ns}\" runs workloads requesting {res} but no ResourceQuota limits requests.{res}"
                    ),
                );
            }
        }
    }
}
