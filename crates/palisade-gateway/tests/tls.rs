//! TLS (rustls, ring) to clients and to upstreams, and HTTP/2: a client
//! speaks h2 over TLS to gateway B, whose upstream is gateway A over TLS
//! (verified against a test CA), whose upstream is the stand-in.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use axum::body::Body;
use common::*;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::path::Path;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[tokio::test]
async fn tls_both_ways_and_http2() {
    let up = stand_in(0, 4).await;
    let tls = format!(
        "tls: {{cert: '{}', key: '{}'}}\n",
        fixture("tls-server.pem"),
        fixture("tls-server.key")
    );
    let a = gateway(config(&format!("{tls}{}", base_yaml(up.addr, ""))), vec![]).await;
    // B reaches A over https, trusting only the test CA.
    let b_yaml = format!(
        "{tls}audit: {{path: 'off'}}\nupstreams:\n  - {{name: a, url: 'https://localhost:{}', caFile: '{}'}}\ntenants:\n  - id: demo\n    apiKeys: [{{env: TEST_KEY}}]\n",
        a.addr.port(),
        fixture("tls-ca.pem")
    );
    let b = gateway(config(&b_yaml), vec![]).await;

    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::pem::PemObject::pem_file_iter(fixture("tls-ca.pem")).unwrap() {
        let c: rustls_pki_types::CertificateDer<'static> = c.unwrap();
        roots.add(c).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_only()
        .enable_http2()
        .build();
    let client: Client<_, Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(https);
    let req = http::Request::post(format!(
        "https://localhost:{}/v1/chat/completions",
        b.addr.port()
    ))
    .header("authorization", format!("Bearer {KEY}"))
    .header("content-type", "application/json")
    .body(Body::from(chat("hi", false, 4).to_string()))
    .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(
        resp.version(),
        http::Version::HTTP_2,
        "h2 negotiated by ALPN"
    );
    let status = resp.status();
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    // The request crossed B's TLS listener, B's TLS client and A's TLS
    // listener; A refused it because B never forwards the client's key.
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("authentication_error"));
    // Straight to A over TLS, with the key: the stand-in answers.
    let req = http::Request::post(format!(
        "https://localhost:{}/v1/chat/completions",
        a.addr.port()
    ))
    .header("authorization", format!("Bearer {KEY}"))
    .body(Body::from(chat("hi", false, 4).to_string()))
    .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    // A plain-HTTP client cannot talk to the TLS port.
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        common::client().request(
            http::Request::get(format!("http://{}/healthz", a.addr))
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await
    .unwrap();
    assert!(r.is_err() || !r.unwrap().status().is_success());
}

#[tokio::test]
async fn http2_cleartext_prior_knowledge() {
    let up = stand_in(0, 4).await;
    let gw = gateway(config(&base_yaml(up.addr, "")), vec![]).await;
    let client: Client<_, Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = http::Request::post(format!("http://{}/v1/chat/completions", gw.addr))
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::from(chat("hi", true, 4).to_string()))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(sse_text(&body), " The quick brown fox");
}
