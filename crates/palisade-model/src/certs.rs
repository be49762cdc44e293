//! X.509 chains for the certificate method: the leaf must be allowed to
//! sign (keyUsage digitalSignature, or extendedKeyUsage codeSigning, as the
//! reference requires), each issuer must be a CA whose signature over the
//! certificate below verifies, validity periods must hold, and the path
//! must end at a trust anchor. Unknown critical extensions are refused.
//!
//! As the reference does, verification checks validity at the leaf's
//! `notBefore` (the latest time the signature can have been made by a
//! currently valid leaf); signing checks it now. Certificate signatures
//! are ECDSA (P-256/P-384 with SHA-256/384/512); RSA-signed chains are
//! refused with a clear error.

use crate::keys::{PublicKey, SigningKey};
use der::{Decode as _, Encode as _};
use sha2::Digest as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SAN: &str = "2.5.29.17";
const OID_SKI: &str = "2.5.29.14";
const OID_AKI: &str = "2.5.29.35";
const OID_POLICIES: &str = "2.5.29.32";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
/// Longest path accepted (leaf, intermediates, anchor).
const MAX_DEPTH: usize = 8;

/// Certificate problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// Not a DER/PEM certificate.
    #[error("certificate {index}: cannot parse: {why}")]
    Parse {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Why.
        why: String,
    },
    /// The leaf's key is not usable for the DSSE signature.
    #[error("signing certificate key: {0}")]
    Key(String),
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the signing certificate's public key")]
    KeyMismatch,
    /// The leaf may not sign.
    #[error(
        "signing certificate {0} cannot be used for signing (needs keyUsage digitalSignature or extendedKeyUsage codeSigning)"
    )]
    Usage(String),
    /// Outside its validity period.
    #[error("certificate {subject} is not valid at {at} (valid {not_before} to {not_after})")]
    Expired {
        /// Subject.
        subject: String,
        /// The time checked (Unix seconds).
        at: u64,
        /// Unix seconds.
        not_before: u64,
        /// Unix seconds.
        not_after: u64,
    },
    /// An issuer that is not a CA, or may not sign certificates.
    #[error(
        "certificate {0} issues certificates but is not a CA (basicConstraints cA, keyUsage keyCertSign)"
    )]
    NotCa(String),
    /// Path too long for an issuer's pathLenConstraint.
    #[error("certificate {0}: path length constraint exceeded")]
    PathLen(String),
    /// An extension marked critical that is not understood.
    #[error("certificate {subject} has an unsupported critical extension {oid}")]
    CriticalExtension {
        /// Subject.
        subject: String,
        /// The extension.
        oid: String,
    },
    /// A certificate signed with RSA or another algorithm.
    #[error("certificate {subject} is signed with {alg}; only ECDSA-signed chains are supported")]
    Algorithm {
        /// Subject.
        subject: String,
        /// The algorithm OID.
        alg: String,
    },
    /// No path to a trust anchor.
    #[error("certificate chain of {0} does not lead to a trusted root")]
    Untrusted(String),
    /// No trust anchor given.
    #[error("no trusted root certificate given")]
    NoRoots,
}

/// The validated signer.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The leaf's public key.
    pub key: PublicKey,
    /// The leaf's subject (RFC 4514).
    pub subject: String,
}

struct Cert {
    der: Vec<u8>,
    x509: Certificate,
    subject: String,
}

fn parse(index: usize, der: &[u8]) -> Result<Cert, CertError> {
    let cert = Certificate::from_der(der).map_err(|e| CertError::Parse {
        index,
        why: e.to_string(),
    })?;
    let subject = cert.tbs_certificate.subject.to_string();
    Ok(Cert {
        der: der.to_vec(),
        x509: cert,
        subject,
    })
}

