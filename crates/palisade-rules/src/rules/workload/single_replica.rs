//! PLS-WL-012: Deployment runs a single replica.
//!
//! What it does: flags Deployments whose `spec.replicas` is 1 or omitted
//! (the default is 1). When a HorizontalPodAutoscaler or a KEDA
//! ScaledObject in the input targets the Deployment, its minimum decides
//! instead (HPA `minReplicas`, default 1; KEDA `minReplicaCount`, default
//! 0, where 0 means scale-to-zero by design and is not reported).
//! `replicas: 0` (scaled down on purpose) and non-integer values (unrendered
//! templates) are not reported.
//!
//! Why it matters: one replica means every rollout, node drain, eviction or
//! crash is an outage.
//!
//! Fix: `replicas: 2` or more (or an autoscaler with `minReplicas: 2`),
//! with pod anti-affinity or topology spread across nodes.

use super::support::{autoscaler, replicas};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct SingleReplica;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-012",
    title: "Deployment runs a single replica",
    severity: Severity::Info,
    category: "reliability",
    rationale: "With one replica every node drain, eviction, crash or rollout of the Deployment is an outage; for an inference endpoint that also means a cold model load before it answers again.",
    remediation: "Set `spec.replicas` to 2 or more (or `minReplicas: 2` on the HorizontalPodAutoscaler that scales it) and spread the pods across nodes with `topologySpreadConstraints` or pod anti-affinity.",
    references: References {
        polaris: &["deploymentMissingReplicas"],
        links: &["https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#replicas"],
        ..References::NONE
    },
};

impl Rule for SingleReplica {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if obj.kind != "Deployment" || !matches!(obj.group(), "apps" | "extensions" | "") {
            return;
        }
        if let Some((a, min)) = autoscaler(cx, obj) {
            if min == Some(1) {
                out.report(
                    obj,
                    Path::keys("spec.replicas"),
                    format!(
                        "{} {:?} scales this Deployment down to a single replica",
                        a.kind, a.name
                    ),
                );
            }
            return;
        }
        match replicas(obj) {
            Some(1) if obj.spec().get("replicas").is_some_and(|n| !n.is_null()) => {
                out.report(
                    obj,
                    Path::keys("spec.replicas"),
                    "the Deployment sets replicas: 1",
                );
            }
            Some(1) => out.report(
                obj,
                Path::keys("spec.replicas"),
                "the Deployment does not set replicas, so it runs a single replica",
            ),
            _ => {}
        }
    }
}
