//! The manifest of a model (its resources and their digests) and its
//! in-toto Statement v1 form with the OpenSSF model-signing v1.0 predicate.
//!
//! Building the statement mirrors the reference implementation
//! (`model_signing` 1.1.1): resources sorted by path components then shard
//! offsets, the subject digest is SHA-256 over the raw resource digests in
//! that order, shard resources are named `path:start:end` with algorithm
//! `<hash>-sharded-<size>`. Parsing accepts what the reference writes
//! (`shard_size` as a float such as `1000000000.0`) and rejects names that
//! could point outside the model (`..`, absolute paths, empty components).

use crate::hash::{Algorithm, Method};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::fmt;

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The model-signing v1.0 predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// A path relative to the model root, as POSIX components. Never empty,
/// never absolute, never containing `..` or `.` (a single-file model's only
/// resource is named `.`, as in the reference).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(Vec<String>);

impl RelPath {
    /// The name of a single-file model's resource.
    pub fn dot() -> Self {
        RelPath(vec![".".to_owned()])
    }

    /// Parses a POSIX relative path from a signature or the command line.
    pub fn parse(s: &str) -> Result<Self, PayloadError> {
        let bad = |why: &str| PayloadError::UnsafeName {
            name: s.to_owned(),
            why: why.to_owned(),
        };
        if s == "." {
            return Ok(Self::dot());
        }
        if s.is_empty() {
            return Err(bad("empty path"));
        }
        if s.starts_with('/') {
            return Err(bad("absolute path"));
        }
        if s.contains('\0') {
            return Err(bad("NUL byte"));
        }
        if s.contains('\\') {
            return Err(bad("backslash (Windows separator)"));
        }
        let mut parts = Vec::new();
        for c in s.split('/') {
            match c {
                "" => {
                    // A trailing slash on an ignore path names a folder.
                    if parts.is_empty() {
                        return Err(bad("empty path component"));
                    }
                }
                ".." => return Err(bad("`..` component leaves the model folder")),
                "." => return Err(bad("`.` component")),
                c => parts.push(c.to_owned()),
            }
        }
        if s.contains("//") || (s.ends_with('/') && parts.is_empty()) {
            return Err(bad("empty path component"));
        }
        Ok(RelPath(parts))
    }

    /// This path with one more component.
    pub(crate) fn join(&self, name: &str) -> Self {
        let mut v = self.0.clone();
        v.push(name.to_owned());
        RelPath(v)
    }

    /// Whether `prefix` is this path or one of its folders.
    pub fn starts_with(&self, prefix: &RelPath) -> bool {
        !prefix.0.is_empty() && self.0.starts_with(&prefix.0)
    }

    /// The components.
    pub fn components(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// A 32-byte digest (SHA-256 or BLAKE3).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// A resource: a whole file, or bytes `[start, end)` of it. Ordered as the
/// reference orders them: by path components, then offsets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemKey {
    /// The file.
    pub path: RelPath,
    /// The byte range for shards.
    pub range: Option<(u64, u64)>,
}

impl ItemKey {
    /// A whole file.
    pub fn file(path: RelPath) -> Self {
        ItemKey { path, range: None }
    }
    /// A shard.
    pub fn shard(path: RelPath, start: u64, end: u64) -> Self {
        ItemKey {
            path,
            range: Some((start, end)),
        }
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.range {
            None => write!(f, "{}", self.path),
            Some((s, e)) => write!(f, "{}:{s}:{e}", self.path),
        }
    }
}

/// How the manifest was made (the predicate's `serialization` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    /// Files or shards.
    pub method: Method,
    /// Digest algorithm of the resources.
    pub algorithm: Algorithm,
    /// Whether symlinks inside the model were followed.
    pub allow_symlinks: bool,
    /// Paths left out, relative to the model root.
    pub ignore_paths: Vec<String>,
}

impl Serialization {
    /// The `algorithm` written on each resource: the hash name, or for
    /// shards `<hash>-sharded-<size>` as the reference writes and compares.
    pub fn resource_algorithm(&self) -> String {
        match self.method {
            Method::Files => self.algorithm.name().to_owned(),
            Method::Shards { shard_size } => {
                format!("{}-sharded-{shard_size}", self.algorithm.name())
            }
        }
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        let method = match self.method {
            Method::Files => "files",
            Method::Shards { .. } => "shards",
        };
        m.insert("method".into(), json!(method));
        m.insert("hash_type".into(), json!(self.algorithm.name()));
        if let Method::Shards { shard_size } = self.method {
            m.insert("shard_size".into(), json!(shard_size));
        }
        m.insert("allow_symlinks".into(), json!(self.allow_symlinks));
        if !self.ignore_paths.is_empty() {
            let mut ig = self.ignore_paths.clone();
            ig.sort();
            ig.dedup();
            m.insert("ignore_paths".into(), json!(ig));
        }
        Value::Object(m)
    }
}

