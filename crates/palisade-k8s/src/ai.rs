//! Recognising AI workloads: which pod templates run an inference server,
//! a notebook, a training job, a Ray cluster or an experiment tracker, and
//! which server software (engine) each container runs. Recognition looks at
//! the wrapping object's kind (KServe, Seldon, Ray, Kubeflow), then at each
//! container's image repository and command line.
//!
//! [`Cli`] reads a container's command line the way the servers' argument
//! parsers do (`--flag value`, `--flag=value`, a `sh -c` script), and
//! environment variables, so rules can ask "is `--api-key` set?" once.

use crate::object::Object;
use crate::workload::{Container, ContainerKind, Workload};
use palisade_core::{Node, Path};

/// Server software in a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Engine {
    /// vLLM (`vllm serve`, `vllm.entrypoints.openai.api_server`).
    Vllm,
    /// llm-d's vLLM build (`ghcr.io/llm-d/*`).
    LlmD,
    /// SGLang (`sglang.launch_server`).
    Sglang,
    /// Hugging Face Text Generation Inference.
    Tgi,
    /// Hugging Face Text Embeddings Inference.
    Tei,
    /// NVIDIA Triton Inference Server.
    Triton,
    /// NVIDIA NIM microservices (`nvcr.io/nim/*`).
    Nim,
    /// Ollama.
    Ollama,
    /// llama.cpp `llama-server`.
    LlamaCpp,
    /// KServe model servers (`kserve/*server`) and Seldon MLServer.
    KServeRuntime,
    /// Ray (head or worker).
    Ray,
    /// Jupyter (notebook, lab or server).
    Jupyter,
    /// JupyterHub hub or its proxy.
    JupyterHub,
    /// MLflow tracking server.
    Mlflow,
}

impl Engine {
    /// The name operators know it by.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Vllm => "vLLM",
            Engine::LlmD => "llm-d",
            Engine::Sglang => "SGLang",
            Engine::Tgi => "TGI",
            Engine::Tei => "TEI",
            Engine::Triton => "Triton",
            Engine::Nim => "NIM",
            Engine::Ollama => "Ollama",
            Engine::LlamaCpp => "llama.cpp",
            Engine::KServeRuntime => "KServe model server",
            Engine::Ray => "Ray",
            Engine::Jupyter => "Jupyter",
            Engine::JupyterHub => "JupyterHub",
            Engine::Mlflow => "MLflow",
        }
    }

    /// What a container running this engine is for.
    pub fn role(self) -> Role {
        match self {
            Engine::Ray => Role::Ray,
            Engine::Jupyter | Engine::JupyterHub => Role::Notebook,
            Engine::Mlflow => Role::Tracking,
            _ => Role::Inference,
        }
    }

    /// Whether it speaks the OpenAI-compatible API and takes an API key
    /// flag of its own.
    pub fn takes_api_key(self) -> bool {
        matches!(
            self,
            Engine::Vllm | Engine::LlmD | Engine::Sglang | Engine::LlamaCpp | Engine::Tgi
        )
    }
}

/// What a workload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Serves a model.
    Inference,
    /// Interactive notebooks.
    Notebook,
    /// Trains or fine-tunes.
    Training,
    /// A Ray cluster (dashboard, jobs API, client).
    Ray,
    /// Experiment tracking and model registry.
    Tracking,
}

impl Role {
    /// Lowercase name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Inference => "inference",
            Role::Notebook => "notebook",
            Role::Training => "training",
            Role::Ray => "Ray",
            Role::Tracking => "tracking",
        }
    }
}

/// The operator or platform that wraps the workload, from its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// KServe InferenceService.
    KServe,
    /// KServe LLMInferenceService (llm-d).
    KServeLlm,
    /// KServe ServingRuntime / ClusterServingRuntime (a template).
    KServeRuntime,
    /// Seldon Core v1 SeldonDeployment.
    SeldonDeployment,
    /// Seldon Core 2 Server.
    SeldonServer,
    /// KubeRay RayCluster, RayService, RayJob.
    KubeRay,
    /// Kubeflow Notebook.
    KubeflowNotebook,
    /// Kubeflow Training Operator jobs (PyTorchJob, TFJob, ...).
    KubeflowTraining,
    /// LeaderWorkerSet (multi-host serving).
    LeaderWorkerSet,
    /// A plain workload (Deployment, StatefulSet, Pod, Job...).
    Plain,
}

