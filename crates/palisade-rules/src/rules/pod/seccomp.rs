//! PLS-POD-019: Container runs without a seccomp profile.
//!
//! What it does: flags containers whose effective seccomp profile is not
//! `RuntimeDefault` or `Localhost`: none set, `Unconfined`, or a value the
//! runtime cannot apply. The container's `seccompProfile` wins over the
//! legacy `container.seccomp.security.alpha.kubernetes.io/<name>`
//! annotation, which wins over the pod's `seccompProfile`, then the pod
//! annotation `seccomp.security.alpha.kubernetes.io/pod` (`runtime/default`,
//! `docker/default` and `localhost/<file>` are accepted there).
//!
//! Why it matters: without seccomp every syscall is open to the process,
//! including the ones behind most kernel container escapes; the kubelet
//! runs containers Unconfined unless `--seccomp-default` is on.
//!
//! Example: no `seccompProfile` anywhere.
//!
//! Fix: `securityContext: {seccompProfile: {type: RuntimeDefault}}` at pod
//! level.

use super::{Confinement, Hits, is_windows, sc_path, seccomp_of, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct Seccomp;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-019",
    title: "Container runs without a seccomp profile",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "Unless a pod or container asks for `RuntimeDefault` or a `Localhost` profile, the kubelet starts it Unconfined (its `--seccomp-default` flag is off by default), so every syscall, including the unshare/keyctl/bpf calls behind most kernel container escapes, stays available. The runtime's default profile blocks them and breaks almost nothing.",
    remediation: "Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level (or `Localhost` with `localhostProfile` for a tailored profile) and do not override it with `Unconfined` in a container. The legacy `seccomp.security.alpha.kubernetes.io` annotations are deprecated; use the field.",
    references: References {
        trivy: &["KSV-0030"],
        kubescape: &["C-0210"],
        checkov: &["CKV_K8S_31"],
        kube_score: &["container-seccomp-profile"],
        pss: &["baseline:seccomp", "restricted:seccomp"],
        cis: &["5.7.2"],
        links: &["https://kubernetes.io/docs/tutorials/security/seccomp/"],
        ..References::NONE
    },
};

impl Rule for Seccomp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        let mut hits = Hits::new();
        for c in &w.containers {
            match seccomp_of(w, c) {
                Confinement::Confined => {}
                Confinement::Weak { path, what, from_pod: true, .. } => hits.value(c, path, true, || what),
                Confinement::Weak { path, what, .. } => {
                    hits.own(c, path, format!("{} runs with {what}", who(c)));
                }
                Confinement::Unset => hits.own(
                    c,
                    sc_path(c, &["seccompProfile"]),
                    format!(
                        "{} has no seccomp profile (pod, container or annotation), so it runs Unconfined unless the kubelet enables --seccomp-default",
                        who(c)
                    ),
                ),
            }
        }
        hits.emit(w, out);
    }
}
