//! Reading objects from files, folders and standard input.
//!
//! A YAML stream is cut into documents at `---` lines (as `kubectl` does) and
//! every document is parsed on its own, so one broken document yields a
//! diagnostic and the others are still scanned. `List` and `*List` wrappers
//! are unwrapped. `helm template` output is recognised by its `# Source:`
//! comments and findings then point at the template.

use crate::object::{Object, Source};
use palisade_core::node::Value;
use palisade_core::{Diagnostic, Node, yaml};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

/// Files larger than this are refused with a diagnostic.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Objects and the problems met while reading them.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// Every Kubernetes object read, in input order.
    pub objects: Vec<Object>,
    /// Input problems (unreadable files, YAML errors, non-objects).
    pub diagnostics: Vec<Diagnostic>,
    /// Number of files read.
    pub files: usize,
}

impl LoadOutcome {
    fn extend(&mut self, other: LoadOutcome) {
        self.objects.extend(other.objects);
        self.diagnostics.extend(other.diagnostics);
        self.files += other.files;
    }
}

/// Reads objects from paths. `-` means standard input.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    /// Follow symbolic links to directories when walking folders.
    pub follow_links: bool,
}

/// The file names a folder walk skips: they are Helm or Kustomize inputs,
/// not Kubernetes objects (render them first).
const NOT_MANIFESTS: &[&str] = &[
    "Chart.yaml",
    "Chart.lock",
    "kustomization.yaml",
    "kustomization.yml",
    "Kustomization",
    "palisade.yaml",
    ".palisade.yaml",
];

fn is_manifest_name(p: &FsPath) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if NOT_MANIFESTS.contains(&name) || name.starts_with("values") && name.contains(".y") {
        return false;
    }
    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
    matches!(ext, "yaml" | "yml" | "json")
}

impl Loader {
    /// Loads every path: files as given, folders recursively (`*.yaml`,
    /// `*.yml`, `*.json`), `-` from standard input.
    pub fn load_paths(&self, paths: &[PathBuf]) -> LoadOutcome {
        let mut out = LoadOutcome::default();
        let mut files: Vec<PathBuf> = Vec::new();
        for p in paths {
            if p.as_os_str() == "-" {
                let mut text = String::new();
                let stdin = std::io::stdin();
                let res = stdin
                    .lock()
                    .take(MAX_FILE_BYTES + 1)
                    .read_to_string(&mut text);
                out.files += 1;
                match res {
                    Ok(n) if n as u64 > MAX_FILE_BYTES => out.diagnostics.push(diag(
                        "<stdin>",
                        0,
                        0,
                        format!("input larger than {MAX_FILE_BYTES} bytes; refused"),
                    )),
                    Ok(_) => out.extend(load_str("<stdin>", &text)),
                    Err(e) => out.diagnostics.push(diag(
                        "<stdin>",
                        0,
                        0,
                        format!("cannot read standard input: {e}"),
                    )),
                }
                continue;
            }
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => {
                    let mut found: Vec<PathBuf> = Vec::new();
                    let walker = walkdir::WalkDir::new(p)
                        .follow_links(self.follow_links)
                        .sort_by_file_name()
                        .into_iter()
                        .filter_entry(|e| {
                            e.depth() == 0
                                || !e.file_name().to_str().is_some_and(|n| n.starts_with('.'))
                        });
                    for entry in walker {
                        match entry {
                            Ok(e) if e.file_type().is_file() && is_manifest_name(e.path()) => {
                                found.push(e.into_path());
                            }
                            Ok(_) => {}
                            Err(e) => out.diagnostics.push(diag(
                                &e.path().unwrap_or(p).display().to_string(),
                                0,
                                0,
                                format!("cannot read: {e}"),
                            )),
                        }
                    }
                    files.extend(found);
                }
                Ok(_) => files.push(p.clone()),
                Err(e) => out.diagnostics.push(diag(
                    &p.display().to_string(),
                    0,
                    0,
                    format!("cannot read: {e}"),
                )),
            }
        }
        let loaded: Vec<LoadOutcome> = files.par_iter().map(|f| load_file(f)).collect();
        for l in loaded {
            out.extend(l);
        }
        out
    }
}

