#!/usr/bin/env python3
"""The running controller against kube-double: convergence, per-reconcile
latency and single-Secret change latency.

Usage: controller_bench.py PALISADE KUBECONFIG OUTDIR [CHANGES]

1. Starts `palisade secrets controller` (under /usr/bin/time -v) with
   --debounce 0s --min-interval 0s and an unlimited rollout budget, and
   polls the double until every due Secret is rotated and every consuming
   workload records the Secrets' current versions in
   palisade.dev/observed-secrets and has rolled (restarted-at set): the time
   from the controller's start to that state is "convergence".
2. Reads the controller's reconcile_duration_seconds histogram on /metrics
   and prints p50/p99 (interpolated inside the buckets, as PromQL's
   histogram_quantile does) of the reconciles so far.
3. Patches one Secret (a new data value and palisade.dev/version, as an
   external rotator would), times until both of its consumers have rolled,
   CHANGES times; prints min/median/p90/max and the histogram quantiles of
   the reconciles during this phase only.
4. Stops the controller with SIGTERM and prints its peak RSS.

Only the standard library: it runs without a venv.
"""

import base64
import hashlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

VERSION = "palisade.dev/version"
OBSERVED = "palisade.dev/observed-secrets"
RESTARTED = "palisade.dev/restarted-at"


def server_of(kubeconfig):
    with open(kubeconfig, encoding="utf-8") as f:
        m = re.search(r"server:\s*(\S+)", f.read())
    if not m:
        sys.exit("no server in the kubeconfig")
    return m.group(1)


def request(url, method="GET", body=None, ctype=None):
    req = urllib.request.Request(url, method=method, data=body)
    req.add_header("Authorization", "Bearer double-token")
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def get_json(url):
    return json.loads(request(url))


def list_all(base, path):
    items, cont = [], ""
    while True:
        q = "?limit=5000" + (f"&continue={cont}" if cont else "")
        page = get_json(base + path + q)
        items.extend(page.get("items", []))
        cont = page.get("metadata", {}).get("continue") or ""
        if not cont:
            return items


def state_version(secret):
    md = secret["metadata"]
    ann = md.get("annotations") or {}
    if VERSION in ann:
        return f"{md['uid']}/v{ann[VERSION]}"
    return f"{md['uid']}/{md['resourceVersion']}"


def short_hash(ns, name, version):
    return hashlib.sha256(f"{ns}/{name}/{version}".encode()).hexdigest()[:12]


def consumed(deploy):
    spec = deploy["spec"]["template"]["spec"]
    out = set()
    for c in spec.get("containers", []):
        for e in c.get("env", []) or []:
            ref = (e.get("valueFrom") or {}).get("secretKeyRef") or {}
            if ref.get("name"):
                out.add(ref["name"])
        for ef in c.get("envFrom", []) or []:
            ref = ef.get("secretRef") or {}
            if ref.get("name"):
                out.add(ref["name"])
    for v in spec.get("volumes", []) or []:
        name = (v.get("secret") or {}).get("secretName")
        if name:
            out.add(name)
    return out


def expected_observed(deploy, secrets):
    ns = deploy["metadata"]["namespace"]
    parts = []
    for name in sorted(consumed(deploy)):
        s = secrets.get((ns, name))
        if s is not None:
            parts.append(f"{name}={short_hash(ns, name, state_version(s))}")
    return ",".join(parts)


def converged(base, due):
    secrets = {(s["metadata"]["namespace"], s["metadata"]["name"]): s
               for s in list_all(base, "/api/v1/secrets")}
    rotated = {k for k, s in secrets.items()
               if (s["metadata"].get("annotations") or {}).get(VERSION) not in (None, "3")}
    deploys = list_all(base, "/apis/apps/v1/deployments")
    pending = 0
    for d in deploys:
        ann = d["metadata"].get("annotations") or {}
        tmpl = d["spec"]["template"]["metadata"].get("annotations") or {}
        ns = d["metadata"]["namespace"]
        must_roll = any((ns, n) in rotated for n in consumed(d))
        if ann.get(OBSERVED) != expected_observed(d, secrets) or (must_roll and RESTARTED not in tmpl):
            pending += 1
    return len(rotated), pending, len(deploys)


def histogram(metrics_url):
    """Cumulative buckets (le -> count), count and sum of the reconcile histogram."""
    text = request(metrics_url).decode()
    buckets, count, total = [], 0.0, 0.0
    for line in text.splitlines():
        if line.startswith("palisade_secrets_reconcile_duration_seconds_bucket"):
            le = re.search(r'le="([^"]+)"', line).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
        elif line.startswith("palisade_secrets_reconcile_duration_seconds_count"):
            count = float(line.split()[-1])
        elif line.startswith("palisade_secrets_reconcile_duration_seconds_sum"):
            total = float(line.split()[-1])
    buckets.sort()
    return buckets, count, total


def minus(a, b):
    return ([(le, c - cb) for (le, c), (_, cb) in zip(a[0], b[0])], a[1] - b[1], a[2] - b[2])


def quantile(q, h):
    buckets, count, _ = h
    if count <= 0:
        return float("nan")
    rank = q * count
    prev_le, prev_c = 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return prev_le


def ms(x):
    return f"{x * 1000:.1f} ms"


