//! ONNX models: a minimal, bounded protobuf walk (hand-written varints; no
//! generated code) that visits every TensorProto the runtime may load —
//! graph initializers, sparse initializers, tensors in node attributes,
//! subgraphs of If/Loop/Scan at any depth, functions and training graphs —
//! and checks its `external_data` location: an absolute path, a `..` that
//! climbs out of the model folder, or a symlink that resolves outside it, is
//! an arbitrary file read. Payload fields (`raw_data`) are skipped, never
//! read.

use super::ctx::{Ctx, shown};
use super::rules;
use super::source::{Limited, Source};
use std::path::{Component, Path};

const MAX_DEPTH: usize = 32;
const MAX_REPORTS: usize = 50;

/// Whether the first bytes look like a serialized ModelProto: field 1
/// (ir_version, a small varint) followed by another ModelProto field.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    if head.len() < 4 || head[0] != 0x08 || head[1] == 0 || head[1] > 20 {
        return false;
    }
    matches!(
        head[2],
        0x12 | 0x1a | 0x22 | 0x28 | 0x32 | 0x3a | 0x42 | 0x72
    )
}

#[derive(Debug)]
struct Bad(String);

fn varint<S: Source + ?Sized>(src: &mut S) -> Result<Option<u64>, Bad> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(b) = src.read_byte().map_err(|e| Bad(e.to_string()))? else {
            return if i == 0 {
                Ok(None)
            } else {
                Err(Bad("truncated varint".into()))
            };
        };
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err(Bad("varint longer than 10 bytes".into()))
}

/// What a message's fields are, as far as this walk cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Model,
    Graph,
    Node,
    Attribute,
    Tensor,
    Sparse,
    Function,
    Training,
    Entry,
}

fn child(m: Msg, field: u64) -> Option<Msg> {
    use Msg::{Attribute, Entry, Function, Graph, Model, Node, Sparse, Tensor, Training};
    Some(match (m, field) {
        (Model, 7) | (Training, 1 | 2) | (Attribute, 6 | 11) => Graph,
        (Model, 20) => Training,
        (Model, 25) => Function,
        (Graph, 1) | (Function, 7) => Node,
        (Node, 5) => Attribute,
        (Graph, 5) | (Attribute, 5 | 10) | (Sparse, 1 | 2) => Tensor,
        (Graph, 15) | (Attribute, 22 | 23) => Sparse,
        (Tensor, 13) => Entry,
        _ => return None,
    })
}

#[derive(Default, Debug)]
struct TensorInfo {
    name: String,
    external: bool,
    entries: Vec<(String, String)>,
}

struct Walk<'a> {
    ctx: &'a mut Ctx,
    dir: Option<&'a Path>,
    reports: usize,
    tensors: usize,
}

fn read_string<S: Source + ?Sized>(src: &mut S, n: u64, keep: u64) -> Result<String, Bad> {
    let k = n.min(keep);
    let mut b = vec![0u8; usize::try_from(k).unwrap_or(0)];
    src.read_exact(&mut b)
        .map_err(|_| Bad("truncated string".into()))?;
    src.skip(n - k)
        .map_err(|_| Bad("truncated string".into()))?;
    Ok(String::from_utf8_lossy(&b).into_owned())
}

