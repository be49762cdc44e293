#!/usr/bin/env python3
"""Generates a realistic set of Kubernetes manifests for the scan benchmark.

    python3 bench/scan/gen.py --resources 10000 --out bench/out/scan/10000 [--seed 42]

Deterministic for a given seed and size. The set looks like a platform team's
repository: namespaces per team, each with its Namespace (some with Pod
Security Admission labels), RBAC, NetworkPolicies, quotas; applications made
of a workload (Deployment, StatefulSet, DaemonSet, CronJob or a KServe
InferenceService) with its Service, ConfigMap, Secret, ServiceAccount,
Ingress and PodDisruptionBudget, one application per file (some files hold
two), in folders per namespace. Roughly a third of the applications carry the
mistakes real teams make (latest tags, no limits, root, privileged GPU pods,
hostPath, tokens pasted into env, wildcard RBAC, NodePort and LoadBalancer
Services, Ingresses without TLS, ingress-nginx snippets...), so the rules
have work to do. Exactly N resources are written.

Only the standard library: the benchmark's only install is the peer.
"""

import argparse
import json
import os
import random
import shutil
import string

TEAMS = ["search", "payments", "ml", "llm", "data", "platform", "web", "auth",
         "billing", "recs", "ads", "infra", "mlops", "vision", "speech", "risk"]
APPS = ["api", "worker", "gateway", "frontend", "indexer", "scheduler", "cache",
        "ingest", "embedder", "ranker", "router", "notifier", "exporter", "sync"]
