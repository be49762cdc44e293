//! Shared model of network policies for the rules of this family: label
//! selectors as the API server evaluates them, the pod labels a workload's
//! pods will carry, and which directions a policy isolates.
//!
//! Kubernetes `NetworkPolicy` (`networking.k8s.io`, and the old
//! `extensions/v1beta1`) plus Cilium's `CiliumNetworkPolicy` and
//! `CiliumClusterwideNetworkPolicy` are understood. A policy only ever
//! selects pods in its own namespace; a Cilium clusterwide policy selects
//! across namespaces through the `io.kubernetes.pod.namespace` label.

use crate::context::Context;
use palisade_core::{Node, Path};
use palisade_k8s::selector;
use palisade_k8s::{Object, Workload};
use std::collections::BTreeMap;

/// Label set of a pod.
pub(crate) type Labels = BTreeMap<String, String>;

/// The label Cilium gives every endpoint with its pod's namespace.
const CILIUM_NS_LABEL: &str = "io.kubernetes.pod.namespace";

/// Whether `obj` is a Kubernetes NetworkPolicy. The core group is accepted
/// too: it does not exist, but peers' fixtures use `apiVersion: v1`.
pub(crate) fn is_k8s_netpol(obj: &Object) -> bool {
    obj.kind == "NetworkPolicy" && matches!(obj.group(), "networking.k8s.io" | "extensions" | "")
}

/// Whether `obj` is an Ingress (`networking.k8s.io`, `extensions`; the core
/// group as peers' fixtures write it).
pub(crate) fn is_ingress(obj: &Object) -> bool {
    obj.kind == "Ingress" && matches!(obj.group(), "networking.k8s.io" | "extensions" | "")
}

/// Whether `obj` is a core Service.
pub(crate) fn is_service(obj: &Object) -> bool {
    obj.kind == "Service" && obj.group().is_empty()
}

/// Kinds whose pod template is a template for pods that other objects
/// create (they run nothing themselves).
pub(crate) fn is_template_only(obj: &Object) -> bool {
    matches!(
        (obj.group(), obj.kind.as_str()),
        ("", "PodTemplate")
            | (
                "serving.kserve.io",
                "ServingRuntime" | "ClusterServingRuntime"
            )
            | ("mlops.seldon.io", "ServerConfig")
    )
}

/// A `metadata.annotations` entry as text.
pub(crate) fn annotations(obj: &Object) -> impl Iterator<Item = (&str, &str)> {
    obj.metadata()
        .get("annotations")
        .map_or(&[][..], Node::entries)
        .iter()
        .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
}

/// Path of an annotation.
pub(crate) fn annotation_path(key: &str) -> Path {
    Path::keys("metadata.annotations").key(key)
}

/// `Kind ns/name` for messages.
pub(crate) fn describe(obj: &Object) -> String {
    match &obj.namespace {
        Some(ns) => format!("{} {ns}/{}", obj.kind, obj.name),
        None => format!("{} {}", obj.kind, obj.name),
    }
}

/// The labels the pods of `w` will carry: the template's own, plus the ones
/// the controller that creates them adds and that are known in advance.
pub(crate) fn pod_labels(w: &Workload<'_>) -> Labels {
    let mut m = Labels::new();
    let mut add_map = |n: Option<&Node>| {
        for e in n.map_or(&[][..], Node::entries) {
            if let Some(v) = e.value.as_str() {
                m.insert(e.key.to_string(), v.to_owned());
            }
        }
    };
    add_map(w.meta.and_then(|m| m.get("labels")));
    let o = w.object;
    let name = o.name.clone();
    match (o.group(), o.kind.as_str()) {
        ("serving.kserve.io", "InferenceService") => {
            // Component-level labels (`spec.predictor.labels`) reach the pods
            // too, with the two labels KServe always sets.
            add_map(w.spec.get("labels"));
            let component = w.role.split('.').next().unwrap_or("predictor").to_owned();
            m.insert("serving.kserve.io/inferenceservice".into(), name);
            m.insert("component".into(), component);
        }
        ("serving.knative.dev", "Service") => {
            m.insert("serving.knative.dev/service".into(), name);
        }
        ("serving.knative.dev", "Configuration") => {
            m.insert("serving.knative.dev/configuration".into(), name);
        }
        ("batch", "Job") => {
            m.insert("job-name".into(), name.clone());
            m.insert("batch.kubernetes.io/job-name".into(), name);
        }
        ("leaderworkerset.x-k8s.io", "LeaderWorkerSet") => {
            m.insert("leaderworkerset.sigs.k8s.io/name".into(), name);
        }
        ("machinelearning.seldon.io", "SeldonDeployment") => {
            m.insert("seldon-deployment-id".into(), name);
        }
        ("kubeflow.org", "Notebook") => {
            // The notebook controller's StatefulSet labels its pod so.
            m.insert("statefulset".into(), name.clone());
            m.insert("notebook-name".into(), name);
        }
        ("ray.io", kind) => {
            let node_type = if w.role == "head" {
                "head"
            } else if w.role == "submitter" {
                ""
            } else {
                "worker"
            };
            if !node_type.is_empty() {
                m.insert("ray.io/node-type".into(), node_type.into());
            }
            if kind == "RayCluster" {
                m.insert("ray.io/cluster".into(), name);
            }
        }
        _ => {}
    }
    m
}

