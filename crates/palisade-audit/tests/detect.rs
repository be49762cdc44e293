//! Every PLS-KA rule against its fixture events (`fixtures/<RULE-ID>/`):
//! `fail*.jsonl` must produce the expected findings of that rule (a first
//! line `# expect: N`, else one per event), `pass*.jsonl` none.
#![allow(clippy::unwrap_used, clippy::panic)]

use palisade_audit::detect::{AuditFinding, DetectConfig, Engine, rules};
use palisade_audit::k8s::read_events;
use std::path::Path;

fn run(text: &str) -> Vec<AuditFinding> {
    let mut engine = Engine::new(DetectConfig::default());
    let mut out = Vec::new();
    let mut errs = Vec::new();
    read_events(
        text.as_bytes(),
        &mut |src, ev| engine.process("fixture", src, ev, &mut out),
        &mut |d| errs.push(d),
    )
    .unwrap();
    assert!(errs.is_empty(), "diagnostics: {errs:?}");
    out
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for rule in rules::all() {
        let id = rule.info().meta.id;
        let dir = root.join(id);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{id}: no fixtures in {}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let (mut fails, mut passes) = (0, 0);
        for f in files {
            let name = f.file_name().unwrap().to_str().unwrap().to_owned();
            let text = std::fs::read_to_string(&f).unwrap();
            let (expect, body) = match text.strip_prefix("# expect: ") {
                Some(rest) => {
                    let (n, body) = rest.split_once('\n').unwrap();
                    (Some(n.trim().parse::<usize>().unwrap()), body.to_owned())
                }
                None => (None, text.clone()),
            };
            let found: Vec<AuditFinding> = run(&body)
                .into_iter()
                .filter(|f| f.finding.rule == id)
                .collect();
            if name.starts_with("fail") {
                fails += 1;
                let want =
                    expect.unwrap_or_else(|| body.lines().filter(|l| !l.trim().is_empty()).count());
                assert_eq!(
                    found.len(),
                    want,
                    "{id}/{name}: {:#?}",
                    found.iter().map(|f| &f.finding.message).collect::<Vec<_>>()
                );
                for f in &found {
                    assert!(
                        f.finding.message.contains("auditID"),
                        "{id}: message names the auditID"
                    );
                    assert!(!f.event.audit_id.is_empty());
                    assert!(!f.finding.location.path.is_empty());
                }
            } else if name.starts_with("pass") {
                passes += 1;
                assert!(
                    found.is_empty(),
                    "{id}/{name}: {:#?}",
                    found.iter().map(|f| &f.finding.message).collect::<Vec<_>>()
                );
            }
        }
        assert!(
            fails > 0 && passes > 0,
            "{id}: needs fail and pass fixtures"
        );
        checked += 1;
    }
    assert_eq!(checked, rules::all().len());
}

#[test]
fn finding_carries_event_identity() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/PLS-KA-007/fail.jsonl"),
    )
    .unwrap();
    let found = run(&text);
    let f = found
        .iter()
        .find(|f| f.finding.rule == "PLS-KA-007")
        .unwrap();
    assert_eq!(f.finding.resource.kind, "ClusterRoleBinding");
    assert_eq!(f.finding.resource.name, "backdoor");
    assert_eq!(
        f.finding.resource.api_version,
        "rbac.authorization.k8s.io/v1"
    );
    assert_eq!(f.finding.location.line, 1);
    assert_eq!(f.finding.location.path, "requestObject.roleRef.name");
    assert_eq!(f.event.user, "alice@acme.example");
    assert_eq!(f.event.source_ips, vec!["203.0.113.7"]);
    assert!(
        f.finding.message.contains("ServiceAccount \"default\""),
        "{}",
        f.finding.message
    );
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["rule"], "PLS-KA-007");
    assert_eq!(json["event"]["auditID"], f.event.audit_id.as_str());
    assert_eq!(json["event"]["sourceIPs"][0], "203.0.113.7");
}

#[test]
fn configmap_secret_values_are_redacted() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/PLS-KA-013/fail.jsonl"),
    )
    .unwrap();
    let body = text.split_once('\n').unwrap().1;
    let found = run(body);
    assert_eq!(found.len(), 2);
    for f in found {
        assert!(
            !f.finding
                .message
                .contains("QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"),
            "{}",
            f.finding.message
        );
        assert!(
            !f.finding.message.contains("Zx8#rT2!mQ9vLw4s"),
            "{}",
            f.finding.message
        );
    }
}
