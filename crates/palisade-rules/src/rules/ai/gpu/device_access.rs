//! PLS-GPU-003: Pod reaches GPU devices outside the device plugin.
//!
//! What it does: flags hostPath volumes onto GPU device nodes
//! (`/dev/nvidia*`, `/dev/nvidia-caps`, `/dev/dri`, `/dev/kfd`, or `/dev`
//! itself), and privileged containers in pods that use GPUs (request them
//! or set `NVIDIA_VISIBLE_DEVICES`): a privileged container sees every
//! device on the node.
//!
//! Why it matters: the device plugin isolates a pod to the GPUs it was
//! allocated. Device nodes from the host, or privilege, give the pod every
//! GPU on the node, including those serving other tenants.
//!
//! Example: `hostPath: {path: /dev/nvidia0}`.
//!
//! Fix: request GPUs through the device plugin; drop privileged.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::{Cli, wants_gpu};

pub(crate) struct DeviceAccess;

static META: RuleMeta = RuleMeta {
    id: "PLS-GPU-003",
    title: "Pod reaches GPU devices outside the device plugin",
    severity: Severity::High,
    category: "gpu-isolation",
    rationale: "GPU isolation between pods rests on the device plugin handing each container only its allocated device nodes. A hostPath onto `/dev/nvidia*` (or `/dev/dri`, `/dev/kfd`, `/dev`) or a privileged container (which gets every host device) reaches every GPU on the node: it can read the memory of models and prompts of other tenants, run on GPUs the scheduler assigned elsewhere and reset or hang them.",
    remediation: "Request GPUs with `resources.limits.nvidia.com/gpu` (or MIG slices) and remove hostPath volumes under `/dev`; remove `privileged: true` from GPU containers. Only the device plugin and driver DaemonSets of the GPU operator need device access, in their own namespace.",
    references: References {
        pss: &["baseline:privileged", "baseline:host-path-volumes"],
        mitre: &["T1611"],
        links: &[
            "https://kubernetes.io/docs/tasks/manage-gpus/scheduling-gpus/",
            "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/index.html",
        ],
        ..References::NONE
    },
};

fn is_gpu_device(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p == "/dev"
        || p.starts_with("/dev/nvidia")
        || p.starts_with("/dev/dri")
        || p == "/dev/kfd"
        || p.starts_with("/dev/accel")
}

impl Rule for DeviceAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (v, path) in w.volumes() {
            let Some(hp) = v
                .get("hostPath")
                .and_then(|h| h.get("path"))
                .and_then(Node::as_str)
            else {
                continue;
            };
            if is_gpu_device(hp) {
                out.report(
                    w.object,
                    path.keys_from(&["hostPath", "path"]),
                    format!(
                        "volume {:?} mounts host device path {hp:?}: the pod reaches GPUs the device plugin did not allocate to it",
                        v.get("name").and_then(Node::as_str).unwrap_or("")
                    ),
                );
            }
        }
        let uses_gpu = wants_gpu(w)
            || w.containers
                .iter()
                .any(|c| Cli::of(c).env("NVIDIA_VISIBLE_DEVICES").is_some());
        if !uses_gpu {
            return;
        }
        for c in &w.containers {
            if let Some((n, p)) = c.sc("privileged") {
                if n.as_bool() == Some(true) {
                    out.report_container(
                        w.object,
                        c.name,
                        p,
                        format!(
                            "container {:?} is privileged in a GPU pod: it sees every GPU on the node, not only its allocation",
                            c.name
                        ),
                    );
                }
            }
        }
    }
}
