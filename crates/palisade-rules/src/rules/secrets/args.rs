//! PLS-SEC-005: Secret value on a container command line.
//!
//! What it does: flags `command` and `args` elements (init and ephemeral
//! containers included) that hold a credential a format detector recognizes
//! (`--api-key=sk-...`, `curl -H "Authorization: Bearer ..."`, a database
//! URL with a password), or a literal value for a secret-named flag or
//! variable (`--hf-token VALUE`, `--password=...`, `DB_PASSWORD=... ./run`).
//! `$(VAR)` expansions and placeholders are fine.
//!
//! Why it matters: a command line is stored in the pod spec and is visible
//! to every process on the node through `/proc/<pid>/cmdline`, in `ps`
//! output and in many monitoring tools.
//!
//! Example: `args: ["--model", "meta-llama/Llama-3-8B", "--api-key", "sk-..."]`.
//!
//! Fix: pass the value through an environment variable from a Secret and
//! reference it as `$(API_KEY)`, or read it from a mounted file.

use super::scan;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct ArgsSecret;

static META: RuleMeta = RuleMeta {
    id: "PLS-SEC-005",
    title: "Secret value on a container command line",
    severity: Severity::High,
    category: "secrets",
    rationale: "Container `command` and `args` are stored in plain text in the workload object and become the process command line, which any process on the node can read from `/proc/<pid>/cmdline` and which `ps`, crash reports and monitoring agents record. Model servers often take `--api-key` or a token flag, inviting a literal there.",
    remediation: "Put the credential in a Secret, expose it as an environment variable (`env[].valueFrom.secretKeyRef`) and reference it on the command line as `$(API_KEY)`, or pass a file path (`--api-key-file /var/run/secrets/...`) to a mounted Secret. Rotate the exposed credential.",
    references: References {
        mitre: &["T1552"],
        links: &[
            "https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#use-environment-variables-to-define-arguments",
        ],
        ..References::NONE
    },
};

impl Rule for ArgsSecret {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for f in scan::container_args(w) {
            let container = f.container.as_deref().unwrap_or("");
            out.report_container(
                w.object,
                container,
                f.path,
                format!(
                    "container {container:?} passes a secret on its command line in {}: {}",
                    f.label,
                    scan::describe(&f.hits)
                ),
            );
        }
    }
}
