//! `palisade model <verb>`: the model supply chain. One file per verb.

pub(crate) mod bom;
pub(crate) mod encrypt;
pub(crate) mod hash;
pub(crate) mod keygen;
pub(crate) mod scan;
pub(crate) mod sign;
pub(crate) mod verify;

use anyhow::Result;
use clap::Subcommand;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model hash ./my-model
  palisade model hash ./my-model --method shards --hash blake3 --format json
  palisade model scan ./my-model
  palisade model keygen --key key.pem --public-key key.pub
  palisade model sign ./my-model --key key.pem --signature my-model.sig
  palisade model verify ./my-model --signature my-model.sig --public-key key.pub
  palisade model bom ./my-model --signature my-model.sig > my-model.cdx.json
  palisade model encrypt ./my-model -o /mnt/share/my-model -R recipients.txt")]
pub(crate) struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Hash a model folder as OpenSSF model signing v1.0 does, without signing.
    Hash(hash::Args),
    /// Scan model files for code execution (pickle globals, Keras Lambda
    /// layers, template injection) and malformed structure.
    Scan(scan::Args),
    /// Create an ECDSA key pair for `sign` (private key mode 0600, never overwritten).
    Keygen(keygen::Args),
    /// Sign a model (OpenSSF model-signing v1.0 Sigstore bundle) with a key or certificate.
    Sign(sign::Args),
    /// Verify a model against its signature, file by file.
    Verify(verify::Args),
    /// Inventory a model as a CycloneDX 1.6 ML-BOM.
    Bom(bom::Args),
    /// Encrypt weights at rest (age: X25519 recipients or passphrase), streaming.
    Encrypt(encrypt::EncryptArgs),
    /// Decrypt age-encrypted weights (e.g. in an init container, into a memory volume).
    Decrypt(encrypt::DecryptArgs),
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    match &args.verb {
        Verb::Hash(a) => hash::run(a),
        Verb::Scan(a) => scan::run(a),
        Verb::Keygen(a) => keygen::run(a),
        Verb::Sign(a) => sign::run(a),
        Verb::Verify(a) => verify::run(a),
        Verb::Bom(a) => bom::run(a),
        Verb::Encrypt(a) => encrypt::encrypt(a),
        Verb::Decrypt(a) => encrypt::decrypt(a),
    }
}

/// Hashing options shared by `hash`, `sign` and `verify`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HashArgs {
    /// Serialization method: one digest per file, or per fixed-size shard of each file.
    #[arg(long, default_value = "files", value_parser = ["files", "shards"])]
    pub(crate) method: String,
    /// Shard size in bytes (method shards).
    #[arg(long, default_value_t = palisade_model::hash::DEFAULT_SHARD_SIZE)]
    pub(crate) shard_size: u64,
    /// Digest algorithm of the resources.
    #[arg(long = "hash", default_value = "sha256", value_parser = ["sha256", "blake3"])]
    pub(crate) algorithm: String,
    /// Follow symbolic links that stay inside the model folder (links leaving it are always refused).
    #[arg(long)]
    pub(crate) allow_symlinks: bool,
    /// Paths (relative to the model, or inside it) to leave out; repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    pub(crate) ignore_paths: Vec<std::path::PathBuf>,
    /// Include .git, .github, .gitattributes and .gitignore.
    #[arg(long)]
    pub(crate) no_ignore_git_paths: bool,
}

impl HashArgs {
    /// The library options for a model at `model`; `extra` are more paths to
    /// leave out (the signature file).
    pub(crate) fn options(
        &self,
        model: &std::path::Path,
        extra: &[&std::path::Path],
    ) -> Result<palisade_model::Options> {
        use palisade_model::{Algorithm, Method, Options, RelPath};
        let method = match self.method.as_str() {
            "shards" => Method::Shards {
                shard_size: self.shard_size,
            },
            _ => Method::Files,
        };
        let algorithm = Algorithm::from_name(&self.algorithm).unwrap_or(Algorithm::Sha256);
        let mut ignore_paths = Vec::new();
        if !self.no_ignore_git_paths {
            for p in palisade_model::hash::GIT_PATHS {
                ignore_paths.push(RelPath::parse(p)?);
            }
        }
        let root = std::fs::canonicalize(model).ok();
        for p in self
            .ignore_paths
            .iter()
            .map(std::path::PathBuf::as_path)
            .chain(extra.iter().copied())
        {
            if let Some(rel) = relative_to_model(root.as_deref(), p) {
                ignore_paths.push(rel);
            }
        }
        ignore_paths.sort();
        ignore_paths.dedup();
        Ok(Options {
            method,
            algorithm,
            allow_symlinks: self.allow_symlinks,
            ignore_paths,
            only: None,
        })
    }
}

/// `p` as a path relative to the model. As the reference CLI does, a path
/// is first resolved from the working directory (`./my-model/model.sig`);
/// if that lands outside the model, a relative path is taken as relative to
/// the model root (`README.md`), as the reference API does. Anything else
/// is dropped.
fn relative_to_model(
    root: Option<&std::path::Path>,
    p: &std::path::Path,
) -> Option<palisade_model::RelPath> {
    use palisade_model::RelPath;
    let to_rel = |r: &std::path::Path| r.to_str().and_then(|s| RelPath::parse(s).ok());
    if let Some(root) = root {
        let abs = if p.is_absolute() {
            Some(p.to_path_buf())
        } else {
            std::env::current_dir().ok().map(|d| d.join(p))
        };
        // Resolve the parent: the file itself may not exist yet.
        let resolved = abs.and_then(|abs| {
            let parent = std::fs::canonicalize(abs.parent()?).ok()?;
            Some(parent.join(abs.file_name()?))
        });
        if let Some(r) = resolved.as_deref().and_then(|r| r.strip_prefix(root).ok()) {
            return to_rel(r);
        }
    }
    if p.is_relative() { to_rel(p) } else { None }
}
