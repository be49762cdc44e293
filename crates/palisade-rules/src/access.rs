//! Who can read one named object: a public question over the RBAC
//! effective-permission model ([`crate::rules::rbac::model`]) for other
//! crates (the secrets inventory asks it for every Secret).

use crate::context::Context;
use crate::rules::rbac::model::{Scope, SubjectKind};

/// The verbs that reveal a Secret's data.
const READ_VERBS: [&str; 3] = ["get", "list", "watch"];

/// A subject kind, as RBAC spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReaderKind {
    /// `User`.
    User,
    /// `Group`.
    Group,
    /// `ServiceAccount`.
    ServiceAccount,
}

impl ReaderKind {
    /// `User`, `Group` or `ServiceAccount`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderKind::User => "User",
            ReaderKind::Group => "Group",
            ReaderKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// One subject that may read an object, with the grant that lets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// Subject kind.
    pub kind: ReaderKind,
    /// Subject name.
    pub name: String,
    /// A ServiceAccount's namespace (`""` otherwise).
    pub namespace: String,
    /// `ClusterRoleBinding "x" binds ClusterRole "y"`.
    pub binding: String,
    /// The role rule that grants it, e.g. `rules[0] (verbs [...] ...)`.
    pub rule: String,
    /// Granted by a ClusterRoleBinding (every namespace) rather than a
    /// RoleBinding in the object's namespace.
    pub cluster_wide: bool,
}

impl Reader {
    /// A stable identity, e.g. `ServiceAccount:ci/deployer`, `Group:system:authenticated`.
    pub fn key(&self) -> String {
        match self.kind {
            ReaderKind::ServiceAccount => {
                format!("ServiceAccount:{}/{}", self.namespace, self.name)
            }
            k => format!("{}:{}", k.as_str(), self.name),
        }
    }
}

impl Context<'_> {
    /// Every subject of a binding of the input (default bindings included)
    /// that may get, list or watch the core-group object `resource` named
    /// `name` in `namespace`: through a ClusterRoleBinding, or a RoleBinding
    /// in `namespace`; rules limited by `resourceNames` count only when they
    /// name it. Built-in ClusterRoles (`cluster-admin`, `admin`, `edit`)
    /// count with their bootstrap rules. Sorted by subject, one entry per
    /// (subject, binding).
    pub fn readers(&self, resource: &str, namespace: &str, name: &str) -> Vec<Reader> {
        let model = self.rbac();
        let mut out = Vec::new();
        for b in &model.bindings {
            let cluster_wide = match b.scope {
                Scope::Cluster => true,
                Scope::Namespace(ns) if ns == namespace => false,
                Scope::Namespace(_) => continue,
            };
            let grant = model.binding_rules(b).iter().copied().find(|r| {
                let rule = model.rule(*r);
                rule.allows_group("")
                    && rule.allows_resource(resource)
                    && READ_VERBS.iter().any(|v| rule.allows_verb(v))
                    && (rule.resource_names.is_empty() || rule.resource_names.contains(&name))
            });
            let Some(r) = grant else { continue };
            let rule = model.describe_rule(r, b.role_name);
            for s in &b.subjects {
                out.push(Reader {
                    kind: match s.kind {
                        SubjectKind::User => ReaderKind::User,
                        SubjectKind::Group => ReaderKind::Group,
                        SubjectKind::ServiceAccount => ReaderKind::ServiceAccount,
                    },
                    name: s.name.to_owned(),
                    namespace: s.namespace.to_owned(),
                    binding: b.describe(),
                    rule: rule.clone(),
                    cluster_wide,
                });
            }
        }
        out.sort_by(|a, b| (a.key(), &a.binding).cmp(&(b.key(), &b.binding)));
        out.dedup_by(|a, b| a.key() == b.key() && a.binding == b.binding);
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::context::Context;
    use crate::engine::Settings;
    use palisade_k8s::load::load_str;

    const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-one, namespace: app}
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: ["db-creds"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-one, namespace: app}
subjects:
  - kind: ServiceAccount
    name: api
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-one}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: oncall-admin}
subjects:
  - kind: Group
    name: oncall
    apiGroup: rbac.authorization.k8s.io
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-edit, namespace: other}
subjects:
  - kind: Group
    name: devs
    apiGroup: rbac.authorization.k8s.io
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-view}
subjects:
  - kind: Group
    name: system:authenticated
    apiGroup: rbac.authorization.k8s.io
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
"#;

    fn keys(ns: &str, name: &str) -> Vec<String> {
        let load = load_str("rbac.yaml", RBAC);
        assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
        let settings = Settings::default();
        let cx = Context::new(&load.objects, &settings);
        cx.readers("secrets", ns, name)
            .iter()
            .map(super::Reader::key)
            .collect()
    }

    #[test]
    fn resource_names_count_only_for_the_named_secret() {
        assert_eq!(
            keys("app", "db-creds"),
            ["Group:oncall", "ServiceAccount:app/api"]
        );
        assert_eq!(keys("app", "other"), ["Group:oncall"]);
    }

    #[test]
    fn role_bindings_grant_only_in_their_namespace_and_view_cannot_read_secrets() {
        assert_eq!(keys("other", "x"), ["Group:devs", "Group:oncall"]);
    }
}
