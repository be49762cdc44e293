//! Who is calling: API keys (kept only as SHA-256 hashes and compared in
//! constant time) and JWTs verified against a JWKS file, each mapped to a
//! tenant. Credentials are never logged or echoed.

use crate::config::{GatewayConfig, JwtConfig};
use crate::error::ApiError;
use http::HeaderMap;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A JWKS that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthSetupError {
    /// The JWKS file could not be read.
    #[error("cannot read JWKS {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The JWKS file is not a JWK set.
    #[error("{path} is not a JWK set: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// A key of the set cannot verify signatures.
    #[error("{path}: key {kid:?} is unusable: {message}")]
    Key {
        /// The file.
        path: String,
        /// The key ID.
        kid: String,
        /// Why.
        message: String,
    },
}

/// Asymmetric algorithms accepted. `none` and the HMAC family are never
/// accepted: a JWKS holds public keys, and an HS256 token "signed" with a
/// public key is the classic algorithm-confusion attack.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

struct JwtKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    key: DecodingKey,
}

struct JwtVerifier {
    keys: Vec<JwtKey>,
    cfg: JwtConfig,
}

/// Maps credentials to tenants.
pub struct Authenticator {
    keys: Vec<([u8; 32], String)>,
    jwt: Option<JwtVerifier>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("keys", &self.keys.len())
            .field("jwt", &self.jwt.as_ref().map(|j| j.keys.len()))
            .finish()
    }
}

/// The presented credential, if any: `Authorization: Bearer X` or `x-api-key: X`.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim());
        }
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn looks_like_jwt(t: &str) -> bool {
    t.starts_with("eyJ") && t.bytes().filter(|&b| b == b'.').count() == 2
}

impl Authenticator {
    /// Builds the authenticator from a validated configuration, reading the JWKS file.
    pub fn new(cfg: &GatewayConfig) -> Result<Authenticator, AuthSetupError> {
        let mut keys = Vec::new();
        for t in &cfg.tenants {
            for h in &t.key_hashes {
                keys.push((*h, t.id.clone()));
            }
        }
        let jwt = match &cfg.jwt {
            None => None,
            Some(j) => {
                let path = j.jwks.display().to_string();
                let text =
                    std::fs::read_to_string(&j.jwks).map_err(|source| AuthSetupError::Read {
                        path: path.clone(),
                        source,
                    })?;
                let set: JwkSet =
                    serde_json::from_str(&text).map_err(|source| AuthSetupError::Parse {
                        path: path.clone(),
                        source,
                    })?;
                let mut out = Vec::new();
                for k in &set.keys {
                    let kid = k.common.key_id.clone();
                    let key = DecodingKey::from_jwk(k).map_err(|e| AuthSetupError::Key {
                        path: path.clone(),
                        kid: kid.clone().unwrap_or_default(),
                        message: e.to_string(),
                    })?;
                    let alg = k
                        .common
                        .key_algorithm
                        .and_then(|a| a.to_string().parse::<Algorithm>().ok());
                    if let Some(a) = alg
                        && !ALLOWED.contains(&a)
                    {
                        return Err(AuthSetupError::Key {
                            path: path.clone(),
                            kid: kid.clone().unwrap_or_default(),
                            message: format!(
                                "algorithm {a:?} is not accepted (asymmetric algorithms only)"
                            ),
                        });
                    }
                    out.push(JwtKey { kid, alg, key });
                }
                Some(JwtVerifier {
                    keys: out,
                    cfg: j.clone(),
                })
            }
        };
        Ok(Authenticator { keys, jwt })
    }

    /// Resolves the tenant of a request, or a 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        let Some(token) = credential(headers) else {
            return Err(ApiError::unauthenticated(
                "you didn't provide an API key: send `Authorization: Bearer KEY`",
            ));
        };
        if token.is_empty() || token.len() > 16 * 1024 {
            return Err(ApiError::unauthenticated("invalid API key"));
        }
        if let Some(j) = &self.jwt
            && looks_like_jwt(token)
        {
            return j.verify(token);
        }
        self.api_key(token)
            .ok_or_else(|| ApiError::unauthenticated("incorrect API key provided"))
    }

    /// The tenant owning an API key. Every stored hash is compared, in
    /// constant time, whatever matches first.
    pub fn api_key(&self, key: &str) -> Option<String> {
        let h: [u8; 32] = Sha256::digest(key.trim().as_bytes()).into();
        let mut found: Option<&str> = None;
        for (stored, tenant) in &self.keys {
            if bool::from(stored.ct_eq(&h)) {
                found = Some(tenant);
            }
        }
        found.map(str::to_owned)
    }
}

impl JwtVerifier {
    fn verify(&self, token: &str) -> Result<String, ApiError> {
        let bad = |why: &str| ApiError::unauthenticated(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed header"))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(bad("algorithm not accepted"));
        }
        let candidates: Vec<&JwtKey> = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .collect(),
            None => self.keys.iter().collect(),
        };
        if candidates.is_empty() {
            return Err(bad("unknown key id"));
        }
        let mut v = Validation::new(header.alg);
        v.algorithms = vec![header.alg];
        v.set_required_spec_claims(&["exp"]);
        v.leeway = 30;
        match &self.cfg.issuer {
            Some(i) => v.set_issuer(&[i]),
            None => v.iss = None,
        }
        match &self.cfg.audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        let mut last = bad("signature does not verify");
        for k in candidates {
            if k.alg.is_some_and(|a| a != header.alg) {
                continue;
            }
            match jsonwebtoken::decode::<serde_json::Value>(token, &k.key, &v) {
                Ok(data) => {
                    return data
                        .claims
                        .get(&self.cfg.tenant_claim)
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| bad("no tenant claim"));
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last = match e.kind() {
                        K::ExpiredSignature => bad("expired"),
                        K::InvalidIssuer => bad("wrong issuer"),
                        K::InvalidAudience => bad("wrong audience"),
                        K::ImmatureSignature => bad("not valid yet"),
                        K::MissingRequiredClaim(_) => bad("missing exp"),
                        _ => bad("signature does not verify"),
                    };
                }
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Env, GatewayConfig};
    use http::HeaderValue;
    use std::path::Path;

    struct NoEnv;
    impl Env for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn api_keys_map_to_tenants() {
        let a = hex::encode(crate::config::hash_key("key-a"));
        let b = hex::encode(crate::config::hash_key("key-b"));
        let cfg = GatewayConfig::parse(
            "t.yaml",
            &format!("upstreams: [{{name: u, url: 'http://x'}}]\ntenants:\n  - {{id: a, apiKeys: [{{sha256: {a}}}]}}\n  - {{id: b, apiKeys: [{{sha256: {b}}}]}}\n"),
            Path::new("."),
            &NoEnv,
        )
        .unwrap();
        let auth = Authenticator::new(&cfg).unwrap();
        assert_eq!(auth.authenticate(&headers("Bearer key-a")).unwrap(), "a");
        assert_eq!(auth.authenticate(&headers("Bearer key-b")).unwrap(), "b");
        let e = auth.authenticate(&headers("Bearer key-c")).unwrap_err();
        assert_eq!(e.status, 401);
        assert!(
            !e.body().contains("key-c"),
            "the key is echoed: {}",
            e.body()
        );
        assert_eq!(
            auth.authenticate(&HeaderMap::new()).unwrap_err().status,
            401
        );
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("key-a"));
        assert_eq!(auth.authenticate(&h).unwrap(), "a");
        assert!(!format!("{auth:?}").contains(&a));
    }
}
