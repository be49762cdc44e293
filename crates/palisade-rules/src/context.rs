//! Everything a rule may look at: the loaded objects, their pod templates,
//! an index by kind and namespace, and the settings. Built once per scan.

use crate::engine::Settings;
use crate::rules::ai::model::AiModel;
use crate::rules::rbac::model::Model;
use palisade_k8s::workload::workloads;
use palisade_k8s::{Object, Workload};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// The whole input of a scan.
#[derive(Debug)]
pub struct Context<'a> {
    /// Every object, in input order.
    pub objects: &'a [Object],
    /// Pod templates per object (same index as `objects`).
    pub workloads: Vec<Vec<Workload<'a>>>,
    /// Settings from configuration.
    pub settings: &'a Settings,
    by_kind: HashMap<&'a str, Vec<usize>>,
    by_kind_ns: HashMap<&'a str, HashMap<&'a str, Vec<usize>>>,
    rbac: Model<'a>,
    ai: AiModel<'a>,
}

impl<'a> Context<'a> {
    /// Indexes `objects`.
    pub fn new(objects: &'a [Object], settings: &'a Settings) -> Self {
        let mut by_kind: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut by_kind_ns: HashMap<&'a str, HashMap<&'a str, Vec<usize>>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            by_kind.entry(o.kind.as_str()).or_default().push(i);
            if !is_cluster_scoped(o) {
                by_kind_ns
                    .entry(o.kind.as_str())
                    .or_default()
                    .entry(o.effective_namespace())
                    .or_default()
                    .push(i);
            }
        }
        let mut cx = Self {
            objects,
            // Pod templates are found per object, in parallel (order kept).
            workloads: objects.par_iter().map(workloads).collect(),
            settings,
            by_kind,
            by_kind_ns,
            rbac: Model::default(),
            ai: AiModel::default(),
        };
        // The two models read only the objects and their templates: build
        // them side by side.
        let (rbac, ai) = rayon::join(|| Model::build(&cx), || AiModel::build(&cx));
        cx.rbac = rbac;
        cx.ai = ai;
        cx
    }

    /// Objects of a kind (any API group).
    pub fn of_kind(&self, kind: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.by_kind
            .get(kind)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|i| &self.objects[*i])
    }

    /// Who can do what: the effective RBAC permissions of every subject,
    /// built once per scan and shared by the RBAC rules.
    pub(crate) fn rbac(&self) -> &Model<'a> {
        &self.rbac
    }

    /// The AI workloads and their paths from outside, built once per scan
    /// and shared by the AI rules.
    pub(crate) fn ai(&self) -> &AiModel<'a> {
        &self.ai
    }

    /// Namespaced objects of a kind (any API group) in namespace `ns`
    /// (objects without a namespace count as `default`).
    pub fn of_kind_in(&self, kind: &str, ns: &str) -> impl Iterator<Item = &'a Object> + '_ {
        self.by_kind_ns
            .get(kind)
            .and_then(|m| m.get(ns))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|i| &self.objects[*i])
    }

    /// Every pod template of every object.
    pub fn all_workloads(&self) -> impl Iterator<Item = &Workload<'a>> + '_ {
        self.workloads.iter().flatten()
    }

    /// Namespaces that namespaced objects were loaded into, plus Namespace
    /// objects. Objects without a namespace count as `default`.
    pub fn namespaces(&self) -> BTreeSet<&'a str> {
        let mut set: BTreeSet<&'a str> =
            self.of_kind("Namespace").map(|n| n.name.as_str()).collect();
        for o in self.objects {
            if !is_cluster_scoped(o) {
                set.insert(o.effective_namespace());
            }
        }
        set
    }
}

/// Index of `obj` in `objects`, found by address: rules always report
/// objects they were handed from the context.
pub(crate) fn index_in(objects: &[Object], obj: &Object) -> usize {
    let base = objects.as_ptr() as usize;
    let at = std::ptr::from_ref(obj) as usize;
    let i = at.wrapping_sub(base) / std::mem::size_of::<Object>().max(1);
    debug_assert!(
        i < objects.len(),
        "rule reported an object that is not in the scan"
    );
    i.min(objects.len().saturating_sub(1))
}

/// Kinds that are not namespaced.
pub fn is_cluster_scoped(o: &Object) -> bool {
    matches!(
        o.kind.as_str(),
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "CertificateSigningRequest"
            | "IngressClass"
            | "RuntimeClass"
            | "PodSecurityPolicy"
            | "ClusterServingRuntime"
            | "GatewayClass"
            | "CSIDriver"
            | "VolumeAttachment"
    )
}
