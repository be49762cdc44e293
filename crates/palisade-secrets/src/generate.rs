//! Making new secret values: passwords, random bytes, Ed25519 and ECDSA
//! P-256 key pairs (PKCS#8 / SPKI PEM), and X.509 certificates (rcgen on
//! ring), self-signed or issued by a CA held in another Secret.
//!
//! Values live in [`SecretBytes`], which never prints its contents and is
//! wiped when dropped.

use crate::policy::{Generator, KeyAlgorithm, X509Spec};
use rand_core::{OsRng, RngCore};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A secret value: prints as `<redacted N bytes>`, zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The bytes, for writing them to the API server and nowhere else.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The length.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<redacted {} bytes>", self.0.len())
    }
}

/// The CA that issues a certificate: its PEM certificate and PKCS#8 key.
#[derive(Debug, Clone)]
pub struct CaMaterial {
    /// `tls.crt`.
    pub cert_pem: SecretBytes,
    /// `tls.key`.
    pub key_pem: SecretBytes,
}

/// Why a value could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The generator needs a CA and none was given.
    #[error("the generator needs the issuing CA Secret {0}, which was not provided")]
    NoCa(String),
    /// The CA's certificate or key does not parse (no details: they are secret).
    #[error("the issuing CA's tls.crt or tls.key is not a usable PEM certificate and PKCS#8 key")]
    BadCa,
    /// Key or certificate generation failed.
    #[error("key or certificate generation failed: {0}")]
    Crypto(String),
}

/// A password of `length` characters drawn uniformly from `alphabet`
/// (rejection sampling over OS randomness, no modulo bias).
pub fn password(length: usize, alphabet: &[u8]) -> SecretBytes {
    let n = alphabet.len().clamp(1, 256);
    // Largest multiple of n that fits a byte: bytes at or above are redrawn.
    let limit = 256 - (256 % n);
    let mut out = Vec::with_capacity(length);
    let mut buf = Zeroizing::new([0u8; 64]);
    while out.len() < length {
        OsRng.fill_bytes(&mut buf[..]);
        for &b in buf.iter() {
            if (b as usize) < limit && out.len() < length {
                out.push(alphabet[b as usize % n]);
            }
        }
    }
    SecretBytes::new(out)
}

/// `length` random bytes.
pub fn bytes(length: usize) -> SecretBytes {
    let mut v = vec![0u8; length];
    OsRng.fill_bytes(&mut v);
    SecretBytes::new(v)
}

fn key_pair_pem(alg: KeyAlgorithm) -> Result<(SecretBytes, SecretBytes), GenerateError> {
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let crypto = |e: &dyn std::fmt::Display| GenerateError::Crypto(e.to_string());
    let le = ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF;
    match alg {
        KeyAlgorithm::Ed25519 => {
            let sk = ed25519_dalek::SigningKey::generate(&mut OsRng);
            let private = sk.to_pkcs8_pem(le).map_err(|e| crypto(&e))?;
            let public = sk
                .verifying_key()
                .to_public_key_pem(le)
                .map_err(|e| crypto(&e))?;
            Ok((
                SecretBytes::new(private.as_bytes().to_vec()),
                SecretBytes::new(public.into_bytes()),
            ))
        }
        KeyAlgorithm::EcdsaP256 => {
            use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
            let sk = p256::SecretKey::random(&mut OsRng);
            let private = sk.to_pkcs8_pem(le).map_err(|e| crypto(&e))?;
            let public = sk
                .public_key()
                .to_public_key_pem(le)
                .map_err(|e| crypto(&e))?;
            Ok((
                SecretBytes::new(private.as_bytes().to_vec()),
                SecretBytes::new(public.into_bytes()),
            ))
        }
    }
}

fn x509(
    x: &X509Spec,
    now: OffsetDateTime,
    ca: Option<&CaMaterial>,
) -> Result<BTreeMap<String, SecretBytes>, GenerateError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        PKCS_ECDSA_P256_SHA256, PKCS_ED25519, SanType,
    };
    let crypto = |e: rcgen::Error| GenerateError::Crypto(e.to_string());
    let alg = match x.key {
        KeyAlgorithm::EcdsaP256 => &PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ed25519 => &PKCS_ED25519,
    };
    let key = KeyPair::generate_for(alg).map_err(crypto)?;
    let mut params = CertificateParams::new(x.dns.clone()).map_err(crypto)?;
    for ip in &x.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params
        .distinguished_name
        .push(DnType::CommonName, x.common_name.clone());
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(x.days));
    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    if x.ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    } else {
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
    }
    params.use_authority_key_identifier_extension = x.issuer.is_some();
    let mut out = BTreeMap::new();
    let cert_pem = match (&x.issuer, ca) {
        (None, _) => params.self_signed(&key).map_err(crypto)?.pem(),
        (Some((ns, n)), None) => {
            return Err(GenerateError::NoCa(if ns.is_empty() {
                n.clone()
            } else {
                format!("{ns}/{n}")
            }));
        }
        (Some(_), Some(ca)) => {
            let ca_key_pem =
                std::str::from_utf8(ca.key_pem.expose()).map_err(|_| GenerateError::BadCa)?;
            let ca_cert_pem =
                std::str::from_utf8(ca.cert_pem.expose()).map_err(|_| GenerateError::BadCa)?;
            let ca_key = KeyPair::from_pem(ca_key_pem).map_err(|_| GenerateError::BadCa)?;
            let issuer =
                Issuer::from_ca_cert_pem(ca_cert_pem, ca_key).map_err(|_| GenerateError::BadCa)?;
            out.insert("ca.crt".to_owned(), ca.cert_pem.clone());
            params.signed_by(&key, &issuer).map_err(crypto)?.pem()
        }
    };
    out.insert(
        "tls.crt".to_owned(),
        SecretBytes::new(cert_pem.into_bytes()),
    );
    out.insert(
        "tls.key".to_owned(),
        SecretBytes::new(key.serialize_pem().into_bytes()),
    );
    Ok(out)
}

