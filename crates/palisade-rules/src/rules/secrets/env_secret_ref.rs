//! PLS-SEC-007: Secret exposed as environment variables.
//!
//! What it does: flags containers (init and ephemeral included) that read
//! Secret values into environment variables, through
//! `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef`. One finding per
//! container, naming the variables and Secrets.
//!
//! Why it matters: environment variables leak more easily than files: they
//! are inherited by every child process, dumped by crash handlers and debug
//! endpoints, printed by `env` in support sessions, and cannot be rotated
//! without a restart. CIS 5.4.1 prefers Secrets mounted as files.
//!
//! Example: `env: [{name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hf, key: token}}}]`.
//!
//! Fix: mount the Secret as a volume and read the file (many tools accept
//! `*_FILE` variables or `--token-file` flags).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct EnvSecretRef;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-007",
    title: "Secret exposed as environment variables",
    severity: Severity::Low,
    category: "secrets",
    rationale: "Secrets passed as environment variables are inherited by every child process, captured by crash reporters, debug endpoints and `env` dumps, and cannot be rotated without restarting the pod; mounted files avoid all of that and are updated in place. The CIS Kubernetes Benchmark (5.4.1) prefers Secrets as files.",
    remediation: "Mount the Secret as a volume (`volumes[].secret`, `volumeMounts[].readOnly: true`) and point the application at the file (for example `HF_TOKEN_PATH`, `*_FILE` variables or a `--token-file` flag) instead of `env[].valueFrom.secretKeyRef` or `envFrom[].secretRef`.",
    references: References {
        kubescape: &["C-0207"],
        checkov: &["CKV_K8S_35"],
        cis: &["5.4.1"],
        links: &["https://kubernetes.io/docs/concepts/security/secrets-good-practices/"],
        kube_linter: &["read-secret-from-env-var"],
        ..References::NONE
    },
};

impl Rule for EnvSecretRef {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let mut uses = Vec::new();
            let mut first = None;
            for (i, e) in c.get("env").map_or(&[][..], Node::items).iter().enumerate() {
                let Some(r) = e.at(&["valueFrom", "secretKeyRef"]).filter(|r| r.is_map()) else {
                    continue;
                };
                let field = |k: &str| r.get(k).and_then(Node::as_str).unwrap_or("?");
                let name = e.get("name").and_then(Node::as_str).unwrap_or("?");
                uses.push(format!(
                    "{name} (secretKeyRef {}/{})",
                    field("name"),
                    field("key")
                ));
                first.get_or_insert_with(|| {
                    c.path
                        .key("env")
                        .index(i)
                        .keys_from(&["valueFrom", "secretKeyRef"])
                });
            }
            for (i, e) in c
                .get("envFrom")
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let Some(r) = e.get("secretRef").filter(|r| r.is_map()) else {
                    continue;
                };
                let name = r.get("name").and_then(Node::as_str).unwrap_or("?");
                uses.push(format!("envFrom secretRef {name}"));
                first.get_or_insert_with(|| c.path.key("envFrom").index(i).key("secretRef"));
            }
            if let Some(path) = first {
                out.report_container(
                    w.object,
                    c.name,
                    path,
                    format!(
                        "container {:?} reads Secrets into environment variables: {}; mount them as files instead",
                        c.name,
                        uses.join(", ")
                    ),
                );
            }
        }
    }
}
