//! Who can do what: the effective-permission model the RBAC rules share.
//!
//! Built from the [`Context`] by each RBAC rule's `check_all` (so nothing
//! outlives a scan); building it is linear in the number of objects plus, for
//! each aggregated ClusterRole, one pass over the ClusterRoles.
//!
//! - Every Role and ClusterRole of the input, plus the built-in ClusterRoles
//!   (`cluster-admin`, `admin`, `edit`, `view` and the `system:aggregate-to-*`
//!   roles), which exist in every cluster. A built-in role that the input
//!   also defines gets the union of both, because the API server adds back
//!   missing bootstrap rules at every start, unless the input role is
//!   annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
//! - A ClusterRole with an `aggregationRule` gets the rules of every other
//!   ClusterRole whose labels one of its `clusterRoleSelectors` matches
//!   (transitively), plus its own `rules` (a dump of a live cluster lists the
//!   aggregated rules there).
//! - Every RoleBinding and ClusterRoleBinding with its `roleRef` resolved: a
//!   RoleBinding grants in its own namespace only, even when it refers to a
//!   ClusterRole, and never grants cluster-scoped resources; a
//!   ClusterRoleBinding grants everywhere.
//! - Every subject (User, Group, ServiceAccount with its namespace; a
//!   RoleBinding's ServiceAccount without a namespace is in the binding's
//!   namespace), with the groups Kubernetes puts it in implicitly
//!   (`system:serviceaccounts`, `system:serviceaccounts:<ns>`,
//!   `system:authenticated`, `system:unauthenticated`).

use super::builtin::{BUILTIN_ROLES, BuiltinRole, BuiltinRule};
use crate::context::Context;
use palisade_core::Node;
use palisade_k8s::Object;
use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

/// The RBAC API group.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The verbs Polaris (and most people) read as "everything" when all are listed.
const ALL_BASIC_VERBS: [&str; 7] = [
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// Role or ClusterRole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// One entry of a role's `rules`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyRule<'a> {
    pub(crate) verbs: Vec<&'a str>,
    pub(crate) api_groups: Vec<&'a str>,
    pub(crate) resources: Vec<&'a str>,
    pub(crate) resource_names: Vec<&'a str>,
    pub(crate) non_resource_urls: Vec<&'a str>,
}

/// The strings of a list field; a field of another type counts as absent.
fn strings(n: Option<&Node>) -> Vec<&str> {
    n.map(|n| n.items().iter().filter_map(Node::as_str).collect())
        .unwrap_or_default()
}

impl<'a> PolicyRule<'a> {
    fn parse(n: &'a Node) -> Self {
        // One pass over the entries: this runs for every rule of every role,
        // once per RBAC rule of the scan.
        let mut r = Self::default();
        for e in n.entries() {
            let field = match e.key.as_str() {
                "verbs" => &mut r.verbs,
                "apiGroups" => &mut r.api_groups,
                "resources" => &mut r.resources,
                "resourceNames" => &mut r.resource_names,
                "nonResourceURLs" => &mut r.non_resource_urls,
                _ => continue,
            };
            *field = strings(Some(&e.value));
        }
        r
    }

    fn from_builtin(b: &'static BuiltinRule) -> Self {
        Self {
            verbs: b.verbs.to_vec(),
            api_groups: b.api_groups.to_vec(),
            resources: b.resources.to_vec(),
            resource_names: Vec::new(),
            non_resource_urls: b.non_resource_urls.to_vec(),
        }
    }

    pub(crate) fn allows_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| *v == "*" || *v == verb)
    }

    pub(crate) fn allows_group(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| *g == "*" || *g == group)
    }

    /// The authorizer's `ResourceMatches`: `*` matches everything, an exact
    /// `pods/exec` matches, and `*/exec` matches the `exec` subresource of
    /// any resource (`pods/*` matches nothing special).
    pub(crate) fn allows_resource(&self, resource: &str) -> bool {
        let sub = resource.split_once('/').map(|(_, s)| s);
        self.resources.iter().any(|r| {
            *r == "*" || *r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        })
    }

    /// All verbs on all resources of all API groups, for any object name:
    /// `cluster-admin`'s first rule, or the seven basic verbs spelt out.
    pub(crate) fn is_full_admin(&self) -> bool {
        self.resource_names.is_empty()
            && self.api_groups.contains(&"*")
            && self.resources.contains(&"*")
            && (self.verbs.contains(&"*") || ALL_BASIC_VERBS.iter().all(|v| self.verbs.contains(v)))
    }

    /// `verbs [...] on [...]`, for messages.
    pub(crate) fn summary(&self) -> String {
        let mut s = if self.non_resource_urls.is_empty() || !self.resources.is_empty() {
            format!(
                "verbs {:?} on resources {:?} in apiGroups {:?}",
                self.verbs, self.resources, self.api_groups
            )
        } else {
            format!(
                "verbs {:?} on nonResourceURLs {:?}",
                self.verbs, self.non_resource_urls
            )
        };
        if !self.resource_names.is_empty() {
            let _ = write!(s, " limited to resourceNames {:?}", self.resource_names);
        }
        s
    }
}

