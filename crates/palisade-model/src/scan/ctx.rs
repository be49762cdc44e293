//! What a format parser reports into: hits with a location inside the file,
//! and the limits every parser obeys.

use palisade_core::{RuleMeta, Severity};

/// Limits that keep a scan bounded on hostile input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Values on the pickle stack.
    pub max_stack: usize,
    /// Pickle memo entries whose values are kept (strings, globals, call
    /// results); further entries are remembered as filled but their values
    /// come back unknown.
    pub max_memo: usize,
    /// Marks on the pickle mark stack.
    pub max_marks: usize,
    /// Pickles one after another in one stream.
    pub max_pickles: usize,
    /// Containers inside containers (zip in zip, pickle in npy in zip).
    pub max_depth: usize,
    /// Bytes of a JSON header or config read into memory.
    pub max_json: u64,
    /// Entries in a zip or tar archive.
    pub max_entries: usize,
    /// Bytes of one GGUF string kept for inspection (chat templates).
    pub max_template: u64,
    /// Findings kept per file; the rest are counted in one more finding.
    pub max_hits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stack: 1 << 19,
            max_memo: 1 << 17,
            max_marks: 1 << 16,
            max_pickles: 1 << 12,
            max_depth: 4,
            max_json: 100_000_000,
            max_entries: 1 << 20,
            max_template: 1 << 20,
            max_hits: 10_000,
        }
    }
}

/// One problem found inside a file, before it becomes a `Finding`.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The rule.
    pub rule: &'static RuleMeta,
    /// Severity (the rule's unless the case is worse or milder).
    pub severity: Severity,
    /// Where inside the file: `archive/data.pkl@offset 1234`, `offset 16`,
    /// `header.weight`, `kv tokenizer.chat_template`.
    pub path: String,
    /// What is wrong; names globals and keys, never data.
    pub message: String,
    /// Distinguishes several hits at one path (the global's name).
    pub key: String,
}

/// The collector handed to the format parsers.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) limits: Limits,
    pub(crate) hits: Vec<Hit>,
    /// Names of the containers we are inside (`archive/data.pkl`).
    prefix: Vec<String>,
    /// Formats recognised, for the summary.
    pub(crate) formats: Vec<&'static str>,
    /// Pickle streams met.
    pub(crate) pickles: usize,
    /// Hits not kept because `max_hits` were already there.
    pub(crate) suppressed: u64,
    /// Times a format was recognised (repeats counted).
    pub(crate) recognised: u64,
}

impl Ctx {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            hits: Vec::new(),
            prefix: Vec::new(),
            formats: Vec::new(),
            pickles: 0,
            suppressed: 0,
            recognised: 0,
        }
    }

    /// The current container depth.
    pub(crate) fn depth(&self) -> usize {
        self.prefix.len()
    }

    /// Runs `f` inside the container entry `name`.
    pub(crate) fn within<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.prefix.push(name.to_owned());
        let out = f(self);
        self.prefix.pop();
        out
    }

    /// `archive/data.pkl@offset 12` (inside an entry) or `offset 12`.
    pub(crate) fn at_offset(&self, offset: u64) -> String {
        if self.prefix.is_empty() {
            format!("offset {offset}")
        } else {
            format!("{}@offset {offset}", self.prefix.join("!"))
        }
    }

    /// `archive/config.json: field` (inside an entry) or `field`.
    pub(crate) fn at_field(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else if field.is_empty() {
            self.prefix.join("!")
        } else {
            format!("{}: {field}", self.prefix.join("!"))
        }
    }

    /// Records a hit at the rule's own severity.
    pub(crate) fn report(
        &mut self,
        rule: &'static RuleMeta,
        path: String,
        message: String,
        key: &str,
    ) {
        self.report_as(rule, rule.severity, path, message, key);
    }

    /// Records a hit at `severity`.
    pub(crate) fn report_as(
        &mut self,
        rule: &'static RuleMeta,
        severity: Severity,
        path: String,
        message: String,
        key: &str,
    ) {
        if self.hits.len() >= self.limits.max_hits {
            self.suppressed += 1;
            return;
        }
        self.hits.push(Hit {
            rule,
            severity,
            path,
            message,
            key: key.to_owned(),
        });
    }

    pub(crate) fn saw(&mut self, format: &'static str) {
        self.recognised += 1;
        if !self.formats.contains(&format) {
            self.formats.push(format);
        }
    }
}

/// Shows untrusted text from a file in a message: at most `max` characters,
/// control characters escaped.
pub(crate) fn shown(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
