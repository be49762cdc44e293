//! What users see, snapshotted: every output format on the bundled examples.
//! A change here is a reviewed diff (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test -p palisade --test snapshots` and read the
//! `.snap` changes).

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly

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

/// The SARIF the CLI writes for the example validates against the official
/// SARIF 2.1.0 schema in `../shared/schemas/`.
#[test]
fn vulnerable_sarif_validates_against_the_schema() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/schemas/sarif/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} missing in CI",
            path.display()
        );
        eprintln!("SKIPPED: {} not found beside the checkout", path.display());
        return;
    };
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&scan("examples/vulnerable-ai-cluster", "sarif")).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(doc["runs"][0]["results"].as_array().unwrap().len() > 10);
}

fn scan_args(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env_remove("PALISADE_CONFIG")
        .env_remove("PALISADE_FORMAT")
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The README shows real output: its excerpts must be what the binary prints now.
#[test]
fn readme_shows_the_real_output() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let critical = scan_args(&[
        "scan",
        "examples/vulnerable-ai-cluster",
        "--min-severity",
        "critical",
    ]);
    let hardened = scan_args(&["scan", "examples/hardened-ai-cluster"]);
    let full = scan_args(&["scan", "examples/vulnerable-ai-cluster"]);
    let summary = full.lines().last().unwrap();
    for (what, text) in [
        ("critical findings", critical.as_str()),
        ("hardened scan", hardened.as_str()),
        ("summary", summary),
    ] {
        assert!(
            readme.contains(text.trim_end()),
            "README.md is stale: its {what} excerpt differs from the real output:\n{text}"
        );
    }
}
