//! Rotation and rollouts against the Kubernetes API server double, through
//! kube-rs: what is written, what is never read, what is recorded.
#![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

use base64::Engine as _;
use palisade_k8s::cluster::{ClusterOptions, client, load};
use palisade_kube_double::{Double, Running};
use palisade_secrets::audit::AuditKey;
use palisade_secrets::cluster::{Actor, AuditSink, PassOptions, run_once};
use palisade_secrets::policy::PolicySet;
use palisade_secrets::rollout::{CHECKSUM, OBSERVED, RolloutAction, RolloutPolicy};
use palisade_secrets::rotation::Action;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::der::DecodePem as _;

const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
static POLICIES: std::sync::LazyLock<PolicySet> = std::sync::LazyLock::new(PolicySet::default);
static PACING: std::sync::LazyLock<RolloutPolicy> =
    std::sync::LazyLock::new(RolloutPolicy::default);

fn opts_at(now: OffsetDateTime) -> PassOptions<'static> {
    PassOptions {
        policies: Some(&POLICIES),
        rollout: &PACING,
        now,
        dry_run: false,
    }
}

pub fn deployment(name: &str, secret: &str, annotations: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "llm", "annotations": annotations},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1",
                    "env": [{"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}]}]}}}})
}

fn cluster() -> Running {
    let mut d = Double::new();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "llm", "annotations": {
            "palisade.dev/rotate-every": "30d", "palisade.dev/generator": "password length=40"}},
        "type": "Opaque", "stringData": {"password": "initial-db-password"}}))
        .unwrap();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "api-key", "namespace": "llm"},
        "type": "Opaque", "stringData": {"password": "not-rotated-value"}}))
        .unwrap();
    // An empty Secret to be filled: no key to keep.
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "signing", "namespace": "llm", "annotations": {
            "palisade.dev/rotate-every": "90d", "palisade.dev/generator": "ed25519"}},
        "type": "Opaque"}))
        .unwrap();
    d.add(deployment("api", "db", json!({}))).unwrap();
    d.add(deployment("web", "api-key", json!({}))).unwrap();
    d.add(deployment(
        "batch",
        "db",
        json!({"palisade.dev/rollout": "false"}),
    ))
    .unwrap();
    d.start().unwrap()
}

pub fn options(d: &Running, dir: &tempfile::TempDir) -> ClusterOptions {
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, d.kubeconfig("test")).unwrap();
    ClusterOptions {
        kubeconfig: Some(kc),
        ..ClusterOptions::default()
    }
}

