//! Rotation policies: how often a Secret rotates, what generates its new
//! value, and how long the previous value stays available.
//!
//! A policy comes from the Secret's own annotations or from the `secrets`
//! section of `palisade.yaml`; annotations win, key by key.
//!
//! ```yaml
//! # on the Secret
//! metadata:
//!   annotations:
//!     palisade.dev/rotate-every: 30d
//!     palisade.dev/generator: password length=40 alphabet=alnum
//!     palisade.dev/grace: 24h
//! ```
//!
//! ```yaml
//! # palisade.yaml
//! secrets:
//!   rotation:
//!     - namespace: "llm-*"          # globs, optional
//!       name: "db-*"
//!       every: 30d
//!       generator: password length=32
//!       grace: 12h
//! ```
//!
//! Generators (the first word, then `key=value` options):
//! - `password [length=32] [alphabet=alnum|alpha|digits|hex|lower|symbols] [chars=...] [key=password]`
//! - `bytes [length=32] [key=key]`
//! - `ed25519 [private=private.pem] [public=public.pem]` (PKCS#8 and SPKI PEM)
//! - `ecdsa-p256 [private=private.pem] [public=public.pem]`
//! - `x509 cn=NAME [dns=a,b] [ip=10.0.0.1,...] [days=90] [issuer=SECRET|NS/SECRET] [key=ecdsa-p256|ed25519] [ca=true]`
//!   writes `tls.crt` and `tls.key` (and `ca.crt` when CA-issued), as
//!   `kubernetes.io/tls` Secrets and cert-manager do.

use crate::Duration;
use globset::{Glob, GlobMatcher};
use palisade_core::Node;
use std::collections::BTreeMap;

/// Annotation naming a Secret's generator.
pub const GENERATOR: &str = "palisade.dev/generator";
/// Annotation setting how long the previous value stays (`<key>.previous`).
pub const GRACE: &str = "palisade.dev/grace";
/// Annotation recording the rotation count.
pub const VERSION: &str = "palisade.dev/version";
/// Annotation recording when the `<key>.previous` values are removed.
pub const PREVIOUS_EXPIRES_AT: &str = "palisade.dev/previous-expires-at";
/// Suffix of the keys holding the previous values.
pub const PREVIOUS_SUFFIX: &str = ".previous";
/// The default grace period.
pub const DEFAULT_GRACE: Duration = Duration {
    millis: 24 * 3_600_000,
};

/// A policy mistake, with what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The generator text does not parse.
    #[error("generator: {0}")]
    Generator(String),
    /// A duration annotation does not parse.
    #[error("{field} {value:?} is not a duration (e.g. 30d, 12h)")]
    Duration {
        /// The annotation or field.
        field: String,
        /// Its value (never a secret: policy text only).
        value: String,
    },
    /// A mistake in `palisade.yaml`.
    #[error("{file}:{line}: {message}")]
    Config {
        /// The file.
        file: String,
        /// The line.
        line: u32,
        /// What is wrong.
        message: String,
    },
}

/// A password alphabet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alphabet(pub Vec<u8>);

impl Alphabet {
    /// A named alphabet.
    pub fn named(name: &str) -> Option<Self> {
        const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const DIGITS: &[u8] = b"0123456789";
        const SYMBOLS: &[u8] = b"!#$%&()*+,-./:;<=>?@[]^_{|}~";
        let cat = |parts: &[&[u8]]| Alphabet(parts.concat());
        Some(match name {
            "alnum" => cat(&[UPPER, LOWER, DIGITS]),
            "alpha" => cat(&[UPPER, LOWER]),
            "lower" => cat(&[LOWER, DIGITS]),
            "digits" => cat(&[DIGITS]),
            "hex" => cat(&[b"0123456789abcdef"]),
            "symbols" => cat(&[UPPER, LOWER, DIGITS, SYMBOLS]),
            _ => return None,
        })
    }
}

/// A key algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA over P-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// The name used in generator texts.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

/// An X.509 certificate request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Spec {
    /// Subject common name.
    pub common_name: String,
    /// DNS subject alternative names.
    pub dns: Vec<String>,
    /// IP subject alternative names.
    pub ips: Vec<std::net::IpAddr>,
    /// Validity in days.
    pub days: u32,
    /// The issuing CA's Secret (`tls.crt`, `tls.key`), `(namespace, name)`;
    /// namespace empty for the rotated Secret's own. None: self-signed.
    pub issuer: Option<(String, String)>,
    /// Key algorithm.
    pub key: KeyAlgorithm,
    /// Whether the certificate is a CA (basicConstraints CA:TRUE).
    pub ca: bool,
}

