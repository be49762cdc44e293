//! PLS-STO-006: ReadWriteMany model storage shared across namespaces.
//!
//! What it does: finds model storage that several namespaces mount:
//! `ReadWriteMany` PersistentVolumeClaims in different namespaces bound to
//! the same PersistentVolume (`spec.volumeName`), and inline NFS volumes
//! (same server and path) used by AI workloads of different namespaces.
//! A claim counts as model storage when an AI workload mounts it or its
//! name says so (model, weights, cache, hf).
//!
//! Why it matters: a writable share across namespaces is a path from one
//! tenant to another's weights: tenant A replaces the model tenant B
//! serves.
//!
//! Example: PVCs `models` in `team-a` and `team-b`, both
//! `volumeName: nfs-models`, `ReadWriteMany`.
//!
//! Fix: one claim per tenant; share read-only (`ReadOnlyMany`) if at all.

use super::is_model_path;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;
use std::collections::BTreeMap;

pub(crate) struct SharedClaim;

static META: RuleMeta = RuleMeta {
    id: "PLS-STO-006",
    title: "ReadWriteMany model storage shared across namespaces",
    severity: Severity::Medium,
    category: "ai-supply-chain",
    rationale: "Namespaces are the tenancy boundary of Kubernetes, but a volume bound into several of them with `ReadWriteMany` (or the same NFS export mounted inline) crosses it: any pod of any of those namespaces can rewrite the model files the others load, plant code for `--trust-remote-code` models, or read fine-tuned weights that belong to another team.",
    remediation: "Give each tenant its own claim and volume; where a base model must be shared, publish it read-only (`accessModes: [ReadOnlyMany]`, `readOnly: true` mounts, an NFS export with `ro`) from a storage namespace that tenants cannot write to, or distribute it as an OCI modelcar.",
    references: References {
        owasp_llm: &["LLM03", "LLM04"],
        mitre: &["AML.T0018"],
        links: &["https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes"],
        ..References::NONE
    },
};

fn is_model_name(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    ["model", "weight", "cache", "hf", "llm", "checkpoint"]
        .iter()
        .any(|k| n.contains(k))
}

impl Rule for SharedClaim {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        // Claims AI workloads mount, per namespace.
        let mut ai_claims: BTreeMap<(&str, &str), ()> = BTreeMap::new();
        // share key -> (namespace, object, path)
        let mut shares: BTreeMap<String, Vec<(&str, &Object, Path)>> = BTreeMap::new();
        for w in cx.all_workloads() {
            if cx.ai().recognised(cx, w).is_none() {
                continue;
            }
            let ns = w.object.effective_namespace();
            for (v, p) in w.volumes() {
                if let Some(c) = v
                    .get("persistentVolumeClaim")
                    .and_then(|c| c.get("claimName"))
                    .and_then(Node::as_str)
                {
                    ai_claims.insert((ns, c), ());
                }
                if let Some(nfs) = v.get("nfs") {
                    let server = nfs.get("server").and_then(Node::as_str).unwrap_or("");
                    let path = nfs.get("path").and_then(Node::as_str).unwrap_or("");
                    if nfs.get("readOnly").and_then(Node::as_bool) == Some(true) {
                        continue;
                    }
                    let mounted_as_model = w.containers.iter().any(|c| {
                        c.node.list("volumeMounts").iter().any(|m| {
                            m.get("name") == v.get("name")
                                && m.get("mountPath")
                                    .and_then(Node::as_str)
                                    .is_some_and(|mp| is_model_path(c, mp))
                        })
                    });
                    if mounted_as_model || is_model_name(path) {
                        shares
                            .entry(format!("NFS export {server}:{path}"))
                            .or_default()
                            .push((ns, w.object, p.key("nfs")));
                    }
                }
            }
        }
        for pvc in cx
            .of_kind("PersistentVolumeClaim")
            .filter(|o| o.group().is_empty())
        {
            let spec = pvc.spec();
            let rwx = spec
                .list("accessModes")
                .iter()
                .any(|m| m.as_str() == Some("ReadWriteMany"));
            let Some(vol) = spec.get("volumeName").and_then(Node::as_str) else {
                continue;
            };
            let ns = pvc.effective_namespace();
            if rwx
                && (ai_claims.contains_key(&(ns, pvc.name.as_str()))
                    || is_model_name(&pvc.name)
                    || is_model_name(vol))
            {
                shares
                    .entry(format!("PersistentVolume {vol:?}"))
                    .or_default()
                    .push((ns, pvc, Path::keys("spec.volumeName")));
            }
        }
        for (what, users) in shares {
            let mut namespaces: Vec<&str> = users.iter().map(|u| u.0).collect();
            namespaces.sort_unstable();
            namespaces.dedup();
            if namespaces.len() < 2 {
                continue;
            }
            for (ns, obj, path) in &users {
                let others: Vec<&str> = namespaces.iter().copied().filter(|n| n != ns).collect();
                out.report_keyed(
                    obj,
                    path.clone(),
                    &what,
                    format!(
                        "{} {ns}/{} shares writable model storage ({what}) with namespace {}: their pods can change each other's models",
                        obj.kind,
                        obj.name,
                        others.join(", ")
                    ),
                );
            }
        }
    }
}
