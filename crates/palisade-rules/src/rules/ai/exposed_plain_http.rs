//! PLS-AI-003: Inference endpoint served over plain HTTP.
//!
//! What it does: reports paths from outside the cluster to a model server
//! that carry prompts in clear: a Gateway API route whose Gateway listeners
//! are `HTTP`, an OpenShift Route without `tls`, and a public LoadBalancer,
//! NodePort or KubeRay head Service straight to a server that does not
//! terminate TLS itself (vLLM and SGLang `--ssl-certfile`, llama.cpp
//! `--ssl-cert-file`). Ingresses and IngressRoutes without TLS are reported
//! by PLS-NET-007 and PLS-ING-001.
//!
//! Why it matters: prompts, completions and API keys cross the network in
//! clear and can be read or altered on the way.
//!
//! Example: `type: LoadBalancer` in front of Triton's HTTP port.
//!
//! Fix: terminate TLS on the path (an HTTPS listener, a Route with
//! `tls.termination`) or in the server.

use super::model::{Via, is_serving, report_exposure};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::ai::Cli;

pub(crate) struct ExposedPlainHttp;

static META: RuleMeta = RuleMeta {
    id: "PLS-AI-003",
    title: "Inference endpoint served over plain HTTP",
    severity: Severity::Medium,
    category: "ai-serving",
    rationale: "A path from outside the cluster without TLS carries prompts, completions (often with personal or confidential data) and bearer API keys in clear text, readable and modifiable by anyone on the network between client and cluster. Model servers speak plain HTTP unless given a certificate, so a layer-4 Service in front of them publishes plain HTTP.",
    remediation: "Terminate TLS on the path: an `HTTPS` listener with `certificateRefs` on the Gateway, `spec.tls.termination: edge` (or `reencrypt`) on the OpenShift Route, or an Ingress/IngressRoute with TLS in front of a `ClusterIP` Service instead of a LoadBalancer. If the server must be reached directly, give it a certificate (vLLM `--ssl-certfile`/`--ssl-keyfile`).",
    references: References {
        owasp_llm: &["LLM02"],
        mitre: &["AML.T0024"],
        links: &[
            "https://gateway-api.sigs.k8s.io/guides/tls/",
            "https://docs.vllm.ai/en/latest/cli/serve.html",
        ],
        ..References::NONE
    },
};

impl Rule for ExposedPlainHttp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        for (u, unit) in ai.units.iter().enumerate() {
            if !is_serving(unit) {
                continue;
            }
            let w = ai.workload(cx, u);
            let own_tls = unit.ai.server.is_some_and(|i| {
                Cli::of(&w.containers[i])
                    .flag(&["--ssl-certfile", "--ssl-cert-file", "--ssl_certfile"])
                    .is_some_and(|(v, _)| !v.is_empty())
            });
            for e in &ai.exposures[u] {
                let plain = match e.via {
                    Via::GatewayRoute | Via::OpenShiftRoute => e.tls == Some(false),
                    Via::LoadBalancer | Via::NodePort | Via::RayHead => !own_tls,
                    Via::Ingress | Via::IngressRoute | Via::KServe => false,
                };
                if plain {
                    report_exposure(
                        out,
                        unit,
                        e,
                        format!(
                            "{} serves {} over plain HTTP: prompts, completions and keys cross the network in clear",
                            e.describe,
                            unit.describe()
                        ),
                    );
                }
            }
        }
    }
}
