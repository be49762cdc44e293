//! PLS-POD-028: hostPath volume mounted writable.
//!
//! What it does: flags every `volumeMounts` entry that mounts a `hostPath`
//! volume without `readOnly: true` (init and ephemeral containers
//! included). The volume itself is PLS-POD-007; this rule is about the
//! write access. Runtime sockets and their directories are left to the
//! critical PLS-POD-008, which already says how they are mounted.
//!
//! Why it matters: a writable host directory lets a compromised container
//! persist on the node: a cron entry, a systemd unit, a static pod manifest
//! or a poisoned model cache shared with the next tenant.
//!
//! Example: `volumeMounts: [{name: hf-cache, mountPath: /root/.cache}]` over
//! `hostPath: {path: /mnt/models}`.
//!
//! Fix: add `readOnly: true` to the mount, or replace the hostPath volume.

use super::{runtime_socket, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct WritableHostMount;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-028",
    title: "hostPath volume mounted writable",
    severity: Severity::High,
    category: "pod-security",
    rationale: "A hostPath mount without `readOnly: true` lets the container write to the node's own filesystem. An attacker in the container can persist on the node (a cron job, a systemd unit, a static pod manifest under /etc/kubernetes/manifests), tamper with other pods' data, or poison a model cache that the next pod on the node loads.",
    remediation: "Set `readOnly: true` on every `volumeMounts` entry of a hostPath volume, or replace the volume with an emptyDir, a PersistentVolumeClaim or a CSI driver.",
    references: References {
        kubescape: &["C-0045"],
        kube_linter: &["writable-host-mount"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"],
        ..References::NONE
    },
};

impl Rule for WritableHostMount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let host_paths: Vec<(&str, &str)> = w
            .volumes()
            .filter_map(|(v, _)| {
                let hp = v.get("hostPath").filter(|n| n.is_map())?;
                let name = v.get("name").and_then(Node::as_str)?;
                let path = hp.get("path").and_then(Node::as_str).unwrap_or("");
                if runtime_socket::exposes(path).is_some() {
                    return None;
                }
                Some((name, path))
            })
            .collect();
        if host_paths.is_empty() {
            return;
        }
        for c in &w.containers {
            let base = c.path.key("volumeMounts");
            for (i, m) in c
                .node
                .get("volumeMounts")
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let Some(name) = m.get("name").and_then(Node::as_str) else {
                    continue;
                };
                let Some((_, host)) = host_paths.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                if m.get("readOnly").and_then(Node::as_bool) == Some(true) {
                    continue;
                }
                let at = m
                    .get("mountPath")
                    .and_then(Node::as_str)
                    .map(|p| format!(" at {p:?}"))
                    .unwrap_or_default();
                out.report_container(
                    w.object,
                    c.name,
                    base.index(i).key("readOnly"),
                    format!(
                        "{} mounts host path {host:?} (volume {name:?}){at} writable",
                        who(c)
                    ),
                );
            }
        }
    }
}
