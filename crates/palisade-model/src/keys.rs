//! ECDSA keys for model signing: P-256 with SHA-256 and P-384 with SHA-384,
//! as the reference pairs them. Private keys are read from PEM: PKCS#8
//! (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2 with
//! PBKDF2 or scrypt and AES) and SEC1 (`EC PRIVATE KEY`). Public keys are
//! SubjectPublicKeyInfo PEM. Signatures are DER, as `cryptography` writes.

use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use sha2::Digest as _;

/// A private signing key.
#[derive(Clone)]
#[non_exhaustive]
pub enum SigningKey {
    /// NIST P-256, signs with SHA-256.
    P256(p256::ecdsa::SigningKey),
    /// NIST P-384, signs with SHA-384.
    P384(p384::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(
            f,
            "SigningKey({}, public {})",
            self.curve(),
            self.public().hint()
        )
    }
}

/// A public verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
}

/// Key errors. Messages never include key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not PEM, or an unexpected PEM label.
    #[error("not a PEM {want}: {why}")]
    Pem {
        /// What was expected.
        want: &'static str,
        /// What went wrong.
        why: String,
    },
    /// The key is encrypted and no password was given.
    #[error(
        "the private key is encrypted: give its password (--password-file or PALISADE_KEY_PASSWORD)"
    )]
    NeedPassword,
    /// Wrong password or unsupported encryption scheme.
    #[error(
        "cannot decrypt the private key (wrong password or unsupported scheme: PBES2 with PBKDF2/scrypt and AES is supported)"
    )]
    Decrypt,
    /// A legacy OpenSSL-encrypted SEC1 key.
    #[error(
        "legacy OpenSSL-encrypted EC keys (Proc-Type: 4,ENCRYPTED) are not supported; convert with `openssl pkcs8 -topk8`"
    )]
    LegacyEncrypted,
    /// A curve or algorithm other than P-256 and P-384.
    #[error("unsupported key: {0} (ECDSA P-256 and P-384 are supported)")]
    Unsupported(String),
    /// A malformed DER signature.
    #[error("malformed signature: not a DER ECDSA signature")]
    MalformedSignature,
    /// The signature does not verify.
    #[error("signature does not verify with this key")]
    BadSignature,
}

fn pem_label(pem: &str) -> Option<&str> {
    let start = pem.find("-----BEGIN ")? + "-----BEGIN ".len();
    let rest = &pem[start..];
    let end = rest.find("-----")?;
    Some(&rest[..end])
}

