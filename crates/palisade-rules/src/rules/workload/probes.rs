//! The check behind the liveness and readiness probe rules.
//!
//! Only pods that run until deleted need probes: Jobs, CronJobs, RayJob
//! submitters, Pods owned by a Job and Pods with `restartPolicy`
//! `Never`/`OnFailure` run to completion and are skipped (as Polaris and
//! Checkov do). Only regular containers are checked: init containers run to
//! completion before the pod starts (Polaris excludes them too), and
//! ephemeral containers cannot have probes.
//!
//! Containers whose probes come from elsewhere are skipped:
//! - KServe predictor frameworks (`predictor.model`, `predictor.sklearn`,
//!   ...) take their container, probes included, from the ServingRuntime,
//!   which is checked where it is defined;
//! - the Ray container (the first container of a RayCluster/RayService/
//!   RayJob head or worker group) gets liveness and readiness probes from
//!   the KubeRay operator;
//! - readiness only: Knative Serving (and KServe InferenceServices, which
//!   run on Knative unless annotated `serving.kserve.io/deploymentMode:
//!   RawDeployment` or `Standard`) gives a container without a readiness
//!   probe a default TCP probe on its port.

use super::support::long_running;
use crate::context::Context;
use crate::rule::Emitter;
use palisade_core::Seg;
use palisade_k8s::Workload;
use palisade_k8s::workload::ContainerKind;

/// `livenessProbe` or `readinessProbe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Liveness,
    Readiness,
}

impl Probe {
    fn key(self) -> &'static str {
        match self {
            Probe::Liveness => "livenessProbe",
            Probe::Readiness => "readinessProbe",
        }
    }
}

/// Whether Knative supplies a default readiness probe for this template.
fn knative_backed(w: &Workload<'_>) -> bool {
    let o = w.object;
    if o.group() == "serving.knative.dev" {
        return true;
    }
    if o.is("serving.kserve.io", "ServingRuntime")
        || o.is("serving.kserve.io", "ClusterServingRuntime")
    {
        return true;
    }
    if o.is("serving.kserve.io", "InferenceService") {
        let mode = o
            .annotation("serving.kserve.io/deploymentMode")
            .unwrap_or("Serverless");
        return !matches!(mode, "RawDeployment" | "Standard");
    }
    false
}

/// Reports every long-running regular container of `w` without `probe`.
pub(crate) fn check(w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>, probe: Probe) {
    if !long_running(w) {
        return;
    }
    if probe == Probe::Readiness && knative_backed(w) {
        return;
    }
    let ray = w.object.group() == "ray.io";
    let key = probe.key();
    let mut regular_index = 0;
    for c in &w.containers {
        if c.kind != ContainerKind::Regular {
            continue;
        }
        let index = regular_index;
        regular_index += 1;
        // An inline container (a KServe framework) sits at a key, not at an
        // index of a `containers` list.
        if matches!(c.path.0.last(), Some(Seg::Key(_))) {
            continue;
        }
        if ray && index == 0 {
            continue;
        }
        if c.get(key)
            .is_some_and(|p| p.as_map().is_some_and(|m| !m.is_empty()))
        {
            continue;
        }
        out.report_container(
            w.object,
            c.name,
            c.path.key(key),
            format!("container {:?} has no {key}", c.name),
        );
    }
}