IMAGES = [
    ("registry.acme.example/{team}/{app}", "1.{minor}.{patch}"),
    ("ghcr.io/acme/{app}", "v2.{minor}.{patch}"),
    ("docker.io/library/nginx", "1.27.{patch}"),
    ("docker.io/library/redis", "7.4.{patch}"),
    ("quay.io/prometheus/node-exporter", "v1.8.{patch}"),
    ("vllm/vllm-openai", "v0.6.{patch}"),
    ("nvcr.io/nvidia/tritonserver", "24.0{patch}-py3"),
]
MODELS = ["meta-llama/Meta-Llama-3-8B-Instruct", "mistralai/Mistral-7B-Instruct-v0.3",
          "Qwen/Qwen2.5-7B-Instruct", "google/gemma-2-9b-it", "BAAI/bge-large-en-v1.5"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def chance(self, p):
        return self.r.random() < p

    def token(self, prefix, n, alphabet=string.ascii_letters + string.digits):
        return prefix + "".join(self.r.choice(alphabet) for _ in range(n))

    # ---- pod templates ------------------------------------------------
    def container(self, team, app, bad, gpu=False):
        img, tag = self.r.choice(IMAGES)
        image = img.format(team=team, app=app)
        minor, patch = self.r.randrange(30), self.r.randrange(9)
        tag = tag.format(minor=minor, patch=patch)
        if bad and self.chance(0.35):
            image += self.r.choice([":latest", ""])
        elif self.chance(0.2):
            image += ":" + tag + "@sha256:" + self.token("", 64, "0123456789abcdef")
        else:
            image += ":" + tag
        c = {"name": app, "image": image,
             "ports": [{"name": "http", "containerPort": self.r.choice([8080, 8000, 3000, 9090])}]}
        if not bad or self.chance(0.6):
            c["imagePullPolicy"] = "IfNotPresent" if not image.endswith(":latest") else "Always"
        env = [{"name": "LOG_LEVEL", "value": self.r.choice(["info", "debug", "warn"])},
               {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
               {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": app + "-secrets", "key": "password"}}}]
        if bad and self.chance(0.15):
            env.append(self.r.choice([
                {"name": "HF_TOKEN", "value": self.token("hf_", 34, string.ascii_letters)},
                {"name": "AWS_ACCESS_KEY_ID", "value": self.token("AKIA", 16, string.ascii_uppercase + "234567")},
                {"name": "OPENAI_API_KEY", "value": self.token("sk-proj-", 40)},
                {"name": "DATABASE_URL", "value": "postgres://app:" + self.token("", 16) + "@db." + team + ":5432/app"},
            ]))
        c["env"] = env
        c["envFrom"] = [{"configMapRef": {"name": app + "-config"}}]
        if not bad or self.chance(0.4):
            res = {"requests": {"cpu": self.r.choice(["100m", "250m", "500m", "1"]),
                                "memory": self.r.choice(["128Mi", "256Mi", "512Mi", "1Gi"])}}
            if not bad or self.chance(0.5):
                res["limits"] = {"cpu": "2", "memory": self.r.choice(["512Mi", "1Gi", "2Gi"])}
            if gpu:
                res.setdefault("limits", {})["nvidia.com/gpu"] = "1"
            c["resources"] = res
        elif gpu:
            c["resources"] = {"limits": {"nvidia.com/gpu": "1"}}
        if not bad or self.chance(0.5):
            c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10}
            c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"},
                                  "initialDelaySeconds": 15, "periodSeconds": 20}
        if bad:
            sc = {}
            if self.chance(0.3):
                sc["allowPrivilegeEscalation"] = True
            if gpu and self.chance(0.5) or self.chance(0.05):
                sc["privileged"] = True
            if self.chance(0.2):
                sc["capabilities"] = {"add": [self.r.choice(["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"])]}
            if self.chance(0.2):
                sc["runAsUser"] = 0
            if sc:
                c["securityContext"] = sc
        else:
            c["securityContext"] = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "runAsNonRoot": True, "runAsUser": 10001,
                                    "capabilities": {"drop": ["ALL"]}}
        c["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
        return c

    def pod_spec(self, team, app, bad, gpu=False, sa=True):
        spec = {}
        if sa:
            spec["serviceAccountName"] = app
        if not bad:
            spec["automountServiceAccountToken"] = False
            spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                       "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
        elif self.chance(0.5):
            spec["securityContext"] = {"runAsNonRoot": self.chance(0.5)}
        containers = [self.container(team, app, bad, gpu)]
        if self.chance(0.2):
            side = self.container(team, "proxy", bad and self.chance(0.5))
            side["image"] = "docker.io/envoyproxy/envoy:v1.31.%d" % self.r.randrange(5)
            side["ports"] = [{"name": "proxy", "containerPort": 15001}]
            side.pop("readinessProbe", None)
            side.pop("livenessProbe", None)
            side["env"] = side["env"][:2]
            containers.append(side)
        spec["containers"] = containers
        if self.chance(0.15):
            init = self.container(team, "migrate", bad and self.chance(0.5))
            init.pop("ports", None)
            init.pop("readinessProbe", None)
            init.pop("livenessProbe", None)
            spec["initContainers"] = [init]
        vols = [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
        if bad and self.chance(0.12):
            vols.append({"name": "host", "hostPath": {"path": self.r.choice(
                ["/var/log", "/var/run/docker.sock", "/mnt/models", "/"]), "type": "Directory"}})
            containers[0]["volumeMounts"].append({"name": "host", "mountPath": "/host"})
        if bad and self.chance(0.08):
            spec[self.r.choice(["hostNetwork", "hostPID", "hostIPC"])] = True
        spec["volumes"] = vols
        if gpu:
            spec["nodeSelector"] = {"nvidia.com/gpu.present": "true"}
            spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
        return spec

    def template(self, team, app, bad, gpu=False):
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": team}
        return labels, {"metadata": {"labels": dict(labels)}, "spec": self.pod_spec(team, app, bad, gpu)}

    # ---- objects --------------------------------------------------------
    @staticmethod
    def meta(name, ns, labels=None, annotations=None):
        m = {"name": name, "namespace": ns}
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = annotations
        return m

    def workload(self, team, ns, app, bad):
        kind = self.r.choices(["Deployment", "StatefulSet", "DaemonSet", "CronJob", "InferenceService"],
                              [55, 12, 6, 12, 15])[0]
        gpu = kind == "InferenceService" or (team in ("ml", "llm", "vision", "speech") and self.chance(0.3))
        if kind == "InferenceService":
            model = {"modelFormat": {"name": "huggingface"},
                     "storageUri": "s3://acme-models-%s/%s" % (team, self.r.choice(MODELS).lower()),
                     "args": ["--model_name=" + app]}
            c = self.container(team, app, bad, True)
            for k in ("resources", "securityContext", "env", "readinessProbe", "livenessProbe"):
                if k in c:
                    model[k] = c[k]
            if bad and self.chance(0.3):
                model["image"] = "kserve/huggingfaceserver:latest"
            pred = {"minReplicas": self.r.choice([1, 2]), "model": model, "serviceAccountName": app}
            if not bad:
                pred["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
            return {"apiVersion": "serving.kserve.io/v1beta1", "kind": kind,
                    "metadata": self.meta(app, ns, {"app.kubernetes.io/name": app}),
                    "spec": {"predictor": pred}}, {"app.kubernetes.io/name": app}
        labels, tpl = self.template(team, app, bad, gpu)
        meta = self.meta(app, ns, labels)
        if kind == "CronJob":
            tpl["spec"]["restartPolicy"] = "OnFailure"
            for c in tpl["spec"]["containers"]:
                c.pop("ports", None)
                c.pop("readinessProbe", None)
                c.pop("livenessProbe", None)
            return {"apiVersion": self.r.choice(["batch/v1"] * 9 + ["batch/v1beta1"]), "kind": kind,
                    "metadata": meta,
                    "spec": {"schedule": "%d */%d * * *" % (self.r.randrange(60), self.r.choice([1, 2, 6])),
                             "concurrencyPolicy": "Forbid",
                             "jobTemplate": {"spec": {"backoffLimit": 2, "template": tpl}}}}, labels
        spec = {"selector": {"matchLabels": dict(labels)}, "template": tpl}
        if kind != "DaemonSet":
            spec["replicas"] = self.r.choice([1, 2, 3, 3, 5]) if bad else self.r.choice([2, 3, 5])
        if kind == "StatefulSet":
            spec["serviceName"] = app
            spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}]
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}, labels

    def service(self, ns, app, labels, bad):
        t = "ClusterIP"
        if bad and self.chance(0.3):
            t = self.r.choice(["NodePort", "LoadBalancer"])
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": self.meta(app, ns, labels),
               "spec": {"type": t, "selector": dict(labels),
                        "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
        if bad and self.chance(0.03):
            svc["spec"]["externalIPs"] = ["203.0.113.%d" % self.r.randrange(1, 250)]
        return svc

    def ingress(self, ns, app, bad):
        host = "%s.%s.acme.example" % (app, ns)
        ann = {"cert-manager.io/cluster-issuer": "letsencrypt"}
        if bad and self.chance(0.2):
            ann["nginx.ingress.kubernetes.io/configuration-snippet"] = "more_set_headers \"X-App: %s\";" % app
        spec = {"ingressClassName": "nginx",
                "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                    "service": {"name": app, "port": {"name": "http"}}}}]}}]}
        if not bad or self.chance(0.5):
            spec["tls"] = [{"hosts": [host], "secretName": app + "-tls"}]
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": self.meta(app, ns, annotations=ann), "spec": spec}

    def configmap(self, ns, app, bad):
        data = {"config.yaml": "server:\n  port: 8080\n  workers: %d\nfeatures:\n  cache: true\n" % self.r.randrange(1, 16),
                "LOG_FORMAT": "json", "UPSTREAM_URL": "http://%s-backend.%s.svc:8080" % (app, ns)}
        if bad and self.chance(0.1):
            data["AWS_SECRET_ACCESS_KEY"] = self.token("", 40, string.ascii_letters + string.digits + "/+")
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.meta(app + "-config", ns), "data": data}

    def secret(self, ns, app):
        return {"apiVersion": "v1", "kind": "Secret", "metadata": self.meta(app + "-secrets", ns),
                "type": "Opaque", "stringData": {"password": self.token("", 24)}}

    def service_account(self, ns, app, bad):
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": self.meta(app, ns)}
        if not bad:
            sa["automountServiceAccountToken"] = False
        return sa

    def pdb(self, ns, app, labels):
        return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": self.meta(app, ns),
                "spec": {"minAvailable": 1, "selector": {"matchLabels": dict(labels)}}}

    def namespace_objects(self, ns, bad):
        out = []
        labels = {"team": ns}
        if not bad or self.chance(0.5):
            labels["pod-security.kubernetes.io/enforce"] = self.r.choice(["restricted", "baseline"]) if not bad else "privileged"
        out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}})
        out.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": self.meta("quota", ns),
                    "spec": {"hard": {"requests.cpu": "64", "requests.memory": "256Gi", "pods": "500"}}})
        out.append({"apiVersion": "v1", "kind": "LimitRange", "metadata": self.meta("defaults", ns),
                    "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
                                         "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]}})
        if not bad or self.chance(0.5):
            out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": self.meta("default-deny", ns),
                        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": self.meta("allow-ingress-controller", ns),
                    "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": ns.rsplit("-", 1)[0]}},
                             "policyTypes": ["Ingress"],
                             "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
                                 "kubernetes.io/metadata.name": "ingress-nginx"}}}]}]}})
        rules = [{"apiGroups": ["", "apps"], "resources": ["pods", "deployments", "configmaps"],
                  "verbs": ["get", "list", "watch"]}]
        if bad and self.chance(0.3):
            rules.append(self.r.choice([
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
            ]))
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": self.meta("developers", ns), "rules": rules})
        out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": self.meta("developers", ns),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "developers"},
                    "subjects": [{"kind": "Group", "name": "team-" + ns, "apiGroup": "rbac.authorization.k8s.io"}]})
        if bad and self.chance(0.2):
            out.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": ns + "-admins"},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": self.r.choice(["cluster-admin", "admin", "edit"])},
                        "subjects": [{"kind": "Group", "name": "team-" + ns + "-leads",
                                      "apiGroup": "rbac.authorization.k8s.io"}]})
        return out

    def application(self, team, ns, idx):
        bad = self.chance(0.33)
        app = "%s-%s" % (self.r.choice(APPS), idx)
        w, labels = self.workload(team, ns, app, bad)
        objs = [w, self.service_account(ns, app, bad), self.configmap(ns, app, bad)]
        if w["kind"] not in ("CronJob",):
            objs.append(self.service(ns, app, labels, bad))
        if self.chance(0.5):
            objs.append(self.secret(ns, app))
        if w["kind"] in ("Deployment", "InferenceService") and self.chance(0.35):
            objs.append(self.ingress(ns, app, bad))
        if w["kind"] in ("Deployment", "StatefulSet") and not bad and self.chance(0.6):
            objs.append(self.pdb(ns, app, labels))
        return objs


