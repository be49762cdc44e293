//! A CycloneDX 1.6 ML-BOM for a model folder: one `machine-learning-model`
//! component with a model card filled from what the folder says about
//! itself (Hugging Face `config.json` and the README's YAML front matter),
//! one `file` sub-component per file with its SHA-256, and, when the model
//! is signed, a reference to the signature with its hash and signed root
//! digest.

use crate::hash::{self, Algorithm, HashError, Method, Options};
use crate::manifest::Manifest;
use palisade_core::clock::now_rfc3339;
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use std::path::Path;

/// Inputs besides the model folder.
#[derive(Debug, Clone, Default)]
pub struct BomOptions {
    /// The signature file, referenced from the BOM when given.
    pub signature: Option<std::path::PathBuf>,
    /// How the signature is referred to (a path or URL); defaults to the
    /// signature's file name.
    pub signature_url: Option<String>,
    /// RFC 3339 timestamp for `metadata.timestamp` (now when `None`).
    pub timestamp: Option<String>,
    /// The producing tool's version.
    pub tool_version: String,
    /// Paths left out, as for hashing (the signature file, git files).
    pub ignore_paths: Vec<crate::RelPath>,
}

/// BOM errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BomError {
    /// The model cannot be hashed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The signature file cannot be read or parsed.
    #[error("signature {path}: {why}")]
    Signature {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

/// Model-card facts found in the folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFacts {
    /// `config.json` `model_type` (e.g. `llama`).
    pub architecture_family: Option<String>,
    /// `config.json` `architectures[0]` (e.g. `LlamaForCausalLM`).
    pub model_architecture: Option<String>,
    /// Front matter `pipeline_tag` (e.g. `text-generation`).
    pub task: Option<String>,
    /// Front matter `license`.
    pub license: Option<String>,
    /// Front matter `datasets`.
    pub datasets: Vec<String>,
    /// Front matter `base_model`.
    pub base_models: Vec<String>,
    /// Front matter `language`.
    pub languages: Vec<String>,
    /// Front matter `tags`.
    pub tags: Vec<String>,
    /// `config.json` `torch_dtype`.
    pub dtype: Option<String>,
    /// Front matter `model_name` or `model-index[0].name`.
    pub name: Option<String>,
}

