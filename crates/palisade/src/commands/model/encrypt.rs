//! `palisade model encrypt|decrypt`: model weights at rest in the age format.

use anyhow::{Context as _, Result, bail};
use palisade_model::encrypt::{Lock, Unlock};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model encrypt ./llama-3-8b -o /mnt/share/llama-3-8b -r age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  palisade model encrypt model.safetensors -o model.safetensors.age -R recipients.txt
  PALISADE_AGE_PASSPHRASE=... palisade model encrypt ./m -o ./m.enc --passphrase

A folder is encrypted file by file (name -> name.age). Recipients are age X25519
public keys (age-keygen makes them). See examples/encrypted-model/ for the
init-container pattern that decrypts into an in-memory volume.")]
pub(crate) struct EncryptArgs {
    /// A weights file or a model folder.
    input: PathBuf,
    /// The encrypted file, or the folder to write encrypted files into.
    #[arg(short, long)]
    output: PathBuf,
    /// An age X25519 recipient (age1...); repeatable.
    #[arg(short, long)]
    recipient: Vec<String>,
    /// A file of recipients, one per line; repeatable.
    #[arg(short = 'R', long)]
    recipients_file: Vec<PathBuf>,
    /// Encrypt with a passphrase instead (from --passphrase-file or PALISADE_AGE_PASSPHRASE).
    #[arg(long, conflicts_with_all = ["recipient", "recipients_file"])]
    passphrase: bool,
    /// File holding the passphrase (first line).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model decrypt /encrypted/llama-3-8b -o /models/llama-3-8b -i /keys/identity.txt
  palisade model decrypt model.safetensors.age -o model.safetensors -i key.txt
  palisade model decrypt ./m.enc -o ./m --passphrase-file pass.txt

Decrypted files are created mode 0600 and only renamed into place once complete:
a wrong key or a tampered or truncated file leaves nothing behind.")]
pub(crate) struct DecryptArgs {
    /// An .age file or a folder of them.
    input: PathBuf,
    /// The decrypted file, or the folder to decrypt into.
    #[arg(short, long)]
    output: PathBuf,
    /// An age identity file (AGE-SECRET-KEY-1...); repeatable.
    #[arg(short, long)]
    identity: Vec<PathBuf>,
    /// File holding the passphrase (else PALISADE_AGE_PASSPHRASE).
    #[arg(long, conflicts_with = "identity")]
    passphrase_file: Option<PathBuf>,
}

fn read(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}

fn passphrase(file: Option<&Path>) -> Result<palisade_model::encrypt::SecretString> {
    let text = match file {
        Some(f) => read(f)?.lines().next().unwrap_or_default().to_owned(),
        None => std::env::var("PALISADE_AGE_PASSPHRASE")
            .context("give --passphrase-file or set PALISADE_AGE_PASSPHRASE")?,
    };
    if text.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(palisade_model::encrypt::SecretString::from(text))
}

pub(crate) fn encrypt(args: &EncryptArgs) -> Result<u8> {
    let lock = if args.passphrase || args.passphrase_file.is_some() {
        Lock::Passphrase(passphrase(args.passphrase_file.as_deref())?)
    } else {
        let mut recipients = palisade_model::encrypt::parse_recipients(&args.recipient.join("\n"))?;
        for f in &args.recipients_file {
            recipients.extend(
                palisade_model::encrypt::parse_recipients(&read(f)?)
                    .with_context(|| format!("in {}", f.display()))?,
            );
        }
        if recipients.is_empty() {
            bail!("give at least one --recipient, --recipients-file or --passphrase");
        }
        Lock::Recipients(recipients)
    };
    let s = palisade_model::encrypt::encrypt_path(&args.input, &args.output, &lock)?;
    eprintln!(
        "Encrypted {} file{} ({} bytes) -> {}",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.bytes,
        args.output.display()
    );
    Ok(crate::EXIT_OK)
}

pub(crate) fn decrypt(args: &DecryptArgs) -> Result<u8> {
    let unlock = if args.identity.is_empty() {
        Unlock::Passphrase(passphrase(args.passphrase_file.as_deref())?)
    } else {
        let mut ids = Vec::new();
        for f in &args.identity {
            ids.extend(
                palisade_model::encrypt::parse_identities(&read(f)?)
                    .with_context(|| format!("in {}", f.display()))?,
            );
        }
        Unlock::Identities(ids)
    };
    let s = palisade_model::encrypt::decrypt_path(&args.input, &args.output, &unlock)?;
    eprintln!(
        "Decrypted {} file{} ({} bytes) -> {}",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.bytes,
        args.output.display()
    );
    Ok(crate::EXIT_OK)
}
