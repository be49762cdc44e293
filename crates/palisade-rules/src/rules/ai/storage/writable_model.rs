//! PLS-STO-005: Model volume writable by the serving container.
//!
//! What it does: in model servers, flags the server container's mounts at
//! a model path (see PLS-STO-004) whose volume is persistent or shared
//! (PersistentVolumeClaim, NFS, CSI, hostPath, ...) and not mounted
//! `readOnly: true` (neither on the mount nor on the claim). `emptyDir`
//! and projected volumes are per pod and skipped.
//!
//! Why it matters: a compromised server (prompt-driven tool use, a
//! deserialisation bug) can rewrite the weights that every replica and
//! the next restart load.
//!
//! Example: a PVC mounted at `/mnt/models` without `readOnly`.
//!
//! Fix: `readOnly: true` on the mount.

use super::{is_model_path, volume};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;
use palisade_k8s::ai::Role;

pub(crate) struct WritableModel;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-005",
    title: "Model volume writable by the serving container",
    severity: Severity::Medium,
    category: "ai-supply-chain",
    rationale: "A model server only reads its weights. When the volume that holds them is persistent or shared and mounted writable, a compromise of one replica (a deserialisation or path-traversal bug, a tool-using agent, a malicious custom-code model) persists: it can replace the weights or inject code that every other replica and every later restart loads, and the change survives pod deletion.",
    remediation: "Mount model volumes with `readOnly: true` in serving containers (and `persistentVolumeClaim.readOnly: true`); write models only from a separate, verified job or init container.",
    references: References {
        owasp_llm: &["LLM04", "LLM03"],
        mitre: &["AML.T0018"],
        links: &["https://kubernetes.io/docs/concepts/storage/volumes/#persistentvolumeclaim"],
        ..References::NONE
    },
};

/// Volume types that outlive the pod or are shared.
const SHARED: &[&str] = &[
    "persistentVolumeClaim",
    "hostPath",
    "nfs",
    "csi",
    "ephemeral",
    "cephfs",
    "glusterfs",
    "iscsi",
    "azureFile",
    "awsElasticBlockStore",
    "gcePersistentDisk",
];

impl Rule for WritableModel {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some(ai) = cx.ai().recognised(cx, w) else {
            return;
        };
        if ai.role != Role::Inference {
            return;
        }
        let Some(i) = ai.server else { return };
        let c = &w.containers[i];
        for (j, m) in c.node.list("volumeMounts").iter().enumerate() {
            let (Some(name), Some(mount)) = (
                m.get("name").and_then(Node::as_str),
                m.get("mountPath").and_then(Node::as_str),
            ) else {
                continue;
            };
            if m.get("readOnly").and_then(Node::as_bool) == Some(true) || !is_model_path(c, mount) {
                continue;
            }
            let Some((v, _)) = volume(w, name) else {
                continue;
            };
            let Some(kind) = SHARED.iter().find(|k| v.get(k).is_some_and(Node::is_map)) else {
                continue;
            };
            if v.get(kind)
                .and_then(|s| s.get("readOnly"))
                .and_then(Node::as_bool)
                == Some(true)
            {
                continue;
            }
            out.report_container(
                w.object,
                c.name,
                c.path.key("volumeMounts").index(j).key("readOnly"),
                format!(
                    "serving container {:?} mounts {kind} volume {name:?} at {mount:?} writable: a compromised server can change the weights every replica loads",
                    c.name
                ),
            );
        }
    }
}
