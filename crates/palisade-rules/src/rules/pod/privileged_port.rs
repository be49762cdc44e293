//! PLS-POD-027: Container listens on a privileged port.
//!
//! What it does: flags container ports whose `containerPort` is below 1024
//! (init and ephemeral containers included). Pods on the host network are
//! judged too: there the port is the node's own.
//!
//! Why it matters: binding a port below 1024 takes root or
//! `CAP_NET_BIND_SERVICE` (unless the node lowers
//! `net.ipv4.ip_unprivileged_port_start`), so an image that listens on 80
//! or 443 is an image built to run with privileges it should not need.
//!
//! Example: `ports: [{containerPort: 80}]` in an nginx front of a model
//! server.
//!
//! Fix: listen on an unprivileged port (8080, 8443) and map the Service's
//! `port: 80` to it with `targetPort`.

use super::who;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct PrivilegedPort;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-027",
    title: "Container listens on a privileged port",
    severity: Severity::Low,
    category: "pod-security",
    rationale: "Ports below 1024 can only be bound by root or a process holding CAP_NET_BIND_SERVICE (unless the node lowers `net.ipv4.ip_unprivileged_port_start`). A container that listens on one therefore runs as root or keeps a capability it need not have; with `hostNetwork` it also takes a well-known port of the node itself.",
    remediation: "Make the server listen on a port above 1023 (8080, 8443) and keep the well-known port on the Service: `ports: [{port: 80, targetPort: 8080}]`.",
    references: References {
        trivy: &["KSV-0117"],
        kube_linter: &["privileged-ports"],
        links: &[
            "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/",
            "https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service",
        ],
        ..References::NONE
    },
};

impl Rule for PrivilegedPort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let base = c.path.key("ports");
            for (i, p) in c
                .node
                .get("ports")
                .map_or(&[][..], Node::items)
                .iter()
                .enumerate()
            {
                let Some(port) = p
                    .get("containerPort")
                    .and_then(Node::as_i64)
                    .filter(|v| (1..1024).contains(v))
                else {
                    continue;
                };
                out.report_container(
                    w.object,
                    c.name,
                    base.index(i).key("containerPort"),
                    format!("{} listens on privileged port {port}", who(c)),
                );
            }
        }
    }
}
