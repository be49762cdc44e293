//! `palisade model sign PATH`: sign a model in the OpenSSF model-signing v1.0 format.

use anyhow::{Context as _, Result, bail};
use palisade_model::keys::SigningKey;
use palisade_model::sign::Signer;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model sign ./llama-3-8b --key signing-key.pem --signature llama-3-8b.sig
  PALISADE_KEY_PASSWORD=... palisade model sign ./m --key encrypted-key.pem
  palisade model sign ./m --key leaf-key.pem --certificate leaf.pem --certificate-chain ca-chain.pem
  palisade model sign ./m --key k.pem --method shards --hash blake3

The signature is a Sigstore bundle v0.3 that `model_signing verify key|certificate` accepts.
The signature file is left out of the signed files when it lies inside the model.")]
pub(crate) struct Args {
    /// The model folder (or a single model file).
    path: PathBuf,
    /// Where to write the signature.
    #[arg(long, default_value = "model.sig")]
    signature: PathBuf,
    /// The private key (PEM: PKCS#8, encrypted PKCS#8 or SEC1; ECDSA P-256 or P-384).
    #[arg(long, alias = "private-key", required_unless_present = "sigstore")]
    key: Option<PathBuf>,
    /// A file holding the key's password (else PALISADE_KEY_PASSWORD is used).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// The signing certificate (PEM) of the key: certificate method.
    #[arg(long, alias = "signing-certificate", requires = "key")]
    certificate: Option<PathBuf>,
    /// Further certificates up to the root (PEM, repeatable); checked before signing.
    #[arg(long, requires = "certificate")]
    certificate_chain: Vec<PathBuf>,
    /// Sign keyless with Sigstore (needs the network; refused here).
    #[arg(long, conflicts_with_all = ["key", "certificate"])]
    sigstore: bool,
    #[command(flatten)]
    hashing: super::HashArgs,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The key password: from a file (first line) or the environment; never
/// from the command line, where other users can see it.
pub(crate) fn password(file: Option<&Path>) -> Result<Option<Vec<u8>>> {
    if let Some(f) = file {
        let s = read(f)?;
        return Ok(Some(s.trim_end_matches(['\r', '\n']).as_bytes().to_vec()));
    }
    Ok(std::env::var_os("PALISADE_KEY_PASSWORD").map(std::ffi::OsString::into_encoded_bytes))
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let signer = if args.sigstore {
        Signer::Sigstore
    } else {
        let Some(key_path) = &args.key else {
            bail!("give --key (or --sigstore)");
        };
        let pw = password(args.password_file.as_deref())?;
        let key = SigningKey::from_pem(&read(key_path)?, pw.as_deref())
            .with_context(|| format!("cannot load the private key {}", key_path.display()))?;
        match &args.certificate {
            None => Signer::Key(key),
            Some(cert) => {
                let mut chain = palisade_model::certs::pem_certificates(&read(cert)?)
                    .with_context(|| format!("cannot read {}", cert.display()))?;
                chain.truncate(1);
                for p in &args.certificate_chain {
                    chain.extend(
                        palisade_model::certs::pem_certificates(&read(p)?)
                            .with_context(|| format!("cannot read {}", p.display()))?,
                    );
                }
                palisade_model::certs::validate_for_signing(
                    &key,
                    &chain,
                    std::time::SystemTime::now(),
                )
                .context("the certificate chain is not valid for signing")?;
                Signer::Certificate { key, chain }
            }
        }
    };
    if matches!(signer, Signer::Sigstore) {
        // Refuse before hashing gigabytes.
        palisade_model::sign::sign(
            &palisade_model::Manifest::new(String::new(), dummy_serialization(), []),
            &signer,
        )?;
    }
    let opts = args
        .hashing
        .options(&args.path, &[args.signature.as_path()])?;
    let manifest = palisade_model::hash::hash_model(&args.path, &opts)
        .with_context(|| format!("cannot hash {}", args.path.display()))?;
    let bundle = palisade_model::sign::sign(&manifest, &signer)?;
    std::fs::write(&args.signature, palisade_model::sign::to_json(&bundle))
        .with_context(|| format!("cannot write {}", args.signature.display()))?;
    eprintln!(
        "Signed {} ({} {} resources, root sha256 {}) -> {}",
        args.path.display(),
        manifest.len(),
        manifest.serialization.resource_algorithm(),
        manifest.root_digest().hex(),
        args.signature.display()
    );
    Ok(crate::EXIT_OK)
}

fn dummy_serialization() -> palisade_model::Serialization {
    palisade_model::Serialization {
        method: palisade_model::Method::Files,
        algorithm: palisade_model::Algorithm::Sha256,
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    }
}
