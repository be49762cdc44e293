//! What users see, snapshotted: every output format on the bundled examples.
//! A change here is a reviewed diff (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test -p palisade --test snapshots` and read the
//! `.snap` changes).

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use assert_cmd::Command;
use std::path::Path;

fn scan(example: &str, format: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env_remove("PALISADE_CONFIG")
        .env_remove("PALISADE_FORMAT")
        .args(["scan", example, "--format", format])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

#[test]
fn vulnerable_table() {
    insta::assert_snapshot!(scan("examples/vulnerable-ai-cluster", "table"));
}

#[test]
fn vulnerable_json() {
    insta::assert_snapshot!(scan("examples/vulnerable-ai-cluster", "json"));
}

#[test]
fn vulnerable_sarif() {
    insta::assert_snapshot!(scan("examples/vulnerable-ai-cluster", "sarif"));
}

#[test]
fn vulnerable_junit() {
    insta::assert_snapshot!(scan("examples/vulnerable-ai-cluster", "junit"));
}

#[test]
fn hardened_table() {
    insta::assert_snapshot!(scan("examples/hardened-ai-cluster", "table"));
}
