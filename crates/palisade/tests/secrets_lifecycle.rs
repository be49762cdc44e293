//! `palisade secrets rotate|rollouts|inventory` end to end: manifests, and
//! the real binary against the API server double. Secret values never
//! appear in output.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

mod common;

use base64::Engine as _;
use common::{palisade, root};
use palisade_kube_double::{Double, Running};
use serde_json::Value;

const NOW: &str = "2026-12-01T12:00:00Z";

#[test]
fn rotate_dry_run_plans_rotations_and_rollouts_of_the_example() {
    let out = palisade()
        .args([
            "secrets",
            "rotate",
            "examples/secrets-lifecycle",
            "--dry-run",
            "--now",
            NOW,
            "--config",
            "examples/secrets-lifecycle/palisade.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let action = |name: &str| {
        v["rotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["action"].as_str().unwrap().to_owned())
    };
    assert_eq!(action("pg-credentials").as_deref(), Some("rotate"));
    assert_eq!(action("session-keys").as_deref(), Some("rotate"));
    assert_eq!(action("webhook-signing").as_deref(), Some("wait"));
    let roll = |name: &str| {
        v["rollouts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["action"].as_str().unwrap().to_owned())
    };
    assert_eq!(roll("pgvector").as_deref(), Some("roll"));
    assert_eq!(roll("log-shipper").as_deref(), Some("opted-out"));
    assert_eq!(roll("migrate-2026-11").as_deref(), Some("not-rollable"));
    assert_eq!(roll("retriever").as_deref(), Some("up-to-date"));
    // The placeholder values (base64 and decoded) are nowhere.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("cGxhY2Vob2xkZXI") && !text.contains("placeholder"));
}

#[test]
fn rollouts_of_a_changed_secret_honour_reloader_annotations() {
    let out = palisade()
        .args([
            "secrets",
            "rollouts",
            "examples/secrets-lifecycle",
            "--changed",
            "rag/openai-api-key",
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Deployment/rag/retriever   openai-api-key"),
        "{text}"
    );
    assert!(
        text.contains("roll          openai-api-key changed"),
        "{text}"
    );
    assert!(text.contains("1 to roll"), "{text}");
}

#[test]
fn bad_policies_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "secrets:\n  rotation:\n    - every: 30d\n      generator: password length=abc\n",
    )
    .unwrap();
    let out = palisade()
        .args([
            "secrets",
            "rotate",
            "examples/secrets-lifecycle",
            "--dry-run",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("palisade.yaml:4") && err.contains("length"),
        "{err}"
    );
    // --once needs a cluster and a key.
    let out = palisade()
        .args(["secrets", "rotate", "examples/secrets-lifecycle", "--once"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn double() -> Running {
    let load =
        palisade_k8s::Loader::default().load_paths(&[root().join("examples/secrets-lifecycle")]);
    let mut d = Double::new();
    for o in &load.objects {
        d.add(o.root.to_json()).unwrap();
    }
    d.start().unwrap()
}

#[test]
fn rotate_once_against_a_cluster_never_shows_values() {
    let d = double();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, d.kubeconfig("double")).unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let log = dir.path().join("audit.jsonl");
    // Dry run first: nothing written.
    let out = palisade()
        .args([
            "secrets",
            "rotate",
            "--cluster",
            "--dry-run",
            "--now",
            NOW,
            "--config",
            "examples/secrets-lifecycle/palisade.yaml",
            "--kubeconfig",
        ])
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        d.requests()
            .iter()
            .all(|r| r.method == "GET" || r.query.contains("dryRun=All"))
    );
    let out = palisade()
        .args([
            "secrets",
            "rotate",
            "--cluster",
            "--once",
            "--now",
            NOW,
            "--config",
            "examples/secrets-lifecycle/palisade.yaml",
            "--kubeconfig",
        ])
        .arg(&kc)
        .arg("--audit-key-file")
        .arg(&key)
        .arg("--audit-log")
        .arg(&log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("(applied)"), "{stdout}");
    let audit = std::fs::read_to_string(&log).unwrap();
    // Every value now in the cluster is absent from stdout, stderr and the audit log.
    let values: Vec<(String, String)> = d.with_store(|s| {
        s.list("", "secrets")
            .iter()
            .flat_map(|o| o["data"].as_object().cloned().unwrap_or_default())
            .map(|(_, v)| {
                let b64 = v.as_str().unwrap().to_owned();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(&b64)
                    .unwrap();
                (b64, String::from_utf8_lossy(&raw).into_owned())
            })
            .collect()
    });
    assert!(values.len() >= 6);
    for (b64, raw) in &values {
        for (name, hay) in [("stdout", &stdout), ("stderr", &stderr), ("audit", &audit)] {
            assert!(!hay.contains(b64.as_str()), "{name} holds a base64 value");
            if raw.len() >= 8 {
                assert!(!hay.contains(raw.as_str()), "{name} holds a value");
            }
        }
    }
    assert!(
        audit
            .lines()
            .any(|l| l.contains("Secret/rag/pg-credentials") && l.contains("hmac-sha256:"))
    );
}

#[test]
fn readme_rotation_plan_is_real_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme
        .split("<!-- secrets-rotate-plan -->\n```console\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap();
    let (cmd, shown) = block.split_once('\n').unwrap();
    let args: Vec<&str> = cmd.trim_start_matches("$ palisade ").split(' ').collect();
    let out = palisade().args(&args).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        shown,
        "README.md's rotation plan is stale"
    );
}