const MAX_META: u64 = 4 << 20;

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    // Never follow a link for metadata either; and keep it small.
    if !meta.is_file() || meta.len() > MAX_META {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The YAML front matter of a README (between the first two `---` lines).
pub fn front_matter(readme: &str) -> Option<Value> {
    let rest = readme.strip_prefix("---")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let end = rest.find("\n---")?;
    let node = palisade_core::yaml::parse_one(&rest[..end]).ok()??;
    Some(node.to_json())
}

/// Reads `config.json` and `README.md` of a model folder.
pub fn card_facts(model: &Path) -> CardFacts {
    let mut f = CardFacts::default();
    if let Some(cfg) =
        read_small(&model.join("config.json")).and_then(|s| serde_json::from_str::<Value>(&s).ok())
    {
        f.architecture_family = cfg
            .get("model_type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        f.model_architecture = strings(cfg.get("architectures")).into_iter().next();
        f.dtype = cfg
            .get("torch_dtype")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    if let Some(fm) = read_small(&model.join("README.md"))
        .as_deref()
        .and_then(front_matter)
    {
        f.task = fm
            .get("pipeline_tag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        f.license = fm.get("license").and_then(Value::as_str).map(str::to_owned);
        f.datasets = strings(fm.get("datasets"));
        f.base_models = strings(fm.get("base_model"));
        f.languages = strings(fm.get("language"));
        f.tags = strings(fm.get("tags"));
        f.name = fm
            .get("model_name")
            .and_then(Value::as_str)
            .or_else(|| {
                fm.get("model-index")
                    .and_then(|m| m.get(0))
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
            })
            .map(str::to_owned);
    }
    f
}

/// SPDX IDs for the licence names the Hugging Face hub uses most; others
/// are recorded by name.
fn spdx_id(license: &str) -> Option<&'static str> {
    Some(match license.to_ascii_lowercase().as_str() {
        "apache-2.0" => "Apache-2.0",
        "mit" => "MIT",
        "bsd-3-clause" => "BSD-3-Clause",
        "bsd-2-clause" => "BSD-2-Clause",
        "cc-by-4.0" => "CC-BY-4.0",
        "cc-by-sa-4.0" => "CC-BY-SA-4.0",
        "cc-by-nc-4.0" => "CC-BY-NC-4.0",
        "cc0-1.0" => "CC0-1.0",
        "gpl-3.0" => "GPL-3.0-only",
        "lgpl-3.0" => "LGPL-3.0-only",
        "mpl-2.0" => "MPL-2.0",
        "openrail" => "OpenRAIL",
        _ => return None,
    })
}

/// A UUID-shaped serial number derived from the content, so the same model
/// gives the same BOM serial.
fn serial(root: &crate::Digest) -> String {
    let h = sha2::Sha256::digest(root.0);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50; // version 5 layout (name-based, SHA)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// Builds the BOM.
pub fn bom(model: &Path, opts: &BomOptions) -> Result<Value, BomError> {
    let hopts = Options {
        method: Method::Files,
        algorithm: Algorithm::Sha256,
        allow_symlinks: false,
        ignore_paths: opts.ignore_paths.clone(),
        only: None,
    };
    let manifest = hash::hash_model(model, &hopts)?;
    let facts = card_facts(model);
    Ok(build(&manifest, &facts, opts, signature_ref(opts)?))
}

fn signature_ref(opts: &BomOptions) -> Result<Option<Value>, BomError> {
    let Some(path) = &opts.signature else {
        return Ok(None);
    };
    let err = |why: String| BomError::Signature {
        path: path.display().to_string(),
        why,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let parsed = crate::bundle::parse(&bytes).map_err(|e| err(e.to_string()))?;
    // Not verified here (that is `verify`'s job): the BOM records what the
    // signature claims, and its hash pins the file.
    let signed = Manifest::from_payload(&parsed.payload).map_err(|e| err(e.to_string()))?;
    let url = opts.signature_url.clone().unwrap_or_else(|| {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    Ok(Some(json!({
        "type": "attestation",
        "url": url,
        "comment": format!(
            "OpenSSF model-signing v1.0 signature (Sigstore bundle); signed root digest sha256:{}",
            signed.root_digest().hex()
        ),
        "hashes": [{"alg": "SHA-256", "content": hex::encode(sha2::Sha256::digest(&bytes))}],
    })))
}

fn build(manifest: &Manifest, facts: &CardFacts, opts: &BomOptions, sig: Option<Value>) -> Value {
    let root = manifest.root_digest();
    let name = facts
        .name
        .clone()
        .unwrap_or_else(|| manifest.model_name.clone());
    let model_ref = format!("model:{name}");
    let files: Vec<Value> = manifest
        .items()
        .map(|(k, d)| {
            json!({
                "type": "file",
                "bom-ref": format!("file:{k}"),
                "name": k.to_string(),
                "hashes": [{"alg": "SHA-256", "content": d.hex()}],
            })
        })
        .collect();
    let mut params = Map::new();
    if let Some(t) = &facts.task {
        params.insert("task".into(), json!(t));
    }
    if let Some(a) = &facts.architecture_family {
        params.insert("architectureFamily".into(), json!(a));
    }
    if let Some(a) = &facts.model_architecture {
        params.insert("modelArchitecture".into(), json!(a));
    }
    if !facts.datasets.is_empty() {
        params.insert(
            "datasets".into(),
            Value::Array(
                facts
                    .datasets
                    .iter()
                    .map(|d| json!({"type": "dataset", "name": d}))
                    .collect(),
            ),
        );
    }
    let mut card = Map::new();
    card.insert("bom-ref".into(), json!(format!("model-card:{name}")));
    if !params.is_empty() {
        card.insert("modelParameters".into(), Value::Object(params));
    }
    let mut props = vec![
        json!({"name": "palisade:model:root-digest", "value": format!("sha256:{}", root.hex())}),
        json!({"name": "palisade:model:files", "value": manifest.len().to_string()}),
    ];
    if let Some(d) = &facts.dtype {
        props.push(json!({"name": "huggingface:torch_dtype", "value": d}));
    }
    for l in &facts.languages {
        props.push(json!({"name": "huggingface:language", "value": l}));
    }
    for t in &facts.tags {
        props.push(json!({"name": "huggingface:tag", "value": t}));
    }
    let mut model = json!({
        "type": "machine-learning-model",
        "bom-ref": model_ref,
        "name": name,
        "hashes": [{"alg": "SHA-256", "content": root.hex()}],
        "modelCard": Value::Object(card),
        "properties": props,
        "components": files,
    });
    if let Some(l) = &facts.license {
        let lic = spdx_id(l).map_or_else(|| json!({"name": l}), |id| json!({"id": id}));
        model["licenses"] = json!([{"license": lic}]);
    }
    if !facts.base_models.is_empty() {
        model["pedigree"] = json!({
            "ancestors": facts.base_models.iter().map(|b| json!({
                "type": "machine-learning-model",
                "name": b,
            })).collect::<Vec<_>>()
        });
    }
    if let Some(sig) = sig {
        model["externalReferences"] = json!([sig]);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial(&root),
        "version": 1,
        "metadata": {
            "timestamp": opts.timestamp.clone().unwrap_or_else(now_rfc3339),
            "tools": {"components": [{
                "type": "application",
                "name": "palisade",
                "version": opts.tool_version,
            }]},
            "component": {"type": "machine-learning-model", "bom-ref": format!("{model_ref}#meta"), "name": name},
        },
        "components": [model],
        "dependencies": [{"ref": format!("model:{name}")}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_read() {
        let fm = front_matter("---\nlicense: apache-2.0\ndatasets:\n- c4\n---\n# Model\n").unwrap();
        assert_eq!(fm["license"], "apache-2.0");
        assert_eq!(fm["datasets"][0], "c4");
        assert!(front_matter("# no front matter").is_none());
        assert!(front_matter("---\nunterminated: [").is_none());
    }

    #[test]
    fn serial_is_a_uuid() {
        let s = serial(&crate::Digest([3; 32]));
        assert_eq!(s.len(), "urn:uuid:".len() + 36);
        assert_eq!(&s[9 + 14..9 + 15], "5");
    }
}
