//! PLS-NET-001: Pods not isolated by a NetworkPolicy.
//!
//! What it does: for every pod template, evaluates the pod labels (the
//! template's, plus those its controller adds: KServe, Knative, Job, Ray,
//! LeaderWorkerSet, Seldon) against every NetworkPolicy in the workload's
//! own namespace (`metadata.namespace`, or `default`), with `matchLabels`
//! and `matchExpressions` (In/NotIn/Exists/DoesNotExist), and reports the
//! pods that no policy isolates for ingress, for egress, or both.
//! `policyTypes` defaults as the API server defaults it (Ingress, plus
//! Egress when `egress` rules are present). CiliumNetworkPolicy and
//! CiliumClusterwideNetworkPolicy count too. Pods on the host network are
//! skipped: NetworkPolicy does not apply to them.
//!
//! Why it matters: a pod no policy selects accepts connections from every
//! pod in the cluster and can connect anywhere, so one compromised pod can
//! reach a model server's unauthenticated API or exfiltrate weights. A
//! policy in another namespace never covers it.
//!
//! Example: a vLLM Deployment in `llm` while the only NetworkPolicy lives in
//! `gateway`.
//!
//! Fix: add a NetworkPolicy in the same namespace whose `podSelector`
//! matches the pod labels, with `policyTypes: [Ingress, Egress]`.

use super::netpol::{Labels, Policy, is_template_only, pod_labels, policies, show_labels};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;
use std::collections::HashMap;
use std::fmt::Write as _;

pub(crate) struct WorkloadNotIsolated;

static META: RuleMeta = RuleMeta {
    id: "PLS-NET-001",
    title: "Pods not isolated by a NetworkPolicy",
    severity: Severity::Medium,
    category: "network",
    rationale: "Until a NetworkPolicy in its own namespace selects a pod, the pod accepts connections from every pod in the cluster and may connect to any address, including the cloud metadata endpoint. An inference server without isolation exposes its unauthenticated API to any compromised neighbour and can be used to exfiltrate model weights or prompts.",
    remediation: "Create a NetworkPolicy in the workload's namespace whose `spec.podSelector` matches the pod template labels and whose `spec.policyTypes` lists both `Ingress` and `Egress`, then allow only the sources (`ingress[].from`) and destinations (`egress[].to`, including DNS) the pods need. A namespace-wide default deny (`podSelector: {}`) covers pods added later.",
    references: References {
        kubescape: &["C-0260", "C-0030"],
        polaris: &["missingNetworkPolicy"],
        kube_linter: &["non-isolated-pod"],
        kube_score: &["pod-networkpolicy"],
        links: &[
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#isolated-and-non-isolated-pods",
        ],
        ..References::NONE
    },
};

/// The first policy of `found` for messages.
fn named(found: &[&Policy<'_>]) -> String {
    found.first().map(|p| p.describe()).unwrap_or_default()
}

impl Rule for WorkloadNotIsolated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        let all = policies(cx);
        // Policies that can apply in a namespace: its own and cluster-wide
        // ones, grouped once so the check is linear in workloads.
        let mut by_ns: HashMap<&str, Vec<&Policy<'_>>> = HashMap::new();
        let mut clusterwide: Vec<&Policy<'_>> = Vec::new();
        for p in &all {
            match p.namespace() {
                Some(ns) => by_ns.entry(ns).or_default().push(p),
                None => clusterwide.push(p),
            }
        }
        let elsewhere = LabelIndex::new(&all);
        for w in cx.all_workloads() {
            let ns = w.object.effective_namespace();
            let local = by_ns.get(ns).map_or(&[][..], Vec::as_slice);
            check(
                w,
                local.iter().chain(&clusterwide).copied(),
                &elsewhere,
                out,
            );
        }
    }
}

