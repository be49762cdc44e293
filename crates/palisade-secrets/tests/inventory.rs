//! The inventory over a fixture of real object shapes.
#![allow(clippy::panic, clippy::unwrap_used)]

use palisade_k8s::load::load_file;
use palisade_secrets::{ConsumerKind, Duration, Inventory, Options, SecretSource, inventory};
use std::path::Path;
use time::macros::datetime;

fn run() -> Inventory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/app.yaml");
    let load = load_file(&path);
    assert!(load.diagnostics.is_empty(), "{:?}", load.diagnostics);
    let opts = Options {
        max_age: Duration::days(90),
        now: datetime!(2026-12-01 00:00 UTC),
    };
    inventory(&load.objects, &opts)
}

fn entry<'a>(inv: &'a Inventory, name: &str) -> &'a palisade_secrets::SecretEntry {
    inv.secrets
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entry {name}: {:#?}", inv.secrets))
}

fn rules_for(inv: &Inventory, name: &str) -> Vec<&'static str> {
    entry(inv, name).findings.clone()
}

#[test]
fn every_secret_is_listed_with_its_source() {
    let inv = run();
    let names: Vec<(&str, SecretSource)> = inv
        .secrets
        .iter()
        .map(|e| (e.name.as_str(), e.source))
        .collect();
    assert_eq!(
        names,
        [
            ("api-key", SecretSource::Secret),
            ("build-robot-secret", SecretSource::Secret),
            ("db-creds", SecretSource::Secret),
            ("foosecret", SecretSource::SecretProviderClass),
            ("hourly-creds", SecretSource::ExternalSecret),
            ("internal/data/database/config", SecretSource::VaultAgent),
            ("mysecret", SecretSource::SealedSecret),
            ("not-in-input", SecretSource::Referenced),
            ("old-backup-creds", SecretSource::Secret),
            ("payments-creds", SecretSource::ExternalSecret),
            ("regcred", SecretSource::Secret),
            ("tls-cert", SecretSource::Secret),
        ]
    );
    assert_eq!(entry(&inv, "db-creds").keys, ["password", "username"]);
    assert_eq!(entry(&inv, "payments-creds").keys, ["stripe-key"]);
    assert_eq!(entry(&inv, "mysecret").keys, ["foo"]);
    assert_eq!(entry(&inv, "foosecret").keys, ["username"]);
    assert_eq!(
        entry(&inv, "payments-creds").producer.as_deref(),
        Some("ExternalSecret/app/payments")
    );
}

#[test]
fn consumers_of_every_kind_are_found() {
    let inv = run();
    let kinds = |name: &str| -> Vec<ConsumerKind> {
        entry(&inv, name).consumers.iter().map(|c| c.kind).collect()
    };
    assert_eq!(kinds("db-creds"), [ConsumerKind::Env]);
    assert_eq!(kinds("api-key"), [ConsumerKind::EnvFrom]);
    assert_eq!(kinds("mysecret"), [ConsumerKind::ProjectedVolume]);
    assert_eq!(kinds("tls-cert"), [ConsumerKind::Volume]);
    assert_eq!(kinds("foosecret"), [ConsumerKind::Csi]);
    assert_eq!(
        kinds("regcred"),
        [ConsumerKind::ImagePullSecret, ConsumerKind::ImagePullSecret]
    );
    assert_eq!(
        kinds("internal/data/database/config"),
        [ConsumerKind::VaultAgent]
    );
    let db = &entry(&inv, "db-creds").consumers[0];
    assert_eq!(db.object, "Deployment/app/api");
    assert_eq!(
        db.detail,
        "container api, env DB_PASSWORD from key password"
    );
}

#[test]
fn ages_use_the_last_rotation() {
    let inv = run();
    let db = entry(&inv, "db-creds");
    assert_eq!(db.age_days, Some(41));
    assert!(!db.findings.contains(&"PLS-SCR-001"));
    let api = entry(&inv, "api-key");
    assert_eq!(api.age_days, Some(548));
    assert!(api.findings.contains(&"PLS-SCR-001"));
    assert_eq!(entry(&inv, "regcred").age_days, None);
}

#[test]
fn findings_per_secret() {
    let inv = run();
    assert_eq!(
        rules_for(&inv, "old-backup-creds"),
        ["PLS-SCR-002", "PLS-SCR-004"]
    );
    assert_eq!(
        rules_for(&inv, "api-key"),
        ["PLS-SCR-001", "PLS-SCR-003", "PLS-SCR-004"]
    );
    assert_eq!(
        rules_for(&inv, "payments-creds"),
        ["PLS-SCR-003", "PLS-SCR-004", "PLS-SCR-005"]
    );
    assert_eq!(rules_for(&inv, "hourly-creds"), ["PLS-SCR-004"]);
    assert_eq!(
        rules_for(&inv, "build-robot-secret"),
        ["PLS-SCR-004", "PLS-SCR-006"]
    );
    assert!(rules_for(&inv, "internal/data/database/config").is_empty());
}

#[test]
fn readers_come_from_effective_rbac() {
    let inv = run();
    let subjects = |name: &str| -> Vec<(String, bool)> {
        entry(&inv, name)
            .readers
            .iter()
            .map(|r| (r.subject.clone(), r.broad))
            .collect()
    };
    assert_eq!(
        subjects("db-creds"),
        [
            ("Group:system:serviceaccounts:app".to_owned(), true),
            ("ServiceAccount:app/api".to_owned(), false),
        ]
    );
    assert_eq!(
        subjects("tls-cert"),
        [("Group:system:serviceaccounts:app".to_owned(), true)]
    );
}

#[test]
fn values_never_appear() {
    let inv = run();
    let text = format!("{inv:?}");
    for value in [
        "c3VwZXItc2VjcmV0LXZhbHVlLTQy",
        "sk-live-do-not-print-me",
        "ZG8tbm90LXByaW50LW1l",
        "AgBy3i4OJSWK",
    ] {
        assert!(!text.contains(value), "{value} leaked");
    }
}

#[test]
fn bad_timestamps_and_durations_are_diagnostics() {
    let text = r#"
apiVersion: v1
kind: Secret
metadata:
  name: s
  namespace: x
  creationTimestamp: "yesterday"
  annotations:
    palisade.dev/rotate-every: "monthly"
type: Opaque
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {name: e, namespace: x}
spec:
  refreshInterval: soon
  refreshPolicy: CreatedOnce
"#;
    let load = palisade_k8s::load::load_str("bad.yaml", text);
    let inv = inventory(&load.objects, &Options::default());
    let msgs: Vec<&str> = inv.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("monthly")));
    assert!(msgs.iter().any(|m| m.contains("yesterday")));
    // CreatedOnce is reported whatever the interval says.
    assert!(inv.findings.iter().any(|f| f.rule == "PLS-SCR-005"));
}
