//! PLS-NET-006: Service sets externalIPs.
//!
//! What it does: flags Services with a non-empty `spec.externalIPs`.
//!
//! Why it matters: kube-proxy captures traffic to every listed address on
//! every node, whoever owns the address. Anyone allowed to create Services
//! can so intercept traffic meant for another service or an outside host
//! (CVE-2020-8554, unpatched by design); a legitimate use also bypasses the
//! load balancer.
//!
//! Example: `externalIPs: [10.0.0.53]`.
//!
//! Fix: remove `spec.externalIPs`; use a LoadBalancer, and enable the
//! `DenyServiceExternalIPs` admission plugin.

use super::netpol::is_service;
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct ServiceExternalIps;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-006",
    title: "Service sets externalIPs",
    severity: Severity::High,
    category: "network",
    rationale: "kube-proxy routes traffic for every address in `spec.externalIPs` to the Service's pods on every node, whoever owns that address. This is the man-in-the-middle of CVE-2020-8554: a user who can create a Service can capture traffic meant for another service, a DNS server or an external API.",
    remediation: "Remove `spec.externalIPs`; expose the service with `type: LoadBalancer` (with `loadBalancerSourceRanges`) or an Ingress. Cluster-wide, enable the `DenyServiceExternalIPs` admission plugin or an admission policy that rejects the field.",
    references: References {
        trivy: &["KSV-0108"],
        mitre: &["T1557"],
        links: &[
            "https://github.com/kubernetes/kubernetes/issues/97076",
            "https://kubernetes.io/docs/concepts/services-networking/service/#external-ips",
        ],
        ..References::NONE
    },
};

impl Rule for ServiceExternalIps {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_service(obj) {
            return;
        }
        let ips: Vec<&str> = obj
            .spec()
            .get("externalIPs")
            .map_or(&[][..], Node::items)
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if ips.is_empty() {
            return;
        }
        out.report(
            obj,
            Path::keys("spec.externalIPs"),
            format!(
                "Service \"{}\" sets spec.externalIPs ({}): kube-proxy captures traffic to these addresses on every node",
                obj.name,
                ips.join(", ")
            ),
        );
    }
}