impl SigningKey {
    /// Reads a PEM private key; `password` decrypts an encrypted PKCS#8 key.
    pub fn from_pem(pem: &str, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let label = pem_label(pem).ok_or_else(|| KeyError::Pem {
            want: "private key",
            why: "no -----BEGIN line".into(),
        })?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_pem(pem),
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or(KeyError::NeedPassword)?;
                let (_, doc) = der::SecretDocument::from_pem(pem).map_err(|e| KeyError::Pem {
                    want: "private key",
                    why: e.to_string(),
                })?;
                let enc =
                    pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(|e| {
                        KeyError::Pem {
                            want: "encrypted private key",
                            why: e.to_string(),
                        }
                    })?;
                let plain = enc.decrypt(password).map_err(|_| KeyError::Decrypt)?;
                Self::from_pkcs8_der(plain.as_bytes())
            }
            "EC PRIVATE KEY" => {
                if pem.contains("Proc-Type: 4,ENCRYPTED") {
                    return Err(KeyError::LegacyEncrypted);
                }
                if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
                    return Ok(SigningKey::P256(k.into()));
                }
                if let Ok(k) = p384::SecretKey::from_sec1_pem(pem) {
                    return Ok(SigningKey::P384(k.into()));
                }
                Err(KeyError::Unsupported("SEC1 key on another curve".into()))
            }
            other => Err(KeyError::Pem {
                want: "private key",
                why: format!("unexpected PEM label {other:?}"),
            }),
        }
    }

    fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let (_, doc) = der::SecretDocument::from_pem(pem).map_err(|e| KeyError::Pem {
            want: "private key",
            why: e.to_string(),
        })?;
        Self::from_pkcs8_der(doc.as_bytes())
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(SigningKey::P256(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
            return Ok(SigningKey::P384(k.into()));
        }
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| KeyError::Pem {
            want: "private key",
            why: e.to_string(),
        })?;
        Err(KeyError::Unsupported(describe_alg(
            info.algorithm.oid,
            info.algorithm.parameters_oid().ok(),
        )))
    }

    /// A new random key on P-256 (`p384 == false`) or P-384.
    pub fn generate(p384: bool) -> Self {
        let mut rng = rand_core::OsRng;
        if p384 {
            SigningKey::P384(p384::ecdsa::SigningKey::random(&mut rng))
        } else {
            SigningKey::P256(p256::ecdsa::SigningKey::random(&mut rng))
        }
    }

    /// The key as unencrypted PKCS#8 PEM (LF line endings). Secret: write
    /// it to a file only the owner can read.
    pub fn to_pkcs8_pem(&self) -> Result<der::zeroize::Zeroizing<String>, KeyError> {
        use p256::pkcs8::EncodePrivateKey as _;
        let r = match self {
            SigningKey::P256(k) => k.to_pkcs8_pem(pkcs8::LineEnding::LF),
            SigningKey::P384(k) => k.to_pkcs8_pem(pkcs8::LineEnding::LF),
        };
        r.map_err(|e| KeyError::Pem {
            want: "private key",
            why: e.to_string(),
        })
    }

    /// The curve's name.
    pub fn curve(&self) -> &'static str {
        match self {
            SigningKey::P256(_) => "P-256",
            SigningKey::P384(_) => "P-384",
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => PublicKey::P384(*k.verifying_key()),
        }
    }

    /// Signs `msg` (hashing it with the curve's hash); DER signature.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            SigningKey::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
        }
    }
}

