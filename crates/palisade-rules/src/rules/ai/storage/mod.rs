//! Model storage and supply chain (`PLS-STO-*`): where model files come
//! from (plain HTTP, public buckets, signed URLs, unpinned hub revisions),
//! where they are kept (host paths, writable and cross-namespace volumes)
//! and whether they are verified before serving. Credentials embedded in
//! model URIs are PLS-SEC-006; unpinned images are PLS-IMG-002.

use crate::context::{Context, index_in};
use crate::rule::Rule;
use palisade_core::{Node, Path};
use palisade_k8s::Object;
use palisade_k8s::ai::Cli;

mod cache_hostpath;
mod plain_http;
mod public_bucket;
mod shared_claim;
mod signed_url;
mod unpinned_revision;
mod unverified;
mod writable_model;

/// The rules of this group.
pub(crate) fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(plain_http::PlainHttp),
        Box::new(public_bucket::PublicBucket),
        Box::new(signed_url::SignedUrl),
        Box::new(cache_hostpath::CacheHostPath),
        Box::new(writable_model::WritableModel),
        Box::new(shared_claim::SharedClaim),
        Box::new(unpinned_revision::UnpinnedRevision),
        Box::new(unverified::Unverified),
    ]
}

/// A model location written in an object.
#[derive(Debug, Clone)]
pub(crate) struct ModelUri<'a> {
    /// The URI as written.
    pub uri: &'a str,
    /// Its path.
    pub path: Path,
    /// How messages name the field (`storageUri`, `--model-url`).
    pub field: String,
    /// The container it is in, if any.
    pub container: Option<&'a str>,
}

fn push<'a>(out: &mut Vec<ModelUri<'a>>, n: Option<&'a Node>, path: Path, field: &str) {
    if let Some(s) = n.and_then(Node::as_str) {
        out.push(ModelUri {
            uri: s.trim(),
            path,
            field: field.to_owned(),
            container: None,
        });
    }
}

fn seldon_graph<'a>(out: &mut Vec<ModelUri<'a>>, g: &'a Node, path: &Path, depth: u8) {
    if depth > 32 {
        return;
    }
    push(out, g.get("modelUri"), path.key("modelUri"), "modelUri");
    for (i, c) in g.list("children").iter().enumerate() {
        seldon_graph(out, c, &path.key("children").index(i), depth + 1);
    }
}

/// Environment variables that carry a model URL.
const URL_ENV: &[&str] = &[
    "MODEL_URL",
    "MODEL_URI",
    "STORAGE_URI",
    "MODEL_DOWNLOAD_URL",
    "MODEL_REPOSITORY",
];

/// Model file suffixes a download command fetches.
const MODEL_SUFFIXES: &[&str] = &[
    ".gguf",
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".onnx",
    ".pkl",
    ".joblib",
    ".h5",
    ".keras",
    ".tar.gz",
    ".tgz",
    ".zip",
    ".pb",
    ".plan",
    ".ckpt",
];