fn diag(file: &str, line: u32, column: u32, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// Loads one file.
pub fn load_file(path: &FsPath) -> LoadOutcome {
    let name = path.display().to_string();
    let mut out = LoadOutcome {
        files: 1,
        ..LoadOutcome::default()
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            out.diagnostics.push(diag(
                &name,
                0,
                0,
                format!("file larger than {MAX_FILE_BYTES} bytes; refused"),
            ));
            return out;
        }
        Err(e) => {
            out.diagnostics
                .push(diag(&name, 0, 0, format!("cannot read: {e}")));
            return out;
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => {
                let mut l = load_str(&name, &text);
                l.files = 1;
                l
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].split(|b| *b == b'\n').count() as u32;
                out.diagnostics
                    .push(diag(&name, line, 0, "file is not valid UTF-8".to_owned()));
                out
            }
        },
        Err(e) => {
            out.diagnostics
                .push(diag(&name, 0, 0, format!("cannot read: {e}")));
            out
        }
    }
}

/// One document cut out of a stream: its text, the line it starts on, and
/// the Helm template it came from.
#[derive(Debug)]
struct Chunk<'a> {
    text: &'a str,
    first_line: u32,
    template: Option<&'a str>,
    template_line: u32,
}

/// Cuts a YAML stream at `---` document markers at the start of a line. The
/// marker stays at the head of its chunk so that positions stay exact; a
/// `...` end marker stays at the tail of the chunk it ends.
fn split_documents(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut line_no = 1u32;
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let starts_doc = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let ends_doc = bare == "..." || bare.starts_with("... ");
        if starts_doc && offset > start {
            chunks.push(chunk(&text[start..offset], start_line));
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
        line_no += 1;
        if ends_doc {
            chunks.push(chunk(&text[start..offset], start_line));
            start = offset;
            start_line = line_no;
        }
    }
    if start < text.len() {
        chunks.push(chunk(&text[start..], start_line));
    }
    chunks
}

fn chunk(text: &str, first_line: u32) -> Chunk<'_> {
    let mut template = None;
    let mut template_line = first_line;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(src) = t.strip_prefix("# Source:") {
            template = Some(src.trim());
            template_line = first_line + i as u32 + 1;
            break;
        }
        if !(t.is_empty() || t.starts_with('#') || t == "---") {
            break;
        }
    }
    Chunk {
        text,
        first_line,
        template,
        template_line,
    }
}

fn is_json(name: &str, text: &str) -> bool {
    FsPath::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with(['{', '['])
}

/// Loads every object from a text. `name` is used in locations and diagnostics.
pub fn load_str(name: &str, text: &str) -> LoadOutcome {
    let file: Arc<str> = Arc::from(name);
    let mut out = LoadOutcome {
        files: 1,
        ..LoadOutcome::default()
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let chunks = if is_json(name, text) {
        vec![Chunk {
            text,
            first_line: 1,
            template: None,
            template_line: 1,
        }]
    } else {
        split_documents(text)
    };
    let mut doc_index = 0usize;
    for c in chunks {
        let template: Option<Arc<str>> = c.template.map(Arc::from);
        match yaml::parse_stream(c.text, c.first_line - 1) {
            Ok(docs) => {
                for d in docs.into_iter().flatten() {
                    let src = Source {
                        file: file.clone(),
                        template: template.clone(),
                        doc_line: c.template_line,
                        doc_index,
                    };
                    doc_index += 1;
                    collect(d, &src, &mut out, 0);
                }
            }
            Err(e) => {
                doc_index += 1;
                // The parser may notice the problem only at the next marker:
                // keep the line inside this document.
                let last =
                    c.first_line + c.text.trim_end().lines().count().saturating_sub(1) as u32;
                out.diagnostics.push(diag(
                    name,
                    e.line.min(last),
                    e.col,
                    format!("YAML error: {}", e.message),
                ));
            }
        }
    }
    out
}

fn str_field<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.get(key).and_then(|v| match &v.value {
        Value::Scalar(s) => Some(s.text.as_str()),
        _ => None,
    })
}

