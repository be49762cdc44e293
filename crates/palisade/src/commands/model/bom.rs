//! `palisade model bom PATH`: a CycloneDX 1.6 ML-BOM of a model folder.

use anyhow::{Context as _, Result};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model bom ./llama-3-8b > llama-3-8b.cdx.json
  palisade model bom ./llama-3-8b --signature llama-3-8b.sig -o bom.json

The model card is filled from config.json (model_type, architectures) and the
README's front matter (pipeline_tag, license, datasets, base_model, language, tags).")]
pub(crate) struct Args {
    /// The model folder.
    path: PathBuf,
    /// The model's signature, referenced from the BOM (with its SHA-256).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// How the BOM refers to the signature (default: its file name).
    #[arg(long)]
    signature_url: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let hashing = super::HashArgs {
        method: "files".into(),
        shard_size: 1,
        algorithm: "sha256".into(),
        allow_symlinks: false,
        ignore_paths: Vec::new(),
        no_ignore_git_paths: false,
    };
    let mut extra: Vec<&std::path::Path> = Vec::new();
    if let Some(s) = &args.signature {
        extra.push(s);
    }
    if let Some(o) = &args.output {
        extra.push(o);
    }
    let opts = palisade_model::bom::BomOptions {
        signature: args.signature.clone(),
        signature_url: args.signature_url.clone(),
        timestamp: None,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        ignore_paths: hashing.options(&args.path, &extra)?.ignore_paths,
    };
    let bom = palisade_model::bom::bom(&args.path, &opts)
        .with_context(|| format!("cannot inventory {}", args.path.display()))?;
    let mut text = serde_json::to_string_pretty(&bom)?;
    text.push('\n');
    super::super::emit(&text, args.output.as_deref())?;
    Ok(crate::EXIT_OK)
}