/// How a rule limited by `resourceNames` counts for a [`Req`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Names {
    /// It counts: a few named objects are as bad as any (pods to exec into).
    Any,
    /// It does not count: the power is "any object", and a named list is a
    /// deliberate, reviewable grant (secrets, service accounts to impersonate).
    Unrestricted,
    /// It counts only when it names one of these (signers, `system:masters`).
    OneOf(&'static [&'static str]),
}

/// A request shape: one of `verbs` on `group`/`resource`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Req {
    pub(crate) verbs: &'static [&'static str],
    pub(crate) group: &'static str,
    pub(crate) resource: &'static str,
    pub(crate) names: Names,
    /// The resource is cluster-scoped: a RoleBinding can never grant it.
    pub(crate) cluster: bool,
}

impl Req {
    pub(crate) const fn new(
        verbs: &'static [&'static str],
        group: &'static str,
        resource: &'static str,
    ) -> Self {
        Self {
            verbs,
            group,
            resource,
            names: Names::Any,
            cluster: false,
        }
    }

    #[must_use]
    pub(crate) const fn names(mut self, names: Names) -> Self {
        self.names = names;
        self
    }

    #[must_use]
    pub(crate) const fn cluster_scoped(mut self) -> Self {
        self.cluster = true;
        self
    }
}

/// Something a rule may allow.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Need {
    /// A request shape.
    Api(Req),
    /// Everything ([`PolicyRule::is_full_admin`]).
    FullAdmin,
}

impl Need {
    /// Whether `rule`, granted cluster-wide (`cluster`) or in one namespace,
    /// allows this.
    pub(crate) fn matches(&self, rule: &PolicyRule<'_>, cluster: bool) -> bool {
        match self {
            Need::FullAdmin => rule.is_full_admin(),
            Need::Api(r) => {
                if (r.cluster && !cluster)
                    || !rule.allows_group(r.group)
                    || !rule.allows_resource(r.resource)
                {
                    return false;
                }
                r.verbs
                    .iter()
                    .any(|v| rule.allows_verb(v) && names_allow(rule, v, r))
            }
        }
    }
}

fn names_allow(rule: &PolicyRule<'_>, verb: &str, r: &Req) -> bool {
    if rule.resource_names.is_empty() {
        return true;
    }
    // A create of a top-level resource carries no object name, so a rule
    // limited by resourceNames never authorizes it.
    if verb == "create" && !r.resource.contains('/') {
        return false;
    }
    match r.names {
        Names::Any => true,
        Names::Unrestricted => false,
        Names::OneOf(list) => rule.resource_names.iter().any(|n| list.contains(n)),
    }
}

/// A label selector of `aggregationRule.clusterRoleSelectors`.
#[derive(Debug, Default)]
struct Selector<'a> {
    labels: Vec<(&'a str, &'a str)>,
    exprs: Vec<(&'a str, &'a str, Vec<&'a str>)>,
}