impl Platform {
    /// Of an object.
    pub fn of(obj: &Object) -> Platform {
        match (obj.group(), obj.kind.as_str()) {
            ("serving.kserve.io", "InferenceService") => Platform::KServe,
            ("serving.kserve.io", "LLMInferenceService") => Platform::KServeLlm,
            ("serving.kserve.io", "ServingRuntime" | "ClusterServingRuntime") => {
                Platform::KServeRuntime
            }
            ("machinelearning.seldon.io", "SeldonDeployment") => Platform::SeldonDeployment,
            ("mlops.seldon.io", "Server" | "ServerConfig") => Platform::SeldonServer,
            ("ray.io", _) => Platform::KubeRay,
            ("kubeflow.org", "Notebook") => Platform::KubeflowNotebook,
            ("kubeflow.org", k) if k.ends_with("Job") => Platform::KubeflowTraining,
            ("leaderworkerset.x-k8s.io", _) => Platform::LeaderWorkerSet,
            _ => Platform::Plain,
        }
    }

    /// Display name, or `None` for plain workloads.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Platform::KServe => "KServe",
            Platform::KServeLlm => "KServe LLMInferenceService",
            Platform::KServeRuntime => "KServe ServingRuntime",
            Platform::SeldonDeployment => "Seldon",
            Platform::SeldonServer => "Seldon Core 2",
            Platform::KubeRay => "KubeRay",
            Platform::KubeflowNotebook => "Kubeflow Notebook",
            Platform::KubeflowTraining => "Kubeflow Training",
            Platform::LeaderWorkerSet => "LeaderWorkerSet",
            Platform::Plain => return None,
        })
    }

    /// The role the platform implies, whatever the containers run.
    fn role(self) -> Option<Role> {
        match self {
            Platform::KServe
            | Platform::KServeLlm
            | Platform::KServeRuntime
            | Platform::SeldonDeployment
            | Platform::SeldonServer => Some(Role::Inference),
            Platform::KubeRay => Some(Role::Ray),
            Platform::KubeflowNotebook => Some(Role::Notebook),
            Platform::KubeflowTraining => Some(Role::Training),
            Platform::LeaderWorkerSet | Platform::Plain => None,
        }
    }
}

/// What one pod template is, as far as AI goes.
#[derive(Debug, Clone)]
pub struct AiWorkload {
    /// What it is for.
    pub role: Role,
    /// The wrapping platform.
    pub platform: Platform,
    /// The engine of the main server container, when recognised.
    pub engine: Option<Engine>,
    /// Index (in `Workload::containers`) of the server container, when one
    /// was recognised.
    pub server: Option<usize>,
}

impl AiWorkload {
    /// `vLLM on KServe`, `Ollama`, `KServe`.
    pub fn describe(&self) -> String {
        match (self.engine, self.platform.name()) {
            (Some(Engine::KServeRuntime), Some(p)) if self.platform == Platform::KServe => {
                p.to_owned()
            }
            (Some(e), Some(p)) if p != e.name() && self.platform != Platform::LeaderWorkerSet => {
                format!("{} on {p}", e.name())
            }
            (Some(e), _) => e.name().to_owned(),
            (None, Some(p)) => p.to_owned(),
            (None, None) => self.role.as_str().to_owned(),
        }
    }
}

