#!/usr/bin/env python3
"""Writes N Kubernetes audit events (audit.k8s.io/v1 JSON lines) with the mix
of a busy cluster's log: kubelet and controller lease renewals, watches and
lists by controllers, kubectl gets, pod creates with request bodies, and a few
suspicious requests. Usage: gen_events.py N OUT"""
import json, random, sys, uuid

random.seed(42)
n, out = int(sys.argv[1]), sys.argv[2]
nodes = [f"gpu-node-{i}" for i in range(24)]
ts_base = 1_764_583_200  # 2025-12-01T10:00:00Z

def ts(i):
    s = ts_base + i // 2000
    return "2025-12-01T%02d:%02d:%02d.%06dZ" % (10 + (s // 3600) % 10, (s // 60) % 60, s % 60, (i * 37) % 1_000_000)

def base(i, verb, uri, user, groups, ua, obj, code=200, level="Metadata", stage="ResponseComplete"):
    t = ts(i)
    return {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": str(uuid.UUID(int=random.getrandbits(128), version=4)),
            "stage": stage, "requestURI": uri, "verb": verb, "user": {"username": user, "uid": str(uuid.UUID(int=random.getrandbits(128), version=4)), "groups": groups},
            "sourceIPs": ["10.0.%d.%d" % (random.randint(0, 3), random.randint(2, 250))], "userAgent": ua, "objectRef": obj,
            "responseStatus": {"metadata": {}, "code": code}, "requestReceivedTimestamp": t, "stageTimestamp": t,
            "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": 'RBAC: allowed by ClusterRoleBinding "system:node" of ClusterRole "system:node" to Group "system:nodes"'}}

def event(i):
    r = random.random()
    if r < 0.40:
        node = random.choice(nodes)
        return base(i, "update", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}?timeout=10s", f"system:node:{node}", ["system:nodes", "system:authenticated"],
                    "kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46", {"resource": "leases", "namespace": "kube-node-lease", "name": node, "uid": str(uuid.uuid4()), "apiGroup": "coordination.k8s.io", "apiVersion": "v1", "resourceVersion": str(random.randint(1, 10**7))})
    if r < 0.60:
        res = random.choice(["pods", "configmaps", "endpointslices", "services", "nodes"])
        return base(i, "watch", f"/api/v1/{res}?allowWatchBookmarks=true&resourceVersion={random.randint(1, 10**7)}&timeout=8m12s&timeoutSeconds=492&watch=true", "system:kube-controller-manager", ["system:authenticated"],
                    "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/shared-informers", {"resource": res, "apiVersion": "v1"}, stage="ResponseStarted")
    if r < 0.80:
        ns = random.choice(["llm", "kserve", "payments", "default", "monitoring"])
        return base(i, "get", f"/api/v1/namespaces/{ns}/pods/app-{i % 997}", "alice@acme.example", ["platform", "system:authenticated"], "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46",
                    {"resource": "pods", "namespace": ns, "name": f"app-{i % 997}", "apiVersion": "v1"})
    if r < 0.90:
        ns = random.choice(["llm", "kserve", "monitoring"])
        e = base(i, "create", f"/api/v1/namespaces/{ns}/pods", "system:serviceaccount:kube-system:replicaset-controller", ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
                 "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:replicaset-controller", {"resource": "pods", "namespace": ns, "name": f"vllm-{i}", "apiVersion": "v1"}, code=201, level="Request")
        e["requestObject"] = {"kind": "Pod", "apiVersion": "v1", "metadata": {"generateName": "vllm-", "namespace": ns, "labels": {"app": "vllm", "pod-template-hash": "6c8f9d7b5"}},
                              "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.6.3", "args": ["--model", "meta-llama/Meta-Llama-3-8B-Instruct"], "ports": [{"containerPort": 8000}],
                                                       "resources": {"limits": {"nvidia.com/gpu": "1"}}, "securityContext": {"privileged": random.random() < 0.01, "runAsNonRoot": True}}],
                                       "serviceAccountName": "vllm", "volumes": [{"name": "cache", "emptyDir": {}}]}}
        return e
    if r < 0.97:
        ns = random.choice(["llm", "payments"])
        return base(i, "get", f"/api/v1/namespaces/{ns}/configmaps/app-config", "system:serviceaccount:llm:vllm", ["system:serviceaccounts", "system:authenticated"], "python-requests/2.32.3",
                    {"resource": "configmaps", "namespace": ns, "name": "app-config", "apiVersion": "v1"})
    ns = random.choice(["llm", "payments"])
    name = random.choice(["hf-token", "db-credentials", "stripe-key"])
    return base(i, "get", f"/api/v1/namespaces/{ns}/secrets/{name}", random.choice(["bob@acme.example", "system:serviceaccount:ci:runner"]), ["system:authenticated"], "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46",
                {"resource": "secrets", "namespace": ns, "name": name, "apiVersion": "v1"})

with open(out, "w") as f:
    for i in range(n):
        f.write(json.dumps(event(i), separators=(",", ":")))
        f.write("\n")
