//! `palisade model verify PATH`: check a model against its model-signing signature.

use anyhow::{Context as _, Result, bail};
use palisade_model::verify::{Trust, VerifyError, VerifyOptions};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  palisade model verify ./llama-3-8b --signature llama-3-8b.sig --public-key signing-key.pub
  palisade model verify ./m --signature model.sig --certificate-chain root-ca.pem
  palisade model verify ./m --signature model.sig --public-key k.pub --ignore-unsigned-files --format json

Exit codes: 0 verified; 1 the signature or the model does not verify (every file
that differs is listed); 2 unreadable input.")]
pub(crate) struct Args {
    /// The model folder (or a single model file).
    path: PathBuf,
    /// The signature (Sigstore bundle) to check.
    #[arg(long, default_value = "model.sig")]
    signature: PathBuf,
    /// The signer's public key (PEM): key method.
    #[arg(
        long,
        required_unless_present = "certificate_chain",
        conflicts_with = "certificate_chain"
    )]
    public_key: Option<PathBuf>,
    /// Trusted root certificates (PEM, repeatable): certificate method.
    #[arg(long)]
    certificate_chain: Vec<PathBuf>,
    /// Accept files that are not in the signature.
    #[arg(long, alias = "ignore_unsigned_files")]
    ignore_unsigned_files: bool,
    /// Follow symbolic links that stay inside the model folder.
    #[arg(long)]
    allow_symlinks: bool,
    /// More paths to leave out, on top of those recorded in the signature; repeatable.
    #[arg(long = "ignore-paths", value_name = "PATH")]
    ignore_paths: Vec<PathBuf>,
    /// Do not leave out .git, .github, .gitattributes and .gitignore.
    #[arg(long)]
    no_ignore_git_paths: bool,
    /// Output format.
    #[arg(short, long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
}

pub(crate) fn run(args: &Args) -> Result<u8> {
    let bundle = std::fs::read(&args.signature)
        .with_context(|| format!("cannot read the signature {}", args.signature.display()))?;
    let trust = if let Some(pk) = &args.public_key {
        let pem =
            std::fs::read_to_string(pk).with_context(|| format!("cannot read {}", pk.display()))?;
        Trust::PublicKey(
            palisade_model::keys::PublicKey::from_pem(&pem)
                .with_context(|| format!("cannot load the public key {}", pk.display()))?,
        )
    } else {
        let mut roots = Vec::new();
        for p in &args.certificate_chain {
            let pem = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            roots.extend(
                palisade_model::certs::pem_certificates(&pem)
                    .with_context(|| format!("cannot read certificates from {}", p.display()))?,
            );
        }
        if roots.is_empty() {
            bail!("give --public-key or --certificate-chain");
        }
        Trust::Roots(roots)
    };
    let hashing = super::HashArgs {
        method: "files".into(),
        shard_size: 1,
        algorithm: "sha256".into(),
        allow_symlinks: args.allow_symlinks,
        ignore_paths: args.ignore_paths.clone(),
        no_ignore_git_paths: args.no_ignore_git_paths,
    };
    let ignore_paths = hashing
        .options(&args.path, &[args.signature.as_path()])?
        .ignore_paths;
    let opts = VerifyOptions {
        ignore_unsigned_files: args.ignore_unsigned_files,
        allow_symlinks: args.allow_symlinks,
        ignore_paths,
    };
    let report = match palisade_model::verify::verify(&args.path, &bundle, &trust, &opts) {
        Ok(r) => r,
        Err(VerifyError::Hash(e)) => {
            return Err(e).with_context(|| format!("cannot hash {}", args.path.display()));
        }
        Err(e) => {
            if args.format == "json" {
                let v =
                    serde_json::json!({"verified": false, "error": e.to_string(), "problems": []});
                super::super::emit(&format!("{v:#}\n"), None)?;
            } else {
                eprintln!("Verification FAILED: {e}");
            }
            return Ok(crate::EXIT_FINDINGS);
        }
    };
    if args.format == "json" {
        let problems: Vec<serde_json::Value> = report
            .problems
            .iter()
            .map(|p| serde_json::json!({"path": p.path(), "problem": p.to_string()}))
            .collect();
        let v = serde_json::json!({
            "verified": report.ok(),
            "signer": report.signer,
            "model": report.signed.model_name,
            "root_digest": report.signed.root_digest().hex(),
            "resources": report.signed.len(),
            "files_checked": report.files_checked,
            "problems": problems,
        });
        super::super::emit(&format!("{v:#}\n"), None)?;
    } else if report.ok() {
        super::super::emit(
            &format!(
                "Verified: {} files of model {:?} match the signature ({} {} resources, root sha256 {}), signed by {}\n",
                report.files_checked,
                report.signed.model_name,
                report.signed.len(),
                report.signed.serialization.resource_algorithm(),
                report.signed.root_digest().hex(),
                report.signer
            ),
            None,
        )?;
    } else {
        let mut s = format!(
            "Verification FAILED: the signature (by {}) is authentic but {} file{} of model {:?} do not match it:\n",
            report.signer,
            report.problems.len(),
            if report.problems.len() == 1 { "" } else { "s" },
            report.signed.model_name
        );
        for p in &report.problems {
            s.push_str("  ");
            s.push_str(&p.to_string());
            s.push('\n');
        }
        super::super::emit(&s, None)?;
    }
    Ok(if report.ok() {
        crate::EXIT_OK
    } else {
        crate::EXIT_FINDINGS
    })
}