/// `a=b, c=d` for messages (at most five labels).
pub(crate) fn show_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return "no labels".into();
    }
    let mut s: Vec<String> = labels
        .iter()
        .take(5)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if labels.len() > 5 {
        s.push(format!("… {} more", labels.len() - 5));
    }
    s.join(", ")
}

/// Evaluates a label selector as `metav1.LabelSelectorAsSelector` does.
/// A missing, null or non-mapping selector is the empty selector, which
/// matches everything. `None` means the selector is invalid (the API server
/// would refuse it), so it matches nothing. `strip_source` removes Cilium's
/// `k8s:`/`any:` label-source prefixes from keys.
pub(crate) fn selector_matches(
    sel: Option<&Node>,
    labels: &Labels,
    strip_source: bool,
) -> Option<bool> {
    let Some(sel) = sel.filter(|s| s.is_map()) else {
        return Some(true);
    };
    let key_of = |k: &str| -> String {
        if strip_source {
            k.strip_prefix("k8s:")
                .or_else(|| k.strip_prefix("any:"))
                .unwrap_or(k)
                .to_owned()
        } else {
            k.to_owned()
        }
    };
    selector::matches(sel, &|k| labels.get(k).map(String::as_str), &key_of)
}

/// Whether a selector is empty (selects every pod it can see).
pub(crate) fn is_empty_selector(sel: Option<&Node>) -> bool {
    selector::is_empty(sel)
}

/// Which flavour of policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `networking.k8s.io/v1` NetworkPolicy.
    Kubernetes,
    /// `cilium.io/v2` CiliumNetworkPolicy (namespaced).
    Cilium,
    /// `cilium.io/v2` CiliumClusterwideNetworkPolicy.
    CiliumClusterwide,
}

/// One policy (or one entry of a Cilium `specs` list), reduced to what the
/// rules need.
#[derive(Debug, Clone)]
pub(crate) struct Policy<'a> {
    /// The object.
    pub obj: &'a Object,
    /// Which kind of policy.
    pub flavor: Flavor,
    /// `podSelector` / `endpointSelector` (`None`: absent, selects all).
    pub selector: Option<&'a Node>,
    /// What it does to ingress.
    pub ingress: Direction,
    /// What it does to egress.
    pub egress: Direction,
}

/// What a policy does to one direction of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Selected pods are not isolated in this direction by this policy.
    Untouched,
    /// Selected pods are isolated; only the policy's rules are allowed.
    Isolated,
    /// Selected pods are isolated, but a rule allows every peer and port.
    AllowsAll,
}

impl Direction {
    fn of(isolated: bool, allows_all: bool) -> Self {
        match (isolated, allows_all) {
            (false, _) => Direction::Untouched,
            (true, false) => Direction::Isolated,
            (true, true) => Direction::AllowsAll,
        }
    }

    /// Whether selected pods are isolated in this direction.
    pub(crate) fn isolates(self) -> bool {
        self != Direction::Untouched
    }

    /// Whether this is a real restriction (isolated, no allow-all rule).
    pub(crate) fn denies_by_default(self) -> bool {
        self == Direction::Isolated
    }
}

