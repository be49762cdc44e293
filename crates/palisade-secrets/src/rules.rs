//! The lifecycle findings of the inventory: `PLS-SCR-001..006`.

use palisade_core::{References, RuleMeta, Severity};

const CATEGORY: &str = "secrets-lifecycle";

/// PLS-SCR-001.
pub static STALE: RuleMeta = RuleMeta {
    id: "PLS-SCR-001",
    title: "Secret not rotated within policy age",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "A credential that never changes stays valid for whoever copied it once: from a log, a backup, a laptop, a former employee. Rotation bounds how long a leak is useful.",
    remediation: "Rotate the Secret and record the time in the `palisade.dev/rotated-at` annotation (RFC 3339), or set `palisade.dev/rotate-every` and let `palisade secrets rotate` do it.",
    references: References {
        links: &[
            "https://kubernetes.io/docs/concepts/security/secrets-good-practices/",
            "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html#25-rotation",
        ],
        ..References::NONE
    },
};

/// PLS-SCR-002.
pub static UNUSED: RuleMeta = RuleMeta {
    id: "PLS-SCR-002",
    title: "Secret has no consumer",
    severity: Severity::Low,
    category: CATEGORY,
    rationale: "A Secret nothing mounts, injects or pulls with is a credential kept alive for no workload: it widens what a reader of the namespace gets and is usually forgotten at rotation time.",
    remediation: "Delete the Secret (and revoke the credential) if nothing needs it; otherwise add the manifests of its consumers to the scan.",
    references: References {
        links: &["https://kubernetes.io/docs/concepts/security/secrets-good-practices/"],
        ..References::NONE
    },
};

/// PLS-SCR-003.
pub static ENV: RuleMeta = RuleMeta {
    id: "PLS-SCR-003",
    title: "Secret consumed as environment variables",
    severity: Severity::Low,
    category: CATEGORY,
    rationale: "Environment variables are read once at container start: a rotated Secret reaches the process only after a restart, they leak into crash dumps, `/proc/<pid>/environ` and child processes, and every container of the pod sees them.",
    remediation: "Mount the Secret as a volume (the kubelet refreshes it in place) and read the file, or roll the workload on change (`palisade secrets` injection, stakater Reloader).",
    references: References {
        kube_linter: &["env-var-secret"],
        links: &[
            "https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables",
        ],
        ..References::NONE
    },
};

/// PLS-SCR-004.
pub static BROAD: RuleMeta = RuleMeta {
    id: "PLS-SCR-004",
    title: "Secret readable by a broad subject",
    severity: Severity::High,
    category: CATEGORY,
    rationale: "A Secret that every authenticated user, every ServiceAccount of a namespace (or of the cluster), or a namespace's `default` ServiceAccount (which every pod without `serviceAccountName` runs as) can read is as exposed as the weakest of them.",
    remediation: "Bind the role to the one ServiceAccount that needs the Secret, limit the rule with `resourceNames`, and never grant Secret reads to `system:authenticated`, `system:serviceaccounts[:<ns>]` or a `default` ServiceAccount.",
    references: References {
        kubescape: &["C-0015"],
        cis: &["5.1.2"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets",
        ],
        ..References::NONE
    },
};

/// PLS-SCR-005.
pub static NO_REFRESH: RuleMeta = RuleMeta {
    id: "PLS-SCR-005",
    title: "ExternalSecret never refreshes",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "With `refreshInterval: 0` (or `refreshPolicy: CreatedOnce`/`OnChange`) the External Secrets Operator copies the provider's value once: a rotation in the provider never reaches the cluster, so either rotation is broken or the old credential must stay valid forever.",
    remediation: "Set `spec.refreshInterval` to a positive duration (e.g. `1h`) and `refreshPolicy: Periodic` (the default).",
    references: References {
        links: &["https://external-secrets.io/latest/api/externalsecret/"],
        ..References::NONE
    },
};

/// PLS-SCR-006.
pub static LEGACY_TOKEN: RuleMeta = RuleMeta {
    id: "PLS-SCR-006",
    title: "Legacy ServiceAccount token Secret",
    severity: Severity::Medium,
    category: CATEGORY,
    rationale: "A `kubernetes.io/service-account-token` Secret holds a token that never expires and is not bound to a pod; whoever reads the Secret is that ServiceAccount until the Secret is deleted. Kubernetes 1.24+ issues short-lived projected tokens instead and cleans unused legacy ones up.",
    remediation: "Delete the Secret and use projected ServiceAccount tokens (the default), or `kubectl create token` for a bounded token outside the cluster.",
    references: References {
        kubescape: &["C-0034"],
        links: &[
            "https://kubernetes.io/docs/concepts/security/service-accounts/#get-a-token",
            "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner",
        ],
        ..References::NONE
    },
};

/// Every rule of the inventory, in ID order.
pub static ALL: [&RuleMeta; 6] = [&STALE, &UNUSED, &ENV, &BROAD, &NO_REFRESH, &LEGACY_TOKEN];