/// Reports `w` unless policies in its namespace isolate it both ways.
fn check<'p, 'a: 'p>(
    w: &Workload<'_>,
    here: impl Iterator<Item = &'p Policy<'a>>,
    elsewhere: &LabelIndex<'_, '_>,
    out: &mut Emitter<'_>,
) {
    let obj = w.object;
    if is_template_only(obj) || w.flag("hostNetwork") {
        return;
    }
    let ns = obj.effective_namespace();
    let labels: Labels = pod_labels(w);
    let selecting: Vec<&Policy<'_>> = here.filter(|p| p.selects(ns, &labels)).collect();
    let ingress: Vec<&Policy<'_>> = selecting
        .iter()
        .copied()
        .filter(|p| p.ingress.isolates())
        .collect();
    let egress: Vec<&Policy<'_>> = selecting
        .iter()
        .copied()
        .filter(|p| p.egress.isolates())
        .collect();
    if !ingress.is_empty() && !egress.is_empty() {
        return;
    }
    let role = if w.role.is_empty() {
        String::new()
    } else {
        format!(" ({})", w.role)
    };
    let who = format!("pods of {} {ns}/{}{role}", obj.kind, obj.name);
    let shown = show_labels(&labels);
    let mut msg = if selecting.is_empty() {
        format!(
            "{who} are selected by no NetworkPolicy in namespace \"{ns}\" (pod labels: {shown}): all ingress and egress is allowed"
        )
    } else if ingress.is_empty() && egress.is_empty() {
        format!(
            "{who} are selected by {} but it isolates neither ingress nor egress (check its policyTypes): all traffic is allowed",
            named(&selecting)
        )
    } else if ingress.is_empty() {
        format!(
            "{who} are isolated for egress by {} but no NetworkPolicy in namespace \"{ns}\" isolates their ingress (pod labels: {shown}): any pod can connect to them",
            named(&egress)
        )
    } else {
        format!(
            "{who} are isolated for ingress by {} but no NetworkPolicy in namespace \"{ns}\" restricts their egress (the policyTypes of the policies that select them lack Egress): they can reach any address",
            named(&ingress)
        )
    };
    // A policy elsewhere that would select these labels is a common
    // mistake: say why it does not count.
    if let Some(other) = elsewhere
        .candidates(&labels)
        .find(|p| p.namespace().is_some_and(|pns| pns != ns) && p.selects_labels(ns, &labels))
    {
        let _ = write!(
            msg,
            "; {} matches these labels, but a NetworkPolicy only applies to pods in its own namespace",
            other.describe()
        );
    }
    // Several templates of one object (KServe components) may share a path.
    out.report_keyed(obj, w.meta_path.key("labels"), &w.role, msg);
}

/// Namespaced policies by one of their `matchLabels` pairs, so that "is there
/// a policy elsewhere that would select these labels" looks only at policies
/// that can match, not at every policy of the scan.
struct LabelIndex<'p, 'a> {
    by_pair: HashMap<(&'p str, &'p str), Vec<&'p Policy<'a>>>,
    /// Policies with no `matchLabels` (empty selectors, expressions only).
    generic: Vec<&'p Policy<'a>>,
}

impl<'p, 'a> LabelIndex<'p, 'a> {
    fn new(all: &'p [Policy<'a>]) -> Self {
        let mut by_pair: HashMap<(&'p str, &'p str), Vec<&'p Policy<'a>>> = HashMap::new();
        let mut generic = Vec::new();
        for p in all.iter().filter(|p| p.namespace().is_some()) {
            let first = p
                .selector
                .and_then(|s| s.get("matchLabels"))
                .and_then(|m| m.entries().first())
                .and_then(|e| Some((e.key.as_str(), e.value.as_str()?)));
            match first {
                // Cilium's `k8s:`/`any:` source prefixes are stripped when
                // matching; such keys stay with the generic policies.
                Some(pair) if !pair.0.contains(':') => by_pair.entry(pair).or_default().push(p),
                _ => generic.push(p),
            }
        }
        Self { by_pair, generic }
    }

    /// Every policy that may select `labels` (a superset; the caller checks).
    fn candidates<'s>(&'s self, labels: &'s Labels) -> impl Iterator<Item = &'p Policy<'a>> + 's {
        let keyed = labels
            .iter()
            .filter_map(|(k, v)| self.by_pair.get(&(k.as_str(), v.as_str())))
            .flatten();
        self.generic.iter().chain(keyed).copied()
    }
}
