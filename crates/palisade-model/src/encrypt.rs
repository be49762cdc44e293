//! Encryption at rest in the age format (age-encryption.org/v1): to X25519
//! recipients, or with a passphrase (scrypt). Streaming: a weights file of
//! any size passes through a 64 KiB-chunked STREAM cipher with fixed
//! buffers. A folder is encrypted file by file (`name` becomes
//! `name.age`), so shards can be fetched and decrypted independently.
//!
//! Outputs are written to a temporary file beside the destination and
//! renamed when complete: a failed run leaves nothing half-written, and a
//! decrypted file is created readable by its owner only.

pub use age::secrecy::{ExposeSecret, SecretString};
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

/// How to encrypt.
#[non_exhaustive]
pub enum Lock {
    /// To these X25519 recipients (`age1...`); any one identity decrypts.
    Recipients(Vec<age::x25519::Recipient>),
    /// With a passphrase (scrypt, work factor tuned by age to about a second).
    Passphrase(SecretString),
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lock::Recipients(r) => write!(f, "Lock::Recipients({} recipients)", r.len()),
            Lock::Passphrase(_) => f.write_str("Lock::Passphrase(<redacted>)"),
        }
    }
}

/// How to decrypt.
#[non_exhaustive]
pub enum Unlock {
    /// X25519 identities (`AGE-SECRET-KEY-1...`), as in an age identity file.
    Identities(Vec<Box<dyn age::Identity>>),
    /// A passphrase.
    Passphrase(SecretString),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unlock::Identities(i) => write!(f, "Unlock::Identities({} identities)", i.len()),
            Unlock::Passphrase(_) => f.write_str("Unlock::Passphrase(<redacted>)"),
        }
    }
}

/// Encryption errors. Never include key material or passphrases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// File system errors.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A recipient string that is not an X25519 age recipient.
    #[error("not an age X25519 recipient (age1...): {0:?}")]
    Recipient(String),
    /// An identity file without usable identities.
    #[error("identity file: {0}")]
    Identity(String),
    /// No recipient given.
    #[error("no recipient given")]
    NoRecipient,
    /// The age layer failed (wrong key, tampered or truncated file...).
    #[error("{path}: {why}")]
    Age {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The file is passphrase-encrypted but identities were given, or the reverse.
    #[error("{path}: {why}")]
    WrongUnlock {
        /// The file.
        path: PathBuf,
        /// Which mismatch.
        why: &'static str,
    },
    /// Symlinks and special files are not encrypted.
    #[error("{0}: not a regular file or folder; refused")]
    NotRegular(PathBuf),
}

/// A new X25519 identity: the secret (`AGE-SECRET-KEY-1...`, for an
/// identity file or a Kubernetes Secret) and its public recipient (`age1...`).
pub fn generate_identity() -> (SecretString, String) {
    use age::secrecy::ExposeSecret as _;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    (
        SecretString::from(id.to_string().expose_secret().to_owned()),
        public,
    )
}

/// Parses recipients, one per line (`#` comments and blank lines skipped).
pub fn parse_recipients(text: &str) -> Result<Vec<age::x25519::Recipient>, CryptError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            age::x25519::Recipient::from_str(l)
                .map_err(|_| CryptError::Recipient(l.chars().take(80).collect()))
        })
        .collect()
}

/// Parses an age identity file.
pub fn parse_identities(text: &str) -> Result<Vec<Box<dyn age::Identity>>, CryptError> {
    let f = age::IdentityFile::from_buffer(text.as_bytes())
        .map_err(|e| CryptError::Identity(e.to_string()))?;
    let ids = f
        .into_identities()
        .map_err(|e| CryptError::Identity(e.to_string()))?;
    if ids.is_empty() {
        return Err(CryptError::Identity("no identity found".into()));
    }
    Ok(ids)
}

