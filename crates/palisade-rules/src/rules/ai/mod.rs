//! AI serving (`PLS-AI-*`): inference endpoints reachable from outside
//! without authentication, rate limits or TLS; autoscaling without a ceiling
//! and GPU quotas (denial of wallet); server flags (`--trust-remote-code`,
//! API keys, debug endpoints); Ollama, Ray, Jupyter and MLflow exposure.
//! GPU isolation (`PLS-GPU-*`) and model storage and supply chain
//! (`PLS-STO-*`) live here too. Every rule reads [`model::AiModel`], built
//! once per scan in the context.

use crate::rule::Rule;

mod api_key;
mod debug_endpoints;
mod exposed_no_auth;
mod exposed_no_rate_limit;
mod exposed_plain_http;
mod gpu_quota;
mod jupyter;
mod mlflow;
pub(crate) mod model;
mod ollama;
mod ray_dashboard;
mod replica_ceiling;
mod trust_remote_code;

pub(crate) mod gpu;
pub(crate) mod storage;

/// The rules of this family.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    let mut v: Vec<Box<dyn Rule>> = vec![
        Box::new(exposed_no_auth::ExposedNoAuth),
        Box::new(exposed_no_rate_limit::ExposedNoRateLimit),
        Box::new(exposed_plain_http::ExposedPlainHttp),
        Box::new(replica_ceiling::ReplicaCeiling),
        Box::new(gpu_quota::GpuQuota),
        Box::new(trust_remote_code::TrustRemoteCode),
        Box::new(api_key::ApiKey),
        Box::new(ollama::Ollama),
        Box::new(ray_dashboard::RayDashboard),
        Box::new(jupyter::Jupyter),
        Box::new(mlflow::Mlflow),
        Box::new(debug_endpoints::DebugEndpoints),
    ];
    v.extend(gpu::rules());
    v.extend(storage::rules());
    v
}

/// `Deployment llm/vllm` for a unit's object.
pub(crate) fn key_of(o: &palisade_k8s::Object) -> String {
    format!("{}/{}/{}", o.kind, o.effective_namespace(), o.name)
}
