//! Pod security: privileges, host namespaces and ports, host paths, users
//! and groups, capabilities, seccomp/AppArmor/SELinux, sysctls, procMount,
//! Windows hostProcess, volume types.
//!
//! Every rule judges the *effective* security context: a container inherits
//! `runAsUser`, `runAsGroup`, `runAsNonRoot`, `seLinuxOptions`,
//! `seccompProfile`, `appArmorProfile` and `windowsOptions` from the pod
//! unless it sets them itself, exactly as the kubelet merges them. Init and
//! ephemeral containers count. When a bad value comes from the pod-level
//! field, it is reported once, at that field, naming the containers that
//! inherit it.

use crate::rule::{Emitter, Rule};
use palisade_core::{Node, Path};
use palisade_k8s::{Container, ContainerKind, Workload};

mod allow_privilege_escalation;
mod apparmor;
mod capabilities_added;
mod capabilities_not_dropped;
mod gid_threshold;
mod host_ipc;
mod host_network;
mod host_pid;
mod host_port;
mod host_process;
mod hostpath_volume;
mod linux_hardening;
mod net_raw;
mod privileged;
mod privileged_port;
mod proc_mount;
mod read_only_root_fs;
mod restricted_volume_types;
mod root_group;
mod run_as_root;
mod run_as_uid_zero;
mod runtime_socket;
mod seccomp;
mod selinux;
mod sys_admin;
mod sysctls;
mod uid_threshold;
mod writable_host_mount;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(privileged::Privileged),
        Box::new(allow_privilege_escalation::AllowPrivilegeEscalation),
        Box::new(host_pid::HostPid),
        Box::new(host_ipc::HostIpc),
        Box::new(host_network::HostNetwork),
        Box::new(host_port::HostPort),
        Box::new(hostpath_volume::HostPathVolume),
        Box::new(runtime_socket::RuntimeSocket),
        Box::new(run_as_root::RunAsRoot),
        Box::new(run_as_uid_zero::RunAsUidZero),
        Box::new(uid_threshold::LowUid),
        Box::new(gid_threshold::LowGid),
        Box::new(root_group::RootGroup),
        Box::new(read_only_root_fs::ReadOnlyRootFs),
        Box::new(capabilities_not_dropped::CapabilitiesNotDropped),
        Box::new(net_raw::NetRaw),
        Box::new(capabilities_added::CapabilitiesAdded),
        Box::new(sys_admin::SysAdmin),
        Box::new(seccomp::Seccomp),
        Box::new(apparmor::AppArmor),
        Box::new(selinux::SeLinux),
        Box::new(sysctls::UnsafeSysctls),
        Box::new(proc_mount::ProcMount),
        Box::new(host_process::HostProcess),
        Box::new(restricted_volume_types::RestrictedVolumeTypes),
        Box::new(linux_hardening::LinuxHardening),
        Box::new(privileged_port::PrivilegedPort),
        Box::new(writable_host_mount::WritableHostMount),
    ]
}

/// How a message names a container: `container "app"`, `init container
/// "fetch"`, `ephemeral container "debug"`.
fn who(c: &Container<'_>) -> String {
    match c.kind {
        ContainerKind::Regular => format!("container {:?}", c.name),
        ContainerKind::Init => format!("init container {:?}", c.name),
        ContainerKind::Ephemeral => format!("ephemeral container {:?}", c.name),
    }
}

/// Whether the pod runs on Windows: `spec.os.name: windows`, or a
/// `nodeSelector` on `kubernetes.io/os: windows` for manifests older than
/// the `os` field. Linux-only security fields do nothing there (and the API
/// server rejects them when `os.name` is windows), so the Linux-only rules
/// skip such pods.
fn is_windows(w: &Workload<'_>) -> bool {
    let os = w
        .get("os")
        .and_then(|o| o.get("name"))
        .and_then(Node::as_str);
    if let Some(os) = os {
        return os == "windows";
    }
    w.get("nodeSelector")
        .and_then(|n| n.get("kubernetes.io/os"))
        .and_then(Node::as_str)
        == Some("windows")
}

/// Path of a container's own `securityContext.<keys...>`, where a missing
/// field should be written.
fn sc_path(c: &Container<'_>, keys: &[&str]) -> Path {
    c.path.key("securityContext").keys_from(keys)
}

