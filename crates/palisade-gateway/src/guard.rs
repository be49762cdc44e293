//! The content filters of `palisade-guard` on the proxy's hook points: the
//! prompt-injection detector as the request filter, the stream redactor
//! (secrets, PII, canary tokens) as the response text filter.

use crate::config::{InjectionAction, OutputAction, TenantConfig};
use crate::error::{ApiError, rules};
use crate::hooks::{ProxyHooks, RequestCtx, TextFilter};
use crate::openai::{ParsedRequest, Source};
use http::HeaderValue;
use palisade_guard::{Canary, InputConfig, InputGuard, OutputConfig, OutputGuard, StreamRedactor};
use std::collections::HashMap;
use std::sync::Mutex;

/// Bytes of a streamed answer held back for matches split across chunks.
const STREAM_HOLD_BACK: usize = 64;

/// The guard could not be built.
#[derive(Debug, thiserror::Error)]
#[error("content filters: {0}")]
pub struct GuardSetupError(String);

/// Injection detection and output redaction for every tenant, following
/// each tenant's `guard:` settings.
#[derive(Debug)]
pub struct GuardHooks {
    input: InputGuard,
    output: OutputGuard,
    /// Output guards with a tenant's canaries, by canary list.
    with_canaries: Mutex<HashMap<Vec<String>, OutputGuard>>,
}

impl GuardHooks {
    /// Builds the detectors with their default settings; the per-tenant
    /// threshold and actions are applied to the verdicts.
    pub fn new() -> Result<GuardHooks, GuardSetupError> {
        let input =
            InputGuard::new(&InputConfig::default()).map_err(|e| GuardSetupError(e.to_string()))?;
        // A stream holds back only OutputConfig's minimum, 64 bytes (more
        // than the longest match that may contain whitespace, an IBAN; runs
        // without whitespace and PEM blocks are held whole anyway), so
        // redacted answers flow about 20 tokens behind the upstream instead
        // of 50.
        let output = OutputGuard::new(&OutputConfig {
            hold_back: STREAM_HOLD_BACK,
            ..OutputConfig::default()
        })
        .map_err(|e| GuardSetupError(e.to_string()))?;
        Ok(GuardHooks {
            input,
            output,
            with_canaries: Mutex::new(HashMap::new()),
        })
    }

    fn output_for(&self, tenant: &TenantConfig) -> OutputGuard {
        if tenant.guard.canaries.is_empty() {
            return self.output.clone();
        }
        let mut m = self
            .with_canaries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry(tenant.guard.canaries.clone())
            .or_insert_with(|| {
                let c: Vec<Canary> = tenant
                    .guard
                    .canaries
                    .iter()
                    .filter_map(|t| Canary::from_token(t).ok())
                    .collect();
                self.output.with_canaries(&c)
            })
            .clone()
    }
}

fn source(s: Source) -> palisade_guard::Source {
    match s {
        Source::System => palisade_guard::Source::System,
        Source::User | Source::Assistant => palisade_guard::Source::User,
        Source::Tool => palisade_guard::Source::Tool,
    }
}

impl ProxyHooks for GuardHooks {
    fn request_filter(
        &self,
        ctx: &mut RequestCtx,
        tenant: &TenantConfig,
        req: &ParsedRequest,
    ) -> Result<(), ApiError> {
        let action = tenant.guard.injection;
        if action == InjectionAction::Off {
            return Ok(());
        }
        let mut score = 0.0f32;
        let mut hit_rules: Vec<&'static str> = Vec::new();
        for (src, text) in &req.texts {
            if text.is_empty() || *src == Source::System {
                continue;
            }
            let v = self.input.scan(text, source(*src));
            score = score.max(v.score);
            for r in v.rules() {
                if !hit_rules.contains(&r) {
                    hit_rules.push(r);
                }
            }
        }
        if score < tenant.guard.threshold {
            return Ok(());
        }
        ctx.rules.push(rules::INJECTION);
        ctx.rules.extend(hit_rules.iter().copied());
        match action {
            InjectionAction::Block => {
                let names: Vec<String> = hit_rules.iter().map(|s| (*s).to_owned()).collect();
                Err(ApiError::injection(score, &names))
            }
            InjectionAction::Flag => {
                let v = format!("score={score:.2}; rules={}", hit_rules.join(","));
                if let Ok(v) = HeaderValue::from_str(&v) {
                    ctx.response_headers.insert("x-palisade-injection", v);
                }
                Ok(())
            }
            InjectionAction::Log | InjectionAction::Off => Ok(()),
        }
    }

    fn response_text_filter(&self, tenant: &TenantConfig) -> Option<Box<dyn TextFilter>> {
        match tenant.guard.output {
            OutputAction::Off => None,
            OutputAction::Redact => Some(Box::new(Redactor(self.output_for(tenant).stream()))),
        }
    }
}

struct Redactor(StreamRedactor);

impl TextFilter for Redactor {
    fn push(&mut self, text: &str) -> String {
        self.0.push(text)
    }
    fn finish(&mut self) -> String {
        self.0.finish()
    }
    fn redactions(&self) -> usize {
        self.0.hits().len()
    }
    fn blocked(&self) -> bool {
        self.0.blocked()
    }
}
