//! The cluster loader against the API server double: pagination, CRD
//! discovery, forbidden kinds, metadata-only Secrets.

#![allow(clippy::unwrap_used, clippy::panic)]

use palisade_k8s::cluster::{ClusterOptions, load_blocking};
use palisade_kube_double::Double;
use serde_json::json;

fn options(d: &palisade_kube_double::Running, dir: &tempfile::TempDir) -> ClusterOptions {
    let kc = dir.path().join("config");
    std::fs::write(&kc, d.kubeconfig("test")).unwrap();
    ClusterOptions {
        kubeconfig: Some(kc),
        page_size: 3,
        ..ClusterOptions::default()
    }
}

#[test]
fn every_page_is_read_with_continue_tokens() {
    let mut d = Double::new();
    for i in 0..10 {
        d.add(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i:02}"), "namespace": format!("ns-{}", i % 3)},
            "data": {"k": "v"}}))
            .unwrap();
    }
    let d = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = load_blocking(&options(&d, &dir)).unwrap();
    let names: Vec<&str> = load
        .outcome
        .objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    let listed = load.listed.iter().find(|l| l.kind == "ConfigMap").unwrap();
    assert_eq!((listed.objects, listed.pages), (10, 4));
    let pages: Vec<_> = d
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/configmaps")
        .collect();
    assert_eq!(pages.len(), 4);
    assert!(pages[0].query.contains("limit=3") && !pages[0].query.contains("continue"));
    assert!(pages[1..].iter().all(|r| r.query.contains("continue=")));
    assert_eq!(load.context, "test");
    assert!(load.warnings.is_empty(), "{:?}", load.warnings);
}

#[test]
fn custom_resources_are_listed_only_when_discovered() {
    let mut d = Double::new();
    d.add(
        json!({"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "llama", "namespace": "llm"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}}}}}),
    )
    .unwrap();
    d.add(
        json!({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ServingRuntime",
        "metadata": {"name": "vllm", "namespace": "llm"}, "spec": {"containers": []}}),
    )
    .unwrap();
    let d = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = load_blocking(&options(&d, &dir)).unwrap();
    let kinds: Vec<(&str, &str)> = load
        .outcome
        .objects
        .iter()
        .map(|o| (o.api_version.as_str(), o.kind.as_str()))
        .collect();
    assert!(kinds.contains(&("serving.kserve.io/v1beta1", "InferenceService")));
    // ServingRuntime is in v1alpha1, not the group's preferred version.
    assert!(kinds.contains(&("serving.kserve.io/v1alpha1", "ServingRuntime")));
    let reqs = d.requests();
    assert!(
        !reqs.iter().any(|r| r.path.starts_with("/apis/ray.io")),
        "ray.io is not installed"
    );
}

#[test]
fn forbidden_lists_become_warnings() {
    let mut d = Double::new().forbid("", "secrets");
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "a"}, "data": {"k": "dmFsdWU="}}))
        .unwrap();
    let d = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = load_blocking(&options(&d, &dir)).unwrap();
    assert_eq!(load.warnings.len(), 1, "{:?}", load.warnings);
    let w = &load.warnings[0];
    assert_eq!(w.file, "cluster://test/Secret");
    assert!(w.message.contains("forbidden"), "{}", w.message);
    assert!(!load.outcome.objects.iter().any(|o| o.kind == "Secret"));
}

#[test]
fn secrets_arrive_without_values() {
    let mut d = Double::new();
    d.add(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "a", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"stringData\":{\"k\":\"hunter2\"}}"}},
        "stringData": {"k": "hunter2"}}))
        .unwrap();
    let d = d.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let load = load_blocking(&options(&d, &dir)).unwrap();
    let s = load
        .outcome
        .objects
        .iter()
        .find(|o| o.kind == "Secret")
        .unwrap();
    let text = s.root.to_json().to_string();
    assert!(
        !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
        "{text}"
    );
    assert_eq!(s.api_version, "v1");
}
