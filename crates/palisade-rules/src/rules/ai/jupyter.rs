//! PLS-AI-010: Jupyter server reachable without token authentication.
//!
//! What it does: reports Jupyter servers (notebook, lab, Kubeflow
//! Notebooks) whose token authentication is off, either by flag
//! (`--ServerApp.token=''`, `--NotebookApp.token=''`,
//! `--IdentityProvider.token=''`) or because they are Kubeflow Notebooks
//! (whose images turn it off and rely on Kubeflow's Istio
//! authentication), when a path from outside reaches them without
//! authentication, or, for servers with the token off by flag, when any
//! Service selects them.
//!
//! Why it matters: a Jupyter server runs any code its visitor types, with
//! the pod's credentials and GPUs.
//!
//! Example: `args: [start-notebook.py, --ServerApp.token=]` behind a
//! NodePort.
//!
//! Fix: keep token (or password) authentication on; reach Kubeflow
//! notebooks only through the Kubeflow gateway.

use super::model::report_exposure;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::ai::{Cli, Platform, Role};

pub(crate) struct Jupyter;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-010",
    title: "Jupyter server reachable without token authentication",
    severity: Severity::High,
    category: "ai-serving",
    rationale: "A Jupyter server executes whatever code its visitor sends, as the pod's user, with the pod's ServiceAccount token, cloud credentials, data volumes and GPUs. Token authentication is its only protection; images made for platforms that authenticate in front (Kubeflow Notebooks behind Istio) turn it off, so any other path to them is an open shell. Exposed notebooks are routinely hijacked for cryptomining and credential theft.",
    remediation: "Do not disable the token (`--ServerApp.token`/`--IdentityProvider.token`); publish notebooks only through their platform's authenticating gateway (Kubeflow's Istio ingress with its AuthorizationPolicy, JupyterHub's proxy), never with their own LoadBalancer, NodePort, Ingress or Route; restrict ingress with a NetworkPolicy.",
    references: References {
        mitre: &["AML.T0049", "AML.T0050"],
        links: &[
            "https://jupyter-server.readthedocs.io/en/latest/operators/security.html",
            "https://www.kubeflow.org/docs/components/notebooks/",
        ],
        ..References::NONE
    },
};

impl Rule for Jupyter {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if unit.ai.role != Role::Notebook
                || unit.ai.engine == Some(palisade_k8s::ai::Engine::JupyterHub)
            {
                continue;
            }
            let w = ai.workload(cx, u);
            let flag = unit.ai.server.and_then(|i| {
                let c = &w.containers[i];
                Cli::of(c)
                    .flag(&[
                        "--ServerApp.token",
                        "--NotebookApp.token",
                        "--IdentityProvider.token",
                    ])
                    .filter(|(v, _)| v.is_empty())
                    .map(|(_, p)| (c, p))
            });
            let kubeflow = unit.ai.platform == Platform::KubeflowNotebook;
            if flag.is_none() && !kubeflow {
                continue;
            }
            let why = if flag.is_some() {
                "its token authentication is disabled"
            } else {
                "Kubeflow notebook images run without a token and rely on Kubeflow's gateway"
            };
            let mut reported = false;
            for e in &ai.exposures[u] {
                if e.auth.is_some() || e.source_limit.is_some() {
                    continue;
                }
                reported = true;
                report_exposure(
                    out,
                    unit,
                    e,
                    format!(
                        "{} reaches the Jupyter server of {} and {why}: anyone who reaches it runs code in the pod",
                        e.describe,
                        unit.describe()
                    ),
                );
            }
            if let (false, Some((c, p)), false) = (reported, flag, ai.services[u].is_empty()) {
                out.report_container(
                    w.object,
                    c.name,
                    p,
                    format!(
                        "Jupyter in container {:?} runs with its token disabled and Service {:?} selects it: any pod in the cluster can run code in it",
                        c.name, ai.services[u][0].name
                    ),
                );
            }
        }
    }
}
