//! PLS-POD-008: Pod mounts the container runtime socket.
//!
//! What it does: flags `hostPath` volumes that expose a container runtime
//! API: the socket itself (`docker.sock`, `containerd.sock`, `crio.sock`,
//! `cri-dockerd.sock`, `podman.sock`, under any directory), a directory
//! that holds one (`/run/containerd`, `/var/run`, `/run`, `/var`, `/`), or
//! the Windows named pipes (`\\.\pipe\docker_engine`,
//! `\\.\pipe\containerd-containerd`).
//!
//! Why it matters: whoever talks to the runtime starts a privileged
//! container with the node's root filesystem mounted: node takeover in one
//! command, and access to every other pod's containers and secrets.
//!
//! Example: `hostPath: {path: /var/run/docker.sock}`.
//!
//! Fix: remove the volume; build images with a daemonless builder.

use super::{mounts_of, normalize_host_path};
use crate::context::Context;
use crate::rule::{Emitter, Rule};
use palisade_core::{Node, References, RuleMeta, Severity};
use palisade_k8s::Workload;

pub(crate) struct RuntimeSocket;

static META: RuleMeta = RuleMeta {
    id: "PLS-POD-008",
    title: "Pod mounts the container runtime socket",
    severity: Severity::Critical,
    category: "pod-security",
    rationale: "The container runtime's API socket (Docker, containerd, CRI-O, cri-dockerd, Podman) accepts requests to start privileged containers with the host's root filesystem mounted, so a process that can open it owns the node and every container on it, whatever the pod's own securityContext says. Mounting a directory that holds the socket (`/run`, `/var/run`, `/run/containerd`, or `/` itself) exposes it just the same, and `readOnly: true` does not help: connecting to a socket is not a write.",
    remediation: "Remove the `hostPath` volume (and its `volumeMounts`). Build images with a daemonless builder (BuildKit rootless, Kaniko, Buildah) instead of Docker-in-Docker through the host socket; read container metadata through the Kubernetes API or a node agent with a narrowly scoped, audited API.",
    references: References {
        trivy: &["KSV-0006"],
        kubescape: &["C-0074"],
        checkov: &["CKV_K8S_27"],
        kube_linter: &["docker-sock", "container-runtime-sock"],
        pss: &["baseline:hostpath-volumes"],
        mitre: &["T1611"],
        links: &["https://kubernetes.io/docs/concepts/storage/volumes/#hostpath"],
        ..References::NONE
    },
};

/// Where the runtimes put their API sockets (containerd first: the most
/// common on current nodes).
const SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/var/run/cri-dockerd.sock",
    "/var/run/dockershim.sock",
    "/run/docker/containerd/containerd.sock",
    "/var/run/docker/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/var/snap/microk8s/common/run/containerd.sock",
];

/// Windows named pipes of Docker and containerd.
const PIPES: &[&str] = &[r"\\.\pipe\docker_engine", r"\\.\pipe\containerd-containerd"];

/// What a host path exposes of a runtime socket, if anything: a message
/// fragment.
pub(super) fn exposes(raw: &str) -> Option<String> {
    let pipe = raw.trim().replace('/', "\\").to_ascii_lowercase();
    if PIPES.contains(&pipe.as_str()) {
        return Some(format!(
            "the container runtime named pipe \"{}\"",
            raw.trim()
        ));
    }
    let path = normalize_host_path(raw);
    let file = path.rsplit('/').next().unwrap_or("");
    let runtime_name = ["docker", "containerd", "crio", "cri-o", "podman"]
        .iter()
        .any(|r| file.contains(r));
    if SOCKETS.contains(&path.as_str()) || (runtime_name && file.contains(".sock")) {
        return Some(format!("the container runtime socket {path:?}"));
    }
    let prefix = if path == "/" {
        String::from("/")
    } else {
        format!("{path}/")
    };
    SOCKETS
        .iter()
        .find(|s| s.starts_with(&prefix))
        .map(|s| format!("host directory {path:?}, which holds the container runtime socket {s}"))
}

impl Rule for RuntimeSocket {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_workload(&self, w: &Workload<'_>, _cx: &Context<'_>, out: &mut Emitter<'_>) {
        for (v, vpath) in w.volumes() {
            let Some(hp) = v.get("hostPath").filter(|n| n.is_map()) else {
                continue;
            };
            let Some(raw) = hp.get("path").and_then(Node::as_str) else {
                continue;
            };
            let Some(what) = exposes(raw) else {
                continue;
            };
            let name = v.get("name").and_then(Node::as_str).unwrap_or("");
            out.report(
                w.object,
                vpath.keys_from(&["hostPath", "path"]),
                format!("volume {name:?} mounts {what}{}", mounts_of(w, name)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exposes;

    #[test]
    fn runtime_sockets_and_their_directories_are_recognised() {
        for p in [
            "/var/run/docker.sock",
            "/var/run//docker.sock/",
            "/run/containerd/containerd.sock",
            "/run/containerd",
            "/var/run",
            "/run",
            "/",
            "/var",
            "/opt/custom/docker.sock",
            "/run/k3s/containerd/containerd.sock",
            "/var/run/crio/crio.sock",
            "/var/lib/../run/docker.sock",
            r"\\.\pipe\docker_engine",
            "//./pipe/containerd-containerd",
        ] {
            assert!(exposes(p).is_some(), "{p}");
        }
        for p in [
            "/var/log",
            "/var/lib/kubelet",
            "/run/secrets",
            "/sys",
            "/var/run/secrets/kubernetes.io",
            "/dev/nvidia0",
        ] {
            assert!(exposes(p).is_none(), "{p}");
        }
    }
}