impl Walk<'_> {
    fn message(
        &mut self,
        src: &mut dyn Source,
        m: Msg,
        depth: usize,
        tensor: &mut TensorInfo,
        entry: &mut (String, String),
    ) -> Result<(), Bad> {
        if depth > MAX_DEPTH {
            return Err(Bad(format!("messages nested more than {MAX_DEPTH} deep")));
        }
        while let Some(tag) = varint(src)? {
            let field = tag >> 3;
            let wire = tag & 7;
            if field == 0 {
                return Err(Bad("field number 0".into()));
            }
            match wire {
                0 => {
                    let v = varint(src)?.ok_or_else(|| Bad("truncated varint".into()))?;
                    if m == Msg::Tensor && field == 14 && v == 1 {
                        tensor.external = true;
                    }
                }
                1 => src.skip(8).map_err(|_| Bad("truncated fixed64".into()))?,
                5 => src.skip(4).map_err(|_| Bad("truncated fixed32".into()))?,
                2 => {
                    let n = varint(src)?.ok_or_else(|| Bad("truncated length".into()))?;
                    if src.remaining().is_some_and(|r| n > r) {
                        return Err(Bad(format!(
                            "field {field} claims {n} bytes, more than remain"
                        )));
                    }
                    match (m, field, child(m, field)) {
                        (Msg::Tensor, 8, _) => tensor.name = read_string(src, n, 256)?,
                        (Msg::Entry, 1, _) => entry.0 = read_string(src, n, 4096)?,
                        (Msg::Entry, 2, _) => entry.1 = read_string(src, n, 4096)?,
                        (_, _, Some(c)) => {
                            let mut sub = Limited::new(&mut *src, n);
                            if c == Msg::Tensor {
                                let mut t = TensorInfo::default();
                                self.message(
                                    &mut sub,
                                    c,
                                    depth + 1,
                                    &mut t,
                                    &mut (String::new(), String::new()),
                                )?;
                                self.tensor(&t);
                            } else if c == Msg::Entry {
                                let mut e = (String::new(), String::new());
                                self.message(&mut sub, c, depth + 1, tensor, &mut e)?;
                                if tensor.entries.len() < 16 {
                                    tensor.entries.push(e);
                                }
                            } else {
                                self.message(&mut sub, c, depth + 1, tensor, entry)?;
                            }
                            sub.finish().map_err(|_| Bad("truncated message".into()))?;
                        }
                        _ => src.skip(n).map_err(|_| Bad("truncated field".into()))?,
                    }
                }
                w => {
                    return Err(Bad(format!(
                        "field {field} has wire type {w}, which ONNX does not use"
                    )));
                }
            }
        }
        Ok(())
    }

    fn report(&mut self, rule: &'static palisade_core::RuleMeta, name: &str, msg: String) {
        self.reports += 1;
        if self.reports <= MAX_REPORTS {
            let at = self.ctx.at_field(&format!("tensor {}", shown(name, 80)));
            self.ctx.report(rule, at, msg, name);
        }
    }

    fn tensor(&mut self, t: &TensorInfo) {
        self.tensors += 1;
        if !t.external && t.entries.is_empty() {
            return;
        }
        let get = |k: &str| {
            t.entries
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.as_str())
        };
        let Some(location) = get("location") else {
            self.report(
                &rules::ONNX_MALFORMED,
                &t.name,
                "tensor stores its data externally but names no location".into(),
            );
            return;
        };
        let shown_loc = shown(location, 120);
        let p = Path::new(location);
        let windows_abs =
            location.len() >= 2 && location.as_bytes()[1] == b':' || location.starts_with('\\');
        if p.is_absolute() || windows_abs || location.starts_with('/') {
            self.report(
                &rules::ONNX_EXTERNAL,
                &t.name,
                format!("external data location {shown_loc:?} is an absolute path"),
            );
            return;
        }
        let mut depth: i64 = 0;
        let mut escapes = false;
        for c in Path::new(&location.replace('\\', "/")).components() {
            match c {
                Component::ParentDir => {
                    depth -= 1;
                    escapes |= depth < 0;
                }
                Component::Normal(_) => depth += 1,
                _ => {}
            }
        }
        if escapes {
            self.report(
                &rules::ONNX_EXTERNAL,
                &t.name,
                format!(
                    "external data location {shown_loc:?} climbs out of the model folder with .."
                ),
            );
            return;
        }
        let Some(dir) = self.dir else { return };
        let full = dir.join(location);
        let (Ok(real), Ok(root)) = (std::fs::canonicalize(&full), std::fs::canonicalize(dir))
        else {
            self.report(
                &rules::ONNX_MALFORMED,
                &t.name,
                format!("external data file {shown_loc:?} does not exist next to the model"),
            );
            return;
        };
        if !real.starts_with(&root) {
            self.report(
                &rules::ONNX_EXTERNAL,
                &t.name,
                format!("external data location {shown_loc:?} resolves through a symlink to a file outside the model folder"),
            );
            return;
        }
        let size = std::fs::metadata(&real).map_or(0, |m| m.len());
        let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
        let offset = num("offset").unwrap_or(0);
        if let Some(len) = num("length") {
            if offset.checked_add(len).is_none_or(|e| e > size) {
                self.report(
                    &rules::ONNX_MALFORMED,
                    &t.name,
                    format!("external data [{offset}, +{len}) runs past the {size}-byte file {shown_loc:?}"),
                );
            }
        } else if offset > size {
            self.report(
                &rules::ONNX_MALFORMED,
                &t.name,
                format!("external data offset {offset} is past the {size}-byte file {shown_loc:?}"),
            );
        }
    }
}

