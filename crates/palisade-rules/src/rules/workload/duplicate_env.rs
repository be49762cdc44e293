//! PLS-WL-020: Environment variable set twice.
//!
//! What it does: flags a container `env` entry whose `name` an earlier
//! entry of the same container already used (init and ephemeral containers
//! included).
//!
//! Why it matters: the last entry silently wins, so the value a reviewer
//! reads first is not the one the process gets; `kubectl apply` and
//! strategic merge patches also mishandle duplicate keys, dropping or
//! resurrecting values between applies.
//!
//! Example: `HF_HOME` set to `/cache` near the top and to `/tmp` further
//! down.
//!
//! Fix: keep one entry per name.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct DuplicateEnv;

static META: RuleMeta = RuleMeta {
    id: "PLS-WL-020",
    title: "Environment variable set twice",
    severity: Severity::Low,
    category: "workloads",
    rationale: "When a container lists the same environment variable twice, the last entry wins without a warning: the value a reviewer reads first is not the one the process gets. Server-side and strategic-merge apply key `env` by name, so duplicates also make later applies drop or resurrect values.",
    remediation: "Keep a single `env` entry per `name` in each container.",
    references: References {
        kube_linter: &["duplicate-env-var"],
        kube_score: &["environment-variable-key-duplication"],
        links: &[
            "https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/",
        ],
        ..References::NONE
    },
};

impl Rule for DuplicateEnv {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let env = c.node.list("env");
            let base = c.path.key("env");
            for (i, e) in env.iter().enumerate() {
                let Some(name) = e.get("name").and_then(Node::as_str) else {
                    continue;
                };
                let Some(first) = env[..i]
                    .iter()
                    .position(|p| p.get("name").and_then(Node::as_str) == Some(name))
                else {
                    continue;
                };
                out.report_container(
                    w.object,
                    c.name,
                    base.index(i).key("name"),
                    format!(
                        "container {:?} sets environment variable {name:?} again (first at env[{first}]); the last one wins",
                        c.name
                    ),
                );
            }
        }
    }
}
