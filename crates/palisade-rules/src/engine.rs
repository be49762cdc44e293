//! Runs the rules over the loaded objects and turns what they report into
//! located, fingerprinted findings; then applies suppressions.

use crate::context::Context;
use crate::rule::{Emitter, RawFinding, Rule};
use crate::suppress::{self, Baseline};
use palisade_core::config::Config;
use palisade_core::finding::{FindingReferences, fingerprint};
use palisade_core::{Finding, Report, RuleMeta};
use palisade_k8s::{LoadOutcome, Object};
use rayon::prelude::*;

/// What rules may read from configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Registries images may come from (empty: no policy).
    pub allowed_registries: Vec<String>,
}

/// The configured rule set.
pub struct Engine {
    rules: Vec<Box<dyn Rule>>,
    settings: Settings,
    config: Config,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Every built-in rule, less those `config` disables.
    pub fn new(config: Config) -> Self {
        let rules = crate::rules::all()
            .into_iter()
            .filter(|r| !config.disabled.iter().any(|d| d == r.meta().id))
            .collect();
        let settings = Settings {
            allowed_registries: config.allowed_registries.clone(),
        };
        Self {
            rules,
            settings,
            config,
        }
    }

    /// Only the given rules (for tests).
    pub fn with_rules(rules: Vec<Box<dyn Rule>>, config: Config) -> Self {
        let settings = Settings {
            allowed_registries: config.allowed_registries.clone(),
        };
        Self {
            rules,
            settings,
            config,
        }
    }

    /// Metadata of the enabled rules.
    pub fn rules(&self) -> Vec<RuleMeta> {
        self.rules.iter().map(|r| *r.meta()).collect()
    }

    /// Runs every rule; returns raw findings in a stable order.
    pub fn check(&self, objects: &[Object]) -> Vec<RawFinding> {
        let cx = Context::new(objects, &self.settings);
        self.check_in(&cx)
    }

    fn check_in(&self, cx: &Context<'_>) -> Vec<RawFinding> {
        let objects = cx.objects;
        let per_object: Vec<Vec<RawFinding>> = (0..objects.len())
            .into_par_iter()
            .map(|i| {
                let mut found = Vec::new();
                let obj = &objects[i];
                for rule in &self.rules {
                    let mut out = Emitter {
                        meta: rule.meta(),
                        found: &mut found,
                        objects,
                    };
                    rule.check_object(obj, cx, &mut out);
                    for w in &cx.workloads[i] {
                        rule.check_workload(w, cx, &mut out);
                    }
                }
                found
            })
            .collect();
        let global: Vec<Vec<RawFinding>> = self
            .rules
            .par_iter()
            .map(|rule| {
                let mut found = Vec::new();
                let mut out = Emitter {
                    meta: rule.meta(),
                    found: &mut found,
                    objects,
                };
                rule.check_all(cx, &mut out);
                found
            })
            .collect();
        per_object.into_iter().chain(global).flatten().collect()
    }

    /// Turns a raw finding into a located, fingerprinted one, with the
    /// configured severity.
    pub fn finish(&self, objects: &[Object], raw: RawFinding) -> Finding {
        let obj = &objects[raw.object];
        let meta = raw.meta;
        let resource = obj.resource_ref();
        let location = obj.locate(&raw.path);
        let path = &location.path;
        Finding {
            rule: meta.id.into(),
            title: meta.title.into(),
            severity: self
                .config
                .severity
                .get(meta.id)
                .copied()
                .unwrap_or(meta.severity),
            category: meta.category.into(),
            // A keyed finding is identified by its key, not its path, so
            // reordering a list (RBAC subjects, hosts) keeps the fingerprint.
            fingerprint: if raw.discriminator.is_empty() {
                fingerprint(meta.id, &resource, path, "")
            } else {
                fingerprint(meta.id, &resource, "", &raw.discriminator)
            },
            resource,
            location,
            message: raw.message,
            remediation: meta.remediation.into(),
            references: FindingReferences::from(&meta.references),
        }
    }

    /// Scans loaded objects: runs the rules, applies annotation, config and
    /// baseline suppressions, and returns the report.
    pub fn scan(&self, load: LoadOutcome, baseline: Option<&Baseline>) -> Report {
        let cx = Context::new(&load.objects, &self.settings);
        let raw = self.check_in(&cx);
        let mut report = Report {
            diagnostics: load.diagnostics,
            files: load.files,
            resources: load.objects.len(),
            rules: self.rules(),
            ..Report::default()
        };
        suppress::apply(self, &self.config, &cx, raw, baseline, &mut report);
        report.sort();
        report
    }
}
