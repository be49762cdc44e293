//! The signature file: a Sigstore bundle v0.3 (JSON) holding a DSSE
//! envelope whose payload is the in-toto statement, and the verification
//! material of one of three methods: a public key hint (key), an X.509
//! chain (certificate), or a Fulcio certificate with Rekor transparency-log
//! entries (Sigstore keyless).
//!
//! Parsing is strict about what the signature means and tolerant of what
//! it does not: unknown fields inside verification material are ignored
//! (they belong to Sigstore), but the envelope, its payload type, the media
//! type and every base64 string are checked, and a hostile file gets an
//! error, never a panic.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The bundle media type model signing writes.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The same version in the alternative spelling Sigstore also accepts.
pub const MEDIA_TYPE_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The largest signature file read (a files-method manifest of a million
/// files is about 150 MB).
pub const MAX_BUNDLE_BYTES: usize = 256 << 20;

/// DSSE pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    v.extend_from_slice(
        format!(
            "DSSEv1 {} {} {} ",
            payload_type.len(),
            payload_type,
            payload.len()
        )
        .as_bytes(),
    );
    v.extend_from_slice(payload);
    v
}

/// Standard base64 (the protobuf JSON mapping), decoding padded or not,
/// and URL-safe as DSSE allows.
pub(crate) fn b64decode(s: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    std.decode(s).or_else(|_| url.decode(s)).ok()
}

pub(crate) fn b64encode(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A bundle as it is on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    /// Must be the v0.3 bundle media type.
    pub media_type: String,
    /// Key hint, certificate chain, or keyless material.
    pub verification_material: VerificationMaterial,
    /// The signed statement.
    pub dsse_envelope: Envelope,
}

/// The DSSE envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the statement bytes.
    pub payload: String,
    /// Must be [`PAYLOAD_TYPE`].
    pub payload_type: String,
    /// At least one signature.
    pub signatures: Vec<Signature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Base64 DER ECDSA signature over the PAE.
    pub sig: String,
    /// Unused by model signing; may be absent, empty or null.
    #[serde(default)]
    pub keyid: Option<String>,
}

/// Sigstore `VerificationMaterial`: exactly one of the three contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// Key method: identifies the public key by hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Certificate method: leaf first, then the rest of the chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// Sigstore keyless: the short-lived Fulcio certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Rekor entries (keyless); empty for key and certificate.
    #[serde(default)]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps (keyless), kept as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

/// `PublicKeyIdentifier`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    /// Hex SHA-256 of the public key PEM (current reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// `X509CertificateChain`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateChain {
    /// Leaf first.
    pub certificates: Vec<Certificate>,
}

/// `X509Certificate`: base64 DER.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// Base64 DER.
    pub raw_bytes: String,
}

/// `TransparencyLogEntry` (sigstore_rekor.proto), for keyless bundles.
/// Integers are JSON strings in the protobuf mapping.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    /// Global log index.
    #[serde(default)]
    pub log_index: Option<String>,
    /// Which log (SHA-256 of its key).
    #[serde(default)]
    pub log_id: Option<LogId>,
    /// Entry kind and version (`dsse` 0.0.1 for model signing).
    #[serde(default)]
    pub kind_version: Option<KindVersion>,
    /// Unix time of integration.
    #[serde(default)]
    pub integrated_time: Option<String>,
    /// The signed entry timestamp.
    #[serde(default)]
    pub inclusion_promise: Option<InclusionPromise>,
    /// RFC 6962 inclusion proof with a signed checkpoint.
    #[serde(default)]
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonical entry body, base64.
    #[serde(default)]
    pub canonicalized_body: Option<String>,
}

/// `LogId`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// Base64 key ID.
    #[serde(default)]
    pub key_id: Option<String>,
}

/// `KindVersion`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KindVersion {
    /// Entry kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Kind version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `InclusionPromise`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// Base64 signature of the log.
    #[serde(default)]
    pub signed_entry_timestamp: Option<String>,
}

/// `InclusionProof`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index in the tree.
    #[serde(default)]
    pub log_index: Option<String>,
    /// Base64 root hash.
    #[serde(default)]
    pub root_hash: Option<String>,
    /// Tree size.
    #[serde(default)]
    pub tree_size: Option<String>,
    /// Base64 sibling hashes.
    #[serde(default)]
    pub hashes: Vec<String>,
    /// The signed note.
    #[serde(default)]
    pub checkpoint: Option<Checkpoint>,
}

/// `Checkpoint`: a C2SP signed note.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The note text.
    #[serde(default)]
    pub envelope: Option<String>,
}

/// What the verification material says, checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Material {
    /// Key method; the hint (hex SHA-256 of the key PEM) if present.
    Key {
        /// The hint.
        hint: Option<String>,
    },
    /// Certificate method: DER certificates, leaf first.
    Chain(Vec<Vec<u8>>),
    /// Sigstore keyless: the Fulcio certificate (DER) and the log entries.
    Keyless {
        /// Fulcio leaf, DER.
        certificate: Vec<u8>,
        /// Rekor entries.
        tlog_entries: Vec<TransparencyLogEntry>,
    },
}