/// An effective security-context value and where it came from.
struct Effective<'a> {
    node: &'a Node,
    path: Path,
    /// Inherited from the pod-level `securityContext`.
    from_pod: bool,
}

/// The effective value of an inherited security-context field
/// ([`Workload::effective_sc`]), with its origin.
fn effective<'a>(w: &Workload<'a>, c: &Container<'a>, key: &str) -> Option<Effective<'a>> {
    let (node, path) = w.effective_sc(c, key)?;
    let from_pod = !path.0.starts_with(&c.path.0);
    Some(Effective {
        node,
        path,
        from_pod,
    })
}

/// A template annotation. Unlike [`Workload::annotation`], this does not
/// fall back to the owning object's annotations: the kubelet only sees the
/// pod's own (a Deployment's `metadata.annotations` never reach its pods).
fn pod_annotation<'a>(w: &Workload<'a>, key: &str) -> Option<(&'a str, Path)> {
    let v = w.meta?.get("annotations")?.get(key)?.as_str()?;
    Some((v, w.meta_path.key("annotations").key(key)))
}

/// Findings of a per-container check. A bad value set on the container is
/// reported on the container; one inherited from the pod-level field is
/// reported once, at that field, naming every container that inherits it
/// (one finding per path keeps fingerprints unique).
struct Hits<'a> {
    own: Vec<(&'a str, Path, String)>,
    inherited: Vec<(Path, String, Vec<&'a str>)>,
}

impl<'a> Hits<'a> {
    fn new() -> Self {
        Self {
            own: Vec::new(),
            inherited: Vec::new(),
        }
    }

    /// A finding about the container's own field (or a field it lacks).
    fn own(&mut self, c: &Container<'a>, path: Path, message: String) {
        self.own.push((c.name, path, message));
    }

    /// A finding caused by a value set at `path`, on the container or
    /// inherited from the pod. `setting` describes it (`runAsUser: 0`); the
    /// message reads `container "app" sets runAsUser: 0` or `pod
    /// securityContext sets runAsUser: 0, inherited by container "app"`.
    fn value(
        &mut self,
        c: &Container<'a>,
        path: Path,
        from_pod: bool,
        setting: impl FnOnce() -> String,
    ) {
        if !from_pod {
            let m = format!("{} sets {}", who(c), setting());
            self.own.push((c.name, path, m));
            return;
        }
        match self.inherited.iter_mut().find(|(p, _, _)| *p == path) {
            Some((_, _, names)) => names.push(c.name),
            None => self.inherited.push((path, setting(), vec![c.name])),
        }
    }

    fn emit(self, w: &Workload<'_>, out: &mut Emitter<'_>) {
        for (name, path, msg) in self.own {
            out.report_container(w.object, name, path, msg);
        }
        for (path, msg, names) in self.inherited {
            let list = names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            let plural = if names.len() == 1 { "" } else { "s" };
            let text = if msg.starts_with("annotation ") {
                format!("pod {msg}, inherited by container{plural} {list}")
            } else {
                format!("pod securityContext sets {msg}, inherited by container{plural} {list}")
            };
            match names.as_slice() {
                [one] => out.report_container(w.object, one, path, text),
                _ => out.report(w.object, path, text),
            }
        }
    }
}

/// A host path in canonical form: `.` and empty segments dropped, `..`
/// resolved lexically, no trailing slash (`/var/run//docker.sock/` →
/// `/var/run/docker.sock`).
fn normalize_host_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.trim().split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Which containers mount volume `name`, as a message suffix
/// (`; mounted writable by container "a", read-only by container "b"`).
fn mounts_of(w: &Workload<'_>, name: &str) -> String {
    let (mut rw, mut ro) = (Vec::new(), Vec::new());
    for c in &w.containers {
        for m in c.node.get("volumeMounts").map_or(&[][..], Node::items) {
            if m.get("name").and_then(Node::as_str) != Some(name) {
                continue;
            }
            if m.get("readOnly").and_then(Node::as_bool) == Some(true) {
                ro.push(who(c));
            } else {
                rw.push(who(c));
            }
        }
    }
    match (rw.is_empty(), ro.is_empty()) {
        (true, true) => {
            String::from("; no container mounts it yet, but an ephemeral debug container can")
        }
        (false, true) => format!("; mounted writable by {}", rw.join(", ")),
        (true, false) => format!("; mounted read-only by {}", ro.join(", ")),
        (false, false) => format!(
            "; mounted writable by {}, read-only by {}",
            rw.join(", "),
            ro.join(", ")
        ),
    }
}

/// A capability name as the container runtimes read it: case-insensitive,
/// with or without the `CAP_` prefix.
fn normalize_cap(raw: &str) -> String {
    let up = raw.trim().to_ascii_uppercase();
    match up.strip_prefix("CAP_") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => up,
    }
}

