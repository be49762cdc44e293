//! PLS-NET-005: LoadBalancer Service open to any source.
//!
//! What it does: flags Services with `spec.type: LoadBalancer` that are not
//! internal and have no effective source restriction: no
//! `spec.loadBalancerSourceRanges` (nor the legacy
//! `service.beta.kubernetes.io/load-balancer-source-ranges` annotation), or
//! a range list that contains `0.0.0.0/0` or `::/0`. Internal load balancers
//! are recognised by their cloud annotations (AWS in-tree and Load Balancer
//! Controller, which defaults to internal, GKE, AKS, OCI, OpenStack,
//! Alibaba Cloud, IBM Cloud).
//!
//! Why it matters: cloud load balancers are internet-facing by default;
//! without source ranges an inference endpoint is open to the whole
//! internet.
//!
//! Example: a vLLM Service `type: LoadBalancer` with no annotations.
//!
//! Fix: set `loadBalancerSourceRanges` to the client CIDRs, or make the load
//! balancer internal.

use super::netpol::{annotation_path, is_service};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path, References, RuleMeta, Severity};
use palisade_k8s::Object;

pub(crate) struct ServicePublicLoadBalancer;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-005",
    title: "LoadBalancer Service open to any source",
    severity: Severity::Medium,
    category: "network",
    rationale: "On every major cloud a `type: LoadBalancer` Service gets an internet-facing address unless it is marked internal, and without `loadBalancerSourceRanges` it accepts connections from any address. Model servers such as vLLM, TGI or Triton have no authentication by default, so the endpoint is open to anyone who finds it.",
    remediation: "Set `spec.loadBalancerSourceRanges` to the CIDRs of the clients, or make the load balancer internal (e.g. `service.beta.kubernetes.io/aws-load-balancer-scheme: internal`, `networking.gke.io/load-balancer-type: Internal`, `service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"`); put authentication in front of public endpoints.",
    references: References {
        kube_linter: &["exposed-services"],
        owasp_llm: &["LLM10"],
        links: &[
            "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#restricting-cluster-ingress-sources",
        ],
        ..References::NONE
    },
};

/// The legacy annotation the cloud providers read when the field is empty.
const RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

/// The annotation (or `loadBalancerClass`) that makes the load balancer
/// internal, if any.
pub(crate) fn internal_marker(obj: &Object) -> Option<String> {
    let ann = |k: &str| obj.annotation(k).map(str::trim);
    let is_true = |k: &str| ann(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let eq = |k: &str, want: &str| ann(k).is_some_and(|v| v.eq_ignore_ascii_case(want));
    // AWS Load Balancer Controller: scheme annotation wins; the controller
    // defaults to internal for the services it manages.
    let scheme = "service.beta.kubernetes.io/aws-load-balancer-scheme";
    if let Some(s) = ann(scheme) {
        return s
            .eq_ignore_ascii_case("internal")
            .then(|| scheme.to_owned());
    }
    // In-tree AWS provider: any value but "false" makes it internal; an
    // explicit "false" is internet-facing under either controller.
    let aws = "service.beta.kubernetes.io/aws-load-balancer-internal";
    match ann(aws) {
        Some(v) if v.eq_ignore_ascii_case("false") => return None,
        Some(v) if !v.is_empty() => return Some(aws.to_owned()),
        _ => {}
    }
    let lbc_type = "service.beta.kubernetes.io/aws-load-balancer-type";
    if eq(lbc_type, "external") || eq(lbc_type, "nlb-ip") {
        return Some(format!(
            "{lbc_type} (AWS Load Balancer Controller defaults to internal)"
        ));
    }
    if obj.spec().get("loadBalancerClass").and_then(Node::as_str) == Some("service.k8s.aws/nlb") {
        return Some("loadBalancerClass service.k8s.aws/nlb (defaults to internal)".to_owned());
    }
    for k in [
        "networking.gke.io/load-balancer-type",
        "cloud.google.com/load-balancer-type",
    ] {
        if eq(k, "internal") {
            return Some(k.to_owned());
        }
    }
    for k in [
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "oci-network-load-balancer.oraclecloud.com/internal",
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
    ] {
        if is_true(k) {
            return Some(k.to_owned());
        }
    }
    if eq(
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
        "intranet",
    ) {
        return Some(
            "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type".to_owned(),
        );
    }
    if eq(
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        "private",
    ) {
        return Some("service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type".to_owned());
    }
    None
}

pub(crate) fn is_open(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

impl Rule for ServicePublicLoadBalancer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_object(&self, obj: &Object, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if !is_service(obj) || obj.spec().get("type").and_then(Node::as_str) != Some("LoadBalancer")
        {
            return;
        }
        if internal_marker(obj).is_some() {
            return;
        }
        let field: Vec<&str> = obj
            .spec()
            .get("loadBalancerSourceRanges")
            .map_or(&[][..], Node::items)
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let (ranges, path): (Vec<&str>, Path) = if field.is_empty() {
            match obj.annotation(RANGES_ANNOTATION) {
                Some(a) => (
                    a.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect(),
                    annotation_path(RANGES_ANNOTATION),
                ),
                None => (Vec::new(), Path::keys("spec.loadBalancerSourceRanges")),
            }
        } else {
            (field, Path::keys("spec.loadBalancerSourceRanges"))
        };
        let name = &obj.name;
        let msg = if ranges.is_empty() {
            format!(
                "LoadBalancer Service \"{name}\" has no loadBalancerSourceRanges and is not an internal load balancer: it accepts connections from any address"
            )
        } else if let Some(open) = ranges.iter().find(|r| is_open(r)) {
            format!(
                "LoadBalancer Service \"{name}\" allows source range {}: it accepts connections from any address",
                open.trim()
            )
        } else {
            return;
        };
        out.report(obj, path, msg);
    }
}
