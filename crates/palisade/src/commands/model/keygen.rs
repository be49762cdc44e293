//! `palisade model keygen`: a new ECDSA signing key pair for `model sign`.

use anyhow::{Context as _, Result};
use palisade_model::keys::SigningKey;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model keygen --key signing-key.pem --public-key signing-key.pub
  palisade model keygen --key k.pem --public-key k.pub --curve p384

The private key is unencrypted PKCS#8 PEM, created with mode 0600 and never
overwritten (remove the old file first); the public key is SubjectPublicKeyInfo
PEM, as `model_signing verify key --public-key` reads it. Keep the private key
in a secrets manager or KMS for anything but trying things out.")]
pub(crate) struct Args {
    /// Where to write the private key.
    #[arg(long, default_value = "signing-key.pem")]
    key: PathBuf,
    /// Where to write the public key.
    #[arg(long, default_value = "signing-key.pub")]
    public_key: PathBuf,
    /// The curve: P-256 (signs with SHA-256) or P-384 (SHA-384).
    #[arg(long, default_value = "p256", value_parser = ["p256", "p384"])]
    curve: String,
}

/// Creates `path` only if it does not exist, readable by the owner only
/// when `secret`.
fn create_new(path: &Path, secret: bool, text: &str) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let key = SigningKey::generate(args.curve == "p384");
    let public = key.public();
    // The public key first: a failure then leaves no orphan private key.
    create_new(&args.public_key, false, &public.to_pem())?;
    let pem = key.to_pkcs8_pem()?;
    if let Err(e) = create_new(&args.key, true, &pem) {
        let _ = std::fs::remove_file(&args.public_key);
        return Err(e);
    }
    println!(
        "Wrote {} (private, {}) and {} (public key {})",
        args.key.display(),
        key.curve(),
        args.public_key.display(),
        public.hint()
    );
    Ok(0)
}
