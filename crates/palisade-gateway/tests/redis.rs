//! The Redis store against real Redis servers: the shared one `.ci/run`
//! starts (`PALISADE_TEST_REDIS_URL`), and one each test spawns itself to
//! stop and restart.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::many_single_char_names,
    clippy::disallowed_macros
)]

mod common;

use common::*;
use palisade_gateway::config::{Budget, Rate, Window, WindowKind};
use palisade_gateway::error::rules;
use palisade_gateway::store::{Admission, AdmitRequest, Limits, RedisStore, Store};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The shared server's URL, or `None` (with a loud message) on a developer
/// machine without one. Under CI a missing server fails the test.
fn redis_url() -> Option<String> {
    match std::env::var("PALISADE_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but PALISADE_TEST_REDIS_URL is not: .ci/run must start redis-server"
            );
            eprintln!(
                "SKIPPED: PALISADE_TEST_REDIS_URL is not set (bash .ci/run starts a redis-server)"
            );
            None
        }
    }
}

fn redis_binary() -> Option<&'static str> {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some("redis-server");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but redis-server is not installed: .ci/run must install it"
    );
    eprintln!("SKIPPED: redis-server is not installed (apt-get install -y redis-server)");
    None
}

fn unique_prefix(name: &str) -> String {
    format!(
        "test:{name}:{}:{}:",
        std::process::id(),
        palisade_gateway::store::now_us()
    )
}

struct OwnRedis(Child);

