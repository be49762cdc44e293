//! The [`Rule`] trait and the [`Emitter`] rules report through.

use crate::context::Context;
use palisade_core::{Path, RuleMeta};
use palisade_k8s::{Object, Workload};

/// A check. Implement the hook that fits: `check_workload` for pod-template
/// checks (called once per pod template found), `check_object` for
/// per-object checks, `check_all` for checks across objects.
pub trait Rule: Send + Sync {
    /// The rule's fixed description.
    fn meta(&self) -> &'static RuleMeta;

    /// Called once per pod template.
    fn check_workload(&self, _w: &Workload<'_>, _cx: &Context<'_>, _out: &mut Emitter<'_>) {}

    /// Called once per object.
    fn check_object(&self, _obj: &Object, _cx: &Context<'_>, _out: &mut Emitter<'_>) {}

    /// Called once per scan, with every object.
    fn check_all(&self, _cx: &Context<'_>, _out: &mut Emitter<'_>) {}
}

/// A finding before locations and suppressions are worked out.
#[derive(Debug, Clone)]
pub struct RawFinding {
    /// The rule.
    pub meta: &'static RuleMeta,
    /// Index of the object in [`Context::objects`].
    pub object: usize,
    /// Path of the offending field (or the deepest parent that exists).
    pub path: Path,
    /// The message. Never holds a secret value.
    pub message: String,
    /// Container the finding is about, for per-container suppressions.
    pub container: Option<String>,
    /// Extra identity for the fingerprint when several findings share a path.
    pub discriminator: String,
}

/// Collects findings for one rule.
#[derive(Debug)]
pub struct Emitter<'r> {
    pub(crate) meta: &'static RuleMeta,
    pub(crate) found: &'r mut Vec<RawFinding>,
    pub(crate) objects: &'r [Object],
}

impl Emitter<'_> {
    /// Reports a finding on `obj` at `path`.
    pub fn report(&mut self, obj: &Object, path: Path, message: impl Into<String>) {
        self.push(obj, path, message.into(), None, String::new());
    }

    /// Reports a finding about one container of a workload.
    pub fn report_container(
        &mut self,
        obj: &Object,
        container: &str,
        path: Path,
        message: impl Into<String>,
    ) {
        self.push(
            obj,
            path,
            message.into(),
            Some(container.to_owned()),
            String::new(),
        );
    }

    /// Reports a finding identified by `key` rather than by its path: the
    /// fingerprint hashes the key in place of the path, so it survives list
    /// reordering (e.g. the subjects of a binding). The key must be unique
    /// among this rule's findings on the object.
    pub fn report_keyed(
        &mut self,
        obj: &Object,
        path: Path,
        discriminator: &str,
        message: impl Into<String>,
    ) {
        self.push(obj, path, message.into(), None, discriminator.to_owned());
    }

    fn push(
        &mut self,
        obj: &Object,
        path: Path,
        message: String,
        container: Option<String>,
        discriminator: String,
    ) {
        let object = crate::context::index_in(self.objects, obj);
        self.found.push(RawFinding {
            meta: self.meta,
            object,
            path,
            message,
            container,
            discriminator,
        });
    }
}