/// A model's resources and their digests, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Informative name (the model folder's name).
    pub model_name: String,
    /// How it was made.
    pub serialization: Serialization,
    items: BTreeMap<ItemKey, Digest>,
}

impl Manifest {
    /// A manifest from hashed items.
    pub fn new(
        model_name: String,
        serialization: Serialization,
        items: impl IntoIterator<Item = (ItemKey, Digest)>,
    ) -> Self {
        Manifest {
            model_name,
            serialization,
            items: items.into_iter().collect(),
        }
    }

    /// The resources in canonical order.
    pub fn items(&self) -> impl ExactSizeIterator<Item = (&ItemKey, &Digest)> {
        self.items.iter()
    }

    /// The digest of one resource.
    pub fn get(&self, key: &ItemKey) -> Option<&Digest> {
        self.items.get(key)
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no resources.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The subject digest: SHA-256 over the raw resource digests in order.
    pub fn root_digest(&self) -> Digest {
        let mut h = sha2::Sha256::new();
        for d in self.items.values() {
            h.update(d.0);
        }
        Digest(h.finalize().into())
    }

    /// The in-toto statement as a JSON value.
    pub fn to_statement(&self) -> Value {
        let alg = self.serialization.resource_algorithm();
        let resources: Vec<Value> = self
            .items
            .iter()
            .map(|(k, d)| json!({"name": k.to_string(), "algorithm": alg, "digest": d.hex()}))
            .collect();
        json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.model_name, "digest": {"sha256": self.root_digest().hex()}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "serialization": self.serialization.to_json(),
                "resources": resources,
            }
        })
    }

    /// The statement's bytes, as signed (pretty JSON, two-space indent, as
    /// the reference writes).
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.to_statement()).unwrap_or_default()
    }

    /// Parses and checks a signed statement: type, predicate type, one
    /// subject, the serialization block, every resource name, and that the
    /// subject digest matches the resources.
    pub fn from_payload(bytes: &[u8]) -> Result<Self, PayloadError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Json(e.to_string()))?;
        let obj = v.as_object().ok_or(PayloadError::Field {
            field: "statement",
            want: "an object",
        })?;
        let ty = str_field(obj, "_type")?;
        if ty != STATEMENT_TYPE {
            return Err(PayloadError::StatementType(ty.to_owned()));
        }
        let pt = str_field(obj, "predicateType")?;
        if pt != PREDICATE_TYPE {
            return Err(PayloadError::PredicateType(pt.to_owned()));
        }
        let subjects = obj
            .get("subject")
            .and_then(Value::as_array)
            .ok_or(PayloadError::Field {
                field: "subject",
                want: "an array",
            })?;
        let [subject] = subjects.as_slice() else {
            return Err(PayloadError::SubjectCount(subjects.len()));
        };
        let subject = subject.as_object().ok_or(PayloadError::Field {
            field: "subject[0]",
            want: "an object",
        })?;
        let model_name = str_field(subject, "name")?.to_owned();
        let root = subject
            .get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(Value::as_str)
            .ok_or(PayloadError::Field {
                field: "subject[0].digest.sha256",
                want: "a string",
            })?;
        let root = parse_digest(root, "subject[0].digest.sha256")?;
        let predicate =
            obj.get("predicate")
                .and_then(Value::as_object)
                .ok_or(PayloadError::Field {
                    field: "predicate",
                    want: "an object",
                })?;
        let ser = predicate
            .get("serialization")
            .and_then(Value::as_object)
            .ok_or(PayloadError::Field {
                field: "predicate.serialization",
                want: "an object",
            })?;
        let serialization = parse_serialization(ser)?;
        let resources =
            predicate
                .get("resources")
                .and_then(Value::as_array)
                .ok_or(PayloadError::Field {
                    field: "predicate.resources",
                    want: "an array",
                })?;
        let alg_full = serialization.resource_algorithm();
        let alg_plain = serialization.algorithm.name();
        let mut items = BTreeMap::new();
        let mut root_hasher = sha2::Sha256::new();
        for r in resources {
            let r = r.as_object().ok_or(PayloadError::Field {
                field: "predicate.resources[]",
                want: "an object",
            })?;
            let name = str_field(r, "name")?;
            let algorithm = str_field(r, "algorithm")?;
            if algorithm != alg_full && algorithm != alg_plain {
                return Err(PayloadError::Algorithm {
                    name: name.to_owned(),
                    algorithm: algorithm.to_owned(),
                    want: alg_full,
                });
            }
            let digest = parse_digest(str_field(r, "digest")?, "resource digest")?;
            root_hasher.update(digest.0);
            let key = parse_key(name, serialization.method)?;
            if items.insert(key, digest).is_some() {
                return Err(PayloadError::Duplicate(name.to_owned()));
            }
        }
        let computed = Digest(root_hasher.finalize().into());
        if computed != root {
            return Err(PayloadError::RootDigest {
                signed: root.hex(),
                computed: computed.hex(),
            });
        }
        Ok(Manifest {
            model_name,
            serialization,
            items,
        })
    }
}

