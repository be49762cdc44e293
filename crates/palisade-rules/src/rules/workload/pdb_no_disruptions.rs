//! PLS-WL-015: PodDisruptionBudget allows no disruptions.
//!
//! What it does: flags PodDisruptionBudgets that can never allow an
//! eviction: `maxUnavailable: 0` (or `0%`), `minAvailable: 100%`, or an
//! integer `minAvailable` at least the replica count of the Deployments,
//! StatefulSets and (unowned) ReplicaSets in the input that it selects
//! (replica counts owned by an autoscaler are not compared).
//!
//! Why it matters: such a budget blocks every voluntary eviction: node
//! drains hang, cluster upgrades stall, and the cluster autoscaler cannot
//! remove nodes.
//!
//! Fix: `maxUnavailable: 1`, or a `minAvailable` below the replica count.

use super::missing_pdb::pdb_selects;
use super::support::{autoscaler, in_namespace, replicas, template_labels};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct PdbNoDisruptions;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-015",
    title: "PodDisruptionBudget allows no disruptions",
    severity: Severity::Low,
    category: "reliability",
    rationale: "A PodDisruptionBudget that never allows an eviction blocks every voluntary disruption: `kubectl drain` hangs, node pools cannot be upgraded or scaled down, and security patches wait on a manual override.",
    remediation: "Use `maxUnavailable: 1` (or a percentage above 0%), or set `minAvailable` below the number of replicas the budget covers.",
    references: References {
        polaris: &["pdbDisruptionsIsZero"],
        kube_linter: &["pdb-max-unavailable", "pdb-min-available"],
        links: &[
            "https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions",
        ],
        ..References::NONE
    },
};

fn is_zero(n: &Node) -> bool {
    n.as_i64() == Some(0) || matches!(n.as_str().map(str::trim), Some("0" | "0%"))
}

fn is_hundred_percent(n: &Node) -> bool {
    n.as_str().map(str::trim) == Some("100%")
}

impl Rule for PdbNoDisruptions {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if obj.kind != "PodDisruptionBudget" {
            return;
        }
        let spec = obj.spec();
        if let Some(m) = spec.get("maxUnavailable").filter(|n| is_zero(n)) {
            let v = m.as_str().unwrap_or("0");
            out.report(
                obj,
                Path::keys("spec.maxUnavailable"),
                format!("maxUnavailable is {v}: no pod may ever be evicted"),
            );
            return;
        }
        let Some(min) = spec.get("minAvailable").filter(|n| !n.is_null()) else {
            return;
        };
        if is_hundred_percent(min) {
            out.report(
                obj,
                Path::keys("spec.minAvailable"),
                "minAvailable is 100%: no pod may ever be evicted",
            );
            return;
        }
        let Some(min) = min.as_i64() else { return };
        let ns = obj.effective_namespace();
        let mut total = 0;
        let mut names = Vec::new();
        for kind in ["Deployment", "StatefulSet", "ReplicaSet"] {
            for c in in_namespace(cx, kind, ns) {
                let owned = c
                    .metadata()
                    .get("ownerReferences")
                    .map(Node::items)
                    .is_some_and(|r| !r.is_empty());
                if owned || !pdb_selects(obj, template_labels(c)) {
                    continue;
                }
                let Some(r) = replicas(c) else { return };
                if autoscaler(cx, c).is_some() {
                    return;
                }
                total += r;
                names.push(format!("{} {:?}", c.kind, c.name));
            }
        }
        if !names.is_empty() && min >= total {
            out.report(
                obj,
                Path::keys("spec.minAvailable"),
                format!("minAvailable is {min} but the pods it selects ({}) number {total}: no pod may ever be evicted", names.join(", ")),
            );
        }
    }
}