impl Policy<'_> {
    /// The policy's namespace (`None` for clusterwide policies).
    pub(crate) fn namespace(&self) -> Option<&str> {
        match self.flavor {
            Flavor::CiliumClusterwide => None,
            _ => Some(self.obj.effective_namespace()),
        }
    }

    /// `NetworkPolicy ns/name` for messages.
    pub(crate) fn describe(&self) -> String {
        match self.namespace() {
            Some(ns) => format!(
                "{} \"{}\" (namespace \"{ns}\")",
                self.obj.kind, self.obj.name
            ),
            None => format!("{} \"{}\"", self.obj.kind, self.obj.name),
        }
    }

    /// Whether the policy selects pods with `labels` in namespace `ns`,
    /// ignoring the namespace (for "it would match, but it is elsewhere").
    pub(crate) fn selects_labels(&self, ns: &str, labels: &Labels) -> bool {
        match self.flavor {
            Flavor::Kubernetes => selector_matches(self.selector, labels, false) == Some(true),
            Flavor::Cilium | Flavor::CiliumClusterwide => {
                let mut l = labels.clone();
                l.insert(CILIUM_NS_LABEL.into(), ns.to_owned());
                selector_matches(self.selector, &l, true) == Some(true)
            }
        }
    }

    /// Whether the policy applies to pods with `labels` in namespace `ns`.
    pub(crate) fn selects(&self, ns: &str, labels: &Labels) -> bool {
        self.namespace().is_none_or(|p| p == ns) && self.selects_labels(ns, labels)
    }

    /// Whether the policy selects every pod of namespace `ns`, whatever its
    /// labels (a namespace-wide baseline).
    pub(crate) fn selects_whole_namespace(&self, ns: &str) -> bool {
        if self.namespace().is_some_and(|p| p != ns) {
            return false;
        }
        match self.flavor {
            Flavor::Kubernetes => is_empty_selector(self.selector),
            Flavor::Cilium | Flavor::CiliumClusterwide => {
                // Only namespace requirements allowed: they must hold for `ns`.
                let Some(sel) = self.selector.filter(|s| s.is_map()) else {
                    return true;
                };
                let only_ns = |k: &str| {
                    k.trim_start_matches("k8s:").trim_start_matches("any:") == CILIUM_NS_LABEL
                };
                let keys_ok = sel
                    .get("matchLabels")
                    .map_or(&[][..], Node::entries)
                    .iter()
                    .all(|e| only_ns(&e.key))
                    && sel
                        .get("matchExpressions")
                        .map_or(&[][..], Node::items)
                        .iter()
                        .all(|r| r.get("key").and_then(Node::as_str).is_some_and(only_ns));
                let mut l = Labels::new();
                l.insert(CILIUM_NS_LABEL.into(), ns.to_owned());
                keys_ok && selector_matches(Some(sel), &l, true) == Some(true)
            }
        }
    }
}

/// Whether a list of Kubernetes policy rules has one that allows everything:
/// no peers (`from`/`to`) and no ports.
fn k8s_allows_all(rules: &[Node], peers: &str) -> bool {
    rules.iter().any(|r| {
        r.get(peers).map_or(&[][..], Node::items).is_empty()
            && r.get("ports").map_or(&[][..], Node::items).is_empty()
    })
}

/// Whether a list of Cilium rules allows every peer on every port.
fn cilium_allows_all(rules: &[Node], entities: &str) -> bool {
    rules.iter().any(|r| {
        r.get(entities)
            .map_or(&[][..], Node::items)
            .iter()
            .any(|e| e.as_str() == Some("all"))
            && r.get("toPorts").map_or(&[][..], Node::items).is_empty()
    })
}

fn k8s_policy(obj: &Object) -> Policy<'_> {
    let spec = obj.spec();
    let ingress_rules = spec.get("ingress").map_or(&[][..], Node::items);
    let egress_rules = spec.get("egress").map_or(&[][..], Node::items);
    let types: Vec<&str> = spec
        .get("policyTypes")
        .map_or(&[][..], Node::items)
        .iter()
        .filter_map(Node::as_str)
        .collect();
    // SetDefaults_NetworkPolicySpec: no policyTypes means Ingress, plus
    // Egress when the egress list is not empty.
    let (ingress, egress) = if types.is_empty() {
        (true, !egress_rules.is_empty())
    } else {
        (types.contains(&"Ingress"), types.contains(&"Egress"))
    };
    Policy {
        obj,
        flavor: Flavor::Kubernetes,
        selector: spec.get("podSelector").filter(|n| !n.is_null()),
        ingress: Direction::of(ingress, k8s_allows_all(ingress_rules, "from")),
        egress: Direction::of(egress, k8s_allows_all(egress_rules, "to")),
    }
}

