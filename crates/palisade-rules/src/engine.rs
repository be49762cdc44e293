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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where a scan's time went.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Phases in order: index (context and pod templates), rules, findings
    /// (locations, fingerprints, suppressions, sorting).
    pub phases: Vec<(&'static str, Duration)>,
    /// Each rule's time summed over threads, slowest first.
    pub rules: Vec<(&'static str, Duration)>,
}

/// Per-rule time, summed across threads.
#[derive(Debug)]
struct RuleClock {
    nanos: Vec<AtomicU64>,
}

impl RuleClock {
    fn new(n: usize) -> Self {
        Self {
            nanos: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn add(&self, rule: usize, since: Instant) {
        let n = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos[rule].fetch_add(n, Ordering::Relaxed);
    }
}

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

    /// Adds rules built at run time (custom CEL rules, admission policies),
    /// less those the configuration disables.
    pub fn add_rules(&mut self, rules: Vec<Box<dyn Rule>>) {
        let disabled = &self.config.disabled;
        self.rules.extend(
            rules
                .into_iter()
                .filter(|r| !disabled.iter().any(|d| d == r.meta().id)),
        );
    }

    /// Metadata of the enabled rules.
    pub fn rules(&self) -> Vec<RuleMeta> {
        self.rules.iter().map(|r| *r.meta()).collect()
    }

    /// Runs every rule; returns raw findings in a stable order.
    pub fn check(&self, objects: &[Object]) -> Vec<RawFinding> {
        let cx = Context::new(objects, &self.settings);
        self.check_in(&cx, None)
    }

    fn check_in(&self, cx: &Context<'_>, clock: Option<&RuleClock>) -> Vec<RawFinding> {
        let objects = cx.objects;
        let per_object: Vec<Vec<RawFinding>> = (0..objects.len())
            .into_par_iter()
            .map(|i| {
                let mut found = Vec::new();
                let obj = &objects[i];
                for (ri, rule) in self.rules.iter().enumerate() {
                    let start = clock.map(|_| Instant::now());
                    let mut out = Emitter {
                        meta: rule.meta(),
                        found: &mut found,
                        objects,
                    };
                    rule.check_object(obj, cx, &mut out);
                    for w in &cx.workloads[i] {
                        rule.check_workload(w, cx, &mut out);
                    }
                    if let (Some(c), Some(t)) = (clock, start) {
                        c.add(ri, t);
                    }
                }
                found
            })
            .collect();
        let global: Vec<Vec<RawFinding>> = self
            .rules
            .par_iter()
            .enumerate()
            .map(|(ri, rule)| {
                let start = clock.map(|_| Instant::now());
                let mut found = Vec::new();
                let mut out = Emitter {
                    meta: rule.meta(),
                    found: &mut found,
                    objects,
                };
                rule.check_all(cx, &mut out);
                if let (Some(c), Some(t)) = (clock, start) {
                    c.add(ri, t);
                }
                found
            })
            .collect();
        per_object.into_iter().chain(global).flatten().collect()
    }

    /// Turns a raw finding into a located, fingerprinted one, with the
    /// configured severity.
    pub fn finish(&self, objects: &[Object], mut raw: RawFinding) -> Finding {
        let message = std::mem::take(&mut raw.message);
        self.finish_ref(objects, &raw, message)
    }

    /// [`Engine::finish`] for a borrowed raw finding, its message given.
    pub(crate) fn finish_ref(
        &self,
        objects: &[Object],
        raw: &RawFinding,
        message: String,
    ) -> Finding {
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
            message,
            remediation: meta.remediation.into(),
            references: FindingReferences::from(&meta.references),
        }
    }

    /// Scans loaded objects: runs the rules, applies annotation, config and
    /// baseline suppressions, and returns the report.
    pub fn scan(&self, load: LoadOutcome, baseline: Option<&Baseline>) -> Report {
        let (report, _, objects) = self.scan_inner(load, baseline, None);
        free_later(objects);
        report
    }

    /// [`Engine::scan`], also measuring where the time goes: the phases, and
    /// each rule's time summed over threads (`palisade scan --timings`).
    pub fn scan_timed(&self, load: LoadOutcome, baseline: Option<&Baseline>) -> (Report, Timings) {
        let (report, timings, objects) = self.scan_keeping(load, baseline, true);
        free_later(objects);
        (report, timings)
    }

    /// [`Engine::scan`] (measured with `timed`, as [`Engine::scan_timed`])
    /// handing the scanned objects back: a process that exits after the
    /// report need not spend time freeing their trees.
    pub fn scan_keeping(
        &self,
        load: LoadOutcome,
        baseline: Option<&Baseline>,
        timed: bool,
    ) -> (Report, Timings, Vec<Object>) {
        if !timed {
            return self.scan_inner(load, baseline, None);
        }
        let clock = RuleClock::new(self.rules.len());
        let (report, mut timings, objects) = self.scan_inner(load, baseline, Some(&clock));
        timings.rules = self
            .rules
            .iter()
            .zip(&clock.nanos)
            .map(|(r, n)| (r.meta().id, Duration::from_nanos(n.load(Ordering::Relaxed))))
            .collect();
        timings.rules.sort_by_key(|r| std::cmp::Reverse(r.1));
        (report, timings, objects)
    }

    fn scan_inner(
        &self,
        load: LoadOutcome,
        baseline: Option<&Baseline>,
        clock: Option<&RuleClock>,
    ) -> (Report, Timings, Vec<Object>) {
        let mut timings = Timings::default();
        let t = Instant::now();
        let cx = Context::new(&load.objects, &self.settings);
        timings.phases.push(("index", t.elapsed()));
        let t = Instant::now();
        let raw = self.check_in(&cx, clock);
        timings.phases.push(("rules", t.elapsed()));
        let t = Instant::now();
        let mut report = Report {
            diagnostics: load.diagnostics,
            files: load.files,
            resources: load.objects.len(),
            rules: self.rules(),
            inference_services: crate::rules::ai::model::inference_services(&cx),
            ..Report::default()
        };
        suppress::apply(self, &self.config, &cx, raw, baseline, &mut report);
        report.sort();
        timings.phases.push(("findings", t.elapsed()));
        drop(cx);
        (report, timings, load.objects)
    }
}

/// Frees scanned objects on a spare thread: freeing the trees (hundreds of
/// thousands of small allocations) is not on the way to the report.
fn free_later(objects: Vec<Object>) {
    // (A small scan frees in less time than a thread takes to start.)
    if objects.len() > 1000 {
        // Should no thread be available, the closure (and the objects
        // with it) is dropped right here instead.
        let _ = std::thread::Builder::new()
            .name("palisade-free".into())
            .spawn(move || drop(objects));
    }
}
