//! End-to-end tests of `palisade model scan`: exit codes, formats, folders.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-model/tests/fixtures")
}

fn palisade() -> Command {
    let mut c = Command::cargo_bin("palisade").unwrap();
    c.env_remove("PALISADE_FORMAT").env("NO_COLOR", "1");
    c
}

#[test]
fn benign_checkpoints_exit_zero() {
    let out = palisade()
        .args(["model", "scan"])
        .arg(fixtures().join("benign"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("PLS-MDL-107"), "{text}");
    assert!(
        !text.contains("CRITICAL") && !text.contains("HIGH"),
        "{text}"
    );
}

#[test]
fn malicious_pickle_exits_one_with_json_findings() {
    let out = palisade()
        .args(["model", "scan", "--format", "json"])
        .arg(fixtures().join("malicious/torch_zip_os_system.pt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["rule"] == "PLS-MDL-101")
        .unwrap();
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["resource"]["kind"], "ModelFile");
    assert_eq!(f["location"]["path"], "archive/data.pkl@offset 2");
    assert!(f["message"].as_str().unwrap().contains("os.system"));
}

#[test]
fn sarif_and_threshold() {
    let out = palisade()
        .args([
            "model",
            "scan",
            "--format",
            "sarif",
            "--severity-threshold",
            "critical",
        ])
        .arg(fixtures().join("malicious/unlisted_global.pkl"))
        .output()
        .unwrap();
    // High is below the critical threshold.
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["runs"][0]["results"][0]["ruleId"], "PLS-MDL-102");
}

#[test]
fn missing_file_is_an_input_error() {
    let out = palisade()
        .args(["model", "scan", "/nonexistent/model.pt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model.pt"));
}

/// The README's "Model supply chain" section shows real output.
#[test]
fn readme_model_section_shows_the_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for args in [
        &["model", "scan", "examples/models/downloads"][..],
        &["model", "hash", "examples/models/tinyllama"][..],
    ] {
        let out = palisade().current_dir(&root).args(args).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.is_empty());
        assert!(
            readme.contains(text.trim_end()),
            "README.md is stale: `palisade {}` now prints:\n{text}",
            args.join(" ")
        );
    }
}