def dump_yaml(obj, indent=0):
    """YAML block style, as kubectl and Helm write it. Scalars are JSON-quoted
    when YAML would read them as something else."""
    pad = "  " * indent
    lines = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(dump_yaml(v, indent + 1 if isinstance(v, dict) else indent))
            else:
                lines.append("%s%s: %s" % (pad, k, scalar(v)))
    else:
        for v in obj:
            if isinstance(v, dict) and v:
                inner = dump_yaml(v, indent + 1).split("\n")
                inner[0] = pad + "- " + inner[0].lstrip()
                lines.append("\n".join(inner))
            elif isinstance(v, list) and v:
                lines.append(pad + "-")
                lines.append(dump_yaml(v, indent + 1))
            else:
                lines.append("%s- %s" % (pad, scalar(v)))
    return "\n".join(lines)


PLAIN = set(string.ascii_letters + string.digits + "-_./")


def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v == {}:
        return "{}"
    if v == []:
        return "[]"
    s = str(v)
    if "\n" in s:
        return "|\n" + "\n".join("      " + line for line in s.rstrip("\n").split("\n"))
    if s and set(s) <= PLAIN and s.lower() not in ("true", "false", "yes", "no", "on", "off", "null", "y", "n") \
            and not s[0].isdigit() and not s[0] in "-.":
        return s
    return json.dumps(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resources", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    g = Gen(args.seed)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    # Namespaces grow with the set, about 60 applications each.
    n_ns = max(2, args.resources // 400)
    namespaces = ["%s-%d" % (TEAMS[i % len(TEAMS)], i // len(TEAMS)) for i in range(n_ns)]
    remaining = args.resources
    files = 0
    files_per_ns = {}

    def write(ns, name, objs):
        nonlocal files
        d = os.path.join(args.out, ns)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write("\n---\n".join(dump_yaml(o) for o in objs) + "\n")
        files += 1

    # The namespace-level objects first, so a small set still has them.
    for ns in namespaces:
        if remaining <= 0:
            break
        objs = g.namespace_objects(ns, g.chance(0.3))[:remaining]
        remaining -= len(objs)
        write(ns, "namespace.yaml", objs)
    i = 0
    while remaining > 0:
        ns = namespaces[g.r.randrange(len(namespaces))]
        team = ns.rsplit("-", 1)[0]
        objs = g.application(team, ns, i)
        if g.chance(0.2):  # some files hold two applications
            i += 1
            objs += g.application(team, ns, i)
        objs = objs[:remaining]
        remaining -= len(objs)
        files_per_ns[ns] = files_per_ns.get(ns, 0) + 1
        write(ns, "%s.yaml" % objs[0]["metadata"]["name"], objs)
        i += 1
    print(json.dumps({"resources": args.resources, "files": files, "namespaces": len(namespaces)}))


if __name__ == "__main__":
    main()
