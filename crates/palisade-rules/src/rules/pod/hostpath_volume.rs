//! PLS-POD-007: Pod mounts a hostPath volume.
//!
//! What it does: flags every `hostPath` volume of a pod template, whether
//! or not a container mounts it yet (an ephemeral debug container can mount
//! any pod volume later). Runtime sockets and the directories holding them
//! are left to the critical PLS-POD-008.
//!
//! Why it matters: a hostPath volume is a window onto the node's
//! filesystem; writable, it is a way to plant files the node executes or
//! trusts, and even read-only it leaks logs, keys and other pods' data.
//!
//! Example: `volumes: [{name: logs, hostPath: {path: /var/log}}]`.
//!
//! Fix: use an emptyDir, a PersistentVolumeClaim, a projected volume or a
//! CSI driver.

use super::{mounts_of, normalize_host_path, runtime_socket};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct HostPathVolume;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-007",
    title: "Pod mounts a hostPath volume",
    severity: Severity::High,
    category: "pod-security",
    rationale: "A hostPath volume gives the pod a directory or file of the node itself. Writable, it lets a compromised container plant files the node executes or trusts (systemd units, kubelet config, cron, other pods' volumes); read-only, it still exposes logs, keys and the data of other pods on the node. Model caches on hostPath are shared across tenants.",
    remediation: "Replace the `hostPath` volume with an `emptyDir`, a PersistentVolumeClaim, a `projected`/`configMap`/`secret` volume, or a CSI driver (for example a model cache through a ReadOnlyMany PVC). Node agents that truly need the host keep a dedicated namespace with an explicit exception, and mount read-only with `readOnly: true`.",
    references: References {
        trivy: &["KSV-0023"],
        kubescape: &["C-0048"],
        polaris: &["hostPathSet"],
        pss: &["baseline:hostpath-volumes"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"],
        kube_linter: &["sensitive-host-mounts"],
        ..References::NONE
    },
};

/// Host directories whose exposure is worth naming in the message.
const SENSITIVE: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/lib",
    "/usr",
    "/root",
    "/home",
    "/var/lib/kubelet",
    "/etc/kubernetes",
    "/var/lib/etcd",
];

impl Rule for HostPathVolume {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (v, vpath) in w.volumes() {
            let Some(hp) = v.get("hostPath").filter(|n| n.is_map()) else {
                continue;
            };
            let raw = hp.get("path").and_then(Node::as_str);
            if raw.is_some_and(|p| runtime_socket::exposes(p).is_some()) {
                continue;
            }
            let name = v.get("name").and_then(Node::as_str).unwrap_or("");
            let (path, what) = match raw {
                Some(p) => {
                    let norm = normalize_host_path(p);
                    let note = if SENSITIVE.contains(&norm.as_str()) {
                        " (a sensitive node directory)"
                    } else {
                        ""
                    };
                    (
                        vpath.keys_from(&["hostPath", "path"]),
                        format!("host path {p:?}{note}"),
                    )
                }
                None => (vpath.key("hostPath"), String::from("a host path")),
            };
            out.report(
                w.object,
                path,
                format!("volume {name:?} mounts {what}{}", mounts_of(w, name)),
            );
        }
    }
}
