//! PLS-KA-005: a pod sharing the host's network, PID or IPC namespace was created.
#[allow(clippy::wildcard_imports)]
use super::prelude::*;

pub(crate) struct HostNamespacePod;

static INFO: KaRule = KaRule {
    meta: RuleMeta {
        id: "PLS-KA-005",
        title: "Pod created in a host namespace",
        severity: Severity::High,
        category: "audit-pod-security",
        rationale: "hostNetwork, hostPID and hostIPC let a pod see and reach the node's traffic, processes and shared memory: credentials of other pods and the kubelet are in reach.",
        remediation: "Find who created it; enforce Pod Security `baseline`, which forbids host namespaces.",
        references: References {
            pss: &["baseline:host-namespaces"],
            cis: &["5.2.2", "5.2.3", "5.2.4"],
            mitre: &["T1611"],
            links: &[FALCO_RULES],
            ..References::NONE
        },
    },
    falco: &[
        "Create HostNetwork Pod",
        "Create HostPid Pod",
        "Create HostIPC Pod",
    ],
};

impl Rule for HostNamespacePod {
    fn info(&self) -> &'static KaRule {
        &INFO
    }
    fn check(&self, cx: &EventCx<'_, '_>, _: &mut State, out: &mut Vec<Hit>) {
        let ev = cx.ev;
        if ev.verb != "create" || !ev.complete() || !ev.succeeded() {
            return;
        }
        for (base, spec) in cx.pod_specs() {
            for field in ["hostNetwork", "hostPID", "hostIPC"] {
                if spec.get(field).and_then(Value::as_bool) == Some(true) {
                    out.push(Hit::new(
                        format!("{base}.{field}"),
                        format!(
                            "{} {} created with {field}: true",
                            super::super::kind_of(ev.resource()),
                            cx.object()
                        ),
                    ));
                }
            }
        }
    }
}
