//! PLS-KA-006: a pod mounting a sensitive host path was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct SensitiveMountPod;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-006",
        title: "Pod created with a sensitive host mount",
        severity: Severity::High,
        category: "audit-pod-security",
        rationale: "A hostPath volume of /, /etc, /proc, the kubelet's directory or a container runtime socket hands the node to the pod.",
        remediation: "Find who created it; forbid hostPath with Pod Security `baseline` or an admission policy.",
        references: References {
            pss: &["baseline:hostpath-volumes"],
            mitre: &["T1611"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &["Create Sensitive Mount Pod"],
};

/// Falco's `sensitive_vol_mount` list, plus the usual runtime sockets.
const SENSITIVE: [&str; 15] = [
    "/",
    "/proc",
    "/etc",
    "/root",
    "/home/admin",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/crio/crio.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/lib/kubelet",
    "/var/lib/kubelet/pki",
    "/etc/kubernetes",
    "/etc/kubernetes/manifests",
    "/var/run",
];

impl Rule for SensitiveMountPod {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.verb != "create" || !ev.complete() || !ev.succeeded() {
            return;
        }
        for (base, spec) in cx.pod_specs() {
            let Some(vols) = spec.get("volumes").and_then(Value::as_array) else {
                continue;
            };
            for (i, v) in vols.iter().enumerate() {
                let Some(p) = v.pointer("/hostPath/path").and_then(Value::as_str) else {
                    continue;
                };
                let norm = if p.len() > 1 {
                    p.trim_end_matches('/')
                } else {
                    p
                };
                if SENSITIVE.contains(&norm) {
                    out.push(Hit::new(
                        format!("{base}.volumes[{i}].hostPath.path"),
                        format!(
                            "{} {} created mounting host path {p:?} (volume {:?})",
                            super::super::kind_of(ev.resource()),
                            cx.object(),
                            name_of(v)
                        ),
                    ));
                }
            }
        }
    }
}
