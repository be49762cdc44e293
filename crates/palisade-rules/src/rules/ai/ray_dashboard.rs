//! PLS-AI-009: Ray dashboard and Jobs API exposed without authentication.
//!
//! What it does: reports each path from outside the cluster to a Ray head
//! (RayCluster, RayService, RayJob, or a plain workload running `ray start
//! --head`): a head Service of type LoadBalancer/NodePort, KubeRay's
//! `enableIngress`, an Ingress, IngressRoute or HTTPRoute to the head
//! Service (`<cluster>-head-svc`), unless the path authenticates or Ray's
//! token authentication is on (`RAY_AUTH_MODE=token`,
//! `spec.authOptions.mode: token`).
//!
//! Why it matters: the dashboard port (8265) serves the Jobs API, which runs
//! any command on the cluster by design (CVE-2023-48022, "ShadowRay",
//! exploited in the wild to steal credentials and mine on GPUs).
//!
//! Example: `headGroupSpec: {serviceType: LoadBalancer}`.
//!
//! Fix: keep the head Service ClusterIP and reach the dashboard with
//! `kubectl port-forward`, or put an authenticating proxy in front.

use super::model::{report_exposure, server_auth};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::ai::{Cli, Platform, Role};

pub(crate) struct RayDashboard;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-009",
    title: "Ray dashboard and Jobs API exposed without authentication",
    severity: Severity::Critical,
    category: "ai-serving",
    rationale: "The Ray head serves the dashboard and the Jobs API on port 8265 (and the client on 10001). Without token authentication, which Ray leaves off by default, anyone who reaches the port can submit a job that runs any command on every node of the cluster. Ray's maintainers consider this intended behaviour; attackers have exploited it at scale (CVE-2023-48022, \"ShadowRay\") to take over GPU clusters, steal cloud and Hugging Face credentials and mine cryptocurrency.",
    remediation: "Keep the head Service `ClusterIP` (`headGroupSpec.serviceType`), do not set `enableIngress`, and reach the dashboard through `kubectl port-forward`. If it must be reachable, turn on Ray token authentication (`spec.authOptions.mode: token` with KubeRay, `RAY_AUTH_MODE=token`) and put an authenticating proxy (forwardAuth, oauth2-proxy) on the route.",
    references: References {
        owasp_llm: &["LLM03"],
        mitre: &["AML.T0049", "AML.T0050"],
        links: &[
            "https://nvd.nist.gov/vuln/detail/CVE-2023-48022",
            "https://docs.ray.io/en/latest/ray-security/index.html",
            "https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/kuberay-auth.html",
        ],
        ..References::NONE
    },
};

impl Rule for RayDashboard {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if unit.ai.role != Role::Ray {
                continue;
            }
            let is_head = if unit.ai.platform == Platform::KubeRay {
                unit.labels.get("ray.io/node-type").map(String::as_str) == Some("head")
            } else {
                let w = ai.workload(cx, u);
                unit.ai
                    .server
                    .is_some_and(|i| Cli::of(&w.containers[i]).bool_flag(&["--head"]).is_some())
            };
            if !is_head {
                continue;
            }
            let o = unit.obj;
            let kuberay_token = ["spec", "spec.rayClusterConfig", "spec.rayClusterSpec"]
                .iter()
                .filter_map(|p| o.root.at_path(&palisade_core::Path::keys(p)))
                .any(|s| {
                    s.get("authOptions")
                        .and_then(|a| a.get("mode"))
                        .and_then(Node::as_str)
                        == Some("token")
                });
            if kuberay_token || server_auth(ai.workload(cx, u), unit).is_some() {
                continue;
            }
            for e in &ai.exposures[u] {
                if e.auth.is_some() || e.source_limit.is_some() {
                    continue;
                }
                report_exposure(
                    out,
                    unit,
                    e,
                    format!(
                        "{} reaches the Ray head of {} {}/{} without authentication: its Jobs API runs any command on the cluster (ShadowRay, CVE-2023-48022)",
                        e.describe,
                        o.kind,
                        o.effective_namespace(),
                        o.name
                    ),
                );
            }
        }
    }
}
