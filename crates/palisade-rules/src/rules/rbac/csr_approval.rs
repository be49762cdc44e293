//! PLS-RBAC-015: Subject can approve certificate signing requests.
//!
//! What it does: flags every subject that ClusterRoleBindings allow both
//! `update`/`patch` on `certificatesigningrequests/approval` and `approve`
//! on `signers` for a signer whose certificates authenticate to the API
//! server (`kubernetes.io/kube-apiserver-client`,
//! `kubernetes.io/kube-apiserver-client-kubelet`,
//! `kubernetes.io/legacy-unknown`, `kubernetes.io/*`, or any signer when
//! `resourceNames` is absent); and every ClusterRole holding both that no
//! binding of the input uses.
//!
//! Why it matters: an approved client certificate can carry any user and
//! group, `system:masters` included, and cannot be revoked.
//!
//! Example: a ClusterRole with `update` on
//! `certificatesigningrequests/approval` and `approve` on `signers`.
//!
//! Fix: limit `approve` to your own signer names in resourceNames.

use super::model::{Names, Need, Req};
use super::report::{Capability, Reach, report};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};

pub(crate) struct CsrApproval;

const API_SERVER_CLIENT_SIGNERS: &[&str] = &[
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/legacy-unknown",
    "kubernetes.io/*",
];

static META: RuleMeta = RuleMeta {
    id: "PLS-RBAC-015",
    title: "Subject can approve certificate signing requests",
    severity: Severity::High,
    category: "rbac",
    rationale: "Approving a CertificateSigningRequest for the kube-apiserver-client signer mints a client certificate for any user and group the requester chose, `system:masters` included; such certificates bypass RBAC and cannot be revoked before they expire. It takes `update` on certificatesigningrequests/approval and `approve` on the signer.",
    remediation: "Remove `update`/`patch` on `certificatesigningrequests/approval` and `approve` on `signers` from `rules[]`; an approver for your own signer gets `approve` with `resourceNames: [\"example.com/my-signer\"]`.",
    references: References {
        checkov: &["CKV_K8S_156"],
        cis: &["5.1.11"],
        links: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization",
        ],
        ..References::NONE
    },
};

static CAP: Capability = Capability {
    what: "approve CertificateSigningRequests for API-server client certificates",
    ways: &[&[
        &[Need::Api(
            Req::new(
                &["update", "patch"],
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
            )
            .cluster_scoped(),
        )],
        &[Need::Api(
            Req::new(&["approve"], "certificates.k8s.io", "signers")
                .names(Names::OneOf(API_SERVER_CLIENT_SIGNERS))
                .cluster_scoped(),
        )],
    ]],
    reach: Reach::Cluster,
    unused_roles: true,
};

impl Rule for CsrApproval {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_all(&self, cx: &Context<'_>, out: &mut Emitter<'_>) {
        report(cx.rbac(), &CAP, out);
    }
}