/// Encrypts a stream; returns the plaintext length.
pub fn encrypt_stream(
    input: &mut dyn Read,
    output: &mut dyn Write,
    lock: &Lock,
) -> Result<u64, CryptError> {
    let at = || PathBuf::from("<stream>");
    let enc = match lock {
        Lock::Recipients(r) if r.is_empty() => return Err(CryptError::NoRecipient),
        Lock::Recipients(r) => age::Encryptor::with_recipients(
            r.iter().map(|x| x as &dyn age::Recipient),
        )
        .map_err(|e| CryptError::Age {
            path: at(),
            why: e.to_string(),
        })?,
        Lock::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
    };
    let io_err = |source| CryptError::Io { path: at(), source };
    let mut w = enc.wrap_output(output).map_err(io_err)?;
    let n = io::copy(input, &mut w).map_err(io_err)?;
    w.finish().map_err(io_err)?;
    Ok(n)
}

/// Decrypts a stream; returns the plaintext length. A wrong key, a
/// tampered chunk or a truncated file is an error (age authenticates every
/// 64 KiB chunk and the end of the stream).
pub fn decrypt_stream(
    input: &mut dyn Read,
    output: &mut dyn Write,
    unlock: &Unlock,
) -> Result<u64, CryptError> {
    let at = || PathBuf::from("<stream>");
    let dec = age::Decryptor::new_buffered(BufReader::new(input)).map_err(|e| CryptError::Age {
        path: at(),
        why: e.to_string(),
    })?;
    let age_err = |e: age::DecryptError| CryptError::Age {
        path: at(),
        why: e.to_string(),
    };
    let mut r = match unlock {
        Unlock::Passphrase(p) => {
            if !dec.is_scrypt() {
                return Err(CryptError::WrongUnlock {
                    path: at(),
                    why: "encrypted to recipients: decrypt with an identity file",
                });
            }
            let id = age::scrypt::Identity::new(p.clone());
            dec.decrypt(std::iter::once(&id as &dyn age::Identity))
                .map_err(age_err)?
        }
        Unlock::Identities(ids) => {
            if dec.is_scrypt() {
                return Err(CryptError::WrongUnlock {
                    path: at(),
                    why: "encrypted with a passphrase: decrypt with --passphrase-file",
                });
            }
            dec.decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
                .map_err(age_err)?
        }
    };
    io::copy(&mut r, output).map_err(|source| CryptError::Io { path: at(), source })
}

fn with_path(e: CryptError, path: &Path) -> CryptError {
    match e {
        CryptError::Io { source, .. } => CryptError::Io {
            path: path.to_path_buf(),
            source,
        },
        CryptError::Age { why, .. } => CryptError::Age {
            path: path.to_path_buf(),
            why,
        },
        CryptError::WrongUnlock { why, .. } => CryptError::WrongUnlock {
            path: path.to_path_buf(),
            why,
        },
        other => other,
    }
}

/// Writes `dest` through a temporary file renamed into place on success.
fn atomically(
    dest: &Path,
    private: bool,
    f: impl FnOnce(&mut dyn Write) -> Result<u64, CryptError>,
) -> Result<u64, CryptError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let io_err = |source| CryptError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dest.with_file_name(format!(".{name}.palisade-tmp-{}", std::process::id()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(&tmp)
        .map_err(io_err)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let result = f(&mut w).and_then(|n| {
        w.flush().map_err(io_err)?;
        w.get_ref().sync_all().map_err(io_err)?;
        Ok(n)
    });
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, dest).map_err(io_err)?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// Plaintext bytes.
    pub bytes: u64,
}

