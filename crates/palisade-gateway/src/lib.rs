//! `palisade-gateway`: the inference security proxy. It sits in front of
//! OpenAI-compatible inference servers (vLLM, TGI, SGLang, KServe, NIM),
//! authenticates tenants, refuses over-budget requests before they are
//! spent, runs content filters on prompts and on streamed answers, and
//! writes an audit record for every decision.
//!
//! The service is a router built by a function ([`app`]), testable without
//! sockets; [`server`] binds it to TCP or TLS listeners with graceful
//! shutdown and configuration reload.

pub mod anomaly;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod config;
pub mod error;
pub mod guard;
pub mod hooks;
pub mod metrics;
pub mod openai;
pub mod proxy;
pub mod server;
pub mod sse;
pub mod standin;
pub mod store;
pub mod tokens;
pub mod upstream;

pub use proxy::{AppState, Runtime, Shared, app};