impl OwnRedis {
    async fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        OwnRedis(child)
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn req(limits: &Limits, tokens: u64, now: u64) -> AdmitRequest<'_> {
    AdmitRequest {
        tenant: "t",
        limits,
        tokens,
        now_us: now,
        ttl: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn redis_store_matches_the_memory_store_semantics() {
    let Some(url) = redis_url() else { return };
    let s = RedisStore::new(
        &url,
        &unique_prefix("semantics"),
        Duration::from_millis(500),
    )
    .unwrap();
    s.ping().await.unwrap();
    let now = palisade_gateway::store::now_us();
    let l = Limits {
        budgets: vec![Budget {
            window: Window::Day,
            kind: WindowKind::Calendar,
            tokens: 100,
        }],
        max_concurrent: Some(2),
        ..Limits::default()
    };
    let Admission::Admitted(a) = s.admit(req(&l, 60, now)).await.unwrap() else {
        panic!()
    };
    let Admission::Denied(d) = s.admit(req(&l, 60, now)).await.unwrap() else {
        panic!()
    };
    assert_eq!(d.rule, rules::BUDGET, "reserved tokens count");
    assert!(d.message.contains("per day"));
    let Admission::Admitted(b) = s.admit(req(&l, 10, now)).await.unwrap() else {
        panic!()
    };
    let Admission::Denied(d) = s.admit(req(&l, 1, now)).await.unwrap() else {
        panic!()
    };
    assert_eq!(d.rule, rules::CONCURRENCY);
    s.settle("t", &l, &a, 20, now).await.unwrap();
    s.settle("t", &l, &b, 5, now).await.unwrap();
    assert_eq!(s.spent("t", &l.budgets[0], now).await.unwrap(), 25);
    // GCRA: two per second, burst two.
    let r = Limits {
        requests: Some(Rate {
            rate: 2,
            period: Duration::from_secs(1),
            burst: 2,
        }),
        ..Limits::default()
    };
    let t0 = now + 10_000_000;
    for _ in 0..2 {
        assert!(matches!(
            s.admit(AdmitRequest {
                tenant: "g",
                ..req(&r, 0, t0)
            })
            .await
            .unwrap(),
            Admission::Admitted(_)
        ));
    }
    let Admission::Denied(d) = s
        .admit(AdmitRequest {
            tenant: "g",
            ..req(&r, 0, t0)
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!((d.rule, d.retry_after), (rules::REQUEST_RATE, 1));
    assert!(matches!(
        s.admit(AdmitRequest {
            tenant: "g",
            ..req(&r, 0, t0 + 500_000)
        })
        .await
        .unwrap(),
        Admission::Admitted(_)
    ));
    // A reservation that is never settled expires.
    let c = Limits {
        max_concurrent: Some(1),
        ..Limits::default()
    };
    assert!(matches!(
        s.admit(AdmitRequest {
            tenant: "c",
            ..req(&c, 1, now)
        })
        .await
        .unwrap(),
        Admission::Admitted(_)
    ));
    assert!(matches!(
        s.admit(AdmitRequest {
            tenant: "c",
            ..req(&c, 1, now)
        })
        .await
        .unwrap(),
        Admission::Denied(_)
    ));
    assert!(matches!(
        s.admit(AdmitRequest {
            tenant: "c",
            ..req(&c, 1, now + 61_000_000)
        })
        .await
        .unwrap(),
        Admission::Admitted(_)
    ));
}

#[tokio::test]
async fn hundred_concurrent_requests_through_redis_never_overspend() {
    let Some(url) = redis_url() else { return };
    let up = stand_in(1, 40).await;
    let budget = 2000;
    let prefix = unique_prefix("invariant");
    let tenant = format!(
        "    budgets: [{{window: day, tokens: {budget}}}, {{window: hour, kind: rolling, tokens: 100000}}]\n"
    );
    let yaml = format!(
        "{}store: {{kind: redis, url: '{url}', prefix: '{prefix}'}}\n",
        base_yaml(up.addr, &tenant)
    );
    let gw = gateway(config(&yaml), vec![]).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let addr = gw.addr;
        tasks.push(tokio::spawn(async move {
            post(
                addr,
                "/v1/chat/completions",
                Some(KEY),
                &chat(&format!("request number {i}"), i % 2 == 1, 40),
            )
            .await
            .status
        }));
    }
    let (mut ok, mut limited) = (0u64, 0u64);
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    assert!(ok > 0 && limited > 0, "ok {ok}, limited {limited}");
    let store = Arc::clone(&gw.gw.state.shared().store);
    let b = gw.gw.state.runtime().cfg.tenants[0].budgets[0];
    let mut spent = 0;
    for _ in 0..100 {
        let a = store
            .spent("demo", &b, palisade_gateway::store::now_us())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        spent = store
            .spent("demo", &b, palisade_gateway::store::now_us())
            .await
            .unwrap();
        if a == spent && spent > 0 {
            break;
        }
    }
    let one_reservation = 12 + 40 + 8;
    assert!(
        spent <= budget + one_reservation,
        "spent {spent} of {budget}"
    );
    assert_eq!(
        up.state
            .completion_tokens
            .load(std::sync::atomic::Ordering::Relaxed),
        ok * 40
    );
}

#[tokio::test]
async fn redis_outage_fails_closed_then_recovers() {
    if redis_binary().is_none() {
        return;
    }
    let port = common::free_port();
    let mut redis = OwnRedis::start(port).await;
    let up = stand_in(0, 4).await;
    let yaml = format!(
        "{}store: {{kind: redis, url: 'redis://127.0.0.1:{port}/'}}\n",
        base_yaml(up.addr, "    budgets: [{window: day, tokens: 100000}]\n")
    );
    let gw = gateway(config(&yaml), vec![]).await;
    let open_yaml = yaml.replace("/'}", "/', failOpen: true}");
    let gw_open = gateway(config(&open_yaml), vec![]).await;
    let ask = |addr| async move {
        post(
            addr,
            "/v1/chat/completions",
            Some(KEY),
            &chat("hi", false, 4),
        )
        .await
    };
    assert_eq!(ask(gw.addr).await.status, 200);
    let ready = send(gw.addr, "GET", "/readyz", None, bytes::Bytes::new()).await;
    assert_eq!(ready.status, 200, "{}", ready.body);

    redis.stop();
    let r = ask(gw.addr).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "budget_store_unavailable");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(
        send(gw.addr, "GET", "/readyz", None, bytes::Bytes::new())
            .await
            .status,
        503
    );
    // failOpen admits without accounting.
    assert_eq!(ask(gw_open.addr).await.status, 200);
    // Still serving other routes: the gateway did not crash.
    assert_eq!(
        send(gw.addr, "GET", "/healthz", None, bytes::Bytes::new())
            .await
            .status,
        200
    );

    let _redis = OwnRedis::start(port).await;
    let mut status = 0;
    for _ in 0..100 {
        status = ask(gw.addr).await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "recovers when Redis returns");
    let metrics = send(gw.addr, "GET", "/metrics", None, bytes::Bytes::new())
        .await
        .body;
    assert!(
        metrics.contains("palisade_gateway_store_errors_total"),
        "{metrics}"
    );
}
