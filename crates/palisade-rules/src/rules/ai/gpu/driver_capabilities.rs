//! PLS-GPU-002: NVIDIA driver capabilities set to all.
//!
//! What it does: flags containers with `NVIDIA_DRIVER_CAPABILITIES=all`.
//!
//! Why it matters: `all` mounts every driver library and device the
//! toolkit knows (graphics, video, display, utility), widening the
//! container's reach into the host driver far beyond what CUDA inference
//! needs (`compute,utility`).
//!
//! Example: `NVIDIA_DRIVER_CAPABILITIES: all` on a vLLM container.
//!
//! Fix: `compute,utility` (the default when unset).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::Cli;

pub(crate) struct DriverCapabilities;

static META: RuleMeta = RuleMeta {
    id: "PLS-GPU-002",
    title: "NVIDIA driver capabilities set to all",
    severity: Severity::Low,
    category: "gpu-isolation",
    rationale: "`NVIDIA_DRIVER_CAPABILITIES` selects which parts of the host's NVIDIA driver the container toolkit mounts into the container. `all` adds the graphics, video, display and compat libraries and their device nodes to what CUDA needs, enlarging the attack surface towards the host driver (which has had container-escape bugs such as CVE-2024-0132 in the toolkit) for no benefit to model serving.",
    remediation: "Unset the variable (the default is `compute,utility`) or set it to exactly what the workload needs, e.g. `compute,utility` for inference and training, `compute,video,utility` for video decoding.",
    references: References {
        mitre: &["T1611"],
        links: &[
            "https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/docker-specialized.html#driver-capabilities",
        ],
        ..References::NONE
    },
};

impl Rule for DriverCapabilities {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            if let Some((Some(v), p)) = Cli::of(c).env("NVIDIA_DRIVER_CAPABILITIES") {
                if v.split(',').any(|x| x.trim().eq_ignore_ascii_case("all")) {
                    out.report_container(
                        w.object,
                        c.name,
                        p,
                        format!(
                            "container {:?} sets NVIDIA_DRIVER_CAPABILITIES=all: every driver library and device is mounted, not only compute",
                            c.name
                        ),
                    );
                }
            }
        }
    }
}