/// Kinds that sit in manifest folders but are tool inputs, not objects.
fn is_tool_config(api_version: &str) -> bool {
    api_version.starts_with("kustomize.config.k8s.io/")
        || api_version.starts_with("config.kubernetes.io/")
        || api_version.starts_with("palisade.dev/")
}

fn collect(node: Node, src: &Source, out: &mut LoadOutcome, depth: usize) {
    let file = src.file.as_ref();
    // A bare JSON array of objects is read like a List.
    if let Value::Seq(items) = &node.value {
        let all_objects = !items.is_empty()
            && items
                .iter()
                .all(|i| str_field(i, "apiVersion").is_some() && str_field(i, "kind").is_some());
        if !all_objects {
            out.diagnostics.push(diag(
                file,
                node.pos.line,
                node.pos.col,
                "not a Kubernetes object: the document is a sequence".into(),
            ));
            return;
        }
        if let Value::Seq(items) = node.value {
            for item in items {
                collect(item, src, out, depth + 1);
            }
        }
        return;
    }
    if !node.is_map() {
        out.diagnostics.push(diag(
            file,
            node.pos.line,
            node.pos.col,
            "not a Kubernetes object: the document is not a mapping".into(),
        ));
        return;
    }
    let (Some(api_version), Some(kind)) =
        (str_field(&node, "apiVersion"), str_field(&node, "kind"))
    else {
        let missing = if str_field(&node, "apiVersion").is_none() {
            "apiVersion"
        } else {
            "kind"
        };
        out.diagnostics.push(diag(
            file,
            node.pos.line,
            node.pos.col,
            format!("not a Kubernetes object: no {missing}"),
        ));
        return;
    };
    if is_tool_config(api_version) {
        return;
    }
    if (kind == "List" || kind.ends_with("List"))
        && depth < 4
        && let Some(items) = node.get("items")
        && let Value::Seq(_) | Value::Null = items.value
    {
        let Node { value, .. } = node;
        if let Value::Map(entries) = value {
            for e in entries {
                if e.key == "items" {
                    if let Value::Seq(items) = e.value.value {
                        for item in items {
                            collect(item, src, out, depth + 1);
                        }
                    }
                    return;
                }
            }
        }
        return;
    }
    let meta = node.get("metadata");
    let name = meta
        .and_then(|m| str_field(m, "name").or_else(|| str_field(m, "generateName")))
        .unwrap_or("")
        .to_owned();
    let namespace = meta
        .and_then(|m| str_field(m, "namespace"))
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if meta.is_some_and(|m| !m.is_map() && !m.is_null()) {
        out.diagnostics.push(diag(
            file,
            node.pos.line,
            node.pos.col,
            format!("{kind}: metadata is not a mapping"),
        ));
        return;
    }
    out.objects.push(Object {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        namespace,
        name,
        root: node,
        source: src.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_with_a_broken_one_keeps_the_others() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkey: [unclosed\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n";
        let out = load_str("x.yaml", text);
        assert_eq!(out.objects.len(), 2);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].line, 5, "{:?}", out.diagnostics);
        let b = &out.objects[1];
        assert_eq!(b.name, "b");
        assert_eq!(
            b.root
                .get("metadata")
                .unwrap()
                .entry("name")
                .unwrap()
                .key_pos
                .line,
            10
        );
    }

    #[test]
    fn lists_are_unwrapped() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: b}\n";
        let out = load_str("l.yaml", text);
        assert_eq!(out.objects.len(), 2);
        assert_eq!(out.objects[0].namespace.as_deref(), Some("x"));
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}]}";
        let out = load_str("l.json", text);
        assert_eq!(out.objects.len(), 1);
        assert_eq!(out.objects[0].kind, "Pod");
    }

    #[test]
    fn non_objects_are_diagnosed_with_a_line() {
        let out = load_str(
            "v.yaml",
            "---\nreplicas: 3\n---\n- a\n- b\n---\njust text\n",
        );
        assert!(out.objects.is_empty());
        assert_eq!(out.diagnostics.len(), 3, "{:?}", out.diagnostics);
        assert_eq!(out.diagnostics[0].line, 2);
        assert!(out.diagnostics[0].message.contains("no apiVersion"));
    }

    #[test]
    fn helm_source_comments_point_findings_at_templates() {
        let text = "---\n# Source: chart/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n---\n# Source: chart/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n";
        let out = load_str("rendered.yaml", text);
        assert_eq!(out.objects.len(), 2);
        let d = &out.objects[1];
        let loc = d.locate(&palisade_core::Path::keys("spec.replicas"));
        assert_eq!(loc.file, "chart/templates/deploy.yaml");
        assert_eq!(loc.line, 6);
        assert_eq!(loc.rendered.as_ref().unwrap().line, 14);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "\u{0}\u{1}",
            "{{ .Values.x }}",
            "a: b: c",
            "? [a]\n: b",
            "&a [*a]",
            "---\n---\n",
            "[",
            "\"",
            "- !!binary x",
        ] {
            let _ = load_str("g.yaml", s);
            let _ = load_str("g.json", s);
        }
    }
}