/// Reads every certificate of a PEM file (a chain or a bundle of roots), as DER.
pub fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, CertError> {
    let certs = Certificate::load_pem_chain(pem.as_bytes()).map_err(|e| CertError::Parse {
        index: 0,
        why: e.to_string(),
    })?;
    certs
        .iter()
        .enumerate()
        .map(|(index, c)| {
            c.to_der().map_err(|e| CertError::Parse {
                index,
                why: e.to_string(),
            })
        })
        .collect()
}

fn unix(t: x509_cert::time::Time) -> u64 {
    t.to_unix_duration().as_secs()
}

fn spki_key(c: &Cert) -> Result<PublicKey, CertError> {
    let spki = c
        .x509
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| CertError::Key(e.to_string()))?;
    PublicKey::from_spki_der(&spki).map_err(|e| CertError::Key(e.to_string()))
}

struct Exts {
    ca: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    eku: Option<ExtendedKeyUsage>,
}

fn extensions(c: &Cert) -> Result<Exts, CertError> {
    let mut out = Exts {
        ca: None,
        key_usage: None,
        eku: None,
    };
    let bad = |why: String| CertError::Parse { index: 0, why };
    for ext in c.x509.tbs_certificate.extensions.iter().flatten() {
        let oid = ext.extn_id.to_string();
        let val = ext.extn_value.as_bytes();
        match oid.as_str() {
            OID_BASIC_CONSTRAINTS => {
                out.ca = Some(BasicConstraints::from_der(val).map_err(|e| bad(e.to_string()))?);
            }
            OID_KEY_USAGE => {
                out.key_usage = Some(KeyUsage::from_der(val).map_err(|e| bad(e.to_string()))?);
            }
            OID_EXT_KEY_USAGE => {
                out.eku = Some(ExtendedKeyUsage::from_der(val).map_err(|e| bad(e.to_string()))?);
            }
            OID_SAN | OID_SKI | OID_AKI | OID_POLICIES => {}
            _ if ext.critical => {
                return Err(CertError::CriticalExtension {
                    subject: c.subject.clone(),
                    oid,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

fn check_time(c: &Cert, at: u64) -> Result<(), CertError> {
    let v = &c.x509.tbs_certificate.validity;
    let (nb, na) = (unix(v.not_before), unix(v.not_after));
    if at < nb || at > na {
        return Err(CertError::Expired {
            subject: c.subject.clone(),
            at,
            not_before: nb,
            not_after: na,
        });
    }
    Ok(())
}

/// Whether `issuer` signed `child`.
fn signed_by(child: &Cert, issuer: &Cert) -> Result<bool, CertError> {
    if child.x509.tbs_certificate.issuer != issuer.x509.tbs_certificate.subject {
        return Ok(false);
    }
    let alg = child.x509.signature_algorithm.oid.to_string();
    let tbs = child
        .x509
        .tbs_certificate
        .to_der()
        .map_err(|e| CertError::Key(e.to_string()))?;
    let digest: Vec<u8> = match alg.as_str() {
        OID_ECDSA_SHA256 => sha2::Sha256::digest(&tbs).to_vec(),
        OID_ECDSA_SHA384 => sha2::Sha384::digest(&tbs).to_vec(),
        OID_ECDSA_SHA512 => sha2::Sha512::digest(&tbs).to_vec(),
        _ => {
            return Err(CertError::Algorithm {
                subject: child.subject.clone(),
                alg,
            });
        }
    };
    let Ok(key) = spki_key(issuer) else {
        return Ok(false);
    };
    let Some(sig) = child.x509.signature.as_bytes() else {
        return Ok(false);
    };
    Ok(key.verify_prehash(&digest, sig).is_ok())
}

fn check_issuer(c: &Cert, below: usize, at: u64) -> Result<(), CertError> {
    let ex = extensions(c)?;
    let Some(bc) = ex.ca.filter(|bc| bc.ca) else {
        return Err(CertError::NotCa(c.subject.clone()));
    };
    if ex
        .key_usage
        .is_some_and(|ku| !ku.0.contains(KeyUsages::KeyCertSign))
    {
        return Err(CertError::NotCa(c.subject.clone()));
    }
    if bc
        .path_len_constraint
        .is_some_and(|n| below > usize::from(n))
    {
        return Err(CertError::PathLen(c.subject.clone()));
    }
    check_time(c, at)
}

fn check_leaf(c: &Cert, at: u64) -> Result<PublicKey, CertError> {
    let ex = extensions(c)?;
    let signing = ex
        .key_usage
        .is_some_and(|ku| ku.0.contains(KeyUsages::DigitalSignature))
        || ex
            .eku
            .as_ref()
            .is_some_and(|eku| eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING));
    if !signing {
        return Err(CertError::Usage(c.subject.clone()));
    }
    check_time(c, at)?;
    spki_key(c)
}

fn validate(chain: &[Vec<u8>], anchors: &[Vec<u8>], at: u64) -> Result<Leaf, CertError> {
    let certs: Vec<Cert> = chain
        .iter()
        .enumerate()
        .map(|(i, d)| parse(i, d))
        .collect::<Result<_, _>>()?;
    let anchors: Vec<Cert> = anchors
        .iter()
        .enumerate()
        .map(|(i, d)| parse(i, d))
        .collect::<Result<_, _>>()?;
    if anchors.is_empty() {
        return Err(CertError::NoRoots);
    }
    let leaf = certs.first().ok_or(CertError::Parse {
        index: 0,
        why: "empty chain".into(),
    })?;
    let key = check_leaf(leaf, at)?;
    let mut cur = leaf;
    let mut used = vec![false; certs.len()];
    used[0] = true;
    for below in 0..MAX_DEPTH {
        if anchors.iter().any(|a| a.der == cur.der) {
            return Ok(Leaf {
                key,
                subject: leaf.subject.clone(),
            });
        }
        for a in &anchors {
            if signed_by(cur, a)? {
                check_issuer(a, below, at)?;
                return Ok(Leaf {
                    key,
                    subject: leaf.subject.clone(),
                });
            }
        }
        let mut next = None;
        for (i, c) in certs.iter().enumerate() {
            if !used[i] && signed_by(cur, c)? {
                check_issuer(c, below, at)?;
                next = Some(i);
                break;
            }
        }
        let Some(i) = next else { break };
        used[i] = true;
        cur = &certs[i];
    }
    Err(CertError::Untrusted(leaf.subject.clone()))
}

/// Checks a chain (leaf first) before signing: the key belongs to the leaf,
/// the leaf may sign, and the chain leads, valid now, to a self-signed root
/// among the given certificates.
pub fn validate_for_signing(
    key: &SigningKey,
    chain: &[Vec<u8>],
    now: SystemTime,
) -> Result<Leaf, CertError> {
    let leaf_der = chain.first().ok_or(CertError::Parse {
        index: 0,
        why: "empty chain".into(),
    })?;
    let leaf = parse(0, leaf_der)?;
    if spki_key(&leaf)? != key.public() {
        return Err(CertError::KeyMismatch);
    }
    let mut roots = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        let c = parse(i, der)?;
        if i > 0 && signed_by(&c, &c).unwrap_or(false) {
            roots.push(der.clone());
        }
    }
    if roots.is_empty() {
        return Err(CertError::Untrusted(format!(
            "{} (give the root certificate with --certificate-chain)",
            leaf.subject
        )));
    }
    let at = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    validate(chain, &roots, at)
}

/// Checks the bundle's chain against the verifier's trust anchors, at the
/// leaf's `notBefore` as the reference does.
pub fn validate_for_verification(chain: &[Vec<u8>], roots: &[Vec<u8>]) -> Result<Leaf, CertError> {
    let leaf_der = chain.first().ok_or(CertError::Parse {
        index: 0,
        why: "empty chain".into(),
    })?;
    let leaf = parse(0, leaf_der)?;
    let at = unix(leaf.x509.tbs_certificate.validity.not_before);
    validate(chain, roots, at)
}
