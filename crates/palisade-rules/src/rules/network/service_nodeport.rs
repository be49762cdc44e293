//! PLS-NET-004: Service of type NodePort.
//!
//! What it does: flags Services with `spec.type: NodePort`.
//!
//! Why it matters: a NodePort opens the port on every node's addresses, so
//! the pods behind it are reachable by anyone who can reach any node,
//! bypassing the load balancer and any source restriction it would apply.
//!
//! Example: `type: NodePort` in front of an inference server.
//!
//! Fix: use `ClusterIP` behind an Ingress or Gateway, or a LoadBalancer with
//! `loadBalancerSourceRanges`.

use super::netpol::is_service;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct ServiceNodePort;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-004",
    title: "Service of type NodePort",
    severity: Severity::Low,
    category: "network",
    rationale: "A NodePort Service listens on every node's addresses (ports 30000-32767 by default), so anyone who can reach a node reaches the pods, without the source restrictions, TLS or authentication an Ingress or load balancer would add. On nodes with public addresses the service is on the internet.",
    remediation: "Set `spec.type: ClusterIP` and expose the service through an Ingress or Gateway; if it must be reachable from outside, use `type: LoadBalancer` with `spec.loadBalancerSourceRanges` or an internal load balancer.",
    references: References {
        kube_linter: &["exposed-services"],
        kube_score: &["service-type"],
        links: &["https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport"],
        ..References::NONE
    },
};

impl Rule for ServiceNodePort {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_service(obj) || obj.spec().get("type").and_then(Node::as_str) != Some("NodePort") {
            return;
        }
        let ports: Vec<String> = obj
            .spec()
            .get("ports")
            .map_or(&[][..], Node::items)
            .iter()
            .filter_map(|p| {
                let port = p.get("port").and_then(Node::as_str)?;
                Some(match p.get("nodePort").and_then(Node::as_str) {
                    Some(np) => format!("{port} (node port {np})"),
                    None => port.to_owned(),
                })
            })
            .collect();
        let on = if ports.is_empty() {
            String::new()
        } else {
            format!(" port {}", ports.join(", "))
        };
        out.report(
            obj,
            Path::keys("spec.type"),
            format!(
                "Service \"{}\" is of type NodePort: it exposes{on} on every node's addresses",
                obj.name
            ),
        );
    }
}
