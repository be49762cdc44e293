//! The built-in ClusterRoles the RBAC model knows even when the input does
//! not contain them, as the API server bootstraps them
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`; Kubernetes
//! docs, "Using RBAC Authorization", section "User-facing roles").
//!
//! `admin`, `edit` and `view` hold no rules of their own: they aggregate
//! every ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-<name>:
//! "true"`, starting with the `system:aggregate-to-*` roles below; `edit`
//! carries the `aggregate-to-admin` label and `view` the `aggregate-to-edit`
//! one, so `admin` ⊇ `edit` ⊇ `view`. At every start the API server adds
//! back any missing rule of these roles (auto-reconciliation) unless the role
//! is annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.

/// One bootstrap rule.
#[derive(Debug)]
pub(crate) struct BuiltinRule {
    pub verbs: &'static [&'static str],
    pub api_groups: &'static [&'static str],
    pub resources: &'static [&'static str],
    pub non_resource_urls: &'static [&'static str],
}

/// One bootstrap ClusterRole.
#[derive(Debug)]
pub(crate) struct BuiltinRole {
    pub name: &'static str,
    pub labels: &'static [(&'static str, &'static str)],
    /// `aggregationRule`: the label (with value `"true"`) it aggregates.
    pub aggregates: Option<&'static str>,
    pub rules: &'static [BuiltinRule],
}

pub(crate) const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
pub(crate) const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
pub(crate) const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

const fn rule(
    verbs: &'static [&'static str],
    api_groups: &'static [&'static str],
    resources: &'static [&'static str],
) -> BuiltinRule {
    BuiltinRule {
        verbs,
        api_groups,
        resources,
        non_resource_urls: &[],
    }
}

/// The built-in ClusterRoles, by name.
pub(crate) static BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        name: "cluster-admin",
        labels: &[],
        aggregates: None,
        rules: &[
            rule(&["*"], &["*"], &["*"]),
            BuiltinRule {
                verbs: &["*"],
                api_groups: &[],
                resources: &[],
                non_resource_urls: &["*"],
            },
        ],
    },
    BuiltinRole {
        name: "admin",
        labels: &[],
        aggregates: Some(AGGREGATE_TO_ADMIN),
        rules: &[],
    },
    BuiltinRole {
        name: "edit",
        labels: &[(AGGREGATE_TO_ADMIN, "true")],
        aggregates: Some(AGGREGATE_TO_EDIT),
        rules: &[],
    },
    BuiltinRole {
        name: "view",
        labels: &[(AGGREGATE_TO_EDIT, "true")],
        aggregates: Some(AGGREGATE_TO_VIEW),
        rules: &[],
    },
    BuiltinRole {
        name: "system:aggregate-to-admin",
        labels: &[(AGGREGATE_TO_ADMIN, "true")],
        aggregates: None,
        rules: &[
            rule(
                &["create"],
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews"],
            ),
            rule(
                READ_WRITE,
                &["rbac.authorization.k8s.io"],
                &["roles", "rolebindings"],
            ),
        ],
    },
    BuiltinRole {
        name: "system:aggregate-to-edit",
        labels: &[(AGGREGATE_TO_EDIT, "true")],
        aggregates: None,
        rules: &[
            rule(
                READ,
                &[""],
                &[
                    "pods/attach",
                    "pods/proxy",
                    "pods/exec",
                    "pods/portforward",
                    "secrets",
                    "services/proxy",
                ],
            ),
            rule(&["impersonate"], &[""], &["serviceaccounts"]),
            rule(
                WRITE,
                &[""],
                &[
                    "pods",
                    "pods/attach",
                    "pods/proxy",
                    "pods/exec",
                    "pods/portforward",
                ],
            ),
            rule(&["create"], &[""], &["pods/eviction"]),
            rule(
                WRITE,
                &[""],
                &[
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "serviceaccounts",
                    "services",
                    "services/proxy",
                    "persistentvolumeclaims",
                    "configmaps",
                    "secrets",
                    "events",
                ],
            ),
            rule(&["create"], &[""], &["serviceaccounts/token"]),
            rule(
                WRITE,
                &["apps"],
                &[
                    "statefulsets",
                    "statefulsets/scale",
                    "daemonsets",
                    "deployments",
                    "deployments/scale",
                    "deployments/rollback",
                    "replicasets",
                    "replicasets/scale",
                ],
            ),
            rule(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
            rule(WRITE, &["batch"], &["jobs", "cronjobs"]),
            rule(
                WRITE,
                &["extensions"],
                &[
                    "daemonsets",
                    "deployments",
                    "deployments/scale",
                    "deployments/rollback",
                    "ingresses",
                    "replicasets",
                    "replicasets/scale",
                    "replicationcontrollers/scale",
                    "networkpolicies",
                ],
            ),
            rule(WRITE, &["policy"], &["poddisruptionbudgets"]),
            rule(
                WRITE,
                &["networking.k8s.io"],
                &["networkpolicies", "ingresses"],
            ),
            rule(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
        ],
    },
    BuiltinRole {
        name: "system:aggregate-to-view",
        labels: &[(AGGREGATE_TO_VIEW, "true")],
        aggregates: None,
        rules: &[
            rule(
                READ,
                &[""],
                &[
                    "pods",
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "serviceaccounts",
                    "services",
                    "services/status",
                    "endpoints",
                    "persistentvolumeclaims",
                    "persistentvolumeclaims/status",
                    "configmaps",
                ],
            ),
            rule(
                READ,
                &[""],
                &[
                    "limitranges",
                    "resourcequotas",
                    "bindings",
                    "events",
                    "pods/status",
                    "resourcequotas/status",
                    "namespaces/status",
                    "replicationcontrollers/status",
                    "pods/log",
                ],
            ),
            rule(READ, &[""], &["namespaces"]),
            rule(READ, &["discovery.k8s.io"], &["endpointslices"]),
            rule(
                READ,
                &["apps"],
                &[
                    "controllerrevisions",
                    "statefulsets",
                    "statefulsets/scale",
                    "statefulsets/status",
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                ],
            ),
            rule(
                READ,
                &["autoscaling"],
                &[
                    "horizontalpodautoscalers",
                    "horizontalpodautoscalers/status",
                ],
            ),
            rule(
                READ,
                &["batch"],
                &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
            ),
            rule(
                READ,
                &["extensions"],
                &[
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "ingresses",
                    "ingresses/status",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                    "replicationcontrollers/scale",
                    "networkpolicies",
                ],
            ),
            rule(
                READ,
                &["policy"],
                &["poddisruptionbudgets", "poddisruptionbudgets/status"],
            ),
            rule(
                READ,
                &["networking.k8s.io"],
                &["ingresses", "ingresses/status", "networkpolicies"],
            ),
        ],
    },
];
