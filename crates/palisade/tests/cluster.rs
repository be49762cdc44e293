//! `palisade scan --cluster` end to end: the real binary against the local
//! API server double (`palisade-kube-double`), reached through a kubeconfig
//! written to a temporary folder. No real cluster is needed.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

mod common;

use common::{palisade, root};
use palisade_kube_double::{AddError, Double, Resource, Running};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The example's manifests, as `kubectl apply` would have created them.
fn example_double(example: &str, double: Double) -> Running {
    let load = palisade_k8s::Loader::default().load_paths(&[root().join("examples").join(example)]);
    assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
    let mut d = double;
    for o in &load.objects {
        if let Err(AddError::UnknownKind { .. }) = d.add(o.root.to_json()) {
            // A CRD Palisade does not read (ExternalSecret): install it anyway.
            let (group, version) = o.api_version.split_once('/').unwrap();
            d = d.resource(Resource {
                group: group.into(),
                version: version.into(),
                kind: o.kind.clone(),
                plural: format!("{}s", o.kind.to_lowercase()),
                namespaced: true,
                custom: true,
            });
            d.add(o.root.to_json()).unwrap();
        }
    }
    d.start().unwrap()
}

fn kubeconfig(dir: &tempfile::TempDir, d: &Running) -> PathBuf {
    let p = dir.path().join("kubeconfig");
    std::fs::write(&p, d.kubeconfig("double-ctx")).unwrap();
    p
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A finding without its location: rule, resource, JSON path, message.
/// Objects without a namespace in the manifests are in `default` in the
/// cluster (cluster-scoped kinds have none in both).
fn identity(f: &Value) -> String {
    let r = &f["resource"];
    let ns = match r["namespace"].as_str() {
        Some(ns) => ns,
        None if CLUSTER_SCOPED.contains(&r["kind"].as_str().unwrap()) => "",
        None => "default",
    };
    // In a manifest the namespace is missing; in the cluster it is `default`:
    // the same rule fires with a message that says which.
    let message = match f["rule"].as_str() {
        Some("PLS-NS-001") => "(default namespace)",
        _ => f["message"].as_str().unwrap(),
    };
    format!(
        "{} {} {}/{}/{} {} {}",
        f["rule"].as_str().unwrap(),
        r["apiVersion"].as_str().unwrap(),
        r["kind"].as_str().unwrap(),
        ns,
        r["name"].as_str().unwrap(),
        f["location"]["path"].as_str().unwrap(),
        message,
    )
}

const CLUSTER_SCOPED: &[&str] = &["Namespace", "ClusterRole", "ClusterRoleBinding", "Node"];

fn findings(v: &Value) -> Vec<&Value> {
    v["findings"].as_array().unwrap().iter().collect()
}

#[test]
fn cluster_scan_finds_what_the_manifest_scan_finds() {
    let d = example_double("vulnerable-ai-cluster", Double::new());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    let live = palisade()
        .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let files = palisade()
        .args(["scan", "examples/vulnerable-ai-cluster", "--format", "json"])
        .output()
        .unwrap();
    let (live, files) = (json_of(&live), json_of(&files));
    let live_ids: BTreeSet<String> = findings(&live).into_iter().map(identity).collect();
    // A Secret's data is never read from a cluster, so findings about the
    // values in a Secret manifest cannot appear there.
    let file_ids: BTreeSet<String> = findings(&files)
        .into_iter()
        .filter(|f| {
            !(f["resource"]["kind"] == "Secret"
                && f["location"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("data") || p.starts_with("stringData")))
        })
        .map(identity)
        .collect();
    let only_live: Vec<_> = live_ids.difference(&file_ids).collect();
    let only_files: Vec<_> = file_ids.difference(&live_ids).collect();
    assert!(
        only_live.is_empty() && only_files.is_empty(),
        "only in the cluster scan: {only_live:#?}\nonly in the manifest scan: {only_files:#?}"
    );
    assert!(live_ids.len() > 50, "{}", live_ids.len());
    // Locations name the cluster, kind, namespace and object.
    let f = findings(&live)
        .into_iter()
        .find(|f| f["rule"] == "PLS-POD-001")
        .unwrap();
    assert_eq!(
        f["location"]["file"],
        "cluster://double-ctx/Deployment/llm/vllm-llama3"
    );
    assert_eq!(
        f["location"]["path"],
        "spec.template.spec.containers[0].securityContext.privileged"
    );
}

#[test]
fn hardened_example_is_clean_from_the_cluster_too() {
    let d = example_double("hardened-ai-cluster", Double::new());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    let out = palisade()
        .args(["scan", "--cluster", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("No findings."), "{stdout}");
}

#[test]
fn forbidden_kinds_are_skipped_with_a_warning() {
    let d = example_double(
        "vulnerable-ai-cluster",
        Double::new()
            .forbid("rbac.authorization.k8s.io", "clusterrolebindings")
            .forbid("", "configmaps"),
    );
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    let out = palisade()
        .args(["scan", "--cluster", "--format", "json", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Findings remain, so exit 1 (not 2: a skipped kind is not an input error).
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("palisade: warning: cluster://double-ctx/ClusterRoleBinding: cannot list ClusterRoleBinding (forbidden"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot list ConfigMap (forbidden"),
        "{stderr}"
    );
    let v = json_of(&out);
    let kinds: BTreeSet<&str> = findings(&v)
        .iter()
        .map(|f| f["resource"]["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains("ClusterRoleBinding") && !kinds.contains("ConfigMap"));
    assert!(kinds.contains("Deployment"), "{kinds:?}");
}

#[test]
fn secret_values_are_never_requested_nor_shown() {
    let d = example_double("vulnerable-ai-cluster", Double::new());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    for format in ["json", "table", "sarif"] {
        let out = palisade()
            .args(["scan", "--cluster", "--format", format, "--kubeconfig"])
            .arg(&kc)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The token in examples/vulnerable-ai-cluster/config.yaml, raw and as
        // the API server stores it (base64).
        for value in [
            "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",
            "aGZfVlhxTG1Oc1RwUXJXellrSmRGZ0hiQ25NYUV1Um9JdFBsSw",
        ] {
            assert!(!all.contains(value), "{format} output shows a secret value");
        }
    }
    let secret_requests: Vec<_> = d
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/secrets") || r.path.contains("/secrets/"))
        .collect();
    assert!(!secret_requests.is_empty());
    for r in &secret_requests {
        assert_eq!(r.method, "GET");
        assert!(
            r.accept.contains("as=PartialObjectMetadataList"),
            "a full Secret list was requested: {r:?}"
        );
        assert!(
            !r.path.contains("/secrets/"),
            "a single Secret was fetched: {r:?}"
        );
    }
}

#[test]
fn namespace_and_context_select_what_is_read() {
    let d = example_double("vulnerable-ai-cluster", Double::new());
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    let out = palisade()
        .args([
            "scan",
            "--cluster",
            "--format",
            "json",
            "--context",
            "double-ctx",
            "--namespace",
            "ml-platform",
            "--kubeconfig",
        ])
        .arg(&kc)
        .output()
        .unwrap();
    let v = json_of(&out);
    for f in findings(&v) {
        let ns = f["resource"]["namespace"].as_str();
        assert!(
            ns.is_none() || ns == Some("ml-platform"),
            "finding outside the namespace: {f}"
        );
    }
    assert!(
        d.requests()
            .iter()
            .any(|r| r.path == "/apis/apps/v1/namespaces/ml-platform/daemonsets")
    );
    assert!(
        !d.requests()
            .iter()
            .any(|r| r.path.contains("/namespaces/llm/")),
        "another namespace was listed"
    );
    let out = palisade()
        .args(["scan", "--cluster", "--context", "nope", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn unreachable_cluster_is_an_error_not_a_clean_scan() {
    let d = Double::new().start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&dir, &d);
    drop(d);
    let out = palisade()
        .args(["scan", "--cluster", "--kubeconfig"])
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read the cluster"), "{stderr}");
}
