//! ValidatingAdmissionPolicy objects (the Kubernetes documentation's own
//! examples, in `tests/vap/`) evaluated offline against manifests.

#![allow(clippy::unwrap_used, clippy::panic)]

use palisade_core::config::Config;
use palisade_k8s::load::load_file;
use palisade_rules::Engine;
use palisade_rules::custom::vap::{Policies, from_objects};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vap")
}

fn policies(file: &str) -> Policies {
    let load = load_file(&dir().join(file));
    assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
    from_objects(&load.objects).unwrap()
}

/// (rule, severity, object name, message) of every finding.
fn scan(file: &str) -> Vec<(String, String, String, String)> {
    let p = policies(file);
    let engine = Engine::with_rules(p.rules, Config::default());
    let report = engine.scan(load_file(&dir().join("manifests.yaml")), None);
    report
        .findings
        .into_iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.severity.as_str().to_owned(),
                f.resource.name,
                f.message,
            )
        })
        .collect()
}

#[test]
fn replica_limit_with_its_binding_namespace_selector() {
    let found = scan("demo-policy.yaml");
    assert_eq!(
        found,
        [(
            "VAP-demo-policy.example.com".into(),
            "high".into(),
            "too-many".into(),
            "ValidatingAdmissionPolicy 'demo-policy.example.com' denied request: failed expression: object.spec.replicas <= 5".into()
        )],
        "too-many-elsewhere is in a namespace the binding does not select"
    );
}

#[test]
fn variables_compose_and_message_expressions_render() {
    let found = scan("variables-policy.yaml");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].2, "too-many-elsewhere");
    assert!(
        found[0]
            .3
            .ends_with("only staging images are allowed in namespace staging"),
        "{found:?}"
    );
}

#[test]
fn match_conditions_filter_requests() {
    let found = scan("match-conditions-policy.yaml");
    let names: Vec<&str> = found.iter().map(|f| f.2.as_str()).collect();
    // The Role is excluded by the `rbac` condition; the ConfigMap is not.
    assert_eq!(names, ["demo-settings"], "{found:#?}");
}

#[test]
fn param_kind_policies_are_skipped_with_a_warning() {
    let p = policies("params-policy.yaml");
    assert!(p.rules.is_empty());
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].contains("params-policy.yaml:9:")
            && p.warnings[0].contains("paramKind")
            && p.warnings[0].contains("skipped"),
        "{:?}",
        p.warnings
    );
}

#[test]
fn a_bad_expression_names_the_policy_and_the_line() {
    let load = load_file(&dir().join("broken-policy.yaml"));
    let err = from_objects(&load.objects).unwrap_err();
    assert_eq!(err.line, 14, "{err}");
    let text = err.to_string();
    assert!(text.contains("broken-policy.yaml:14:"), "{text}");
    assert!(text.contains("policy broken.example.com"), "{text}");
    assert!(text.contains("validations[1].expression"), "{text}");
}
