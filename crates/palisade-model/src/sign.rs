//! Signing a manifest into a model-signing bundle.

use crate::bundle::{
    self, Bundle, Certificate, CertificateChain, PublicKeyIdentifier, VerificationMaterial,
};
use crate::keys::SigningKey;
use crate::manifest::Manifest;

/// How to sign.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Signer {
    /// A private key; the bundle names the public key by its hint, as the
    /// reference does, and the verifier supplies the public key.
    Key(SigningKey),
    /// A private key with its certificate chain (DER, leaf first), already
    /// validated by [`crate::certs::validate_for_signing`].
    Certificate {
        /// The key of the leaf certificate.
        key: SigningKey,
        /// Leaf first, then intermediates and the root.
        chain: Vec<Vec<u8>>,
    },
    /// Sigstore keyless signing: an OIDC token exchanged for a Fulcio
    /// certificate, the signature logged in Rekor. Needs the network.
    Sigstore,
}

/// Signing errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// Keyless signing was asked for.
    #[error(
        "Sigstore keyless signing needs the network (an OIDC identity token, Fulcio for the \
         certificate and Rekor for the transparency log), which this build cannot reach; sign \
         with --key or --certificate instead"
    )]
    KeylessUnavailable,
}

/// Signs the manifest's statement: ECDSA over the DSSE PAE of the exact
/// payload bytes that go into the envelope.
pub fn sign(manifest: &Manifest, signer: &Signer) -> Result<Bundle, SignError> {
    let payload = manifest.to_payload();
    let pae = bundle::pae(bundle::PAYLOAD_TYPE, &payload);
    let (sig, material) = match signer {
        Signer::Key(key) => (
            key.sign(&pae),
            VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: Some(key.public().hint()),
                }),
                ..VerificationMaterial::default()
            },
        ),
        Signer::Certificate { key, chain } => (
            key.sign(&pae),
            VerificationMaterial {
                x509_certificate_chain: Some(CertificateChain {
                    certificates: chain
                        .iter()
                        .map(|der| Certificate {
                            raw_bytes: bundle::b64encode(der),
                        })
                        .collect(),
                }),
                ..VerificationMaterial::default()
            },
        ),
        Signer::Sigstore => return Err(SignError::KeylessUnavailable),
    };
    Ok(bundle::build(&payload, &sig, material))
}

/// The bundle as the reference writes it: JSON, two-space indent.
pub fn to_json(bundle: &Bundle) -> String {
    let mut s = serde_json::to_string_pretty(bundle).unwrap_or_default();
    s.push('\n');
    s
}