/// Recognises a pod template. `None` when it is not an AI workload.
pub fn recognise(w: &Workload<'_>) -> Option<AiWorkload> {
    let platform = Platform::of(w.object);
    let mut found: Option<(usize, Engine)> = None;
    for (i, c) in w.containers.iter().enumerate() {
        if c.kind == ContainerKind::Ephemeral {
            continue;
        }
        if let Some(e) = engine_of(c) {
            // A regular container beats an init container; the first wins.
            let better = match found {
                None => true,
                Some((j, _)) => {
                    w.containers[j].kind == ContainerKind::Init && c.kind == ContainerKind::Regular
                }
            };
            if better {
                found = Some((i, e));
            }
        }
    }
    let role = match (platform.role(), found) {
        (Some(r), _) => r,
        (None, Some((_, e))) => e.role(),
        (None, None) => return None,
    };
    // Training jobs that happen to use the vLLM image stay training jobs.
    let role = if platform == Platform::Plain
        && w.object.is("batch", "Job")
        && role == Role::Inference
        && found.is_some_and(|(i, _)| !Cli::of(&w.containers[i]).serves())
    {
        Role::Training
    } else {
        role
    };
    Some(AiWorkload {
        role,
        platform,
        engine: found.map(|(_, e)| e),
        server: found.map(|(i, _)| i),
    })
}

/// The repository part of an image reference, lowercased, without registry
/// port, tag or digest: `vllm/vllm-openai`, `nvcr.io/nvidia/tritonserver`.
pub fn image_repository(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or("");
    // A tag is after the last ':' that follows the last '/'.
    let repo = match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    };
    repo.trim().to_ascii_lowercase()
}

/// A test on an image's repository and its last path segment.
type ImageRule = dyn Fn(&str, &str) -> bool;

/// The engine a container runs, from its image and command line.
pub fn engine_of(c: &Container<'_>) -> Option<Engine> {
    let repo = image_repository(c.image().unwrap_or(""));
    let last = repo.rsplit('/').next().unwrap_or("");
    let cli = Cli::of(c);
    let words: Vec<&str> = cli.word_iter().collect();
    // `w` itself or a path ending in `/w`.
    let has = |w: &str| {
        words.iter().any(|x| {
            x.strip_suffix(w)
                .is_some_and(|head| head.is_empty() || head.ends_with('/'))
        })
    };
    let module = |m: &str| words.windows(2).any(|p| p[0] == "-m" && p[1] == m);
    // Command lines first: an image can run anything.
    if words
        .windows(2)
        .any(|p| (p[0] == "vllm" || p[0].ends_with("/vllm")) && p[1] == "serve")
        || module("vllm.entrypoints.openai.api_server")
    {
        return Some(if repo.contains("llm-d") {
            Engine::LlmD
        } else {
            Engine::Vllm
        });
    }
    if module("sglang.launch_server")
        || words
            .windows(2)
            .any(|p| p[0] == "sglang" && p[1] == "serve")
    {
        return Some(Engine::Sglang);
    }
    if has("text-generation-launcher") {
        return Some(Engine::Tgi);
    }
    if has("text-embeddings-router") {
        return Some(Engine::Tei);
    }
    if has("tritonserver") {
        return Some(Engine::Triton);
    }
    if has("llama-server") {
        return Some(Engine::LlamaCpp);
    }
    if words
        .windows(2)
        .any(|p| p[0].ends_with("ollama") && p[1] == "serve")
    {
        return Some(Engine::Ollama);
    }
    if words
        .windows(2)
        .any(|p| p[0].ends_with("mlflow") && matches!(p[1], "server" | "ui"))
    {
        return Some(Engine::Mlflow);
    }
    if words.windows(2).any(|p| {
        p[0].ends_with("jupyter") && matches!(p[1], "lab" | "notebook" | "server" | "labhub")
    }) || has("jupyterhub-singleuser")
        || has("start-notebook.sh")
        || has("start-notebook.py")
    {
        return Some(Engine::Jupyter);
    }
    if has("jupyterhub") || has("configurable-http-proxy") {
        return Some(Engine::JupyterHub);
    }
    if words
        .windows(2)
        .any(|p| p[0].ends_with("ray") && p[1] == "start")
    {
        return Some(Engine::Ray);
    }
    // Then images.
    let image_rules: &[(&ImageRule, Engine)] = &[
        (&|r, _| r.contains("llm-d/"), Engine::LlmD),
        (
            &|r, l| l == "vllm-openai" || r.ends_with("/vllm") || l.starts_with("vllm-openai"),
            Engine::Vllm,
        ),
        (
            &|r, l| l == "sglang" || r.contains("lmsysorg/sglang"),
            Engine::Sglang,
        ),
        (&|_, l| l == "text-generation-inference", Engine::Tgi),
        (&|_, l| l == "text-embeddings-inference", Engine::Tei),
        (&|_, l| l == "tritonserver", Engine::Triton),
        (&|r, _| r.starts_with("nvcr.io/nim/"), Engine::Nim),
        (
            &|r, _| r == "ollama/ollama" || r.ends_with("/ollama/ollama") || r.ends_with("/ollama"),
            Engine::Ollama,
        ),
        (
            &|r, _| r.contains("llama.cpp") || r.contains("llama-cpp"),
            Engine::LlamaCpp,
        ),
        (
            &|r, l| {
                (r.contains("kserve/") && l.ends_with("server"))
                    || l == "mlserver"
                    || r.contains("seldonio/mlserver")
            },
            Engine::KServeRuntime,
        ),
        (
            &|r, _| r.contains("rayproject/ray") || r.contains("anyscale/ray"),
            Engine::Ray,
        ),
        (
            &|r, l| {
                l == "k8s-hub"
                    || l == "configurable-http-proxy"
                    || r.ends_with("jupyterhub/jupyterhub")
            },
            Engine::JupyterHub,
        ),
        (
            &|r, l| {
                r.contains("jupyter/")
                    || r.contains("kubeflownotebookswg/")
                    || l.starts_with("jupyter-")
                    || l.ends_with("-notebook")
                    || l == "k8s-singleuser-sample"
            },
            Engine::Jupyter,
        ),
        (
            &|r, l| l == "mlflow" || r.contains("mlflow/mlflow"),
            Engine::Mlflow,
        ),
    ];
    image_rules
        .iter()
        .find(|(f, _)| f(&repo, last))
        .map(|(_, e)| *e)
}