/// One entry of `securityContext.capabilities.add` or `.drop`.
struct Cap<'a> {
    /// Normalized name (`NET_RAW`, `ALL`).
    name: String,
    /// As written.
    raw: &'a str,
    path: Path,
}

/// The container's `securityContext.capabilities.<which>` list (the pod has
/// no capabilities field; a pod-level one is ignored, as by the API server).
fn caps<'a>(c: &Container<'a>, which: &str) -> Vec<Cap<'a>> {
    let base = sc_path(c, &["capabilities", which]);
    c.node
        .get("securityContext")
        .and_then(|s| s.get("capabilities"))
        .and_then(|s| s.get(which))
        .map_or(&[][..], Node::items)
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let raw = n.as_str()?;
            Some(Cap {
                name: normalize_cap(raw),
                raw,
                path: base.index(i),
            })
        })
        .collect()
}

/// The capabilities a container runtime grants by default (containerd and
/// CRI-O; Docker's set minus nothing).
const DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Whether the container ends up holding `cap` (normalized), following
/// containerd: `add: [ALL]` grants all, `drop: [ALL]` clears all, then the
/// individual adds, then the individual drops. `privileged` is not
/// considered here.
fn holds_cap(c: &Container<'_>, cap: &str) -> bool {
    let add = caps(c, "add");
    let drop = caps(c, "drop");
    let has = |l: &[Cap<'_>], n: &str| l.iter().any(|x| x.name == n);
    if has(&drop, cap) {
        return false;
    }
    if has(&add, cap) {
        return true;
    }
    let base = DEFAULT_CAPS.contains(&cap) || has(&add, "ALL");
    base && !has(&drop, "ALL")
}

/// How a container is confined by a security profile (seccomp or AppArmor).
enum Confinement {
    /// `RuntimeDefault` or `Localhost` with a profile.
    Confined,
    /// Explicitly unconfined, or a value the runtime cannot apply.
    Weak {
        path: Path,
        /// The setting, for the message (`seccompProfile.type: Unconfined`).
        what: String,
        from_pod: bool,
    },
    /// Nothing set anywhere.
    Unset,
}

/// Judges a `seccompProfile` / `appArmorProfile` object.
fn judge_profile_field(field: &str, node: &Node, path: &Path, from_pod: bool) -> Confinement {
    let ty = node.get("type").and_then(Node::as_str);
    let local = node
        .get("localhostProfile")
        .and_then(Node::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let weak = |sub: &str, what: String| Confinement::Weak {
        path: path.key(sub),
        what,
        from_pod,
    };
    match ty {
        Some("RuntimeDefault") => Confinement::Confined,
        Some("Localhost") if local => Confinement::Confined,
        Some("Localhost") => weak(
            "localhostProfile",
            format!("{field}.type: Localhost without a localhostProfile"),
        ),
        Some("Unconfined") => weak("type", format!("{field}.type: Unconfined")),
        Some(other) => weak(
            "type",
            format!("{field}.type: {other:?} (not a valid profile type)"),
        ),
        None => weak("type", format!("{field} without a type")),
    }
}

/// Judges a legacy profile annotation value (`runtime/default`,
/// `docker/default`, `localhost/<file>`, `unconfined`).
fn judge_profile_annotation(
    key: &str,
    value: &str,
    path: Path,
    from_pod: bool,
    docker_default_ok: bool,
) -> Confinement {
    let v = value.trim();
    if v == "runtime/default" || (docker_default_ok && v == "docker/default") {
        return Confinement::Confined;
    }
    if v.strip_prefix("localhost/").is_some_and(|p| !p.is_empty()) {
        return Confinement::Confined;
    }
    let what = if v == "unconfined" {
        format!("annotation {key}: unconfined")
    } else {
        format!("annotation {key}: {v:?} (not a valid profile)")
    };
    Confinement::Weak {
        path,
        what,
        from_pod,
    }
}

/// The seccomp profile a container runs with. Precedence as the API server
/// and kubelet apply it: the container's `seccompProfile`, else the
/// container annotation `container.seccomp.security.alpha.kubernetes.io/<name>`,
/// else the pod's `seccompProfile`, else the pod annotation
/// `seccomp.security.alpha.kubernetes.io/pod` (annotations are copied into
/// the fields when a pod is created without them).
fn seccomp_of<'a>(w: &Workload<'a>, c: &Container<'a>) -> Confinement {
    let own = c
        .node
        .get("securityContext")
        .and_then(|s| s.get("seccompProfile"))
        .filter(|n| n.is_map());
    if let Some(n) = own {
        return judge_profile_field("seccompProfile", n, &sc_path(c, &["seccompProfile"]), false);
    }
    let ckey = format!("container.seccomp.security.alpha.kubernetes.io/{}", c.name);
    if let Some((v, p)) = pod_annotation(w, &ckey) {
        return judge_profile_annotation(&ckey, v, p, false, true);
    }
    if let Some((n, p)) = w.pod_sc("seccompProfile").filter(|(n, _)| n.is_map()) {
        return judge_profile_field("seccompProfile", n, &p, true);
    }
    let pkey = "seccomp.security.alpha.kubernetes.io/pod";
    if let Some((v, p)) = pod_annotation(w, pkey) {
        return judge_profile_annotation(pkey, v, p, true, true);
    }
    Confinement::Unset
}

/// The AppArmor profile a container runs with, in the kubelet's order: the
/// container's `appArmorProfile`, else the annotation
/// `container.apparmor.security.beta.kubernetes.io/<name>`, else the pod's
/// `appArmorProfile`.
fn apparmor_of<'a>(w: &Workload<'a>, c: &Container<'a>) -> Confinement {
    let own = c
        .node
        .get("securityContext")
        .and_then(|s| s.get("appArmorProfile"))
        .filter(|n| n.is_map());
    if let Some(n) = own {
        return judge_profile_field(
            "appArmorProfile",
            n,
            &sc_path(c, &["appArmorProfile"]),
            false,
        );
    }
    let ckey = format!("container.apparmor.security.beta.kubernetes.io/{}", c.name);
    if let Some((v, p)) = pod_annotation(w, &ckey) {
        return judge_profile_annotation(&ckey, v, p, false, false);
    }
    if let Some((n, p)) = w.pod_sc("appArmorProfile").filter(|(n, _)| n.is_map()) {
        return judge_profile_field("appArmorProfile", n, &p, true);
    }
    Confinement::Unset
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_k8s::load::load_str;
    use palisade_k8s::workload::workloads;

    #[test]
    fn capability_names_normalize_like_the_runtimes() {
        assert_eq!(normalize_cap("nEt_aDmIn"), "NET_ADMIN");
        assert_eq!(normalize_cap("CAP_SYS_ADMIN"), "SYS_ADMIN");
        assert_eq!(normalize_cap("all"), "ALL");
        assert_eq!(normalize_cap("CAP_"), "CAP_");
    }

    #[test]
    fn holds_cap_follows_containerd_order() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    securityContext: {capabilities: {drop: [ALL], add: [NET_RAW]}}\n  - name: b\n    securityContext: {capabilities: {add: [ALL], drop: [net_raw]}}\n  - name: c\n";
        let load = load_str("t.yaml", text);
        let w = &workloads(&load.objects[0])[0];
        assert!(holds_cap(&w.containers[0], "NET_RAW"));
        assert!(!holds_cap(&w.containers[0], "CHOWN"));
        assert!(!holds_cap(&w.containers[1], "NET_RAW"));
        assert!(holds_cap(&w.containers[1], "SYS_ADMIN"));
        assert!(holds_cap(&w.containers[2], "NET_RAW"));
        assert!(!holds_cap(&w.containers[2], "SYS_ADMIN"));
    }
}
