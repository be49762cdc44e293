//! End-to-end: `palisade secrets inventory` on the example cluster.

#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use assert_cmd::Command;

fn example() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/vulnerable-ai-cluster")
}

#[test]
fn inventory_json_of_the_example_cluster() {
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["secrets", "inventory", "--format", "json"])
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("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"),
        "value leaked"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let secrets = v["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0]["name"], "hf-token");
    assert_eq!(secrets[0]["keys"], serde_json::json!(["token"]));
    let readers: Vec<&str> = secrets[0]["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        readers,
        ["Group:ml-engineers", "ServiceAccount:llm/default"]
    );
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["PLS-SCR-002", "PLS-SCR-004"]);
}

#[test]
fn fail_on_and_bad_max_age() {
    Command::cargo_bin("palisade")
        .unwrap()
        .args(["secrets", "inventory", "--fail-on", "high"])
        .arg(example())
        .assert()
        .code(1);
    let out = Command::cargo_bin("palisade")
        .unwrap()
        .args(["secrets", "inventory", "--max-age", "soon"])
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid duration"));
}
