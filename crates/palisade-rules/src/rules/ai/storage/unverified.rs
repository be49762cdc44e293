//! PLS-STO-008: Model served without a verification step.
//!
//! What it does: reports model servers (not templates such as
//! ServingRuntime) whose pod has no step that verifies the model before it
//! is served: an init container running `palisade model verify` (or the
//! OpenSSF `model_signing verify` / `model-signing verify` CLI), or the
//! sigstore model-validation operator's pod label
//! `validation.ml.sigstore.dev/ml` (its webhook injects the verifying init
//! container).
//!
//! Why it matters: nothing else checks that the weights on disk are the
//! ones their publisher signed.
//!
//! Example: a vLLM Deployment loading `/models/llama3` with no init
//! container.
//!
//! Fix: add a verifying init container or the model-validation label.

use super::super::model::is_serving;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::ai::Cli;
use palisade_k8s::{ContainerKind, Workload};

pub(crate) struct Unverified;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-008",
    title: "Model served without a verification step",
    severity: Severity::Low,
    category: "ai-supply-chain",
    rationale: "Model files pass through many hands (hub, mirror bucket, PVC, node cache) and any of them can swap weights or add code; TLS and access control protect the transport and the storage, not the content. Signing models (OpenSSF model signing, sigstore) and verifying the signature in the pod before the server starts is the only way to know the served model is the published one.",
    remediation: "Verify before serving: an init container that runs `palisade model verify` (or `model_signing verify`) on the model directory against the publisher's identity or key and fails the pod on mismatch; or install the sigstore model-validation operator, create a `ModelValidation` and label the pod template `validation.ml.sigstore.dev/ml: <name>`.",
    references: References {
        owasp_llm: &["LLM03", "LLM04"],
        mitre: &["AML.T0010.003", "AML.T0018"],
        links: &[
            "https://github.com/sigstore/model-transparency",
            "https://github.com/sigstore/model-validation-operator",
        ],
        ..References::NONE
    },
};

/// Whether a container's command line verifies a model.
pub(crate) fn verifies(c: &palisade_k8s::Container<'_>) -> bool {
    let words = Cli::of(c).words();
    let image = palisade_k8s::ai::image_repository(c.image().unwrap_or(""));
    let palisade_image = image.rsplit('/').next() == Some("palisade");
    if palisade_image && words.len() >= 2 && words[0] == "model" && words[1] == "verify" {
        return true;
    }
    words.windows(3).any(|p| {
        p[0].rsplit('/').next().is_some_and(|b| b == "palisade")
            && p[1] == "model"
            && p[2] == "verify"
    }) || words.windows(2).any(|p| {
        p[0].rsplit('/').next().is_some_and(|b| {
            b == "model_signing" || b == "model-signing" || b == "model_signing.py"
        }) && p[1] == "verify"
    })
}

impl Rule for Unverified {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let ai = cx.ai();
        let Some(u) = ai.unit_of(cx, w) else { return };
        let unit = &ai.units[u];
        if !is_serving(unit) {
            return;
        }
        if unit.labels.contains_key("validation.ml.sigstore.dev/ml")
            || unit.obj.label("validation.ml.sigstore.dev/ml").is_some()
        {
            return;
        }
        if w.containers
            .iter()
            .any(|c| c.kind == ContainerKind::Init && verifies(c))
        {
            return;
        }
        out.report(
            w.object,
            w.path("initContainers"),
            format!(
                "{} loads its model without verifying it: no init container runs `palisade model verify` and the pod has no validation.ml.sigstore.dev/ml label",
                unit.describe()
            ),
        );
    }
}
