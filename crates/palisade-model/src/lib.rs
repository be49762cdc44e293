//! Palisade's model supply chain: hashing a model the way OpenSSF model
//! signing v1.0 does ([`hash`], [`manifest`]), signing and verifying it, and
//! scanning model files for code execution and malformed structure
//! ([`scan`]: pickle, PyTorch, NumPy, joblib, Keras, safetensors, GGUF, ONNX).
//!
//! Libraries never print: every function returns values or a precise error.

pub mod hash;
pub mod manifest;
pub mod scan;

pub use hash::{Algorithm, HashError, Issue, Method, Options};
pub use manifest::{Digest, ItemKey, Manifest, PayloadError, RelPath, Serialization};