impl<'a> Selector<'a> {
    fn parse(n: &'a Node) -> Self {
        Self {
            labels: n
                .get("matchLabels")
                .map(|m| {
                    m.entries()
                        .iter()
                        .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
                        .collect()
                })
                .unwrap_or_default(),
            exprs: n
                .get("matchExpressions")
                .map(|m| {
                    m.items()
                        .iter()
                        .map(|x| {
                            (
                                x.get("key").and_then(Node::as_str).unwrap_or(""),
                                x.get("operator").and_then(Node::as_str).unwrap_or(""),
                                strings(x.get("values")),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Label selector semantics; an empty selector matches everything, an
    /// unknown operator nothing (the API server would refuse it).
    fn matches(&self, labels: &[(&str, &str)]) -> bool {
        let get = |k: &str| labels.iter().find(|(lk, _)| *lk == k).map(|(_, v)| *v);
        self.labels.iter().all(|(k, v)| get(k) == Some(*v))
            && self.exprs.iter().all(|(k, op, values)| match *op {
                "In" => get(k).is_some_and(|v| values.contains(&v)),
                "NotIn" => get(k).is_none_or(|v| !values.contains(&v)),
                "Exists" => get(k).is_some(),
                "DoesNotExist" => get(k).is_none(),
                _ => false,
            })
    }
}

/// A Role or ClusterRole: from the input, or built in.
#[derive(Debug)]
pub(crate) struct RoleDef<'a> {
    pub(crate) kind: RoleKind,
    pub(crate) name: &'a str,
    /// The Role's namespace (`""` for a ClusterRole).
    pub(crate) namespace: &'a str,
    /// `None` for a built-in role the input does not contain.
    pub(crate) object: Option<&'a Object>,
    pub(crate) rules: Vec<PolicyRule<'a>>,
    pub(crate) labels: Vec<(&'a str, &'a str)>,
    selectors: Option<Vec<Selector<'a>>>,
    no_autoupdate: bool,
}

impl<'a> RoleDef<'a> {
    fn from_object(obj: &'a Object, kind: RoleKind) -> Self {
        Self {
            kind,
            name: obj.name.as_str(),
            namespace: match kind {
                RoleKind::Role => obj.effective_namespace(),
                RoleKind::ClusterRole => "",
            },
            object: Some(obj),
            rules: obj
                .root
                .get("rules")
                .map(|r| r.items().iter().map(PolicyRule::parse).collect())
                .unwrap_or_default(),
            labels: obj
                .metadata()
                .get("labels")
                .map(|m| {
                    m.entries()
                        .iter()
                        .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
                        .collect()
                })
                .unwrap_or_default(),
            selectors: match kind {
                RoleKind::ClusterRole => obj
                    .root
                    .at(&["aggregationRule", "clusterRoleSelectors"])
                    .map(|s| s.items().iter().map(Selector::parse).collect()),
                RoleKind::Role => None,
            },
            no_autoupdate: obj.annotation("rbac.authorization.kubernetes.io/autoupdate")
                == Some("false"),
        }
    }

    fn builtin(b: &'static BuiltinRole) -> Self {
        Self {
            kind: RoleKind::ClusterRole,
            name: b.name,
            namespace: "",
            object: None,
            rules: b.rules.iter().map(PolicyRule::from_builtin).collect(),
            labels: b.labels.to_vec(),
            selectors: b.aggregates.map(|label| {
                vec![Selector {
                    labels: vec![(label, "true")],
                    exprs: Vec::new(),
                }]
            }),
            no_autoupdate: false,
        }
    }
}

/// A rule of a role definition: `defs[def].rules[index]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RuleRef {
    pub(crate) def: usize,
    pub(crate) index: usize,
}

/// What a binding's roleRef resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleState {
    /// Index into the resolved role sets.
    Resolved(usize),
    /// A `system:` ClusterRole the input does not contain: it exists in
    /// every cluster, but Palisade does not know its rules.
    Unknown,
    /// Not in the input, and not a role every cluster has.
    Missing,
    /// A roleRef the API server refuses (ClusterRoleBinding to a Role, no
    /// name, unknown kind).
    Invalid,
}

/// Where a binding grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope<'a> {
    /// Every namespace, and cluster-scoped resources.
    Cluster,
    /// One namespace.
    Namespace(&'a str),
}

impl Scope<'_> {
    /// Whether some request could fall in both.
    pub(crate) fn overlaps(self, other: Scope<'_>) -> bool {
        match (self, other) {
            (Scope::Namespace(a), Scope::Namespace(b)) => a == b,
            _ => true,
        }
    }
}

impl fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster-wide"),
            Scope::Namespace(ns) => write!(f, "in namespace {ns:?}"),
        }
    }
}

/// User, Group or ServiceAccount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

/// One entry of a binding's `subjects`.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    /// Index in `subjects`.
    pub(crate) index: usize,
    pub(crate) kind: SubjectKind,
    pub(crate) name: &'a str,
    /// A ServiceAccount's namespace (`""` otherwise, or when a
    /// ClusterRoleBinding leaves it out).
    pub(crate) namespace: &'a str,
}

