//! `deploy/secrets-controller/`: the controller's manifests pass
//! `palisade scan` with no finding at medium or above, the only suppressions
//! are the two grants the controller exists for, and the RBAC is the least
//! privilege the code's API calls need.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

mod common;

use assert_cmd::Command;
use common::root;
use palisade_k8s::{Loader, Object};
use serde_json::Value;
use std::collections::BTreeSet;

const DIR: &str = "deploy/secrets-controller";

#[test]
fn scan_of_the_controller_manifests_has_no_finding_at_medium_or_above() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["scan", DIR, "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let s = &v["summary"];
    for sev in ["critical", "high", "medium"] {
        assert_eq!(s["findings"][sev], 0, "{sev} findings: {:#}", v["findings"]);
    }
    assert_eq!(s["input_errors"], 0, "{stdout}");
    assert_eq!(s["notices"], 0, "stale or malformed suppressions: {stdout}");
    // Nothing else hides behind a suppression.
    let suppressed: BTreeSet<(String, String)> = v["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                format!(
                    "{}/{}",
                    f["resource"]["kind"].as_str().unwrap(),
                    f["resource"]["name"].as_str().unwrap()
                ),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        (
            "PLS-RBAC-005",
            "ClusterRoleBinding/palisade-secrets-controller",
        ),
        (
            "PLS-RBAC-009",
            "ClusterRoleBinding/palisade-secrets-controller",
        ),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(suppressed, expected);
}

fn objects() -> Vec<Object> {
    let load = Loader {
        follow_links: false,
    }
    .load_paths(&[root().join(DIR)]);
    assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
    load.objects
}

fn strs(n: Option<&palisade_core::Node>) -> BTreeSet<String> {
    n.map_or(&[][..], |n| n.items())
        .iter()
        .filter_map(|i| i.as_str().map(str::to_owned))
        .collect()
}

/// (apiGroup, resource) -> verbs, of every rule of the named role.
fn grants(objs: &[Object], kind: &str, name: &str) -> BTreeSet<(String, String, String)> {
    let role = objs
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"));
    let mut out = BTreeSet::new();
    for r in role.root.list("rules") {
        let names = strs(r.get("resourceNames"));
        for g in strs(r.get("apiGroups")) {
            for res in strs(r.get("resources")) {
                for v in strs(r.get("verbs")) {
                    let res = if names.is_empty() {
                        res.clone()
                    } else {
                        format!(
                            "{res}:{}",
                            names.iter().cloned().collect::<Vec<_>>().join(",")
                        )
                    };
                    out.insert((g.clone(), res, v));
                }
            }
        }
    }
    out
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
        .collect()
}

#[test]
fn rbac_is_what_the_controller_calls_and_no_more() {
    let objs = objects();
    // crates/palisade-secrets/src/cluster/: metadata-only list/watch and
    // patches (rotation, dry-run key probes) of Secrets; list/watch
    // (reflectors) and merge patches (rollouts) of the workloads, Argo
    // Rollouts included;
    // events.k8s.io/v1 Events created. No get: the controller never reads
    // a Secret value (the CA of issuer= generators is granted by name).
    let mut expected = Vec::new();
    for v in ["list", "watch", "patch"] {
        expected.push(("", "secrets", v));
        for r in ["deployments", "statefulsets", "daemonsets"] {
            expected.push(("apps", r, v));
        }
        expected.push(("batch", "cronjobs", v));
        expected.push(("argoproj.io", "rollouts", v));
    }
    expected.push(("events.k8s.io", "events", "create"));
    assert_eq!(
        grants(&objs, "ClusterRole", "palisade-secrets-controller"),
        set(&expected)
    );
    // The Lease (lease.rs: GET, POST, PUT) in the controller's namespace only.
    let lease = objs
        .iter()
        .find(|o| o.kind == "Role")
        .map(|o| o.effective_namespace().to_owned());
    assert_eq!(lease.as_deref(), Some("palisade-secrets"));
    assert_eq!(
        grants(&objs, "Role", "palisade-secrets-controller-lease"),
        set(&[
            ("coordination.k8s.io", "leases", "create"),
            (
                "coordination.k8s.io",
                "leases:palisade-secrets-controller",
                "get"
            ),
            (
                "coordination.k8s.io",
                "leases:palisade-secrets-controller",
                "update"
            ),
        ])
    );
    // Two replicas for leader hand-over; probes on the controller's endpoints.
    let d = objs.iter().find(|o| o.kind == "Deployment").unwrap();
    assert_eq!(
        d.root
            .at(&["spec", "replicas"])
            .and_then(palisade_core::Node::as_i64),
        Some(2)
    );
    let c = &d
        .root
        .at(&["spec", "template", "spec", "containers"])
        .unwrap()
        .items()[0];
    let path = |p: &str| {
        c.at(&[p, "httpGet", "path"])
            .and_then(palisade_core::Node::as_str)
    };
    assert_eq!(path("livenessProbe"), Some("/healthz"));
    assert_eq!(path("readinessProbe"), Some("/readyz"));
}