/// Makes the new values of a generator: Secret key to value.
pub fn generate(
    g: &Generator,
    now: OffsetDateTime,
    ca: Option<&CaMaterial>,
) -> Result<BTreeMap<String, SecretBytes>, GenerateError> {
    let mut out = BTreeMap::new();
    match g {
        Generator::Password {
            length,
            alphabet,
            key,
        } => {
            out.insert(key.clone(), password(*length, &alphabet.0));
        }
        Generator::Bytes { length, key } => {
            out.insert(key.clone(), bytes(*length));
        }
        Generator::KeyPair {
            algorithm,
            private,
            public,
        } => {
            let (sk, pk) = key_pair_pem(*algorithm)?;
            out.insert(private.clone(), sk);
            out.insert(public.clone(), pk);
        }
        Generator::X509(x) => return x509(x, now, ca),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::policy::parse_generator;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn passwords_use_only_the_alphabet_and_differ() {
        let a = password(64, b"ab");
        assert_eq!(a.len(), 64);
        assert!(a.expose().iter().all(|b| *b == b'a' || *b == b'b'));
        let g = parse_generator("password length=40 alphabet=symbols").unwrap();
        let x = generate(&g, NOW, None).unwrap();
        let y = generate(&g, NOW, None).unwrap();
        assert_ne!(x["password"], y["password"]);
        assert_eq!(format!("{:?}", x["password"]), "<redacted 40 bytes>");
        // Every symbol of a 10-character alphabet shows up in 2000 draws.
        let d = password(2000, b"0123456789");
        for c in b'0'..=b'9' {
            assert!(d.expose().contains(&c));
        }
    }

    #[test]
    fn key_pairs_are_pem_that_parses_back() {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        let g = parse_generator("ed25519").unwrap();
        let v = generate(&g, NOW, None).unwrap();
        let pem = std::str::from_utf8(v["private.pem"].expose()).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem).unwrap();
        assert!(
            std::str::from_utf8(v["public.pem"].expose())
                .unwrap()
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
        let g = parse_generator("ecdsa-p256 private=k public=k.pub").unwrap();
        let v = generate(&g, NOW, None).unwrap();
        p256::SecretKey::from_pkcs8_pem(std::str::from_utf8(v["k"].expose()).unwrap()).unwrap();
    }

    fn parse_cert(pem: &SecretBytes) -> x509_cert::Certificate {
        use x509_cert::der::DecodePem as _;
        x509_cert::Certificate::from_pem(pem.expose()).unwrap()
    }

    #[test]
    fn certificates_self_signed_and_ca_issued_with_sans() {
        let ca = generate(
            &parse_generator("x509 cn=palisade-ca ca=true days=365").unwrap(),
            NOW,
            None,
        )
        .unwrap();
        let ca_cert = parse_cert(&ca["tls.crt"]);
        assert_eq!(
            ca_cert.tbs_certificate.subject.to_string(),
            "CN=palisade-ca"
        );
        let material = CaMaterial {
            cert_pem: ca["tls.crt"].clone(),
            key_pem: ca["tls.key"].clone(),
        };
        let g = parse_generator("x509 cn=api dns=api.llm.svc,api ip=10.0.0.7 days=30 issuer=ca")
            .unwrap();
        assert!(matches!(
            generate(&g, NOW, None),
            Err(GenerateError::NoCa(_))
        ));
        let leaf = generate(&g, NOW, Some(&material)).unwrap();
        assert_eq!(
            leaf.keys().collect::<Vec<_>>(),
            ["ca.crt", "tls.crt", "tls.key"]
        );
        let cert = parse_cert(&leaf["tls.crt"]);
        assert_eq!(cert.tbs_certificate.issuer, ca_cert.tbs_certificate.subject);
        let sans = cert
            .tbs_certificate
            .extensions
            .unwrap()
            .into_iter()
            .find(|e| e.extn_id.to_string() == "2.5.29.17")
            .unwrap();
        let text = String::from_utf8_lossy(sans.extn_value.as_bytes()).into_owned();
        assert!(text.contains("api.llm.svc"), "{text}");
        let days = cert
            .tbs_certificate
            .validity
            .not_after
            .to_unix_duration()
            .as_secs()
            - cert
                .tbs_certificate
                .validity
                .not_before
                .to_unix_duration()
                .as_secs();
        assert_eq!(days, 30 * 86_400 + 300);
        let bad = CaMaterial {
            cert_pem: SecretBytes::new(b"garbage".to_vec()),
            key_pem: SecretBytes::new(b"garbage".to_vec()),
        };
        let err = generate(&g, NOW, Some(&bad)).unwrap_err().to_string();
        assert!(!err.contains("garbage"), "{err}");
    }
}
