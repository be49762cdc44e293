//! Open-loop HTTP load generator for `bench/gateway/run.sh`: sends requests
//! on a fixed schedule (`--rate` per second) whatever the server does, and
//! measures each latency from the request's *scheduled* send time, so a
//! stalled server shows up as latency instead of silently lowering the rate
//! (no coordinated omission; the method of wrk2 and `oha --latency-correction`).
//!
//! A dedicated OS thread keeps the schedule with `std::thread::sleep`
//! (tens of microseconds of slack instead of tokio's 1 ms timer wheel) and
//! hands each request to a single-threaded tokio runtime that runs a pooled
//! keep-alive HTTP/1.1 client. Latencies are kept exactly (one `u32` of
//! microseconds per request) and sorted for the percentiles.
//!
//! ```text
//! cargo build --release -p palisade-gateway --example openloop
//! target/release/examples/openloop --url http://127.0.0.1:18000/v1/chat/completions \
//!     --rate 1000 --duration 10 --warmup 2 --body '{"model":"m","messages":[]}' \
//!     --header 'authorization: Bearer sk-...'
//! ```
//!
//! Prints one JSON object: requests sent and measured, errors, non-2xx,
//! the achieved rate, and p50/p90/p99/p99.9/max in milliseconds.

// A command-line tool: it reports on standard output and errors on standard error.
#![allow(clippy::disallowed_macros)]

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    url: http::Uri,
    rate: f64,
    duration: f64,
    warmup: f64,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
    max_inflight: usize,
}

fn usage() -> &'static str {
    "usage: openloop --url URL [--rate N] [--duration SECS] [--warmup SECS] [--body JSON] \
     [--header 'name: value']... [--max-inflight N]"
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut a = Args {
        url: http::Uri::default(),
        rate: 1000.0,
        duration: 10.0,
        warmup: 1.0,
        body: Bytes::new(),
        headers: Vec::new(),
        max_inflight: 512,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(usage().to_owned());
        }
        let v = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let num = |v: &str| -> Result<f64, String> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--url" => url = Some(v.parse().map_err(|e| format!("--url {v}: {e}"))?),
            "--rate" => a.rate = num(&v)?,
            "--duration" => a.duration = num(&v)?,
            "--warmup" => a.warmup = num(&v)?,
            "--body" => a.body = Bytes::from(v),
            "--max-inflight" => {
                a.max_inflight = v
                    .parse()
                    .map_err(|_| format!("--max-inflight: not a count: {v}"))?;
            }
            "--header" | "-H" => {
                let (n, val) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--header {v}: expected 'name: value'"))?;
                let n = HeaderName::try_from(n.trim()).map_err(|e| format!("--header: {e}"))?;
                let val =
                    HeaderValue::try_from(val.trim()).map_err(|e| format!("--header: {e}"))?;
                a.headers.push((n, val));
            }
            _ => return Err(format!("unknown flag {flag}\n{}", usage())),
        }
    }
    a.url = url.ok_or_else(|| format!("--url is required\n{}", usage()))?;
    if a.rate < 1.0 || a.duration <= 0.0 || a.max_inflight == 0 {
        return Err("--rate must be >= 1, --duration > 0, --max-inflight > 0".into());
    }
    Ok(a)
}

#[derive(Default)]
struct Results {
    /// Microseconds from the scheduled send time to the end of the body.
    latencies: Vec<u32>,
    errors: u64,
    non_2xx: u64,
    /// Requests not sent because `--max-inflight` were outstanding.
    dropped: u64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

#[allow(clippy::too_many_lines)]
fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.max_inflight)
        .build(conn);
    let results = Arc::new(Mutex::new(Results::default()));
    let inflight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handle = rt.handle().clone();
    let total_secs = args.warmup + args.duration;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let total = (total_secs * args.rate).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let warmup = Duration::from_secs_f64(args.warmup);

    // The schedule keeper: an OS thread, so the timer is precise and the
    // runtime's own load cannot delay a send without it being measured.
    let sched = {
        let (args, results, inflight, client) = (
            Arc::clone(&args),
            Arc::clone(&results),
            Arc::clone(&inflight),
            client.clone(),
        );
        std::thread::spawn(move || {
            let start = Instant::now() + Duration::from_millis(20);
            for i in 0..total {
                #[allow(clippy::cast_precision_loss)]
                let due = start + interval.mul_f64(i as f64);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let measured = due.duration_since(start) >= warmup;
                if inflight.load(std::sync::atomic::Ordering::Relaxed) >= args.max_inflight {
                    if measured {
                        lock(&results).dropped += 1;
                    }
                    continue;
                }
                inflight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut req = Request::new(Full::new(args.body.clone()));
                *req.method_mut() = if args.body.is_empty() {
                    Method::GET
                } else {
                    Method::POST
                };
                *req.uri_mut() = args.url.clone();
                for (n, v) in &args.headers {
                    req.headers_mut().append(n.clone(), v.clone());
                }
                let (client, results, inflight) =
                    (client.clone(), Arc::clone(&results), Arc::clone(&inflight));
                handle.spawn(async move {
                    let outcome = match client.request(req).await {
                        Ok(resp) => {
                            let ok = resp.status().is_success();
                            match resp.into_body().collect().await {
                                Ok(_) => Some(ok),
                                Err(_) => None,
                            }
                        }
                        Err(_) => None,
                    };
                    let lat = Instant::now().saturating_duration_since(due);
                    inflight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    if !measured {
                        return;
                    }
                    let mut r = lock(&results);
                    match outcome {
                        Some(ok) => {
                            if !ok {
                                r.non_2xx += 1;
                            }
                            r.latencies
                                .push(u32::try_from(lat.as_micros()).unwrap_or(u32::MAX));
                        }
                        None => r.errors += 1,
                    }
                });
            }
        })
    };
    let begun = Instant::now();
    rt.block_on(async {
        while !sched.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Let the last requests finish (or give up on them after 10 s).
        let deadline = Instant::now() + Duration::from_secs(10);
        while inflight.load(std::sync::atomic::Ordering::Relaxed) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let _ = sched.join();
    let elapsed = begun.elapsed().as_secs_f64() - args.warmup;
    let mut r = lock(&results);
    let unfinished = inflight.load(std::sync::atomic::Ordering::Relaxed) as u64;
    r.latencies.sort_unstable();
    let n = r.latencies.len();
    #[allow(clippy::cast_precision_loss)]
    let achieved = n as f64 / elapsed.max(1e-9);
    println!(
        "{{\"rate\":{},\"duration_s\":{},\"measured\":{n},\"achieved_rps\":{achieved:.1},\"errors\":{},\"non_2xx\":{},\"dropped\":{},\"unfinished\":{unfinished},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"max_ms\":{:.3}}}",
        args.rate,
        args.duration,
        r.errors,
        r.non_2xx,
        r.dropped,
        percentile(&r.latencies, 50.0),
        percentile(&r.latencies, 90.0),
        percentile(&r.latencies, 99.0),
        percentile(&r.latencies, 99.9),
        percentile(&r.latencies, 100.0),
    );
    if n == 0 || r.errors > 0 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn lock(m: &Mutex<Results>) -> std::sync::MutexGuard<'_, Results> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
