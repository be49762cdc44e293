//! PLS-POD-025: Pod uses a volume type outside the restricted set.
//!
//! What it does: flags volumes whose source is not one of configMap, csi,
//! downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim,
//! projected or secret. `hostPath` is left to PLS-POD-007/008.
//!
//! Why it matters: in-tree volume plugins (nfs, iscsi, rbd, cephfs,
//! glusterfs, flexVolume, gitRepo...) are mounted by the kubelet on the
//! node with the pod's parameters, bypassing the PersistentVolume layer the
//! cluster admin controls.
//!
//! Example: `volumes: [{name: data, nfs: {server: 10.0.0.5, path: /models}}]`.
//!
//! Fix: a PersistentVolumeClaim (with a CSI driver behind it).

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct RestrictedVolumeTypes;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-025",
    title: "Pod uses a volume type outside the restricted set",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "Volume sources other than configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret make the kubelet mount storage on the node with parameters chosen by whoever writes the pod (NFS servers, iSCSI targets, Ceph monitors, FlexVolume drivers), outside the PersistentVolume objects the cluster admin controls. `gitRepo` even runs git on the node and is deprecated for that reason.",
    remediation: "Replace the volume with a `persistentVolumeClaim` bound to a PersistentVolume or StorageClass the cluster admin provides (CSI drivers exist for NFS, Ceph, iSCSI and the cloud disks); replace `gitRepo` with an init container that clones into an `emptyDir`.",
    references: References {
        trivy: &["KSV-0028"],
        pss: &["restricted:volume-types"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
        ..References::NONE
    },
};

/// Volume sources the restricted profile allows (plus `image`, read-only
/// OCI content with no node access).
const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

impl Rule for RestrictedVolumeTypes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (v, vpath) in w.volumes() {
            let name = v.get("name").and_then(Node::as_str).unwrap_or("");
            for e in v.entries() {
                let k = e.key.as_str();
                if k == "name" || k == "hostPath" || ALLOWED.contains(&k) || e.value.is_null() {
                    continue;
                }
                let note = if k == "gitRepo" {
                    " (deprecated: it runs git on the node)"
                } else {
                    ""
                };
                out.report(
                    w.object,
                    vpath.key(k),
                    format!(
                        "volume {name:?} uses the {k} volume type{note}, outside the restricted set"
                    ),
                );
            }
        }
    }
}