/// A container's command line and environment, read as the servers read
/// them.
#[derive(Debug, Clone)]
pub struct Cli<'a> {
    /// The container.
    pub container: &'a Container<'a>,
    /// Every word of `command` then `args`, with `sh -c` scripts split at
    /// whitespace and quotes removed; each with the path of the list item
    /// it came from.
    words: Vec<(String, Path)>,
}

impl<'a> Cli<'a> {
    /// Reads `c`.
    pub fn of(c: &'a Container<'a>) -> Self {
        let mut words = Vec::new();
        for field in ["command", "args"] {
            for (i, item) in c.node.list(field).iter().enumerate() {
                let Some(s) = item.as_str() else { continue };
                let path = c.path.key(field).index(i);
                for w in s.split_whitespace() {
                    let w: String = w.chars().filter(|ch| !matches!(ch, '"' | '\'')).collect();
                    let w = w.trim_end_matches(';');
                    if !w.is_empty() {
                        words.push((w.to_owned(), path.clone()));
                    }
                }
            }
        }
        Self {
            container: c,
            words,
        }
    }

    /// The words.
    pub fn word_iter(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(|(w, _)| w.as_str())
    }

    /// Every word, copied (see [`Cli::word_iter`]).
    pub fn words(&self) -> Vec<String> {
        self.words.iter().map(|(w, _)| w.clone()).collect()
    }

    /// Whether the command line starts a server rather than a one-off
    /// command (`vllm serve`, `python -m vllm.entrypoints...`).
    pub fn serves(&self) -> bool {
        self.words.is_empty()
            || self.word_iter().any(|w| {
                matches!(
                    w,
                    "serve" | "vllm.entrypoints.openai.api_server" | "sglang.launch_server"
                ) || w.ends_with("tritonserver")
                    || w.ends_with("llama-server")
                    || w.ends_with("text-generation-launcher")
            })
    }

