//! `kube-double`: serves a synthetic cluster for benchmarks until killed.
//!
//! ```text
//! kube-double --objects 50000 --kubeconfig-out bench/out/live/kubeconfig
//! ```
//! Objects are spread over 100 namespaces: per namespace a mix of
//! Deployments (pod templates with the usual mistakes and fixes), Services,
//! ConfigMaps, Secrets, ServiceAccounts, RoleBindings and NetworkPolicies,
//! plus one Namespace object each. The kubeconfig is written once the port
//! is open.
//!
//! ```text
//! kube-double --secrets 10000 --workloads 5000 --kubeconfig-out k
//! ```
//! serves a secrets-lifecycle cluster instead: Secrets with rotation
//! policies (half of them due), and Deployments that each consume two.

// A command-line tool: printing is its job (the ban is for libraries).
#![allow(clippy::disallowed_macros)]

use palisade_kube_double::Double;
use serde_json::{Value, json};

fn object(i: usize, namespaces: usize) -> Value {
    let ns = format!("team-{:03}", i % namespaces);
    let name = format!("app-{i:06}");
    match i % 10 {
        0..=3 => json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name},
                "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {
                "replicas": (i % 4) + 1,
                "selector": {"matchLabels": {"app": name}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "serviceAccountName": name,
                        "securityContext": if i.is_multiple_of(3) { json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}) } else { json!({}) },
                        "containers": [{
                            "name": "server",
                            "image": if i.is_multiple_of(5) { "vllm/vllm-openai:latest".to_owned() } else { format!("registry.acme.example/team/app:1.{}.0", i % 20) },
                            "args": ["--port", "8000"],
                            "ports": [{"containerPort": 8000, "protocol": "TCP", "name": "http"}],
                            "env": [{"name": "LOG_LEVEL", "value": "info"}],
                            "resources": if i.is_multiple_of(2) { json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}) } else { json!({}) },
                            "securityContext": {"allowPrivilegeEscalation": i.is_multiple_of(7), "readOnlyRootFilesystem": i.is_multiple_of(2), "privileged": i.is_multiple_of(97)},
                            "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}, "periodSeconds": 10},
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                            "imagePullPolicy": "IfNotPresent"
                        }],
                        "restartPolicy": "Always",
                        "terminationGracePeriodSeconds": 30,
                        "dnsPolicy": "ClusterFirst"
                    }
                }
            },
            "status": {"observedGeneration": 3, "replicas": 1, "readyReplicas": 1}
        }),
        4 | 5 => json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": if i % 50 == 4 { "LoadBalancer" } else { "ClusterIP" },
                "selector": {"app": format!("app-{:06}", i - 4)},
                "ports": [{"name": "http", "port": 80, "targetPort": 8000, "protocol": "TCP"}],
                "clusterIP": format!("10.96.{}.{}", (i / 250) % 250, i % 250)}
        }),
        6 => json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": {"MODEL_ID": "meta-llama/Llama-3.1-8B-Instruct", "MAX_MODEL_LEN": "8192", "config.yaml": "server:\n  port: 8000\n"}
        }),
        7 => json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "type": "Opaque",
            "stringData": {"token": format!("synthetic-secret-value-{i}")}
        }),
        8 => json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": format!("app-{:06}", i - 8), "namespace": ns}
        }),
        _ => {
            if i % 20 == 9 {
                json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": name, "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": if i % 100 == 9 { "admin" } else { "view" }},
                    "subjects": [{"kind": "ServiceAccount", "name": format!("app-{:06}", i - 9), "namespace": ns}]
                })
            } else {
                json!({
                    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {"podSelector": {"matchLabels": {"app": format!("app-{:06}", i - 9)}},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8000, "protocol": "TCP"}]}]}
                })
            }
        }
    }
}

/// A Secret with a rotation policy, due when `i` is even.
fn lifecycle_secret(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("secret-{i:06}"), "namespace": format!("team-{:03}", i % 100),
            "annotations": {"palisade.dev/rotate-every": "30d", "palisade.dev/generator": "password length=32",
                "palisade.dev/version": "3",
                "palisade.dev/rotated-at": if i.is_multiple_of(2) { "2026-10-01T00:00:00Z" } else { "2099-01-01T00:00:00Z" }}},
        "type": "Opaque", "stringData": {"password": format!("synthetic-{i}")}})
}

/// A Deployment consuming two Secrets of its namespace.
fn lifecycle_workload(i: usize, secrets: usize) -> Value {
    let s = i % secrets;
    let name = format!("app-{i:06}");
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": format!("team-{:03}", s % 100)},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1",
                    "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": format!("secret-{s:06}"), "key": "password"}}}]}],
                    "volumes": [{"name": "b", "secret": {"secretName": format!("secret-{:06}", (s + 100) % secrets)}}]}}}})
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut objects = 50_000usize;
    let mut lifecycle: (usize, usize) = (0, 0);
    let mut kubeconfig_out: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--objects" => {
                let Some(n) = args.next().and_then(|n| n.parse().ok()) else {
                    eprintln!("kube-double: --objects needs a number");
                    return std::process::ExitCode::from(2);
                };
                objects = n;
            }
            "--kubeconfig-out" => kubeconfig_out = args.next(),
            "--secrets" | "--workloads" => {
                let Some(n) = args.next().and_then(|n| n.parse().ok()) else {
                    eprintln!("kube-double: {a} needs a number");
                    return std::process::ExitCode::from(2);
                };
                if a == "--secrets" {
                    lifecycle.0 = n;
                } else {
                    lifecycle.1 = n;
                }
            }
            "-h" | "--help" => {
                eprintln!(
                    "usage: kube-double [--objects N | --secrets N --workloads M] [--kubeconfig-out FILE]"
                );
                return std::process::ExitCode::SUCCESS;
            }
            other => {
                eprintln!("kube-double: unknown argument {other:?}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let namespaces = 100usize.min(objects.max(1));
    let mut d = Double::new();
    let mut added = 0usize;
    for n in 0..namespaces {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": format!("team-{n:03}"),
                "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}});
        if d.add(ns).is_ok() {
            added += 1;
        }
    }
    if lifecycle.0 > 0 {
        objects = 0;
        for i in 0..lifecycle.0 {
            if d.add(lifecycle_secret(i)).is_ok() {
                added += 1;
            }
        }
        for i in 0..lifecycle.1 {
            if d.add(lifecycle_workload(i, lifecycle.0)).is_ok() {
                added += 1;
            }
        }
    }
    let mut i = 0usize;
    while added < objects {
        if d.add(object(i, namespaces)).is_ok() {
            added += 1;
        }
        i += 1;
    }
    let running = match d.start() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kube-double: cannot listen: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let kc = running.kubeconfig("kube-double");
    match kubeconfig_out {
        Some(p) => {
            if let Err(e) = std::fs::write(&p, kc) {
                eprintln!("kube-double: cannot write {p}: {e}");
                return std::process::ExitCode::from(1);
            }
        }
        None => print!("{kc}"),
    }
    eprintln!("kube-double: serving {added} objects on {}", running.url());
    loop {
        std::thread::park();
    }
}
