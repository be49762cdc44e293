//! Per-tenant token-rate anomaly signal: tokens per interval tracked as an
//! exponentially weighted moving average and variance; an interval far above
//! the baseline (more than `threshold` deviations, after a warm-up) produces
//! a `PLS-GW-009` finding.

use crate::config::AnomalyConfig;
use crate::error::rules;
use palisade_core::finding::{FindingReferences, Location, ResourceRef, fingerprint};
use palisade_core::{Finding, Severity};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default, Clone)]
struct Baseline {
    interval: u64,
    current: f64,
    mean: f64,
    var: f64,
    seen: u32,
}

/// The EWMA tracker for every tenant.
#[derive(Debug)]
pub struct AnomalyTracker {
    cfg: AnomalyConfig,
    tenants: Mutex<HashMap<String, Baseline>>,
}

impl AnomalyTracker {
    /// A tracker with these settings.
    pub fn new(cfg: AnomalyConfig) -> Self {
        AnomalyTracker {
            cfg,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Adds `tokens` used by `tenant` at `now_us`; returns a finding when the
    /// interval that just closed was anomalous.
    pub fn observe(&self, tenant: &str, tokens: u64, now_us: u64) -> Option<Finding> {
        let len = u64::try_from(self.cfg.interval.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let idx = now_us / len;
        let mut map = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let b = map.entry(tenant.to_owned()).or_insert_with(|| Baseline {
            interval: idx,
            ..Baseline::default()
        });
        let mut finding = None;
        if idx > b.interval {
            // Close the finished interval, then feed the empty ones in between.
            finding = self.close(tenant, b);
            let gap = (idx - b.interval - 1).min(1000);
            for _ in 0..gap {
                self.close(tenant, b);
            }
            b.interval = idx;
        }
        b.current += u64_f(tokens);
        // A burst inside the current interval is reported as it happens, once.
        if finding.is_none()
            && b.seen >= self.cfg.warmup
            && self.is_anomalous(b, b.current)
            && b.current - u64_f(tokens) <= self.limit(b)
        {
            finding = Some(self.finding(tenant, b, b.current));
        }
        finding
    }

    fn limit(&self, b: &Baseline) -> f64 {
        let sd = b.var.sqrt().max(b.mean * 0.1).max(1.0);
        b.mean + self.cfg.threshold * sd
    }

    fn is_anomalous(&self, b: &Baseline, x: f64) -> bool {
        x > self.limit(b)
    }

    fn close(&self, _tenant: &str, b: &mut Baseline) -> Option<Finding> {
        let x = b.current;
        b.current = 0.0;
        let a = self.cfg.alpha;
        if b.seen == 0 {
            b.mean = x;
            b.var = 0.0;
        } else {
            let diff = x - b.mean;
            let incr = a * diff;
            b.mean += incr;
            b.var = (1.0 - a) * (b.var + diff * incr);
        }
        b.seen = b.seen.saturating_add(1);
        None
    }

    fn finding(&self, tenant: &str, b: &Baseline, x: f64) -> Finding {
        let resource = ResourceRef {
            api_version: "gateway.palisade.dev/v1".into(),
            kind: "Tenant".into(),
            namespace: None,
            name: tenant.to_owned(),
        };
        Finding {
            rule: Cow::Borrowed(rules::ANOMALY),
            title: Cow::Borrowed("Tenant token rate far above its baseline"),
            severity: Severity::High,
            category: Cow::Borrowed("denial-of-wallet"),
            message: format!(
                "tenant {tenant:?} used {x:.0} tokens in the current {}s interval; its baseline is {:.0} ± {:.0}",
                self.cfg.interval.as_secs(),
                b.mean,
                b.var.sqrt()
            ),
            remediation: Cow::Borrowed(
                "Check the tenant's callers for a leaked key, a runaway agent loop or a scraping client; lower its token rate limit or budget, or rotate its key.",
            ),
            references: FindingReferences {
                owasp_llm: &["LLM10"],
                ..FindingReferences::default()
            },
            fingerprint: fingerprint(rules::ANOMALY, &resource, "tokens", &b.interval.to_string()),
            location: Location {
                path: "tokens".into(),
                ..Location::default()
            },
            resource,
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn u64_f(v: u64) -> f64 {
    v as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn steady_traffic_is_quiet_and_a_spike_is_reported_once() {
        let t = AnomalyTracker::new(AnomalyConfig {
            interval: Duration::from_secs(60),
            alpha: 0.3,
            threshold: 4.0,
            warmup: 5,
        });
        let min = 60_000_000;
        for i in 0..20 {
            assert!(
                t.observe("a", 1000 + (i % 3) * 50, i * min).is_none(),
                "interval {i}"
            );
        }
        let base = 20 * min;
        assert!(t.observe("a", 1000, base).is_none());
        let f = t.observe("a", 50_000, base + 1).expect("spike");
        assert_eq!(f.rule, rules::ANOMALY);
        assert!(f.message.contains("\"a\""));
        assert!(
            t.observe("a", 10_000, base + 2).is_none(),
            "reported once per interval"
        );
        // Another tenant has no baseline yet.
        assert!(t.observe("b", 1_000_000, base).is_none());
    }
}
