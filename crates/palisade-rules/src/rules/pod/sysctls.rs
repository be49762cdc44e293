//! PLS-POD-022: Pod sets unsafe sysctls.
//!
//! What it does: flags each `spec.securityContext.sysctls[]` entry outside
//! the Pod Security Standards safe set. Names written with `/` separators
//! are compared in their dotted form, as the kubelet normalizes them.
//!
//! Why it matters: sysctls outside the safe set are either not namespaced
//! (they change the whole node) or not isolated between pods, e.g.
//! `kernel.msgmax`, `net.core.somaxconn`, `vm.*`.
//!
//! Example: `sysctls: [{name: kernel.msgmax, value: "65536"}]`.
//!
//! Fix: keep to the safe set; tune the node itself for the rest.

use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct UnsafeSysctls;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-022",
    title: "Pod sets unsafe sysctls",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "Only a small set of sysctls is both namespaced and isolated between pods; the rest change kernel behaviour for the whole node or for every pod sharing it (message queues, shared memory limits, connection backlogs, memory overcommit). The kubelet refuses them unless `--allowed-unsafe-sysctls` lists them, and then one pod can degrade or destabilise its neighbours.",
    remediation: "Remove sysctls outside the safe set from `spec.securityContext.sysctls` (safe: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem, net.ipv4.tcp_wmem). Tune the node (node pool configuration, a tuning DaemonSet owned by the platform team) for the others.",
    references: References {
        trivy: &["KSV-0026"],
        kube_linter: &["unsafe-sysctls"],
        pss: &["baseline:sysctls"],
        links: &["https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/"],
        ..References::NONE
    },
};

/// The Pod Security Standards safe sysctls (Kubernetes 1.32).
const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// A sysctl name in dotted form: when it uses `/` as the separator, `/` and
/// `.` swap (`net/ipv4/conf/eth0.100/rp_filter` →
/// `net.ipv4.conf.eth0/100.rp_filter`), as the kubelet does.
fn normalize(name: &str) -> String {
    let first_sep = name.find(['.', '/']);
    match first_sep.map(|i| &name[i..=i]) {
        Some("/") => name
            .chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                o => o,
            })
            .collect(),
        _ => name.to_owned(),
    }
}

impl Rule for UnsafeSysctls {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        let Some((list, path)) = w.pod_sc("sysctls") else {
            return;
        };
        for (i, s) in list.items().iter().enumerate() {
            let Some(name) = s.get("name").and_then(Node::as_str) else {
                continue;
            };
            if SAFE.contains(&normalize(name).as_str()) {
                continue;
            }
            out.report(
                w.object,
                path.index(i).key("name"),
                format!("pod sets sysctl {name:?}, which is outside the safe set"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn slash_separated_sysctls_are_normalized() {
        assert_eq!(
            normalize("kernel/shm_rmid_forced"),
            "kernel.shm_rmid_forced"
        );
        assert_eq!(
            normalize("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter"
        );
        assert_eq!(
            normalize("net.ipv4.tcp_syncookies"),
            "net.ipv4.tcp_syncookies"
        );
    }
}
