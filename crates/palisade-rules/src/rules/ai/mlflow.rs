//! PLS-AI-011: MLflow tracking server exposed without authentication.
//!
//! What it does: reports each path from outside the cluster to an MLflow
//! server (`mlflow server`/`mlflow ui`, the `ghcr.io/mlflow/mlflow` or
//! Bitnami images) with no authentication on the path and without
//! MLflow's own basic authentication (`--app-name basic-auth`).
//!
//! Why it matters: MLflow holds experiments, the model registry and
//! artifact access; open servers have been hit by path-traversal and
//! file-read bugs that leak cloud credentials (CVE-2023-1177,
//! CVE-2023-2356, CVE-2024-1560).
//!
//! Example: an Ingress to the `mlflow` Service without `auth-url`.
//!
//! Fix: authenticate on the route or start MLflow with `--app-name
//! basic-auth`.

use super::model::{report_exposure, server_auth};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::ai::Engine;

pub(crate) struct Mlflow;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-011",
    title: "MLflow tracking server exposed without authentication",
    severity: Severity::High,
    category: "ai-serving",
    rationale: "An MLflow tracking server has no authentication unless started with `--app-name basic-auth`. Whoever reaches it reads and rewrites experiments and the model registry (swapping the model version that production loads), and reaches artifact storage through the server; MLflow's history of path-traversal and local-file-read vulnerabilities (CVE-2023-1177, CVE-2023-2356, CVE-2024-1560) turned exposed servers into credential leaks for the cloud accounts behind them.",
    remediation: "Authenticate on the path (forwardAuth Middleware, ingress-nginx `auth-url`, an oauth2-proxy in front) or start MLflow with `--app-name basic-auth` and credentials from a Secret; keep the server `ClusterIP`, at a patched version, and do not serve artifacts through it (`--no-serve-artifacts`) unless needed.",
    references: References {
        owasp_llm: &["LLM03", "LLM04"],
        mitre: &["AML.T0049", "AML.T0035"],
        links: &[
            "https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/",
            "https://nvd.nist.gov/vuln/detail/CVE-2023-1177",
        ],
        ..References::NONE
    },
};

impl Rule for Mlflow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if unit.ai.engine != Some(Engine::Mlflow) {
                continue;
            }
            if server_auth(ai.workload(cx, u), unit).is_some() {
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
                        "{} reaches the MLflow server of {} with no authentication: anyone can read and change experiments and the model registry",
                        e.describe,
                        unit.describe()
                    ),
                );
            }
        }
    }
}
