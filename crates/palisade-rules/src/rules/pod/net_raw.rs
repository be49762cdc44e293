//! PLS-POD-016: Container keeps the NET_RAW capability.
//!
//! What it does: flags containers that end up holding NET_RAW: it is in the
//! runtime's default set, so a container has it unless `drop` names
//! `NET_RAW` or `ALL`, and adding it back after `drop: [ALL]` restores it.
//! `add: [ALL]` is left to PLS-POD-017.
//!
//! Why it matters: raw sockets let a process forge packets: ARP and DNS
//! spoofing against neighbours on the node's network, and several
//! container escapes of the past went through it.
//!
//! Example: a container with no `capabilities`.
//!
//! Fix: `capabilities: {drop: [ALL]}` (or at least `NET_RAW`).

use super::{caps, holds_cap, is_windows, sc_path, who};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct NetRaw;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-016",
    title: "Container keeps the NET_RAW capability",
    severity: Severity::Medium,
    category: "pod-security",
    rationale: "NET_RAW is in the default capability set of containerd, CRI-O and Docker. It lets a process open raw and packet sockets, which is enough to spoof ARP, DNS or ICMP traffic towards other pods on the same node, and it has been the first step of several container-escape exploits. Almost no server needs it.",
    remediation: "Drop it: `securityContext.capabilities.drop: [\"ALL\"]` (or at least `NET_RAW`), and do not add it back in `capabilities.add`. For ping, set the `net.ipv4.ping_group_range` sysctl instead.",
    references: References {
        checkov: &["CKV_K8S_28"],
        kube_linter: &["drop-net-raw-capability"],
        cis: &["5.2.7"],
        links: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container",
        ],
        ..References::NONE
    },
};

impl Rule for NetRaw {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        if is_windows(w) {
            return;
        }
        for c in &w.containers {
            if !holds_cap(c, "NET_RAW") {
                continue;
            }
            let add = caps(c, "add");
            if add.iter().any(|a| a.name == "ALL") {
                continue; // PLS-POD-017 reports `add: [ALL]`
            }
            match add.into_iter().find(|a| a.name == "NET_RAW") {
                Some(a) => {
                    let back = if caps(c, "drop").iter().any(|d| d.name == "ALL") {
                        " back after dropping ALL"
                    } else {
                        ""
                    };
                    out.report_container(
                        w.object,
                        c.name,
                        a.path,
                        format!("{} adds capability {}{back}", who(c), a.raw),
                    );
                }
                None => out.report_container(
                    w.object,
                    c.name,
                    sc_path(c, &["capabilities", "drop"]),
                    format!(
                        "{} does not drop NET_RAW (or ALL), so it keeps raw sockets",
                        who(c)
                    ),
                ),
            }
        }
    }
}