    /// A flag's value and the path of the item that holds it. Accepts each
    /// spelling in `names` (`--api-key`, `--api_key`), as `--flag value`
    /// or `--flag=value`. A flag given without a value (a boolean, or the
    /// last word) has value `""`.
    pub fn flag(&self, names: &[&str]) -> Option<(String, Path)> {
        let mut found = None;
        for (i, (w, p)) in self.words.iter().enumerate() {
            for n in names {
                if w == n {
                    let v = self
                        .words
                        .get(i + 1)
                        .filter(|(next, _)| !next.starts_with("--"))
                        .map_or(String::new(), |(next, _)| next.clone());
                    found = Some((v, p.clone()));
                } else if let Some(v) = w.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                    found = Some((v.to_owned(), p.clone()));
                }
            }
        }
        // The last occurrence wins, as with argparse and clap.
        found
    }

    /// Whether a boolean flag is on: present without a value, or with a
    /// true value.
    pub fn bool_flag(&self, names: &[&str]) -> Option<Path> {
        let (v, p) = self.flag(names)?;
        // `--flag false` turns it off; anything else after it is the next
        // positional argument.
        let off = matches!(
            v.to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        );
        (!off).then_some(p)
    }

    /// An environment variable: its literal value (`None` for `valueFrom`)
    /// and its path.
    pub fn env(&self, name: &str) -> Option<(Option<&'a str>, Path)> {
        let c = self.container;
        c.node
            .list("env")
            .iter()
            .enumerate()
            .rfind(|(_, e)| e.get("name").and_then(Node::as_str) == Some(name))
            .map(|(i, e)| {
                let path = c.path.key("env").index(i);
                match e.get("value") {
                    Some(v) => (Some(v.as_str().unwrap_or("")), path.key("value")),
                    None => (None, path),
                }
            })
    }

    /// Whether an environment variable is set to a non-empty literal or
    /// from a Secret/ConfigMap reference.
    pub fn env_set(&self, name: &str) -> bool {
        self.env(name)
            .is_some_and(|(v, _)| v.is_none_or(|s| !s.is_empty()))
    }
}

/// GPUs (and other accelerators) a container asks for: the extended
/// resources of the device plugins, with the quantity as written.
pub const GPU_RESOURCES: &[&str] = &[
    "nvidia.com/gpu",
    "amd.com/gpu",
    "gpu.intel.com/i915",
    "gpu.intel.com/xe",
    "habana.ai/gaudi",
    "aws.amazon.com/neuron",
    "aws.amazon.com/neuroncore",
    "google.com/tpu",
];

/// The accelerator resource a container requests or limits, if any, with
/// its quantity. MIG slices (`nvidia.com/mig-1g.10gb`) count.
pub fn gpu_request<'a>(c: &'a Container<'_>) -> Option<(&'a str, &'a str)> {
    let res = c.get("resources")?;
    for section in ["limits", "requests"] {
        for e in res.get(section).map_or(&[][..], Node::entries) {
            let k = e.key.as_str();
            if GPU_RESOURCES.contains(&k) || k.starts_with("nvidia.com/mig-") {
                let q = e.value.as_str().unwrap_or("");
                if q.trim() != "0" {
                    return Some((k, q));
                }
            }
        }
    }
    None
}