def counter(metrics_url, name, label):
    text = request(metrics_url).decode()
    m = re.search(rf'^palisade_secrets_{name}_total\{{{label}\}} (\S+)', text, re.M)
    return int(float(m.group(1))) if m else 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    palisade, kubeconfig, out = sys.argv[1:4]
    changes = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    base = server_of(kubeconfig)
    secrets = list_all(base, "/api/v1/secrets")
    due = sum(1 for s in secrets
              if (s["metadata"].get("annotations") or {}).get("palisade.dev/rotated-at", "").startswith("2026"))
    port = free_port()
    metrics = f"http://127.0.0.1:{port}/metrics"
    key = os.path.join(out, "audit-key")
    cmd = ["/usr/bin/time", "-v", "-o", os.path.join(out, "controller.time"), palisade, "secrets", "controller",
           "--kubeconfig", kubeconfig, "--identity", "bench", "--lease-namespace", "palisade",
           "--listen", f"127.0.0.1:{port}", "--audit-key-file", key,
           "--audit-log", os.path.join(out, "controller-audit.jsonl"),
           "--debounce", "0s", "--min-interval", "0s", "--max-rollouts", "1000000", "--resync", "1h"]
    log = open(os.path.join(out, "controller.log"), "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        ready_at = None
        while True:
            time.sleep(0.5)
            if proc.poll() is not None:
                sys.exit(f"the controller exited ({proc.returncode}); see {out}/controller.log")
            if ready_at is None:
                try:
                    request(f"http://127.0.0.1:{port}/readyz")
                    ready_at = time.monotonic() - t0
                except OSError:
                    continue
            rotated, pending, total = converged(base, due)
            if rotated >= due and pending == 0:
                conv = time.monotonic() - t0
                break
            if time.monotonic() - t0 > 1800:
                sys.exit(f"no convergence after 30 min: {rotated}/{due} rotated, {pending}/{total} workloads pending")
        start_h = histogram(metrics)
        rolls = counter(metrics, "rollouts", 'action="roll"')
        rots = counter(metrics, "rotations", 'result="ok"')
        print(f"controller ready (/readyz 200) after {ready_at:.2f} s")
        print(f"convergence: {rots} rotations, {rolls} rollouts applied, all {total} workloads current "
              f"after {conv:.2f} s (polled every 0.5 s)")
        print(f"reconciles so far: {int(start_h[1])}, p50 {ms(quantile(0.5, start_h))}, "
              f"p99 {ms(quantile(0.99, start_h))}, mean {ms(start_h[2] / max(start_h[1], 1))}")

        # Steady state: one Secret changes; odd Secrets were not due, and
        # secret-X is consumed by app-X (env) and app-(X-100) (volume).
        lat = []
        for k in range(changes):
            x = 101 + 2 * 97 * k % 4800
            name, ns = f"secret-{x:06d}", f"team-{x % 100:03d}"
            consumers = [f"app-{x:06d}", f"app-{x - 100:06d}"]
            before = {c: (get_json(f"{base}/apis/apps/v1/namespaces/{ns}/deployments/{c}")
                          ["spec"]["template"]["metadata"].get("annotations") or {}).get("palisade.dev/secrets-checksum")
                      for c in consumers}
            value = base64.b64encode(f"bench-{k}-{time.time()}".encode()).decode()
            patch = json.dumps({"metadata": {"annotations": {VERSION: str(100 + k)}},
                                "data": {"password": value}}).encode()
            t = time.monotonic()
            request(f"{base}/api/v1/namespaces/{ns}/secrets/{name}", "PATCH", patch,
                    "application/merge-patch+json")
            left = set(consumers)
            while left:
                for c in list(left):
                    d = get_json(f"{base}/apis/apps/v1/namespaces/{ns}/deployments/{c}")
                    now = (d["spec"]["template"]["metadata"].get("annotations") or {}).get(
                        "palisade.dev/secrets-checksum")
                    if now != before[c]:
                        left.discard(c)
                if time.monotonic() - t > 120:
                    sys.exit(f"{name}: consumers {sorted(left)} did not roll within 120 s")
                if left:
                    time.sleep(0.005)
            lat.append(time.monotonic() - t)
            time.sleep(0.2)
        end_h = histogram(metrics)
        d = minus(end_h, start_h)
        lat.sort()
        p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))]
        print(f"one Secret changed, both consumers rolled ({changes} times, debounce 0 s, polled every 5 ms): "
              f"min {ms(lat[0])}, median {ms(statistics.median(lat))}, p90 {ms(p90)}, max {ms(lat[-1])}")
        print(f"reconciles in that phase: {int(d[1])}, p50 {ms(quantile(0.5, d))}, p99 {ms(quantile(0.99, d))}, "
              f"mean {ms(d[2] / max(d[1], 1))}")
    finally:
        # SIGTERM to the controller itself: /usr/bin/time would die of it and
        # leave the controller running (and its peak RSS unreported).
        for child in children(proc.pid) or [proc.pid]:
            os.kill(child, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with open(os.path.join(out, "controller.time"), encoding="utf-8") as f:
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
    if rss:
        print(f"controller peak RSS: {int(rss.group(1)) // 1024} MiB")


if __name__ == "__main__":
    main()