fn secret_data(d: &Running, name: &str, key: &str) -> Option<Vec<u8>> {
    d.with_store(|s| {
        s.get("", "secrets", "llm", name).and_then(|o| {
            o["data"]
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    })
    .map(|b| base64::engine::general_purpose::STANDARD.decode(b).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_once_writes_keeps_previous_records_and_rolls_consumers() {
    let d = cluster();
    let dir = tempfile::tempdir().unwrap();
    let opts = options(&d, &dir);
    let (client, _) = client(&opts).await.unwrap();
    let objects = load(&opts).await.unwrap().outcome.objects;
    let key = AuditKey::new(&[7u8; 32]).unwrap();
    let log = dir.path().join("audit.jsonl");
    let audit = AuditSink::new(key.clone(), Some(log.clone()));
    let actor = Actor {
        identity: "test".into(),
    };
    let report = run_once(&client, &objects, &opts_at(NOW), &audit, &actor).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.rotations.len(), 2);
    assert!(
        report
            .rotations
            .iter()
            .all(|r| matches!(r.action, Action::Rotate { .. }))
    );

    // New value written, previous one kept server-side, annotations recorded.
    let new = secret_data(&d, "db", "password").unwrap();
    assert_eq!(new.len(), 40);
    assert_eq!(
        secret_data(&d, "db", "password.previous").unwrap(),
        b"initial-db-password"
    );
    let ann = d.with_store(|s| {
        s.get("", "secrets", "llm", "db").unwrap()["metadata"]["annotations"].clone()
    });
    assert_eq!(ann["palisade.dev/version"], "1");
    assert_eq!(ann["palisade.dev/rotated-at"], "2026-12-01T12:00:00Z");
    assert_eq!(
        ann["palisade.dev/previous-expires-at"],
        "2026-12-02T12:00:00Z"
    );
    // The empty Secret got its key pair and no previous values.
    assert!(
        String::from_utf8(secret_data(&d, "signing", "private.pem").unwrap())
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(secret_data(&d, "signing", "private.pem.previous").is_none());

    // Audit: keyed hash of the new value, never the value.
    let text = std::fs::read_to_string(&log).unwrap();
    let db_line = text.lines().find(|l| l.contains("Secret/llm/db")).unwrap();
    let rec: Value = serde_json::from_str(db_line).unwrap();
    assert!(key.verify(&new, rec["hashes"]["password"].as_str().unwrap()));
    let b64 = base64::engine::general_purpose::STANDARD.encode(&new);
    for needle in [
        std::str::from_utf8(&new).unwrap(),
        b64.as_str(),
        "initial-db-password",
    ] {
        assert!(!text.contains(needle), "audit log holds a value");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // Events in the events.k8s.io/v1 shape, about the Secret.
    let events = d.with_store(|s| {
        s.list("events.k8s.io", "events")
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
    });
    let rotated = events
        .iter()
        .find(|e| e["reason"] == "SecretRotated" && e["regarding"]["name"] == "db")
        .unwrap();
    assert_eq!(rotated["regarding"]["kind"], "Secret");
    assert_eq!(
        rotated["reportingController"],
        "palisade.dev/secrets-controller"
    );
    assert!(rotated["eventTime"].as_str().unwrap().ends_with(".000000Z"));
    assert!(!serde_json::to_string(&events).unwrap().contains(&b64));

    // Rollouts: the consumer of db rolled, the opted-out one did not, the
    // consumer of an unchanged Secret was only baselined.
    let dep = |n: &str| d.with_store(|s| s.get("apps", "deployments", "llm", n).unwrap().clone());
    let api = dep("api");
    assert_eq!(
        api["spec"]["template"]["metadata"]["annotations"][CHECKSUM]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(api["metadata"]["generation"], 2);
    let batch = dep("batch");
    assert!(
        batch["spec"]["template"]["metadata"]
            .get("annotations")
            .is_none()
    );
    assert_eq!(batch["metadata"]["generation"], 1);
    let web = dep("web");
    assert!(
        web["metadata"]["annotations"][OBSERVED]
            .as_str()
            .unwrap()
            .starts_with("api-key=")
    );
    assert_eq!(web["metadata"]["generation"], 1);
    assert!(
        events
            .iter()
            .any(|e| e["reason"] == "SecretChanged" && e["regarding"]["name"] == "api")
    );

    // Secret values were never fetched: metadata lists, and patches whose
    // answers are metadata only.
    for r in d.requests() {
        if r.path.contains("/secrets") {
            assert!(
                r.accept.contains("PartialObjectMetadata"),
                "full Secret answer: {r:?}"
            );
        }
    }

    // A second pass changes nothing.
    let objects = load(&opts).await.unwrap().outcome.objects;
    let again = run_once(
        &client,
        &objects,
        &opts_at(NOW + time::Duration::hours(1)),
        &audit,
        &actor,
    )
    .await;
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    assert!(again.rotations.iter().all(|r| r.action == Action::Wait));
    assert!(
        again
            .rollouts
            .iter()
            .all(|r| matches!(r.action, RolloutAction::UpToDate | RolloutAction::OptedOut)),
        "{:?}",
        again.rollouts
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_write_makes_the_rotation_fail_not_clobber() {
    let d = cluster();
    let dir = tempfile::tempdir().unwrap();
    let opts = options(&d, &dir);
    let (client, _) = client(&opts).await.unwrap();
    let objects = load(&opts).await.unwrap().outcome.objects;
    // Someone changes the Secret after it was read.
    d.with_store(|s| {
        let mut o = s.get("", "secrets", "llm", "db").unwrap().clone();
        o["data"]["password"] = json!("b3RoZXI=");
        s.upsert(o).unwrap();
    });
    let audit = AuditSink::new(AuditKey::new(&[1u8; 32]).unwrap(), None);
    let report = run_once(
        &client,
        &objects,
        &opts_at(NOW),
        &audit,
        &Actor {
            identity: "t".into(),
        },
    )
    .await;
    let err = report
        .errors
        .iter()
        .find(|e| e.contains("Secret/llm/db"))
        .unwrap();
    assert!(err.contains("409") || err.contains("422"), "{err}");
    assert_eq!(secret_data(&d, "db", "password").unwrap(), b"other");
    let failed = audit
        .records()
        .into_iter()
        .find(|r| r.object == "Secret/llm/db")
        .unwrap();
    assert!(failed.outcome.starts_with("failed"));
    assert!(failed.hashes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_issued_certificates_are_signed_by_the_ca_secret() {
    let mut d = Double::new();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "ca", "namespace": "llm", "annotations": {
            "palisade.dev/rotate-every": "365d", "palisade.dev/generator": "x509 cn=llm-ca ca=true days=730"}},
        "type": "kubernetes.io/tls"}))
        .unwrap();
    let dd = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = options(&dd, &dir);
    let (client, _) = client(&opts).await.unwrap();
    let audit = AuditSink::new(AuditKey::new(&[1u8; 32]).unwrap(), None);
    let actor = Actor {
        identity: "t".into(),
    };
    let objects = load(&opts).await.unwrap().outcome.objects;
    let r = run_once(&client, &objects, &opts_at(NOW), &audit, &actor).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(
        matches!(&r.rotations[0].action, Action::Rotate { reason, .. } if reason == "tls.crt, tls.key missing"),
        "{:?}",
        r.rotations
    );
    // Now a leaf issued by it.
    dd.with_store(|s| {
        s.upsert(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "api-tls", "namespace": "llm", "annotations": {
                "palisade.dev/rotate-every": "30d",
                "palisade.dev/generator": "x509 cn=api dns=api.llm.svc,api.llm.svc.cluster.local issuer=ca"}},
            "type": "kubernetes.io/tls"}))
            .unwrap();
    });
    let objects = load(&opts).await.unwrap().outcome.objects;
    let r = run_once(&client, &objects, &opts_at(NOW), &audit, &actor).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let get = |n: &str, k: &str| {
        dd.with_store(|s| {
            s.get("", "secrets", "llm", n).unwrap()["data"][k]
                .as_str()
                .unwrap()
                .to_owned()
        })
    };
    let pem = |b: String| base64::engine::general_purpose::STANDARD.decode(b).unwrap();
    let leaf = x509_cert::Certificate::from_pem(pem(get("api-tls", "tls.crt"))).unwrap();
    let ca = x509_cert::Certificate::from_pem(pem(get("ca", "tls.crt"))).unwrap();
    assert_eq!(leaf.tbs_certificate.issuer, ca.tbs_certificate.subject);
    assert_eq!(pem(get("api-tls", "ca.crt")), pem(get("ca", "tls.crt")));
}
