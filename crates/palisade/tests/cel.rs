//! Custom CEL rules in palisade.yaml and `scan --policy` through the real
//! binary: findings, suppressions by the custom ID, and errors that name
//! the rule and the line.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{palisade_in as palisade, root};
use serde_json::Value;

const CONFIG: &str = "customRules:
  - id: ACME-001
    title: Inference servers run at least two replicas
    severity: high
    match: {kinds: [Deployment], apiGroups: [apps]}
    expression: >-
      !has(object.spec.replicas) || object.spec.replicas >= 2
    messageExpression: \"'runs ' + string(object.spec.replicas) + ' replica(s); a node drain takes the endpoint down'\"
    remediation: Set spec.replicas to 2 or more and add a PodDisruptionBudget.
    path: spec.replicas
  - id: ACME-002
    title: Every container image comes from the internal registry
    match: {kinds: ['*']}
    expression: >-
      !has(object.spec.template) ||
      object.spec.template.spec.containers.all(c, c.image.startsWith('registry.acme.example/'))
";

#[test]
fn custom_rules_report_like_built_in_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("palisade.yaml"), CONFIG).unwrap();
    let out = palisade(dir.path())
        .args(["scan", "--format", "json", "--only", "ACME-001,ACME-002"])
        .arg(root().join("examples/vulnerable-ai-cluster"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f: Vec<&Value> = v["findings"].as_array().unwrap().iter().collect();
    let acme1: Vec<&&Value> = f.iter().filter(|f| f["rule"] == "ACME-001").collect();
    // The example runs two single-replica Deployments: vllm-llama3 and tokenizer.
    let mut names: Vec<&str> = acme1
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["tokenizer", "vllm-llama3"], "{f:#?}");
    let acme1: Vec<&&Value> = acme1
        .into_iter()
        .filter(|f| f["resource"]["name"] == "vllm-llama3")
        .collect();
    assert_eq!(acme1[0]["severity"], "high");
    assert_eq!(acme1[0]["location"]["path"], "spec.replicas");
    assert_eq!(
        acme1[0]["remediation"],
        "Set spec.replicas to 2 or more and add a PodDisruptionBudget."
    );
    assert!(
        acme1[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("runs 1 replica(s)")
    );
    assert!(f.iter().any(|f| f["rule"] == "ACME-002"));
    assert!(
        f.iter()
            .all(|f| f["rule"] == "ACME-001" || f["rule"] == "ACME-002")
    );
}

#[test]
fn custom_rules_can_be_disabled_and_excepted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{CONFIG}rules:\n  disable: [ACME-002]\nexceptions:\n  - rules: [ACME-001]\n    name: vllm-*\n    reason: single-GPU lab cluster\n"
    );
    std::fs::write(dir.path().join("palisade.yaml"), cfg).unwrap();
    let out = palisade(dir.path())
        .args(["scan", "--format", "json"])
        .arg(root().join("examples/vulnerable-ai-cluster"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let acme: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("ACME-"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["resource"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    // ACME-002 is disabled; the exception covers vllm-* only.
    assert_eq!(acme, [("ACME-001", "tokenizer")], "{acme:?}");
    assert_eq!(v["summary"]["suppressed"]["config"], 1, "{}", v["summary"]);
}

#[test]
fn a_bad_custom_expression_is_an_error_with_rule_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "customRules:\n  - id: ACME-007\n    expression: object.spec.replicas >= \n",
    )
    .unwrap();
    let out = palisade(dir.path())
        .arg("scan")
        .arg(root().join("examples/hardened-ai-cluster"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("palisade.yaml:3:"), "{stderr}");
    assert!(stderr.contains("custom rule ACME-007"), "{stderr}");
}

#[test]
fn policies_are_evaluated_offline() {
    let vap = root().join("crates/palisade-rules/tests/vap");
    let out = palisade(&root())
        .args(["scan", "--format", "json", "--policy"])
        .arg(vap.join("demo-policy.yaml"))
        .arg("--policy")
        .arg(vap.join("params-policy.yaml"))
        .arg("--policy")
        .arg(vap.join("variables-policy.yaml"))
        .args(["--only", "VAP-demo-policy.example.com,VAP-image-matches-namespace-environment.policy.example.com"])
        .arg(vap.join("manifests.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("uses paramKind"), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["resource"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&("VAP-demo-policy.example.com", "too-many")));
    let out = palisade(&root())
        .args(["scan", "--policy"])
        .arg(vap.join("broken-policy.yaml"))
        .arg(vap.join("manifests.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken-policy.yaml:14:"));
}

/// The README's example: `examples/policies/` against the vulnerable example.
#[test]
fn the_example_policies_report_what_the_readme_shows() {
    let rules_of = |args: &[&str]| -> Vec<(String, String)> {
        let out = palisade(&root())
            .args(["scan", "--format", "json"])
            .args(args)
            .arg("examples/vulnerable-ai-cluster")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut got: Vec<(String, String)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["resource"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        got
    };
    let pair = |r: &str, n: &str| (r.to_owned(), n.to_owned());
    assert_eq!(
        rules_of(&[
            "--config",
            "examples/policies/palisade.yaml",
            "--only",
            "ACME-001,ACME-002"
        ]),
        [
            pair("ACME-001", "tokenizer"),
            pair("ACME-001", "vllm-llama3"),
            pair("ACME-002", "dcgm-exporter"),
            pair("ACME-002", "tokenizer"),
            pair("ACME-002", "vllm-llama3"),
        ]
    );
    assert_eq!(
        rules_of(&[
            "--policy",
            "examples/policies/no-remote-code.yaml",
            "--only",
            "VAP-no-remote-code.acme.example"
        ]),
        [
            pair("VAP-no-remote-code.acme.example", "tokenizer"),
            pair("VAP-no-remote-code.acme.example", "vllm-llama3"),
            pair("VAP-no-remote-code.acme.example", "vllm-llama3"),
        ]
    );
}
