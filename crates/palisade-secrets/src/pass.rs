//! One planning pass over loaded objects: the rotations due now and the
//! rollouts they would trigger (pure; what `rotate --dry-run` prints for
//! manifests).

use crate::policy::PolicySet;
use crate::rollout::{
    RolloutDecision, RolloutPolicy, SecretState, WorkloadInfo, baseline, plan_rollouts,
};
use crate::rotation::{Action, Decision, SecretMeta, plan};
use serde::Serialize;
use time::OffsetDateTime;

/// Rotations and the rollouts they cause.
#[derive(Debug, Clone, Serialize)]
pub struct PassPlan {
    /// Rotation decisions, every Secret with a policy.
    pub rotations: Vec<Decision>,
    /// Rollout decisions, every workload with a pod template.
    pub rollouts: Vec<RolloutDecision>,
}

/// Plans a pass: workloads are taken as baselined at the Secrets' current
/// versions (what a running controller would have recorded), then the
/// rotations due now change the versions of their Secrets, and `changed`
/// (`namespace/name`) are taken as changed too. `policies: None` plans
/// no rotation (rollouts of `changed` only).
pub fn plan_pass(
    objects: &[palisade_k8s::Object],
    policies: Option<&PolicySet>,
    rollout_policy: &RolloutPolicy,
    changed: &[String],
    now: OffsetDateTime,
) -> PassPlan {
    let metas: Vec<SecretMeta> = objects
        .iter()
        .filter(|o| o.is("", "Secret"))
        .map(SecretMeta::from_object)
        .collect();
    let before: Vec<SecretState> = metas
        .iter()
        .map(|m| SecretState::from_meta(m, None))
        .collect();
    let mut workloads = WorkloadInfo::from_objects(objects);
    baseline(&mut workloads, &before);
    let rotations = policies.map(|p| plan(&metas, p, now)).unwrap_or_default();
    let after: Vec<SecretState> = before
        .into_iter()
        .map(|mut s| {
            let id = format!("{}/{}", s.namespace, s.name);
            let rotated = rotations.iter().any(|d| {
                d.namespace == s.namespace
                    && d.name == s.name
                    && matches!(d.action, Action::Rotate { .. })
            });
            if rotated || changed.contains(&id) {
                s.version.push_str("+changed");
            }
            s
        })
        .collect();
    let rollouts = plan_rollouts(&after, &workloads, rollout_policy, now);
    PassPlan {
        rotations,
        rollouts,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rollout::RolloutAction;
    use time::macros::datetime;

    #[test]
    fn rotations_roll_their_consumers() {
        let text = r"
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: llm
  annotations: {palisade.dev/rotate-every: 30d, palisade.dev/generator: password}
data: {password: aHVudGVyMg==}
---
apiVersion: v1
kind: Secret
metadata: {name: other, namespace: llm}
data: {token: aHVudGVyMg==}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg, namespace: llm}
spec:
  template:
    spec:
      containers: [{name: c, envFrom: [{secretRef: {name: db}}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: llm}
spec:
  template:
    spec:
      containers: [{name: c}]
      volumes: [{name: t, secret: {secretName: other}}]
";
        let objects = palisade_k8s::load::load_str("x.yaml", text).objects;
        let now = datetime!(2026-12-01 12:00 UTC);
        let p = plan_pass(
            &objects,
            Some(&PolicySet::default()),
            &RolloutPolicy::default(),
            &[],
            now,
        );
        assert!(matches!(p.rotations[0].action, Action::Rotate { .. }));
        let by = |n: &str| {
            p.rollouts
                .iter()
                .find(|r| r.name == n)
                .unwrap()
                .action
                .clone()
        };
        assert!(matches!(by("pg"), RolloutAction::Roll { .. }));
        assert_eq!(by("agent"), RolloutAction::UpToDate);
        let p = plan_pass(
            &objects,
            None,
            &RolloutPolicy::default(),
            &["llm/other".into()],
            now,
        );
        assert!(p.rotations.is_empty());
        assert_eq!(
            by_of(&p, "agent"),
            RolloutAction::Roll {
                changed: vec!["other".into()]
            }
        );
        assert_eq!(by_of(&p, "pg"), RolloutAction::UpToDate);
    }

    fn by_of(p: &PassPlan, n: &str) -> RolloutAction {
        p.rollouts
            .iter()
            .find(|r| r.name == n)
            .unwrap()
            .action
            .clone()
    }
}
