//! PLS-GPU-005: GPU time-slicing or MPS shared across namespaces.
//!
//! What it does: finds NVIDIA device-plugin sharing configurations (a
//! ConfigMap whose data holds a device-plugin config with
//! `sharing.timeSlicing` or `sharing.mps`, as the GPU operator's
//! `devicePlugin.config` and the plugin's `--config-file` use) and reports
//! each one when GPU workloads of more than one namespace are in the scan.
//!
//! Why it matters: time-sliced and MPS-shared GPUs give no memory or fault
//! isolation between the pods that share one GPU; pods of different
//! tenants can read or corrupt each other's GPU memory or crash each
//! other.
//!
//! Example: `sharing: {timeSlicing: {resources: [{name: nvidia.com/gpu,
//! replicas: 4}]}}` with vLLM in `team-a` and `team-b`.
//!
//! Fix: partition with MIG for tenants, or dedicate shared nodes to one
//! tenant.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::ai::wants_gpu;
use std::collections::BTreeSet;

pub(crate) struct Sharing;

static META: RuleMeta = RuleMeta {
    id: "PLS-GPU-005",
    title: "GPU time-slicing or MPS shared across namespaces",
    severity: Severity::Medium,
    category: "gpu-isolation",
    rationale: "The NVIDIA device plugin's time-slicing and MPS sharing advertise one physical GPU as several `nvidia.com/gpu` resources. Unlike MIG, neither isolates memory or faults: processes of every pod on a shared GPU run in the same GPU context space (time-slicing) or one MPS server, so a pod of one tenant can observe, corrupt or crash the work of another tenant's model server.",
    remediation: "Use MIG partitions (`mig.strategy: single` or `mixed`, `nvidia.com/mig-*` resources) for workloads of different tenants; restrict time-slicing and MPS to nodes dedicated to one tenant (a per-node config label `nvidia.com/device-plugin.config` with taints and tolerations that only that tenant has).",
    references: References {
        links: &[
            "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-sharing.html",
            "https://github.com/NVIDIA/k8s-device-plugin#shared-access-to-gpus",
        ],
        ..References::NONE
    },
};

/// Which sharing the config text turns on.
fn sharing_of(text: &str) -> Option<&'static str> {
    let Ok(Some(doc)) = palisade_core::yaml::parse_one(text) else {
        return None;
    };
    let sharing = doc.get("sharing")?;
    let has = |k: &str| {
        sharing.get(k).is_some_and(|s| {
            s.list("resources").iter().any(|r| {
                r.get("replicas")
                    .and_then(Node::as_str)
                    .and_then(|v| v.parse::<u32>().ok())
                    .is_some_and(|n| n > 1)
            })
        })
    };
    if has("timeSlicing") {
        Some("time-slicing")
    } else if has("mps") {
        Some("MPS")
    } else {
        None
    }
}

impl Rule for Sharing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let tenants: BTreeSet<&str> = cx
            .all_workloads()
            .filter(|w| wants_gpu(w) && !crate::rules::ai::model::is_template_only(w.object))
            .map(|w| w.object.effective_namespace())
            .collect();
        if tenants.len() < 2 {
            return;
        }
        let list: Vec<&str> = tenants.iter().copied().collect();
        for cm in cx.of_kind("ConfigMap").filter(|o| o.group().is_empty()) {
            for e in cm.root.get("data").map_or(&[][..], Node::entries) {
                let Some(text) = e.value.as_str() else {
                    continue;
                };
                if !text.contains("sharing") {
                    continue;
                }
                if let Some(kind) = sharing_of(text) {
                    out.report_keyed(
                        cm,
                        Path::keys("data").key(&e.key),
                        &e.key,
                        format!(
                            "device-plugin config {:?} shares GPUs with {kind} while GPU workloads run in namespaces {}: pods of different tenants share GPUs without memory isolation",
                            e.key,
                            list.join(", ")
                        ),
                    );
                }
            }
        }
    }
}
