//! Audit records of lifecycle actions. A record names the Secret, the
//! version and the keys, and carries a keyed hash (HMAC-SHA256) of each new
//! value, never the value: with the audit key one can check that a value is
//! the one written (or spot the same value in two Secrets); without it the
//! hash says nothing about the value, even a short password.

use crate::generate::SecretBytes;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq as _;

/// The key of the keyed hashes (at least 32 bytes).
#[derive(Clone)]
pub struct AuditKey(SecretBytes);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

/// Why an audit key is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Too short to be a key.
    #[error("the audit key has {0} bytes; it needs at least 32 (e.g. `head -c 32 /dev/urandom`)")]
    TooShort(usize),
}

impl AuditKey {
    /// A key from bytes (a file's contents, verbatim).
    pub fn new(b: &[u8]) -> Result<Self, KeyError> {
        if b.len() < 32 {
            return Err(KeyError::TooShort(b.len()));
        }
        Ok(Self(SecretBytes::new(b.to_vec())))
    }

    /// A fresh random key (for dry runs: hashes are not comparable across runs).
    pub fn ephemeral() -> Self {
        Self(crate::generate::bytes(32))
    }

    /// `hmac-sha256:<hex>` of a value.
    pub fn hash(&self, value: &[u8]) -> String {
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(self.0.expose()) else {
            return String::new();
        };
        m.update(value);
        format!("hmac-sha256:{}", hex::encode(m.finalize().into_bytes()))
    }

    /// Whether `hash` is the keyed hash of `value` (constant time).
    pub fn verify(&self, value: &[u8], hash: &str) -> bool {
        self.hash(value).as_bytes().ct_eq(hash.as_bytes()).into()
    }
}

/// One audit record (one JSON line).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// `palisade.secrets.audit/1`.
    pub schema: &'static str,
    /// RFC 3339.
    pub time: String,
    /// `rotate`, `expire-previous` or `rollout`.
    pub action: String,
    /// `Secret/namespace/name` or `Kind/namespace/name`.
    pub object: String,
    /// The rotation version (0 when not a rotation).
    #[serde(skip_serializing_if = "is_zero")]
    pub version: u64,
    /// The generator, described.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub generator: String,
    /// Key name to keyed hash of its new value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    /// Free text (previous values kept until..., secrets that changed).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Who acted (controller identity or `palisade secrets rotate`).
    pub actor: String,
    /// `applied`, `planned` or `failed: ...`.
    pub outcome: String,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl AuditRecord {
    /// A record with the given keyed hashes of `values`.
    pub fn hashes_of(
        key: &AuditKey,
        values: &BTreeMap<String, SecretBytes>,
    ) -> BTreeMap<String, String> {
        values
            .iter()
            .map(|(k, v)| (k.clone(), key.hash(v.expose())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keyed_hash_is_hmac_sha256_and_verifies() {
        // Checked against Python's hmac.new(b"\x0b" * 32, b"Hi There", sha256).
        let key = AuditKey::new(&[0x0b; 32]).unwrap();
        let h = key.hash(b"Hi There");
        assert_eq!(
            h,
            "hmac-sha256:198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
        assert!(key.verify(b"Hi There", &h));
        assert!(!key.verify(b"Hi there", &h));
        assert_eq!(
            AuditKey::new(b"short\n").unwrap_err(),
            KeyError::TooShort(6)
        );
        assert_eq!(format!("{key:?}"), "AuditKey(<redacted>)");
        let other = AuditKey::new(&[0x0c; 32]).unwrap();
        assert_ne!(other.hash(b"Hi There"), h);
    }
}
