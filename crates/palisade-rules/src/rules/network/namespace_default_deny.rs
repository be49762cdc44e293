//! PLS-NET-002: Namespace has no default-deny NetworkPolicy.
//!
//! What it does: for every namespace that holds workloads in the scan, or
//! that is defined by a Namespace object, looks for a namespace-wide
//! baseline: a NetworkPolicy with an empty `podSelector` (or a Cilium
//! policy whose `endpointSelector` selects the whole namespace) that
//! isolates ingress, and one that isolates egress, without a rule that
//! allows everything back. Reports namespaces with no NetworkPolicy at all,
//! and namespaces whose policies leave one direction without a baseline.
//!
//! Why it matters: policies that select pods by label only protect the pods
//! someone remembered to label; a default deny makes every pod, including
//! those added later, closed until a policy opens it.
//!
//! Example: namespace `llm` with a policy for `app: vllm` only; the next
//! Deployment someone adds there is reachable from the whole cluster.
//!
//! Fix: add `podSelector: {}` with `policyTypes: [Ingress, Egress]` and no
//! rules, then allow what each workload needs.

use super::netpol::{Policy, is_template_only, policies};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Path, References, RuleMeta, Severity};
use palisade_k8s::Object;
use std::collections::BTreeMap;

pub(crate) struct NamespaceDefaultDeny;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-002",
    title: "Namespace has no default-deny NetworkPolicy",
    severity: Severity::Medium,
    category: "network",
    rationale: "Kubernetes allows all pod traffic until a NetworkPolicy selects a pod. Without a namespace-wide default deny, every pod no label-specific policy selects (including any deployed later) accepts connections from the whole cluster and can reach any address, which is how an attacker moves laterally from one compromised pod.",
    remediation: "In each namespace, add a NetworkPolicy with `spec.podSelector: {}` and `spec.policyTypes: [Ingress, Egress]` and no `ingress`/`egress` rules, then add policies that allow only the traffic each workload needs (remember DNS egress to kube-system).",
    references: References {
        kubescape: &["C-0054", "C-0206"],
        cis: &["5.3.2"],
        links: &[
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies",
        ],
        ..References::NONE
    },
};

/// What the scan says about one namespace.
#[derive(Default)]
struct Ns<'a> {
    /// The Namespace object, when loaded.
    object: Option<&'a Object>,
    /// The first workload object in it.
    first: Option<&'a Object>,
    /// Workload objects in it.
    workloads: usize,
}

/// Whether one of `ps` denies `ingress` (or egress) by default.
fn baseline(ps: &[&Policy<'_>], ingress: bool) -> bool {
    ps.iter()
        .any(|p| if ingress { p.ingress } else { p.egress }.denies_by_default())
}

impl Rule for NamespaceDefaultDeny {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let mut spaces: BTreeMap<&str, Ns<'_>> = BTreeMap::new();
        for obj in cx.of_kind("Namespace").filter(|o| o.group().is_empty()) {
            spaces.entry(obj.name.as_str()).or_default().object = Some(obj);
        }
        for (i, obj) in cx.objects.iter().enumerate() {
            let runs_pods = cx.workloads[i].iter().any(|w| !w.flag("hostNetwork"));
            if !runs_pods || is_template_only(obj) {
                continue;
            }
            let e = spaces.entry(obj.effective_namespace()).or_default();
            e.workloads += 1;
            e.first.get_or_insert(obj);
        }
        let all = policies(cx);
        for (ns, info) in &spaces {
            let here: Vec<&Policy<'_>> = all
                .iter()
                .filter(|p| p.namespace().is_none_or(|pns| pns == *ns))
                .collect();
            let wide: Vec<&Policy<'_>> = here
                .iter()
                .copied()
                .filter(|p| p.selects_whole_namespace(ns))
                .collect();
            let has_in = baseline(&wide, true);
            let has_out = baseline(&wide, false);
            if has_in && has_out {
                continue;
            }
            let holds = match info.workloads {
                0 => String::new(),
                1 => " (1 workload)".to_owned(),
                n => format!(" ({n} workloads)"),
            };
            let msg = if here.is_empty() {
                format!(
                    "namespace \"{ns}\"{holds} has no NetworkPolicy: every pod in it accepts connections from the whole cluster and can connect anywhere"
                )
            } else {
                let (missing, types) = match (has_in, has_out) {
                    (false, false) => ("ingress and egress", "Ingress, Egress"),
                    (false, true) => ("ingress", "Ingress"),
                    _ => ("egress", "Egress"),
                };
                let n = here.len();
                let count = if n == 1 {
                    "1 network policy".to_owned()
                } else {
                    format!("{n} network policies")
                };
                format!(
                    "namespace \"{ns}\"{holds} has {count} but no default deny for {missing} (podSelector: {{}} with policyTypes [{types}] and no allow-all rule): pods no other policy selects stay open"
                )
            };
            match (info.object, info.first) {
                (Some(nsobj), _) => out.report_keyed(nsobj, Path::keys("metadata.name"), ns, msg),
                (None, Some(first)) => {
                    out.report_keyed(first, Path::keys("metadata.namespace"), ns, msg);
                }
                (None, None) => {}
            }
        }
    }
}