/// What produces a new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generator {
    /// A random password.
    Password {
        /// Characters.
        length: usize,
        /// Drawn uniformly from these.
        alphabet: Alphabet,
        /// Secret key written.
        key: String,
    },
    /// Random bytes.
    Bytes {
        /// How many.
        length: usize,
        /// Secret key written.
        key: String,
    },
    /// A key pair in PEM.
    KeyPair {
        /// Algorithm.
        algorithm: KeyAlgorithm,
        /// Key of the PKCS#8 private key.
        private: String,
        /// Key of the SPKI public key.
        public: String,
    },
    /// An X.509 certificate and its key.
    X509(X509Spec),
}

impl Generator {
    /// The Secret keys it writes.
    pub fn keys(&self) -> Vec<String> {
        match self {
            Generator::Password { key, .. } | Generator::Bytes { key, .. } => vec![key.clone()],
            Generator::KeyPair {
                private, public, ..
            } => vec![private.clone(), public.clone()],
            Generator::X509(x) => {
                let mut k = vec!["tls.crt".to_owned(), "tls.key".to_owned()];
                if x.issuer.is_some() {
                    k.push("ca.crt".to_owned());
                }
                k
            }
        }
    }

    /// A short description without anything secret.
    pub fn describe(&self) -> String {
        match self {
            Generator::Password {
                length, alphabet, ..
            } => format!("password ({length} chars of {})", alphabet.0.len()),
            Generator::Bytes { length, .. } => format!("bytes ({length})"),
            Generator::KeyPair { algorithm, .. } => format!("{} key pair", algorithm.as_str()),
            Generator::X509(x) => format!(
                "x509 {} {} ({} days, {})",
                x.common_name,
                match &x.issuer {
                    Some((ns, n)) if ns.is_empty() => format!("issued by {n}"),
                    Some((ns, n)) => format!("issued by {ns}/{n}"),
                    None => "self-signed".to_owned(),
                },
                x.days,
                x.key.as_str()
            ),
        }
    }
}

const MAX_LENGTH: usize = 4096;

fn valid_key(k: &str) -> bool {
    // Secret data keys: [-._a-zA-Z0-9]+, at most 253.
    !k.is_empty()
        && k.len() <= 253 - PREVIOUS_SUFFIX.len()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
}