impl Subject<'_> {
    /// A stable identity, e.g. `ServiceAccount:ci/deployer`.
    pub(crate) fn key(&self) -> String {
        match self.kind {
            SubjectKind::User => format!("User:{}", self.name),
            SubjectKind::Group => format!("Group:{}", self.name),
            SubjectKind::ServiceAccount => {
                format!("ServiceAccount:{}/{}", self.namespace, self.name)
            }
        }
    }

    /// Its own key and those of the groups Kubernetes puts it in.
    fn identities(&self) -> Vec<String> {
        let mut v = vec![self.key()];
        match self.kind {
            SubjectKind::ServiceAccount => {
                v.push("Group:system:serviceaccounts".to_owned());
                v.push(format!("Group:system:serviceaccounts:{}", self.namespace));
                v.push("Group:system:authenticated".to_owned());
            }
            SubjectKind::User if self.name == "system:anonymous" => {
                v.push("Group:system:unauthenticated".to_owned());
            }
            SubjectKind::User => v.push("Group:system:authenticated".to_owned()),
            SubjectKind::Group => {}
        }
        v
    }
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SubjectKind::User => write!(f, "User {:?}", self.name),
            SubjectKind::Group => write!(f, "Group {:?}", self.name),
            SubjectKind::ServiceAccount => write!(
                f,
                "ServiceAccount {:?}",
                format!("{}/{}", self.namespace, self.name)
            ),
        }
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug)]
pub(crate) struct Binding<'a> {
    pub(crate) object: &'a Object,
    pub(crate) scope: Scope<'a>,
    /// `roleRef.kind`, when it is Role or ClusterRole.
    pub(crate) role_kind: Option<RoleKind>,
    pub(crate) role_name: &'a str,
    pub(crate) role: RoleState,
    pub(crate) subjects: Vec<Subject<'a>>,
    /// A default binding by name (`system:*`, `cluster-admin`, GKE's
    /// `gce:podsecuritypolicy:calico-sa`), skipped as Polaris skips them.
    pub(crate) exempt: bool,
}

impl Binding<'_> {
    /// `ClusterRoleBinding "x" binds ClusterRole "y"`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} {:?} binds {} {:?}",
            self.object.kind,
            self.object.name,
            self.role_kind.map_or("role", RoleKind::as_str),
            self.role_name
        )
    }
}

/// Binding names Polaris treats as cluster defaults.
pub(crate) fn is_default_binding(name: &str) -> bool {
    name.starts_with("system:")
        || name == "cluster-admin"
        || name == "gce:podsecuritypolicy:calico-sa"
}

/// Role names that are cluster defaults: never reported as definitions.
pub(crate) fn is_default_role(name: &str) -> bool {
    name.starts_with("system:")
        || matches!(
            name,
            "cluster-admin" | "admin" | "edit" | "view" | "gce:podsecuritypolicy:calico-sa"
        )
}

/// The resolved rules of a roleRef.
#[derive(Debug, Default)]
struct RoleSet {
    /// The definitions the roleRef names (several when the input and the
    /// built-ins both define it).
    defs: Vec<usize>,
    rules: Vec<RuleRef>,
}

/// One answer of [`Model::who_can`].
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant<'m, 'a> {
    pub(crate) binding: &'m Binding<'a>,
    pub(crate) subject: &'m Subject<'a>,
    pub(crate) rule: RuleRef,
}

/// The whole model.
#[derive(Debug, Default)]
pub(crate) struct Model<'a> {
    pub(crate) defs: Vec<RoleDef<'a>>,
    pub(crate) bindings: Vec<Binding<'a>>,
    sets: Vec<RoleSet>,
    reachable: Vec<bool>,
    /// Bindings by subject key, built on first use (only rules whose
    /// capability takes two permissions need it).
    by_identity: OnceLock<HashMap<String, Vec<usize>>>,
}

fn is_rbac(o: &Object) -> bool {
    o.group() == RBAC_GROUP
}

struct Resolver<'m, 'a> {
    defs: &'m [RoleDef<'a>],
    cluster_by_name: HashMap<&'a str, Vec<usize>>,
    role_by_key: HashMap<(&'a str, &'a str), Vec<usize>>,
    cluster_memo: HashMap<&'a str, usize>,
    role_memo: HashMap<(&'a str, &'a str), usize>,
    visiting: Vec<&'a str>,
    sets: Vec<RoleSet>,
}

