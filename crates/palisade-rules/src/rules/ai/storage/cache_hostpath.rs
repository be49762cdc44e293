//! PLS-STO-004: Model cache on a hostPath volume.
//!
//! What it does: in AI workloads (model servers, training jobs,
//! notebooks, Ray), flags hostPath volumes mounted at a model or cache
//! path (`/mnt/models`, `~/.cache/huggingface`, `~/.ollama`, the folder
//! `HF_HOME`/`OLLAMA_MODELS` name) or whose host path looks like one.
//!
//! Why it matters: every pod on the node that mounts the same host folder
//! shares the weights: one compromised or careless pod swaps the model
//! that the next server loads.
//!
//! Example: `hostPath: {path: /mnt/models/hf-cache}` at
//! `/root/.cache/huggingface`.
//!
//! Fix: a PersistentVolumeClaim (read-only for servers) or an emptyDir
//! filled by a verifying init container.

use super::{is_model_path, volume};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct CacheHostPath;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-004",
    title: "Model cache on a hostPath volume",
    severity: Severity::Medium,
    category: "ai-supply-chain",
    rationale: "A host folder used as a model cache is shared with every pod that mounts it on that node, across namespaces and tenants, and outlives the pods. Any of them (or anyone with node access) can replace weights, tokenizer files or custom code that the next server start loads; caches also keep gated models readable on the node after the pod is gone.",
    remediation: "Keep models in a PersistentVolumeClaim that only the serving namespace binds (mounted `readOnly: true` into servers), or in an `emptyDir` filled at start by an init container that downloads and verifies the model (`palisade model verify`); KServe's storage initializer and modelcars (`oci://`) do this for you.",
    references: References {
        owasp_llm: &["LLM03", "LLM04"],
        mitre: &["AML.T0018", "AML.T0010.003"],
        pss: &["baseline:host-path-volumes"],
        links: &["https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"],
        ..References::NONE
    },
};

impl Rule for CacheHostPath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        if cx.ai().recognised(cx, w).is_none() {
            return;
        }
        for c in &w.containers {
            for m in c.node.list("volumeMounts") {
                let (Some(name), Some(mount)) = (
                    m.get("name").and_then(Node::as_str),
                    m.get("mountPath").and_then(Node::as_str),
                ) else {
                    continue;
                };
                let Some((v, vpath)) = volume(w, name) else {
                    continue;
                };
                let Some(host) = v
                    .get("hostPath")
                    .and_then(|h| h.get("path"))
                    .and_then(Node::as_str)
                else {
                    continue;
                };
                if host.starts_with("/dev") || host.starts_with("/proc") || host.starts_with("/sys")
                {
                    continue;
                }
                if is_model_path(c, mount) || is_model_path(c, host) {
                    out.report_container(
                        w.object,
                        c.name,
                        vpath.keys_from(&["hostPath", "path"]),
                        format!(
                            "container {:?} keeps models at {mount:?} on host folder {host:?}: every pod on the node that mounts it can replace the weights",
                            c.name
                        ),
                    );
                }
            }
        }
    }
}
