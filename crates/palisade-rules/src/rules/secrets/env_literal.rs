//! PLS-SEC-001: Secret value in a container environment variable.
//!
//! What it does: flags `env[].value` literals (init and ephemeral containers
//! included) that a format detector recognizes as a credential (AWS, GCP,
//! Azure, OpenAI, Anthropic, Hugging Face, GitHub, GitLab, Slack, Stripe
//! tokens, private keys, JWTs, URLs with passwords), or whose variable name
//! says secret (`HF_TOKEN`, `DB_PASSWORD`, `OPENAI_API_KEY`) and whose value
//! is not a placeholder, reference or `$(VAR)` expansion.
//!
//! Why it matters: a literal in the pod spec is stored unencrypted in every
//! copy of the manifest (Git, CI logs, Helm release records) and readable by
//! anyone who can `get` the workload, which is far more people than can read
//! Secrets.
//!
//! Example: `env: [{name: HF_TOKEN, value: hf_...}]`.
//!
//! Fix: move the value into a Secret and reference it with
//! `valueFrom.secretKeyRef` (or mount it as a file).

use super::scan;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct EnvLiteral;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-001",
    title: "Secret value in a container environment variable",
    severity: Severity::High,
    category: "secrets",
    rationale: "A credential written as an `env[].value` literal is stored in plain text in the workload object, in every copy of the manifest (Git history, CI logs, Helm release records) and in `kubectl describe` output, and is readable by anyone allowed to read Deployments, a much wider group than those allowed to read Secrets. Model servers are a common case: `HF_TOKEN`, `OPENAI_API_KEY` and database URLs pasted into vLLM or TGI manifests.",
    remediation: "Store the value in a Secret (or an external secret store synced by External Secrets / CSI Secrets Store) and reference it with `env[].valueFrom.secretKeyRef: {name, key}`, or better mount it as a file; then rotate the exposed credential, since it is already in the manifest's history.",
    references: References {
        kubescape: &["C-0012"],
        polaris: &["sensitiveContainerEnvVar"],
        kube_linter: &["env-var-secret"],
        mitre: &["T1552"],
        links: &[
            "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
        ],
        ..References::NONE
    },
};

impl Rule for EnvLiteral {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for f in scan::env_literals(w) {
            let container = f.container.as_deref().unwrap_or("");
            out.report_container(
                w.object,
                container,
                f.path,
                format!(
                    "container {container:?} sets env {} to a literal {}",
                    f.label,
                    scan::describe(&f.hits)
                ),
            );
        }
    }
}