/// Scans an ONNX model; `dir` is the folder external data is resolved in.
pub(crate) fn scan(src: &mut dyn Source, ctx: &mut Ctx, dir: Option<&Path>) {
    ctx.saw("onnx");
    let mut w = Walk {
        ctx,
        dir,
        reports: 0,
        tensors: 0,
    };
    let res = w.message(
        src,
        Msg::Model,
        0,
        &mut TensorInfo::default(),
        &mut (String::new(), String::new()),
    );
    let reports = w.reports;
    if let Err(Bad(why)) = res {
        let at = ctx.at_offset(src.pos());
        ctx.report(
            &rules::ONNX_MALFORMED,
            at,
            format!("the ONNX protobuf does not parse: {why}"),
            "structure",
        );
    }
    if reports > MAX_REPORTS {
        let at = ctx.at_field("graph");
        ctx.report(
            &rules::ONNX_MALFORMED,
            at,
            format!(
                "{} more external-data problems not listed",
                reports - MAX_REPORTS
            ),
            "more",
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scan::ctx::Limits;
    use crate::scan::source::mem;

    fn field(n: u64, body: &[u8]) -> Vec<u8> {
        let mut v = vec![];
        let mut tag = n << 3 | 2;
        loop {
            let b = (tag & 0x7f) as u8;
            tag >>= 7;
            if tag == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        let mut len = body.len() as u64;
        loop {
            let b = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(body);
        v
    }

    /// A model whose graph has one initializer stored at `location`.
    pub(crate) fn model(location: &str) -> Vec<u8> {
        let mut entry = field(1, b"location");
        entry.extend(field(2, location.as_bytes()));
        let mut tensor = field(8, b"w");
        tensor.extend(field(13, &entry));
        tensor.extend([14 << 3, 1]);
        let graph = field(5, &tensor);
        let mut m = vec![0x08, 9];
        m.extend(field(2, b"test"));
        m.extend(field(7, &graph));
        m
    }

    fn messages(data: &[u8], dir: Option<&Path>) -> Vec<String> {
        let mut ctx = Ctx::new(Limits::default());
        scan(&mut mem(data), &mut ctx, dir);
        ctx.hits
            .into_iter()
            .map(|h| format!("{} {}", h.rule.id, h.message))
            .collect()
    }

    #[test]
    fn escaping_locations_are_critical() {
        assert!(looks_like(&model("w.bin")));
        for loc in [
            "/etc/passwd",
            "../../etc/passwd",
            "a/../../b",
            "C:\\Windows\\win.ini",
            "..\\secret",
        ] {
            let m = messages(&model(loc), None);
            assert!(
                m.iter().any(|m| m.starts_with("PLS-MDL-171")),
                "{loc}: {m:?}"
            );
        }
        assert!(messages(&model("sub/../w.bin"), None).is_empty());
    }

    #[test]
    fn files_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("w.bin"), [0u8; 16]).unwrap();
        assert!(messages(&model("w.bin"), Some(dir.path())).is_empty());
        assert!(messages(&model("missing.bin"), Some(dir.path()))[0].contains("does not exist"));
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("secret"), b"x").unwrap();
            std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("link.bin"))
                .unwrap();
            let m = messages(&model("link.bin"), Some(dir.path()));
            assert!(m[0].contains("symlink"), "{m:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let m = messages(&[0x08, 0x09, 0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], None);
        assert!(m[0].contains("does not parse"));
    }
}
