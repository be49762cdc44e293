//! PLS-NET-010: Container exposes an SSH port.
//!
//! What it does: flags TCP container ports 22 and 2222 (the usual SSH
//! ports), and Services that publish port 22 or 2222.
//!
//! Why it matters: an SSH server in a container is a second way in that
//! bypasses `kubectl exec` and its RBAC and audit trail, usually with
//! long-lived keys or passwords; exposed by a Service it is a target for
//! credential brute force.
//!
//! Example: a notebook or training image that starts `sshd` for remote
//! debugging.
//!
//! Fix: remove the SSH server; use `kubectl exec` or `kubectl debug`.

use super::netpol::is_service;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::{Object, Workload};

pub(crate) struct SshPort;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-010",
    title: "SSH port exposed",
    severity: Severity::Medium,
    category: "network",
    rationale: "An SSH server inside a container is a way in that bypasses `kubectl exec`, its RBAC checks and its audit trail, usually with long-lived keys or passwords baked into the image or a Secret. Published by a Service, it invites credential brute force; inside the cluster, it is a lateral-movement path.",
    remediation: "Remove the SSH server from the image and the port from the pod and Service; use `kubectl exec` or `kubectl debug` (audited, RBAC-controlled) for interactive access.",
    references: References {
        kubescape: &["C-0042"],
        kube_linter: &["ssh-port"],
        mitre: &["T1021.004"],
        links: &["https://kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/"],
        ..References::NONE
    },
};

const SSH_PORTS: &[i64] = &[22, 2222];

fn is_tcp(p: &Node) -> bool {
    p.get("protocol")
        .and_then(Node::as_str)
        .is_none_or(|s| s.eq_ignore_ascii_case("TCP"))
}

impl Rule for SshPort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for c in &w.containers {
            let base = c.path.key("ports");
            for (i, p) in c.node.list("ports").iter().enumerate() {
                let Some(port) = p
                    .get("containerPort")
                    .and_then(Node::as_i64)
                    .filter(|v| SSH_PORTS.contains(v))
                else {
                    continue;
                };
                if !is_tcp(p) {
                    continue;
                }
                out.report_container(
                    w.object,
                    c.name,
                    base.index(i).key("containerPort"),
                    format!("container {:?} exposes SSH port {port}", c.name),
                );
            }
        }
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_service(obj) {
            return;
        }
        let base = Path::keys("spec.ports");
        for (i, p) in obj.spec().list("ports").iter().enumerate() {
            let Some(port) = p
                .get("port")
                .and_then(Node::as_i64)
                .filter(|v| SSH_PORTS.contains(v))
            else {
                continue;
            };
            if !is_tcp(p) {
                continue;
            }
            out.report(
                obj,
                base.index(i).key("port"),
                format!("Service {:?} publishes SSH port {port}", obj.name),
            );
        }
    }
}
