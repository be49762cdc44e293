//! Reporting a capability ("can read Secrets", "can exec into pods") for
//! every subject that has it, and for every role that would give it but that
//! no binding of the input uses.

use super::builtin::{AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW};
use super::model::{Model, Need, RoleKind, RuleRef, Scope, is_default_role};
use crate::rule::Emitter;
use palisade_core::Path;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Which grants a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// ClusterRoleBindings, and ClusterRoles no binding uses.
    Cluster,
    /// RoleBindings, and Roles no binding uses.
    Namespace,
    /// Both.
    Any,
}

/// One step of a way: any of these needs.
pub(crate) type Step = &'static [Need];

/// A power and the ways to get it. A way is a list of steps that must all
/// hold for the same subject, e.g. `bind` on roles *and* create on
/// rolebindings; the finding points at the binding that grants the first.
#[derive(Debug)]
pub(crate) struct Capability {
    /// The power, after "can": `read Secrets`.
    pub(crate) what: &'static str,
    pub(crate) ways: &'static [&'static [Step]],
    pub(crate) reach: Reach,
    /// Also report roles that no binding of the input uses.
    pub(crate) unused_roles: bool,
}

struct Hit {
    binding: usize,
    subject: usize,
    rule: RuleRef,
    companions: Vec<(usize, RuleRef)>,
}

/// Reports `cap` for every subject that has it, on the binding's subject
/// (keyed by the subject so the fingerprints stay apart), and for every
/// unused, non-default role that would give it, on the role's rule.
pub(crate) fn report(model: &Model<'_>, cap: &Capability, out: &mut Emitter<'_>) {
    report_grants(model, cap, out);
    if cap.unused_roles {
        report_unused_roles(model, cap, out);
    }
}

fn report_grants(model: &Model<'_>, cap: &Capability, out: &mut Emitter<'_>) {
    let mut hits: Vec<Hit> = Vec::new();
    for (bi, b) in model.bindings.iter().enumerate() {
        let in_reach = !matches!(
            (cap.reach, b.scope),
            (Reach::Cluster, Scope::Namespace(_)) | (Reach::Namespace, Scope::Cluster)
        );
        if b.exempt || !in_reach {
            continue;
        }
        for (si, s) in b.subjects.iter().enumerate() {
            for way in cap.ways {
                let Some((first, rest)) = way.split_first() else {
                    continue;
                };
                let Some(rule) = model.binding_grants(b, first) else {
                    continue;
                };
                let companions: Option<Vec<(usize, RuleRef)>> = rest
                    .iter()
                    .map(|step| model.subject_grants(s, step, b.scope))
                    .collect();
                if let Some(companions) = companions {
                    hits.push(Hit {
                        binding: bi,
                        subject: si,
                        rule,
                        companions,
                    });
                    break;
                }
            }
        }
    }

    let mut per_subject: HashMap<String, usize> = HashMap::new();
    for h in &hits {
        *per_subject
            .entry(model.bindings[h.binding].subjects[h.subject].key())
            .or_default() += 1;
    }
    for h in hits {
        let b = &model.bindings[h.binding];
        let s = &b.subjects[h.subject];
        let key = s.key();
        let mut msg = format!(
            "{s} can {} {}: {}, {}",
            cap.what,
            b.scope,
            b.describe(),
            model.describe_rule(h.rule, b.role_name)
        );
        for &(cb, cr) in &h.companions {
            let c = &model.bindings[cb];
            if cb == h.binding {
                let _ = write!(msg, " and {}", model.describe_rule(cr, c.role_name));
            } else {
                let _ = write!(
                    msg,
                    "; and {}, {}",
                    c.describe(),
                    model.describe_rule(cr, c.role_name)
                );
            }
        }
        let others = per_subject
            .get(&key)
            .copied()
            .unwrap_or(1)
            .saturating_sub(1);
        if others > 0 {
            let _ = write!(msg, " (granted by {others} other binding(s) too)");
        }
        out.report_keyed(b.object, Path::keys("subjects").index(s.index), &key, msg);
    }
}

fn report_unused_roles(model: &Model<'_>, cap: &Capability, out: &mut Emitter<'_>) {
    for (di, d) in model.defs.iter().enumerate() {
        let Some(obj) = d.object else { continue };
        let in_reach = !matches!(
            (cap.reach, d.kind),
            (Reach::Cluster, RoleKind::Role) | (Reach::Namespace, RoleKind::ClusterRole)
        );
        if !in_reach || model.is_reachable(di) || is_default_role(d.name) {
            continue;
        }
        let cluster = d.kind == RoleKind::ClusterRole;
        for way in cap.ways {
            let found: Option<Vec<usize>> = way
                .iter()
                .map(|step| {
                    d.rules
                        .iter()
                        .position(|r| step.iter().any(|n| n.matches(r, cluster)))
                })
                .collect();
            let Some(found) = found else { continue };
            let Some(&first) = found.first() else {
                continue;
            };
            let aggregated_into = [
                (AGGREGATE_TO_ADMIN, "admin"),
                (AGGREGATE_TO_EDIT, "edit"),
                (AGGREGATE_TO_VIEW, "view"),
            ]
            .iter()
            .find(|(label, _)| d.labels.contains(&(*label, "true")))
            .map(|(_, role)| *role);
            let who = match aggregated_into {
                Some(role) => format!(
                    "it is aggregated into the built-in {role:?} ClusterRole, so every subject bound to {role:?} can"
                ),
                None => {
                    "no binding in the input uses it, but whoever it is bound to can".to_owned()
                }
            };
            let mut msg = format!(
                "{} {:?} rules[{first}] ({}): {who} {}",
                d.kind.as_str(),
                d.name,
                d.rules[first].summary(),
                cap.what
            );
            for &other in found.iter().skip(1).filter(|i| **i != first) {
                let _ = write!(msg, " (with rules[{other}])");
            }
            out.report(obj, Path::keys("rules").index(first), msg);
            break;
        }
    }
}
