//! Palisade's model supply chain: hashing a model the way OpenSSF model
//! signing v1.0 does ([`hash`], [`manifest`]), signing it into a Sigstore
//! bundle ([`sign`], [`bundle`], [`keys`], [`certs`]), verifying it file
//! by file ([`verify`]), inventorying it as a CycloneDX 1.6 ML-BOM
//! ([`bom`]), encrypting it at rest in the age format ([`encrypt`]), and
//! scanning model files for code execution and malformed structure
//! ([`scan`]: pickle, PyTorch, NumPy, joblib, Keras, safetensors, GGUF,
//! ONNX).
//!
//! Libraries never print: every function returns values or a precise error.

pub mod bom;
pub mod bundle;
pub mod certs;
pub mod encrypt;
pub mod hash;
pub mod keys;
pub mod manifest;
pub mod scan;
mod sha256x2;
pub mod sign;
pub mod verify;

pub use hash::{Algorithm, HashError, Issue, Method, Options};
pub use manifest::{Digest, ItemKey, Manifest, PayloadError, RelPath, Serialization};

/// Constant-time equality for key material and hints.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
