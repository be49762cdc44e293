//! PLS-POD-002: Container allows privilege escalation.
//!
//! What it does: flags containers (init and ephemeral included) that do not
//! set `securityContext.allowPrivilegeEscalation: false`, and those whose
//! `false` cannot take effect because they run privileged or add
//! `SYS_ADMIN`.
//!
//! Why it matters: without `no_new_privs`, a setuid binary or a file
//! capability in the image lifts the process above the privileges it was
//! started with. The field is container-only (a pod-level value is ignored
//! by the API server) and defaults to allowing escalation.
//!
//! Example: a container with no `securityContext`.
//!
//! Fix: `securityContext: {allowPrivilegeEscalation: false}` on every
//! container.

use super::{Hits, caps, is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct AllowPrivilegeEscalation;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-002",
    title: "Container allows privilege escalation",
    severity: Severity::High,
    category: "pod-security",
    rationale: "Unless a container sets `allowPrivilegeEscalation: false`, the kernel's no_new_privs flag is off and a setuid-root binary or file capability in the image (sudo, su, ping on older images) raises the process's privileges. The field exists only on containers and defaults to allowing escalation; a privileged container or one adding SYS_ADMIN can always escalate.",
    remediation: "Set `securityContext.allowPrivilegeEscalation: false` on every container, init container and ephemeral container (a pod-level value is ignored). If the container also sets `privileged: true` or adds `SYS_ADMIN`, remove those: the API server rejects them together with `allowPrivilegeEscalation: false`.",
    references: References {
        trivy: &["KSV-0001"],
        kubescape: &["C-0016"],
        checkov: &["CKV_K8S_20"],
        polaris: &["privilegeEscalationAllowed"],
        kube_linter: &["privilege-escalation-container"],
        pss: &["restricted:privilege-escalation"],
        cis: &["5.2.5"],
        links: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"],
        ..References::NONE
    },
};

impl Rule for AllowPrivilegeEscalation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            let ape = c
                .node
                .get("securityContext")
                .and_then(|s| s.get("allowPrivilegeEscalation"));
            let privileged = c
                .node
                .get("securityContext")
                .and_then(|s| s.get("privileged"))
                .and_then(Node::as_bool)
                == Some(true);
            let sys_admin = caps(c, "add")
                .into_iter()
                .find(|x| x.name == "SYS_ADMIN" || x.name == "ALL");
            match ape.and_then(Node::as_bool) {
                Some(true) => hits.own(
                    c,
                    sc_path(c, &["allowPrivilegeEscalation"]),
                    format!("{} sets allowPrivilegeEscalation: true", who(c)),
                ),
                Some(false) if privileged => hits.own(
                    c,
                    sc_path(c, &["privileged"]),
                    format!(
                        "{} sets allowPrivilegeEscalation: false but also privileged: true, which always allows escalation (the API server rejects the pair)",
                        who(c)
                    ),
                ),
                Some(false) => {
                    if let Some(cap) = sys_admin {
                        hits.own(
                            c,
                            cap.path,
                            format!(
                                "{} sets allowPrivilegeEscalation: false but adds capability {}, which makes it ineffective",
                                who(c),
                                cap.raw
                            ),
                        );
                    }
                }
                None => {
                    let why = if privileged {
                        " and runs privileged"
                    } else if sys_admin.is_some() {
                        " and adds SYS_ADMIN"
                    } else {
                        ""
                    };
                    hits.own(
                        c,
                        sc_path(c, &["allowPrivilegeEscalation"]),
                        format!(
                            "{} does not set allowPrivilegeEscalation: false (it defaults to true){why}",
                            who(c)
                        ),
                    );
                }
            }
        }
        hits.emit(w, out);
    }
}