fn cilium_policy<'a>(obj: &'a Object, spec: &'a Node, flavor: Flavor) -> Option<Policy<'a>> {
    // A nodeSelector policy applies to nodes, not pods.
    if spec.get("nodeSelector").is_some_and(|n| !n.is_null()) {
        return None;
    }
    let list = |k: &str| spec.get(k).map_or(&[][..], Node::items);
    let section = |k: &str| spec.get(k).is_some_and(|n| n.as_seq().is_some());
    let default_deny = |dir: &str| {
        spec.get("enableDefaultDeny")
            .and_then(|d| d.get(dir))
            .and_then(Node::as_bool)
            != Some(false)
    };
    let ingress = (section("ingress") || section("ingressDeny")) && default_deny("ingress");
    let egress = (section("egress") || section("egressDeny")) && default_deny("egress");
    Some(Policy {
        obj,
        flavor,
        selector: spec.get("endpointSelector").filter(|n| !n.is_null()),
        ingress: Direction::of(ingress, cilium_allows_all(list("ingress"), "fromEntities")),
        egress: Direction::of(egress, cilium_allows_all(list("egress"), "toEntities")),
    })
}

/// Every policy in the scan.
pub(crate) fn policies<'a>(cx: &Context<'a>) -> Vec<Policy<'a>> {
    let mut out: Vec<Policy<'a>> = cx
        .of_kind("NetworkPolicy")
        .filter(|o| is_k8s_netpol(o))
        .map(k8s_policy)
        .collect();
    for (kind, flavor) in [
        ("CiliumNetworkPolicy", Flavor::Cilium),
        ("CiliumClusterwideNetworkPolicy", Flavor::CiliumClusterwide),
    ] {
        for obj in cx.of_kind(kind).filter(|o| o.group() == "cilium.io") {
            let root = &obj.root;
            if let Some(spec) = root.get("spec").filter(|s| s.is_map()) {
                out.extend(cilium_policy(obj, spec, flavor));
            }
            for spec in root
                .get("specs")
                .map_or(&[][..], Node::items)
                .iter()
                .filter(|s| s.is_map())
            {
                out.extend(cilium_policy(obj, spec, flavor));
            }
        }
    }
    out
}

/// The label sets of the pods every workload in the input will run, by
/// namespace (templates that run nothing themselves are left out). Built
/// once per rule run by the rules that ask "does anything select a pod".
pub(crate) fn pod_labels_by_namespace<'a>(
    cx: &Context<'a>,
) -> std::collections::HashMap<&'a str, Vec<Labels>> {
    let mut m: std::collections::HashMap<&'a str, Vec<Labels>> = std::collections::HashMap::new();
    for w in cx.all_workloads() {
        if is_template_only(w.object) {
            continue;
        }
        m.entry(w.object.effective_namespace())
            .or_default()
            .push(pod_labels(w));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_k8s::load::load_str;

    fn node(text: &str) -> Node {
        let out = load_str(
            "t.yaml",
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  s: {text}\n"
            ),
        );
        out.objects[0].root.at(&["data", "s"]).unwrap().clone()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selector_semantics_follow_the_api_server() {
        let l = labels(&[("app", "vllm"), ("tier", "gpu")]);
        assert_eq!(selector_matches(None, &l, false), Some(true));
        assert_eq!(selector_matches(Some(&node("{}")), &l, false), Some(true));
        assert_eq!(
            selector_matches(Some(&node("{matchLabels: {app: vllm}}")), &l, false),
            Some(true)
        );
        assert_eq!(
            selector_matches(Some(&node("{matchLabels: {app: tgi}}")), &l, false),
            Some(false)
        );
        let e = |s: &str| {
            selector_matches(
                Some(&node(&format!("{{matchExpressions: [{s}]}}"))),
                &l,
                false,
            )
        };
        assert_eq!(
            e("{key: app, operator: In, values: [vllm, tgi]}"),
            Some(true)
        );
        assert_eq!(
            e("{key: app, operator: NotIn, values: [vllm]}"),
            Some(false)
        );
        assert_eq!(e("{key: team, operator: NotIn, values: [a]}"), Some(true));
        assert_eq!(e("{key: tier, operator: Exists}"), Some(true));
        assert_eq!(e("{key: tier, operator: DoesNotExist}"), Some(false));
        // In with no values, Exists with values, unknown operators: invalid.
        assert_eq!(e("{key: app, operator: In, values: []}"), None);
        assert_eq!(e("{key: app, operator: Exists, values: [x]}"), None);
        assert_eq!(e("{key: app, operator: Gt, values: ['1']}"), None);
    }

    #[test]
    fn cilium_prefixes_are_stripped() {
        let l = labels(&[("app", "vllm")]);
        assert_eq!(
            selector_matches(Some(&node("{matchLabels: {'k8s:app': vllm}}")), &l, true),
            Some(true)
        );
        assert_eq!(
            selector_matches(Some(&node("{matchLabels: {'k8s:app': vllm}}")), &l, false),
            Some(false)
        );
    }
}