impl<'a> Resolver<'_, 'a> {
    fn cluster(&mut self, name: &'a str) -> Option<usize> {
        if let Some(i) = self.cluster_memo.get(name) {
            return Some(*i);
        }
        if self.visiting.contains(&name) {
            return None;
        }
        let defs = self.cluster_by_name.get(name)?.clone();
        self.visiting.push(name);
        let mut seen = HashSet::new();
        let mut rules = Vec::new();
        for &d in &defs {
            for index in 0..self.defs[d].rules.len() {
                let r = RuleRef { def: d, index };
                if seen.insert(r) {
                    rules.push(r);
                }
            }
        }
        let selectors: Vec<&Selector<'a>> = defs
            .iter()
            .filter_map(|&d| self.defs[d].selectors.as_ref())
            .flatten()
            .collect();
        if !selectors.is_empty() {
            let mut members: Vec<&'a str> = Vec::new();
            let mut taken: HashSet<&'a str> = HashSet::new();
            for d in self.defs {
                if d.kind == RoleKind::ClusterRole
                    && d.name != name
                    && selectors.iter().any(|s| s.matches(&d.labels))
                    && taken.insert(d.name)
                {
                    members.push(d.name);
                }
            }
            for m in members {
                if let Some(s) = self.cluster(m) {
                    for &r in &self.sets[s].rules {
                        if seen.insert(r) {
                            rules.push(r);
                        }
                    }
                }
            }
        }
        self.visiting.pop();
        let i = self.sets.len();
        self.sets.push(RoleSet { defs, rules });
        self.cluster_memo.insert(name, i);
        Some(i)
    }

    fn role(&mut self, namespace: &'a str, name: &'a str) -> Option<usize> {
        if let Some(i) = self.role_memo.get(&(namespace, name)) {
            return Some(*i);
        }
        let defs = self.role_by_key.get(&(namespace, name))?.clone();
        let rules = defs
            .iter()
            .flat_map(|&def| {
                (0..self.defs[def].rules.len()).map(move |index| RuleRef { def, index })
            })
            .collect();
        let i = self.sets.len();
        self.sets.push(RoleSet { defs, rules });
        self.role_memo.insert((namespace, name), i);
        Some(i)
    }
}

fn parse_subjects<'a>(obj: &'a Object, scope: Scope<'a>) -> Vec<Subject<'a>> {
    let Some(list) = obj.root.get("subjects") else {
        return Vec::new();
    };
    list.items()
        .iter()
        .enumerate()
        .filter_map(|(index, s)| {
            let kind = match s.get("kind").and_then(Node::as_str)? {
                "User" => SubjectKind::User,
                "Group" => SubjectKind::Group,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                _ => return None,
            };
            let name = s
                .get("name")
                .and_then(Node::as_str)
                .filter(|n| !n.is_empty())?;
            let namespace = match (kind, s.get("namespace").and_then(Node::as_str), scope) {
                (SubjectKind::ServiceAccount, Some(ns), _) if !ns.is_empty() => ns,
                (SubjectKind::ServiceAccount, _, Scope::Namespace(ns)) => ns,
                _ => "",
            };
            Some(Subject {
                index,
                kind,
                name,
                namespace,
            })
        })
        .collect()
}