/// Whether any container of the pod template requests an accelerator
/// (Kubernetes DRA `resourceClaims` count too).
pub fn wants_gpu(w: &Workload<'_>) -> bool {
    w.containers.iter().any(|c| gpu_request(c).is_some())
        || !w.spec.list("resourceClaims").is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_str;
    use crate::workload::workloads;

    fn first(text: &str) -> Option<AiWorkload> {
        let out = load_str("t.yaml", text);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let w = workloads(&out.objects[0]);
        recognise(&w[0])
    }

    fn pod(image: &str, args: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: {image}\n    args: {args}\n"
        )
    }

    #[test]
    fn engines_from_images_and_command_lines() {
        let e = |image: &str, args: &str| first(&pod(image, args)).and_then(|a| a.engine);
        assert_eq!(
            e("vllm/vllm-openai:v0.6.3", "[--model, x]"),
            Some(Engine::Vllm)
        );
        assert_eq!(e("python:3.12", "[vllm, serve, x]"), Some(Engine::Vllm));
        assert_eq!(
            e(
                "python:3.12",
                "[python3, -m, vllm.entrypoints.openai.api_server]"
            ),
            Some(Engine::Vllm)
        );
        assert_eq!(
            e("ghcr.io/llm-d/llm-d-cuda:v0.3.0", "[vllm, serve, x]"),
            Some(Engine::LlmD)
        );
        assert_eq!(e("lmsysorg/sglang:v0.4.0", "[]"), Some(Engine::Sglang));
        assert_eq!(
            e("ghcr.io/huggingface/text-generation-inference:3.0", "[]"),
            Some(Engine::Tgi)
        );
        assert_eq!(
            e("nvcr.io/nvidia/tritonserver:24.08-py3", "[]"),
            Some(Engine::Triton)
        );
        assert_eq!(
            e("nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3", "[]"),
            Some(Engine::Nim)
        );
        assert_eq!(e("ollama/ollama:0.5.7", "[]"), Some(Engine::Ollama));
        assert_eq!(
            e("ghcr.io/ggml-org/llama.cpp:server", "[]"),
            Some(Engine::LlamaCpp)
        );
        assert_eq!(
            e("ghcr.io/mlflow/mlflow:v2.19.0", "[mlflow, server]"),
            Some(Engine::Mlflow)
        );
        assert_eq!(
            e("quay.io/jupyter/scipy-notebook:2024-12-02", "[]"),
            Some(Engine::Jupyter)
        );
        assert_eq!(e("nginx:1.27", "[]"), None);
        assert_eq!(first(&pod("nginx:1.27", "[]")).map(|a| a.role), None);
    }

    #[test]
    fn platforms_imply_roles() {
        let a = first("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m}\nspec:\n  predictor:\n    model:\n      modelFormat: {name: sklearn}\n      storageUri: gs://b/m\n").unwrap();
        assert_eq!(a.role, Role::Inference);
        assert_eq!(a.describe(), "KServe");
        let a = first("apiVersion: kubeflow.org/v1\nkind: Notebook\nmetadata: {name: n}\nspec:\n  template:\n    spec:\n      containers: [{name: n, image: kubeflownotebookswg/jupyter-scipy:v1.9.0}]\n").unwrap();
        assert_eq!(a.role, Role::Notebook);
        assert_eq!(a.describe(), "Jupyter on Kubeflow Notebook");
    }

    #[test]
    fn flags_and_env_are_read_like_argparse() {
        let out = load_str(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: vllm/vllm-openai:v0.6.3\n    command: [sh, -c]\n    args: ['vllm serve m --trust-remote-code --api-key=\"$(KEY)\" --port 8000']\n    env:\n    - {name: VLLM_API_KEY, valueFrom: {secretKeyRef: {name: s, key: k}}}\n    - {name: EMPTY, value: ''}\n",
        );
        let w = workloads(&out.objects[0]);
        let cli = Cli::of(&w[0].containers[0]);
        assert!(cli.bool_flag(&["--trust-remote-code"]).is_some());
        assert_eq!(cli.flag(&["--api-key"]).unwrap().0, "$(KEY)");
        assert_eq!(cli.flag(&["--port"]).unwrap().0, "8000");
        assert!(cli.flag(&["--host"]).is_none());
        assert!(cli.env_set("VLLM_API_KEY"));
        assert!(!cli.env_set("EMPTY"));
        assert!(cli.serves());
    }

    #[test]
    fn image_repository_strips_tag_digest_not_port() {
        assert_eq!(
            image_repository("reg:5000/a/b:1.0@sha256:ab"),
            "reg:5000/a/b"
        );
        assert_eq!(image_repository("reg:5000/a/b"), "reg:5000/a/b");
        assert_eq!(image_repository("Ollama/Ollama"), "ollama/ollama");
    }
}
