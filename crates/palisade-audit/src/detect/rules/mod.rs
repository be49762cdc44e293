//! The built-in `PLS-KA` rules, one per file.

mod anonymous_allowed;
mod cluster_admin_binding;
mod configmap_credentials;
mod ephemeral_container;
mod exec_inference_pod;
mod exec_pod;
mod host_namespace_pod;
mod inference_storage_uri;
mod ingress_without_tls;
mod model_credentials_read;
mod model_pvc_change;
mod nodeport_service;
mod port_forward;
mod privileged_pod;
mod role_pod_exec;
mod role_wildcard;
mod secret_burst;
mod secret_read;
mod sensitive_mount_pod;
mod serving_sa_token;
mod system_role_change;

/// What every rule file imports.
pub(crate) mod prelude {
    pub(crate) use super::super::{
        EventCx, FALCO_RULES, Hit, KaRule, Rule, State, containers, name_of,
    };
    pub(crate) use palisade_core::finding::{References, RuleMeta, Severity};
    pub(crate) use serde_json::Value;
}
use prelude::Rule;

/// Every built-in rule, in ID order.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &exec_pod::ExecPod,
        &port_forward::PortForward,
        &ephemeral_container::EphemeralContainer,
        &privileged_pod::PrivilegedPod,
        &host_namespace_pod::HostNamespacePod,
        &sensitive_mount_pod::SensitiveMountPod,
        &cluster_admin_binding::ClusterAdminBinding,
        &role_wildcard::RoleWildcard,
        &role_pod_exec::RolePodExec,
        &secret_read::SecretRead,
        &anonymous_allowed::AnonymousAllowed,
        &system_role_change::SystemRoleChange,
        &configmap_credentials::ConfigMapCredentials,
        &nodeport_service::NodePortService,
        &ingress_without_tls::IngressWithoutTls,
        &model_credentials_read::ModelCredentialsRead,
        &exec_inference_pod::ExecInferencePod,
        &inference_storage_uri::InferenceStorageUri,
        &model_pvc_change::ModelPvcChange,
        &serving_sa_token::ServingSaToken,
        &secret_burst::SecretBurst,
    ]
}

/// Whether the verb writes (create, update, patch).
pub(crate) fn modifies(verb: &str) -> bool {
    matches!(verb, "create" | "update" | "patch")
}

/// Query parameter values of a request URI (`command` repeats for exec), percent-decoded.
pub(crate) fn query_values(uri: &str, key: &str) -> Vec<String> {
    let Some((_, q)) = uri.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a pod name or its namespace looks like a model server.
pub(crate) fn looks_inference(name: &str) -> bool {
    const MARKS: [&str; 12] = [
        "-predictor",
        "vllm",
        "tgi",
        "text-generation",
        "triton",
        "ollama",
        "inference",
        "llm",
        "llama",
        "kserve",
        "torchserve",
        "ray-serve",
    ];
    let n = name.to_ascii_lowercase();
    MARKS.iter().any(|m| n.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters() {
        let uri = "/api/v1/namespaces/llm/pods/vllm-0/exec?command=sh&command=-c&command=cat%20%2Fetc%2Fshadow&container=vllm&stdin=true";
        assert_eq!(
            query_values(uri, "command"),
            vec!["sh", "-c", "cat /etc/shadow"]
        );
        assert_eq!(query_values(uri, "container"), vec!["vllm"]);
        assert_eq!(query_values("/x?command=%zz%", "command"), vec!["%zz%"]);
    }

    #[test]
    fn ids_are_unique_and_sequential() {
        let ids: Vec<&str> = all().iter().map(|r| r.info().meta.id).collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(*id, format!("PLS-KA-{:03}", i + 1));
        }
    }
}