impl<'a> Model<'a> {
    /// Builds the model of one scan.
    pub(crate) fn build(cx: &Context<'a>) -> Self {
        let mut defs: Vec<RoleDef<'a>> = cx
            .of_kind("ClusterRole")
            .filter(|o| is_rbac(o))
            .map(|o| RoleDef::from_object(o, RoleKind::ClusterRole))
            .chain(
                cx.of_kind("Role")
                    .filter(|o| is_rbac(o))
                    .map(|o| RoleDef::from_object(o, RoleKind::Role)),
            )
            .collect();
        let frozen: HashSet<&str> = defs
            .iter()
            .filter(|d| d.kind == RoleKind::ClusterRole && d.no_autoupdate)
            .map(|d| d.name)
            .collect();
        for b in BUILTIN_ROLES {
            if !frozen.contains(b.name) {
                defs.push(RoleDef::builtin(b));
            }
        }

        let mut cluster_by_name: HashMap<&'a str, Vec<usize>> = HashMap::new();
        let mut role_by_key: HashMap<(&'a str, &'a str), Vec<usize>> = HashMap::new();
        for (i, d) in defs.iter().enumerate() {
            match d.kind {
                RoleKind::ClusterRole => cluster_by_name.entry(d.name).or_default().push(i),
                RoleKind::Role => role_by_key
                    .entry((d.namespace, d.name))
                    .or_default()
                    .push(i),
            }
        }
        let mut resolver = Resolver {
            defs: &defs,
            cluster_by_name,
            role_by_key,
            cluster_memo: HashMap::new(),
            role_memo: HashMap::new(),
            visiting: Vec::new(),
            sets: Vec::new(),
        };

        let mut bindings = Vec::new();
        for (kind, cluster) in [("ClusterRoleBinding", true), ("RoleBinding", false)] {
            for obj in cx.of_kind(kind).filter(|o| is_rbac(o)) {
                let scope = if cluster {
                    Scope::Cluster
                } else {
                    Scope::Namespace(obj.effective_namespace())
                };
                let role_ref = obj.root.get("roleRef");
                let role_kind = match role_ref.and_then(|r| r.get("kind")).and_then(Node::as_str) {
                    Some("Role") => Some(RoleKind::Role),
                    Some("ClusterRole") => Some(RoleKind::ClusterRole),
                    _ => None,
                };
                let role_name = role_ref
                    .and_then(|r| r.get("name"))
                    .and_then(Node::as_str)
                    .unwrap_or("");
                let role = match (role_kind, scope) {
                    _ if role_name.is_empty() => RoleState::Invalid,
                    (None, _) | (Some(RoleKind::Role), Scope::Cluster) => RoleState::Invalid,
                    (Some(RoleKind::Role), Scope::Namespace(ns)) => resolver
                        .role(ns, role_name)
                        .map_or(RoleState::Missing, RoleState::Resolved),
                    (Some(RoleKind::ClusterRole), _) => match resolver.cluster(role_name) {
                        Some(s) => RoleState::Resolved(s),
                        None if role_name.starts_with("system:") => RoleState::Unknown,
                        None => RoleState::Missing,
                    },
                };
                bindings.push(Binding {
                    object: obj,
                    scope,
                    role_kind,
                    role_name,
                    role,
                    subjects: parse_subjects(obj, scope),
                    exempt: is_default_binding(&obj.name),
                });
            }
        }
        let sets = resolver.sets;

        let mut reachable = vec![false; defs.len()];
        for b in &bindings {
            if let RoleState::Resolved(s) = b.role {
                // A role referenced by a binding counts as used even without rules.
                for &d in &sets[s].defs {
                    reachable[d] = true;
                }
                for r in &sets[s].rules {
                    reachable[r.def] = true;
                }
            }
        }
        Self {
            defs,
            bindings,
            sets,
            reachable,
            by_identity: OnceLock::new(),
        }
    }

