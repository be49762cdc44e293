//! PLS-POD-020: Container AppArmor profile is disabled.
//!
//! What it does: flags containers whose effective AppArmor profile is
//! `Unconfined` or not a profile the runtime can apply. The kubelet's
//! order: the container's `appArmorProfile`, else the annotation
//! `container.apparmor.security.beta.kubernetes.io/<name>`, else the pod's
//! `appArmorProfile`. Leaving it unset is fine: the runtime's default
//! profile applies on AppArmor hosts.
//!
//! Why it matters: the runtime's default AppArmor profile blocks writes to
//! `/proc` and `/sys` knobs and mounts that container escapes rely on;
//! `Unconfined` removes it.
//!
//! Example: `appArmorProfile: {type: Unconfined}`.
//!
//! Fix: leave it unset, or `RuntimeDefault` / `Localhost`.

use super::{Confinement, Hits, apparmor_of, is_windows, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct AppArmor;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-020",
    title: "Container AppArmor profile is disabled",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "On AppArmor hosts (Ubuntu, Debian, COS, Bottlerocket) the runtime confines containers with its default profile, which denies mounts and writes to sensitive `/proc` and `/sys` files. `Unconfined` (or a profile name the runtime cannot load) turns that off for the container.",
    remediation: "Remove the `Unconfined` setting: leave `appArmorProfile` unset or set `securityContext.appArmorProfile.type: RuntimeDefault` (or `Localhost` with `localhostProfile`). Replace the deprecated `container.apparmor.security.beta.kubernetes.io/<container>` annotation with the field.",
    references: References {
        trivy: &["KSV-0002"],
        pss: &["baseline:apparmor"],
        links: &["https://kubernetes.io/docs/tutorials/security/apparmor/"],
        ..References::NONE
    },
};

impl Rule for AppArmor {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            match apparmor_of(w, c) {
                Confinement::Confined | Confinement::Unset => {}
                Confinement::Weak {
                    path,
                    what,
                    from_pod: true,
                    ..
                } => hits.value(c, path, true, || what),
                Confinement::Weak { path, what, .. } => {
                    hits.own(c, path, format!("{} runs with {what}", who(c)));
                }
            }
        }
        hits.emit(w, out);
    }
}
