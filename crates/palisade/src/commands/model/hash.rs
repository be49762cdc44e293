//! `palisade model hash PATH`: the model-signing manifest of a model, unsigned.

use anyhow::{Context as _, Result};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model hash ./llama-3-8b
  palisade model hash ./llama-3-8b --method shards --shard-size 1000000000
  palisade model hash ./llama-3-8b --hash blake3 --format json > statement.json")]
pub(crate) struct Args {
    /// The model folder (or a single model file).
    path: PathBuf,
    #[command(flatten)]
    hashing: super::HashArgs,
    /// Output: one line per resource, or the in-toto statement that `sign` would sign.
    #[arg(short, long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let opts = args.hashing.options(&args.path, &[])?;
    let manifest = palisade_model::hash::hash_model(&args.path, &opts)
        .with_context(|| format!("cannot hash {}", args.path.display()))?;
    let text = if args.format == "json" {
        let mut s = String::from_utf8(manifest.to_payload())?;
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        for (key, digest) in manifest.items() {
            writeln!(s, "{}  {key}", digest.hex())?;
        }
        writeln!(
            s,
            "{}  (root, sha256 over {} {} digests)",
            manifest.root_digest().hex(),
            manifest.len(),
            manifest.serialization.resource_algorithm()
        )?;
        s
    };
    super::super::emit(&text, args.output.as_deref())?;
    Ok(crate::EXIT_OK)
}