fn describe_alg(
    oid: der::oid::ObjectIdentifier,
    param: Option<der::oid::ObjectIdentifier>,
) -> String {
    const EC: &str = "1.2.840.10045.2.1";
    const P521: &str = "1.3.132.0.35";
    const RSA: &str = "1.2.840.113549.1.1.1";
    const ED25519: &str = "1.3.101.112";
    match (oid.to_string().as_str(), param.map(|p| p.to_string())) {
        (EC, Some(p)) if p == P521 => "ECDSA P-521".into(),
        (EC, Some(p)) => format!("EC key on curve {p}"),
        (RSA, _) => "RSA".into(),
        (ED25519, _) => "Ed25519".into(),
        (o, _) => format!("algorithm {o}"),
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo PEM (`PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        match pem_label(pem) {
            Some("PUBLIC KEY") => {}
            Some(other) => {
                return Err(KeyError::Pem {
                    want: "public key",
                    why: format!("unexpected PEM label {other:?}"),
                });
            }
            None => {
                return Err(KeyError::Pem {
                    want: "public key",
                    why: "no -----BEGIN line".into(),
                });
            }
        }
        let (_, doc) = der::Document::from_pem(pem).map_err(|e| KeyError::Pem {
            want: "public key",
            why: e.to_string(),
        })?;
        Self::from_spki_der(doc.as_bytes())
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k.into()));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k.into()));
        }
        let info = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|e| KeyError::Pem {
            want: "public key",
            why: e.to_string(),
        })?;
        Err(KeyError::Unsupported(describe_alg(
            info.algorithm.oid,
            info.algorithm.parameters_oid().ok(),
        )))
    }

    /// The SubjectPublicKeyInfo PEM with LF line endings, byte for byte as
    /// Python `cryptography` writes it.
    pub fn to_pem(&self) -> String {
        let r = match self {
            PublicKey::P256(k) => {
                p256::PublicKey::from(k).to_public_key_pem(spki::der::pem::LineEnding::LF)
            }
            PublicKey::P384(k) => {
                p384::PublicKey::from(k).to_public_key_pem(spki::der::pem::LineEnding::LF)
            }
        };
        r.unwrap_or_default()
    }

    /// The key hint the reference records in `verificationMaterial.publicKey.hint`:
    /// hex SHA-256 of the PEM encoding.
    pub fn hint(&self) -> String {
        hex::encode(sha2::Sha256::digest(self.to_pem().as_bytes()))
    }

    /// The curve's name.
    pub fn curve(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "P-256",
            PublicKey::P384(_) => "P-384",
        }
    }

    /// Verifies a DER signature over `msg` (hashed with the curve's hash).
    pub fn verify(&self, msg: &[u8], sig_der: &[u8]) -> Result<(), KeyError> {
        use p256::ecdsa::signature::Verifier as _;
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig_der)
                    .map_err(|_| KeyError::MalformedSignature)?;
                k.verify(msg, &s).map_err(|_| KeyError::BadSignature)
            }
            PublicKey::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig_der)
                    .map_err(|_| KeyError::MalformedSignature)?;
                k.verify(msg, &s).map_err(|_| KeyError::BadSignature)
            }
        }
    }

    /// Verifies a DER signature over an already computed digest (for
    /// certificate signatures, whose hash is named by the certificate).
    pub fn verify_prehash(&self, digest: &[u8], sig_der: &[u8]) -> Result<(), KeyError> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        match self {
            PublicKey::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig_der)
                    .map_err(|_| KeyError::MalformedSignature)?;
                k.verify_prehash(digest, &s)
                    .map_err(|_| KeyError::BadSignature)
            }
            PublicKey::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig_der)
                    .map_err(|_| KeyError::MalformedSignature)?;
                k.verify_prehash(digest, &s)
                    .map_err(|_| KeyError::BadSignature)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::EncodePrivateKey as _;

    #[test]
    fn pkcs8_sec1_and_encrypted_keys_load_and_sign() {
        let sk = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let pkcs8 = sk.to_pkcs8_pem(pkcs8::LineEnding::LF).unwrap();
        let sec1 = sk.to_sec1_pem(pkcs8::LineEnding::LF).unwrap();
        // Cheap PBKDF2 parameters: the scheme is what is tested, not the cost.
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &[1u8; 16], &[2u8; 16])
                .unwrap();
        let der = sk.to_pkcs8_der().unwrap();
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).unwrap();
        let enc = info
            .encrypt_with_params(params, b"hunter2")
            .unwrap()
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .unwrap();
        let a = SigningKey::from_pem(&pkcs8, None).unwrap();
        let b = SigningKey::from_pem(&sec1, None).unwrap();
        assert!(matches!(
            SigningKey::from_pem(&enc, None),
            Err(KeyError::NeedPassword)
        ));
        assert!(matches!(
            SigningKey::from_pem(&enc, Some(b"wrong")),
            Err(KeyError::Decrypt)
        ));
        let c = SigningKey::from_pem(&enc, Some(b"hunter2")).unwrap();
        assert_eq!(a.public(), b.public());
        assert_eq!(a.public(), c.public());
        let sig = c.sign(b"msg");
        a.public().verify(b"msg", &sig).unwrap();
        assert!(a.public().verify(b"msh", &sig).is_err());
        let back = PublicKey::from_pem(&a.public().to_pem()).unwrap();
        assert_eq!(back, a.public());
        assert!(!format!("{a:?}").contains(&hex::encode([7u8; 32])));
    }

    #[test]
    fn p384_signs_with_sha384() {
        let sk = p384::SecretKey::from_slice(&[9u8; 48]).unwrap();
        let k =
            SigningKey::from_pem(&sk.to_pkcs8_pem(pkcs8::LineEnding::LF).unwrap(), None).unwrap();
        assert_eq!(k.curve(), "P-384");
        let sig = k.sign(b"m");
        let digest = sha2::Sha384::digest(b"m");
        k.public().verify_prehash(&digest, &sig).unwrap();
    }
}
