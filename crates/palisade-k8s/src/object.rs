//! A Kubernetes object as loaded, with where it came from.

use palisade_core::{Location, Node, Path, ResourceRef, finding::RenderedLocation};
use std::sync::Arc;

/// Where an object was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file read (`<stdin>` for standard input).
    pub file: Arc<str>,
    /// For `helm template` output: the template named by the `# Source:` comment.
    pub template: Option<Arc<str>>,
    /// Line (in `file`) where this document's text starts, used to turn
    /// positions into template-relative lines.
    pub doc_line: u32,
    /// Index of the document in the file (0-based).
    pub doc_index: usize,
}

/// A Kubernetes object.
#[derive(Debug, Clone)]
pub struct Object {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
    /// `metadata.name` (or `generateName`).
    pub name: String,
    /// The whole object; positions are in `source.file`.
    pub root: Node,
    /// Where it came from.
    pub source: Source,
}

impl Object {
    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// A reference for findings.
    pub fn resource_ref(&self) -> ResourceRef {
        ResourceRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The namespace a namespaced object lives in when applied without `-n`:
    /// its own, or `default`.
    pub fn effective_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }

    /// `metadata`.
    pub fn metadata(&self) -> &Node {
        self.root.get("metadata").unwrap_or(Node::missing())
    }

    /// `spec`.
    pub fn spec(&self) -> &Node {
        self.root.get("spec").unwrap_or(Node::missing())
    }

    /// A label value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata().get("labels")?.get(key)?.as_str()
    }

    /// An annotation value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata().get("annotations")?.get(key)?.as_str()
    }

    /// Whether the object is of `kind` in API group `group`.
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.kind == kind && self.group() == group
    }

    /// The location of `path` inside this object.
    pub fn locate(&self, path: &Path) -> Location {
        let pos = self.root.locate(path);
        match &self.source.template {
            Some(t) => Location {
                file: t.to_string(),
                line: pos.line.saturating_sub(self.source.doc_line) + 1,
                column: pos.col,
                path: path.to_string(),
                rendered: Some(RenderedLocation {
                    file: self.source.file.to_string(),
                    line: pos.line,
                }),
            },
            None => Location {
                file: self.source.file.to_string(),
                line: pos.line,
                column: pos.col,
                path: path.to_string(),
                rendered: None,
            },
        }
    }
}