fn str_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<&'a str, PayloadError> {
    obj.get(field)
        .and_then(Value::as_str)
        .ok_or(PayloadError::Field {
            field,
            want: "a string",
        })
}

fn parse_digest(s: &str, field: &'static str) -> Result<Digest, PayloadError> {
    let mut out = [0u8; 32];
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(PayloadError::Digest {
            field,
            value: s.chars().take(80).collect(),
        });
    }
    hex::decode_to_slice(s, &mut out).map_err(|_| PayloadError::Digest {
        field,
        value: s.chars().take(80).collect(),
    })?;
    Ok(Digest(out))
}

fn parse_serialization(ser: &Map<String, Value>) -> Result<Serialization, PayloadError> {
    let method = str_field(ser, "method")?;
    let hash_type = str_field(ser, "hash_type")?;
    let algorithm = Algorithm::from_name(hash_type)
        .ok_or_else(|| PayloadError::HashType(hash_type.to_owned()))?;
    let allow_symlinks =
        ser.get("allow_symlinks")
            .and_then(Value::as_bool)
            .ok_or(PayloadError::Field {
                field: "serialization.allow_symlinks",
                want: "a boolean",
            })?;
    let method = match method {
        "files" => Method::Files,
        "shards" => {
            let size = ser.get("shard_size").ok_or(PayloadError::Field {
                field: "serialization.shard_size",
                want: "a positive integer",
            })?;
            Method::Shards {
                shard_size: shard_size(size)?,
            }
        }
        other => return Err(PayloadError::Method(other.to_owned())),
    };
    let mut ignore_paths = Vec::new();
    if let Some(ig) = ser.get("ignore_paths") {
        let arr = ig.as_array().ok_or(PayloadError::Field {
            field: "serialization.ignore_paths",
            want: "an array of strings",
        })?;
        for p in arr {
            let s = p.as_str().ok_or(PayloadError::Field {
                field: "serialization.ignore_paths",
                want: "an array of strings",
            })?;
            // Checked like resource names: an ignore path may not reach
            // outside the model either.
            RelPath::parse(s)?;
            ignore_paths.push(s.to_owned());
        }
    }
    Ok(Serialization {
        method,
        algorithm,
        allow_symlinks,
        ignore_paths,
    })
}

/// `shard_size` as an integer, or as the float the reference writes
/// (`1000000000.0`), as long as it is a positive whole number.
fn shard_size(v: &Value) -> Result<u64, PayloadError> {
    let bad = || PayloadError::ShardSize(v.to_string().chars().take(40).collect());
    if let Some(n) = v.as_u64() {
        return if n > 0 { Ok(n) } else { Err(bad()) };
    }
    let f = v.as_f64().ok_or_else(bad)?;
    // 2^53: beyond it a float no longer holds every integer exactly.
    if f.is_finite() && f >= 1.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0 {
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        Ok(f as u64)
    } else {
        Err(bad())
    }
}

fn parse_key(name: &str, method: Method) -> Result<ItemKey, PayloadError> {
    match method {
        Method::Files => Ok(ItemKey::file(RelPath::parse(name)?)),
        Method::Shards { shard_size } => {
            let bad = |why: &str| PayloadError::ShardName {
                name: name.chars().take(200).collect(),
                why: why.to_owned(),
            };
            // As the reference: exactly three `:`-separated parts.
            let parts: Vec<&str> = name.split(':').collect();
            let [path, start, end] = parts.as_slice() else {
                return Err(bad("expected path:start:end"));
            };
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(start) || !digits(end) {
                return Err(bad("offsets must be decimal integers"));
            }
            let start: u64 = start.parse().map_err(|_| bad("offset too large"))?;
            let end: u64 = end.parse().map_err(|_| bad("offset too large"))?;
            if end <= start {
                return Err(bad("end offset must be after start offset"));
            }
            if end - start > shard_size || !start.is_multiple_of(shard_size) {
                return Err(bad("range does not match the shard size"));
            }
            Ok(ItemKey::shard(RelPath::parse(path)?, start, end))
        }
    }
}

