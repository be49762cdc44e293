//! PLS-GPU-004: GPU node without a NoSchedule taint.
//!
//! What it does: for Node objects in the scan that have GPUs (capacity or
//! allocatable `nvidia.com/gpu` or another accelerator, or the labels the
//! GPU operator and Node Feature Discovery set: `nvidia.com/gpu.present`,
//! `nvidia.com/gpu.product`, `feature.node.kubernetes.io/pci-10de.present`),
//! reports the ones without a `NoSchedule` or `NoExecute` taint.
//!
//! Why it matters: any pod can land on an untainted GPU node, sharing its
//! kernel, driver and host paths with the model servers on it.
//!
//! Example: a node with `nvidia.com/gpu: 8` and no taints.
//!
//! Fix: taint GPU nodes (`nvidia.com/gpu=present:NoSchedule`) and let GPU
//! workloads tolerate it.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;
use palisade_k8s::ai::GPU_RESOURCES;

pub(crate) struct NodeTaint;

static META: RuleMeta = RuleMeta {
    id: "PLS-GPU-004",
    title: "GPU node without a NoSchedule taint",
    severity: Severity::Low,
    category: "gpu-isolation",
    rationale: "GPU nodes run the most valuable workloads: model weights, prompts and the credentials to fetch them. Without a taint, the scheduler places any pod there (CI jobs, third-party agents, tenants' test pods), which then shares the node's kernel, driver and container runtime with the model servers and takes CPU and memory the GPU pods need.",
    remediation: "Taint GPU nodes, e.g. `kubectl taint nodes <node> nvidia.com/gpu=present:NoSchedule` (managed node groups set taints in their node-pool configuration), and add the matching toleration to GPU workloads (the ExtendedResourceToleration admission plugin adds it to pods requesting `nvidia.com/gpu`).",
    references: References {
        links: &[
            "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#example-use-cases",
            "https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#extendedresourcetoleration",
        ],
        ..References::NONE
    },
};

fn has_gpus(n: &Object) -> Option<String> {
    let status = n.root.get("status");
    for section in ["capacity", "allocatable"] {
        for e in status
            .and_then(|s| s.get(section))
            .map_or(&[][..], Node::entries)
        {
            if GPU_RESOURCES.contains(&e.key.as_str()) && e.value.as_str().is_some_and(|v| v != "0")
            {
                return Some(format!("{} {}", e.key, e.value.as_str().unwrap_or("")));
            }
        }
    }
    for l in [
        "nvidia.com/gpu.present",
        "feature.node.kubernetes.io/pci-10de.present",
    ] {
        if n.label(l) == Some("true") {
            return Some(format!("label {l}"));
        }
    }
    n.label("nvidia.com/gpu.product")
        .map(|p| format!("label nvidia.com/gpu.product={p}"))
}

impl Rule for NodeTaint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, o: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !o.is("", "Node") {
            return;
        }
        let Some(why) = has_gpus(o) else { return };
        let tainted = o.spec().list("taints").iter().any(|t| {
            matches!(
                t.get("effect").and_then(Node::as_str),
                Some("NoSchedule" | "NoExecute")
            )
        });
        if !tainted {
            out.report(
                o,
                Path::keys("spec.taints"),
                format!(
                    "GPU node \"{}\" ({why}) has no NoSchedule or NoExecute taint: any pod can be scheduled beside the GPU workloads",
                    o.name
                ),
            );
        }
    }
}
