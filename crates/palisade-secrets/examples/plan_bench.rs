//! The pure planners at scale: what to rotate now over N Secrets and which
//! of M workloads roll, as one controller pass would decide them.
//!
//! ```text
//! cargo run --release -p palisade-secrets --example plan_bench -- 10000 5000
//! ```
#![allow(clippy::disallowed_macros)] // a benchmark prints its results

use palisade_secrets::policy::PolicySet;
use palisade_secrets::rollout::{
    RolloutPolicy, SecretState, WorkloadInfo, baseline, plan_rollouts,
};
use palisade_secrets::rotation::{SecretMeta, plan};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use time::macros::datetime;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let m: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let now = datetime!(2026-12-01 12:00 UTC);
    let ns = |i: usize| format!("team-{:03}", i % 100);
    let secrets: Vec<SecretMeta> = (0..n)
        .map(|i| {
            let mut a = BTreeMap::new();
            a.insert("palisade.dev/rotate-every".to_owned(), "30d".to_owned());
            a.insert(
                "palisade.dev/generator".to_owned(),
                "password length=32".to_owned(),
            );
            a.insert("palisade.dev/version".to_owned(), "3".to_owned());
            let rotated = if i.is_multiple_of(2) {
                "2026-10-01T00:00:00Z"
            } else {
                "2026-11-25T00:00:00Z"
            };
            a.insert("palisade.dev/rotated-at".to_owned(), rotated.to_owned());
            SecretMeta {
                namespace: ns(i),
                name: format!("secret-{i:06}"),
                kind: "Opaque".into(),
                annotations: a,
                created: Some("2026-01-01T00:00:00Z".into()),
                keys: None,
                owner: None,
                resource_version: i.to_string(),
                uid: format!("uid-{i}"),
            }
        })
        .collect();
    let workloads: Vec<WorkloadInfo> = (0..m)
        .map(|i| {
            let s = i % n;
            WorkloadInfo {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: ns(s),
                name: format!("app-{i:06}"),
                annotations: BTreeMap::new(),
                template_annotations: BTreeMap::new(),
                consumed: [
                    format!("secret-{s:06}"),
                    format!("secret-{:06}", (s + 100) % n),
                ]
                .into_iter()
                .collect::<BTreeSet<_>>(),
                template_path: vec!["spec".into(), "template".into(), "metadata".into()],
                not_rollable: None,
            }
        })
        .collect();
    let policies = PolicySet::default();
    let pacing = RolloutPolicy {
        max_per_pass: usize::MAX,
        ..RolloutPolicy::default()
    };
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let decisions = plan(&secrets, &policies, now);
        let t1 = Instant::now();
        let before: Vec<SecretState> = secrets
            .iter()
            .map(|s| SecretState::from_meta(s, None))
            .collect();
        let mut ws = workloads.clone();
        baseline(&mut ws, &before);
        let t2 = Instant::now();
        let after: Vec<SecretState> = before
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                if i.is_multiple_of(2) {
                    s.version.push_str("+rotated");
                }
                s
            })
            .collect();
        let rollouts = plan_rollouts(&after, &ws, &pacing, now);
        let t3 = Instant::now();
        let rotate = decisions
            .iter()
            .filter(|d| matches!(d.action, palisade_secrets::rotation::Action::Rotate { .. }))
            .count();
        let roll = rollouts
            .iter()
            .filter(|r| {
                matches!(
                    r.action,
                    palisade_secrets::rollout::RolloutAction::Roll { .. }
                )
            })
            .count();
        runs.push(((t1 - t0), (t2 - t1), (t3 - t2), rotate, roll));
    }
    runs.sort_by_key(|r| r.0 + r.1 + r.2);
    let (rot, base, roll_t, rotate, roll) = runs[runs.len() / 2];
    println!("secrets={n} workloads={m} (median of 5)");
    println!(
        "rotation decisions   {:>8.1} ms  ({rotate} due)",
        rot.as_secs_f64() * 1e3
    );
    println!("baseline             {:>8.1} ms", base.as_secs_f64() * 1e3);
    println!(
        "rollout plan         {:>8.1} ms  ({roll} roll)",
        roll_t.as_secs_f64() * 1e3
    );
    println!(
        "total                {:>8.1} ms",
        (rot + base + roll_t).as_secs_f64() * 1e3
    );
}
