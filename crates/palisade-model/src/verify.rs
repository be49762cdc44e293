//! Verifying a model against its signature: first the signature over the
//! exact payload bytes, then the statement, then the model on disk, file by
//! file, with an explanation for every file that does not match.

use crate::bundle::{self, BundleError, Material};
use crate::certs::{self, CertError};
use crate::hash::{self, HashError, Issue, Method, Options};
use crate::keys::{KeyError, PublicKey};
use crate::manifest::{ItemKey, Manifest, PayloadError, RelPath};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// What the signer must be.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Trust {
    /// The signer's public key (key method).
    PublicKey(PublicKey),
    /// Trust anchors, DER (certificate method): the bundle's chain must lead
    /// to one of them.
    Roots(Vec<Vec<u8>>),
}

/// Verification options.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Files on disk that the signature does not list are not an error.
    pub ignore_unsigned_files: bool,
    /// Follow symlinks that stay inside the model. Off by default, whatever
    /// the signature says: a link is refused unless the verifier allows it.
    pub allow_symlinks: bool,
    /// More paths to leave out (the signature file itself, git files), on
    /// top of the `ignore_paths` recorded in the signature.
    pub ignore_paths: Vec<RelPath>,
}

/// Why a signature cannot be checked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature file is malformed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The statement is malformed or unsafe.
    #[error("signed payload: {0}")]
    Payload(#[from] PayloadError),
    /// The key hint names another key.
    #[error(
        "wrong key: the signature was made with the key whose hint is {signed}, not with the given key ({given})"
    )]
    WrongKey {
        /// Hint in the bundle.
        signed: String,
        /// Hint of the given key.
        given: String,
    },
    /// No signature verifies.
    #[error("signature does not verify: {0}")]
    Signature(KeyError),
    /// The bundle's method does not match the trust given.
    #[error("{0}")]
    Method(String),
    /// Certificate chain problems.
    #[error(transparent)]
    Certificate(#[from] CertError),
    /// Keyless bundles need Sigstore's trust root and online checks.
    #[error(
        "this is a Sigstore keyless signature (Fulcio certificate and {entries} Rekor log \
         entr{plural}); verifying it needs Sigstore's trust root (TUF), which this build does \
         not fetch: it is refused rather than half-checked"
    )]
    KeylessUnsupported {
        /// Number of log entries.
        entries: usize,
        /// "y" or "ies".
        plural: &'static str,
    },
    /// The model cannot be read.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A file that does not match the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The content differs.
    Modified {
        /// The file.
        path: RelPath,
        /// Its size now.
        size: u64,
        /// Shards that differ (shards method).
        shards: Vec<(u64, u64)>,
    },
    /// The file is shorter than signed (shards method, which records sizes).
    Truncated {
        /// The file.
        path: RelPath,
        /// Signed size.
        signed: u64,
        /// Size now.
        actual: u64,
    },
    /// The file is longer than signed (shards method).
    Grown {
        /// The file.
        path: RelPath,
        /// Signed size.
        signed: u64,
        /// Size now.
        actual: u64,
    },
    /// Signed but absent.
    Missing {
        /// The file.
        path: RelPath,
        /// It exists but is empty (the shards method records no shard for
        /// an empty file).
        empty: bool,
    },
    /// Present but not signed.
    Unsigned {
        /// The file.
        path: RelPath,
    },
    /// A file that cannot be part of a model (symlink, escaping symlink, socket).
    Refused(Issue),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Modified { path, size, shards } if shards.is_empty() => write!(
                f,
                "{path}: content differs from the signed digest (file is now {size} bytes)"
            ),
            Problem::Modified { path, shards, .. } => {
                let ranges: Vec<String> = shards.iter().map(|(s, e)| format!("{s}..{e}")).collect();
                write!(f, "{path}: content differs in bytes {}", ranges.join(", "))
            }
            Problem::Truncated {
                path,
                signed,
                actual,
            } => write!(
                f,
                "{path}: truncated: signed with {signed} bytes, now {actual}"
            ),
            Problem::Grown {
                path,
                signed,
                actual,
            } => {
                write!(f, "{path}: grown: signed with {signed} bytes, now {actual}")
            }
            Problem::Missing { path, empty: false } => write!(f, "{path}: signed file is missing"),
            Problem::Missing { path, empty: true } => {
                write!(f, "{path}: signed file is now empty")
            }
            Problem::Unsigned { path } => write!(
                f,
                "{path}: file is not in the signature (pass --ignore-unsigned-files to accept unsigned files)"
            ),
            Problem::Refused(issue) => write!(f, "{issue}"),
        }
    }
}