/// A statement that is not a valid model-signing v1.0 payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// Not JSON.
    #[error("payload is not JSON: {0}")]
    Json(String),
    /// A field is missing or has the wrong type.
    #[error("payload field {field} must be {want}")]
    Field {
        /// The field.
        field: &'static str,
        /// What it must be.
        want: &'static str,
    },
    /// Not an in-toto Statement v1.
    #[error("payload _type is {0:?}, expected {STATEMENT_TYPE:?}")]
    StatementType(String),
    /// Not the model-signing v1.0 predicate.
    #[error("predicateType is {0:?}, expected {PREDICATE_TYPE:?}")]
    PredicateType(String),
    /// Not exactly one subject.
    #[error("expected exactly one subject, found {0}")]
    SubjectCount(usize),
    /// A digest is not 64 lowercase hex digits.
    #[error("{field} is not a 32-byte lowercase hex digest: {value:?}")]
    Digest {
        /// Where.
        field: &'static str,
        /// The value, shortened.
        value: String,
    },
    /// Unknown or unsupported hash type.
    #[error("unsupported hash_type {0:?} (supported: sha256, blake3)")]
    HashType(String),
    /// Unknown serialization method.
    #[error("unknown serialization method {0:?} (expected files or shards)")]
    Method(String),
    /// Bad shard size.
    #[error("shard_size must be a positive whole number, got {0}")]
    ShardSize(String),
    /// A resource with another algorithm than the serialization says.
    #[error("resource {name:?} has algorithm {algorithm:?}, expected {want:?}")]
    Algorithm {
        /// Resource name.
        name: String,
        /// Its algorithm.
        algorithm: String,
        /// What the serialization implies.
        want: String,
    },
    /// A resource path that could leave the model folder.
    #[error("unsafe path {name:?} in signature: {why}")]
    UnsafeName {
        /// The name.
        name: String,
        /// Why it is refused.
        why: String,
    },
    /// A shard name that does not parse.
    #[error("bad shard name {name:?}: {why}")]
    ShardName {
        /// The name.
        name: String,
        /// Why.
        why: String,
    },
    /// The same resource twice.
    #[error("resource {0:?} appears twice")]
    Duplicate(String),
    /// The subject digest does not match the resources.
    #[error("subject digest {signed} does not match the resources, which hash to {computed}")]
    RootDigest {
        /// What the statement says.
        signed: String,
        /// What the resources give.
        computed: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    #[test]
    fn paths_sort_by_components_like_pathlib() {
        // String order would put "a.b" first ('.' < '/').
        let mut v = [rp("a.b"), rp("a/x"), rp("a-b/c")];
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["a/x", "a-b/c", "a.b"]);
    }

    #[test]
    fn unsafe_names_rejected() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a\0b",
        ] {
            assert!(RelPath::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(rp("a/b/").to_string(), "a/b");
        assert_eq!(rp(".").to_string(), ".");
    }

    #[test]
    fn shard_size_float_from_reference_accepted() {
        assert_eq!(shard_size(&json!(1_000_000_000.0)).unwrap(), 1_000_000_000);
        assert_eq!(shard_size(&json!(8)).unwrap(), 8);
        for bad in [json!(0), json!(-1), json!(1.5), json!("8"), json!(1e300)] {
            assert!(shard_size(&bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn statement_round_trips() {
        let ser = Serialization {
            method: Method::Shards { shard_size: 4 },
            algorithm: Algorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: vec!["model.sig".into()],
        };
        let m = Manifest::new(
            "m".into(),
            ser,
            [
                (ItemKey::shard(rp("w"), 4, 6), Digest([2; 32])),
                (ItemKey::shard(rp("w"), 0, 4), Digest([1; 32])),
            ],
        );
        let back = Manifest::from_payload(&m.to_payload()).unwrap();
        assert_eq!(back, m);
        let s = String::from_utf8(m.to_payload()).unwrap();
        assert!(s.find("w:0:4").unwrap() < s.find("w:4:6").unwrap());
        assert!(s.contains("sha256-sharded-4"));
    }
}