/// Every model location in `obj`: KServe `storageUri` fields (every
/// component and framework), LLMInferenceService `model.uri`, Seldon
/// `modelUri` and Core 2 Model `storageUri`, KServe TrainedModel, and in
/// AI containers `--model-url`/`-mu`, model URL environment variables, and
/// URLs of model files that download commands (curl, wget) fetch.
pub(crate) fn model_uris<'a>(cx: &'a Context<'a>, obj: &'a Object) -> Vec<ModelUri<'a>> {
    let mut out = Vec::new();
    let spec = obj.spec();
    match (obj.group(), obj.kind.as_str()) {
        ("serving.kserve.io", "InferenceService") => {
            for comp in ["predictor", "transformer", "explainer"] {
                let Some(c) = spec.get(comp) else { continue };
                let base = Path::keys("spec").key(comp);
                push(
                    &mut out,
                    c.get("storageUri"),
                    base.key("storageUri"),
                    "storageUri",
                );
                for f in palisade_k8s::workload::KSERVE_FRAMEWORKS {
                    if let Some(fw) = c.get(f) {
                        push(
                            &mut out,
                            fw.get("storageUri"),
                            base.key(f).key("storageUri"),
                            "storageUri",
                        );
                    }
                }
            }
        }
        ("serving.kserve.io", "LLMInferenceService") => {
            if let Some(m) = spec.get("model") {
                push(
                    &mut out,
                    m.get("uri"),
                    Path::keys("spec.model.uri"),
                    "model.uri",
                );
            }
        }
        ("serving.kserve.io", "TrainedModel") => {
            if let Some(m) = spec.get("model") {
                push(
                    &mut out,
                    m.get("storageUri"),
                    Path::keys("spec.model.storageUri"),
                    "storageUri",
                );
            }
        }
        ("mlops.seldon.io", "Model") => {
            push(
                &mut out,
                spec.get("storageUri"),
                Path::keys("spec.storageUri"),
                "storageUri",
            );
        }
        ("machinelearning.seldon.io", "SeldonDeployment") => {
            for (i, p) in spec.list("predictors").iter().enumerate() {
                if let Some(g) = p.get("graph") {
                    seldon_graph(
                        &mut out,
                        g,
                        &Path::keys("spec.predictors").index(i).key("graph"),
                        0,
                    );
                }
            }
        }
        _ => {}
    }
    let i = index_in(cx.objects, obj);
    for w in &cx.workloads[i] {
        let ai = cx.ai().recognised(cx, w).is_some();
        for c in &w.containers {
            let cli = Cli::of(c);
            let before = out.len();
            if ai {
                if let Some((v, p)) = cli.flag(&["--model-url", "-mu"]) {
                    if !v.is_empty() {
                        out.push(ModelUri {
                            uri: leak_str(c, &v),
                            path: p,
                            field: "--model-url".into(),
                            container: None,
                        });
                    }
                }
                for name in URL_ENV {
                    if let Some((Some(v), p)) = cli.env(name) {
                        out.push(ModelUri {
                            uri: v.trim(),
                            path: p,
                            field: (*name).to_owned(),
                            container: None,
                        });
                    }
                }
            }
            let downloads = cli.word_iter().any(|w| {
                let b = w.rsplit('/').next().unwrap_or(w);
                matches!(b, "curl" | "wget" | "aria2c" | "huggingface-cli")
            });
            if downloads {
                for field in ["command", "args"] {
                    for (idx, item) in c.node.list(field).iter().enumerate() {
                        let Some(text) = item.as_str() else { continue };
                        for word in text.split_whitespace() {
                            let word = word.trim_matches(|ch| ch == '"' || ch == '\'');
                            let lower = word.to_ascii_lowercase();
                            let file = lower.split('?').next().unwrap_or("");
                            if (lower.starts_with("http://") || lower.starts_with("https://"))
                                && MODEL_SUFFIXES.iter().any(|x| file.ends_with(x))
                            {
                                out.push(ModelUri {
                                    uri: substr(text, word),
                                    path: c.path.key(field).index(idx),
                                    field: "download URL".into(),
                                    container: None,
                                });
                            }
                        }
                    }
                }
            }
            for u in &mut out[before..] {
                u.container = Some(c.name);
            }
        }
    }
    out
}

/// `word` as a slice of `s` (it always is one: it came from splitting `s`).
fn substr<'a>(s: &'a str, word: &str) -> &'a str {
    s.find(word).map_or("", |i| &s[i..i + word.len()])
}

/// A flag value as a slice of the container's own text.
fn leak_str<'a>(c: &palisade_k8s::Container<'a>, v: &str) -> &'a str {
    for field in ["args", "command"] {
        for item in c.node.list(field) {
            if let Some(s) = item.as_str() {
                if let Some(i) = s.find(v) {
                    return &s[i..i + v.len()];
                }
            }
        }
    }
    ""
}

/// The URL without user info and query, for messages: never shows secrets.
pub(crate) fn safe_url(uri: &str) -> String {
    let no_query = uri.split(['?', '#']).next().unwrap_or("");
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
            let host = auth.rsplit('@').next().unwrap_or(auth);
            let tail = if tail.is_empty() {
                String::new()
            } else {
                format!("/{tail}")
            };
            format!("{scheme}://{host}{tail}")
        }
        None => no_query.to_owned(),
    }
}

/// Environment variables that name where models are cached.
const CACHE_ENV: &[&str] = &[
    "HF_HOME",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "TRANSFORMERS_CACHE",
    "OLLAMA_MODELS",
    "VLLM_CACHE_ROOT",
    "MODEL_DIR",
    "LLAMA_CACHE",
];

/// Whether a mount path holds models or a model cache: a well-known path
/// (`/mnt/models`, `~/.cache/huggingface`, `~/.ollama`), or the folder a
/// cache variable of the container names.
pub(crate) fn is_model_path(c: &palisade_k8s::Container<'_>, mount: &str) -> bool {
    let m = mount.trim_end_matches('/').to_ascii_lowercase();
    let known = [
        "model",
        "huggingface",
        "/hf",
        ".cache",
        "ollama",
        "weights",
        "checkpoint",
        "llama.cpp",
    ];
    if known.iter().any(|k| m.contains(k)) {
        return true;
    }
    let cli = Cli::of(c);
    CACHE_ENV.iter().any(|k| {
        cli.env(k).and_then(|(v, _)| v).is_some_and(|v| {
            let v = v.trim_end_matches('/').to_ascii_lowercase();
            !m.is_empty() && (v == m || v.starts_with(&format!("{m}/")))
        })
    })
}

/// The volume a mount uses, by name.
pub(crate) fn volume<'a>(w: &palisade_k8s::Workload<'a>, name: &str) -> Option<(&'a Node, Path)> {
    w.volumes()
        .find(|(v, _)| v.get("name").and_then(Node::as_str) == Some(name))
}