impl Problem {
    /// The file concerned.
    pub fn path(&self) -> String {
        match self {
            Problem::Modified { path, .. }
            | Problem::Truncated { path, .. }
            | Problem::Grown { path, .. }
            | Problem::Missing { path, .. }
            | Problem::Unsigned { path }
            | Problem::Refused(
                Issue::Symlink { path }
                | Issue::EscapingSymlink { path, .. }
                | Issue::NotRegular { path },
            ) => path.to_string(),
            Problem::Refused(Issue::NonUtf8Name { path }) => path.clone(),
        }
    }
}

/// The outcome of checking a model whose signature is authentic.
#[derive(Debug, Clone)]
pub struct Report {
    /// The signed manifest.
    pub signed: Manifest,
    /// Who signed: the key hint or the leaf certificate's subject.
    pub signer: String,
    /// Files that do not match; empty means verified.
    pub problems: Vec<Problem>,
    /// Number of files checked.
    pub files_checked: usize,
}

impl Report {
    /// Whether the model matches its signature.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the signature (without touching the model) and returns the
/// signed manifest and a description of the signer.
pub fn verify_signature(
    bundle_bytes: &[u8],
    trust: &Trust,
) -> Result<(Manifest, String), VerifyError> {
    let parsed = bundle::parse(bundle_bytes)?;
    let pae = parsed.signed_bytes();
    let (key, signer) = match (&parsed.material, trust) {
        (Material::Keyless { tlog_entries, .. }, _) => {
            return Err(VerifyError::KeylessUnsupported {
                entries: tlog_entries.len(),
                plural: if tlog_entries.len() == 1 { "y" } else { "ies" },
            });
        }
        (Material::Key { hint }, Trust::PublicKey(key)) => {
            let given = key.hint();
            if let Some(hint) = hint
                && !crate::ct_eq(hint.as_bytes(), given.as_bytes())
            {
                return Err(VerifyError::WrongKey {
                    signed: hint.chars().take(80).collect(),
                    given,
                });
            }
            (
                key.clone(),
                format!("public key {} ({})", given, key.curve()),
            )
        }
        (Material::Chain(chain), Trust::Roots(roots)) => {
            let leaf = certs::validate_for_verification(chain, roots)?;
            (leaf.key, format!("certificate {}", leaf.subject))
        }
        (Material::Key { .. }, Trust::Roots(_)) => {
            return Err(VerifyError::Method(
                "the signature was made with a key (key method): verify with --public-key".into(),
            ));
        }
        (Material::Chain(_), Trust::PublicKey(_)) => {
            return Err(VerifyError::Method(
                "the signature was made with a certificate: verify with --certificate-chain ROOTS.pem".into(),
            ));
        }
    };
    let mut last = KeyError::BadSignature;
    let mut ok = false;
    for sig in &parsed.signatures {
        match key.verify(&pae, sig) {
            Ok(()) => {
                ok = true;
                break;
            }
            Err(e) => last = e,
        }
    }
    if !ok {
        return Err(VerifyError::Signature(last));
    }
    // Only now, with the bytes authenticated, is the payload interpreted.
    let manifest = Manifest::from_payload(&parsed.payload)?;
    Ok((manifest, signer))
}

/// Verifies the model at `model` against the signature `bundle_bytes`.
/// `Err` means the signature itself cannot be trusted or read; `Ok` with
/// problems means the signature is authentic but the model differs.
pub fn verify(
    model: &Path,
    bundle_bytes: &[u8],
    trust: &Trust,
    opts: &VerifyOptions,
) -> Result<Report, VerifyError> {
    let (signed, signed_by) = verify_signature(bundle_bytes, trust)?;
    let ser = &signed.serialization;
    let mut ignore_paths = opts.ignore_paths.clone();
    for p in &ser.ignore_paths {
        ignore_paths.push(RelPath::parse(p)?);
    }
    let signed_files: BTreeSet<RelPath> = signed.items().map(|(k, _)| k.path.clone()).collect();
    let hopts = Options {
        method: ser.method,
        algorithm: ser.algorithm,
        allow_symlinks: opts.allow_symlinks,
        ignore_paths,
        only: opts.ignore_unsigned_files.then(|| signed_files.clone()),
    };
    let actual = hash::hash_collecting(model, &hopts)?;
    let mut problems: Vec<Problem> = Vec::new();
    let refused: BTreeSet<RelPath> = actual
        .issues
        .iter()
        .filter_map(|i| match i {
            Issue::Symlink { path }
            | Issue::EscapingSymlink { path, .. }
            | Issue::NotRegular { path } => Some(path.clone()),
            _ => None,
        })
        .collect();
    problems.extend(actual.issues.iter().cloned().map(Problem::Refused));
    problems.extend(compare(
        &signed,
        &actual.manifest,
        &actual.files,
        &refused,
        opts,
    ));
    problems.sort_by_key(Problem::path);
    Ok(Report {
        files_checked: actual.files.len(),
        signed,
        signer: signed_by,
        problems,
    })
}

/// Per-file comparison of the signed and the actual manifest.
fn compare(
    signed: &Manifest,
    actual: &Manifest,
    files: &BTreeMap<RelPath, u64>,
    refused: &BTreeSet<RelPath>,
    opts: &VerifyOptions,
) -> Vec<Problem> {
    // Group resources by file.
    let group = |m: &'_ Manifest| -> BTreeMap<RelPath, Vec<(ItemKey, crate::manifest::Digest)>> {
        let mut g: BTreeMap<RelPath, Vec<_>> = BTreeMap::new();
        for (k, d) in m.items() {
            g.entry(k.path.clone()).or_default().push((k.clone(), *d));
        }
        g
    };
    let s = group(signed);
    let a = group(actual);
    let mut out = Vec::new();
    for (path, sres) in &s {
        if refused.contains(path) {
            continue; // already explained
        }
        let Some(ares) = a.get(path) else {
            let empty = files.get(path).is_some_and(|&n| n == 0);
            out.push(Problem::Missing {
                path: path.clone(),
                empty,
            });
            continue;
        };
        let size = files.get(path).copied().unwrap_or(0);
        match signed.serialization.method {
            Method::Files => {
                if sres.first().map(|x| x.1) != ares.first().map(|x| x.1) {
                    out.push(Problem::Modified {
                        path: path.clone(),
                        size,
                        shards: Vec::new(),
                    });
                }
            }
            Method::Shards { .. } => {
                let signed_len = sres
                    .iter()
                    .filter_map(|(k, _)| k.range.map(|r| r.1))
                    .max()
                    .unwrap_or(0);
                let amap: BTreeMap<_, _> = ares.iter().map(|(k, d)| (k.range, *d)).collect();
                let differing: Vec<(u64, u64)> = sres
                    .iter()
                    .filter(|(k, d)| amap.get(&k.range).is_some_and(|ad| ad != d))
                    .filter_map(|(k, _)| k.range)
                    .collect();
                if size < signed_len {
                    out.push(Problem::Truncated {
                        path: path.clone(),
                        signed: signed_len,
                        actual: size,
                    });
                } else if size > signed_len {
                    out.push(Problem::Grown {
                        path: path.clone(),
                        signed: signed_len,
                        actual: size,
                    });
                }
                let missing_ranges = sres.iter().any(|(k, _)| !amap.contains_key(&k.range));
                if !differing.is_empty() || (missing_ranges && size >= signed_len) {
                    out.push(Problem::Modified {
                        path: path.clone(),
                        size,
                        shards: differing,
                    });
                }
            }
        }
    }
    if !opts.ignore_unsigned_files {
        for path in a.keys() {
            if !s.contains_key(path) {
                out.push(Problem::Unsigned { path: path.clone() });
            }
        }
        // Empty files have no shard in the shards method, on either side:
        // as in the reference, they are neither signed nor extra.
    }
    out
}
