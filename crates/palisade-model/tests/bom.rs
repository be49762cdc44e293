//! The ML-BOM validates against the official CycloneDX 1.6 schema (with the
//! SPDX and JSF schemas it references) and carries the model card facts,
//! per-file hashes and the signature reference.

#![allow(clippy::unwrap_used, clippy::panic, clippy::disallowed_macros)] // tests fail loudly and print what they skip

use palisade_model::bom::{BomOptions, bom};
use serde_json::Value;
use std::path::Path;

fn schema_dir() -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/schemas/cyclonedx-1.6");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing",
        p.display()
    );
    eprintln!("SKIPPED: CycloneDX schema not found at {}", p.display());
    None
}

/// The two schemas the BOM schema references, from disk: nothing is fetched.
struct Local {
    spdx: Value,
    jsf: Value,
}

impl jsonschema::Retrieve for Local {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str() {
            "http://cyclonedx.org/schema/spdx.schema.json" => Ok(self.spdx.clone()),
            "http://cyclonedx.org/schema/jsf-0.82.schema.json" => Ok(self.jsf.clone()),
            other => Err(format!("unexpected schema reference {other}").into()),
        }
    }
}

fn validate(doc: &Value) -> Option<Vec<String>> {
    let dir = schema_dir()?;
    let load = |n: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(n)).unwrap()).unwrap()
    };
    let schema = load("bom-1.6.schema.json");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(Local {
            spdx: load("spdx.schema.json"),
            jsf: load("jsf-0.82.schema.json"),
        })
        .build(&schema)
        .unwrap();
    Some(
        validator
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect(),
    )
}

fn model(root: &Path) -> std::path::PathBuf {
    let m = root.join("tiny-llama");
    std::fs::create_dir_all(m.join("tokenizer")).unwrap();
    std::fs::write(
        m.join("config.json"),
        r#"{"model_type": "llama", "architectures": ["LlamaForCausalLM"], "torch_dtype": "bfloat16"}"#,
    )
    .unwrap();
    std::fs::write(
        m.join("README.md"),
        "---\nlicense: apache-2.0\npipeline_tag: text-generation\nlanguage:\n- en\ndatasets:\n- allenai/c4\nbase_model: meta-llama/Llama-3.1-8B\ntags: [llama, palisade-test]\n---\n# Tiny llama\n",
    )
    .unwrap();
    std::fs::write(m.join("model.safetensors"), vec![7u8; 4096]).unwrap();
    std::fs::write(m.join("tokenizer/tokenizer.json"), "{}").unwrap();
    m
}

#[test]
fn ml_bom_validates_against_cyclonedx_1_6_and_carries_the_model_card() {
    let t = tempfile::tempdir().unwrap();
    let m = model(t.path());
    let key = palisade_model::keys::SigningKey::generate(false);
    let manifest =
        palisade_model::hash::hash_model(&m, &palisade_model::Options::default()).unwrap();
    let sig =
        palisade_model::sign::sign(&manifest, &palisade_model::sign::Signer::Key(key)).unwrap();
    let sig_path = t.path().join("tiny-llama.sig");
    std::fs::write(&sig_path, palisade_model::sign::to_json(&sig)).unwrap();
    let doc = bom(
        &m,
        &BomOptions {
            signature: Some(sig_path),
            tool_version: "0.1.0".into(),
            ..BomOptions::default()
        },
    )
    .unwrap();
    if let Some(errors) = validate(&doc) {
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
        // The validator does reject a wrong BOM.
        let mut bad = doc.clone();
        bad["components"][0]["modelCard"]["modelParameters"]["approach"] =
            serde_json::json!({"type": "guessing"});
        assert!(!validate(&bad).unwrap().is_empty());
    }
    let c = &doc["components"][0];
    assert_eq!(c["type"], "machine-learning-model");
    let mp = &c["modelCard"]["modelParameters"];
    assert_eq!(mp["task"], "text-generation");
    assert_eq!(mp["architectureFamily"], "llama");
    assert_eq!(mp["modelArchitecture"], "LlamaForCausalLM");
    assert_eq!(mp["datasets"][0]["name"], "allenai/c4");
    assert_eq!(c["licenses"][0]["license"]["id"], "Apache-2.0");
    assert_eq!(
        c["pedigree"]["ancestors"][0]["name"],
        "meta-llama/Llama-3.1-8B"
    );
    let files: Vec<&str> = c["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "README.md",
            "config.json",
            "model.safetensors",
            "tokenizer/tokenizer.json"
        ]
    );
    let weights = &c["components"][2]["hashes"][0];
    assert_eq!(weights["alg"], "SHA-256");
    let want = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(vec![7u8; 4096]))
    };
    assert_eq!(weights["content"], want.as_str());
    let ext = &c["externalReferences"][0];
    assert_eq!(ext["type"], "attestation");
    assert_eq!(ext["url"], "tiny-llama.sig");
    assert!(
        ext["comment"]
            .as_str()
            .unwrap()
            .contains(&manifest.root_digest().hex())
    );
    // Same model, same serial number.
    let again = bom(&m, &BomOptions::default()).unwrap();
    assert_eq!(again["serialNumber"], doc["serialNumber"]);
}

#[test]
fn folder_without_metadata_still_gives_a_valid_bom() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("weights.bin"), b"x").unwrap();
    std::fs::write(t.path().join("README.md"), "---\nlicense: llama3\n---\n").unwrap();
    let doc = bom(t.path(), &BomOptions::default()).unwrap();
    if let Some(errors) = validate(&doc) {
        assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    }
    assert_eq!(
        doc["components"][0]["licenses"][0]["license"]["name"],
        "llama3"
    );
}