#[cfg(test)]
mod folder_tests {
    use super::*;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n";

    #[test]
    fn folders_are_walked_recursively_skipping_hidden_and_tool_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("apps/llm")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::create_dir_all(d.join("chart/templates")).unwrap();
        std::fs::write(d.join("apps/llm/pod.yaml"), POD).unwrap();
        std::fs::write(d.join("apps/pod.yml"), POD).unwrap();
        std::fs::write(
            d.join("apps/list.json"),
            "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}]}",
        )
        .unwrap();
        std::fs::write(d.join("apps/README.md"), "# not yaml").unwrap();
        std::fs::write(d.join(".git/config.yaml"), "not: scanned").unwrap();
        std::fs::write(
            d.join("chart/Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(d.join("chart/values.yaml"), "replicas: 2\n").unwrap();
        std::fs::write(d.join("kustomization.yaml"), "resources: [apps/pod.yml]\n").unwrap();
        let out = Loader::default().load_paths(&[d.to_path_buf()]);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.files, 3);
        let kinds: Vec<&str> = out.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "Pod").count(), 2);
        assert!(kinds.contains(&"ConfigMap"));
    }

    #[test]
    fn unreadable_and_binary_files_are_diagnosed() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("weights.yaml");
        std::fs::write(&bin, b"apiVersion: v1\nkind: Pod\n\xff\xfe\x00garbage").unwrap();
        let out = Loader::default().load_paths(&[bin, dir.path().join("missing.yaml")]);
        assert_eq!(out.diagnostics.len(), 2, "{:?}", out.diagnostics);
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.message.contains("UTF-8") && d.line == 3)
        );
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.message.contains("cannot read"))
        );
    }

    #[test]
    fn kustomize_build_output_is_plain_multi_document_yaml() {
        // `kustomize build` emits documents separated by `---`, sorted by
        // kind, with no `# Source:` comments: positions are in the stream.
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: llm\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: vllm\n  namespace: llm\nspec:\n  type: NodePort\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: vllm\n  namespace: llm\n";
        let out = load_str("<stdin>", text);
        assert_eq!(out.objects.len(), 3);
        let svc = &out.objects[1];
        assert!(svc.source.template.is_none());
        assert_eq!(svc.locate(&palisade_core::Path::keys("spec.type")).line, 12);
    }
}
