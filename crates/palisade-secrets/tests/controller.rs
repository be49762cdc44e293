//! The controller against the API server double: rotation, rollout,
//! debounce, opt-out, metrics and leader hand-over through a Lease. Waits
//! are for conditions (with a generous limit), never for a duration.
#![allow(clippy::unwrap_used, clippy::panic)]

use palisade_k8s::cluster::{ClusterOptions, client};
use palisade_kube_double::{Double, Running};
use palisade_secrets::audit::AuditKey;
use palisade_secrets::cluster::AuditSink;
use palisade_secrets::cluster::controller::{Clock, ControllerConfig, Metrics, app, run};
use palisade_secrets::rollout::{CHECKSUM, RESTARTED_AT, RolloutPolicy};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn deployment(name: &str, secret: &str, annotations: &Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "llm", "annotations": annotations},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1",
                    "envFrom": [{"secretRef": {"name": secret}}]}]}}}})
}

fn cluster() -> Running {
    let mut d = Double::new();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "llm", "annotations": {
            "palisade.dev/rotate-every": "30d", "palisade.dev/generator": "password length=32"}},
        "stringData": {"password": "initial-value-0001"}}))
        .unwrap();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "api-key", "namespace": "llm"}, "stringData": {"password": "issued-elsewhere"}}))
        .unwrap();
    d.add(deployment("api", "db", &json!({}))).unwrap();
    d.add(deployment(
        "batch",
        "db",
        &json!({"palisade.dev/rollout": "false"}),
    ))
    .unwrap();
    d.add(deployment(
        "web",
        "api-key",
        &json!({"reloader.stakater.com/auto": "true"}),
    ))
    .unwrap();
    d.start().unwrap()
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

struct Replica {
    stop: tokio::sync::watch::Sender<bool>,
    metrics: Arc<Metrics>,
    audit: Arc<AuditSink>,
    task: tokio::task::JoinHandle<()>,
}

