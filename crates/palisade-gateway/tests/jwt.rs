//! JWTs verified against a JWKS file (ES256 and RS256 keys made for these
//! tests), mapped to tenants; every bad token is a 401.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn token(alg: Algorithm, kid: &str, key_file: &str, claims: &serde_json::Value) -> String {
    let pem = std::fs::read(fixture(key_file)).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    let mut h = Header::new(alg);
    h.kid = Some(kid.to_owned());
    encode(&h, claims, &key).unwrap()
}

fn now() -> u64 {
    palisade_gateway::store::now_us() / 1_000_000
}

#[tokio::test]
async fn jwts_map_to_tenants_and_bad_ones_are_refused() {
    let up = stand_in(0, 2).await;
    let yaml = format!(
        "{}jwt: {{jwks: '{}', issuer: https://idp.example, audience: palisade}}\n",
        base_yaml(up.addr, ""),
        fixture("jwks.json").display()
    );
    let gw = gateway(config(&yaml), vec![]).await;
    let good = json!({"iss": "https://idp.example", "aud": "palisade", "exp": now() + 600, "tenant": "demo", "sub": "alice"});
    let ask = |t: String| async move {
        post(
            gw.addr,
            "/v1/chat/completions",
            Some(&t),
            &chat("hi", false, 2),
        )
        .await
    };
    for t in [
        token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &good),
        token(Algorithm::RS256, "rsa-1", "jwt-rs256.pem", &good),
    ] {
        let r = ask(t).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let mut expired = good.clone();
    expired["exp"] = json!(now() - 3600);
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("other");
    let mut unknown_tenant = good.clone();
    unknown_tenant["tenant"] = json!("nobody");
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    // Algorithm confusion: HS256 "signed" with the public JWKS text as the secret.
    let hs = {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("ec-1".into());
        encode(
            &h,
            &good,
            &EncodingKey::from_secret(&std::fs::read(fixture("jwks.json")).unwrap()),
        )
        .unwrap()
    };
    let cases = [
        (
            "expired",
            token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &expired),
        ),
        (
            "wrong issuer",
            token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &wrong_iss),
        ),
        (
            "wrong audience",
            token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &wrong_aud),
        ),
        (
            "unknown tenant",
            token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &unknown_tenant),
        ),
        (
            "no exp",
            token(Algorithm::ES256, "ec-1", "jwt-es256.pem", &no_exp),
        ),
        (
            "untrusted key",
            token(Algorithm::ES256, "ec-1", "jwt-untrusted-es256.pem", &good),
        ),
        (
            "unknown kid",
            token(Algorithm::ES256, "ec-9", "jwt-es256.pem", &good),
        ),
        ("HS256 confusion", hs),
        ("garbage", "eyJhbGciOi.eyJ.x".to_owned()),
    ];
    for (what, t) in cases {
        let r = ask(t).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.json()["error"]["type"], "authentication_error", "{what}");
    }
}