/// A signature file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Too big to be a signature.
    #[error("signature file is {0} bytes, more than the {MAX_BUNDLE_BYTES} accepted")]
    TooLarge(usize),
    /// Not JSON, or not the bundle shape.
    #[error("malformed bundle: {0}")]
    Json(String),
    /// Another media type.
    #[error("bundle mediaType is {0:?}, expected {MEDIA_TYPE:?}")]
    MediaType(String),
    /// Another payload type.
    #[error("DSSE payloadType is {0:?}, expected {PAYLOAD_TYPE:?}")]
    PayloadType(String),
    /// No signature.
    #[error("DSSE envelope has no signature")]
    NoSignature,
    /// A base64 field that does not decode.
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    /// Verification material with none or several of the methods.
    #[error(
        "verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate (found {0})"
    )]
    Material(String),
    /// Keyless bundles need at least one log entry.
    #[error("Sigstore (keyless) bundle has no tlogEntries")]
    NoTlogEntries,
    /// An empty certificate chain.
    #[error("x509CertificateChain has no certificate")]
    EmptyChain,
}

/// A parsed bundle with its decoded parts.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The bundle as read.
    pub bundle: Bundle,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The decoded DER signatures.
    pub signatures: Vec<Vec<u8>>,
    /// The verification material.
    pub material: Material,
}

impl Parsed {
    /// The bytes the signatures sign: PAE over the exact payload.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.bundle.dsse_envelope.payload_type, &self.payload)
    }
}

/// Parses and checks a signature file.
pub fn parse(bytes: &[u8]) -> Result<Parsed, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge(bytes.len()));
    }
    let bundle: Bundle =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Json(e.to_string()))?;
    if bundle.media_type != MEDIA_TYPE && bundle.media_type != MEDIA_TYPE_ALT {
        return Err(BundleError::MediaType(
            bundle.media_type.chars().take(200).collect(),
        ));
    }
    let env = &bundle.dsse_envelope;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(BundleError::PayloadType(
            env.payload_type.chars().take(200).collect(),
        ));
    }
    if env.signatures.is_empty() {
        return Err(BundleError::NoSignature);
    }
    let payload = b64decode(&env.payload).ok_or(BundleError::Base64("dsseEnvelope.payload"))?;
    let signatures = env
        .signatures
        .iter()
        .map(|s| b64decode(&s.sig).ok_or(BundleError::Base64("dsseEnvelope.signatures[].sig")))
        .collect::<Result<Vec<_>, _>>()?;
    let vm = &bundle.verification_material;
    let present: Vec<&str> = [
        vm.public_key.as_ref().map(|_| "publicKey"),
        vm.x509_certificate_chain
            .as_ref()
            .map(|_| "x509CertificateChain"),
        vm.certificate.as_ref().map(|_| "certificate"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let material = match present.as_slice() {
        ["publicKey"] => Material::Key {
            hint: vm
                .public_key
                .as_ref()
                .and_then(|k| k.hint.clone())
                .filter(|h| !h.is_empty()),
        },
        ["x509CertificateChain"] => {
            let certs = &vm
                .x509_certificate_chain
                .as_ref()
                .ok_or(BundleError::EmptyChain)?
                .certificates;
            if certs.is_empty() {
                return Err(BundleError::EmptyChain);
            }
            Material::Chain(
                certs
                    .iter()
                    .map(|c| {
                        b64decode(&c.raw_bytes).ok_or(BundleError::Base64(
                            "x509CertificateChain.certificates[].rawBytes",
                        ))
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        ["certificate"] => {
            if vm.tlog_entries.is_empty() {
                return Err(BundleError::NoTlogEntries);
            }
            let raw = &vm
                .certificate
                .as_ref()
                .ok_or(BundleError::Material("none".into()))?
                .raw_bytes;
            Material::Keyless {
                certificate: b64decode(raw).ok_or(BundleError::Base64("certificate.rawBytes"))?,
                tlog_entries: vm.tlog_entries.clone(),
            }
        }
        [] => return Err(BundleError::Material("none".into())),
        many => return Err(BundleError::Material(many.join(", "))),
    };
    Ok(Parsed {
        bundle,
        payload,
        signatures,
        material,
    })
}

/// Builds a bundle around a signed payload.
pub fn build(payload: &[u8], signature: &[u8], material: VerificationMaterial) -> Bundle {
    Bundle {
        media_type: MEDIA_TYPE.to_owned(),
        verification_material: material,
        dsse_envelope: Envelope {
            payload: b64encode(payload),
            payload_type: PAYLOAD_TYPE.to_owned(),
            signatures: vec![Signature {
                sig: b64encode(signature),
                keyid: Some(String::new()),
            }],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn garbage_never_panics() {
        for input in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"mediaType\": 1}",
            b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{},\"dsseEnvelope\":{\"payload\":\"!!\",\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[]}}",
            &[0xff, 0xfe, 0x00],
        ] {
            assert!(parse(input).is_err());
        }
    }
}
