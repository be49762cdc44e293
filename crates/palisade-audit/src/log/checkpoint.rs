//! Signed checkpoints: a C2SP `tlog-checkpoint` body (origin, tree size,
//! base64 root hash) in a C2SP `signed-note`, signed with Ed25519.
//!
//! Keys use the signed-note key encodings: the signer key
//! `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>` and the verifier key
//! `<name>+<id>+<base64(0x01 || public key)>`, where `<id>` is the first four
//! bytes of `SHA-256(name || "\n" || 0x01 || public key)` in hex. The
//! checkpoint's origin is the key's name.

use super::store::sync_dir;
use super::{CHECKPOINTS, Error, Log, Result, io};
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, VerifierList};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tlog_tiles::Checkpoint;

/// A signing key. Its `Debug` output never shows the secret.
pub struct Key {
    signer: StandardSigner,
    vkey: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("vkey", &self.vkey)
            .finish_non_exhaustive()
    }
}

/// Generates a new Ed25519 key pair named `name` (the log's origin, e.g.
/// `audit.example.com/prod`): `(signer key, verifier key)`.
pub fn generate_key(name: &str) -> Result<(String, String)> {
    if !signed_note::is_key_name_valid(name) {
        return Err(Error::Key(format!(
            "invalid key name {name:?}: it must be non-empty, without spaces or '+'"
        )));
    }
    Ok(signed_note::generate_key(&mut rand_core::OsRng, name))
}

impl Key {
    /// Reads a signer key (`PRIVATE+KEY+...`).
    pub fn from_skey(skey: &str) -> Result<Key> {
        let skey = skey.trim();
        let signer = StandardSigner::new(skey)
            .map_err(|e| Error::Key(format!("not a signed-note Ed25519 signer key: {e}")))?;
        // The verifier key: the part after PRIVATE+KEY+, with the public key.
        let seed = skey
            .splitn(5, '+')
            .nth(4)
            .and_then(decode_b64)
            .filter(|b| b.len() == 33 && b[0] == 1)
            .ok_or_else(|| Error::Key("not a signed-note Ed25519 signer key".into()))?;
        let mut s = [0u8; 32];
        s.copy_from_slice(&seed[1..]);
        let sk = ed25519_dalek::SigningKey::from_bytes(&s);
        let vkey = signed_note::new_ed25519_verifier_key(signer.name(), &sk.verifying_key());
        Ok(Key { signer, vkey })
    }

    /// The key's name: the origin of its checkpoints.
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key.
    pub fn vkey(&self) -> &str {
        &self.vkey
    }
}

/// A verifier list from verifier keys.
pub(crate) fn verifiers(vkeys: &[String]) -> Result<VerifierList> {
    let mut list: Vec<Box<dyn signed_note::Verifier>> = Vec::new();
    for v in vkeys {
        let ver = StandardVerifier::new(v.trim()).map_err(|e| {
            Error::Key(format!(
                "{:?} is not a signed-note verifier key: {e}",
                v.trim()
            ))
        })?;
        list.push(Box::new(ver));
    }
    Ok(VerifierList::new(list))
}

/// Minimal standard base64 decoding (signed-note keys).
fn decode_b64(s: &str) -> Option<Vec<u8>> {
    palisade_core::secrets::decode_base64(s)
}

impl Log {
    /// Signs a checkpoint of the whole log with `key`, stores it in
    /// `checkpoints/<size>` and returns the signed note.
    pub fn checkpoint(&self, key: &Key) -> Result<Vec<u8>> {
        let size = self.len();
        let root = self.root(size)?;
        let cp = Checkpoint::new(key.name(), size, root, "")
            .map_err(|e| Error::Checkpoint(e.to_string()))?;
        let mut note =
            Note::new(&cp.to_bytes(), &[]).map_err(|e| Error::Checkpoint(e.to_string()))?;
        note.add_sigs(&[&key.signer])
            .map_err(|e| Error::Checkpoint(e.to_string()))?;
        let bytes = note.to_bytes();
        write_atomic(&checkpoint_path(self.dir(), size), &bytes)?;
        Ok(bytes)
    }

    /// The latest checkpoint stored, if any: (size, signed note).
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>> {
        let Some((size, path)) = list_checkpoints(self.dir())?.pop() else {
            return Ok(None);
        };
        Ok(Some((size, std::fs::read(&path).map_err(io(&path))?)))
    }
}

/// The file of the checkpoint at `size`.
pub(crate) fn checkpoint_path(dir: &Path, size: u64) -> PathBuf {
    dir.join(CHECKPOINTS).join(format!("{size:020}"))
}

/// The checkpoint files, by size. Names that are not sizes are returned
/// with `u64::MAX` so verification reports them.
pub(crate) fn list_checkpoints(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let cdir = dir.join(CHECKPOINTS);
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(&cdir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(&cdir)(e)),
    };
    for ent in rd {
        let ent = ent.map_err(io(&cdir))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        out.push((name.parse().unwrap_or(u64::MAX), ent.path()));
    }
    out.sort();
    Ok(out)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)
}
