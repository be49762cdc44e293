//! The proxy pipeline's hook points, in the shape of pingora's
//! `ProxyHttp` trait: a request filter that may refuse, an upstream request
//! filter that may rewrite the body, a response filter that sees every
//! streamed text chunk, and a logging hook that always runs once.
//!
//! Content filters plug in here; the gateway itself never inspects text
//! beyond counting tokens.

use crate::audit::AuditRecord;
use crate::config::TenantConfig;
use crate::error::ApiError;
use crate::openai::ParsedRequest;
use http::HeaderMap;
use serde_json::{Map, Value};

/// What the hooks know about the request being proxied.
#[derive(Debug, Default)]
pub struct RequestCtx {
    /// Tenant ID.
    pub tenant: String,
    /// Requested model.
    pub model: String,
    /// Rule IDs that fired (refusals, flags, redactions).
    pub rules: Vec<&'static str>,
    /// Headers added to the client's response.
    pub response_headers: HeaderMap,
    /// Free-form notes for the audit record (never prompt text).
    pub notes: Vec<String>,
}

/// A stateful filter over the text of one streamed answer (one per choice).
/// It may hold text back (a secret split across chunks) and must return
/// everything it held when the stream ends.
pub trait TextFilter: Send {
    /// Filters the next piece of text; returns what may be sent now.
    fn push(&mut self, text: &str) -> String;
    /// The stream ended: returns the rest.
    fn finish(&mut self) -> String;
    /// How many matches were redacted so far.
    fn redactions(&self) -> usize;
    /// A match requires the answer to stop (a leaked canary): the gateway
    /// ends the stream.
    fn blocked(&self) -> bool {
        false
    }
}

/// A proxy hook. Every method has a default that does nothing.
pub trait ProxyHooks: Send + Sync + 'static {
    /// Runs after authentication and parsing, before limits are checked:
    /// refuse with an error, or note rules and headers in `ctx`.
    fn request_filter(
        &self,
        _ctx: &mut RequestCtx,
        _tenant: &TenantConfig,
        _req: &ParsedRequest,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Rewrites the body sent upstream.
    fn upstream_request_filter(
        &self,
        _ctx: &mut RequestCtx,
        _tenant: &TenantConfig,
        _body: &mut Map<String, Value>,
    ) {
    }

    /// A filter for the text of one answer choice, if this hook filters output.
    fn response_text_filter(&self, _tenant: &TenantConfig) -> Option<Box<dyn TextFilter>> {
        None
    }

    /// Runs once per request, whatever happened.
    fn logging(&self, _record: &AuditRecord) {}
}

/// Several text filters applied in order.
#[allow(missing_debug_implementations)]
pub struct Chain(pub Vec<Box<dyn TextFilter>>);

impl TextFilter for Chain {
    fn push(&mut self, text: &str) -> String {
        let mut t = text.to_owned();
        for f in &mut self.0 {
            t = f.push(&t);
        }
        t
    }

    fn finish(&mut self) -> String {
        let mut carry = String::new();
        for f in &mut self.0 {
            let mut t = f.push(&carry);
            t.push_str(&f.finish());
            carry = t;
        }
        carry
    }

    fn redactions(&self) -> usize {
        self.0.iter().map(|f| f.redactions()).sum()
    }

    fn blocked(&self) -> bool {
        self.0.iter().any(|f| f.blocked())
    }
}