fn open(path: &Path) -> Result<BufReader<File>, CryptError> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|source| CryptError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn walk_files(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), CryptError> {
    let rd = std::fs::read_dir(dir).map_err(|source| CryptError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in rd {
        let e = e.map_err(|source| CryptError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let ft = e.file_type().map_err(|source| CryptError::Io {
            path: e.path(),
            source,
        })?;
        let r = rel.join(e.file_name());
        if ft.is_dir() {
            walk_files(&e.path(), &r, out)?;
        } else if ft.is_file() {
            out.push(r);
        } else {
            return Err(CryptError::NotRegular(e.path()));
        }
    }
    Ok(())
}

fn mkdirs(p: &Path) -> Result<(), CryptError> {
    std::fs::create_dir_all(p).map_err(|source| CryptError::Io {
        path: p.to_path_buf(),
        source,
    })
}

/// Encrypts a file to `output`, or a folder into the folder `output`
/// (each `name` becomes `name.age`).
pub fn encrypt_path(input: &Path, output: &Path, lock: &Lock) -> Result<Summary, CryptError> {
    let meta = std::fs::symlink_metadata(input).map_err(|source| CryptError::Io {
        path: input.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        let n = atomically(output, false, |w| {
            encrypt_stream(&mut open(input)?, w, lock).map_err(|e| with_path(e, input))
        })?;
        return Ok(Summary { files: 1, bytes: n });
    }
    if !meta.is_dir() {
        return Err(CryptError::NotRegular(input.to_path_buf()));
    }
    let mut files = Vec::new();
    walk_files(input, Path::new(""), &mut files)?;
    files.sort();
    let mut s = Summary::default();
    for rel in files {
        let src = input.join(&rel);
        let mut name = rel.clone().into_os_string();
        name.push(".age");
        let dest = output.join(name);
        if let Some(parent) = dest.parent() {
            mkdirs(parent)?;
        }
        s.bytes += atomically(&dest, false, |w| {
            encrypt_stream(&mut open(&src)?, w, lock).map_err(|e| with_path(e, &src))
        })?;
        s.files += 1;
    }
    Ok(s)
}

/// Decrypts a file to `output`, or a folder of `.age` files into the
/// folder `output` (files without `.age` are skipped). Decrypted files are
/// created with mode 0600.
pub fn decrypt_path(input: &Path, output: &Path, unlock: &Unlock) -> Result<Summary, CryptError> {
    let meta = std::fs::symlink_metadata(input).map_err(|source| CryptError::Io {
        path: input.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        let n = atomically(output, true, |w| {
            decrypt_stream(&mut open(input)?, w, unlock).map_err(|e| with_path(e, input))
        })?;
        return Ok(Summary { files: 1, bytes: n });
    }
    if !meta.is_dir() {
        return Err(CryptError::NotRegular(input.to_path_buf()));
    }
    let mut files = Vec::new();
    walk_files(input, Path::new(""), &mut files)?;
    files.sort();
    let mut s = Summary::default();
    for rel in files {
        let Some(stem) = rel.to_str().and_then(|r| r.strip_suffix(".age")) else {
            continue;
        };
        let src = input.join(&rel);
        let dest = output.join(stem);
        if let Some(parent) = dest.parent() {
            mkdirs(parent)?;
        }
        s.bytes += atomically(&dest, true, |w| {
            decrypt_stream(&mut open(&src)?, w, unlock).map_err(|e| with_path(e, &src))
        })?;
        s.files += 1;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident() -> (age::x25519::Identity, age::x25519::Recipient) {
        let i = age::x25519::Identity::generate();
        let r = i.to_public();
        (i, r)
    }

    #[test]
    fn recipients_round_trip_and_wrong_identity_fails() {
        let (i, r) = ident();
        let (other, _) = ident();
        let data: Vec<u8> = (0..200_000u32).map(|x| (x % 251) as u8).collect();
        let mut enc = Vec::new();
        encrypt_stream(&mut &data[..], &mut enc, &Lock::Recipients(vec![r])).unwrap();
        assert!(enc.starts_with(b"age-encryption.org/v1\n"));
        let mut dec = Vec::new();
        decrypt_stream(
            &mut &enc[..],
            &mut dec,
            &Unlock::Identities(vec![Box::new(i)]),
        )
        .unwrap();
        assert_eq!(dec, data);
        let err = decrypt_stream(
            &mut &enc[..],
            &mut Vec::new(),
            &Unlock::Identities(vec![Box::new(other)]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("No matching keys"), "{err}");
    }

    #[test]
    fn tampered_and_truncated_ciphertexts_fail() {
        let (i, r) = ident();
        let data = vec![42u8; 150_000];
        let mut enc = Vec::new();
        encrypt_stream(&mut &data[..], &mut enc, &Lock::Recipients(vec![r])).unwrap();
        let unlock = Unlock::Identities(vec![Box::new(i)]);
        let mut bad = enc.clone();
        let at = bad.len() - 1000;
        bad[at] ^= 1;
        assert!(decrypt_stream(&mut &bad[..], &mut Vec::new(), &unlock).is_err());
        let cut = &enc[..enc.len() - 70_000];
        assert!(decrypt_stream(&mut &cut[..], &mut Vec::new(), &unlock).is_err());
        assert!(decrypt_stream(&mut &b"garbage"[..], &mut Vec::new(), &unlock).is_err());
    }

    #[test]
    fn passphrase_round_trip() {
        let data = b"weights".to_vec();
        let mut enc = Vec::new();
        let pw = SecretString::from("correct horse battery staple".to_owned());
        encrypt_stream(&mut &data[..], &mut enc, &Lock::Passphrase(pw.clone())).unwrap();
        let mut dec = Vec::new();
        decrypt_stream(&mut &enc[..], &mut dec, &Unlock::Passphrase(pw)).unwrap();
        assert_eq!(dec, data);
        let (i, _) = ident();
        let err = decrypt_stream(
            &mut &enc[..],
            &mut Vec::new(),
            &Unlock::Identities(vec![Box::new(i)]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("passphrase"), "{err}");
    }

    #[test]
    fn folders_round_trip_and_failures_leave_nothing() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let model = tmp.path().join("m");
        std::fs::create_dir_all(model.join("sub")).unwrap();
        std::fs::write(model.join("config.json"), b"{}").unwrap();
        std::fs::write(model.join("sub/model.safetensors"), vec![1u8; 100_000]).unwrap();
        let (i, r) = ident();
        let enc = tmp.path().join("enc");
        let s = encrypt_path(&model, &enc, &Lock::Recipients(vec![r])).unwrap();
        assert_eq!(
            s,
            Summary {
                files: 2,
                bytes: 100_002
            }
        );
        assert!(enc.join("sub/model.safetensors.age").is_file());
        let ids = parse_identities(&format!("# test\n{}\n", {
            use age::secrecy::ExposeSecret as _;
            i.to_string().expose_secret().to_owned()
        }))
        .unwrap();
        let out = tmp.path().join("out");
        decrypt_path(&enc, &out, &Unlock::Identities(ids)).unwrap();
        assert_eq!(
            std::fs::read(out.join("sub/model.safetensors")).unwrap(),
            vec![1u8; 100_000]
        );
        let mode = std::fs::metadata(out.join("config.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A wrong key leaves no partial output behind.
        let (other, _) = ident();
        let out2 = tmp.path().join("out2.bin");
        assert!(
            decrypt_path(
                &enc.join("config.json.age"),
                &out2,
                &Unlock::Identities(vec![Box::new(other)])
            )
            .is_err()
        );
        assert!(std::fs::read_dir(tmp.path()).unwrap().all(|e| {
            !e.unwrap()
                .file_name()
                .to_string_lossy()
                .contains("palisade-tmp")
        }));
        assert!(!out2.exists());
    }

    #[test]
    fn bad_recipients_rejected() {
        assert!(parse_recipients("age1notarecipient").is_err());
        assert!(parse_recipients("# only a comment\n").unwrap().is_empty());
    }
}
