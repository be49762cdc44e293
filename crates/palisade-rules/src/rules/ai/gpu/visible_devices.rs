//! PLS-GPU-001: GPUs made visible to a container that requests none.
//!
//! What it does: flags containers that set `NVIDIA_VISIBLE_DEVICES` (to
//! `all`, indexes or UUIDs; `void`, `none` and empty are fine) without
//! requesting a GPU resource (`nvidia.com/gpu`, a MIG slice, a DRA claim).
//!
//! Why it matters: on nodes whose default runtime is the NVIDIA runtime,
//! the variable alone mounts the GPUs into the container, bypassing the
//! device plugin: the pod uses GPUs the scheduler gave to someone else.
//!
//! Example: a "CPU" sidecar with `NVIDIA_VISIBLE_DEVICES=all`.
//!
//! Fix: request `nvidia.com/gpu` and let the device plugin set the
//! variable, or set it to `void`.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::{Cli, gpu_request};

pub(crate) struct VisibleDevices;

static META: RuleMeta = RuleMeta {
    id: "PLS-GPU-001",
    title: "GPUs made visible to a container that requests none",
    severity: Severity::High,
    category: "gpu-isolation",
    rationale: "The NVIDIA container runtime hook decides which GPUs to inject from `NVIDIA_VISIBLE_DEVICES`. The device plugin sets it for containers it allocated GPUs to; a container that sets it itself (`all` is common in copied Dockerfiles and Helm values) gets those GPUs on any node where the NVIDIA runtime is the default, without the scheduler knowing. It can read other tenants' GPU memory, run work on GPUs assigned to other pods and break their isolation.",
    remediation: "Request GPUs through `resources.limits.nvidia.com/gpu` (or a MIG resource, or a DRA ResourceClaim) and do not set `NVIDIA_VISIBLE_DEVICES` yourself; in containers that must not see GPUs, set it to `void`. Configure the NVIDIA runtime with `accept-nvidia-visible-devices-envvar-when-unprivileged = false` and the device plugin with `DEVICE_LIST_STRATEGY=volume-mounts` so the variable is ignored.",
    references: References {
        mitre: &["T1611"],
        links: &[
            "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html#gpu-enumeration",
            "https://github.com/NVIDIA/k8s-device-plugin#configuration-option-details",
        ],
        ..References::NONE
    },
};

impl Rule for VisibleDevices {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !w.spec.list("resourceClaims").is_empty() {
            return;
        }
        for c in &w.containers {
            if gpu_request(c).is_some() {
                continue;
            }
            let Some((v, p)) = Cli::of(c).env("NVIDIA_VISIBLE_DEVICES") else {
                continue;
            };
            let shown = v.unwrap_or("(from a reference)");
            if v.is_some_and(|v| {
                matches!(v.trim().to_ascii_lowercase().as_str(), "" | "void" | "none")
            }) {
                continue;
            }
            out.report_container(
                w.object,
                c.name,
                p,
                format!(
                    "container {:?} sets NVIDIA_VISIBLE_DEVICES={shown} but requests no GPU: it can use GPUs the device plugin allocated to other pods",
                    c.name
                ),
            );
        }
    }
}