async fn replica(d: &Running, dir: &tempfile::TempDir, identity: &str) -> Replica {
    let kc = dir.path().join(format!("kubeconfig-{identity}"));
    std::fs::write(&kc, d.kubeconfig("test")).unwrap();
    let (c, _) = client(&ClusterOptions {
        kubeconfig: Some(kc),
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let cfg = ControllerConfig {
        identity: identity.into(),
        lease_duration_secs: 2,
        renew_every: Duration::from_millis(200),
        rollout: RolloutPolicy {
            debounce: palisade_secrets::Duration { millis: 1500 },
            min_interval: palisade_secrets::Duration { millis: 0 },
            max_per_pass: 20,
        },
        ..ControllerConfig::default()
    };
    let audit = Arc::new(AuditSink::new(AuditKey::new(&[3u8; 32]).unwrap(), None));
    let metrics = Arc::new(Metrics::default());
    let clock: Clock = Arc::new(OffsetDateTime::now_utc);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (a, m) = (audit.clone(), metrics.clone());
    let task = tokio::spawn(async move {
        run(c, cfg, a, clock, m, rx).await.unwrap();
    });
    Replica {
        stop: tx,
        metrics,
        audit,
        task,
    }
}

fn get(d: &Running, group: &str, plural: &str, name: &str) -> Value {
    d.with_store(|s| {
        s.get(group, plural, "llm", name)
            .cloned()
            .unwrap_or(Value::Null)
    })
}

fn lease(d: &Running) -> Value {
    d.with_store(|s| {
        s.get(
            "coordination.k8s.io",
            "leases",
            "palisade",
            "palisade-secrets-controller",
        )
        .cloned()
        .unwrap_or(Value::Null)
    })
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_rotates_rolls_debounces_skips_opt_outs_and_hands_over() {
    let d = cluster();
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&d, &dir, "replica-a").await;
    wait_for("replica-a to lead", || a.metrics.is_leader()).await;
    // /readyz turns ready once every reflector has its initial list.
    wait_for("replica-a ready", || a.metrics.is_ready()).await;
    let b = replica(&d, &dir, "replica-b").await;
    assert_eq!(lease(&d)["spec"]["holderIdentity"], "replica-a");
    // A follower that reaches the API server stands by: ready, so that a
    // Deployment's rolling update (new pods start as followers) proceeds.
    wait_for("replica-b standing by", || b.metrics.is_ready()).await;
    assert!(!b.metrics.is_leader());

    // Rotation: db is past its period (created 2026-01-05).
    wait_for("db rotated", || {
        get(&d, "", "secrets", "db")["metadata"]["annotations"]["palisade.dev/version"] == "1"
    })
    .await;
    let rotated_at = time_of(
        &get(&d, "", "secrets", "db")["metadata"]["annotations"]["palisade.dev/rotated-at"],
    );
    // Rollout of the consumer, after the debounce period.
    wait_for("api rolled", || {
        get(&d, "apps", "deployments", "api")["spec"]["template"]["metadata"]["annotations"]
            .get(CHECKSUM)
            .is_some()
    })
    .await;
    let api = get(&d, "apps", "deployments", "api");
    let restarted = time_of(&api["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]);
    assert!(
        restarted - rotated_at >= time::Duration::seconds(1),
        "rolled {restarted} before the debounce after {rotated_at}"
    );
    assert_eq!(api["metadata"]["generation"], 2);
    // Opt-out: never patched.
    let batch = get(&d, "apps", "deployments", "batch");
    assert!(
        batch["metadata"]["annotations"]
            .get("palisade.dev/observed-secrets")
            .is_none()
    );
    assert_eq!(batch["metadata"]["generation"], 1);
    // web tracks api-key (Reloader auto) and was baselined only.
    wait_for("web baselined", || {
        get(&d, "apps", "deployments", "web")["metadata"]["annotations"]
            .get("palisade.dev/observed-secrets")
            .is_some()
    })
    .await;
    assert_eq!(
        get(&d, "apps", "deployments", "web")["metadata"]["generation"],
        1
    );

    // Debounce: an external refresher writes api-key three times in a row:
    // one rollout, not three.
    for v in ["djE=", "djI=", "djM="] {
        d.with_store(|s| {
            let mut o = s.get("", "secrets", "llm", "api-key").unwrap().clone();
            o["data"]["password"] = json!(v);
            s.upsert(o).unwrap();
        });
    }
    wait_for("web rolled", || {
        get(&d, "apps", "deployments", "web")["metadata"]["generation"] == 2
    })
    .await;
    // Give a second roll every chance to happen, then check there was none.
    let web_events = || {
        d.with_store(|s| {
            s.list("events.k8s.io", "events")
                .into_iter()
                .filter(|e| e["reason"] == "SecretChanged" && e["regarding"]["name"] == "web")
                .count()
        })
    };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(web_events(), 1);
    assert_eq!(
        get(&d, "apps", "deployments", "web")["metadata"]["generation"],
        2
    );

    // Only the leader acted.
    assert!(!b.metrics.is_leader());
    assert!(b.audit.records().is_empty());
    assert!(
        a.audit
            .records()
            .iter()
            .any(|r| r.action == "rotate" && r.outcome == "applied")
    );
    let text = a.metrics.encode();
    assert!(text.contains("palisade_secrets_leader 1"), "{text}");
    assert!(
        text.contains("palisade_secrets_rotations_total{result=\"ok\"} 1"),
        "{text}"
    );

    // Hand-over: a stops and releases the Lease; b takes over and acts.
    a.stop.send(true).unwrap();
    a.task.await.unwrap();
    wait_for("replica-b to lead", || b.metrics.is_leader()).await;
    let l = lease(&d);
    assert_eq!(l["spec"]["holderIdentity"], "replica-b");
    assert_eq!(l["spec"]["leaseTransitions"], 1);
    d.with_store(|s| {
        s.upsert(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "signing", "namespace": "llm", "annotations": {
                "palisade.dev/rotate-every": "90d", "palisade.dev/generator": "ed25519"}}}))
            .unwrap();
    });
    wait_for("signing filled by b", || {
        get(&d, "", "secrets", "signing")["data"]
            .get("private.pem")
            .is_some()
    })
    .await;
    // The audit record is written after the patch the test just saw.
    wait_for("b's audit record of the rotation", || {
        b.audit
            .records()
            .iter()
            .any(|r| r.object == "Secret/llm/signing" && r.actor == "replica-b")
    })
    .await;
    // Secrets were watched and listed as metadata only.
    for r in d.requests() {
        if r.path.contains("/secrets") {
            assert!(
                r.accept.contains("PartialObjectMetadata"),
                "full Secret answer: {r:?}"
            );
        }
    }
    b.stop.send(true).unwrap();
    b.task.await.unwrap();
    assert!(lease(&d)["spec"].get("holderIdentity").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_leader_is_replaced_after_the_lease_expires() {
    let d = cluster();
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&d, &dir, "replica-a").await;
    wait_for("replica-a to lead", || a.metrics.is_leader()).await;
    let b = replica(&d, &dir, "replica-b").await;
    // a dies without releasing.
    a.task.abort();
    wait_for("replica-b to lead", || b.metrics.is_leader()).await;
    assert_eq!(lease(&d)["spec"]["holderIdentity"], "replica-b");
    b.stop.send(true).unwrap();
    b.task.await.unwrap();
}

#[tokio::test]
async fn health_and_metrics_endpoints() {
    use tower::ServiceExt as _;
    let m = Arc::new(Metrics::default());
    let call = |path: &'static str| {
        let app = app(m.clone());
        async move {
            let r = app
                .oneshot(
                    axum::http::Request::get(path)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let code = r.status().as_u16();
            let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            (code, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    assert_eq!(call("/healthz").await.0, 200);
    assert_eq!(call("/readyz").await.0, 503);
    let (code, text) = call("/metrics").await;
    assert_eq!(code, 200);
    assert!(
        text.contains("# TYPE palisade_secrets_leader gauge"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_rollouts_roll_when_their_secret_rotates() {
    let mut d = palisade_kube_double::Double::new();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "llm", "annotations": {
            "palisade.dev/rotate-every": "30d", "palisade.dev/generator": "password length=32"}},
        "stringData": {"password": "initial-value-0001"}}))
        .unwrap();
    // Adding the object installs the Rollout CRD in the double; the shape
    // is Argo Rollouts' own (spec.template, spec.strategy.canary.steps).
    d.add(
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "llm-canary", "namespace": "llm"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "llm-canary"}},
            "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "10m"}}]}},
            "template": {"metadata": {"labels": {"app": "llm-canary"}},
                "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.6.3",
                    "env": [{"name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}]}}}}),
    )
    .unwrap();
    let d = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&d, &dir, "replica-a").await;
    wait_for("replica-a ready", || a.metrics.is_ready()).await;
    wait_for("db rotated", || {
        get(&d, "", "secrets", "db")["metadata"]["annotations"]["palisade.dev/version"] == "1"
    })
    .await;
    wait_for("the Rollout rolled", || {
        get(&d, "argoproj.io", "rollouts", "llm-canary")["spec"]["template"]["metadata"]
            ["annotations"]
            .get(CHECKSUM)
            .is_some()
    })
    .await;
    let r = get(&d, "argoproj.io", "rollouts", "llm-canary");
    assert!(
        r["spec"]["template"]["metadata"]["annotations"]
            .get(RESTARTED_AT)
            .is_some()
    );
    // The rest of the Rollout is untouched.
    assert_eq!(r["spec"]["strategy"]["canary"]["steps"][0]["setWeight"], 20);
    assert!(
        a.audit
            .records()
            .iter()
            .any(|x| x.action == "rollout" && x.object == "Rollout/llm/llm-canary"),
        "{:?}",
        a.audit.records()
    );
    a.stop.send(true).unwrap();
    a.task.await.unwrap();
}