    /// The rule behind a [`RuleRef`].
    pub(crate) fn rule(&self, r: RuleRef) -> &PolicyRule<'a> {
        &self.defs[r.def].rules[r.index]
    }

    /// Whether some binding of the input grants this role definition's rules
    /// (directly, or through aggregation into a bound ClusterRole).
    pub(crate) fn is_reachable(&self, def: usize) -> bool {
        self.reachable.get(def).copied().unwrap_or(false)
    }

    /// The effective rules a binding grants (empty unless resolved).
    pub(crate) fn binding_rules(&self, b: &Binding<'a>) -> &[RuleRef] {
        match b.role {
            RoleState::Resolved(s) => &self.sets[s].rules,
            _ => &[],
        }
    }

    /// The first rule the binding grants that allows one of `any`, judged at
    /// the binding's scope.
    pub(crate) fn binding_grants(&self, b: &Binding<'a>, any: &[Need]) -> Option<RuleRef> {
        let cluster = b.scope == Scope::Cluster;
        self.binding_rules(b)
            .iter()
            .copied()
            .find(|r| any.iter().any(|n| n.matches(self.rule(*r), cluster)))
    }

    /// A binding through which `subject`, or a group it is implicitly in, may
    /// do one of `any` somewhere inside `within`; with the rule.
    pub(crate) fn subject_grants(
        &self,
        subject: &Subject<'_>,
        any: &[Need],
        within: Scope<'_>,
    ) -> Option<(usize, RuleRef)> {
        let index = self.by_identity.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (bi, b) in self.bindings.iter().enumerate() {
                for s in &b.subjects {
                    let list = map.entry(s.key()).or_default();
                    if list.last() != Some(&bi) {
                        list.push(bi);
                    }
                }
            }
            map
        });
        for id in subject.identities() {
            for &bi in index.get(&id).map_or(&[][..], Vec::as_slice) {
                let b = &self.bindings[bi];
                if b.scope.overlaps(within)
                    && let Some(r) = self.binding_grants(b, any)
                {
                    return Some((bi, r));
                }
            }
        }
        None
    }

    #[cfg(test)]
    /// Every (binding, subject, rule) that lets a subject do one of `any` in
    /// `namespace`, or, with `None`, cluster-wide (which only a
    /// ClusterRoleBinding grants). Default bindings included.
    pub(crate) fn who_can(&self, any: &[Need], namespace: Option<&str>) -> Vec<Grant<'_, 'a>> {
        let mut out = Vec::new();
        for b in &self.bindings {
            let applies = match (b.scope, namespace) {
                (Scope::Cluster, _) => true,
                (Scope::Namespace(n), Some(ns)) => n == ns,
                (Scope::Namespace(_), None) => false,
            };
            if !applies {
                continue;
            }
            if let Some(rule) = self.binding_grants(b, any) {
                out.extend(b.subjects.iter().map(|subject| Grant {
                    binding: b,
                    subject,
                    rule,
                }));
            }
        }
        out
    }

    /// Where a granted rule comes from and what it says, for messages:
    /// `rules[0] (verbs [...] ...)`, `ClusterRole "x" rules[1] aggregated
    /// into it (...)`, `the built-in rules of "system:aggregate-to-edit" (...)`.
    pub(crate) fn describe_rule(&self, r: RuleRef, role_name: &str) -> String {
        let d = &self.defs[r.def];
        let rule = &d.rules[r.index];
        match d.object {
            Some(_) if d.name == role_name => format!("rules[{}] ({})", r.index, rule.summary()),
            Some(_) => format!(
                "ClusterRole {:?} rules[{}] aggregated into it ({})",
                d.name,
                r.index,
                rule.summary()
            ),
            None => format!("its built-in rule from {:?} ({})", d.name, rule.summary()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Settings;
    use palisade_k8s::load::load_str;

    const SECRETS_READ: &[Need] = &[Need::Api(Req::new(
        &["get", "list", "watch"],
        "",
        "secrets",
    ))];
    const EXEC: &[Need] = &[Need::Api(Req::new(&["get", "create"], "", "pods/exec"))];
    const NODES_PROXY: &[Need] = &[Need::Api(
        Req::new(&["get"], "", "nodes/proxy").cluster_scoped(),
    )];

    fn with_model(yaml: &str, f: impl FnOnce(&Model<'_>)) {
        let load = load_str("test.yaml", yaml);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        let settings = Settings::default();
        let cx = Context::new(&load.objects, &settings);
        let m = Model::build(&cx);
        f(&m);
    }

    fn who(m: &Model<'_>, need: &[Need], ns: Option<&str>) -> Vec<String> {
        let mut v: Vec<String> = m
            .who_can(need, ns)
            .iter()
            .map(|g| g.subject.key())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn rolebinding_to_clusterrole_grants_only_in_its_namespace() {
        with_model(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [\"\"]
  resources: [secrets]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: app}
- {kind: User, name: alice}
",
            |m| {
                assert_eq!(
                    who(m, SECRETS_READ, Some("team-a")),
                    ["ServiceAccount:team-a/app", "User:alice"]
                );
                assert!(who(m, SECRETS_READ, Some("team-b")).is_empty());
                assert!(
                    who(m, SECRETS_READ, None).is_empty(),
                    "a RoleBinding never grants cluster-wide"
                );
            },
        );
    }

    #[test]
    fn clusterrolebinding_grants_everywhere_and_cluster_scoped_resources() {
        with_model(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-proxy}
rules:
- {apiGroups: [\"\"], resources: [nodes/proxy], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prom}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-proxy}
subjects:
- {kind: ServiceAccount, name: prometheus, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prom, namespace: monitoring}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-proxy}
subjects:
- {kind: User, name: bob}
",
            |m| {
                assert_eq!(
                    who(m, NODES_PROXY, None),
                    ["ServiceAccount:monitoring/prometheus"]
                );
                // nodes are cluster-scoped: bob's RoleBinding gives him nothing.
                assert_eq!(
                    who(m, NODES_PROXY, Some("monitoring")),
                    ["ServiceAccount:monitoring/prometheus"]
                );
            },
        );
    }

    #[test]
    fn builtin_roles_are_known_when_absent_and_edit_can_exec_and_read_secrets() {
        with_model(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: devs}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auditors, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: auditors}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: root}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: root}]
",
            |m| {
                assert_eq!(
                    who(m, SECRETS_READ, Some("shop")),
                    ["Group:devs", "User:root"]
                );
                assert_eq!(who(m, EXEC, Some("shop")), ["Group:devs", "User:root"]);
                assert_eq!(who(m, &[Need::FullAdmin], None), ["User:root"]);
            },
        );
    }

    #[test]
    fn aggregated_clusterroles_pass_their_rules_on() {
        with_model(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: crd-secrets
  labels: {rbac.authorization.k8s.io/aggregate-to-view: \"true\"}
rules:
- {apiGroups: [\"\"], resources: [secrets], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchExpressions: [{key: team, operator: In, values: [sre]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: exec-pods
  labels: {team: sre}
rules:
- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auditors, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: auditors}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: sre}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects: [{kind: Group, name: sre}]
",
            |m| {
                // view aggregates crd-secrets through its built-in aggregationRule.
                assert_eq!(who(m, SECRETS_READ, Some("shop")), ["Group:auditors"]);
                assert_eq!(who(m, EXEC, Some("anywhere")), ["Group:sre"]);
                let grant = m.who_can(EXEC, None)[0];
                assert_eq!(grant.binding.object.name, "sre");
                let d = &m.defs[grant.rule.def];
                assert_eq!(d.name, "exec-pods");
                assert!(
                    m.describe_rule(grant.rule, "monitoring")
                        .contains("aggregated")
                );
            },
        );
    }

    #[test]
    fn reconciled_cluster_admin_keeps_everything_unless_autoupdate_is_off() {
        let doc = |annotation: &str| {
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-admin{annotation}
rules:
- {{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: ops}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: User, name: ops}}]
"
            )
        };
        with_model(&doc(""), |m| {
            assert_eq!(who(m, &[Need::FullAdmin], None), ["User:ops"]);
        });
        with_model(
            &doc("\n  annotations: {rbac.authorization.kubernetes.io/autoupdate: \"false\"}"),
            |m| assert!(who(m, &[Need::FullAdmin], None).is_empty()),
        );
    }

    #[test]
    fn wildcards_follow_the_authorizer() {
        let rule = |resources: Vec<&'static str>| PolicyRule {
            verbs: vec!["create"],
            api_groups: vec![""],
            resources,
            ..PolicyRule::default()
        };
        let exec = Need::Api(Req::new(&["create"], "", "pods/exec"));
        assert!(exec.matches(&rule(vec!["*"]), false));
        assert!(exec.matches(&rule(vec!["*/exec"]), false));
        assert!(!exec.matches(&rule(vec!["pods/*"]), false));
        assert!(!exec.matches(&rule(vec!["pods"]), false));
        let mut named = rule(vec!["pods"]);
        named.resource_names = vec!["web-0"];
        assert!(
            !Need::Api(Req::new(&["create"], "", "pods")).matches(&named, false),
            "create ignores named rules"
        );
    }

    #[test]
    fn implicit_groups_reach_service_accounts_and_missing_refs_are_told_apart() {
        with_model(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sa}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: Group, name: system:serviceaccounts:ci}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ghost, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: nope}
subjects: [{kind: ServiceAccount, name: runner}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: delegator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator}
subjects: [{kind: ServiceAccount, name: runner, namespace: ci}]
",
            |m| {
                let by_name = |n: &str| m.bindings.iter().find(|b| b.object.name == n).unwrap();
                let runner = &by_name("ghost").subjects[0];
                assert_eq!(runner.key(), "ServiceAccount:ci/runner");
                assert!(
                    m.subject_grants(runner, SECRETS_READ, Scope::Namespace("ci"))
                        .is_some()
                );
                assert_eq!(by_name("ghost").role, RoleState::Missing);
                assert_eq!(by_name("delegator").role, RoleState::Unknown);
            },
        );
    }
}