/// Parses a generator text (`password length=40`).
pub fn parse_generator(text: &str) -> Result<Generator, PolicyError> {
    let bad = |m: String| PolicyError::Generator(m);
    let mut words = text.split_whitespace();
    let kind = words.next().ok_or_else(|| {
        bad("empty; expected password, bytes, ed25519, ecdsa-p256 or x509".into())
    })?;
    let mut opts: BTreeMap<&str, &str> = BTreeMap::new();
    for w in words {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| bad(format!("{w:?} is not key=value")))?;
        if opts.insert(k, v).is_some() {
            return Err(bad(format!("{k} is given twice")));
        }
    }
    let mut take = |k: &str| opts.remove(k);
    let length = |v: Option<&str>, default: usize| -> Result<usize, PolicyError> {
        match v {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LENGTH).contains(&n) => Ok(n),
                _ => Err(bad(format!("length {v:?} must be 1..={MAX_LENGTH}"))),
            },
        }
    };
    let key = |v: Option<&str>, default: &str| -> Result<String, PolicyError> {
        let k = v.unwrap_or(default);
        if valid_key(k) {
            Ok(k.to_owned())
        } else {
            Err(bad(format!("{k:?} is not a Secret key ([-._a-zA-Z0-9]+)")))
        }
    };
    let g = match kind {
        "password" => {
            let length = length(take("length"), 32)?;
            let alphabet = match (take("alphabet"), take("chars")) {
                (Some(_), Some(_)) => {
                    return Err(bad("alphabet and chars exclude each other".into()));
                }
                (None, Some(c)) => {
                    let mut set: Vec<u8> = c.bytes().collect();
                    set.sort_unstable();
                    set.dedup();
                    if set.len() < 2 || !set.iter().all(u8::is_ascii_graphic) {
                        return Err(bad(
                            "chars needs two or more printable ASCII characters".into()
                        ));
                    }
                    Alphabet(set)
                }
                (a, None) => {
                    let name = a.unwrap_or("alnum");
                    Alphabet::named(name).ok_or_else(|| {
                        bad(format!(
                            "alphabet {name:?} is not alnum, alpha, lower, digits, hex or symbols"
                        ))
                    })?
                }
            };
            Generator::Password {
                length,
                alphabet,
                key: key(take("key"), "password")?,
            }
        }
        "bytes" => Generator::Bytes {
            length: length(take("length"), 32)?,
            key: key(take("key"), "key")?,
        },
        "ed25519" | "ecdsa-p256" => {
            let private = key(take("private"), "private.pem")?;
            let public = key(take("public"), "public.pem")?;
            if private == public {
                return Err(bad("private and public must differ".into()));
            }
            Generator::KeyPair {
                algorithm: if kind == "ed25519" {
                    KeyAlgorithm::Ed25519
                } else {
                    KeyAlgorithm::EcdsaP256
                },
                private,
                public,
            }
        }
        "x509" => {
            let common_name = take("cn")
                .filter(|c| !c.is_empty() && c.len() <= 64)
                .ok_or_else(|| bad("x509 needs cn=NAME (at most 64 characters)".into()))?
                .to_owned();
            let list = |v: Option<&str>| -> Vec<String> {
                v.map(|v| {
                    v.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
            };
            let dns = list(take("dns"));
            for d in &dns {
                if d.len() > 253
                    || !d
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.*".contains(&b))
                {
                    return Err(bad(format!("dns {d:?} is not a DNS name")));
                }
            }
            let ips = list(take("ip"))
                .iter()
                .map(|i| {
                    i.parse::<std::net::IpAddr>()
                        .map_err(|_| bad(format!("ip {i:?} is not an IP address")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let days = match take("days") {
                None => 90,
                Some(d) => match d.parse::<u32>() {
                    Ok(n) if (1..=3650).contains(&n) => n,
                    _ => return Err(bad(format!("days {d:?} must be 1..=3650"))),
                },
            };
            let issuer = take("issuer")
                .map(|i| {
                    let (ns, n) = i.split_once('/').unwrap_or(("", i));
                    if n.is_empty() || n.contains('/') {
                        Err(bad(format!(
                            "issuer {i:?} is not SECRET or NAMESPACE/SECRET"
                        )))
                    } else {
                        Ok((ns.to_owned(), n.to_owned()))
                    }
                })
                .transpose()?;
            let key_alg = match take("key").unwrap_or("ecdsa-p256") {
                "ecdsa-p256" => KeyAlgorithm::EcdsaP256,
                "ed25519" => KeyAlgorithm::Ed25519,
                other => {
                    return Err(bad(format!("key {other:?} is not ecdsa-p256 or ed25519")));
                }
            };
            let ca = match take("ca") {
                None | Some("false") => false,
                Some("true") => true,
                Some(o) => return Err(bad(format!("ca {o:?} is not true or false"))),
            };
            Generator::X509(X509Spec {
                common_name,
                dns,
                ips,
                days,
                issuer,
                key: key_alg,
                ca,
            })
        }
        other => {
            return Err(bad(format!(
                "{other:?} is not password, bytes, ed25519, ecdsa-p256 or x509"
            )));
        }
    };
    if let Some(k) = opts.keys().next() {
        return Err(bad(format!("unknown option {k:?} for {kind}")));
    }
    Ok(g)
}

/// A rotation policy for one Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Rotation period.
    pub every: Duration,
    /// The generator.
    pub generator: Generator,
    /// How long `<key>.previous` stays.
    pub grace: Duration,
    /// Where it came from (`annotations` or `palisade.yaml:<line>`).
    pub origin: String,
}

/// A `palisade.yaml` rotation rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Namespace glob.
    pub namespace: Option<GlobMatcher>,
    /// Name glob.
    pub name: Option<GlobMatcher>,
    /// Period.
    pub every: Option<Duration>,
    /// Generator text (parsed).
    pub generator: Option<Generator>,
    /// Grace period.
    pub grace: Option<Duration>,
    /// Line in the file.
    pub line: u32,
}

/// The policies of `palisade.yaml`'s `secrets.rotation` section.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
    /// The file name (for origins).
    pub file: String,
}

impl PolicySet {
    /// Parses the `secrets` section of a `palisade.yaml` text; other
    /// sections are left to their owners. No section: no rules.
    pub fn parse(file: &str, text: &str) -> Result<PolicySet, PolicyError> {
        let err = |line: u32, message: String| PolicyError::Config {
            file: file.to_owned(),
            line,
            message,
        };
        let root = palisade_core::yaml::parse_one(text)
            .map_err(|e| err(e.line, format!("YAML error: {}", e.message)))?;
        let mut set = PolicySet {
            rules: Vec::new(),
            file: file.to_owned(),
        };
        let Some(root) = root else { return Ok(set) };
        let Some(secrets) = root.get("secrets") else {
            return Ok(set);
        };
        if !secrets.is_map() {
            return Err(err(secrets.pos.line, "secrets must be a mapping".into()));
        }
        for e in secrets.entries() {
            if e.key != "rotation" {
                return Err(err(
                    e.key_pos.line,
                    format!("unknown key secrets.{} (expected rotation)", e.key),
                ));
            }
            let Some(items) = e.value.as_seq() else {
                return Err(err(
                    e.value.pos.line,
                    "secrets.rotation must be a list".into(),
                ));
            };
            for item in items {
                set.rules.push(parse_rule(item, &err)?);
            }
        }
        Ok(set)
    }

    /// The policy for a Secret: its annotations over the first matching rule.
    /// `Ok(None)`: no policy (the Secret is not rotated).
    pub fn resolve(
        &self,
        namespace: &str,
        name: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<Option<Policy>, PolicyError> {
        let rule = self.rules.iter().find(|r| {
            r.namespace.as_ref().is_none_or(|g| g.is_match(namespace))
                && r.name.as_ref().is_none_or(|g| g.is_match(name))
        });
        let dur = |field: &str| -> Result<Option<Duration>, PolicyError> {
            annotations
                .get(field)
                .map(|v| {
                    v.parse::<Duration>().map_err(|_| PolicyError::Duration {
                        field: field.to_owned(),
                        value: v.chars().take(64).collect(),
                    })
                })
                .transpose()
        };
        let every = dur(crate::ROTATE_EVERY)?;
        let grace = dur(GRACE)?;
        let generator = annotations
            .get(GENERATOR)
            .map(|g| parse_generator(g))
            .transpose()?;
        let from_annotations = every.is_some() || generator.is_some();
        let every = every.or_else(|| rule.and_then(|r| r.every));
        let generator = generator.or_else(|| rule.and_then(|r| r.generator.clone()));
        let grace = grace
            .or_else(|| rule.and_then(|r| r.grace))
            .unwrap_or(DEFAULT_GRACE);
        match (every, generator) {
            (Some(every), Some(generator)) if !every.is_zero() => Ok(Some(Policy {
                every,
                generator,
                grace,
                origin: match rule {
                    Some(r) if !from_annotations => format!("{}:{}", self.file, r.line),
                    Some(r) => format!("annotations, {}:{}", self.file, r.line),
                    None => "annotations".to_owned(),
                },
            })),
            (Some(_), None) if annotations.contains_key(crate::ROTATE_EVERY) && rule.is_none() => {
                // A period without a generator is an age policy only (the
                // inventory's staleness check), not a rotation.
                Ok(None)
            }
            (None, Some(_)) => Err(PolicyError::Generator(format!(
                "a generator needs a period: set {} (e.g. 30d)",
                crate::ROTATE_EVERY
            ))),
            _ => Ok(None),
        }
    }
}

fn parse_rule(item: &Node, err: &dyn Fn(u32, String) -> PolicyError) -> Result<Rule, PolicyError> {
    if !item.is_map() {
        return Err(err(
            item.pos.line,
            "a rotation rule must be a mapping".into(),
        ));
    }
    let mut r = Rule {
        namespace: None,
        name: None,
        every: None,
        generator: None,
        grace: None,
        line: item.pos.line,
    };
    for e in item.entries() {
        let line = e.value.pos.line;
        let text = e
            .value
            .as_str()
            .ok_or_else(|| err(line, format!("{} must be a string", e.key)))?;
        let glob = |t: &str| {
            Glob::new(t)
                .map(|g| g.compile_matcher())
                .map_err(|x| err(line, format!("bad glob {t:?}: {x}")))
        };
        let dur = |t: &str| {
            t.parse::<Duration>().map_err(|_| {
                err(
                    line,
                    format!("{} {t:?} is not a duration (e.g. 30d)", e.key),
                )
            })
        };
        match e.key.as_str() {
            "namespace" => r.namespace = Some(glob(text)?),
            "name" => r.name = Some(glob(text)?),
            "every" => r.every = Some(dur(text)?),
            "grace" => r.grace = Some(dur(text)?),
            "generator" => {
                r.generator = Some(parse_generator(text).map_err(|x| err(line, x.to_string()))?);
            }
            other => {
                return Err(err(
                    e.key_pos.line,
                    format!(
                        "unknown key {other:?} (expected namespace, name, every, generator, grace)"
                    ),
                ));
            }
        }
    }
    if r.every.is_none() || r.generator.is_none() {
        return Err(err(
            r.line,
            "a rotation rule needs every and generator".into(),
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_every_generator() {
        assert_eq!(
            parse_generator("password").unwrap(),
            Generator::Password {
                length: 32,
                alphabet: Alphabet::named("alnum").unwrap(),
                key: "password".into()
            }
        );
        let g = parse_generator("password length=12 alphabet=hex key=db-password").unwrap();
        assert_eq!(g.keys(), ["db-password"]);
        assert!(matches!(
            parse_generator("bytes length=64").unwrap(),
            Generator::Bytes { length: 64, .. }
        ));
        assert_eq!(
            parse_generator("ed25519").unwrap().keys(),
            ["private.pem", "public.pem"]
        );
        let x = parse_generator(
            "x509 cn=api dns=api.llm.svc,api.llm.svc.cluster.local ip=10.0.0.7 days=30 issuer=llm/ca",
        )
        .unwrap();
        let Generator::X509(x) = &x else { panic!() };
        assert_eq!(x.dns.len(), 2);
        assert_eq!(x.issuer, Some(("llm".into(), "ca".into())));
        assert_eq!(
            parse_generator("x509 cn=ca ca=true").unwrap().keys(),
            ["tls.crt", "tls.key"]
        );
    }

    #[test]
    fn refuses_bad_generators() {
        for g in [
            "",
            "pasword",
            "password length=0",
            "password length=99999",
            "password alphabet=emoji",
            "password chars=a",
            "password length=3 length=4",
            "password key=a/b",
            "password colour=red",
            "bytes=3",
            "x509",
            "x509 cn=a ip=999.1.1.1",
            "x509 cn=a dns=a_b",
            "x509 cn=a issuer=",
            "x509 cn=a key=rsa",
            "ed25519 private=a public=a",
        ] {
            assert!(parse_generator(g).is_err(), "{g:?} parsed");
        }
    }

    fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn annotations_override_the_config_rule() {
        let set = PolicySet::parse(
            "palisade.yaml",
            "rules: {disable: []}\nsecrets:\n  rotation:\n    - namespace: llm\n      name: 'db-*'\n      every: 30d\n      generator: password length=20\n      grace: 1h\n",
        )
        .unwrap();
        let p = set.resolve("llm", "db-main", &ann(&[])).unwrap().unwrap();
        assert_eq!(p.every, Duration::days(30));
        assert_eq!(p.origin, "palisade.yaml:4");
        let p = set
            .resolve(
                "llm",
                "db-main",
                &ann(&[("palisade.dev/rotate-every", "7d")]),
            )
            .unwrap()
            .unwrap();
        assert_eq!(p.every, Duration::days(7));
        assert!(matches!(
            p.generator,
            Generator::Password { length: 20, .. }
        ));
        assert!(set.resolve("web", "db-main", &ann(&[])).unwrap().is_none());
        // A period alone is an age policy, not a rotation.
        assert!(
            PolicySet::default()
                .resolve("a", "b", &ann(&[("palisade.dev/rotate-every", "7d")]))
                .unwrap()
                .is_none()
        );
        assert!(
            PolicySet::default()
                .resolve("a", "b", &ann(&[(GENERATOR, "bytes")]))
                .is_err()
        );
        assert!(
            PolicySet::default()
                .resolve(
                    "a",
                    "b",
                    &ann(&[(GENERATOR, "bytes"), ("palisade.dev/rotate-every", "soon")])
                )
                .is_err()
        );
    }

    #[test]
    fn config_mistakes_point_at_their_line() {
        let e =
            PolicySet::parse("p.yaml", "secrets:\n  rotation:\n    - every: 30d\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.yaml:3: a rotation rule needs every and generator"
        );
        let e = PolicySet::parse(
            "p.yaml",
            "secrets:\n  rotation:\n    - every: 30d\n      generator: nope\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("p.yaml:4: generator:"), "{e}");
        assert!(PolicySet::parse("p.yaml", "secrets: [1]\n").is_err());
        assert!(PolicySet::parse("p.yaml", "secrets:\n  rotate: []\n").is_err());
        assert!(PolicySet::parse("p.yaml", "{{{").is_err());
        assert!(PolicySet::parse("p.yaml", "").unwrap().rules.is_empty());
    }
}
